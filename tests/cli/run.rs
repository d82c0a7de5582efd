//! `fhircheck run` and `fhircheck token` against a healthy sandbox.

use crate::{fhircheck, fixture, smoke, snap, Target};

#[test]
fn smoke_collection_passes_with_v1_tokens() {
    let t = Target::start("healthy");
    let ran = fhircheck(&[
        "run",
        smoke().to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    snap!("run_smoke_v1", ran.snapshot());
}

#[test]
fn smoke_collection_passes_with_the_v2_endpoint() {
    let t = Target::start("healthy");
    let ran = fhircheck(&[
        "run",
        smoke().to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
        "--var",
        "token_version=v2",
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    assert!(ran.stdout.contains("Entra ID v2 client credentials"));
    assert!(ran.stdout.contains("/oauth2/v2.0/token"));
}

#[test]
fn smoke_collection_passes_with_v2_shaped_tokens() {
    let t = Target::with(fhircheck::sandbox::Options {
        registrations: Some(crate::root().join(fixture("registrations/v2-tokens.json"))),
        ..Default::default()
    });
    let ran = fhircheck(&[
        "run",
        smoke().to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
        "--var",
        "token_version=v2",
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    snap!("run_smoke_v2_tokens", ran.snapshot());
}

#[test]
fn azure_sdk_environment_variables_are_enough() {
    let t = Target::start("healthy");
    let ep = &t.sandbox.endpoints;
    let ran = crate::fhircheck_env(
        &["run", smoke().to_str().unwrap(), "-q"],
        &[
            ("FHIR_URL", ep.fhir_url.as_str()),
            ("AZURE_TENANT_ID", ep.client.tenant_id.as_str()),
            ("AZURE_CLIENT_ID", ep.client.client_id.as_str()),
            ("AZURE_CLIENT_SECRET", ep.client.client_secret.as_str()),
        ],
    );
    // The collection's authority_host default is the global cloud: point it at the sandbox.
    assert_eq!(ran.code, 3, "{}{}", ran.stdout, ran.stderr);
    let ran = crate::fhircheck_env(
        &[
            "run",
            smoke().to_str().unwrap(),
            "-q",
            "--var",
            &format!("authority_host={}", ep.authority_host),
        ],
        &[
            ("FHIR_URL", ep.fhir_url.as_str()),
            ("AZURE_TENANT_ID", ep.client.tenant_id.as_str()),
            ("AZURE_CLIENT_ID", ep.client.client_id.as_str()),
            ("AZURE_CLIENT_SECRET", ep.client.client_secret.as_str()),
        ],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
}

#[test]
fn read_only_clients_switch_the_write_steps_off() {
    let t = Target::start("read-only");
    let ran = fhircheck(&[
        "run",
        smoke().to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
        "--var",
        "write_enabled=false",
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    assert!(ran.stdout.contains(
        "SKIP  Write round trip / Create test patient  (condition `{{write_enabled}}` is false)"
    ));
}

#[test]
fn every_kind_of_expectation() {
    let t = Target::start("healthy");
    let ran = fhircheck(&[
        "run",
        fixture("collections/all-assertions.json").to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 1);
    snap!("run_all_assertions", ran.snapshot());
}

#[test]
fn bail_stops_but_cleanup_runs() {
    let t = Target::start("healthy");
    let token = obtain_token(&t);
    let ran = fhircheck(&[
        "run",
        fixture("collections/bail-cleanup.json").to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
        "--var",
        &format!("access_token={token}"),
        "--bail",
    ]);
    assert_eq!(ran.code, 1);
    assert!(!ran.stdout.contains(&token));
    snap!("run_bail_cleanup", ran.snapshot());
}

/// A token from the sandbox, got the way any client would.
pub fn obtain_token(t: &Target) -> String {
    let ep = &t.sandbox.endpoints;
    let url = format!("{}/{}/oauth2/token", ep.base, ep.client.tenant_id);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", ep.client.client_id.as_str()),
        ("client_secret", ep.client.client_secret.as_str()),
        ("resource", ep.fhir_url.as_str()),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let text = reqwest::Client::new()
            .post(url)
            .form(&form)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        body["access_token"].as_str().unwrap().to_string()
    })
}

#[test]
fn network_failure_exits_4() {
    let t = Target::start("healthy");
    // A port nothing listens on: bind one, note it, close it.
    let closed = crate::free_port();
    let ran = fhircheck(&[
        "run",
        smoke().to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
        "--var",
        &format!("fhir_url=http://127.0.0.1:{closed}/fhir"),
        "--var",
        &format!("resource={}", t.fhir_url()),
        "--timeout",
        "5",
    ]);
    assert_eq!(ran.code, 4, "{}", ran.stdout);
    snap!("run_network_error", ran.snapshot());
}

#[test]
fn token_command_shows_claims_never_the_token() {
    let t = Target::start("healthy");
    let ran = fhircheck(&["token", "-e", t.env_file.to_str().unwrap()]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    snap!("token_healthy", ran.snapshot());
    let ran = fhircheck(&["token", "-e", t.env_file.to_str().unwrap(), "--json"]);
    assert_eq!(ran.code, 0);
    let v: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(v["token"]["claims"]["ver"], "1.0");
    assert_eq!(v["token"]["verified"], false);
    snap!("token_healthy_json", ran.snapshot());
}

#[test]
fn token_command_failure_exits_3_with_cause_and_fix() {
    let t = Target::start("expired-secret");
    let ran = fhircheck(&["token", "-e", t.env_file.to_str().unwrap()]);
    assert_eq!(ran.code, 3);
    snap!("token_expired_secret", ran.snapshot());
    let ran = fhircheck(&["token", "-e", t.env_file.to_str().unwrap(), "--json"]);
    assert_eq!(ran.code, 3);
    let v: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(v["error"]["code"], 7000222);
    assert_eq!(v["diagnosis"]["check"], "token.aadsts.7000222");
}

#[test]
fn demo_passes_on_a_fresh_sandbox() {
    let ran = fhircheck(&["demo"]);
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    snap!("demo_healthy", ran.snapshot());
}

#[test]
fn demo_no_role_shows_the_403s() {
    let ran = fhircheck(&["demo", "--scenario", "no-role"]);
    assert_eq!(ran.code, 1);
    assert!(ran.stdout.contains("403"));
    assert!(ran
        .stdout
        .contains("OperationOutcome  error forbidden: Authorization failed."));
}

#[test]
fn retry_rides_out_throttling() {
    let t = Target::start("throttled");
    let ran = fhircheck(&[
        "run",
        smoke().to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(ran.code, 1, "without --retry the 429s fail");
    let ran = fhircheck(&[
        "run",
        smoke().to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
        "--retry",
        "1",
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    assert!(
        ran.stdout.contains("(retried 1× after 429/503)"),
        "{}",
        ran.stdout
    );
}

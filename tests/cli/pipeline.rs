//! In the user's own pipeline: the built-in smoke collection from any directory, secretless
//! tokens (workload identity from a token file or GitHub Actions' OIDC endpoint), the credential
//! chain, and the cloud from `AZURE_AUTHORITY_HOST`.

use fhircheck::sandbox::registrations as reg;

use crate::{fhircheck_in, snap, Ran, Target};

/// The variables a pipeline sets for the built-in smoke collection, against `t`, without a
/// client secret.
fn azure_env(t: &Target) -> Vec<(String, String)> {
    let ep = &t.sandbox.endpoints;
    vec![
        ("FHIR_URL".into(), ep.fhir_url.clone()),
        ("AZURE_TENANT_ID".into(), ep.client.tenant_id.clone()),
        ("AZURE_CLIENT_ID".into(), ep.client.client_id.clone()),
        ("AZURE_AUTHORITY_HOST".into(), ep.base.clone()),
    ]
}

/// `fhircheck` in an empty directory with `env` and `more`.
fn run_in_empty(args: &[&str], env: &[(String, String)], more: &[(&str, &str)]) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(more);
    fhircheck_in(dir.path(), args, &all)
}

/// An external token from the sandbox's issuer `issuer` (`aks` or `github`), with `query`.
fn external_token(t: &Target, issuer: &str, query: &str) -> String {
    let url = format!("{}/{issuer}/token?{query}", t.sandbox.endpoints.base);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        reqwest::Client::new()
            .get(url)
            .header(
                "Authorization",
                format!("bearer {}", reg::GITHUB_REQUEST_TOKEN),
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    })
}

#[test]
fn the_built_in_smoke_collection_runs_from_an_empty_directory() {
    let t = Target::start("healthy");
    let env = azure_env(&t);
    let secret = [("AZURE_CLIENT_SECRET", reg::SECRET_VALUE)];
    let ran = run_in_empty(&["run"], &env, &secret);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran
        .stdout
        .contains("(collections/azure-fhir-smoke.json, built in)"));
    // The path of the shipped file names the built-in one where the file is not there.
    let named = run_in_empty(&["run", "collections/azure-fhir-smoke.json"], &env, &secret);
    assert_eq!(named.code, 0, "{}", named.stdout);
    // The shipped file and the built-in one run the same requests with the same checks.
    let file = crate::fhircheck_env(
        &["run", "collections/azure-fhir-smoke.json"],
        &env.iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(secret)
            .collect::<Vec<_>>(),
    );
    assert_eq!(file.code, 0, "{}", file.stdout);
    let lines = |r: &Ran| -> Vec<String> {
        let ids =
            regex::Regex::new(r"[0-9a-f-]{36}|\d+ ms|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").unwrap();
        r.stdout
            .lines()
            .skip(1)
            .map(|l| ids.replace_all(l, "_").into_owned())
            .collect()
    };
    assert_eq!(lines(&ran), lines(&file));
    assert_eq!(
        std::fs::read_to_string(crate::smoke()).unwrap(),
        fhircheck::app::SMOKE_COLLECTION,
        "the built-in smoke collection is the shipped file, byte for byte"
    );
}

#[test]
fn azure_authority_host_is_honoured_and_var_wins() {
    let t = Target::start("healthy");
    let mut env = azure_env(&t);
    let secret = [("AZURE_CLIENT_SECRET", reg::SECRET_VALUE)];
    let ran = run_in_empty(&["run", "-q"], &env, &secret);
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    // A wrong AZURE_AUTHORITY_HOST is overridden by --var authority_host.
    env.retain(|(k, _)| k != "AZURE_AUTHORITY_HOST");
    env.push(("AZURE_AUTHORITY_HOST".into(), "http://127.0.0.1:9".into()));
    let ran = run_in_empty(&["run", "-q"], &env, &secret);
    assert_eq!(ran.code, 3, "{}", ran.stdout);
    assert!(ran.stdout.contains("127.0.0.1:9"), "{}", ran.stdout);
    let host = format!("authority_host={}", t.sandbox.endpoints.base);
    let ran = run_in_empty(&["run", "-q", "--var", &host], &env, &secret);
    assert_eq!(ran.code, 0, "{}", ran.stdout);
}

#[test]
fn secretless_with_a_federated_token_file() {
    let t = Target::start("healthy");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("azure-identity-token");
    std::fs::write(&file, external_token(&t, "aks", "")).unwrap();
    let env = azure_env(&t);
    let path = file.display().to_string();
    let ran = run_in_empty(&["run"], &env, &[("AZURE_FEDERATED_TOKEN_FILE", &path)]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout
            .contains("workload identity, federated token file"),
        "{}",
        ran.stdout
    );
    // The file is read for every token request: a rotated, expired token is seen at once.
    std::fs::write(&file, external_token(&t, "aks", "lifetime=-3600")).unwrap();
    let ran = run_in_empty(
        &["run", "-q"],
        &env,
        &[("AZURE_FEDERATED_TOKEN_FILE", &path)],
    );
    assert_eq!(ran.code, 3, "{}", ran.stdout);
    assert!(ran.stdout.contains("AADSTS700024"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("outside its valid time"),
        "{}",
        ran.stdout
    );
    // A missing file says where it looked.
    let ran = run_in_empty(
        &["run", "-q"],
        &env,
        &[("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent/token")],
    );
    assert_eq!(ran.code, 3);
    assert!(ran
        .stdout
        .contains("cannot read the federated token file /nonexistent/token"));
    // A device or a huge file is not a token: refused without reading it whole.
    let ran = run_in_empty(
        &["run", "-q"],
        &env,
        &[("AZURE_FEDERATED_TOKEN_FILE", "/dev/zero")],
    );
    assert_eq!(ran.code, 3);
    assert!(ran.stdout.contains("larger than 64 KiB"), "{}", ran.stdout);
}

#[test]
fn secretless_with_github_actions_oidc() {
    let t = Target::start("healthy");
    let env = azure_env(&t);
    let url = format!("{}/github/token?api-version=2.0", t.sandbox.endpoints.base);
    let gh = [
        ("ACTIONS_ID_TOKEN_REQUEST_URL", url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", reg::GITHUB_REQUEST_TOKEN),
    ];
    let ran = run_in_empty(&["run", "-v"], &env, &gh);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran
        .stdout
        .contains("workload identity, GitHub Actions OIDC"));
    let all = format!("{}{}", ran.stdout, ran.stderr);
    assert!(!all.contains(reg::GITHUB_REQUEST_TOKEN), "{all}");
    // Neither the presented GitHub token (the client assertion) nor the Entra token shows.
    assert!(!all.contains("eyJ"), "a JWT leaked: {all}");
    assert!(
        all.contains("audience=api%3A%2F%2FAzureADTokenExchange"),
        "{all}"
    );
    // A wrong request token: the job lacks `id-token: write`.
    let bad = [
        ("ACTIONS_ID_TOKEN_REQUEST_URL", url.as_str()),
        (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "not-the-request-token-value",
        ),
    ];
    let ran = run_in_empty(&["run", "-q"], &env, &bad);
    assert_eq!(ran.code, 3);
    assert!(ran.stdout.contains("id-token: write"), "{}", ran.stdout);
}

/// Each federated-credential mismatch exits 3 with Entra's code, and a fix that names the
/// presented token's issuer, subject and audience.
#[test]
fn federated_credential_mismatches_are_explained() {
    let t = Target::start("healthy");
    let env = azure_env(&t);
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "issuer=https%3A%2F%2Foidc.example%2Fcluster-1",
            "AADSTS700211",
            "issuer `https://oidc.example/cluster-1`",
        ),
        (
            "audience=api%3A%2F%2Fsomething-else",
            "AADSTS700212",
            "audience `api://something-else`",
        ),
        (
            "subject=system%3Aserviceaccount%3Adefault%3Aother",
            "AADSTS700213",
            "subject `system:serviceaccount:default:other`",
        ),
        ("lifetime=-600", "AADSTS700024", "outside its valid time"),
    ];
    for (query, code, named) in cases {
        let file = dir.path().join("token");
        std::fs::write(&file, external_token(&t, "aks", query)).unwrap();
        let path = file.display().to_string();
        let ran = run_in_empty(
            &["run", "-q"],
            &env,
            &[("AZURE_FEDERATED_TOKEN_FILE", &path)],
        );
        assert_eq!(ran.code, 3, "{query}: {}", ran.stdout);
        assert!(ran.stdout.contains(code), "{query}: {}", ran.stdout);
        assert!(ran.stdout.contains(named), "{query}: {}", ran.stdout);
        if code == "AADSTS700213" {
            snap!("federated_subject_mismatch", ran.stdout);
        }
    }
}

#[test]
fn the_chain_takes_the_first_available_credential() {
    let t = Target::start("healthy");
    let ep = &t.sandbox.endpoints;
    let env = vec![("FHIR_URL".to_string(), ep.fhir_url.clone())];
    // No secret, no federated token: the managed identity (system-assigned) answers.
    let ran = run_in_empty(
        &["run"],
        &env,
        &[("AZURE_POD_IDENTITY_AUTHORITY_HOST", ep.base.as_str())],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains(
            "managed identity (VM metadata service), system-assigned (the first available in the credential chain)"
        ),
        "{}",
        ran.stdout
    );
    // No managed identity either: the Azure CLI.
    let token = crate::run::obtain_token(&t);
    let path = format!(
        "{}:{}",
        crate::root().join("fixtures/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let ran = run_in_empty(
        &["run"],
        &env,
        &[("PATH", path.as_str()), ("FAKE_AZ_TOKEN", token.as_str())],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran
        .stdout
        .contains("Azure CLI (az account get-access-token) (the first available"));
    // A link that is available but fails ends the chain with its own error.
    let ran = run_in_empty(
        &["run", "-q"],
        &env,
        &[("PATH", path.as_str()), ("FAKE_AZ_MODE", "aadsts")],
    );
    assert_eq!(ran.code, 3);
    assert!(ran.stdout.contains("AADSTS500011"), "{}", ran.stdout);
    // A secret in the environment comes first of all.
    let mut with_secret = azure_env(&t);
    with_secret.push(("AZURE_CLIENT_SECRET".into(), reg::SECRET_VALUE.into()));
    let ran = run_in_empty(
        &["run"],
        &with_secret,
        &[("AZURE_POD_IDENTITY_AUTHORITY_HOST", ep.base.as_str())],
    );
    assert_eq!(ran.code, 0);
    assert!(
        ran.stdout.contains("(Entra ID v1 client credentials)"),
        "{}",
        ran.stdout
    );
}

/// Right after a role assignment: `--wait-for-access` retries the first authorised request while
/// it answers 403, says so on stderr, and the step says how long access took to appear.
#[test]
fn wait_for_access_rides_out_a_propagating_role_assignment() {
    let t = Target::start("new-role");
    let env = t.env_file.to_str().unwrap();
    let ran = crate::fhircheck(&["run", "-e", env, "--wait-for-access", "30s"]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains("waiting for access: GET"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stdout.contains("access appeared after")
            && ran
                .stdout
                .contains("the role assignment was still propagating"),
        "{}",
        ran.stdout
    );
    let t = Target::start("new-role");
    let env = t.env_file.to_str().unwrap();
    let ran = crate::fhircheck(&["doctor", "-e", env, "--wait", "30s"]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("access appeared after"),
        "{}",
        ran.stdout
    );
}

/// Without waiting, the 403's fix names the service principal's object id and a ready command.
#[test]
fn the_no_role_fix_names_the_object_id_and_a_command() {
    let t = Target::start("no-role");
    let env = t.env_file.to_str().unwrap();
    let ran = crate::fhircheck(&["run", "-e", env, "-q"]);
    assert_eq!(ran.code, 1);
    assert!(
        ran.stdout.contains(&format!(
            "az role assignment create --assignee-object-id {} --assignee-principal-type ServicePrincipal",
            reg::CLIENT_OID
        )),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("--wait-for-access"), "{}", ran.stdout);
    // doctor -q: what failed, and the verdict.
    let ran = crate::fhircheck(&["doctor", "-e", env, "-q"]);
    assert_eq!(ran.code, 1);
    assert!(ran.stdout.contains("FAIL  read"), "{}", ran.stdout);
    assert!(!ran.stdout.contains("PASS"), "{}", ran.stdout);
    snap!("doctor_quiet_no_role", ran.stdout);
}

/// Values left as the example's placeholders are named before anything is sent.
#[test]
fn placeholders_left_in_settings_are_named() {
    let ran = run_in_empty(
        &["run"],
        &[(
            "FHIR_URL".to_string(),
            "https://<workspace>-<fhir-service>.fhir.azurehealthcareapis.com".to_string(),
        )],
        &[],
    );
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("still holds the placeholder `<workspace>`"),
        "{}",
        ran.stderr
    );
    assert!(
        !ran.stderr.contains("international domain"),
        "{}",
        ran.stderr
    );
    let ran = run_in_empty(
        &["run"],
        &[
            (
                "FHIR_URL".to_string(),
                "https://ws-fhir.fhir.azurehealthcareapis.com".to_string(),
            ),
            (
                "AZURE_TENANT_ID".to_string(),
                "<Directory (tenant) ID>".to_string(),
            ),
            ("AZURE_CLIENT_ID".to_string(), reg::CLIENT_ID.to_string()),
            (
                "AZURE_CLIENT_SECRET".to_string(),
                reg::SECRET_VALUE.to_string(),
            ),
        ],
        &[],
    );
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("AZURE_TENANT_ID still holds the placeholder `<Directory (tenant) ID>`"),
        "{}",
        ran.stderr
    );
}

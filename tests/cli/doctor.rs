//! `fhircheck doctor` against every scenario, and `fhircheck decode`.

use crate::{fhircheck, snap, Target};

fn doctor(scenario: &str, expected_exit: i32, extra: &[&str]) {
    let t = Target::start(scenario);
    let mut args = vec!["doctor", "-e", t.env_file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let ran = fhircheck(&args);
    assert_eq!(
        ran.code, expected_exit,
        "{scenario}: {}{}",
        ran.stdout, ran.stderr
    );
    snap!(format!("doctor_{scenario}"), ran.snapshot());
}

/// `doctor -v`: every exchange doctor makes is traced, through the same path as `run -v`,
/// credentials masked.
#[test]
fn verbose_traces_every_exchange() {
    let t = Target::start("healthy");
    let ran = fhircheck(&[
        "doctor",
        "-e",
        t.env_file.to_str().unwrap(),
        "--write",
        "-v",
    ]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let requests: Vec<&str> = ran.stderr.lines().filter(|l| l.starts_with("> ")).collect();
    for (method, path) in [
        ("GET", "/fhir/metadata"),
        ("GET", "/fhir/.well-known/smart-configuration"),
        ("GET", "/fhir/Patient?_count=1"),
        ("POST", "/oauth2/token"),
        ("GET", "/.well-known/openid-configuration"),
        ("GET", "/discovery/keys"),
        ("POST", "/fhir/Patient"),
        ("DELETE", "/fhir/Patient/"),
    ] {
        assert!(
            requests
                .iter()
                .any(|l| l.starts_with(&format!("> {method} ")) && l.contains(path)),
            "no {method} {path} in the trace:\n{}",
            requests.join("\n")
        );
    }
    assert!(
        requests.len() >= 9,
        "anonymous read and token read both traced: {}",
        requests.join("\n")
    );
    assert!(!ran
        .stderr
        .contains(fhircheck::sandbox::registrations::SECRET_VALUE));
    assert!(
        ran.stderr.contains("Authorization: Bearer ***")
            || ran.stderr.contains("authorization: Bearer ***"),
        "{}",
        ran.stderr
    );
}

#[test]
fn healthy_with_write() {
    doctor("healthy", 0, &["--write"]);
}
#[test]
fn wrong_secret() {
    doctor("wrong-secret", 3, &[]);
}
#[test]
fn expired_secret() {
    doctor("expired-secret", 3, &[]);
}
#[test]
fn unknown_app() {
    doctor("unknown-app", 3, &[]);
}
#[test]
fn unknown_tenant() {
    doctor("unknown-tenant", 3, &[]);
}
#[test]
fn no_role() {
    doctor("no-role", 1, &[]);
}
#[test]
fn read_only_with_write() {
    doctor("read-only", 1, &["--write"]);
}
#[test]
fn wrong_audience() {
    doctor("wrong-audience", 1, &[]);
}
#[test]
fn audience_trailing_slash() {
    doctor("audience-trailing-slash", 1, &[]);
}
#[test]
fn wrong_tenant() {
    doctor("wrong-tenant", 1, &[]);
}
#[test]
fn expired_token() {
    doctor("expired-token", 1, &[]);
}
#[test]
fn throttled() {
    doctor("throttled", 0, &[]);
}

#[test]
fn json_output_and_unreachable_service() {
    let t = Target::start("no-role");
    let ran = fhircheck(&["doctor", "-e", t.env_file.to_str().unwrap(), "--json"]);
    assert_eq!(ran.code, 1);
    let v: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    let read = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "read")
        .unwrap();
    assert_eq!(read["status"], "fail");
    assert!(read["fix"]
        .as_str()
        .unwrap()
        .contains(fhircheck::sandbox::registrations::CLIENT_OID));

    let closed = crate::free_port();
    let ran = fhircheck(&[
        "doctor",
        "-e",
        t.env_file.to_str().unwrap(),
        "--var",
        &format!("fhir_url=http://127.0.0.1:{closed}/fhir"),
    ]);
    assert_eq!(ran.code, 4, "{}", ran.stdout);
    snap!("doctor_unreachable", ran.snapshot());
}

#[test]
fn wrong_base_path_is_spotted() {
    let t = Target::start("healthy");
    let base = t.sandbox.endpoints.base.clone();
    let ran = fhircheck(&[
        "doctor",
        "-e",
        t.env_file.to_str().unwrap(),
        "--var",
        &format!("fhir_url={base}"),
    ]);
    assert_eq!(ran.code, 1);
    assert!(
        ran.stdout.contains(&format!("use `{base}/fhir`")),
        "{}",
        ran.stdout
    );
}

fn decode(args: &[&str], stdin: &str) -> crate::Ran {
    let out = assert_cmd::Command::cargo_bin("fhircheck")
        .expect("the fhircheck binary is built")
        .args(args)
        .env("NO_COLOR", "1")
        .write_stdin(stdin)
        .output()
        .unwrap();
    crate::Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn decode_reads_stdin_and_never_prints_the_token() {
    let t = Target::start("healthy");
    let token = crate::run::obtain_token(&t);
    let signature = token.rsplit('.').next().unwrap().to_string();
    let ran = decode(&["decode"], &format!("{token}\n"));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(!ran.stdout.contains(&signature) && !ran.stdout.contains(&token));
    snap!("decode", ran.snapshot());

    let fhir = t.fhir_url().to_string();
    let ran = decode(
        &[
            "decode",
            "-",
            "--fhir-url",
            &format!("{fhir}/"),
            "--tenant",
            fhircheck::sandbox::registrations::TENANT,
        ],
        &token,
    );
    assert_eq!(
        ran.code, 0,
        "a trailing slash on the URL given is not the token's fault: {}",
        ran.stdout
    );
    let ran = decode(
        &["decode", "--fhir-url", "https://other.example", "--json"],
        &token,
    );
    assert_eq!(ran.code, 1);
    let v: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(v["checks"][0]["check"], "claims.audience");
    assert_eq!(v["checks"][0]["status"], "fail");
    assert!(!ran.stdout.contains(&signature));

    let ran = decode(&["decode"], "not-a-token");
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("not a JWT"));
}

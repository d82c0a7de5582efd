//! fhircheck against a real OAuth2 issuer nobody here wrote: oidc-provider (npm), installed by
//! .ci/run into tests/e2e and started here, by process id, on a free loopback port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::{fhircheck, fixture, root, snap};

/// The FHIR audience the issuer grants tokens for (no FHIR server is needed to get tokens).
const AUDIENCE: &str = "http://127.0.0.1:9/fhir";

struct Issuer {
    child: Child,
    url: String,
}

impl Issuer {
    fn start() -> Issuer {
        let dir = root().join("tests/e2e");
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "oidc-provider is not installed: run `npm ci` in tests/e2e (.ci/run does)"
        );
        let mut child = Command::new("node")
            .arg(dir.join("issuer.mjs"))
            .arg(AUDIENCE)
            .arg(root().join("fixtures/certs/smart-client.jwks.json"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        // Ready when it says so: no sleeps.
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("the issuer did not start: {line:?}"));
        Issuer {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn token(issuer: &Issuer, profile: &str, extra: &[&str]) -> crate::Ran {
    let c = fixture("collections/real-issuer.json");
    let mut args = vec![
        "token",
        "-c",
        c.to_str().unwrap(),
        "--profile",
        profile,
        "--json",
        "--var",
    ];
    let iss = format!("issuer={}", issuer.url);
    let aud = format!("fhir_url={AUDIENCE}");
    args.push(&iss);
    args.push("--var");
    args.push(&aud);
    args.extend_from_slice(extra);
    fhircheck(&args)
}

#[test]
fn secret_post_secret_basic_and_private_key_jwt() {
    let issuer = Issuer::start();
    for profile in ["post", "basic", "jwt"] {
        let ran = token(&issuer, profile, &[]);
        assert_eq!(ran.code, 0, "{profile}: {}{}", ran.stdout, ran.stderr);
        let v: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
        assert_eq!(v["token"]["claims"]["aud"], AUDIENCE, "{profile}");
        assert_eq!(v["token"]["claims"]["iss"], issuer.url.as_str());
        assert_eq!(v["token"]["claims"]["scope"], "system/Patient.rs");
        assert!(!ran.stdout.contains("eyJ"), "never the token");
    }
}

#[test]
fn scopes_granted_against_requested_with_a_real_issuer() {
    let issuer = Issuer::start();
    let ran = token(
        &issuer,
        "jwt",
        &["--var", "scope=system/Patient.rs system/Patient.cud"],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let ran = fhircheck(&[
        "token",
        "-c",
        fixture("collections/real-issuer.json").to_str().unwrap(),
        "--profile",
        "read_only",
        "--var",
        &format!("issuer={}", issuer.url),
        "--var",
        &format!("fhir_url={AUDIENCE}"),
        "--var",
        "scope=system/Patient.rs system/Patient.cud",
    ]);
    assert_eq!(ran.code, 3, "{}", ran.stdout);
    assert!(ran.stdout.contains("invalid_scope"), "{}", ran.stdout);
    assert!(
        ran.stdout
            .contains("the issuer does not grant the requested scope or audience"),
        "{}",
        ran.stdout
    );
}

#[test]
fn wrong_secret_and_unknown_resource_are_explained() {
    let issuer = Issuer::start();
    let ran = token(
        &issuer,
        "post",
        &["--var", "post_secret=not-the-secret-value"],
    );
    assert_eq!(ran.code, 3);
    let v: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(v["error"]["error"], "invalid_client");
    assert_eq!(v["diagnosis"]["check"], "token.invalid_client");
    let ran = fhircheck(&[
        "token",
        "-c",
        fixture("collections/real-issuer.json").to_str().unwrap(),
        "--profile",
        "basic",
        "--var",
        &format!("issuer={}", issuer.url),
        "--var",
        "fhir_url=http://127.0.0.1:9/not-the-fhir-service",
    ]);
    assert_eq!(ran.code, 3);
    assert!(ran.stdout.contains("invalid_target"), "{}", ran.stdout);
    let shown = regex::Regex::new(r"127\.0\.0\.1:\d+")
        .unwrap()
        .replace_all(&ran.stdout, "127.0.0.1:[PORT]")
        .into_owned();
    snap!("e2e_issuer_invalid_target", crate::normalize(&shown));
}

#[test]
fn a_replayed_or_unknown_key_assertion_is_refused() {
    let issuer = Issuer::start();
    let ran = token(&issuer, "jwt", &["--var", "x=1"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let c = fixture("collections/real-issuer.json");
    let mut text = std::fs::read_to_string(root().join(&c)).unwrap();
    text = text.replace(
        "fixtures/certs/smart-es384.pem",
        "fixtures/certs/smart-unregistered-es384.pem",
    );
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("c.json");
    std::fs::write(&other, text).unwrap();
    let ran = fhircheck(&[
        "token",
        "-c",
        other.to_str().unwrap(),
        "--profile",
        "jwt",
        "--var",
        &format!("issuer={}", issuer.url),
        "--var",
        &format!("fhir_url={AUDIENCE}"),
    ]);
    assert_eq!(ran.code, 3, "{}", ran.stdout);
    assert!(ran.stdout.contains("invalid_client"), "{}", ran.stdout);
}

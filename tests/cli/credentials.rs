//! Certificate credentials for Entra, checked by the receiving side (the sandbox).

use crate::{fhircheck, fhircheck_env, fixture, snap, Target};
use fhircheck::sandbox::registrations as reg;

fn cert_collection() -> String {
    fixture("collections/entra-certificate.json")
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn certificate_assertions_are_accepted_by_the_sandbox() {
    let t = Target::start("healthy");
    let env = t.env_file.to_str().unwrap();
    for (alg, x5t, version) in [
        ("RS256", "sha256", "v2"),
        ("PS256", "sha1", "v1"),
        ("PS256", "sha256", "v2"),
    ] {
        let ran = fhircheck(&[
            "run",
            &cert_collection(),
            "-e",
            env,
            "--var",
            &format!("signing_alg={alg}"),
            "--var",
            &format!("x5t={x5t}"),
            "--var",
            &format!("token_version={version}"),
        ]);
        assert_eq!(
            ran.code, 0,
            "{alg} {x5t} {version}: {}{}",
            ran.stdout, ran.stderr
        );
        assert!(
            ran.stdout.contains("client credentials, certificate"),
            "{}",
            ran.stdout
        );
    }
    let ran = fhircheck(&["token", "-c", &cert_collection(), "-e", env, "--json"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let v: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(
        v["token"]["claims"]["appidacr"], "2",
        "the token says a certificate was used"
    );
}

/// The same certificate exported as PKCS#12: AES-256/PBKDF2 (OpenSSL 3, Windows today), legacy
/// RC2/3DES (`-legacy`, older Windows and Key Vault exports), and without a password.
const PFX_PASSWORD: &str = "fixture-pfx-password";

/// The certificate collection with a PKCS#12 file and its password.
fn with_pkcs12(env: &str, file: &str, password: &str) -> crate::Ran {
    fhircheck(&[
        "run",
        &cert_collection(),
        "-e",
        env,
        "--var",
        &format!("certificate={file}"),
        "--var",
        &format!("certificate_password={password}"),
    ])
}

#[test]
fn pkcs12_certificates_with_and_without_password() {
    let t = Target::start("healthy");
    let env = t.env_file.to_str().unwrap();
    for (file, password) in [
        ("fixtures/certs/sandbox-client.pfx", PFX_PASSWORD),
        ("fixtures/certs/sandbox-client-legacy.p12", PFX_PASSWORD),
        ("fixtures/certs/sandbox-client-nopass.pfx", ""),
    ] {
        let ran = with_pkcs12(env, file, password);
        assert_eq!(ran.code, 0, "{file}: {}{}", ran.stdout, ran.stderr);
        assert!(ran.stdout.contains("client credentials, certificate"));
    }
    // Recognised by its content too: a PFX saved without its extension.
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("client-certificate");
    std::fs::copy(
        crate::root().join("fixtures/certs/sandbox-client.pfx"),
        &bare,
    )
    .unwrap();
    let ran = with_pkcs12(env, bare.to_str().unwrap(), PFX_PASSWORD);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    // As the Azure SDKs read them.
    let ep = &t.sandbox.endpoints;
    let ran = crate::fhircheck_env(
        &[
            "token",
            "-c",
            fixture("collections/entra-from-environment.json")
                .to_str()
                .unwrap(),
            "--var",
            &format!("fhir_url={}", ep.fhir_url),
            "--json",
        ],
        &[
            ("AZURE_TENANT_ID", ep.client.tenant_id.as_str()),
            ("AZURE_CLIENT_ID", ep.client.client_id.as_str()),
            ("AZURE_AUTHORITY_HOST", ep.authority_host.as_str()),
            (
                "AZURE_CLIENT_CERTIFICATE_PATH",
                "fixtures/certs/sandbox-client.pfx",
            ),
            ("AZURE_CLIENT_CERTIFICATE_PASSWORD", PFX_PASSWORD),
        ],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let v: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(v["token"]["claims"]["appidacr"], "2");
    assert!(!ran.stdout.contains(PFX_PASSWORD));
}

#[test]
fn pkcs12_password_problems_are_usage_errors_that_never_show_it() {
    let t = Target::start("healthy");
    let env = t.env_file.to_str().unwrap();
    for (file, password, says) in [
        (
            "fixtures/certs/sandbox-client.pfx",
            "not-the-pfx-password",
            "the password does not open `fixtures/certs/sandbox-client.pfx`",
        ),
        (
            "fixtures/certs/sandbox-client-legacy.p12",
            "",
            "is protected by a password: give it in `certificate_password`",
        ),
        (
            "fixtures/certs/sandbox-client.crt.p12",
            "",
            "cannot read the certificate file",
        ),
    ] {
        let ran = with_pkcs12(env, file, password);
        assert_eq!(ran.code, 2, "{file}: {}", ran.stderr);
        assert!(ran.stderr.contains(says), "{file}: {}", ran.stderr);
        assert!(ran.stdout.is_empty());
        if !password.is_empty() {
            assert!(!ran.stderr.contains(password), "{}", ran.stderr);
        }
    }
    let ran = with_pkcs12(
        env,
        "fixtures/certs/sandbox-client.pfx",
        "not-the-pfx-password",
    );
    snap!("credentials_pkcs12_wrong_password", ran.snapshot());
}

#[test]
fn an_unregistered_certificate_is_700027_with_its_fix() {
    let t = Target::start("healthy");
    let ran = fhircheck(&[
        "run",
        &cert_collection(),
        "-e",
        t.env_file.to_str().unwrap(),
        "--var",
        "certificate=fixtures/certs/unregistered-client.pem",
    ]);
    assert_eq!(ran.code, 3);
    assert!(ran.stdout.contains("AADSTS700027"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("upload the certificate"),
        "{}",
        ran.stdout
    );
    snap!("credentials_unregistered_certificate", ran.snapshot());
}

#[test]
fn bad_certificate_files_are_usage_errors() {
    let t = Target::start("healthy");
    let env = t.env_file.to_str().unwrap();
    for (file, says) in [
        (
            "src/sandbox/credentials/sandbox-client.crt",
            "no private key",
        ),
        (
            "fixtures/certs/missing.pem",
            "cannot read the certificate file",
        ),
        ("fixtures/certs/unregistered-client.crt", "no private key"),
        (
            "fixtures/certs/sandbox-client-encrypted.pem",
            "is encrypted; decrypt it once",
        ),
        ("README.md", "no PEM certificate"),
    ] {
        let ran = fhircheck(&[
            "run",
            &cert_collection(),
            "-e",
            env,
            "--var",
            &format!("certificate={file}"),
        ]);
        assert_eq!(ran.code, 2, "{file}: {}", ran.stderr);
        assert!(ran.stderr.contains(says), "{file}: {}", ran.stderr);
        assert!(ran.stdout.is_empty());
    }
}

#[test]
fn azure_sdk_variables_select_secret_or_certificate() {
    let t = Target::start("healthy");
    let ep = &t.sandbox.endpoints;
    let common = [
        ("AZURE_TENANT_ID", ep.client.tenant_id.as_str()),
        ("AZURE_CLIENT_ID", ep.client.client_id.as_str()),
        ("AZURE_AUTHORITY_HOST", ep.authority_host.as_str()),
    ];
    let args = [
        "run",
        fixture("collections/entra-from-environment.json")
            .to_str()
            .unwrap()
            .to_string()
            .leak() as &str,
        "--var",
        format!("fhir_url={}", ep.fhir_url).leak(),
    ];
    let mut with_cert = common.to_vec();
    with_cert.push((
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "fixtures/certs/sandbox-client.pem",
    ));
    let ran = fhircheck_env(&args, &with_cert);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("certificate"));
    let mut with_secret = common.to_vec();
    with_secret.push(("AZURE_CLIENT_SECRET", reg::SECRET_VALUE));
    let ran = fhircheck_env(&args, &with_secret);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let ran = fhircheck_env(&args, &common);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("AZURE_CLIENT_CERTIFICATE_PATH"),
        "{}",
        ran.stderr
    );
}

#[test]
fn the_sandbox_checks_audience_times_and_replay() {
    let t = Target::start("healthy");
    let ep = &t.sandbox.endpoints;
    let key = fhircheck::auth::load_certificate(
        "t",
        reg::CLIENT_ID,
        &crate::root()
            .join("fixtures/certs/sandbox-client.pem")
            .to_string_lossy(),
        None,
        None,
        Some("PS256"),
        None,
    )
    .unwrap();
    let url = format!("{}/{}/oauth2/v2.0/token", ep.base, reg::TENANT);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let post = |assertion: &str| -> serde_json::Value {
        rt.block_on(async {
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", reg::CLIENT_ID),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion),
                ("scope", format!("{}/.default", ep.fhir_url).leak()),
            ];
            let text = reqwest::Client::new()
                .post(&url)
                .form(&form)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            serde_json::from_str(&text).unwrap()
        })
    };
    let good = fhircheck::auth::client_assertion(&key, &url, now).unwrap();
    assert!(post(good.expose())["access_token"].is_string());
    assert_eq!(
        post(good.expose())["error_codes"][0],
        50012,
        "a replayed assertion is refused"
    );
    let wrong_aud = fhircheck::auth::client_assertion(
        &key,
        "https://login.microsoftonline.com/x/oauth2/v2.0/token",
        now,
    )
    .unwrap();
    assert_eq!(post(wrong_aud.expose())["error_codes"][0], 50012);
    let expired = fhircheck::auth::client_assertion(&key, &url, now - 3600).unwrap();
    assert_eq!(post(expired.expose())["error_codes"][0], 700024);
    let future = fhircheck::auth::client_assertion(&key, &url, now + 3600).unwrap();
    assert_eq!(post(future.expose())["error_codes"][0], 700024);
    let other = fhircheck::auth::load_certificate(
        "t",
        reg::CLIENT_ID,
        &crate::root()
            .join("fixtures/certs/unregistered-client.pem")
            .to_string_lossy(),
        None,
        None,
        None,
        None,
    )
    .unwrap();
    let unknown = fhircheck::auth::client_assertion(&other, &url, now).unwrap();
    assert_eq!(post(unknown.expose())["error_codes"][0], 700027);
}

/// A verbose certificate run with every report file: what it printed, and every text it wrote.
fn everything_written(t: &Target, extra: &[&str]) -> (crate::Ran, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let env = t.env_file.to_str().unwrap();
    let cert = cert_collection();
    let mut args = vec!["run", &cert, "-e", env, "-v", "-r", "cli,json,junit,html"];
    args.extend(["--report-dir", dir.path().to_str().unwrap()]);
    args.extend_from_slice(extra);
    let ran = fhircheck(&args);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let mut all = vec![ran.stdout.clone(), ran.stderr.clone()];
    for e in std::fs::read_dir(dir.path()).unwrap() {
        all.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    (ran, all)
}

#[test]
fn neither_the_assertion_nor_the_private_key_is_shown() {
    let t = Target::start("healthy");
    let (ran, all) = everything_written(&t, &[]);
    let key_text =
        std::fs::read_to_string(crate::root().join("fixtures/certs/sandbox-client.pem")).unwrap();
    let key_line = key_text
        .lines()
        .skip_while(|l| !l.contains("PRIVATE KEY"))
        .nth(3)
        .unwrap()
        .to_string();
    let jwt = regex::Regex::new(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
        .unwrap();
    for text in &all {
        assert!(!jwt.is_match(text), "an assertion or token shows:\n{text}");
        assert!(!text.contains(&key_line));
    }
    assert!(
        ran.stderr.contains("client_assertion=***"),
        "the trace shows the field, masked"
    );
    // A PKCS#12 password, given as a plain --var, shows nowhere either.
    let password = format!("certificate_password={PFX_PASSWORD}");
    let (_, all) = everything_written(
        &t,
        &[
            "--var",
            "certificate=fixtures/certs/sandbox-client.pfx",
            "--var",
            &password,
        ],
    );
    for text in &all {
        assert!(!text.contains(PFX_PASSWORD), "the password shows:\n{text}");
        assert!(!jwt.is_match(text), "an assertion or token shows:\n{text}");
        assert!(!text.contains(&key_line));
    }
}

#[test]
fn managed_identity_vm_and_app_service_forms() {
    let t = Target::start("healthy");
    let ep = &t.sandbox.endpoints;
    let c = fixture("collections/azure-identities.json");
    let fhir = format!("fhir_url={}", ep.fhir_url);
    let args = ["run", c.to_str().unwrap(), "--var", fhir.as_str()];
    // VM: the metadata service, at the address the Azure SDKs let you override.
    let ran = fhircheck_env(
        &args,
        &[("AZURE_POD_IDENTITY_AUTHORITY_HOST", ep.base.as_str())],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran
        .stdout
        .contains("managed identity (VM metadata service), system-assigned"));
    assert!(ran
        .stdout
        .contains("managed identity (VM metadata service), user-assigned"));
    assert!(ran.stdout.contains(reg::MI_OID) && ran.stdout.contains(reg::MI_USER_OID));
    // App Service: IDENTITY_ENDPOINT and IDENTITY_HEADER.
    let endpoint = format!("{}/msi/token", ep.base);
    let ran = fhircheck_env(
        &args,
        &[
            ("IDENTITY_ENDPOINT", endpoint.as_str()),
            (
                "IDENTITY_HEADER",
                fhircheck::sandbox::token::IDENTITY_HEADER,
            ),
        ],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("managed identity (App Service)"));
    let ran = fhircheck_env(
        &args,
        &[
            ("IDENTITY_ENDPOINT", endpoint.as_str()),
            ("IDENTITY_HEADER", "wrong-header-value"),
        ],
    );
    assert_eq!(ran.code, 3);
}

#[test]
fn managed_identity_outside_azure_says_so() {
    let t = Target::start("healthy");
    // A loopback port nothing listens on stands in for a metadata service that is not there.
    let closed = crate::free_port();
    let host = format!("http://127.0.0.1:{closed}");
    let c = fixture("collections/azure-identities.json");
    let ran = fhircheck_env(
        &[
            "run",
            c.to_str().unwrap(),
            "--var",
            &format!("fhir_url={}", t.fhir_url()),
            "-q",
        ],
        &[("AZURE_POD_IDENTITY_AUTHORITY_HOST", host.as_str())],
    );
    assert_eq!(ran.code, 3);
    assert!(
        ran.stdout
            .contains("not running on an Azure resource with a managed identity"),
        "{}",
        ran.stdout
    );
}

#[test]
fn azure_cli_tokens_through_a_stand_in_az() {
    let t = Target::start("healthy");
    let token = crate::run::obtain_token(&t);
    let path = format!(
        "{}:{}",
        crate::root().join("fixtures/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let c = fixture("collections/azure-cli.json");
    let fhir = format!("fhir_url={}", t.fhir_url());
    let args = ["run", c.to_str().unwrap(), "--var", fhir.as_str()];
    let ran = fhircheck_env(
        &args,
        &[("PATH", path.as_str()), ("FAKE_AZ_TOKEN", token.as_str())],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran
        .stdout
        .contains("Azure CLI (az account get-access-token)"));
    assert!(!ran.stdout.contains(&token));
    let ran = fhircheck_env(&args, &[("PATH", path.as_str()), ("FAKE_AZ_MODE", "login")]);
    assert_eq!(ran.code, 3);
    assert!(ran.stdout.contains("run `az login`"), "{}", ran.stdout);
    let ran = fhircheck_env(
        &args,
        &[("PATH", path.as_str()), ("FAKE_AZ_MODE", "aadsts")],
    );
    assert_eq!(ran.code, 3);
    assert!(
        ran.stdout
            .contains("the resource (audience) you asked a token for does not exist"),
        "{}",
        ran.stdout
    );
    let ran = fhircheck_env(&args, &[("PATH", "/nonexistent")]);
    assert_eq!(ran.code, 3);
    assert!(ran.stdout.contains("not on PATH"), "{}", ran.stdout);
}

fn smart(t: &Target, vars: &[&str]) -> crate::Ran {
    let c = fixture("collections/smart-backend.json");
    let fhir = format!("fhir_url={}", t.fhir_url());
    let mut args = vec!["run", c.to_str().unwrap(), "--var", fhir.as_str()];
    for v in vars {
        args.push("--var");
        args.push(v);
    }
    fhircheck(
        &args
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    )
}

#[test]
fn smart_backend_services_es384_and_rs384() {
    let t = Target::start("healthy");
    let ran = smart(&t, &[]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout
            .contains("SMART Backend Services, private_key_jwt ES384"),
        "{}",
        ran.stdout
    );
    assert!(!ran.stdout.contains("warning:"), "{}", ran.stdout);
    let ran = smart(
        &t,
        &[
            "private_key=fixtures/certs/smart-rs384.pem",
            "key_id=fhircheck-smart-rs384",
            "scope=system/Patient.read system/Patient.write",
        ],
    );
    assert_eq!(
        ran.code, 0,
        "v1 scope syntax and RS384: {}{}",
        ran.stdout, ran.stderr
    );
    assert!(ran.stdout.contains("private_key_jwt RS384"));
}

#[test]
fn smart_private_keys_as_jwk_and_jwks() {
    let t = Target::start("healthy");
    for (file, kid, alg) in [
        (
            "fixtures/certs/smart-es384.private.jwk.json",
            "fhircheck-smart-es384",
            "ES384",
        ),
        (
            "fixtures/certs/smart-private.jwks.json",
            "fhircheck-smart-rs384",
            "RS384",
        ),
        (
            "fixtures/certs/smart-private.jwks.json",
            "fhircheck-smart-es384",
            "ES384",
        ),
    ] {
        let ran = smart(
            &t,
            &[&format!("private_key={file}"), &format!("key_id={kid}")],
        );
        assert_eq!(ran.code, 0, "{file} {kid}: {}{}", ran.stdout, ran.stderr);
        assert!(
            ran.stdout.contains(&format!("private_key_jwt {alg}")),
            "{}",
            ran.stdout
        );
    }
    for (file, kid, says) in [
        (
            "fixtures/certs/smart-private.jwks.json",
            "not-a-kid",
            "the JWKS has no private key with kid `not-a-kid` (it has: fhircheck-smart-rs384, fhircheck-smart-es384)",
        ),
        (
            "src/sandbox/credentials/smart-client.jwks.json",
            "fhircheck-smart-es384",
            "the JWKS holds only public keys",
        ),
    ] {
        let ran = smart(
            &t,
            &[&format!("private_key={file}"), &format!("key_id={kid}")],
        );
        assert_eq!(ran.code, 2, "{}", ran.stderr);
        assert!(ran.stderr.contains(says), "{}", ran.stderr);
    }
    // The JWK's private part shows nowhere, even in a verbose trace.
    let jwk: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::root().join("fixtures/certs/smart-es384.private.jwk.json"))
            .unwrap(),
    )
    .unwrap();
    let d = jwk["d"].as_str().unwrap();
    let ran = fhircheck(&[
        "run",
        fixture("collections/smart-backend.json").to_str().unwrap(),
        "-v",
        "--var",
        &format!("fhir_url={}", t.fhir_url()),
        "--var",
        "private_key=fixtures/certs/smart-es384.private.jwk.json",
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("client_assertion=***"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stdout.contains(d) && !ran.stderr.contains(d));
}

#[test]
fn smart_scopes_granted_against_requested_and_insufficient_scope() {
    let t = Target::start("healthy");
    // The client may read everything but write only Patients: it asks for Patient reads alone.
    let ran = smart(&t, &["scope=system/Patient.rs system/Observation.cud"]);
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    assert!(
        ran.stdout
            .contains("do not cover the requested `system/Observation.cud`"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains("the token's scopes do not allow this request (it needs system/Patient.c)"),
        "{}",
        ran.stdout
    );
    snap!("credentials_smart_scopes", ran.snapshot());
}

#[test]
fn smart_key_not_registered_is_invalid_client() {
    let t = Target::start("healthy");
    let ran = smart(
        &t,
        &["private_key=fixtures/certs/smart-unregistered-es384.pem"],
    );
    assert_eq!(ran.code, 3, "{}", ran.stdout);
    assert!(ran.stdout.contains("invalid_client"));
    assert!(
        ran.stdout
            .contains("the token endpoint did not accept the client's credentials"),
        "{}",
        ran.stdout
    );
    let ran = smart(
        &t,
        &[
            "private_key=fixtures/certs/smart-rs384.pem",
            "key_id=fhircheck-smart-es384",
        ],
    );
    assert_eq!(
        ran.code, 3,
        "a key that does not match its kid: {}",
        ran.stdout
    );
}

#[test]
fn token_cache_is_opt_in_keyed_and_private() {
    let t = Target::start("healthy");
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_str().unwrap();
    let env_file = t.env_file.to_str().unwrap();
    let smoke = crate::smoke();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", smoke.to_str().unwrap(), "-e", env_file, "-q", "-v"];
        args.extend_from_slice(extra);
        fhircheck_env(&args, &[("FHIRCHECK_CACHE_DIR", dir)])
    };
    let asks = |r: &crate::Ran| {
        r.stderr
            .lines()
            .any(|l| l.starts_with("> POST ") && l.contains("/oauth2/token"))
    };
    let first = run(&["--token-cache"]);
    assert_eq!(first.code, 0);
    assert!(asks(&first), "the first run asks for a token");
    let file = cache.path().join("tokens.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let second = run(&["--token-cache"]);
    assert_eq!(second.code, 0);
    assert!(
        !asks(&second),
        "the second run reuses it:\n{}",
        second.stderr
    );
    let without = run(&[]);
    assert!(asks(&without), "without --token-cache nothing is reused");
    // Another resource is another key: never served from the cache.
    let other = run(&[
        "--token-cache",
        "--var",
        &format!("resource={}/", t.fhir_url()),
    ]);
    assert!(asks(&other), "{}", other.stderr);
    for r in [&first, &second, &other] {
        assert!(
            !r.stdout.contains("eyJ")
                && !r
                    .stderr
                    .contains("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6")
        );
    }
    let cleared = fhircheck_env(&["token", "--clear-cache"], &[("FHIRCHECK_CACHE_DIR", dir)]);
    assert_eq!(cleared.code, 0);
    assert!(cleared.stdout.contains("token cache cleared"));
    assert!(!file.exists());
}

//! Servers that misbehave: they redirect credentials elsewhere, echo them, hang, stream without
//! end, send escape codes or answer with something that is not HTTP. Each case has its exit code,
//! its message, and no secret in any output.

use std::io::Write;

use crate::{fhircheck, http, Ran, Target, TestServer as Hostile};
use fhircheck::sandbox::registrations as reg;

/// A collection of one GET to `url` with a bearer token from an OAuth2 token endpoint.
fn collection(dir: &std::path::Path, base: &str, token_url: &str, client_auth: &str) -> String {
    let c = serde_json::json!({
        "name": "hostile",
        "base_url": base,
        "auth": {"o": {"type": "oauth2", "token_url": token_url, "client_id": "hostile-client",
                        "client_secret": reg::SECRET_VALUE,
                        "client_auth": client_auth}},
        "requests": [{"name": "read", "url": "Patient?_count=1", "expect": {"status": 200}}]
    });
    let path = dir.join("hostile.json");
    std::fs::write(&path, c.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

fn token_answer() -> Vec<u8> {
    http(
        "200 OK",
        &[("Content-Type", "application/json")],
        r#"{"access_token":"opaque-token-value-0123456789","token_type":"Bearer","expires_in":3600}"#,
    )
}

/// Nothing fhircheck wrote holds the secret, in any of its encodings, or the Basic header.
fn assert_no_secret(ran: &Ran) {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("hostile-client:{}", reg::SECRET_VALUE));
    let encoded = serde_urlencoded::to_string([("x", reg::SECRET_VALUE)]).unwrap()[2..].to_string();
    for text in [&ran.stdout, &ran.stderr] {
        for s in [
            reg::SECRET_VALUE,
            encoded.as_str(),
            basic.trim_end_matches('='),
            "opaque-token-value-0123456789",
        ] {
            assert!(!text.contains(s), "{s:?} leaked:\n{text}");
        }
    }
}

#[test]
fn a_token_endpoint_that_redirects_never_gets_the_secret_on() {
    let elsewhere = Hostile::answering(|_, _| token_answer());
    let to = format!("{}/token", elsewhere.url());
    let redirecting =
        Hostile::answering(move |_, _| http("307 Temporary Redirect", &[("Location", &to)], ""));
    let dir = tempfile::tempdir().unwrap();
    let c = collection(
        dir.path(),
        "http://127.0.0.1:9/fhir",
        &format!("{}/token", redirecting.url()),
        "post",
    );
    let ran = fhircheck(&["run", &c, "-v"]);
    assert_eq!(ran.code, 3, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("redirected to"), "{}", ran.stdout);
    assert!(
        elsewhere.seen().is_empty(),
        "the other origin got {:?}",
        elsewhere.seen()
    );
    assert_eq!(redirecting.seen().len(), 1);
    assert_no_secret(&ran);
}

#[test]
fn redirects_stay_within_their_origin_unless_asked_and_leave_the_token_behind() {
    let other = Hostile::answering(|seen, _| {
        let auth = seen.headers.iter().any(|(k, _)| k == "authorization");
        http(
            "200 OK",
            &[("Content-Type", "application/fhir+json")],
            &format!(r#"{{"resourceType":"Bundle","type":"searchset","auth":{auth}}}"#),
        )
    });
    let other_url = other.url();
    let fhir = Hostile::answering(move |seen, port| {
        if seen.line.contains("/token") {
            token_answer()
        } else if seen.line.contains("/fhir/Patient") {
            http(
                "302 Found",
                &[(
                    "Location",
                    &format!("http://127.0.0.1:{port}/moved/Patient"),
                )],
                "",
            )
        } else if seen.line.contains("/moved/") {
            http(
                "302 Found",
                &[("Location", &format!("{other_url}/far/Patient"))],
                "",
            )
        } else {
            http("404 Not Found", &[], "")
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let c = collection(
        dir.path(),
        &format!("{}/fhir", fhir.url()),
        &format!("{}/token", fhir.url()),
        "post",
    );
    let ran = fhircheck(&["run", &c]);
    assert_eq!(
        ran.code, 1,
        "the cross-origin 302 is the answer: {}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains("redirected: 302 to http://127.0.0.1:[PORT]/moved/Patient")
            || ran.stdout.contains("/moved/Patient"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("not followed, another origin"),
        "{}",
        ran.stdout
    );
    assert!(other.seen().is_empty());
    let ran = fhircheck(&["run", &c, "--follow-cross-origin"]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let got = other.seen();
    assert_eq!(got.len(), 1);
    assert!(
        got[0].headers.iter().all(|(k, _)| k != "authorization"),
        "the token stays with its origin: {:?}",
        got[0].headers
    );
    assert_no_secret(&ran);
}

#[test]
fn an_echoed_basic_header_is_masked_everywhere() {
    let t = Target::start("healthy");
    let dir = tempfile::tempdir().unwrap();
    let echo = format!("{}/echo/oauth2/token", t.sandbox.endpoints.base);
    let c = collection(dir.path(), t.fhir_url(), &echo, "basic");
    let json = dir.path().join("r.json");
    let ran = fhircheck(&[
        "run",
        &c,
        "-v",
        "--reporter-json-export",
        json.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 3, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("authorization: Basic ***"),
        "{}",
        ran.stdout
    );
    assert_no_secret(&ran);
    let report = std::fs::read_to_string(&json).unwrap();
    assert_no_secret(&Ran {
        code: 0,
        stdout: report,
        stderr: String::new(),
    });
}

#[test]
fn a_server_that_hangs_or_streams_without_end_is_bounded() {
    let hang = Hostile::answering(|seen, _| {
        if seen.line.contains("/token") {
            return token_answer();
        }
        std::thread::sleep(std::time::Duration::from_secs(30));
        Vec::new()
    });
    let dir = tempfile::tempdir().unwrap();
    let c = collection(
        dir.path(),
        &format!("{}/fhir", hang.url()),
        &format!("{}/token", hang.url()),
        "post",
    );
    let ran = fhircheck(&["run", &c, "--timeout", "1"]);
    assert_eq!(ran.code, 4, "{}", ran.stdout);
    assert!(ran.stdout.contains("timed out"), "{}", ran.stdout);

    let endless = Hostile::start(|_, _, out| {
        let _ = out.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n\r\n[");
        let chunk = vec![b' '; 64 * 1024];
        // Bounded: 64 MiB at most, far beyond the limit the test sets.
        for _ in 0..1024 {
            if out.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let port = endless.port;
    let c = serde_json::json!({"name": "endless", "base_url": format!("http://127.0.0.1:{port}"),
        "requests": [{"name": "everything", "url": "all"}]});
    let path = dir.path().join("endless.json");
    std::fs::write(&path, c.to_string()).unwrap();
    let ran = fhircheck(&["run", path.to_str().unwrap(), "--max-body", "1MiB"]);
    assert_eq!(ran.code, 4, "{}", ran.stdout);
    assert!(
        ran.stdout.contains("larger than --max-body 1 MiB"),
        "{}",
        ran.stdout
    );
}

#[test]
fn escape_codes_and_garbage_from_a_server_can_not_reach_the_terminal() {
    let nasty = Hostile::answering(|seen, _| {
        if seen.line.contains("/token") {
            return token_answer();
        }
        if seen.line.contains("garbage") {
            return b"HELLO THERE\r\n\r\n\x1b[2J".to_vec();
        }
        http(
            "500 Internal Server Error",
            &[("Content-Type", "application/fhir+json")],
            "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"exception\",\"diagnostics\":\"\\u001b[2J\\u001b]0;owned\\u0007\\rPASS  everything\"}]}",
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let c = collection(
        dir.path(),
        &format!("{}/fhir", nasty.url()),
        &format!("{}/token", nasty.url()),
        "post",
    );
    let ran = fhircheck(&["run", &c, "-v"]);
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    for text in [&ran.stdout, &ran.stderr] {
        assert!(
            !text.contains('\x1b') && !text.contains('\x07') && !text.contains('\r'),
            "{text:?}"
        );
    }
    let c = serde_json::json!({"name": "garbage", "base_url": nasty.url(),
        "requests": [{"name": "garbage", "url": "garbage"}]});
    let path = dir.path().join("garbage.json");
    std::fs::write(&path, c.to_string()).unwrap();
    let ran = fhircheck(&["run", path.to_str().unwrap()]);
    assert_eq!(ran.code, 4, "{}", ran.stdout);
    assert!(!ran.stdout.contains('\x1b'), "{:?}", ran.stdout);
}

#[test]
fn an_empty_access_token_is_a_token_error() {
    let server = Hostile::answering(|_, _| {
        http(
            "200 OK",
            &[("Content-Type", "application/json")],
            r#"{"access_token":"","token_type":"Bearer"}"#,
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let c = collection(
        dir.path(),
        &format!("{}/fhir", server.url()),
        &format!("{}/token", server.url()),
        "post",
    );
    let ran = fhircheck(&["run", &c]);
    assert_eq!(ran.code, 3, "{}", ran.stdout);
    assert!(
        ran.stdout.contains("access_token is empty"),
        "{}",
        ran.stdout
    );
    assert_eq!(
        server.seen().len(),
        1,
        "nothing was sent with an empty token"
    );
}

#[test]
fn credentials_over_plain_http_to_another_host_are_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let c = collection(
        dir.path(),
        "http://fhir.example.invalid/fhir",
        "https://login.example.invalid/token",
        "post",
    );
    let ran = fhircheck(&["run", &c]);
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stderr.contains("plain http://"), "{}", ran.stderr);
    assert!(ran.stderr.contains("--allow-http"), "{}", ran.stderr);
    let c = collection(
        dir.path(),
        "https://fhir.example.invalid/fhir",
        "http://login.example.invalid/token",
        "post",
    );
    let ran = fhircheck(&["run", &c]);
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stderr.contains("auth.o"), "{}", ran.stderr);
}

#[test]
fn a_header_that_can_not_go_on_the_wire_is_a_usage_error() {
    let server = Hostile::answering(|_, _| http("200 OK", &[], "{}"));
    let dir = tempfile::tempdir().unwrap();
    let c = serde_json::json!({"name": "crlf", "base_url": server.url(),
        "requests": [{"name": "smuggle", "url": "x", "headers": {"X-Note": "a\r\nX-Injected: 1"}}]});
    let path = dir.path().join("crlf.json");
    std::fs::write(&path, c.to_string()).unwrap();
    let ran = fhircheck(&["run", path.to_str().unwrap()]);
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stderr.contains("headers.X-Note"), "{}", ran.stderr);
    assert!(server.seen().is_empty(), "nothing was sent");
}

#[test]
fn a_postman_header_that_can_not_go_on_the_wire_is_a_usage_error_too() {
    let server = Hostile::answering(|_, _| http("200 OK", &[], "{}"));
    let dir = tempfile::tempdir().unwrap();
    let c = serde_json::json!({
        "info": {"name": "crlf", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "item": [{"name": "smuggle", "request": {"method": "GET", "url": format!("{}/x", server.url()),
                  "header": [{"key": "X-Note", "value": "a\r\nX-Injected: 1"}]}}]
    });
    let path = dir.path().join("crlf.postman_collection.json");
    std::fs::write(&path, c.to_string()).unwrap();
    let ran = fhircheck(&["run", path.to_str().unwrap()]);
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stderr.contains("X-Note"), "{}", ran.stderr);
    assert!(server.seen().is_empty(), "nothing was sent");
}

#[test]
fn a_server_that_drips_its_answer_is_bounded_by_the_timeout() {
    let drip = Hostile::start(|_, _, out| {
        let _ = out.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
        // One byte every 300 ms: a hundred bytes would take half a minute.
        for _ in 0..100 {
            if out.write_all(b" ").is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    });
    let port = drip.port;
    let dir = tempfile::tempdir().unwrap();
    let c = serde_json::json!({"name": "drip", "base_url": format!("http://127.0.0.1:{port}"),
        "requests": [{"name": "slowly", "url": "x"}]});
    let path = dir.path().join("drip.json");
    std::fs::write(&path, c.to_string()).unwrap();
    let ran = fhircheck(&["run", path.to_str().unwrap(), "--timeout", "1"]);
    assert_eq!(ran.code, 4, "{}", ran.stdout);
    assert!(ran.stdout.contains("timed out"), "{}", ran.stdout);
}

/// `--timeout-script` holds inside the regular expression engine: the script is stopped, its
/// request is an error, and the next request's scripts run on a fresh engine.
#[test]
fn a_catastrophic_regular_expression_in_a_script_is_stopped() {
    let server = Hostile::answering(|_, _| {
        http(
            "200 OK",
            &[("Content-Type", "application/json")],
            r#"{"name":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"}"#,
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let c = serde_json::json!({
        "info": {"name": "redos", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "item": [
            {"name": "backtracks", "event": [{"listen": "test", "script": {"exec": [
                "pm.test('name', function () { pm.expect(/^(a+)+$/.test(pm.response.json().name)).to.be.false; });"
            ]}}], "request": {"method": "GET", "url": format!("{}/one", server.url())}},
            {"name": "after", "event": [{"listen": "test", "script": {"exec": [
                "pm.test('runs', function () { pm.response.to.have.status(200); });"
            ]}}], "request": {"method": "GET", "url": format!("{}/two", server.url())}}
        ]
    });
    let path = dir.path().join("redos.postman_collection.json");
    std::fs::write(&path, c.to_string()).unwrap();
    let ran = fhircheck(&["run", path.to_str().unwrap(), "--timeout-script", "300"]);
    assert_eq!(ran.code, 4, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("ran longer than 300 ms"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("PASS  after"), "{}", ran.stdout);
}

#[test]
fn a_url_no_request_can_go_to_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let c = serde_json::json!({"name": "no base", "requests": [{"name": "relative", "url": "Patient"}]});
    let path = dir.path().join("nobase.json");
    std::fs::write(&path, c.to_string()).unwrap();
    let ran = fhircheck(&["run", path.to_str().unwrap()]);
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains("is not a URL a request can go to"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("base_url"), "{}", ran.stderr);
}

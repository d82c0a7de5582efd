//! Postman collections run unchanged; Newman's flags; `import postman`.

use std::path::{Path, PathBuf};

use crate::{fhircheck, fixture, snap, Target};
use fhircheck::sandbox::registrations as reg;

/// A Postman environment for the sandbox, in the variable names Microsoft's samples use.
fn postman_env(t: &Target, extra: &[(&str, &str)]) -> PathBuf {
    let ep = &t.sandbox.endpoints;
    let mut values = vec![
        serde_json::json!({"key": "tenantId", "value": ep.client.tenant_id, "enabled": true}),
        serde_json::json!({"key": "clientId", "value": ep.client.client_id, "enabled": true}),
        serde_json::json!({"key": "clientSecret", "value": ep.client.client_secret, "type": "secret", "enabled": true}),
        serde_json::json!({"key": "resource", "value": ep.client.resource, "enabled": true}),
        serde_json::json!({"key": "fhirurl", "value": ep.fhir_url, "enabled": true}),
        serde_json::json!({"key": "authority", "value": ep.authority_host, "enabled": true}),
        serde_json::json!({"key": "bearerToken", "value": "", "enabled": true}),
        serde_json::json!({"key": "unused", "value": "x", "enabled": false}),
    ];
    for (k, v) in extra {
        values.push(serde_json::json!({"key": k, "value": v, "enabled": true}));
    }
    let path = t.dir.path().join("sandbox.postman_environment.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&serde_json::json!({"name": "sandbox", "values": values}))
            .unwrap(),
    )
    .unwrap();
    path
}

fn legacy() -> PathBuf {
    fixture("postman/azure-sample-legacy.postman_collection.json")
}

fn run_legacy(t: &Target, extra: &[&str]) -> crate::Ran {
    let env = postman_env(t, &[]);
    let mut args = vec![
        "run",
        legacy().to_str().unwrap().to_string().leak() as &str,
        "-e",
        env.to_str().unwrap().to_string().leak(),
        "--authority-host",
        t.sandbox.endpoints.authority_host.clone().leak(),
    ];
    args.extend_from_slice(extra);
    fhircheck(&args)
}

#[test]
fn published_sample_style_runs_green_unchanged() {
    let t = Target::start("healthy");
    let ran = run_legacy(&t, &[]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    snap!("postman_legacy_healthy", ran.snapshot());
}

#[test]
fn broken_registrations_get_the_native_diagnosis() {
    let t = Target::start("wrong-secret");
    let ran = run_legacy(&t, &["-q"]);
    assert_eq!(ran.code, 3, "{}", ran.stdout);
    assert!(
        ran.stdout
            .contains("cause        the client secret is wrong"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("not its Secret ID"));
    let t = Target::start("no-role");
    let ran = run_legacy(&t, &["-q"]);
    assert_eq!(ran.code, 1);
    assert!(
        ran.stdout
            .contains("az role assignment create --assignee-object-id"),
        "{}",
        ran.stdout
    );
    let t = Target::start("audience-trailing-slash");
    let ran = run_legacy(&t, &["-q"]);
    assert_eq!(ran.code, 1);
    assert!(
        ran.stdout.contains("only by a trailing slash"),
        "{}",
        ran.stdout
    );
}

#[test]
fn pm_scripts_oauth2_folders_and_iteration_data() {
    let t = Target::start("healthy");
    let env = postman_env(&t, &[]);
    let ran = fhircheck(&[
        "run",
        fixture("postman/pm-scripts.postman_collection.json")
            .to_str()
            .unwrap(),
        "-e",
        env.to_str().unwrap(),
        "-d",
        fixture("postman/families.csv").to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert_eq!(
        ran.stdout.matches("token `oauth2`").count(),
        1,
        "one token for the run"
    );
    snap!("postman_pm_scripts", ran.snapshot());
}

#[test]
fn set_next_request_folder_and_iteration_count() {
    let t = Target::start("healthy");
    let env = postman_env(&t, &[("skipSearch", "true")]);
    let pm = fixture("postman/pm-scripts.postman_collection.json");
    let ran = fhircheck(&[
        "run",
        pm.to_str().unwrap(),
        "-e",
        env.to_str().unwrap(),
        "-q",
        "-r",
        "json",
        "--reporter-json-export",
        t.dir.path().join("r.json").to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.dir.path().join("r.json")).unwrap())
            .unwrap();
    let names: Vec<&str> = report["collections"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["type"] == "request")
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Metadata", "Create", "Read", "Delete"],
        "setNextRequest skipped Search"
    );

    let env = postman_env(&t, &[]);
    let ran = fhircheck(&[
        "run",
        pm.to_str().unwrap(),
        "-e",
        env.to_str().unwrap(),
        "--folder",
        "Public",
        "-n",
        "3",
    ]);
    assert_eq!(ran.code, 0);
    assert_eq!(
        ran.stdout.matches("PASS  iteration").count(),
        3,
        "{}",
        ran.stdout
    );
    assert!(!ran.stdout.contains("Patients"));
}

#[test]
fn v20_collections_and_env_var_overrides() {
    let t = Target::start("healthy");
    let env = postman_env(&t, &[]);
    let ran = fhircheck(&[
        "run",
        fixture("postman/v20-basic.postman_collection.json")
            .to_str()
            .unwrap(),
        "-e",
        env.to_str().unwrap(),
        "--env-var",
        "fhirurl=http://127.0.0.1:1/fhir",
        "-q",
    ]);
    // --env-var overrides the environment file: the token is now asked for an unknown resource.
    assert_eq!(ran.code, 3, "{}", ran.stdout);
    assert!(ran.stdout.contains("AADSTS500011"), "{}", ran.stdout);
    let ran = fhircheck(&[
        "run",
        fixture("postman/v20-basic.postman_collection.json")
            .to_str()
            .unwrap(),
        "-e",
        env.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stdout);
}

#[test]
fn script_errors_loops_and_failed_tests() {
    let t = Target::start("healthy");
    let env = postman_env(&t, &[]);
    let ran = fhircheck(&[
        "run",
        fixture("postman/broken-scripts.postman_collection.json")
            .to_str()
            .unwrap(),
        "-e",
        env.to_str().unwrap(),
        "--timeout-script",
        "300",
    ]);
    assert_eq!(
        ran.code, 4,
        "script errors are errors of their request: {}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains("test script of \"Throws on line 3\", line 3: "),
        "{}",
        ran.stdout
    );
    // A pm.sendRequest that fails hands its error to the callback; the item's request passes.
    assert!(
        ran.stdout.contains("PASS  pm.sendRequest to a closed port"),
        "{}",
        ran.stdout
    );
    assert!(ran
        .stdout
        .contains("ran longer than 300 ms and was stopped"));
    assert!(ran
        .stdout
        .contains("expected response to have status code 418 but got 200"));
    snap!("postman_broken_scripts", ran.snapshot());
}

#[test]
fn every_pm_test_is_a_junit_testcase() {
    let t = Target::start("healthy");
    let env = postman_env(&t, &[]);
    let junit = t.dir.path().join("junit.xml");
    let ran = fhircheck(&[
        "run",
        fixture("postman/broken-scripts.postman_collection.json")
            .to_str()
            .unwrap(),
        "-e",
        env.to_str().unwrap(),
        "--timeout-script",
        "300",
        "--reporter-junit-export",
        junit.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(ran.code, 4);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(r#"<testcase name="status is 418""#), "{xml}");
    assert!(xml.contains(r#"<testcase name="passes""#));
    assert!(xml.contains("expected response to have status code 418 but got 200"));
    snap!("postman_junit", xml);
}

#[test]
fn export_environment_masks_secrets() {
    let t = Target::start("healthy");
    let out = t.dir.path().join("exported.json");
    let ran = run_legacy(&t, &["-q", "--export-environment", out.to_str().unwrap()]);
    assert_eq!(ran.code, 0);
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let get = |k: &str| {
        env["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["key"] == k)
            .cloned()
            .unwrap()
    };
    assert_eq!(get("bearerToken")["value"], "***");
    assert_eq!(get("clientSecret")["value"], "***");
    assert_eq!(get("fhirurl")["value"], t.fhir_url());
    assert!(get("patientId")["value"].as_str().unwrap().len() == 36);
}

#[test]
fn export_environment_to_stdout() {
    let t = Target::start("healthy");
    let ran = run_legacy(&t, &["-q", "--export-environment", "-"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let env: serde_json::Value =
        serde_json::from_str(&ran.stdout).expect("stdout is the environment alone");
    assert!(env["values"].as_array().is_some_and(|v| !v.is_empty()));
    assert!(ran.stderr.contains("PASSED"), "{}", ran.stderr);
}

#[test]
fn postman_runs_leak_nothing() {
    let t = Target::start("healthy");
    let dir = tempfile::tempdir().unwrap();
    let env = postman_env(&t, &[]);
    let ran = fhircheck(&[
        "run",
        legacy().to_str().unwrap(),
        "-e",
        env.to_str().unwrap(),
        "--authority-host",
        &t.sandbox.endpoints.authority_host,
        "-v",
        "-r",
        "cli,json,junit,html",
        "--report-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 0);
    let jwt = regex::Regex::new(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
        .unwrap();
    let mut all = vec![ran.stdout, ran.stderr];
    for e in std::fs::read_dir(dir.path()).unwrap() {
        all.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    for text in all {
        assert!(
            !text.contains(reg::SECRET_VALUE) && !jwt.is_match(&text),
            "{text}"
        );
    }
}

fn import(t: &Target, from: &Path) -> PathBuf {
    let env = postman_env(t, &[]);
    let out = t.dir.path().join("imported.json");
    let ran = fhircheck(&[
        "import",
        "postman",
        from.to_str().unwrap(),
        "-e",
        env.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    out
}

#[test]
fn import_validates_and_runs_with_the_same_outcome() {
    for (scenario, exit) in [("healthy", 0), ("no-role", 1), ("wrong-secret", 3)] {
        let t = Target::start(scenario);
        let out = import(&t, &legacy());
        let postman = run_legacy(&t, &["-q"]);
        let env = postman_env(&t, &[]);
        let native = fhircheck(&[
            "run",
            out.to_str().unwrap(),
            "-e",
            env.to_str().unwrap(),
            "--var",
            &format!("authority_host={}", t.sandbox.endpoints.authority_host),
            "-q",
        ]);
        assert_eq!(
            (postman.code, native.code),
            (exit, exit),
            "{scenario}: {}\n{}",
            postman.stdout,
            native.stdout
        );
    }
    let t = Target::start("healthy");
    let out = import(&t, &legacy());
    // Against the published schema, with a real validator.
    let script = "import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1]))); print('valid')";
    let v = std::process::Command::new("python3")
        .args([
            "-c",
            script,
            crate::root()
                .join("collections/collection.schema.json")
                .to_str()
                .unwrap(),
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let port = regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    snap!(
        "import_legacy",
        port.replace_all(&text, "127.0.0.1:[PORT]").into_owned()
    );
    let ran = fhircheck(&["import", "postman", legacy().to_str().unwrap()]);
    snap!("import_legacy_notes", ran.stderr);
}

fn pm_scripts() -> String {
    fixture("postman/pm-scripts.postman_collection.json")
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn postman_runs_ride_out_throttling_with_retry() {
    let t = Target::start("throttled");
    let without = run_legacy(&t, &["-q"]);
    assert_eq!(
        without.code, 1,
        "without --retry the 429s fail the status tests: {}",
        without.stdout
    );
    let ran = run_legacy(&t, &["--retry", "2"]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("after 429/503"),
        "the report says requests were retried: {}",
        ran.stdout
    );
}

#[test]
fn postman_oauth2_token_comes_from_the_token_cache_on_the_second_run() {
    let t = Target::start("healthy");
    let env = postman_env(&t, &[]);
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            pm_scripts().leak() as &str,
            "-e",
            env.to_str().unwrap(),
        ];
        args.extend(["-q", "-v"]);
        args.extend_from_slice(extra);
        crate::fhircheck_env(&args, &[("FHIRCHECK_CACHE_DIR", dir)])
    };
    let token_requests = |r: &crate::Ran| {
        r.stderr
            .lines()
            .filter(|l| l.starts_with("> POST ") && l.contains("/oauth2/v2.0/token"))
            .count()
    };
    let first = run(&["--token-cache"]);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert_eq!(token_requests(&first), 1, "one token for the whole run");
    let second = run(&["--token-cache"]);
    assert_eq!(second.code, 0, "{}{}", second.stdout, second.stderr);
    assert_eq!(
        token_requests(&second),
        0,
        "the second run sends no token request:\n{}",
        second.stderr
    );
    let without = run(&[]);
    assert_eq!(
        token_requests(&without),
        1,
        "no cache without --token-cache"
    );
    for r in [&first, &second, &without] {
        assert!(!r.stderr.contains(reg::SECRET_VALUE) && !r.stdout.contains(reg::SECRET_VALUE));
    }
}

/// A collection whose auth needs a person to sign in sends nothing and never passes: exit 3,
/// naming the grant and what to do instead. A run that sent nothing at all never exits 0.
#[test]
fn an_interactive_grant_or_nothing_sent_never_passes() {
    let t = Target::start("healthy");
    let dir = tempfile::tempdir().unwrap();
    let coll = dir.path().join("code.postman_collection.json");
    std::fs::write(
        &coll,
        serde_json::json!({
            "info": {"name": "Signs in", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
            "auth": {"type": "oauth2", "oauth2": [
                {"key": "grant_type", "value": "authorization_code"},
                {"key": "authUrl", "value": "https://login.example/authorize"}
            ]},
            "item": [
                {"name": "Search", "request": {"method": "GET", "url": format!("{}/Patient", t.fhir_url())}},
                {"name": "Read", "request": {"method": "GET", "url": format!("{}/Patient/x", t.fhir_url())}}
            ]
        })
        .to_string(),
    )
    .unwrap();
    let ran = fhircheck(&["run", coll.to_str().unwrap(), "-q"]);
    assert_eq!(ran.code, 3, "{}", ran.stdout);
    assert!(
        ran.stdout
            .contains("`authorization_code` grant, which needs a person to sign in"),
        "{}",
        ran.stdout
    );
    assert_eq!(
        ran.stdout
            .matches("token `oauth2` could not be obtained")
            .count(),
        1,
        "one token failure: {}",
        ran.stdout
    );
    // Every request skipped by a condition: nothing was sent, and that is a failure.
    let native = dir.path().join("skipped.json");
    std::fs::write(
        &native,
        serde_json::json!({
            "name": "All off",
            "base_url": t.fhir_url(),
            "requests": [{"name": "Metadata", "url": "metadata", "auth": "none", "when": "false"}]
        })
        .to_string(),
    )
    .unwrap();
    let ran = fhircheck(&["run", native.to_str().unwrap()]);
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    assert!(
        ran.stdout.contains("FAILED: no request was sent"),
        "{}",
        ran.stdout
    );
}

/// Newman's flags that scripts and pipelines pass: form-data as multipart with a file,
/// --working-dir, --global-var with --export-globals, --ignore-redirects, -x, --color on/off,
/// --bail folder, --timeout 0.
#[test]
fn newman_flags_and_multipart_bodies() {
    use crate::common::{http, TestServer};
    let server = TestServer::answering(|seen, _| {
        if seen.line.contains("/moved") {
            http("302 Found", &[("Location", "/elsewhere")], "")
        } else {
            http("200 OK", &[("Content-Type", "application/json")], "{}")
        }
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("note.txt"), "file contents 42").unwrap();
    let coll = dir.path().join("flags.postman_collection.json");
    let url = server.url();
    std::fs::write(
        &coll,
        serde_json::json!({
            "info": {"name": "Flags", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
            "item": [
                {"name": "Upload", "request": {"method": "POST", "url": format!("{url}/upload"),
                    "body": {"mode": "formdata", "formdata": [
                        {"key": "kind", "value": "{{kind}}", "type": "text"},
                        {"key": "file", "type": "file", "src": "note.txt"}
                    ]}},
                 "event": [{"listen": "test", "script": {"exec": [
                    "pm.globals.set('seen', pm.globals.get('kind') + '-done');",
                    "pm.test('ok', function () { pm.response.to.have.status(200); });"]}}]},
                {"name": "Moved", "request": {"method": "GET", "url": format!("{url}/moved")},
                 "event": [{"listen": "test", "script": {"exec": ["pm.test('the 302 itself', function () { pm.response.to.have.status(302); });"]}}]}
            ]
        })
        .to_string(),
    )
    .unwrap();
    let globals = dir.path().join("globals.json");
    let c = coll.to_str().unwrap();
    let ran = fhircheck(&[
        "run",
        c,
        "--working-dir",
        dir.path().to_str().unwrap(),
        "--global-var",
        "kind=report",
        "--export-globals",
        globals.to_str().unwrap(),
        "--ignore-redirects",
        "--color",
        "off",
        "--bail",
        "folder",
        "--timeout",
        "0",
    ]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let seen = server.seen();
    let upload = seen.iter().find(|s| s.line.contains("/upload")).unwrap();
    let ct = upload
        .headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
    assert!(
        upload.body.contains("name=\"kind\"\r\n\r\nreport\r\n"),
        "{}",
        upload.body
    );
    assert!(
        upload.body.contains("filename=\"note.txt\""),
        "{}",
        upload.body
    );
    assert!(upload.body.contains("file contents 42"), "{}", upload.body);
    assert!(
        !seen.iter().any(|s| s.line.contains("/elsewhere")),
        "the redirect was not followed"
    );
    let g: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&globals).unwrap()).unwrap();
    assert_eq!(g["_postman_variable_scope"], "globals");
    assert!(
        g["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["key"] == "seen" && v["value"] == "report-done"),
        "{g}"
    );
    // A missing file is the request's error; -x still exits 0.
    std::fs::remove_file(dir.path().join("note.txt")).unwrap();
    let ran = fhircheck(&[
        "run",
        c,
        "--working-dir",
        dir.path().to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(ran.code, 4, "{}", ran.stdout);
    assert!(
        ran.stdout.contains("form-data file `file`: cannot read"),
        "{}",
        ran.stdout
    );
    let ran = fhircheck(&[
        "run",
        c,
        "--working-dir",
        dir.path().to_str().unwrap(),
        "-q",
        "-x",
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stdout);
}

/// A script's JSON.parse on a gateway's HTML error page gets the cause, not only the
/// parser's complaint; an auth type fhircheck can not send stops the run before anything goes.
#[test]
fn html_answers_and_unsupported_auth() {
    use crate::common::{http, TestServer};
    let server = TestServer::answering(|_, _| {
        http(
            "502 Bad Gateway",
            &[("Content-Type", "text/html")],
            "<html><body>502 Bad Gateway</body></html>",
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let coll = dir.path().join("gw.postman_collection.json");
    let item = |name: &str, auth: serde_json::Value| {
        serde_json::json!({"name": name, "request": {"method": "GET", "url": format!("{}/fhir/Patient", server.url()), "auth": auth},
            "event": [{"listen": "test", "script": {"exec": ["var data = JSON.parse(responseBody);"]}}]})
    };
    let write = |items: Vec<serde_json::Value>| {
        std::fs::write(&coll, serde_json::json!({"info": {"name": "Gateway", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"}, "item": items}).to_string()).unwrap();
    };
    write(vec![item("Search", serde_json::json!({"type": "noauth"}))]);
    let ran = fhircheck(&["run", coll.to_str().unwrap(), "-q"]);
    assert_eq!(ran.code, 4, "{}", ran.stdout);
    assert!(
        ran.stdout
            .contains("the answer was an HTML page (HTTP 502), not JSON"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains("a proxy or gateway in front of the FHIR service"),
        "{}",
        ran.stdout
    );
    write(vec![
        item(
            "Signed",
            serde_json::json!({"type": "oauth1", "oauth1": [{"key": "signatureMethod", "value": "RSA-SHA256"}]}),
        ),
        item(
            "Windows",
            serde_json::json!({"type": "ntlm", "ntlm": [{"key": "username", "value": "u"}]}),
        ),
        item(
            "Digest",
            serde_json::json!({"type": "digest", "digest": [{"key": "username", "value": "u"}]}),
        ),
    ]);
    let before = server.seen().len();
    let ran = fhircheck(&["run", coll.to_str().unwrap()]);
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr
            .contains("Signed: oauth1 with the RSA-SHA256 signature method")
            && ran.stderr.contains("Windows: ntlm")
            && !ran.stderr.contains("Digest:")
            && ran.stderr.contains("2 request(s)"),
        "{}",
        ran.stderr
    );
    assert_eq!(server.seen().len(), before, "nothing was sent");
}

/// pm.sendRequest goes through the run's client: traced with -v, its secrets masked.
#[test]
fn send_request_is_traced_and_masked() {
    let t = Target::start("healthy");
    let env = postman_env(&t, &[]);
    let coll = fixture("postman/send-request-token.postman_collection.json");
    let ran = fhircheck(&[
        "run",
        coll.to_str().unwrap(),
        "-e",
        env.to_str().unwrap(),
        "-v",
    ]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains("/oauth2/token"),
        "the token request is traced: {}",
        ran.stderr
    );
    let all = format!("{}{}", ran.stdout, ran.stderr);
    assert!(!all.contains(reg::SECRET_VALUE), "the client secret leaked");
    assert!(!all.contains("eyJ"), "a token leaked: {all}");
}

/// Digest, AWS Signature Version 4, OAuth 1.0, Hawk and JWT Bearer requests are signed and let
/// in by the sandbox's `/auth` endpoints; the passwords, keys, session token, OAuth token, JWTs
/// and the signatures appear as `***` in the trace, the JSON report and JUnit.
#[test]
fn signed_auths_pass_and_their_secrets_stay_masked() {
    let t = Target::start("healthy");
    let env = postman_env(&t, &[]);
    let coll = fixture("postman/signed-auth.postman_collection.json");
    let (json, junit) = (t.dir.path().join("r.json"), t.dir.path().join("r.xml"));
    let ran = fhircheck(&[
        "run",
        coll.to_str().unwrap(),
        "-e",
        env.to_str().unwrap(),
        "-v",
        "-r",
        "cli,json,junit",
        "--reporter-json-export",
        json.to_str().unwrap(),
        "--reporter-junit-export",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("PASSED: 20 requests, 40 assertions"),
        "{}",
        ran.stdout
    );
    // The Digest request went twice: once to get the challenge, once answering it.
    assert!(ran.stderr.contains("< 401"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("www-authenticate: Digest realm"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("> authorization: ***"),
        "{}",
        ran.stderr
    );
    let everything = format!(
        "{}{}{}{}",
        ran.stdout,
        ran.stderr,
        std::fs::read_to_string(&json).unwrap(),
        std::fs::read_to_string(&junit).unwrap()
    );
    for secret in [
        "digest-sandbox-password",
        "sandbox/aws/secret/key/EXAMPLE",
        "sandbox-session-token",
        "consumer-sandbox-secret",
        "token-sandbox-secret",
        "fhircheck-token",
        "hawk-sandbox-key",
        "jwt-sandbox-secret-of-32-bytes!!",
        "and0LXNhbmRib3gtc2VjcmV0LW9mLTMyLWJ5dGVzISE=",
        "eyJhbGciOiJIUzUxMiJ9",
    ] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
    // No signature either: the AWS one (hex) and the OAuth ones (base64) are masked.
    let sig = regex::Regex::new(r"Signature=[0-9a-f]{64}|oauth_signature=[A-Za-z0-9%]{8}").unwrap();
    assert!(!sig.is_match(&everything), "a signature leaked");
}

/// `--export-collection` writes the collection as it was read, secret variables as `***`;
/// `--export-secrets` writes them in clear, in the environment too. Two exports to standard
/// output are refused before anything is sent.
#[test]
fn exported_collection_masks_secrets_unless_asked() {
    let t = Target::start("healthy");
    let env = postman_env(&t, &[]);
    let coll = fixture("postman/signed-auth.postman_collection.json");
    let (c_out, e_out) = (t.dir.path().join("c.json"), t.dir.path().join("e.json"));
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            coll.to_str().unwrap(),
            "-e",
            env.to_str().unwrap(),
            "-q",
            "--export-collection",
            c_out.to_str().unwrap(),
            "--export-environment",
            e_out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        fhircheck(&args)
    };
    let ran = run(&[]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let exported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&c_out).unwrap()).unwrap();
    let value = |doc: &serde_json::Value, list: &str, k: &str| {
        doc[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["key"] == k)
            .map(|v| v["value"].clone())
    };
    assert_eq!(exported["info"]["name"], "Signed requests");
    assert_eq!(exported["item"].as_array().unwrap().len(), 20);
    assert_eq!(
        value(&exported, "variable", "digestUser").unwrap(),
        "clinician"
    );
    assert_eq!(
        value(&exported, "variable", "digestPassword").unwrap(),
        "***"
    );
    assert_eq!(value(&exported, "variable", "awsSecretKey").unwrap(), "***");
    // What scripts set is not written back, as in Newman 6.
    assert_eq!(value(&exported, "variable", "lastScheme"), None);
    let env_doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&e_out).unwrap()).unwrap();
    assert_eq!(value(&env_doc, "values", "clientSecret").unwrap(), "***");

    let ran = run(&["--export-secrets"]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let exported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&c_out).unwrap()).unwrap();
    assert_eq!(
        value(&exported, "variable", "digestPassword").unwrap(),
        "digest-sandbox-password"
    );
    let env_doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&e_out).unwrap()).unwrap();
    assert_eq!(
        value(&env_doc, "values", "clientSecret").unwrap(),
        t.sandbox.endpoints.client.client_secret.as_str()
    );

    let before = std::fs::read_to_string(&c_out).unwrap();
    let ran = fhircheck(&[
        "run",
        coll.to_str().unwrap(),
        "-e",
        env.to_str().unwrap(),
        "--export-collection",
        "-",
        "--export-environment",
        "-",
    ]);
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains("standard output more than once"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("nothing was sent"), "{}", ran.stderr);
    assert_eq!(std::fs::read_to_string(&c_out).unwrap(), before);
}

//! Inputs and places that are not what they should be: load errors that would print a secret, a
//! multi-byte character before a typo, a Postman file with a syntax error, a byte-order mark, a
//! Postman v1 file; a token cache that is wrong, unwritable or a FIFO; report paths that are
//! links or FIFOs; Ctrl-C and SIGTERM in the middle of a run.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::{fhircheck, fhircheck_env, http, smoke, Target, TestServer};
use fhircheck::sandbox::registrations as reg;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn a_load_error_on_the_line_of_a_secret_does_not_print_it() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "Zq8~hunter2-PLAIN-secret-value";
    for (name, text) in [
        ("syntax.env.json", format!("{{\"variables\": {{\"client_secret\": \"{secret}\" \"x\": 1}}}}")),
        ("type.env.json", format!("{{\"variables\": {{\"api\": {{\"value\": \"{secret}\", \"secret\": true, \"oops\": 1}}}}}}")),
        ("postman.env.json", format!("{{\"name\": \"e\", \"values\": [{{\"key\": \"clientSecret\", \"value\": \"{secret}\" \"enabled\": true}}]}}")),
    ] {
        let env = write(dir.path(), name, &text);
        let ran = fhircheck(&["run", smoke().to_str().unwrap(), "-e", &env]);
        assert_eq!(ran.code, 2, "{name}: {}", ran.stderr);
        assert!(ran.stderr.contains(name), "{}", ran.stderr);
        assert!(!ran.stderr.contains(secret) && !ran.stdout.contains(secret), "{name} leaks:\n{}", ran.stderr);
        assert!(ran.stderr.contains("***"), "{name}: the line is shown, masked:\n{}", ran.stderr);
    }
}

#[test]
fn multi_byte_characters_before_an_unknown_key_point_at_the_right_column() {
    let dir = tempfile::tempdir().unwrap();
    let c = write(
        dir.path(),
        "unicode.json",
        "{\"name\": \"Prüfung ✓ émoji 🙂\", \"requsts\": []}",
    );
    let ran = fhircheck(&["run", &c]);
    assert_eq!(ran.code, 2, "no panic: {}", ran.stderr);
    assert!(ran.stderr.contains("unicode.json:1:"), "{}", ran.stderr);
    let lines: Vec<&str> = ran.stderr.lines().collect();
    let src = lines.iter().position(|l| l.starts_with("1 | ")).unwrap();
    let caret = lines[src + 1].find('^').unwrap();
    let key = lines[src].find("\"requsts\"").unwrap();
    assert_eq!(
        lines[src + 1][..caret].chars().count(),
        lines[src][..key].chars().count(),
        "the caret is under the key:\n{}",
        ran.stderr
    );
}

#[test]
fn syntax_errors_boms_and_postman_v1_are_named_for_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let pm = write(
        dir.path(),
        "broken.postman_collection.json",
        "{\"info\": {\"name\": \"x\", \"schema\": \"https://schema.getpostman.com/json/collection/v2.1.0/collection.json\"},\n \"item\": [\n  {\"name\": \"a\" \"request\": \"http://x\"}\n ]\n}",
    );
    let ran = fhircheck(&["run", &pm]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("broken.postman_collection.json:3:"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("unknown field"), "{}", ran.stderr);
    assert!(ran.stderr.contains("missing comma"), "{}", ran.stderr);

    let bom = write(
        dir.path(),
        "bom.json",
        "\u{feff}{\"name\": \"bom\", \"base_url\": \"http://127.0.0.1:9\", \"requests\": [{\"name\": \"r\", \"url\": \"x\"}]}",
    );
    let ran = fhircheck(&["run", &bom]);
    assert_eq!(
        ran.code, 4,
        "a byte-order mark is fine, the request is sent: {}{}",
        ran.stdout, ran.stderr
    );
    let env = write(
        dir.path(),
        "bom.env.json",
        "\u{feff}{\"variables\": {\"a\": \"b\"}}",
    );
    let ran = fhircheck(&["run", &bom, "-e", &env]);
    assert_eq!(ran.code, 4, "{}", ran.stderr);

    let v1 = write(
        dir.path(),
        "v1.json",
        r#"{"id": "1", "name": "old", "order": ["r1"], "folders": [], "requests": [{"id": "r1", "url": "http://x", "method": "GET"}]}"#,
    );
    let ran = fhircheck(&["run", &v1]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("Postman Collection v1"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("Collection v2.1"), "{}", ran.stderr);
}

#[test]
fn the_token_cache_never_serves_another_secret_and_says_when_it_can_not_be_used() {
    let t = Target::start("healthy");
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_str().unwrap();
    let env = t.env_file.to_str().unwrap();
    let smoke_path = smoke();
    let run = |extra: &[&str], cache_dir: &str| {
        let mut args = vec![
            "run",
            smoke_path.to_str().unwrap(),
            "-e",
            env,
            "--token-cache",
            "-q",
        ];
        args.extend_from_slice(extra);
        fhircheck_env(&args, &[("FHIRCHECK_CACHE_DIR", cache_dir)])
    };
    assert_eq!(run(&[], dir).code, 0);
    let wrong = run(&["--var", "client_secret=not-the-right-secret"], dir);
    assert_eq!(
        wrong.code, 3,
        "a wrong secret fails, warm cache or not: {}",
        wrong.stdout
    );

    let unwritable = cache.path().join("file-not-dir");
    std::fs::write(&unwritable, "").unwrap();
    let ran = run(&[], unwritable.join("sub").to_str().unwrap());
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    let ran = fhircheck_env(
        &["run", smoke().to_str().unwrap(), "-e", env, "--token-cache"],
        &[(
            "FHIRCHECK_CACHE_DIR",
            unwritable.join("sub").to_str().unwrap(),
        )],
    );
    assert!(
        ran.stdout.contains("warning: the token cache"),
        "{}",
        ran.stdout
    );

    #[cfg(unix)]
    {
        let fifo_dir = tempfile::tempdir().unwrap();
        let fifo = fifo_dir.path().join("tokens.json");
        assert!(Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let ran = fhircheck_env(
            &["run", smoke().to_str().unwrap(), "-e", env, "--token-cache"],
            &[("FHIRCHECK_CACHE_DIR", fifo_dir.path().to_str().unwrap())],
        );
        assert_eq!(ran.code, 0, "no hang on a FIFO: {}", ran.stdout);
        assert!(ran.stdout.contains("not a regular file"), "{}", ran.stdout);
    }
}

#[cfg(unix)]
#[test]
fn report_paths_that_are_links_or_fifos_are_written_through() {
    let t = Target::start("healthy");
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real-report.json");
    std::fs::write(&target, "").unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let env = t.env_file.to_str().unwrap();
    let ran = fhircheck(&[
        "run",
        smoke().to_str().unwrap(),
        "-e",
        env,
        "-q",
        "--reporter-json-export",
        link.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is still a link"
    );
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .contains("schema_version"));

    let fifo = dir.path().join("report.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let ran = fhircheck(&[
        "run",
        smoke().to_str().unwrap(),
        "-e",
        env,
        "-q",
        "--reporter-junit-export",
        fifo.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(reader.join().unwrap().contains("<testsuites"));
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo_like());
}

#[cfg(unix)]
trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}

#[cfg(unix)]
impl FifoLike for std::fs::FileType {
    fn is_fifo_like(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        self.is_fifo()
    }
}

/// A server whose first data request takes long enough to send a signal meanwhile; it reports
/// each request line on a channel.
fn slow_first(tx: std::sync::mpsc::Sender<String>) -> TestServer {
    let tx = std::sync::Mutex::new(tx);
    TestServer::answering(move |seen, _| {
        let _ = tx.lock().unwrap().send(seen.line.trim().to_string());
        if seen.line.contains("/slow") {
            std::thread::sleep(std::time::Duration::from_millis(1500));
        }
        http(
            "200 OK",
            &[("Content-Type", "application/fhir+json")],
            "{\"resourceType\":\"Patient\",\"id\":\"p1\"}",
        )
    })
}

#[cfg(unix)]
#[test]
fn a_signal_stops_new_requests_but_runs_the_cleanup_and_writes_the_reports() {
    for (signal, code, name) in [("-INT", 130, "SIGINT"), ("-TERM", 143, "SIGTERM")] {
        let (tx, rx) = std::sync::mpsc::channel();
        let server = slow_first(tx);
        let port = server.port;
        let dir = tempfile::tempdir().unwrap();
        let c = serde_json::json!({"name": "interrupted", "base_url": format!("http://127.0.0.1:{port}"),
        "requests": [
            {"name": "create", "method": "POST", "url": "slow", "body": {"json": {"resourceType": "Patient"}}},
            {"name": "read", "url": "read"},
            {"name": "delete", "method": "DELETE", "url": "cleanup", "cleanup": true}
        ]});
        let path = write(dir.path(), "c.json", &c.to_string());
        let report = dir.path().join("r.json");
        let child = Command::new(assert_cmd::cargo::cargo_bin("fhircheck"))
            .args([
                "run",
                &path,
                "--reporter-json-export",
                report.to_str().unwrap(),
            ])
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let first = rx.recv_timeout(std::time::Duration::from_secs(20)).unwrap();
        assert!(first.contains("/slow"), "{first}");
        assert!(Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap()
            .success());
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(code), "{name}: {stdout}");
        let sent: Vec<String> = rx.try_iter().collect();
        assert!(
            sent.iter().any(|l| l.starts_with("DELETE /cleanup")),
            "{name}: the cleanup ran: {sent:?}"
        );
        assert!(
            !sent.iter().any(|l| l.contains("/read")),
            "{name}: nothing new was sent: {sent:?}"
        );
        assert!(stdout.contains("INTERRUPTED"), "{stdout}");
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        assert_eq!(r["interrupted"], name);
        assert_eq!(r["exit_code"], code);
    }
}

#[test]
fn the_sandbox_secret_stays_masked_in_a_syntax_error_of_the_collection() {
    // The sandbox's secret written into a collection next to a syntax error.
    let dir = tempfile::tempdir().unwrap();
    let c = write(
        dir.path(),
        "c.json",
        &format!("{{\"name\": \"x\", \"auth\": {{\"o\": {{\"type\": \"oauth2\", \"client_secret\": \"{}\" \"token_url\": \"x\"}}}}}}", reg::SECRET_VALUE),
    );
    let ran = fhircheck(&["run", &c]);
    assert_eq!(ran.code, 2);
    assert!(!ran.stderr.contains(reg::SECRET_VALUE), "{}", ran.stderr);
}

#[test]
fn a_client_secret_too_short_to_mask_is_refused_where_it_is_read() {
    let t = Target::start("healthy");
    let ran = fhircheck(&[
        "run",
        smoke().to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
        "--var",
        "client_secret=abc",
    ]);
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stderr.contains("too short"), "{}", ran.stderr);
}

#[test]
fn iteration_data_with_a_byte_order_mark_keeps_its_first_column() {
    let t = Target::start("healthy");
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "rows.csv", "\u{feff}family,given\nSmith,Ann\n");
    let c = serde_json::json!({
        "info": {"name": "bom", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "item": [{"name": "first column", "event": [{"listen": "test", "script": {"exec": [
            "pm.test('family is read', function () { pm.expect(pm.iterationData.get('family')).to.eql('Smith'); });"
        ]}}], "request": {"method": "GET", "url": format!("{}/metadata", t.fhir_url())}}]
    });
    let path = write(dir.path(), "bom.postman_collection.json", &c.to_string());
    let ran = fhircheck(&["run", &path, "-d", &csv]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
}

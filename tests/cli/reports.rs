//! Every reporter on a passing and a failing sandbox run; real consumers read the files.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{fhircheck_env, fixture, smoke, snap, Target};
use fhircheck::sandbox::registrations as reg;

struct Reports {
    dir: tempfile::TempDir,
    ran: crate::Ran,
}

impl Reports {
    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

/// Runs `collection` with every reporter, GitHub mode and --verbose.
fn run_all(t: &Target, collection: &Path, extra_env: &[(&str, &str)]) -> Reports {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("step-summary.md");
    let mut env = vec![
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
    ];
    env.extend_from_slice(extra_env);
    let ran = fhircheck_env(
        &[
            "run",
            collection.to_str().unwrap(),
            "-e",
            t.env_file.to_str().unwrap(),
            "-r",
            "cli,json,junit,html",
            "--report-dir",
            dir.path().to_str().unwrap(),
            "--verbose",
        ],
        &env,
    );
    Reports { dir, ran }
}

#[test]
fn passing_run_reports() {
    let t = Target::start("healthy");
    let r = run_all(&t, &smoke(), &[]);
    assert_eq!(r.ran.code, 0, "{}{}", r.ran.stdout, r.ran.stderr);
    snap!("report_pass_json", r.read("fhircheck-report.json"));
    snap!("report_pass_junit", r.read("fhircheck-junit.xml"));
    snap!("report_pass_github_summary", r.read("step-summary.md"));
    assert!(
        !r.ran.stdout.contains("::error"),
        "no annotations on a passing run"
    );
}

#[test]
fn failing_run_reports() {
    let t = Target::start("no-role");
    let r = run_all(&t, &smoke(), &[]);
    assert_eq!(r.ran.code, 1);
    snap!("report_fail_json", r.read("fhircheck-report.json"));
    snap!("report_fail_junit", r.read("fhircheck-junit.xml"));
    snap!("report_fail_github_summary", r.read("step-summary.md"));
    let annotations: String = r
        .ran
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error"))
        .map(|l| format!("{l}\n"))
        .collect();
    snap!("report_fail_github_annotations", annotations);
    snap!("report_fail_html", r.read("fhircheck-report.html"));
    snap!("report_fail_trace", r.ran.stderr);
}

#[test]
fn token_failure_is_an_error_not_a_failure() {
    let t = Target::start("wrong-secret");
    let r = run_all(&t, &smoke(), &[]);
    assert_eq!(r.ran.code, 3);
    let counts = junit_counts(&r.file("fhircheck-junit.xml"));
    assert_eq!(counts, "tests=8 failures=0 errors=1 skipped=6", "{counts}");
    snap!("report_token_error_junit", r.read("fhircheck-junit.xml"));
}

/// Reads a JUnit file with junitparser, a real consumer, and returns its counts.
fn junit_counts(path: &Path) -> String {
    let script = r#"
import sys
from junitparser import JUnitXml, Failure, Error, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
tests = failures = errors = skipped = 0
for suite in xml:
    for case in suite:
        tests += 1
        for r in case.result:
            if isinstance(r, Failure): failures += 1
            elif isinstance(r, Error): errors += 1
            elif isinstance(r, Skipped): skipped += 1
print(f"tests={tests} failures={failures} errors={errors} skipped={skipped}")
"#;
    let out = Command::new("python3")
        .args(["-c", script, path.to_str().unwrap()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "junitparser failed (install it: python3 -m pip install junitparser; .ci/run does): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn junit_parses_with_a_real_consumer_and_counts_right() {
    let t = Target::start("read-only");
    let r = run_all(&t, &smoke(), &[]);
    assert_eq!(r.ran.code, 1);
    // token + metadata + search + create (403) + 4 skipped after the failed create
    assert_eq!(
        junit_counts(&r.file("fhircheck-junit.xml")),
        "tests=8 failures=1 errors=0 skipped=4"
    );
}

#[test]
fn json_report_matches_its_published_schema() {
    let schema = crate::fhircheck(&["schema", "report"]);
    assert_eq!(schema.code, 0);
    let shipped =
        std::fs::read_to_string(crate::root().join("collections/report.schema.json")).unwrap();
    assert_eq!(schema.stdout, shipped, "collections/report.schema.json is stale: cargo run -- schema report > collections/report.schema.json");
    for scenario in ["healthy", "no-role", "wrong-secret"] {
        let t = Target::start(scenario);
        let r = run_all(&t, &smoke(), &[]);
        let script = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
assert doc["schema_version"] == 1
print("valid")
"#;
        let out = Command::new("python3")
            .args([
                "-c",
                script,
                crate::root()
                    .join("collections/report.schema.json")
                    .to_str()
                    .unwrap(),
                r.file("fhircheck-report.json").to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{scenario}: the JSON report does not match its schema (python3 -m pip install jsonschema): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn html_report_renders_in_chromium() {
    let t = Target::start("no-role");
    let r = run_all(&t, &smoke(), &[]);
    let html = r.file("fhircheck-report.html");
    assert!(
        !r.read("fhircheck-report.html").contains("http://")
            || r.read("fhircheck-report.html").contains("127.0.0.1"),
        "no external assets"
    );
    for needle in ["<script", "<link", "src=\"http"] {
        assert!(
            !r.read("fhircheck-report.html").contains(needle),
            "self-contained: {needle}"
        );
    }
    let chromium = Path::new("/usr/bin/chromium");
    assert!(
        chromium.exists(),
        "headless Chromium is needed: apt-get install chromium (.ci/run does)"
    );
    let profile = tempfile::tempdir().unwrap();
    let artifacts = crate::root().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("html-report-no-role.png");
    let _ = std::fs::remove_file(&shot);
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ];
    let url = format!("file://{}", html.display());
    let dom = Command::new(chromium)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("id=\"verdict\">FAILED<"), "{dom}");
    assert!(
        dom.contains("data-request=\"Search patients\""),
        "the failing request is shown"
    );
    assert!(
        dom.contains("data-check=\"fhir.forbidden.read\""),
        "its diagnosis is shown"
    );
    assert!(dom.contains("az role assignment create --assignee-object-id"));
    // Commands and values in a fix are code, not Markdown backticks.
    assert!(
        dom.contains("<code>oid</code>") && !dom.contains("`oid`"),
        "backticks rendered as code"
    );
    // The claims of a failing run are open, and the rows say they open.
    assert!(
        dom.contains("<details class=\"token\" open=\"\">"),
        "claims open on a failure"
    );
    assert!(dom.contains("Each row opens"));
    let status = Command::new(chromium)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args([
            "--window-size=1280,1600",
            &format!("--screenshot={}", shot.display()),
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(
        std::fs::metadata(&shot)
            .map(|m| m.len() > 10_000)
            .unwrap_or(false),
        "a screenshot was taken"
    );
}

#[test]
fn a_report_that_cannot_be_written_stops_the_run_before_it_starts() {
    let t = Target::start("healthy");
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "a file where a directory should be").unwrap();
    let ran = crate::fhircheck(&[
        "run",
        smoke().to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
        "--reporter-junit-export",
        blocker.join("junit.xml").to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 2);
    assert!(ran.stdout.is_empty(), "nothing ran: {}", ran.stdout);
    assert!(
        ran.stderr.contains("cannot write the junit report to"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("nothing was sent"));
}

/// `-` sends a report to stdout, whole and alone; the terminal report goes to stderr, and the
/// run says where the other reports went.
#[test]
fn a_report_to_stdout_moves_the_terminal_report_to_stderr() {
    let t = Target::start("healthy");
    let dir = tempfile::tempdir().unwrap();
    let env = t.env_file.to_str().unwrap();
    let ran = crate::fhircheck(&[
        "run",
        "-e",
        env,
        "--reporter-json-export",
        "-",
        "-r",
        "cli,junit",
        "--report-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let report: serde_json::Value =
        serde_json::from_str(&ran.stdout).expect("stdout is the JSON report alone");
    assert_eq!(report["summary"]["passed"], 7);
    assert!(ran.stderr.contains("PASSED: 7 requests"), "{}", ran.stderr);
    assert!(ran.stderr.contains("reports written:"), "{}", ran.stderr);
    assert!(ran.stderr.contains("fhircheck-junit.xml"), "{}", ran.stderr);
    assert!(
        !ran.stderr.contains("  json "),
        "stdout is not a file to name: {}",
        ran.stderr
    );
    let ran = crate::fhircheck(&[
        "run",
        "-e",
        env,
        "-r",
        "junit",
        "--reporter-junit-export",
        "-",
    ]);
    assert_eq!(ran.code, 0);
    assert!(ran.stdout.starts_with("<?xml"), "{}", ran.stdout);
    let ran = crate::fhircheck(&[
        "run",
        "-e",
        env,
        "--reporter-json-export",
        "-",
        "--reporter-junit-export",
        "-",
    ]);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("can not both go to standard output"));
    assert!(ran.stderr.contains("nothing was sent"));
}

fn everything_written(r: &Reports) -> Vec<(String, String)> {
    let mut out = vec![
        ("stdout".to_string(), r.ran.stdout.clone()),
        ("stderr".to_string(), r.ran.stderr.clone()),
    ];
    for e in std::fs::read_dir(r.dir.path()).unwrap() {
        let p = e.unwrap().path();
        out.push((
            p.file_name().unwrap().to_string_lossy().into_owned(),
            std::fs::read_to_string(&p).unwrap(),
        ));
    }
    out
}

fn leaks(text: &str) -> bool {
    let jwt = regex::Regex::new(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
        .unwrap();
    let encoded = serde_urlencoded::to_string([("x", reg::SECRET_VALUE)]).unwrap()[2..].to_string();
    let escaped = encoded.replace('%', "%25");
    text.contains(reg::SECRET_VALUE)
        || text.contains(&encoded)
        || text.contains(&escaped)
        || jwt.is_match(text)
}

#[test]
fn no_writer_leaks_a_secret_or_a_token() {
    let t = Target::start("healthy");
    for collection in [
        smoke(),
        fixture("collections/echo-token.json"),
        fixture("collections/secret-echo.json"),
    ] {
        let r = run_all(&t, &collection, &[]);
        for (what, text) in everything_written(&r) {
            assert!(
                !leaks(&text),
                "{} leaks into {what}:\n{text}",
                collection.display()
            );
        }
    }
}

#[test]
fn each_writer_leaks_when_its_redaction_is_switched_off() {
    // Proves the test above can fail: with one writer's redaction off, the echoed secret shows
    // up in exactly that writer's output.
    let t = Target::start("healthy");
    let echo = fixture("collections/echo-token.json");
    for (writer, output) in [
        ("terminal", "stdout"),
        ("trace", "stderr"),
        ("json", "fhircheck-report.json"),
        ("junit", "fhircheck-junit.xml"),
        ("html", "fhircheck-report.html"),
        ("github", "step-summary.md"),
    ] {
        let r = run_all(&t, &echo, &[("FHIRCHECK_TEST_UNREDACTED", writer)]);
        let written = everything_written(&r);
        let leaked: Vec<&str> = written
            .iter()
            .filter(|(_, text)| leaks(text))
            .map(|(w, _)| w.as_str())
            .collect();
        assert!(
            leaked.contains(&output),
            "{writer}: expected a leak in {output}, got {leaked:?}"
        );
        if writer == "github" {
            assert!(leaked.contains(&"stdout"), "annotations go to stdout");
        }
    }
}

//! `run --jobs N` and `-e` repeated: runs at the same time, each with its own variables, tokens
//! and cleanup, shown whole and in input order; one summary row per run; combined reports; the
//! worst exit code.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::{fhircheck, http, smoke, snap, Target, TestServer};

/// A loopback server that answers `GET /slow?ms=N&who=W` after N ms with
/// `{"who": W, "header": <X-Who header>}`, counting requests in flight at once.
struct Slow {
    server: TestServer,
    most_at_once: Arc<AtomicUsize>,
}

impl Slow {
    fn start() -> Slow {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most_at_once = Arc::new(AtomicUsize::new(0));
        let (now, most) = (in_flight.clone(), most_at_once.clone());
        let server = TestServer::answering(move |seen, _| {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(n, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(seen.query("ms").parse().unwrap_or(0)));
            now.fetch_sub(1, Ordering::SeqCst);
            let body = serde_json::json!({"who": seen.query("who"), "header": seen.header("x-who").unwrap_or_default()});
            http(
                "200 OK",
                &[("Content-Type", "application/json")],
                &body.to_string(),
            )
        });
        Slow {
            server,
            most_at_once,
        }
    }

    fn port(&self) -> u16 {
        self.server.port
    }

    fn most_at_once(&self) -> usize {
        self.most_at_once.load(Ordering::SeqCst)
    }
}

/// A collection of one request to the slow server, named `name`, answered after `ms`.
fn slow_collection(dir: &std::path::Path, port: u16, name: &str, ms: u64) -> String {
    let c = serde_json::json!({
        "name": name,
        "base_url": format!("http://127.0.0.1:{port}"),
        "requests": [{"name": format!("{name} request"), "url": format!("slow?ms={ms}&who={name}"),
                      "expect": {"status": 200, "json": [{"path": "$.who", "equals": name}]}}]
    });
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, c.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn runs_go_at_the_same_time_and_show_whole_in_input_order() {
    let server = Slow::start();
    let dir = tempfile::tempdir().unwrap();
    // The first run answers last: its block must still come first, unbroken.
    let files: Vec<String> = [("first", 900), ("second", 300), ("third", 0)]
        .iter()
        .map(|(n, ms)| slow_collection(dir.path(), server.port(), n, *ms))
        .collect();
    let mut args = vec!["run", "--jobs", "3"];
    args.extend(files.iter().map(String::as_str));
    let ran = fhircheck(&args);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        server.most_at_once() >= 2,
        "the runs overlapped: at most {} at once",
        server.most_at_once()
    );
    let lines: Vec<&str> = ran.stdout.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in\n{}", ran.stdout))
    };
    for name in ["first", "second", "third"] {
        assert_eq!(
            at(&format!("{name} request")),
            at(&format!("{name}.json")) + 1,
            "the {name} run's block is whole:\n{}",
            ran.stdout
        );
    }
    assert!(at("first.json") < at("second.json") && at("second.json") < at("third.json"));
    // One summary row per run.
    for name in ["first", "second", "third"] {
        assert!(
            ran.stdout.contains(&format!("{name}.json")),
            "{}",
            ran.stdout
        );
    }

    let one = Slow::start();
    let files: Vec<String> = [("first", 300), ("second", 100), ("third", 0)]
        .iter()
        .map(|(n, ms)| slow_collection(dir.path(), one.port(), n, *ms))
        .collect();
    let mut args = vec!["run", "--jobs", "1"];
    args.extend(files.iter().map(String::as_str));
    let ran = fhircheck(&args);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert_eq!(one.most_at_once(), 1, "--jobs 1 runs one at a time");
}

/// Two environments: each run has its own variables (the `who` each one sends and expects back)
/// and its own token (one environment's secret is wrong); the exit code is the worst of them.
#[test]
fn one_run_per_environment_each_with_its_own_variables_and_tokens() {
    let t = Target::start("healthy");
    let dir = t.dir.path();
    let mut env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&t.env_file).unwrap()).unwrap();
    env["variables"]["client_secret"] =
        serde_json::json!({"value": "not-the-secret", "secret": true});
    let bad = dir.join("bad.env.json");
    std::fs::write(&bad, env.to_string()).unwrap();
    let json = dir.join("report.json");
    let junit = dir.join("junit.xml");
    let ran = fhircheck(&[
        "run",
        smoke().to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
        "-e",
        bad.to_str().unwrap(),
        "--jobs",
        "2",
        "-q",
        "--reporter-json-export",
        json.to_str().unwrap(),
        "--reporter-junit-export",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 3, "the worst run decides: {}", ran.stdout);
    assert!(ran.stdout.contains("passed"), "{}", ran.stdout);
    assert!(ran.stdout.contains("no token"), "{}", ran.stdout);
    assert!(!ran.stdout.contains("not-the-secret"));
    snap!("jobs_two_environments", ran.snapshot());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["collections"].as_array().unwrap().len(), 2);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testsuite ").count(), 2, "{xml}");

    let server = Slow::start();
    let c = serde_json::json!({
        "name": "who",
        "base_url": format!("http://127.0.0.1:{}", server.port()),
        "requests": [
            {"name": "send", "url": "slow?ms=200&who={{who}}", "headers": {"X-Who": "{{who}}"},
             "capture": {"seen": {"json": "$.header"}},
             "expect": {"json": [{"path": "$.who", "equals": "{{who}}"}]}},
            {"name": "again", "url": "slow?who={{seen}}",
             "expect": {"json": [{"path": "$.who", "equals": "{{who}}"}]}}
        ]
    });
    let collection = dir.join("who.json");
    std::fs::write(&collection, c.to_string()).unwrap();
    let mut args = vec!["run", collection.to_str().unwrap(), "--jobs", "4"];
    let mut envs = Vec::new();
    for who in ["ana", "bo", "cy", "di"] {
        let p = dir.join(format!("{who}.env.json"));
        std::fs::write(
            &p,
            serde_json::json!({"variables": {"who": who}}).to_string(),
        )
        .unwrap();
        envs.push(p.to_str().unwrap().to_string());
    }
    for e in &envs {
        args.extend(["-e", e.as_str()]);
    }
    let ran = fhircheck(&args);
    assert_eq!(ran.code, 0, "each run sees its own values:\n{}", ran.stdout);
    assert!(server.most_at_once() >= 2, "the runs overlapped");
    let passed = ran
        .stdout
        .lines()
        .filter(|l| l.starts_with("  PASS"))
        .count();
    assert_eq!(passed, 8, "{}", ran.stdout);
}

#[test]
fn commands_that_check_one_target_take_one_environment() {
    let t = Target::start("healthy");
    let env = t.env_file.to_str().unwrap();
    for cmd in ["doctor", "token"] {
        let ran = fhircheck(&[cmd, "-e", env, "-e", env]);
        assert_eq!(ran.code, 2, "{cmd}: {}", ran.stderr);
        assert!(
            ran.stderr.contains("one environment file"),
            "{}",
            ran.stderr
        );
    }
}

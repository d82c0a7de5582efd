//! Fuzzing on stable Rust, kept in the repository: every parser that reads what a user or a
//! server wrote gets inputs made from the seed files in `fuzz/corpus/<target>/`, mutated (bytes
//! flipped, inserted, deleted; JSON punctuation and multi-byte characters spliced in), and random
//! bytes. A panic fails the test with the input that caused it. Nothing here may panic.
//!
//! `cargo test --test fuzz` runs a short round; `FHIRCHECK_FUZZ_CASES=N` sets the cases per
//! target (`.ci/run` runs a longer, time-bounded round and prints the executions).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

static EXECUTIONS: AtomicUsize = AtomicUsize::new(0);

fn cases() -> u32 {
    std::env::var("FHIRCHECK_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300)
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| std::fs::read(e.path()).expect("a seed file"))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

/// What a mutation does at a position.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, &'static str),
    Delete(usize, usize),
}

const SPLICES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "\\",
    "\\u",
    "{{",
    "}}",
    "$",
    "..",
    "é",
    "🙂",
    "\u{feff}",
    "\r\n",
    "\0",
    "\u{1b}[2J",
    "null",
    "-1",
    "1e999",
    "99999999999999999999",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Edit::Flip(p, b)),
        (any::<usize>(), prop::sample::select(SPLICES)).prop_map(|(p, s)| Edit::Insert(p, s)),
        (any::<usize>(), 1..64usize).prop_map(|(p, n)| Edit::Delete(p, n)),
    ]
}

fn mutate(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len().max(1);
        match e {
            Edit::Flip(p, b) if !bytes.is_empty() => bytes[p % len] ^= b,
            Edit::Insert(p, s) => {
                let at = p % (bytes.len() + 1);
                bytes.splice(at..at, s.bytes());
            }
            Edit::Delete(p, n) if !bytes.is_empty() => {
                let at = p % len;
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
            _ => {}
        }
    }
    bytes
}

/// Inputs for a target: a mutated seed, or random bytes.
fn inputs(target: &str) -> impl Strategy<Value = String> {
    let seeded = (
        prop::sample::select(seeds(target)),
        prop::collection::vec(edit(), 0..12),
    )
        .prop_map(|(seed, edits)| mutate(seed, &edits));
    prop_oneof![
        4 => seeded,
        1 => prop::collection::vec(any::<u8>(), 0..512),
    ]
    .prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn fuzz(target: &str, check: impl Fn(&str)) {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&inputs(target), |s| {
        EXECUTIONS.fetch_add(1, Ordering::Relaxed);
        check(&s);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{target}: {e}");
    }
    eprintln!(
        "fuzz {target}: {} cases; executions so far in this process: {}",
        cases(),
        EXECUTIONS.load(Ordering::Relaxed)
    );
}

#[test]
fn collection_loader_and_plan() {
    fuzz("collection", |s| {
        if let Ok(c) = fhircheck::collection::load_collection_str(Path::new("f.json"), s) {
            let _ = fhircheck::plan::plan(c);
        }
        let _ = fhircheck::collection::sniff(s);
        fhircheck::collection::register_file_secrets(s);
    });
}

#[test]
fn environment_loaders() {
    fuzz("environment", |s| {
        let _ = fhircheck::collection::parse::<fhircheck::collection::Environment>(
            Path::new("e.json"),
            s,
        );
        let _ = fhircheck::postman::environment::parse_environment(Path::new("e.json"), s);
        if let Err(e) = fhircheck::collection::parse::<serde_json::Value>(Path::new("e.json"), s) {
            let _ = e.to_string();
        }
    });
}

#[test]
fn postman_importer() {
    fuzz("postman", |s| {
        if let Ok(c) = fhircheck::collection::parse::<fhircheck::postman::model::Collection>(
            Path::new("p.json"),
            s,
        ) {
            let _ = fhircheck::postman::import::convert(&c, None);
            let _ = fhircheck::postman::model::flatten(&c);
        }
    });
}

#[test]
fn token_decoder() {
    fuzz("jwt", |s| {
        if let Some(c) = fhircheck::auth::Claims::decode(s) {
            let _ = c.summary(1_795_685_005);
            let _ = c.audiences();
        }
    });
}

#[test]
fn www_authenticate_parser() {
    fuzz("challenge", |s| {
        let _ = fhircheck::diagnose::challenge_params(s);
    });
}

#[test]
fn token_response_parser() {
    fuzz("token", |s| {
        for status in [200, 400, 401, 500] {
            if let Err(e) = fhircheck::auth::parse_token_response(status, s, 1_795_685_005) {
                let _ = e.headline();
                let _ = fhircheck::diagnose::token_error(&e);
            }
        }
    });
}

#[test]
fn fhirpath_parser_and_evaluator() {
    let patient = serde_json::json!({"resourceType": "Patient", "id": "p1",
        "name": [{"family": "Doe", "given": ["Jo", "Ann"]}], "birthDate": "1970-01-02", "active": true});
    let vars = std::collections::HashMap::from([("id".to_string(), "p'1\\".to_string())]);
    fuzz("fhirpath", |s| {
        if let Ok(e) = fhircheck::fhirpath::Expr::parse(s) {
            let _ = e.eval(&patient, &vars);
        }
    });
}

#[test]
fn testscript_converter() {
    let base: serde_json::Value =
        serde_json::from_str(include_str!("../collections/azure-fhir-smoke.json")).unwrap();
    let read = |_: &str| -> Result<String, String> { Ok(r#"{"resourceType": "Patient"}"#.into()) };
    fuzz("testscript", |s| {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(s) {
            if let Ok(c) = fhircheck::testscript::convert(&v, &base, &read) {
                let text = c.to_string();
                if let Ok(c) =
                    fhircheck::collection::load_collection_str(Path::new("t.json"), &text)
                {
                    let _ = fhircheck::plan::plan(c);
                }
            }
            for p in ["test[0].action[1].assert", "fixture[2]", "a.b[3].c"] {
                let _ = fhircheck::locate::locate(s, &fhircheck::locate::parse_path(p));
            }
        }
    });
}

//! The FHIRPath engine, through fhircheck's own interface, on the official FHIRPath R4 test
//! cases (`fixtures/fhirpath/r4-cases.json`, derived from HL7's `tests-fhir-r4.xml` by
//! `fixtures/fhirpath/derive-r4-cases.py`). Prints the pass rate and the cases that fail; fails
//! when fewer cases pass than `FLOOR`, so an engine upgrade or a change of the interface that
//! loses ground is caught. `cargo test --test fhirpath_r4 -- --nocapture` shows the table.

use std::collections::HashMap;
use std::path::Path;

use fhircheck::fhirpath::{Expr, Found};
use serde_json::Value;

/// Cases that passed when the engine was chosen (haste-fhirpath 0.129.2): see the README.
const FLOOR: usize = 693;

fn norm(s: &str) -> String {
    s.trim()
        .trim_start_matches('@')
        .trim_start_matches('T')
        .to_string()
}

fn same(found: &Found, want: &Value) -> bool {
    let text = want["value"].as_str().unwrap_or_default();
    let have = found.text();
    if norm(&have) == norm(text) {
        return true;
    }
    match (found.number(), text.trim().parse::<f64>()) {
        (Some(a), Ok(b)) => (a - b).abs() < 1e-9,
        _ => match found {
            // A Quantity is written `value 'unit'` in the test file.
            Found::Quantity(v, u) => {
                norm(text) == format!("{v} '{u}'") || norm(text) == format!("{v} {u}")
            }
            _ => false,
        },
    }
}

/// Whether one case passes, and what the engine gave when it does not.
fn run_case(case: &Value, inputs: &HashMap<String, Value>) -> Result<(), String> {
    let expr = case["expression"].as_str().unwrap_or_default();
    let input = case["input"]
        .as_str()
        .and_then(|i| inputs.get(i))
        .cloned()
        .unwrap_or(Value::Null);
    let result = Expr::parse(expr).and_then(|e| {
        e.eval(&input, &HashMap::new())
            .map_err(|m| fhircheck::fhirpath::SyntaxError {
                offset: 0,
                message: m,
            })
    });
    match (case.get("invalid"), result) {
        (Some(_), Err(_)) => Ok(()),
        (Some(kind), Ok(v)) => Err(format!("expected an error ({kind}), got {v:?}")),
        (None, Err(e)) => Err(format!("error: {}", e.message)),
        (None, Ok(found)) => {
            let want = case["outputs"].as_array().cloned().unwrap_or_default();
            let got = if case.get("predicate").is_some() {
                vec![Found::Boolean(!found.is_empty())]
            } else {
                found
            };
            let ok = got.len() == want.len() && got.iter().zip(&want).all(|(g, w)| same(g, w));
            if ok {
                Ok(())
            } else {
                Err(format!("expected {want:?}, got {got:?}"))
            }
        }
    }
}

#[test]
fn official_r4_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fhirpath");
    let table: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("r4-cases.json")).unwrap()).unwrap();
    let mut inputs = HashMap::new();
    for entry in std::fs::read_dir(dir.join("input")).unwrap() {
        let path = entry.unwrap().path();
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        inputs.insert(
            path.file_name().unwrap().to_string_lossy().to_string(),
            json,
        );
    }
    let cases = table["cases"].as_array().unwrap();
    let mut failed = Vec::new();
    for case in cases {
        if let Err(why) = run_case(case, &inputs) {
            failed.push(format!(
                "{} / {}: `{}`: {}",
                case["group"].as_str().unwrap_or_default(),
                case["name"].as_str().unwrap_or_default(),
                case["expression"].as_str().unwrap_or_default(),
                why.chars().take(160).collect::<String>()
            ));
        }
    }
    let passed = cases.len() - failed.len();
    for f in &failed {
        println!("FAIL {f}");
    }
    println!(
        "FHIRPath R4 cases: {passed}/{} passed ({:.1}%)",
        cases.len(),
        100.0 * passed as f64 / cases.len() as f64
    );
    assert!(cases.len() > 700, "the case table is incomplete");
    assert!(
        passed >= FLOOR,
        "{passed} cases passed, fewer than the {FLOOR} that passed before"
    );
}

//! FHIR TestScript resources run with `fhircheck run script.json` on the built-in profiles:
//! a script that passes, each kind of failure (a wrong value, a warning only, a 403 with the
//! role diagnosis), what can not run (named with line and column, exit 2), and the import.

use crate::common::{fhircheck, fixture};
use crate::{snap, Target};

fn script(name: &str) -> String {
    fixture(&format!("testscript/{name}.testscript.json"))
        .to_str()
        .unwrap()
        .to_string()
}

fn run(t: &Target, name: &str, more: &[&str]) -> crate::Ran {
    let s = script(name);
    let mut args = vec!["run", s.as_str(), "-e", t.env_file.to_str().unwrap()];
    args.extend_from_slice(more);
    fhircheck(&args)
}

#[test]
fn a_testscript_runs_green_with_each_test_a_junit_testcase() {
    let t = Target::start("healthy");
    let junit = t.dir.path().join("junit.xml");
    let ran = run(
        &t,
        "patient-crud",
        &["--reporter-junit-export", junit.to_str().unwrap()],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    snap!("testscript_patient_crud", ran.snapshot());
    let xml = std::fs::read_to_string(&junit).unwrap();
    for (class, case) in [
        ("setup", "create the patient"),
        ("read", "read Patient"),
        ("search", "search Patient"),
        ("update", "update Patient"),
        ("history", "read Patient (2)"),
        ("teardown", "delete Patient"),
    ] {
        let needle = format!("name=\"{case}\" classname=\"Patient create, read, search, update, history and delete.{class}\"");
        assert!(xml.contains(&needle), "{needle} in {xml}");
    }
}

#[test]
fn a_403_on_the_setup_create_names_the_missing_role() {
    let t = Target::start("read-only");
    let ran = run(&t, "patient-crud", &[]);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("FHIR Data Contributor"),
        "{}",
        ran.stdout
    );
    snap!("testscript_read_only", ran.snapshot());
}

#[test]
fn a_wrong_value_fails_and_a_warning_only_assert_does_not() {
    let t = Target::start("healthy");
    let ran = run(&t, "wrong-value", &[]);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    snap!("testscript_wrong_value", ran.snapshot());
    let ran = run(&t, "warning-only", &[]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout
            .contains("PASSED: 1 requests, 4 assertions (1 warning)"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("warning: fhirpath offers $everything"),
        "{}",
        ran.stdout
    );
}

#[test]
fn what_can_not_run_is_named_with_line_and_column_and_nothing_is_sent() {
    let t = Target::start("healthy");
    let ran = run(&t, "unsupported", &[]);
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.is_empty(), "{}", ran.stdout);
    snap!("testscript_unsupported", ran.stderr.clone());
}

#[test]
fn import_gives_the_collection_run_would_run() {
    let t = Target::start("healthy");
    let out = t.dir.path().join("crud.json");
    let ran = fhircheck(&[
        "import",
        "testscript",
        &script("patient-crud"),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let imported = fhircheck(&[
        "run",
        out.to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
    ]);
    assert_eq!(imported.code, 0, "{}{}", imported.stdout, imported.stderr);
    let direct = run(&Target::start("healthy"), "patient-crud", &[]);
    let steps = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.starts_with("  PASS") || l.starts_with("  FAIL"))
            .map(|l| l.split("  ").take(3).collect::<Vec<_>>().join("  "))
            .collect()
    };
    assert_eq!(steps(&imported.stdout), steps(&direct.stdout));
    assert!(steps(&direct.stdout).len() > 6);
    // Not a TestScript: said so.
    let ran = fhircheck(&["import", "testscript", "collections/azure-fhir-smoke.json"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("this is not a TestScript"),
        "{}",
        ran.stderr
    );
}

//! FHIRPath in native collections: checks and captures, errors caught at load, warnings that do
//! not fail a run, searchset paging, the FHIR version asked for, conditional requests and
//! `$validate`.

use crate::common::{fhircheck, fixture, http, TestServer};
use crate::{snap, Target};

#[test]
fn fhirpath_checks_captures_paging_and_conditional_update_pass_against_the_sandbox() {
    let t = Target::start("healthy");
    let junit = t.dir.path().join("junit.xml");
    let ran = fhircheck(&[
        "run",
        fixture("collections/fhirpath.json").to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
        "--reporter-junit-export",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    snap!("fhirpath_native_run", ran.snapshot());
    // The warning is in the JUnit report, on a test case that passed.
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("warning: fhirpath a busy server"), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
}

#[test]
fn a_fhirpath_mistake_stops_the_run_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let coll = dir.path().join("bad.json");
    std::fs::write(
        &coll,
        r#"{"name": "Bad FHIRPath", "base_url": "http://127.0.0.1:9/fhir", "requests": [
  {"name": "Search", "url": "Patient",
   "capture": {"first": {"fhirpath": "entry.frist().resource.id"}},
   "expect": {"fhirpath": [{"expression": "entry.where(resource.id = 'x'"},
                           {"expression": "(1|2).aggregate($this + $total, 0) = 3"}]}}
]}"#,
    )
    .unwrap();
    let ran = fhircheck(&["run", coll.to_str().unwrap()]);
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    let text = ran.stderr.replace(dir.path().to_str().unwrap(), "[dir]");
    snap!("fhirpath_load_errors", text);
}

#[test]
fn version_conditional_headers_and_validate_go_on_the_wire() {
    let server = TestServer::answering(|seen, _| {
        if seen.line.contains("$validate") {
            http(
                "200 OK",
                &[("Content-Type", "application/fhir+json")],
                r#"{"resourceType": "OperationOutcome", "issue": [
                    {"severity": "error", "code": "invariant", "diagnostics": "Patient.name: minimum required = 1"},
                    {"severity": "warning", "code": "informational", "diagnostics": "no narrative"}]}"#,
            )
        } else if seen.line.starts_with("GET") {
            http(
                "200 OK",
                &[
                    ("Content-Type", "application/fhir+json"),
                    ("ETag", "W/\"7\""),
                ],
                r#"{"resourceType": "Patient", "id": "n1"}"#,
            )
        } else {
            http(
                "201 Created",
                &[("Content-Type", "application/fhir+json")],
                r#"{"resourceType": "Patient", "id": "n1"}"#,
            )
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let coll = dir.path().join("wire.json");
    std::fs::write(
        &coll,
        serde_json::json!({
            "name": "Wire", "base_url": format!("{}/fhir", server.url()), "fhir_version": "{{v}}",
            "variables": {"v": "4.0"},
            "requests": [
                {"name": "Create once", "method": "POST", "url": "Patient", "if_none_exist": "identifier=urn:x|{{v}}",
                 "body": {"json": {"resourceType": "Patient"}}, "expect": {"status": 201}},
                {"name": "Update before reading", "method": "PUT", "url": "Patient/n1", "if_match_last": true,
                 "body": {"json": {"resourceType": "Patient", "id": "n1"}}},
                {"name": "Read", "url": "Patient/n1"},
                {"name": "Update", "method": "PUT", "url": "Patient/n1?x=1", "if_match_last": true,
                 "body": {"json": {"resourceType": "Patient", "id": "n1"}}, "expect": {"status": 201}},
                {"name": "Validate", "url": "Patient?mode=create", "validate_profile": "http://example.org/StructureDefinition/p",
                 "body": {"json": {"resourceType": "Patient"}}}
            ]
        })
        .to_string(),
    )
    .unwrap();
    let ran = fhircheck(&["run", coll.to_str().unwrap(), "--allow-http"]);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let seen = server.seen();
    assert_eq!(
        seen[0].header("accept"),
        Some("application/fhir+json; fhirVersion=4.0")
    );
    assert_eq!(
        seen[0].header("if-none-exist"),
        Some("identifier=urn:x|4.0")
    );
    // The update before any read is not sent: there is no ETag to send with it.
    assert!(
        ran.stdout
            .contains("no earlier answer from this URL carried an ETag"),
        "{}",
        ran.stdout
    );
    assert!(
        seen[1].line.starts_with("GET /fhir/Patient/n1 "),
        "{}",
        seen[1].line
    );
    assert_eq!(seen[2].header("if-match"), Some("W/\"7\""));
    assert!(seen[3].line.starts_with("POST /fhir/Patient/$validate?profile=http%3A%2F%2Fexample.org%2FStructureDefinition%2Fp&mode=create "), "{}", seen[3].line);
    assert!(ran.stdout.contains("validation error"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("Patient.name: minimum required = 1"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("warning: validation warning"),
        "{}",
        ran.stdout
    );
}

#[test]
fn a_next_link_to_another_origin_is_not_followed_with_the_token() {
    let server = TestServer::answering(|_, _| {
        http(
            "200 OK",
            &[("Content-Type", "application/fhir+json")],
            r#"{"resourceType": "Bundle", "type": "searchset",
                "link": [{"relation": "next", "url": "http://127.0.0.1:9/fhir/Patient?page=2"}],
                "entry": [{"resource": {"resourceType": "Patient", "id": "a"}}]}"#,
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let coll = dir.path().join("paging.json");
    std::fs::write(
        &coll,
        serde_json::json!({
            "name": "Paging", "base_url": format!("{}/fhir", server.url()),
            "auth": {"given": {"type": "bearer", "token": "paging-secret-token-value"}},
            "requests": [{"name": "All pages", "url": "Patient", "follow_next": 3,
                          "expect": {"fhirpath": [{"expression": "entry.count()", "equals": 1}]}}]
        })
        .to_string(),
    )
    .unwrap();
    let ran = fhircheck(&["run", coll.to_str().unwrap(), "--allow-http"]);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert_eq!(server.seen().len(), 1);
    assert!(ran.stdout.contains("next link"), "{}", ran.stdout);
    assert!(
        ran.stdout
            .contains("not followed: the token would go with it"),
        "{}",
        ran.stdout
    );
    assert!(!ran.stdout.contains("paging-secret-token-value"));
}

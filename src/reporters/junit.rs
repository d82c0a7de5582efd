//! JUnit XML: one testsuite per collection, one testcase per request (classname from the folder
//! path), token steps as testcases too. Failed expectations are `<failure>` with expected and
//! actual; token and transport problems are `<error>`; skipped requests `<skipped>`.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::diagnose;
use crate::result::{Outcome, RequestStep, RunResult, Step, TokenStep};

type Claims<'a> = Option<&'a serde_json::Map<String, serde_json::Value>>;

/// `name`, or `name (2)`, `name (3)`… so names stay unique in a suite: CI tools key on them.
fn unique(name: &str, key: impl Fn(&str) -> String, seen: &mut Vec<String>) -> String {
    let mut candidate = name.to_string();
    let mut n = 2;
    while seen.contains(&key(&candidate)) {
        candidate = format!("{name} ({n})");
        n += 1;
    }
    seen.push(key(&candidate));
    candidate
}

/// Postman: each pm.test / tests[…] entry is a testcase, as Newman reports them.
fn script_test_cases(
    suite_name: &str,
    r: &RequestStep,
    claims: Claims<'_>,
    seen: &mut Vec<String>,
) -> Vec<TestCase> {
    let classname = std::iter::once(suite_name.to_string())
        .chain(r.folders.iter().cloned())
        .chain(std::iter::once(r.name.clone()))
        .collect::<Vec<_>>()
        .join(".");
    let mut cases = Vec::new();
    for a in &r.assertions {
        let status = if a.passed {
            TestCaseStatus::success()
        } else {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_type("AssertionFailure")
                .set_message(a.actual.as_str());
            let mut text = format!(
                "{} {}\n{}\n  expected: {}\n  actual:   {}\n",
                r.method, r.url, a.name, a.expected, a.actual
            );
            if let Some(d) = diagnose::request_with_claims(r, claims) {
                text.push_str(&format!("cause: {}\nfix: {}\n", d.cause, d.fix));
            }
            s.set_description(text);
            s
        };
        let name = unique(&a.name, |n| format!("{classname}/{n}"), seen);
        let mut tc = TestCase::new(name, status);
        tc.set_classname(classname.clone())
            .set_time(Duration::from_millis(r.duration_ms));
        cases.push(tc);
    }
    cases
}

fn token_case(suite_name: &str, t: &TokenStep) -> TestCase {
    let status = match &t.result {
        Ok(_) => TestCaseStatus::success(),
        Err(e) => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_type("TokenError").set_message(e.headline());
            let mut text = format!(
                "endpoint: {}\n{}",
                t.endpoint.as_deref().unwrap_or("(none)"),
                e.headline()
            );
            if let Some(d) = diagnose::token_error(e) {
                text.push_str(&format!("\ncause: {}\nfix: {}", d.cause, d.fix));
            }
            s.set_description(text);
            s
        }
    };
    let mut tc = TestCase::new(format!("token {}", t.profile), status);
    tc.set_classname(format!("{suite_name}.auth"))
        .set_time(Duration::from_millis(t.duration_ms));
    tc
}

/// A failed request: the first failed check as the message, every one in the text.
fn failure_status(r: &RequestStep, claims: Claims<'_>) -> TestCaseStatus {
    let failed: Vec<_> = r.assertions.iter().filter(|a| a.failed()).collect();
    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
    let first = failed
        .first()
        .map(|a| format!("{}: expected {}, actual {}", a.name, a.expected, a.actual))
        .unwrap_or_default();
    s.set_type("AssertionFailure").set_message(first);
    let mut text = format!("{} {}\n", r.method, r.url);
    for a in &failed {
        text.push_str(&format!(
            "{}\n  expected: {}\n  actual:   {}\n",
            a.name, a.expected, a.actual
        ));
    }
    for i in &r.issues {
        text.push_str(&format!("OperationOutcome: {i}\n"));
    }
    if let Some(d) = diagnose::request_with_claims(r, claims) {
        text.push_str(&format!("cause: {}\nfix: {}\n", d.cause, d.fix));
    }
    s.set_description(text);
    s
}

fn request_case(
    suite_name: &str,
    r: &RequestStep,
    claims: Claims<'_>,
    seen: &mut Vec<String>,
) -> TestCase {
    let status = match &r.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Skipped(why) => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(why.as_str());
            s
        }
        Outcome::Error(msg) => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_type("RuntimeError").set_message(msg.as_str());
            if let Some(d) = diagnose::request(r) {
                s.set_description(format!("{msg}\ncause: {}\nfix: {}", d.cause, d.fix));
            }
            s
        }
        Outcome::Failed => failure_status(r, claims),
    };
    let name = unique(&r.name, str::to_string, seen);
    let mut tc = TestCase::new(name, status);
    let classname = if r.folders.is_empty() {
        suite_name.to_string()
    } else {
        format!("{suite_name}.{}", r.folders.join("."))
    };
    tc.set_classname(classname)
        .set_assertions(r.assertions.len())
        .set_time(Duration::from_millis(r.duration_ms));
    let warnings: Vec<String> = r
        .assertions
        .iter()
        .filter(|a| a.warned())
        .map(|a| {
            format!(
                "warning: {}\n  expected: {}\n  actual:   {}\n",
                a.name, a.expected, a.actual
            )
        })
        .collect();
    if !warnings.is_empty() {
        tc.set_system_out(warnings.concat());
    }
    tc
}

pub fn render(result: &RunResult) -> String {
    let mut report = Report::new("fhircheck");
    report.set_time(Duration::from_millis(result.duration_ms));
    for c in &result.collections {
        let mut suite = TestSuite::new(c.name.as_str());
        suite.set_time(Duration::from_millis(c.duration_ms));
        let mut claims = None;
        let mut seen: Vec<String> = Vec::new();
        for step in &c.steps {
            match step {
                Step::Request(r)
                    if r.script_tests
                        && !r.assertions.is_empty()
                        && !matches!(r.outcome, Outcome::Error(_)) =>
                {
                    for tc in script_test_cases(&c.name, r, claims, &mut seen) {
                        suite.add_test_case(tc);
                    }
                }
                Step::Request(r) => {
                    suite.add_test_case(request_case(&c.name, r, claims, &mut seen));
                }
                Step::Token(t) => {
                    if let Ok(info) = &t.result {
                        claims = Some(&info.raw_claims);
                    }
                    suite.add_test_case(token_case(&c.name, t));
                }
            }
        }
        report.add_test_suite(suite);
    }
    report.to_string().unwrap_or_default()
}

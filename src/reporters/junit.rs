//! JUnit XML: one testsuite per collection, one testcase per request (classname from the folder
//! path), token steps as testcases too. Failed expectations are `<failure>` with expected and
//! actual; token and transport problems are `<error>`; skipped requests `<skipped>`.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::diagnose;
use crate::result::{Outcome, RunResult, Step};

pub fn render(result: &RunResult) -> String {
    let mut report = Report::new("fhircheck");
    report.set_time(Duration::from_millis(result.duration_ms));
    for c in &result.collections {
        let mut suite = TestSuite::new(c.name.as_str());
        suite.set_time(Duration::from_millis(c.duration_ms));
        let mut claims = None;
        let mut seen: Vec<String> = Vec::new();
        for step in &c.steps {
            if let Step::Request(r) = step {
                if r.script_tests
                    && !r.assertions.is_empty()
                    && !matches!(r.outcome, Outcome::Error(_))
                {
                    // Postman: each pm.test / tests[…] entry is a testcase, as Newman reports them.
                    let classname = std::iter::once(c.name.clone())
                        .chain(r.folders.iter().cloned())
                        .chain(std::iter::once(r.name.clone()))
                        .collect::<Vec<_>>()
                        .join(".");
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
                        let mut name = a.name.clone();
                        let mut n = 2;
                        while seen.contains(&format!("{classname}/{name}")) {
                            name = format!("{} ({n})", a.name);
                            n += 1;
                        }
                        seen.push(format!("{classname}/{name}"));
                        let mut tc = TestCase::new(name, status);
                        tc.set_classname(classname.clone())
                            .set_time(Duration::from_millis(r.duration_ms));
                        suite.add_test_case(tc);
                    }
                    continue;
                }
            }
            let case = match step {
                Step::Token(t) => {
                    let status = match &t.result {
                        Ok(info) => {
                            claims = Some(&info.raw_claims);
                            TestCaseStatus::success()
                        }
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
                    tc.set_classname(format!("{}.auth", c.name))
                        .set_time(Duration::from_millis(t.duration_ms));
                    tc
                }
                Step::Request(r) => {
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
                                s.set_description(format!(
                                    "{msg}\ncause: {}\nfix: {}",
                                    d.cause, d.fix
                                ));
                            }
                            s
                        }
                        Outcome::Failed => {
                            let failed: Vec<_> =
                                r.assertions.iter().filter(|a| !a.passed).collect();
                            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                            let first = failed
                                .first()
                                .map(|a| {
                                    format!(
                                        "{}: expected {}, actual {}",
                                        a.name, a.expected, a.actual
                                    )
                                })
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
                    };
                    // Names must be unique in a suite for CI tools to keep them apart.
                    let mut name = r.name.clone();
                    let mut n = 2;
                    while seen.contains(&name) {
                        name = format!("{} ({n})", r.name);
                        n += 1;
                    }
                    seen.push(name.clone());
                    let name = name;
                    let mut tc = TestCase::new(name, status);
                    let classname = if r.folders.is_empty() {
                        c.name.clone()
                    } else {
                        format!("{}.{}", c.name, r.folders.join("."))
                    };
                    tc.set_classname(classname)
                        .set_assertions(r.assertions.len())
                        .set_time(Duration::from_millis(r.duration_ms));
                    tc
                }
            };
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().unwrap_or_default()
}

//! GitHub Actions: `::error` annotations for each failure (on stdout, where the runner reads
//! workflow commands) and a Markdown summary for `$GITHUB_STEP_SUMMARY`.

use crate::diagnose;
use crate::result::{Outcome, RunResult, Step};

/// Workflow command data: `%`, CR and LF escaped. Secrets are masked first: escaping turns a
/// URL-encoded secret (`%7E`) into a form (`%257E`) the redactor would no longer recognise.
fn data(s: &str) -> String {
    crate::secret::redact_for("github", s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Workflow command property values: also `:` and `,`.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn annotations(result: &RunResult) -> String {
    let mut out = String::new();
    for c in &result.collections {
        let mut claims = None;
        for step in &c.steps {
            match step {
                Step::Token(t) => match &t.result {
                    Ok(i) => claims = Some(&i.raw_claims),
                    Err(e) => {
                        let mut msg = format!(
                            "token `{}` could not be obtained: {}",
                            t.profile,
                            e.headline()
                        );
                        if let Some(d) = diagnose::token_error(e) {
                            msg.push_str(&format!("\ncause: {}\nfix: {}", d.cause, d.fix));
                        }
                        out.push_str(&format!(
                            "::error title={}::{}\n",
                            property(&format!("fhircheck: {}: token {}", c.name, t.profile)),
                            data(&msg)
                        ));
                    }
                },
                Step::Request(r) => {
                    let mut msg = match &r.outcome {
                        Outcome::Failed => r
                            .assertions
                            .iter()
                            .filter(|a| !a.passed)
                            .map(|a| {
                                format!("{}: expected {}, actual {}", a.name, a.expected, a.actual)
                            })
                            .collect::<Vec<_>>()
                            .join("\n"),
                        Outcome::Error(e) => e.clone(),
                        _ => continue,
                    };
                    if let Some(d) = diagnose::request_with_claims(r, claims) {
                        msg.push_str(&format!("\ncause: {}\nfix: {}", d.cause, d.fix));
                    }
                    out.push_str(&format!(
                        "::error title={}::{}\n",
                        property(&format!("fhircheck: {}: {} {}", c.name, r.method, r.name)),
                        data(&format!("{} {}\n{msg}", r.method, r.url))
                    ));
                }
            }
        }
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn summary(result: &RunResult) -> String {
    let t = result.totals();
    let verdict = match result.exit_code() {
        crate::exit::ExitCode::Success => "✅ passed",
        _ => "❌ failed",
    };
    let mut md = format!(
        "## fhircheck: {verdict}\n\n{} requests: {} passed, {} failed, {} errors, {} skipped; {} of {} assertions passed; {} ms\n\n",
        t.requests, t.passed, t.failed, t.errors, t.skipped, t.assertions - t.assertions_failed, t.assertions, result.duration_ms
    );
    let mut diagnoses = Vec::new();
    for c in &result.collections {
        md.push_str(&format!(
            "### {}\n\n| result | request | status | time |\n|---|---|---|---|\n",
            cell(&c.name)
        ));
        let mut claims = None;
        for step in &c.steps {
            match step {
                Step::Token(tok) => {
                    let ok = tok.result.is_ok();
                    if let Ok(i) = &tok.result {
                        claims = Some(&i.raw_claims);
                    }
                    md.push_str(&format!(
                        "| {} | token `{}` ({}) | {} | {} ms |\n",
                        if ok { "✅" } else { "❌" },
                        cell(&tok.profile),
                        cell(&tok.label),
                        tok.status.map_or("-".into(), |s| s.to_string()),
                        tok.duration_ms
                    ));
                    if let Err(e) = &tok.result {
                        diagnoses.push((
                            format!("token `{}`", tok.profile),
                            e.headline(),
                            diagnose::token_error(e),
                        ));
                    }
                }
                Step::Request(r) => {
                    let mark = match &r.outcome {
                        Outcome::Passed => "✅",
                        Outcome::Failed | Outcome::Error(_) => "❌",
                        Outcome::Skipped(_) => "⏭️",
                    };
                    let mut name = r.folders.clone();
                    name.push(r.name.clone());
                    md.push_str(&format!(
                        "| {mark} | {} `{}` | {} | {} ms |\n",
                        cell(&name.join(" / ")),
                        r.method,
                        r.status.map_or("-".into(), |s| s.to_string()),
                        r.duration_ms
                    ));
                    let what = match &r.outcome {
                        Outcome::Failed => r
                            .assertions
                            .iter()
                            .find(|a| !a.passed)
                            .map(|a| {
                                format!("{}: expected {}, actual {}", a.name, a.expected, a.actual)
                            })
                            .unwrap_or_default(),
                        Outcome::Error(e) => e.clone(),
                        _ => continue,
                    };
                    diagnoses.push((
                        name.join(" / "),
                        what,
                        diagnose::request_with_claims(r, claims),
                    ));
                }
            }
        }
        md.push('\n');
    }
    if !diagnoses.is_empty() {
        md.push_str("### Failures and diagnosis\n\n");
        for (what, detail, d) in diagnoses {
            md.push_str(&format!("- **{}**: {}\n", cell(&what), cell(&detail)));
            if let Some(d) = d {
                md.push_str(&format!("  - cause: {}\n  - fix: {}\n", d.cause, d.fix));
            }
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(data("a%b\nc\r"), "a%25b%0Ac%0D");
        crate::secret::redactor().add("se~cret-value");
        assert_eq!(data("x=se%7Ecret-value"), "x=***");
        assert_eq!(property("x: y, z"), "x%3A y%2C z");
    }
}

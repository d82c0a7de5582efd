//! The terminal report: a line per step as the run goes, then a summary table and a block per
//! failure. Pure text from the run result; colour and width are passed in.

use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};

use crate::auth::TokenError;
use crate::diagnose;
use crate::result::{Outcome, RequestStep, RunResult, Step, TokenStep};

/// How the terminal looks.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: u16,
}

#[derive(Clone, Copy)]
enum Tone {
    Pass,
    Fail,
    Skip,
    Dim,
    Bold,
}

impl Style {
    fn paint(&self, tone: Tone, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match tone {
            Tone::Pass => "32",
            Tone::Fail => "31",
            Tone::Skip => "33",
            Tone::Dim => "2",
            Tone::Bold => "1",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// The path and query of a URL: the host is in the header line already.
fn path_of(url: &str) -> &str {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    match rest.find('/') {
        Some(i) if url.len() != rest.len() => &rest[i..],
        _ => url,
    }
}

fn label(style: &Style, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Passed => style.paint(Tone::Pass, "PASS"),
        Outcome::Failed => style.paint(Tone::Fail, "FAIL"),
        Outcome::Error(_) => style.paint(Tone::Fail, "ERR "),
        Outcome::Skipped(_) => style.paint(Tone::Skip, "SKIP"),
    }
}

/// The header line of a collection run.
pub fn collection_header(name: &str, source: &str, target: Option<&str>, style: &Style) -> String {
    let mut s = format!(
        "{} {}",
        style.paint(Tone::Bold, name),
        style.paint(Tone::Dim, &format!("({source})"))
    );
    if let Some(t) = target {
        s.push_str(&format!(
            "\n{}",
            style.paint(Tone::Dim, &format!("target: {t}"))
        ));
    }
    s.push('\n');
    s
}

/// The live line(s) for one step.
pub fn step_lines(step: &Step, style: &Style) -> String {
    match step {
        Step::Token(t) => token_lines(t, style),
        Step::Request(r) => request_line(r, style),
    }
}

fn name_of(r: &RequestStep) -> String {
    let mut n = r.folders.join(" / ");
    if !n.is_empty() {
        n.push_str(" / ");
    }
    n.push_str(&r.name);
    n
}

fn request_line(r: &RequestStep, style: &Style) -> String {
    let mut line = format!("  {}  {}", label(style, &r.outcome), name_of(r));
    match &r.outcome {
        Outcome::Skipped(why) => {
            line.push_str(&style.paint(Tone::Dim, &format!("  ({why})")));
        }
        _ => {
            let status = r
                .status
                .map_or_else(|| "---".to_string(), |s| s.to_string());
            line.push_str(&style.paint(
                Tone::Dim,
                &format!(
                    "  {} {}  {status}  {} ms",
                    r.method,
                    path_of(&r.url),
                    r.duration_ms
                ),
            ));
            if r.retries > 0 {
                line.push_str(&style.paint(
                    Tone::Skip,
                    &format!("  (retried {}× after 429/503)", r.retries),
                ));
            }
        }
    }
    line.push('\n');
    if let Some(ms) = r.waited_for_access_ms {
        let secs = ms.div_ceil(1000);
        let note = if r.status == Some(403) {
            format!("        still 403 after waiting {secs} s for access (--wait-for-access)\n")
        } else {
            format!("        access appeared after {secs} s of 403 answers: the role assignment was still propagating\n")
        };
        line.push_str(&style.paint(Tone::Skip, &note));
    }
    for hop in &r.redirects {
        line.push_str(&style.paint(Tone::Dim, &format!("        redirected: {hop}\n")));
    }
    for a in r.assertions.iter().filter(|a| a.warned()) {
        line.push_str(&style.paint(
            Tone::Skip,
            &format!(
                "        warning: {}: expected {}, actual {}\n",
                a.name, a.expected, a.actual
            ),
        ));
    }
    line
}

fn token_lines(t: &TokenStep, style: &Style) -> String {
    let outcome = if t.result.is_ok() {
        Outcome::Passed
    } else {
        Outcome::Failed
    };
    let mut s = format!(
        "  {}  token `{}`{}",
        label(style, &outcome),
        t.profile,
        if t.label.is_empty() {
            String::new()
        } else {
            format!(" ({})", t.label)
        }
    );
    let status = t.status.map_or_else(|| "---".into(), |c| c.to_string());
    if let Some(e) = &t.endpoint {
        s.push_str(&style.paint(
            Tone::Dim,
            &format!("  POST {}  {status}  {} ms", path_of(e), t.duration_ms),
        ));
    }
    s.push('\n');
    match &t.result {
        Ok(info) if info.is_jwt => {
            s.push_str(&style.paint(
                Tone::Dim,
                "        claims (decoded, signature not verified):\n",
            ));
            let w = info.claims.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (k, v) in &info.claims {
                s.push_str(&format!("          {k:<w$}  {v}\n"));
            }
        }
        Ok(_) => s.push_str(&style.paint(
            Tone::Dim,
            "        the token is opaque (not a JWT): no claims to show\n",
        )),
        Err(e) => s.push_str(&format!(
            "        {}\n",
            e.headline().replace('\n', "\n        ")
        )),
    }
    if let Ok(info) = &t.result {
        for w in &info.warnings {
            s.push_str(&format!(
                "        {} {w}\n",
                style.paint(Tone::Skip, "warning:")
            ));
        }
    }
    s
}

/// The summary table, the failures, and the verdict line.
pub fn summary(result: &RunResult, style: &Style) -> String {
    let t = result.totals();
    let mut out = String::new();
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(style.width.min(100))
        .set_header(vec!["", "total", "passed", "failed", "errors", "skipped"]);
    let num = |n: usize| Cell::new(n).set_alignment(CellAlignment::Right);
    let dash = || Cell::new("-").set_alignment(CellAlignment::Right);
    table.add_row(vec![
        Cell::new("requests"),
        num(t.requests),
        num(t.passed),
        num(t.failed),
        num(t.errors),
        num(t.skipped),
    ]);
    table.add_row(vec![
        Cell::new("assertions"),
        num(t.assertions),
        num(t.assertions - t.assertions_failed - t.assertions_warned),
        num(t.assertions_failed),
        dash(),
        dash(),
    ]);
    if t.assertions_warned > 0 {
        table.add_row(vec![
            Cell::new("warnings"),
            num(t.assertions_warned),
            dash(),
            dash(),
            dash(),
            dash(),
        ]);
    }
    let tokens = result
        .collections
        .iter()
        .flat_map(|c| &c.steps)
        .filter(|s| matches!(s, Step::Token(_)))
        .count();
    if tokens > 0 {
        table.add_row(vec![
            Cell::new("tokens"),
            num(tokens),
            num(tokens - t.token_failures),
            num(t.token_failures),
            dash(),
            dash(),
        ]);
    }
    out.push('\n');
    out.push_str(&table.to_string());
    out.push('\n');
    if result.collections.len() > 1 {
        out.push_str(&runs_table(result, style));
        out.push('\n');
    }
    out.push_str(&format!("total time {} ms\n", result.duration_ms));

    let failures = failure_blocks(result, style);
    if !failures.is_empty() {
        out.push('\n');
        out.push_str(&style.paint(Tone::Bold, "Failures"));
        out.push('\n');
        out.push_str(&failures);
    }
    if let Some(note) = propagation_note(result) {
        out.push('\n');
        out.push_str(&style.paint(Tone::Skip, &note));
    }
    out.push('\n');
    out.push_str(&verdict(result, &t, style));
    out.push('\n');
    out
}

/// The last line of a report: PASSED or FAILED, and why.
fn verdict(result: &RunResult, t: &crate::result::Totals, style: &Style) -> String {
    match result.exit_code() {
        crate::exit::ExitCode::Success => style.paint(
            Tone::Pass,
            &format!(
                "PASSED: {} requests, {} assertions{}",
                t.passed,
                t.assertions,
                match t.assertions_warned {
                    0 => String::new(),
                    1 => " (1 warning)".into(),
                    n => format!(" ({n} warnings)"),
                }
            ),
        ),
        crate::exit::ExitCode::Token => {
            style.paint(Tone::Fail, "FAILED: a token could not be obtained")
        }
        crate::exit::ExitCode::Interrupted | crate::exit::ExitCode::Terminated => style.paint(
            Tone::Fail,
            &format!(
                "INTERRUPTED by {}: no request was sent after it but the cleanup requests; {} requests ran",
                result.interrupted.as_deref().unwrap_or("a signal"),
                t.requests - t.skipped
            ),
        ),
        crate::exit::ExitCode::Runtime => style.paint(
            Tone::Fail,
            &format!("FAILED: {} request(s) could not be completed", t.errors),
        ),
        _ if t.nothing_sent() => style.paint(
            Tone::Fail,
            &format!(
                "FAILED: no request was sent ({} skipped): a run that sends nothing proves nothing",
                t.skipped
            ),
        ),
        _ => style.paint(
            Tone::Fail,
            &format!(
                "FAILED: {} of {} requests failed ({} of {} assertions)",
                t.failed, t.requests, t.assertions_failed, t.assertions
            ),
        ),
    }
}

/// A request answered 403 and the same method and path answered 2xx later in the run: access
/// changed while it ran, as it does while a new role assignment propagates.
pub fn propagation_note(result: &RunResult) -> Option<String> {
    for c in &result.collections {
        let requests: Vec<&RequestStep> = c
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Request(r) => Some(r),
                _ => None,
            })
            .collect();
        let key = |r: &RequestStep| {
            (
                r.method.clone(),
                path_of(&r.url).split('?').next().unwrap_or("").to_string(),
            )
        };
        for (i, r) in requests.iter().enumerate() {
            if r.status != Some(403) {
                continue;
            }
            let later = requests[i + 1..]
                .iter()
                .find(|l| key(l) == key(r) && l.status.is_some_and(|s| (200..300).contains(&s)));
            if let Some(l) = later {
                return Some(format!(
                    "access changed during the run: {} {} answered 403, then {}: a role assignment was still propagating (it can take up to 5 minutes); `--wait-for-access 5m` waits for it\n",
                    r.method,
                    key(r).1,
                    l.status.unwrap_or_default()
                ));
            }
        }
    }
    None
}

/// One row per run (collection × environment), when there are several.
fn runs_table(result: &RunResult, style: &Style) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(style.width.min(100))
        .set_header(vec![
            "run", "requests", "passed", "failed", "errors", "skipped", "result",
        ]);
    let num = |n: usize| Cell::new(n).set_alignment(CellAlignment::Right);
    for c in &result.collections {
        let t = c.totals();
        // Plain words: the table measures its cells, and colour codes would count as width.
        let verdict = match t.exit_code() {
            crate::exit::ExitCode::Success => "passed",
            crate::exit::ExitCode::Token => "no token",
            crate::exit::ExitCode::Runtime => "errors",
            _ => "failed",
        };
        table.add_row(vec![
            Cell::new(format!("{}\n{}", c.name, c.source)),
            num(t.requests),
            num(t.passed),
            num(t.failed),
            num(t.errors),
            num(t.skipped),
            Cell::new(verdict),
        ]);
    }
    table.to_string()
}

/// Only the failure blocks (for `token`).
pub fn failures_only(result: &RunResult, style: &Style) -> String {
    failure_blocks(result, style)
}

fn failure_blocks(result: &RunResult, style: &Style) -> String {
    let mut out = String::new();
    let mut n = 0;
    // A diagnosis already explained in full is referred to, not repeated.
    let mut explained: Vec<(String, usize)> = Vec::new();
    let mut explain = |d: diagnose::Diagnosis, n: usize, out: &mut String| match explained
        .iter()
        .find(|(check, _)| *check == d.check)
    {
        Some((_, first)) => out.push_str(&format!(
            "   {}        same as {first}) above\n",
            style.paint(Tone::Bold, "cause")
        )),
        None => {
            out.push_str(&diagnosis_text(&d, style));
            explained.push((d.check, n));
        }
    };
    // With several runs, each failure says which run it is from.
    let several = result.collections.len() > 1;
    for c in &result.collections {
        let run = if several {
            format!("   run          {}\n", c.source)
        } else {
            String::new()
        };
        // The claims of the run's last token, for explaining 401s.
        let mut claims: Option<&serde_json::Map<String, serde_json::Value>> = None;
        for step in &c.steps {
            if let Step::Token(t) = step {
                if let Ok(info) = &t.result {
                    claims = Some(&info.raw_claims);
                }
            }
            match step {
                Step::Token(t) => {
                    let Err(e) = &t.result else { continue };
                    n += 1;
                    out.push_str(&format!(
                        "\n{n}) token `{}` could not be obtained\n{run}",
                        t.profile
                    ));
                    if let Some(ep) = &t.endpoint {
                        out.push_str(&format!("   endpoint     {ep}\n"));
                    }
                    token_error_details(e, &mut out);
                    if let Some(d) = diagnose::token_error(e) {
                        explain(d, n, &mut out);
                    }
                }
                Step::Request(r) => {
                    if !matches!(r.outcome, Outcome::Failed | Outcome::Error(_)) {
                        continue;
                    }
                    n += 1;
                    out.push_str(&format!(
                        "\n{n}) {}  {} {}\n{run}",
                        name_of(r),
                        r.method,
                        path_of(&r.url)
                    ));
                    if let Outcome::Error(msg) = &r.outcome {
                        out.push_str(&format!("   error        {msg}\n"));
                    }
                    for a in r.assertions.iter().filter(|a| !a.passed) {
                        let tag = if a.warning { " (warning only)" } else { "" };
                        out.push_str(&format!("   {}{tag}\n", a.name));
                        out.push_str(&format!("     expected   {}\n", a.expected));
                        out.push_str(&format!("     actual     {}\n", a.actual));
                    }
                    for i in &r.issues {
                        out.push_str(&format!("   OperationOutcome  {i}\n"));
                    }
                    if let Some(d) = diagnose::request_with_claims(r, claims) {
                        explain(d, n, &mut out);
                    }
                }
            }
        }
    }
    out
}

fn token_error_details(e: &TokenError, out: &mut String) {
    match e {
        TokenError::Endpoint {
            status,
            error,
            description,
            trace_id,
            correlation_id,
            timestamp,
            ..
        } => {
            out.push_str(&format!(
                "   answer       HTTP {status}{}\n",
                error
                    .as_deref()
                    .map(|e| format!(" {e}"))
                    .unwrap_or_default()
            ));
            if let Some(d) = description {
                out.push_str(&format!("   message      {d}\n"));
            }
            if let Some(t) = trace_id {
                out.push_str(&format!("   trace id     {t}\n"));
            }
            if let Some(c) = correlation_id {
                out.push_str(&format!("   correlation  {c}\n"));
            }
            if let Some(t) = timestamp {
                out.push_str(&format!("   timestamp    {t}\n"));
            }
        }
        other => out.push_str(&format!(
            "   error        {}\n",
            other.headline().replace('\n', "\n                ")
        )),
    }
}

fn diagnosis_text(d: &diagnose::Diagnosis, style: &Style) -> String {
    format!(
        "   {}        {}\n   {}          {}\n",
        style.paint(Tone::Bold, "cause"),
        d.cause,
        style.paint(Tone::Bold, "fix"),
        d.fix
    )
}

/// The doctor's checklist.
/// `quiet`: only the findings that failed or warned, and the verdict.
pub fn doctor(r: &crate::doctor::DoctorReport, style: &Style, quiet: bool) -> String {
    use crate::diagnose::Status;
    let mut out = format!(
        "{}\n  FHIR service   {}\n  auth profile   {}{}\n\n",
        style.paint(Tone::Bold, "fhircheck doctor"),
        r.fhir_url,
        r.profile,
        if r.method.is_empty() {
            String::new()
        } else {
            format!(" ({})", r.method)
        }
    );
    if quiet {
        let shown: Vec<_> = r
            .findings
            .iter()
            .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
            .cloned()
            .collect();
        out.push_str(&findings(&shown, style));
    } else {
        out.push_str(&findings(&r.findings, style));
    }
    let count = |s: Status| r.findings.iter().filter(|f| f.status == s).count();
    let (failed, warned) = (count(Status::Fail), count(Status::Warn));
    out.push('\n');
    out.push_str(
        &match r.findings.iter().find(|f| f.status == Status::Fail) {
            Some(first) => style.paint(
                Tone::Fail,
                &format!(
                    "{failed} check{} failed, {warned} warning{}: fix {} first.",
                    if failed == 1 { "" } else { "s" },
                    if warned == 1 { "" } else { "s" },
                    first.check
                ),
            ),
            None if warned > 0 => style.paint(
                Tone::Skip,
                &format!(
                    "No check failed; {warned} warning{}.",
                    if warned == 1 { "" } else { "s" }
                ),
            ),
            None => style.paint(Tone::Pass, "Every check passed."),
        },
    );
    out.push('\n');
    out
}

/// Findings as a checklist: status, check, summary, then evidence, cause and fix.
pub fn findings(list: &[crate::diagnose::Finding], style: &Style) -> String {
    use crate::diagnose::Status;
    let mut out = String::new();
    let w = list.iter().map(|f| f.check.len()).max().unwrap_or(0);
    let pad = " ".repeat(w + 10);
    for f in list {
        let label = match f.status {
            Status::Pass => style.paint(Tone::Pass, "PASS"),
            Status::Warn => style.paint(Tone::Skip, "WARN"),
            Status::Fail => style.paint(Tone::Fail, "FAIL"),
            Status::Skip => style.paint(Tone::Dim, "SKIP"),
        };
        out.push_str(&format!("  {label}  {:<w$}  {}\n", f.check, f.summary));
        for (k, v) in &f.evidence {
            out.push_str(&style.paint(Tone::Dim, &format!("{pad}{k}: {v}")));
            out.push('\n');
        }
        if let Some(c) = &f.cause {
            out.push_str(&format!("{pad}{}  {c}\n", style.paint(Tone::Bold, "cause")));
        }
        if let Some(x) = &f.fix {
            out.push_str(&format!("{pad}{}    {x}\n", style.paint(Tone::Bold, "fix")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{CollectionResult, Outcome};

    fn request(method: &str, url: &str, status: u16) -> Step {
        Step::Request(RequestStep {
            name: format!("{method} {url}"),
            folders: vec![],
            method: method.into(),
            url: url.into(),
            status: Some(status),
            duration_ms: 1,
            outcome: if status < 400 {
                Outcome::Passed
            } else {
                Outcome::Failed
            },
            assertions: vec![],
            issues: vec![],
            challenge: None,
            captures: vec![],
            cleanup: false,
            script_tests: false,
            retries: 0,
            waited_for_access_ms: None,
            redirects: vec![],
        })
    }

    fn run(steps: Vec<Step>) -> RunResult {
        RunResult {
            collections: vec![CollectionResult {
                name: "c".into(),
                source: "c.json".into(),
                steps,
                duration_ms: 1,
            }],
            started_at: 0,
            interrupted: None,
            duration_ms: 1,
        }
    }

    #[test]
    fn a_403_that_turns_into_200_is_a_propagating_assignment() {
        let note = propagation_note(&run(vec![
            request("GET", "https://f/Patient?_count=1", 403),
            request("POST", "https://f/Patient", 403),
            request("GET", "https://f/Patient?name=x", 200),
        ]))
        .unwrap();
        assert!(
            note.contains("GET /Patient answered 403, then 200"),
            "{note}"
        );
        // A read-only client: writes 403, reads 200, never the same request both ways.
        assert_eq!(
            propagation_note(&run(vec![
                request("GET", "https://f/Patient", 200),
                request("POST", "https://f/Patient", 403),
                request("GET", "https://f/Patient", 200),
            ])),
            None
        );
    }
}

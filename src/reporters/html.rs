//! One self-contained HTML file (inline CSS, no scripts, no external assets): summary, what
//! needs fixing with cause and fix, every request with its checks, and the decoded claims.

use crate::diagnose::{self, Diagnosis};
use crate::result::{Outcome, RequestStep, RunResult, Step, TokenStep};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Escaped text with `code spans` (as diagnoses write commands and values) set as code.
fn rich(s: &str) -> String {
    let escaped = esc(s);
    let mut out = String::with_capacity(escaped.len());
    let mut parts = escaped.split('`');
    out.push_str(parts.next().unwrap_or(""));
    let mut open = false;
    let rest: Vec<&str> = parts.collect();
    let paired = rest.len() % 2 == 0;
    for (i, part) in rest.iter().enumerate() {
        // An odd backtick at the end stays as it is.
        if !paired && i == rest.len() - 1 {
            out.push('`');
            out.push_str(part);
            break;
        }
        open = !open;
        out.push_str(if open { "<code>" } else { "</code>" });
        out.push_str(part);
    }
    out
}

const STYLE: &str = "
:root{--ok:#1a7f37;--bad:#cf222e;--skip:#9a6700;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1f2328}
header{padding:20px 28px;border-bottom:1px solid var(--line);background:var(--bg)}
h1{margin:0 0 6px;font-size:22px}h2{font-size:18px;margin:28px 0 10px}h3{font-size:15px;margin:14px 0 6px}
main{padding:0 28px 40px;max-width:1200px}
.verdict{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-weight:600}
.verdict.pass{background:var(--ok);color:#fff}.verdict.fail{background:var(--bad);color:#fff}
.counts{display:flex;gap:14px;flex-wrap:wrap;margin-top:10px}
.count{border:1px solid var(--line);border-radius:6px;padding:6px 12px;background:#fff}
.count b{display:block;font-size:20px}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--bg);font-weight:600}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;word-break:break-all}
.pass{color:var(--ok)}.fail,.error{color:var(--bad)}.skipped{color:var(--skip)}.muted{color:var(--muted)}
details{border:1px solid var(--line);border-radius:6px;margin:6px 0;background:#fff}
summary{cursor:pointer;padding:8px 12px;display:flex;gap:12px;align-items:baseline;list-style:none}
summary::-webkit-details-marker{display:none}
summary::before{content:'▸';color:var(--muted);width:1em;flex:none}details[open]>summary::before{content:'▾'}
summary:hover{background:var(--bg)}
.hint{color:var(--muted);font-size:13px;margin:-4px 0 8px}
details>div{padding:4px 14px 12px}
.badge{font-weight:700;min-width:3.2em}
.diagnosis{border-left:4px solid var(--bad);background:#fff5f5;padding:8px 12px;margin:8px 0}
.diagnosis p{margin:2px 0}
";

fn badge(outcome: &Outcome) -> (&'static str, &'static str) {
    match outcome {
        Outcome::Passed => ("pass", "PASS"),
        Outcome::Failed => ("fail", "FAIL"),
        Outcome::Error(_) => ("error", "ERROR"),
        Outcome::Skipped(_) => ("skipped", "SKIP"),
    }
}

fn diagnosis_html(d: &Diagnosis) -> String {
    format!(
        "<div class=\"diagnosis\" data-check=\"{}\"><p><b>Cause:</b> {}</p><p><b>Fix:</b> {}</p></div>",
        esc(&d.check),
        rich(&d.cause),
        rich(&d.fix)
    )
}

/// The page's head and the counts.
fn page_header(result: &RunResult) -> String {
    let t = result.totals();
    let passed = result.exit_code() == crate::exit::ExitCode::Success;
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    h.push_str(&format!(
        "<title>fhircheck report: {}</title>",
        if passed { "passed" } else { "failed" }
    ));
    h.push_str(&format!("<style>{STYLE}</style></head><body>"));
    h.push_str(&format!(
        "<header><h1>fhircheck report <span class=\"verdict {}\" id=\"verdict\">{}</span></h1>\
         <div class=\"muted\">{} · {} ms · fhircheck {}</div><div class=\"counts\">",
        if passed { "pass" } else { "fail" },
        if passed { "PASSED" } else { "FAILED" },
        esc(&crate::clock::utc(result.started_at)),
        result.duration_ms,
        env!("CARGO_PKG_VERSION")
    ));
    for (label, n) in [
        ("requests", t.requests),
        ("passed", t.passed),
        ("failed", t.failed),
        ("errors", t.errors),
        ("skipped", t.skipped),
        ("assertions failed", t.assertions_failed),
        ("token failures", t.token_failures),
    ] {
        h.push_str(&format!("<div class=\"count\"><b>{n}</b>{label}</div>"));
    }
    h.push_str("</div></header><main>");
    h
}

/// A failed request, what was expected and found, and its diagnosis.
fn failure_section(
    r: &RequestStep,
    claims: Option<&serde_json::Map<String, serde_json::Value>>,
) -> String {
    let mut fixes = String::new();
    let mut name = r.folders.clone();
    name.push(r.name.clone());
    fixes.push_str(&format!(
        "<section class=\"failure\" data-request=\"{}\"><h3 class=\"fail\">{} <code>{} {}</code> → {}</h3>",
        esc(&r.name),
        esc(&name.join(" / ")),
        esc(&r.method),
        esc(&r.url),
        r.status.map_or("no answer".into(), |s| s.to_string())
    ));
    if let Outcome::Error(e) = &r.outcome {
        fixes.push_str(&format!("<p class=\"mono\">{}</p>", esc(e)));
    }
    for a in r.assertions.iter().filter(|a| a.failed()) {
        fixes.push_str(&format!(
            "<p><b>{}</b>: expected <code>{}</code>, actual <code>{}</code></p>",
            esc(&a.name),
            esc(&a.expected),
            esc(&a.actual)
        ));
    }
    for i in &r.issues {
        fixes.push_str(&format!(
            "<p>OperationOutcome: <code>{}</code></p>",
            esc(&i.to_string())
        ));
    }
    if let Some(d) = diagnose::request_with_claims(r, claims) {
        fixes.push_str(&diagnosis_html(&d));
    }
    fixes.push_str("</section>");
    fixes
}

/// "What needs fixing": failed tokens and requests, first on the page.
fn fixes(result: &RunResult) -> String {
    let mut fixes = String::new();
    for c in &result.collections {
        let mut claims = None;
        for step in &c.steps {
            match step {
                Step::Token(tok) => match &tok.result {
                    Ok(i) => claims = Some(&i.raw_claims),
                    Err(e) => {
                        fixes.push_str(&format!("<section class=\"failure\"><h3 class=\"fail\">token <code>{}</code> could not be obtained</h3><p class=\"mono\">{}</p>", esc(&tok.profile), esc(&e.headline())));
                        if let Some(d) = diagnose::token_error(e) {
                            fixes.push_str(&diagnosis_html(&d));
                        }
                        fixes.push_str("</section>");
                    }
                },
                Step::Request(r) if matches!(r.outcome, Outcome::Failed | Outcome::Error(_)) => {
                    fixes.push_str(&failure_section(r, claims));
                }
                Step::Request(_) => {}
            }
        }
    }
    fixes
}

/// A token step, with its claims; open when it failed, or when a request of its run failed
/// (the claims are what explains a 401 or 403).
fn token_details(tok: &TokenStep, run_failed: bool) -> String {
    let mut h = String::new();
    let ok = tok.result.is_ok();
    h.push_str(&format!(
        "<details class=\"token\"{}><summary><span class=\"badge {}\">{}</span><span>token <code>{}</code> ({})</span><span class=\"muted mono\">{}</span><span class=\"muted\">{} ms</span></summary><div>",
        if ok && !run_failed { "" } else { " open" },
        if ok { "pass" } else { "fail" },
        if ok { "PASS" } else { "FAIL" },
        esc(&tok.profile),
        esc(&tok.label),
        esc(tok.endpoint.as_deref().unwrap_or("")),
        tok.duration_ms
    ));
    match &tok.result {
        Ok(info) if info.is_jwt => {
            h.push_str("<h3>Claims <span class=\"muted\">(decoded, signature not verified)</span></h3><table class=\"claims\">");
            for (k, v) in &info.claims {
                h.push_str(&format!(
                    "<tr><th>{}</th><td class=\"mono\">{}</td></tr>",
                    esc(k),
                    esc(v)
                ));
            }
            h.push_str("</table>");
            for w in &info.warnings {
                h.push_str(&format!("<p class=\"skipped\">warning: {}</p>", rich(w)));
            }
        }
        Ok(_) => h.push_str("<p class=\"muted\">The token is opaque (not a JWT).</p>"),
        Err(e) => h.push_str(&format!(
            "<p class=\"mono fail\">{}</p>",
            esc(&e.headline())
        )),
    }
    h.push_str("</div></details>");
    h
}

/// A request step, its checks and captures; open when it failed.
fn request_details(r: &RequestStep) -> String {
    let mut h = String::new();
    let (class, label) = badge(&r.outcome);
    let mut name = r.folders.clone();
    name.push(r.name.clone());
    h.push_str(&format!(
        "<details class=\"request\" data-outcome=\"{class}\"{}><summary><span class=\"badge {class}\">{label}</span><span>{}</span><span class=\"muted mono\">{} {}</span><span>{}</span><span class=\"muted\">{} ms</span></summary><div>",
        if matches!(r.outcome, Outcome::Failed | Outcome::Error(_)) { " open" } else { "" },
        esc(&name.join(" / ")),
        esc(&r.method),
        esc(&r.url),
        r.status.map_or("-".into(), |s| s.to_string()),
        r.duration_ms
    ));
    if let Outcome::Skipped(why) | Outcome::Error(why) = &r.outcome {
        h.push_str(&format!("<p class=\"{class}\">{}</p>", esc(why)));
    }
    if !r.assertions.is_empty() {
        h.push_str("<table><tr><th></th><th>check</th><th>expected</th><th>actual</th></tr>");
        for a in &r.assertions {
            h.push_str(&format!(
                "<tr><td class=\"{}\">{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
                if a.passed { "pass" } else if a.warning { "skipped" } else { "fail" },
                if a.passed { "✔" } else if a.warning { "!" } else { "✘" },
                esc(&a.name),
                esc(&a.expected),
                esc(&a.actual)
            ));
        }
        h.push_str("</table>");
    }
    if !r.captures.is_empty() {
        h.push_str("<h3>Captured</h3><table>");
        for (k, v) in &r.captures {
            h.push_str(&format!(
                "<tr><th>{}</th><td class=\"mono\">{}</td></tr>",
                esc(k),
                esc(v)
            ));
        }
        h.push_str("</table>");
    }
    h.push_str("</div></details>");
    h
}

pub fn render(result: &RunResult) -> String {
    let mut h = page_header(result);
    let fixes = fixes(result);
    if !fixes.is_empty() {
        h.push_str("<h2 id=\"failures\">What needs fixing</h2>");
        h.push_str(&fixes);
    }
    for c in &result.collections {
        h.push_str(&format!(
            "<h2>{} <span class=\"muted mono\">{}</span></h2><p class=\"hint\">Each row opens (▸) to its checks, captures and token claims.</p>",
            esc(&c.name),
            esc(&c.source)
        ));
        let run_failed = c.steps.iter().any(|s| {
            matches!(s, Step::Request(r) if matches!(r.outcome, Outcome::Failed | Outcome::Error(_)))
        });
        for step in &c.steps {
            h.push_str(&match step {
                Step::Token(tok) => token_details(tok, run_failed),
                Step::Request(r) => request_details(r),
            });
        }
    }
    h.push_str("</main></body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn backticks_become_code_and_text_stays_escaped() {
        assert_eq!(
            super::rich("use `a<b>` or `c`"),
            "use <code>a&lt;b&gt;</code> or <code>c</code>"
        );
        assert_eq!(super::rich("odd ` tick"), "odd ` tick");
        assert_eq!(super::rich("none"), "none");
    }
}

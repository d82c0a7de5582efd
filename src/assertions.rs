//! Expectations compiled from a collection, and their evaluation: pure functions of a
//! response, no I/O. Every result keeps what was expected and what was found.

use serde::Serialize;
use serde_json::Value;

use crate::collection::{BundleExpect, JsonType};
use crate::compare::FhirPathCheck;
use crate::shape::Shape;
use crate::text::{shorten, show};

#[derive(Debug, Clone)]
pub enum StatusMatcher {
    Codes(Vec<u16>),
    Class(u16),
}

impl StatusMatcher {
    fn matches(&self, status: u16) -> bool {
        match self {
            StatusMatcher::Codes(c) => c.contains(&status),
            StatusMatcher::Class(c) => status / 100 == *c,
        }
    }

    fn describe(&self) -> String {
        match self {
            StatusMatcher::Codes(c) if c.len() == 1 => c[0].to_string(),
            StatusMatcher::Codes(c) => format!(
                "one of {}",
                c.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
            ),
            StatusMatcher::Class(c) => format!("{c}xx"),
        }
    }
}

#[derive(Debug, Clone)]
pub enum HeaderPredicate {
    Equals(String),
    Contains(String),
    Matches(regex::Regex),
    Exists(bool),
    NotEquals(String),
    NotContains(String),
    OneOf(Vec<String>),
    NoneOf(Vec<String>),
}

#[derive(Debug, Clone)]
pub enum JsonPredicate {
    Equals(Value),
    NotEquals(Value),
    LessThan(f64),
    GreaterThan(f64),
    Contains(Value),
    Matches(regex::Regex),
    Exists(bool),
    Count(usize),
    Type(JsonType),
}

#[derive(Debug, Clone)]
pub struct JsonCheck {
    pub path_text: String,
    pub path: serde_json_path::JsonPath,
    pub predicates: Vec<JsonPredicate>,
}

/// A request's expectations, validated.
#[derive(Debug, Clone)]
pub struct CompiledExpect {
    /// `None` means "any 2xx", the default when a request states no status.
    pub status: Option<StatusMatcher>,
    pub headers: Vec<(String, HeaderPredicate)>,
    pub json: Vec<JsonCheck>,
    pub resource_type: Option<String>,
    pub no_error_outcome: bool,
    pub bundle: Option<BundleExpect>,
    pub max_duration_ms: Option<u64>,
    pub fhirpath: Vec<FhirPathCheck>,
    pub minimum: Option<Value>,
    pub request_method: Option<String>,
    pub request_url: Option<String>,
    /// Expectations whose failures are warnings.
    pub warn: Option<Box<CompiledExpect>>,
}

impl CompiledExpect {
    /// The expected values that may hold `{{variables}}`.
    pub fn templates(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for (_, p) in &self.headers {
            out.extend(header_strings(p));
        }
        for c in &self.fhirpath {
            for (_, t) in &c.constants {
                out.push(t.as_str());
            }
            for cmp in &c.compare {
                out.extend(crate::compare::templates(cmp));
            }
        }
        out.extend(self.request_url.as_deref());
        if let Some(w) = &self.warn {
            out.extend(w.templates());
        }
        for c in &self.json {
            for p in &c.predicates {
                if let JsonPredicate::Equals(Value::String(s))
                | JsonPredicate::NotEquals(Value::String(s))
                | JsonPredicate::Contains(Value::String(s)) = p
                {
                    out.push(s.as_str());
                }
            }
        }
        out
    }

    /// A copy with every expected string value rendered by `render`.
    pub fn render<E>(
        &self,
        render: &dyn Fn(&str) -> Result<String, E>,
    ) -> Result<CompiledExpect, E> {
        let mut e = self.clone();
        for (_, p) in &mut e.headers {
            for s in header_strings_mut(p) {
                *s = render(s)?;
            }
        }
        for c in &mut e.fhirpath {
            for (_, t) in &mut c.constants {
                *t = render(t)?;
            }
            for cmp in &mut c.compare {
                for s in crate::compare::templates_mut(cmp) {
                    *s = render(s)?;
                }
            }
        }
        if let Some(u) = &mut e.request_url {
            *u = render(u)?;
        }
        if let Some(w) = &self.warn {
            e.warn = Some(Box::new(w.render(render)?));
        }
        for c in &mut e.json {
            for p in &mut c.predicates {
                if let JsonPredicate::Equals(Value::String(s))
                | JsonPredicate::NotEquals(Value::String(s))
                | JsonPredicate::Contains(Value::String(s)) = p
                {
                    *s = render(s)?;
                }
            }
        }
        Ok(e)
    }
}

fn header_strings(p: &HeaderPredicate) -> Vec<&str> {
    match p {
        HeaderPredicate::Equals(s)
        | HeaderPredicate::Contains(s)
        | HeaderPredicate::NotEquals(s)
        | HeaderPredicate::NotContains(s) => vec![s.as_str()],
        HeaderPredicate::OneOf(v) | HeaderPredicate::NoneOf(v) => {
            v.iter().map(String::as_str).collect()
        }
        HeaderPredicate::Matches(_) | HeaderPredicate::Exists(_) => vec![],
    }
}

fn header_strings_mut(p: &mut HeaderPredicate) -> Vec<&mut String> {
    match p {
        HeaderPredicate::Equals(s)
        | HeaderPredicate::Contains(s)
        | HeaderPredicate::NotEquals(s)
        | HeaderPredicate::NotContains(s) => vec![s],
        HeaderPredicate::OneOf(v) | HeaderPredicate::NoneOf(v) => v.iter_mut().collect(),
        HeaderPredicate::Matches(_) | HeaderPredicate::Exists(_) => vec![],
    }
}

/// What assertions look at: a borrowed view of an `http::Answer`, with its body parsed once.
pub struct ResponseView<'a> {
    pub status: u16,
    pub headers: &'a [(String, String)],
    pub body: &'a str,
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<&'a Value>,
    pub duration_ms: u64,
    /// The method and URL the request went with.
    pub method: &'a str,
    pub url: &'a str,
}

impl ResponseView<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::http::header(self.headers, name)
    }
}

/// One checked expectation.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct AssertionResult {
    /// e.g. `status`, `header Location`, `$.fhirVersion matches`.
    pub name: String,
    pub passed: bool,
    pub expected: String,
    pub actual: String,
    /// A check whose failure is a warning (`expect.warn`, a TestScript `warningOnly`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warning: bool,
}

impl AssertionResult {
    /// Not met, and not only a warning: this fails the step.
    pub fn failed(&self) -> bool {
        !self.passed && !self.warning
    }

    /// Not met, but only a warning.
    pub fn warned(&self) -> bool {
        !self.passed && self.warning
    }
}

fn result(name: String, passed: bool, expected: String, actual: String) -> AssertionResult {
    AssertionResult {
        name,
        passed,
        expected,
        actual,
        warning: false,
    }
}

fn status_result(expect: &CompiledExpect, status: u16) -> AssertionResult {
    match &expect.status {
        Some(m) => result(
            "status".into(),
            m.matches(status),
            m.describe(),
            status.to_string(),
        ),
        None => result(
            "status".into(),
            (200..300).contains(&status),
            "2xx".into(),
            status.to_string(),
        ),
    }
}

fn header_result(name: &str, p: &HeaderPredicate, actual: Option<&str>) -> AssertionResult {
    let shown = actual.map_or_else(|| "(absent)".to_string(), |a| shorten(a, 120));
    let (label, passed, expected) = match p {
        HeaderPredicate::Equals(v) => ("equals", actual == Some(v.as_str()), v.clone()),
        HeaderPredicate::Contains(v) => (
            "contains",
            actual.is_some_and(|a| a.contains(v.as_str())),
            format!("contains {v:?}"),
        ),
        HeaderPredicate::Matches(re) => (
            "matches",
            actual.is_some_and(|a| re.is_match(a)),
            format!("matches regex `{}`", re.as_str()),
        ),
        HeaderPredicate::Exists(want) => (
            "exists",
            actual.is_some() == *want,
            if *want { "present" } else { "absent" }.to_string(),
        ),
        HeaderPredicate::NotEquals(v) => (
            "not equals",
            actual.is_some_and(|a| a != v),
            format!("not {v:?}"),
        ),
        HeaderPredicate::NotContains(v) => (
            "does not contain",
            !actual.is_some_and(|a| a.contains(v.as_str())),
            format!("does not contain {v:?}"),
        ),
        HeaderPredicate::OneOf(v) => (
            "in",
            actual.is_some_and(|a| v.iter().any(|x| x == a)),
            format!("one of {}", v.join(", ")),
        ),
        HeaderPredicate::NoneOf(v) => (
            "not in",
            actual.is_some_and(|a| !v.iter().any(|x| x == a)),
            format!("none of {}", v.join(", ")),
        ),
    };
    result(format!("header {name} {label}"), passed, expected, shown)
}

fn no_error_outcome_result(json: &Value) -> AssertionResult {
    let issues = outcome_issues(json);
    let errors: Vec<&OutcomeIssue> = issues
        .iter()
        .filter(|i| matches!(i.severity.as_str(), "error" | "fatal"))
        .collect();
    result(
        "no error OperationOutcome".into(),
        errors.is_empty(),
        "no OperationOutcome issue of severity error or fatal".into(),
        if errors.is_empty() {
            "none".into()
        } else {
            errors
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        },
    )
}

/// "a Patient", "an OperationOutcome", or what a non-resource is.
fn resource_phrase(json: &Value) -> String {
    match json.get("resourceType").and_then(Value::as_str) {
        Some(rt) if rt.starts_with(['A', 'E', 'I', 'O', 'U']) => format!("an {rt}"),
        Some(rt) => format!("a {rt}"),
        None => "a JSON document that is not a FHIR resource".to_string(),
    }
}

fn bundle_result(b: &BundleExpect, json: &Value) -> AssertionResult {
    let is_bundle = json.get("resourceType").and_then(Value::as_str) == Some("Bundle");
    let kind = json.get("type").and_then(Value::as_str);
    let entries = json
        .get("entry")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let want_kind = b.kind.as_deref();
    let expected = format!(
        "a {}Bundle{}",
        want_kind.map(|k| format!("{k} ")).unwrap_or_default(),
        b.min_entries
            .map(|n| format!(
                " with at least {n} entr{}",
                if n == 1 { "y" } else { "ies" }
            ))
            .unwrap_or_default()
    );
    let passed = is_bundle
        && want_kind.is_none_or(|k| kind == Some(k))
        && b.min_entries.is_none_or(|n| entries >= n);
    let actual = if is_bundle {
        format!(
            "a {} Bundle with {entries} entries",
            kind.unwrap_or("(untyped)")
        )
    } else {
        resource_phrase(json)
    };
    result("bundle".into(), passed, expected, actual)
}

/// The expectations that read the JSON body.
fn json_results(expect: &CompiledExpect, json: &Value, out: &mut Vec<AssertionResult>) {
    for check in &expect.json {
        let nodes: Vec<&Value> = check.path.query(json).all();
        for p in &check.predicates {
            out.push(json_predicate(&check.path_text, &nodes, p));
        }
    }
    if let Some(rt) = &expect.resource_type {
        let actual = json.get("resourceType").and_then(Value::as_str);
        out.push(result(
            "resourceType".into(),
            actual == Some(rt.as_str()),
            rt.clone(),
            actual.map_or_else(|| "(none)".into(), str::to_string),
        ));
    }
    if expect.no_error_outcome {
        out.push(no_error_outcome_result(json));
    }
    if let Some(b) = &expect.bundle {
        out.push(bundle_result(b, json));
    }
}

/// What of a JSON body the expectations read: the JSONPaths (whole where a value is compared,
/// the outline where only a count, a type or a length is), `resourceType`, and a Bundle's type and
/// entry count.
pub fn shape(expect: &CompiledExpect) -> Shape {
    let mut s = Shape::outline();
    for check in &expect.json {
        let only_outline = check
            .predicates
            .iter()
            .all(|p| matches!(p, JsonPredicate::Count(_) | JsonPredicate::Type(_)));
        let leaf = if only_outline {
            Shape::outline()
        } else {
            Shape::whole()
        };
        s.merge(Shape::of_path(&check.path_text, leaf));
    }
    if expect.resource_type.is_some() || expect.bundle.is_some() {
        s.merge(Shape::of_path("$.resourceType", Shape::whole()));
    }
    if expect.bundle.is_some() {
        s.merge(Shape::of_path("$.type", Shape::whole()));
        s.merge(Shape::of_path("$.entry", Shape::outline()));
    }
    if expect.no_error_outcome {
        s.merge(outcome_shape().clone());
    }
    if !expect.fhirpath.is_empty() || expect.minimum.is_some() {
        s = Shape::whole();
    }
    if let Some(w) = &expect.warn {
        s.merge(shape(w));
    }
    s
}

/// What [`outcome_issues`] reads: an OperationOutcome's issues, and a Bundle entry's outcome.
pub fn outcome_shape() -> &'static Shape {
    static SHAPE: std::sync::OnceLock<Shape> = std::sync::OnceLock::new();
    SHAPE.get_or_init(|| build_outcome_shape().settle())
}

fn build_outcome_shape() -> Shape {
    let mut s = Shape::outline();
    for (path, leaf) in [
        ("$.resourceType", Shape::whole()),
        ("$.issue", Shape::whole()),
        ("$.entry", Shape::entry_outcomes()),
    ] {
        s.merge(Shape::of_path(path, leaf));
    }
    s
}

/// Evaluates every expectation against a response.
pub fn evaluate(expect: &CompiledExpect, r: &ResponseView<'_>) -> Vec<AssertionResult> {
    let mut out = vec![status_result(expect, r.status)];
    for (name, p) in &expect.headers {
        out.push(header_result(name, p, r.header(name)));
    }
    let needs_json = !expect.json.is_empty()
        || !expect.fhirpath.is_empty()
        || expect.minimum.is_some()
        || expect.resource_type.is_some()
        || expect.bundle.is_some()
        || expect.no_error_outcome;
    match r.json {
        Some(json) => {
            json_results(expect, json, &mut out);
            fhir_results(expect, json, &mut out);
        }
        None if needs_json => out.push(result(
            "body is JSON".into(),
            false,
            "a JSON body".into(),
            if r.body.trim().is_empty() {
                "an empty body".into()
            } else {
                format!("not JSON: {}", shorten(r.body.trim(), 80))
            },
        )),
        None => {}
    }
    if let Some(max) = expect.max_duration_ms {
        out.push(result(
            "duration".into(),
            r.duration_ms <= max,
            format!("at most {max} ms"),
            format!("{} ms", r.duration_ms),
        ));
    }
    request_results(expect, r, &mut out);
    if let Some(w) = &expect.warn {
        let mut warned = evaluate(w, r);
        if w.status.is_none() {
            // The warn block's own default status check would repeat the main one.
            warned.remove(0);
        }
        out.extend(warned.into_iter().map(|mut a| {
            a.warning = true;
            a
        }));
    }
    out
}

/// The one check of a page read on the way to the last: it answered 2xx.
pub fn status_only(status: u16) -> AssertionResult {
    result(
        "status".into(),
        (200..300).contains(&status),
        "2xx".into(),
        status.to_string(),
    )
}

/// A `$validate` answer: each error or fatal issue of its OperationOutcome a failed check,
/// each warning a warning, and one passed check when nothing is wrong.
pub fn validation_results(json: Option<&Value>) -> Vec<AssertionResult> {
    let issues = json.map(outcome_issues).unwrap_or_default();
    let mut out: Vec<AssertionResult> = issues
        .iter()
        .filter(|i| matches!(i.severity.as_str(), "error" | "fatal" | "warning"))
        .map(|i| {
            let mut r = result(
                format!("validation {}", i.severity),
                false,
                "no issue".into(),
                i.to_string(),
            );
            r.warning = i.severity == "warning";
            r
        })
        .collect();
    if out.iter().all(|r| r.warning) {
        out.insert(
            0,
            result(
                "validation".into(),
                json.is_some(),
                "an OperationOutcome with no error".into(),
                if json.is_some() {
                    "no error"
                } else {
                    "no OperationOutcome"
                }
                .into(),
            ),
        );
    }
    out
}

/// What was sent: the method and URL.
fn request_results(expect: &CompiledExpect, r: &ResponseView<'_>, out: &mut Vec<AssertionResult>) {
    if let Some(m) = &expect.request_method {
        out.push(result(
            "request method".into(),
            m.eq_ignore_ascii_case(r.method),
            m.to_ascii_uppercase(),
            r.method.to_string(),
        ));
    }
    if let Some(u) = &expect.request_url {
        out.push(result(
            "request URL".into(),
            r.url.contains(u.as_str()),
            format!("contains {u:?}"),
            shorten(r.url, 160),
        ));
    }
}

/// FHIRPath checks and the `minimum` check, on a JSON body.
fn fhir_results(expect: &CompiledExpect, json: &Value, out: &mut Vec<AssertionResult>) {
    // The body is read into the R4 model once, for every check.
    let typed = (!expect.fhirpath.is_empty()).then(|| crate::fhirpath::Typed::read(json));
    for check in &expect.fhirpath {
        let Some(typed) = &typed else { break };
        for v in crate::compare::fhirpath(check, typed) {
            out.push(result(
                format!("fhirpath {}", v.label),
                v.passed,
                v.expected,
                v.actual,
            ));
        }
    }
    if let Some(min) = &expect.minimum {
        let verdict = crate::compare::minimum(json, min);
        out.push(result(
            "minimum content".into(),
            verdict.is_ok(),
            "every element of the minimum fixture".into(),
            verdict.err().unwrap_or_else(|| "all present".into()),
        ));
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The JSON type of a value, integers apart from other numbers.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn json_predicate(path: &str, nodes: &[&Value], p: &JsonPredicate) -> AssertionResult {
    let single = if nodes.len() == 1 {
        Some(nodes[0])
    } else {
        None
    };
    let actual_text = || match nodes.len() {
        0 => "nothing at this path".to_string(),
        1 => show(nodes[0]),
        n => format!(
            "{n} values: {}",
            shorten(
                &nodes
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                120
            )
        ),
    };
    let numeric = |f: &dyn Fn(f64) -> bool| single.and_then(as_f64).is_some_and(f);
    let (label, passed, expected, actual) = match p {
        JsonPredicate::Equals(v) => ("equals", single == Some(v), show(v), actual_text()),
        JsonPredicate::NotEquals(v) => (
            "not equals",
            single.is_some_and(|n| n != v),
            format!("not {}", show(v)),
            actual_text(),
        ),
        JsonPredicate::LessThan(x) => (
            "less than",
            numeric(&|n| n < *x),
            format!("less than {x}"),
            actual_text(),
        ),
        JsonPredicate::GreaterThan(x) => (
            "greater than",
            numeric(&|n| n > *x),
            format!("greater than {x}"),
            actual_text(),
        ),
        JsonPredicate::Contains(v) => {
            let passed = match (single, v) {
                (Some(Value::String(s)), Value::String(sub)) => s.contains(sub.as_str()),
                (Some(Value::Array(a)), _) => a.contains(v),
                _ => nodes.len() > 1 && nodes.contains(&v),
            };
            (
                "contains",
                passed,
                format!("contains {}", show(v)),
                actual_text(),
            )
        }
        JsonPredicate::Matches(re) => (
            "matches",
            single
                .and_then(Value::as_str)
                .is_some_and(|s| re.is_match(s)),
            format!("matches regex `{}`", re.as_str()),
            actual_text(),
        ),
        JsonPredicate::Exists(want) => (
            "exists",
            nodes.is_empty() != *want,
            if *want {
                "a value"
            } else {
                "nothing at this path"
            }
            .to_string(),
            actual_text(),
        ),
        JsonPredicate::Count(n) => {
            let count = match single {
                Some(Value::Array(a)) => a.len(),
                _ => nodes.len(),
            };
            ("count", count == *n, n.to_string(), count.to_string())
        }
        JsonPredicate::Type(t) => {
            let actual_type = single.map(json_type);
            let passed = match (t, actual_type) {
                (JsonType::Number, Some("integer" | "number")) => true,
                (t, Some(a)) => t.to_string() == a,
                _ => false,
            };
            (
                "type",
                passed,
                t.to_string(),
                actual_type.map_or_else(actual_text, str::to_string),
            )
        }
    };
    result(format!("{path} {label}"), passed, expected, actual)
}

/// One issue of an OperationOutcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct OutcomeIssue {
    pub severity: String,
    pub code: String,
    pub diagnostics: Option<String>,
}

impl std::fmt::Display for OutcomeIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.severity, self.code)?;
        if let Some(d) = &self.diagnostics {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

/// The issues of an OperationOutcome body (also one nested in a Bundle entry's response).
pub fn outcome_issues(json: &Value) -> Vec<OutcomeIssue> {
    let mut out = Vec::new();
    collect_outcome(json, &mut out);
    if let Some(entries) = json.get("entry").and_then(Value::as_array) {
        for e in entries {
            if let Some(o) = e.pointer("/response/outcome") {
                collect_outcome(o, &mut out);
            }
            if let Some(r) = e.get("resource") {
                if e.pointer("/search/mode").and_then(Value::as_str) == Some("outcome") {
                    collect_outcome(r, &mut out);
                }
            }
        }
    }
    out
}

fn collect_outcome(json: &Value, out: &mut Vec<OutcomeIssue>) {
    if json.get("resourceType").and_then(Value::as_str) != Some("OperationOutcome") {
        return;
    }
    for issue in json
        .get("issue")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let text = |k: &str| {
            issue
                .get(k)
                .and_then(Value::as_str)
                .map(|s| crate::text::clean(s).into_owned())
        };
        out.push(OutcomeIssue {
            severity: text("severity").unwrap_or_else(|| "error".into()),
            code: text("code").unwrap_or_else(|| "unknown".into()),
            diagnostics: text("diagnostics").or_else(|| {
                issue
                    .pointer("/details/text")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collection::Expect;
    use crate::plan::compile;
    use serde_json::json;

    fn expect(v: Value) -> CompiledExpect {
        let e: Expect = serde_json::from_value(v).unwrap();
        let mut problems = Vec::new();
        let c = compile(e, "t", &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        c
    }

    fn run(e: &CompiledExpect, status: u16, body: &Value) -> Vec<AssertionResult> {
        let headers = vec![
            (
                "Content-Type".to_string(),
                "application/fhir+json; charset=utf-8".to_string(),
            ),
            (
                "Location".to_string(),
                "http://x/fhir/Patient/abc/_history/1".to_string(),
            ),
        ];
        let text = body.to_string();
        evaluate(
            e,
            &ResponseView {
                status,
                headers: &headers,
                body: &text,
                json: Some(body),
                duration_ms: 12,
                method: "GET",
                url: "http://h/fhir/Patient?name=x",
            },
        )
    }

    #[test]
    fn status_forms() {
        let b = json!({});
        assert!(run(&expect(json!({"status": 201})), 201, &b)[0].passed);
        assert!(run(&expect(json!({"status": [200, 201]})), 200, &b)[0].passed);
        assert!(run(&expect(json!({"status": "4xx"})), 404, &b)[0].passed);
        let r = &run(&expect(json!({"status": "2xx"})), 403, &b)[0];
        assert!(!r.passed);
        assert_eq!((r.expected.as_str(), r.actual.as_str()), ("2xx", "403"));
        assert!(
            !run(&expect(json!({})), 500, &b)[0].passed,
            "default is 2xx"
        );
    }

    #[test]
    fn header_checks() {
        let e = expect(json!({"headers": {
            "content-type": {"matches": "fhir\\+json"},
            "Location": {"contains": "/Patient/"},
            "ETag": {"exists": false},
            "X-Missing": "v"}}));
        let r = run(&e, 200, &json!({}));
        let passed: Vec<bool> = r.iter().skip(1).map(|a| a.passed).collect();
        assert_eq!(passed, vec![true, true, true, false]);
        assert_eq!(r[4].actual, "(absent)");
    }

    #[test]
    fn json_predicates() {
        let body = json!({"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
            "format": ["json", "xml"], "total": 3, "name": "x",
            "entry": [{"id": 1}, {"id": 2}]});
        let e = expect(json!({"json": [
            {"path": "$.fhirVersion", "matches": "^4\\.", "type": "string"},
            {"path": "$.format", "contains": "json", "count": 2},
            {"path": "$.total", "greater_than": 2, "less_than": 4, "type": "integer", "not_equals": 4},
            {"path": "$.entry[*].id", "count": 2},
            {"path": "$.name", "equals": "x", "exists": true},
            {"path": "$.nope", "exists": false},
            {"path": "$.nope", "equals": 1}]}));
        let r = run(&e, 200, &body);
        let failed: Vec<&str> = r
            .iter()
            .filter(|a| !a.passed)
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(failed, vec!["$.nope equals"]);
        assert_eq!(r.last().unwrap().actual, "nothing at this path");
    }

    #[test]
    fn fhir_shortcuts() {
        let e = expect(json!({"resource_type": "Bundle", "no_error_outcome": true,
            "bundle": {"type": "searchset", "min_entries": 1}}));
        let ok =
            json!({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {}}]});
        assert!(run(&e, 200, &ok).iter().all(|a| a.passed));
        let oo = json!({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "forbidden", "diagnostics": "Authorization failed."}]});
        let r = run(&e, 403, &oo);
        let bad: Vec<&AssertionResult> = r.iter().filter(|a| !a.passed).collect();
        assert_eq!(bad.len(), 4);
        assert_eq!(bad[2].actual, "error forbidden: Authorization failed.");
        assert_eq!(bad[3].actual, "an OperationOutcome");
    }

    #[test]
    fn non_json_body_is_one_clear_failure() {
        let e = expect(json!({"resource_type": "Patient"}));
        let headers = vec![];
        let r = evaluate(
            &e,
            &ResponseView {
                status: 200,
                headers: &headers,
                body: "<html>proxy</html>",
                json: None,
                duration_ms: 1,
                method: "GET",
                url: "http://h/fhir/Patient",
            },
        );
        assert_eq!(r[1].name, "body is JSON");
        assert!(r[1].actual.contains("<html>"));
    }
}

#[cfg(test)]
mod shape_tests {
    use super::*;
    use serde_json::json;

    /// The shaped parse keeps every OperationOutcome the report shows, whatever else is kept.
    #[test]
    fn outcome_issues_survive_the_shaped_parse() {
        let bundle = json!({
            "resourceType": "Bundle", "type": "searchset",
            "entry": [
                {"resource": {"resourceType": "Patient", "id": "p1"}, "search": {"mode": "match"}},
                {"resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "processing", "diagnostics": "too many"}]}, "search": {"mode": "outcome"}},
                {"response": {"status": "400", "outcome": {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid"}]}}}
            ]
        });
        let bytes = bundle.to_string();
        let full = outcome_issues(&bundle);
        assert_eq!(full.len(), 2);
        let mut with_ids = outcome_shape().clone();
        with_ids.merge(Shape::of_path("$.entry[*].resource.id", Shape::whole()));
        for shape in [outcome_shape().clone(), with_ids] {
            let v = shape.parse(bytes.as_bytes()).unwrap();
            assert_eq!(outcome_issues(&v), full);
        }
        let oo = json!({"resourceType": "OperationOutcome", "issue": [{"severity": "fatal", "code": "exception"}]});
        let v = outcome_shape().parse(oo.to_string().as_bytes()).unwrap();
        assert_eq!(outcome_issues(&v), outcome_issues(&oo));
    }
}

//! The native front end: a validated [`Plan`] run through the execution core. It keeps what
//! is native: `when` conditions, `{{variable}}` templates, the FHIR defaults of a request
//! (`Accept`/`Content-Type: application/fhir+json`), expectations and captures, and `cleanup`
//! requests that run even after `--bail`.

use std::collections::HashMap;

use serde_json::Value;

use crate::assertions::{self, AssertionResult, ResponseView};
use crate::auth::{ResolvedProfile, Unusable};
use crate::collection::AuthKind;
use crate::exec::{Context, Driver, Outgoing, Prepared, StepLabel, TokenNeed};
use crate::http::Answer;
use crate::plan::{join_url, CaptureSource, Plan, PlannedRequest};
use crate::result::{Outcome, Step};
use crate::secret::{redact, MASK};
use crate::vars::{self, Layer, Variables};

/// Runs a native collection's requests in order.
pub struct NativeDriver<'a> {
    plan: &'a Plan,
    vars: Variables,
    source: String,
    next: usize,
    /// Set by `--bail`: why the remaining requests (other than cleanup) are skipped.
    stopped: Option<String>,
    /// Which request captures each variable, for "not captured" explanations.
    capture_owner: HashMap<String, String>,
}

impl<'a> NativeDriver<'a> {
    pub fn new(plan: &'a Plan, vars: Variables, source: &str) -> Self {
        let mut capture_owner = HashMap::new();
        for r in &plan.requests {
            for (n, _) in &r.captures {
                capture_owner
                    .entry(n.clone())
                    .or_insert_with(|| r.name.clone());
            }
        }
        NativeDriver {
            plan,
            vars,
            source: source.to_string(),
            next: 0,
            stopped: None,
            capture_owner,
        }
    }

    /// The request last prepared.
    fn current(&self) -> Option<&'a PlannedRequest> {
        self.next
            .checked_sub(1)
            .and_then(|i| self.plan.requests.get(i))
    }

    fn label(req: &PlannedRequest, url: &str) -> StepLabel {
        let mut l = StepLabel::new(&req.name, req.folders.clone(), req.method.as_str(), url);
        l.cleanup = req.cleanup;
        l
    }

    /// Why a request is skipped for a variable without a value.
    fn missing(&self, e: &vars::VarError) -> String {
        missing_var_reason(e, &self.capture_owner)
    }

    /// The step for a request whose `when` does not hold, or whose condition can not render.
    fn unmet_condition(&self, req: &PlannedRequest) -> Option<Step> {
        let label = Self::label(req, &req.url);
        match conditions_hold(req, &self.vars) {
            Ok(true) => None,
            Ok(false) => {
                let cond = req.conditions.iter().find(|c| {
                    !self
                        .vars
                        .render(c)
                        .map(|r| truthy(&r.text))
                        .unwrap_or(false)
                });
                Some(label.skipped(&format!(
                    "condition `{}` is false",
                    cond.map(String::as_str).unwrap_or("when")
                )))
            }
            Err(e) => Some(label.skipped(&self.missing(&e))),
        }
    }

    /// The token a request needs, if its profile gives one.
    fn token_need(&self, req: &PlannedRequest) -> Option<TokenNeed> {
        let profile = req.auth.as_ref()?;
        let kind = self.plan.collection.auth.get(profile).map(|p| p.kind);
        (kind != Some(AuthKind::None)).then(|| TokenNeed {
            key: profile.clone(),
            profile: profile.clone(),
            base: self.plan.base_url(&self.vars),
            skip_reason: format!("no token: auth profile `{profile}` could not get one"),
        })
    }

    /// The captures of a passed request, set as variables; a missing value is a failed check.
    fn capture_all(
        &mut self,
        req: &PlannedRequest,
        view: &ResponseView<'_>,
        results: &mut Vec<AssertionResult>,
    ) -> Vec<(String, String)> {
        let mut captures = Vec::new();
        for (name, cap) in &req.captures {
            match capture(cap, view) {
                Ok(value) => {
                    let v = vars::Value::new(name, value, cap.secret);
                    let shown = if v.secret {
                        MASK.to_string()
                    } else {
                        redact(&v.text).into_owned()
                    };
                    captures.push((name.clone(), shown));
                    self.vars.set(Layer::Captured, name, v);
                }
                Err(why) => results.push(AssertionResult {
                    name: format!("capture {name}"),
                    passed: false,
                    expected: describe_capture(cap),
                    actual: why,
                }),
            }
        }
        captures
    }
}

impl Driver for NativeDriver<'_> {
    fn name(&self) -> (String, String) {
        (self.plan.collection.name.clone(), self.source.clone())
    }

    fn planned(&self) -> usize {
        self.plan.requests.len()
    }

    fn prepare(&mut self, _ctx: &Context) -> Prepared {
        let Some(req) = self.plan.requests.get(self.next) else {
            return Prepared::End;
        };
        self.next += 1;
        if let Some(why) = &self.stopped {
            if !req.cleanup {
                return Prepared::Steps(vec![Self::label(req, &req.url).skipped(why)]);
            }
        }
        if let Some(step) = self.unmet_condition(req) {
            return Prepared::Steps(vec![step]);
        }
        Prepared::Request {
            label: Self::label(req, &req.url),
            token: self.token_need(req),
        }
    }

    fn render(&mut self, _ctx: &Context) -> Result<(StepLabel, Outgoing), Box<Step>> {
        let Some(req) = self.current() else {
            return Err(Box::new(
                StepLabel::new("(none)", vec![], "", "").errored("nothing was prepared", 0),
            ));
        };
        match render_request(req, self.plan, &self.vars) {
            Err(e) => Err(Box::new(
                Self::label(req, &req.url).skipped(&self.missing(&e)),
            )),
            Ok(out) => Ok((Self::label(req, &out.url), out)),
        }
    }

    fn resolve(&mut self, key: &str, ctx: &Context) -> Result<ResolvedProfile, Box<Unusable>> {
        self.plan.resolve_profile(key, &self.vars, &ctx.env)
    }

    fn judge(&mut self, label: &StepLabel, answer: &Answer, _ctx: &Context) -> Vec<Step> {
        let Some(req) = self.current() else {
            return vec![];
        };
        let body = answer.text();
        let json = answer.json_shaped(&req.body_shape);
        let view = ResponseView {
            status: answer.status,
            headers: &answer.headers,
            body: &body,
            json: json.as_ref(),
            duration_ms: crate::clock::millis(answer.duration),
        };
        let expect = match req.expect.render(&|t| self.vars.render(t).map(|r| r.text)) {
            Ok(e) => e,
            Err(e) => return vec![label.skipped(&self.missing(&e))],
        };
        let mut results = assertions::evaluate(&expect, &view);
        // A failed response is no source of values: an OperationOutcome has an `id` too.
        let captures = if results.iter().all(|a| a.passed) {
            self.capture_all(req, &view, &mut results)
        } else {
            vec![]
        };
        let passed = results.iter().all(|a| a.passed);
        for a in &mut results {
            a.actual = crate::exec::shown(&a.actual);
            a.expected = crate::exec::shown(&a.expected);
        }
        let mut step = label.answered(answer, json.as_ref());
        step.outcome = if passed {
            Outcome::Passed
        } else {
            Outcome::Failed
        };
        step.assertions = results;
        step.captures = captures;
        vec![Step::Request(step)]
    }

    fn bail(&mut self, why: String) {
        self.stopped = Some(why);
    }
}

/// A template value is "true" unless it renders to one of these.
pub fn truthy(text: &str) -> bool {
    !matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "" | "false" | "0" | "no" | "off"
    )
}

fn conditions_hold(req: &PlannedRequest, vars: &Variables) -> Result<bool, vars::VarError> {
    for c in &req.conditions {
        if !truthy(&vars.render(c)?.text) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn missing_var_reason(e: &vars::VarError, owners: &HashMap<String, String>) -> String {
    match owners.get(e.name()) {
        Some(owner) => format!(
            "`{}` has no value: \"{owner}\" did not capture it (it failed or did not run)",
            e.name()
        ),
        None => e.to_string(),
    }
}

fn render_json(v: &Value, vars: &Variables) -> Result<Value, vars::VarError> {
    Ok(match v {
        Value::String(s) => Value::String(vars.render(s)?.text),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| render_json(x, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => {
            let mut m = serde_json::Map::new();
            for (k, x) in o {
                m.insert(vars.render(k)?.text, render_json(x, vars)?);
            }
            Value::Object(m)
        }
        other => other.clone(),
    })
}

/// The request with every template rendered and the FHIR defaults applied.
fn render_request(
    req: &PlannedRequest,
    plan: &Plan,
    vars: &Variables,
) -> Result<Outgoing, vars::VarError> {
    let base = match &plan.collection.base_url {
        Some(b) => Some(vars.render(b)?.text),
        None => None,
    };
    let mut url = join_url(base.as_deref(), &vars.render(&req.url)?.text);
    let mut query = Vec::new();
    for (k, v) in &req.query {
        query.push((vars.render(k)?.text, vars.render(v)?.text));
    }
    if !query.is_empty() {
        let q = serde_urlencoded::to_string(&query).unwrap_or_default();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&q);
    }
    let mut headers = Vec::new();
    for (k, v) in &req.headers {
        headers.push((vars.render(k)?.text, vars.render(v)?.text));
    }
    if !has(&headers, "accept") {
        headers.push(("Accept".into(), "application/fhir+json".into()));
    }
    let body = match &req.body {
        Some(b) => render_body(b, vars, &mut headers)?,
        None => None,
    };
    Ok(Outgoing {
        method: req.method.clone(),
        url,
        headers,
        body,
    })
}

fn has(h: &[(String, String)], name: &str) -> bool {
    crate::http::header(h, name).is_some()
}

/// The body's bytes, and its Content-Type when the request sets none.
fn render_body(
    b: &crate::collection::Body,
    vars: &Variables,
    headers: &mut Vec<(String, String)>,
) -> Result<Option<Vec<u8>>, vars::VarError> {
    let (bytes, content_type) = if let Some(j) = &b.json {
        (
            render_json(j, vars)?.to_string().into_bytes(),
            "application/fhir+json".to_string(),
        )
    } else if let Some(f) = &b.form {
        let mut pairs = Vec::new();
        for (k, v) in f {
            pairs.push((vars.render(k)?.text, vars.render(v)?.text));
        }
        (
            serde_urlencoded::to_string(&pairs)
                .unwrap_or_default()
                .into_bytes(),
            "application/x-www-form-urlencoded".to_string(),
        )
    } else if let Some(t) = &b.text {
        (
            vars.render(t)?.text.into_bytes(),
            b.content_type
                .clone()
                .unwrap_or_else(|| "text/plain".into()),
        )
    } else {
        return Ok(None);
    };
    if !has(headers, "content-type") {
        headers.push(("Content-Type".into(), content_type));
    }
    Ok(Some(bytes))
}

fn describe_capture(c: &crate::plan::CompiledCapture) -> String {
    let src = match &c.source {
        CaptureSource::Json(p, _) => format!("a value at {p}"),
        CaptureSource::Header(h) => format!("a {h} header"),
    };
    match &c.regex {
        Some(r) => format!("{src} matching /{}/", r.as_str()),
        None => src,
    }
}

/// Reads a captured value out of a response.
pub fn capture(c: &crate::plan::CompiledCapture, r: &ResponseView<'_>) -> Result<String, String> {
    let raw = match &c.source {
        CaptureSource::Json(_, path) => {
            let Some(json) = r.json else {
                return Err("the body is not JSON".into());
            };
            let nodes = path.query(json).all();
            match nodes.first() {
                None => return Err("nothing at this path".into()),
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            }
        }
        CaptureSource::Header(h) => match r.header(h) {
            Some(v) => v.to_string(),
            None => return Err("the header is absent".into()),
        },
    };
    match &c.regex {
        None => Ok(raw),
        Some(re) => match re.captures(&raw) {
            Some(caps) => Ok(caps
                .get(1)
                .or_else(|| caps.get(0))
                .map(|m| m.as_str().to_string())
                .unwrap_or_default()),
            None => Err(format!("{} does not match", crate::text::shorten(&raw, 80))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_urls() {
        assert_eq!(
            join_url(Some("http://h/fhir/"), "/Patient"),
            "http://h/fhir/Patient"
        );
        assert_eq!(
            join_url(Some("http://h/fhir"), "metadata"),
            "http://h/fhir/metadata"
        );
        assert_eq!(
            join_url(Some("http://h/fhir"), "HTTPS://o/x"),
            "HTTPS://o/x"
        );
    }

    #[test]
    fn truthiness() {
        for f in ["", "false", "FALSE", "0", "no", "off", " "] {
            assert!(!truthy(f), "{f:?}");
        }
        for t in ["true", "1", "yes", "write"] {
            assert!(truthy(t));
        }
    }

    #[test]
    fn captures_from_json_and_header_with_regex() {
        let json = serde_json::json!({"id": "abc", "n": 3});
        let headers = vec![(
            "location".to_string(),
            "http://h/fhir/Patient/p-1/_history/1".to_string(),
        )];
        let view = ResponseView {
            status: 201,
            headers: &headers,
            body: "",
            json: Some(&json),
            duration_ms: 1,
        };
        let cap = |source, regex: Option<&str>| crate::plan::CompiledCapture {
            source,
            regex: regex.map(|r| regex::Regex::new(r).unwrap()),
            secret: false,
        };
        let p =
            |s: &str| CaptureSource::Json(s.into(), serde_json_path::JsonPath::parse(s).unwrap());
        assert_eq!(capture(&cap(p("$.id"), None), &view).unwrap(), "abc");
        assert_eq!(capture(&cap(p("$.n"), None), &view).unwrap(), "3");
        assert_eq!(
            capture(&cap(p("$.x"), None), &view).unwrap_err(),
            "nothing at this path"
        );
        let h = CaptureSource::Header("Location".into());
        assert_eq!(
            capture(&cap(h.clone(), Some("/Patient/([^/]+)")), &view).unwrap(),
            "p-1"
        );
        assert!(capture(&cap(h, Some("/Observation/(.+)")), &view).is_err());
    }
}

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
    /// A searchset being read page by page (`follow_next`).
    paging: Option<Paging>,
    /// The last ETag each resource URL answered with, for `if_match_last`.
    etags: HashMap<String, String>,
    /// The URL of the request last rendered, as sent.
    sent_url: String,
    /// A `next` link that was not followed, and why: a failed check of the last page.
    refused_next: Option<AssertionResult>,
}

/// The pages read so far of a request that follows `next` links.
struct Paging {
    /// The URL of the next page to read.
    next: String,
    /// Pages read so far.
    read: u32,
    /// The first page, with the entries of every page read so far.
    bundle: Value,
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
            paging: None,
            etags: HashMap::new(),
            sent_url: String::new(),
            refused_next: None,
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
                Err(_) if cap.optional => {}
                Err(why) => results.push(AssertionResult {
                    name: format!("capture {name}"),
                    passed: false,
                    expected: describe_capture(cap),
                    actual: why,
                    warning: false,
                }),
            }
        }
        captures
    }
}

/// What a page of a paged search leads to.
enum PageTurn {
    /// Another page is to be read; this step reports the one just read.
    More(Box<Step>),
    /// The last page: the Bundle with every page's entries.
    Last(Option<Value>),
}

impl NativeDriver<'_> {
    /// Adds a page to the search being read; asks for the next one while there is one and
    /// the limit allows.
    fn page(
        &mut self,
        req: &PlannedRequest,
        label: &StepLabel,
        answer: &Answer,
        json: Option<Value>,
    ) -> PageTurn {
        let mut paging = self.paging.take();
        let Some(page) = json else {
            return PageTurn::Last(paging.map(|p| p.bundle));
        };
        let read = paging.as_ref().map_or(1, |p| p.read + 1);
        let next = next_link(&page)
            .filter(|_| (200..300).contains(&answer.status))
            .and_then(|n| self.followable(&n));
        let bundle = match paging.take() {
            None => page,
            Some(p) => {
                let mut all = p.bundle;
                let more = page
                    .get("entry")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if let Some(Value::Array(e)) = all.get_mut("entry") {
                    e.extend(more);
                } else if let Some(o) = all.as_object_mut() {
                    o.insert("entry".into(), Value::Array(more));
                }
                all
            }
        };
        match next {
            Some(next) if read < req.pages => {
                let mut step = label.answered(answer, Some(&bundle));
                step.assertions = vec![crate::assertions::status_only(answer.status)];
                step.outcome = if step.assertions[0].passed {
                    Outcome::Passed
                } else {
                    Outcome::Failed
                };
                self.paging = Some(Paging { next, read, bundle });
                if !matches!(step.outcome, Outcome::Passed) {
                    self.paging = None;
                }
                PageTurn::More(Box::new(Step::Request(step)))
            }
            _ => PageTurn::Last(Some(bundle)),
        }
    }

    /// A `next` link as a URL to send the token to: only on the origin of the search itself. A
    /// link elsewhere is not followed, and the last page says so.
    fn followable(&mut self, next: &str) -> Option<String> {
        let url = reqwest::Url::parse(&self.sent_url)
            .and_then(|base| base.join(next))
            .ok()?
            .to_string();
        if crate::exec::same_origin(&url, &self.sent_url) {
            return Some(url);
        }
        self.refused_next = Some(AssertionResult {
            name: "next link".into(),
            passed: false,
            expected: "a next page on the origin of the search".into(),
            actual: format!(
                "{} (not followed: the token would go with it)",
                crate::text::shorten(&url, 120)
            ),
            warning: false,
        });
        None
    }

    /// The step for the answer to a request: its expectations, `$validate` issues, captures.
    fn verdict(
        &mut self,
        req: &PlannedRequest,
        label: &StepLabel,
        answer: &Answer,
        json: Option<&Value>,
    ) -> Vec<Step> {
        let body = answer.text();
        let view = ResponseView {
            status: answer.status,
            headers: &answer.headers,
            body: &body,
            json,
            duration_ms: crate::clock::millis(answer.duration),
            method: &label.method,
            url: &label.url,
        };
        let expect = match req.expect.render(&|t| self.vars.render(t).map(|r| r.text)) {
            Ok(e) => e,
            Err(e) => return vec![label.skipped(&self.missing(&e))],
        };
        let mut results = assertions::evaluate(&expect, &view);
        results.extend(self.refused_next.take());
        if req.validate_profile.is_some() {
            results.extend(assertions::validation_results(json));
        }
        // A failed response is no source of values: an OperationOutcome has an `id` too.
        let captures = if results.iter().all(|a| !a.failed()) {
            self.capture_all(req, &view, &mut results)
        } else {
            vec![]
        };
        let passed = results.iter().all(|a| !a.failed());
        for a in &mut results {
            a.actual = crate::exec::shown(&a.actual);
            a.expected = crate::exec::shown(&a.expected);
        }
        let mut step = label.answered(answer, json);
        step.outcome = if passed {
            Outcome::Passed
        } else {
            Outcome::Failed
        };
        step.assertions = results;
        step.captures = captures;
        vec![Step::Request(step)]
    }
}

/// The `next` link of a Bundle.
fn next_link(bundle: &Value) -> Option<String> {
    bundle
        .get("link")?
        .as_array()?
        .iter()
        .find(|l| l.get("relation").and_then(Value::as_str) == Some("next"))?
        .get("url")?
        .as_str()
        .map(str::to_string)
}

/// A resource's URL without its query and version: the key its ETag is kept under.
fn resource_key(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let url = match url.find("/_history/") {
        Some(i) => &url[..i],
        None => url,
    };
    url.trim_end_matches('/').to_string()
}

impl Driver for NativeDriver<'_> {
    fn name(&self) -> (String, String) {
        (self.plan.collection.name.clone(), self.source.clone())
    }

    fn planned(&self) -> usize {
        self.plan.requests.len()
    }

    fn prepare(&mut self, _ctx: &Context) -> Prepared {
        if let (Some(p), Some(req)) = (&self.paging, self.current()) {
            return Prepared::Request {
                label: Self::label(req, &p.next),
                token: self.token_need(req),
            };
        }
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
        let rendered = render_request(req, self.plan, &self.vars);
        let mut out = match rendered {
            Err(e) => {
                return Err(Box::new(
                    Self::label(req, &req.url).skipped(&self.missing(&e)),
                ))
            }
            Ok(out) => out,
        };
        if let Some(p) = &self.paging {
            out.url = p.next.clone();
            out.method = reqwest::Method::GET;
            out.body = None;
        }
        if req.if_match_last {
            match self.etags.get(&resource_key(&out.url)) {
                Some(tag) => out.headers.push(("If-Match".into(), tag.clone())),
                None => {
                    return Err(Box::new(Self::label(req, &out.url).skipped(
                        "`if_match_last`: no earlier answer from this URL carried an ETag; read the resource first",
                    )))
                }
            }
        }
        self.sent_url.clone_from(&out.url);
        let mut label = Self::label(req, &out.url);
        if let Some(p) = &self.paging {
            label.name = format!("{} (page {})", req.name, p.read + 1);
        }
        Ok((label, out))
    }

    fn resolve(&mut self, key: &str, ctx: &Context) -> Result<ResolvedProfile, Box<Unusable>> {
        self.plan.resolve_profile(key, &self.vars, &ctx.env)
    }

    fn judge(&mut self, label: &StepLabel, answer: &Answer, _ctx: &Context) -> Vec<Step> {
        let Some(req) = self.current() else {
            return vec![];
        };
        if let Some(tag) = crate::http::header(&answer.headers, "etag") {
            let key = match crate::http::header(&answer.headers, "location") {
                Some(l) if answer.status == 201 => resource_key(l),
                _ => resource_key(&label.url),
            };
            self.etags.insert(key, tag.to_string());
        }
        let mut json = answer.json_shaped(&req.body_shape);
        if req.pages > 1 {
            match self.page(req, label, answer, json.take()) {
                PageTurn::More(step) => return vec![*step],
                PageTurn::Last(all) => json = all,
            }
        }
        self.verdict(req, label, answer, json.as_ref())
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
        let version = match &plan.collection.fhir_version {
            Some(v) => vars.render(v)?.text,
            None => String::new(),
        };
        let accept = match version.trim() {
            "" => "application/fhir+json".to_string(),
            v => format!("application/fhir+json; fhirVersion={v}"),
        };
        headers.push(("Accept".into(), accept));
    }
    if let Some(t) = &req.if_none_exist {
        headers.push(("If-None-Exist".into(), vars.render(t)?.text));
    }
    let mut method = req.method.clone();
    if let Some(profile) = &req.validate_profile {
        let (path, q) = url
            .split_once('?')
            .map_or((url.as_str(), None), |(p, q)| (p, Some(q)));
        let profile = serde_urlencoded::to_string([("profile", vars.render(profile)?.text)])
            .unwrap_or_default();
        url = format!(
            "{}/$validate?{profile}{}",
            path.trim_end_matches('/'),
            q.map(|q| format!("&{q}")).unwrap_or_default()
        );
        method = reqwest::Method::POST;
    }
    let body = match &req.body {
        Some(b) => render_body(b, vars, &mut headers)?,
        None => None,
    };
    Ok(Outgoing {
        method,
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
        CaptureSource::FhirPath(e) => format!("a value of FHIRPath `{}`", e.text()),
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
        CaptureSource::FhirPath(e) => {
            let Some(json) = r.json else {
                return Err("the body is not JSON".into());
            };
            match e.eval(json, &HashMap::new()) {
                Ok(found) => match found.first() {
                    Some(f) => f.text(),
                    None => return Err("the expression gives nothing".into()),
                },
                Err(why) => return Err(format!("evaluation error: {why}")),
            }
        }
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
            method: "GET",
            url: "http://h/fhir/Patient",
        };
        let cap = |source, regex: Option<&str>| crate::plan::CompiledCapture {
            source,
            regex: regex.map(|r| regex::Regex::new(r).unwrap()),
            secret: false,
            optional: false,
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

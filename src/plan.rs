//! Validation of a loaded collection into a [`Plan`]: what serde could not check (folder vs
//! request fields, one-of choices, auth fields per type), JSONPaths, regular expressions and
//! expectations compiled once, and the preflight that renders every template before anything is
//! sent.

use std::collections::{HashMap, HashSet};
use std::fmt;

use indexmap::IndexMap;
use serde_json::Value;

use crate::assertions::{CompiledExpect, HeaderPredicate, JsonCheck, JsonPredicate, StatusMatcher};
use crate::collection::{
    did_you_mean, AuthKind, AuthProfile, Body, Collection, Expect, HeaderExpect, Item, StatusExpect,
};
use crate::vars::{self, Variables};

/// A problem found by validation, with the item it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// e.g. `requests[2] "Create patient"` or `auth.entra`.
    pub place: String,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  = help: {h}")?;
        }
        Ok(())
    }
}

/// One request in run order, with the folder path and conditions it inherits.
#[derive(Debug, Clone)]
pub struct PlannedRequest {
    pub place: String,
    pub folders: Vec<String>,
    pub name: String,
    pub method: reqwest::Method,
    pub url: String,
    pub headers: IndexMap<String, String>,
    pub query: IndexMap<String, String>,
    pub body: Option<Body>,
    /// `None`: anonymous.
    pub auth: Option<String>,
    pub conditions: Vec<String>,
    pub captures: Vec<(String, CompiledCapture)>,
    pub expect: CompiledExpect,
    pub cleanup: bool,
    /// What of a JSON answer the expectations, the captures and the report read.
    pub body_shape: crate::shape::Shape,
    /// How many searchset pages to read in all, following `next` links (1: no paging).
    pub pages: u32,
    pub if_none_exist: Option<String>,
    pub if_match_last: bool,
    pub validate_profile: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CompiledCapture {
    pub source: CaptureSource,
    pub regex: Option<regex::Regex>,
    pub secret: bool,
    /// No value leaves the variable unset instead of failing the request.
    pub optional: bool,
}

#[derive(Debug, Clone)]
pub enum CaptureSource {
    Json(String, serde_json_path::JsonPath),
    Header(String),
    FhirPath(crate::fhirpath::Expr),
}

/// A validated collection, ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub collection: Collection,
    pub requests: Vec<PlannedRequest>,
}

/// Joins a relative URL to the base URL; an absolute one stays as it is.
pub fn join_url(base: Option<&str>, url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return url.to_string();
    }
    match base {
        Some(b) => format!(
            "{}/{}",
            b.trim_end_matches('/'),
            url.trim_start_matches('/')
        ),
        None => url.to_string(),
    }
}

impl Plan {
    /// The collection's base URL, rendered; `None` when it has none or it does not render.
    pub fn base_url(&self, vars: &Variables) -> Option<String> {
        self.collection
            .base_url
            .as_deref()
            .and_then(|b| vars.render(b).ok())
            .map(|r| r.text)
    }

    /// An auth profile rendered into a credential. `Err` carries the label a token step shows
    /// (the profile's type) and why.
    pub fn resolve_profile(
        &self,
        name: &str,
        vars: &Variables,
        env: &HashMap<String, String>,
    ) -> Result<crate::auth::ResolvedProfile, Box<crate::auth::Unusable>> {
        let Some(p) = self.collection.auth.get(name) else {
            let e = crate::auth::TokenError::Profile {
                message: format!("auth profile `{name}` is not defined"),
            };
            return Err(Box::new(crate::auth::Unusable {
                label: String::new(),
                error: e,
            }));
        };
        let base = self.base_url(vars);
        crate::auth::resolve(name, p, vars, base.as_deref(), env).map_err(|e| {
            Box::new(crate::auth::Unusable {
                label: p.kind.to_string(),
                error: crate::auth::TokenError::Profile {
                    message: e.to_string(),
                },
            })
        })
    }
}

const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Validates what serde could not: folder vs request fields, one-of choices, JSONPaths and
/// regular expressions, auth profile names and the fields each auth type takes.
pub fn plan(collection: Collection) -> Result<Plan, Vec<Problem>> {
    let mut problems = Vec::new();
    for (name, profile) in &collection.auth {
        check_profile(name, profile, &mut problems);
    }
    let profile_names: Vec<&str> = collection.auth.keys().map(String::as_str).collect();
    if let Some(d) = &collection.default_auth {
        if d != "none" && !collection.auth.contains_key(d) {
            problems.push(unknown_profile("default_auth".into(), d, &profile_names));
        }
    }
    let default_auth = match &collection.default_auth {
        Some(d) if d == "none" => None,
        Some(d) => Some(d.clone()),
        None if collection.auth.len() == 1 => collection.auth.keys().next().cloned(),
        None => None,
    };
    let mut requests = Vec::new();
    let ctx = WalkCtx {
        profiles: &profile_names,
        default_auth: default_auth.as_deref(),
    };
    walk(
        &collection.requests,
        "requests",
        &[],
        &[],
        &ctx,
        &mut requests,
        &mut problems,
    );
    if requests.is_empty() && problems.is_empty() {
        problems.push(Problem {
            place: "requests".into(),
            message: "the collection has no requests".into(),
            hint: Some("add at least one request with a `name` and a `url`".into()),
        });
    }
    if problems.is_empty() {
        Ok(Plan {
            collection,
            requests,
        })
    } else {
        Err(problems)
    }
}

struct WalkCtx<'a> {
    profiles: &'a [&'a str],
    default_auth: Option<&'a str>,
}

pub fn unknown_profile(place: String, name: &str, profiles: &[&str]) -> Problem {
    let hint = match did_you_mean(name, profiles) {
        Some(best) => format!("did you mean `{best}`?"),
        None if profiles.is_empty() => {
            "the collection defines no auth profiles; add one under `auth`, or use `none`".into()
        }
        None => format!(
            "defined profiles: {}; or `none` for an anonymous request",
            profiles.join(", ")
        ),
    };
    Problem {
        place,
        message: format!("auth profile `{name}` is not defined"),
        hint: Some(hint),
    }
}

fn walk(
    items: &[Item],
    prefix: &str,
    folders: &[String],
    conditions: &[String],
    ctx: &WalkCtx<'_>,
    out: &mut Vec<PlannedRequest>,
    problems: &mut Vec<Problem>,
) {
    for (i, item) in items.iter().enumerate() {
        let place = format!("{prefix}[{i}] \"{}\"", item.name);
        let mut conds = conditions.to_vec();
        if let Some(w) = &item.when {
            conds.push(w.clone());
        }
        if let Some(children) = &item.requests {
            problems.extend(folder_problem(item, &place));
            let mut path = folders.to_vec();
            path.push(item.name.clone());
            walk(
                children,
                &format!("{place}.requests"),
                &path,
                &conds,
                ctx,
                out,
                problems,
            );
            continue;
        }
        if let Some(r) = plan_request(item, place, folders, conds, ctx, problems) {
            out.push(r);
        }
    }
}

/// A folder that also carries request fields.
fn folder_problem(item: &Item, place: &str) -> Option<Problem> {
    let stray: Vec<&str> = [
        ("method", item.method.is_some()),
        ("url", item.url.is_some()),
        ("headers", !item.headers.is_empty()),
        ("query", !item.query.is_empty()),
        ("body", item.body.is_some()),
        ("auth", item.auth.is_some()),
        ("capture", !item.capture.is_empty()),
        ("expect", item.expect.is_some()),
        ("cleanup", item.cleanup),
    ]
    .iter()
    .filter(|(_, set)| *set)
    .map(|(n, _)| *n)
    .collect();
    (!stray.is_empty()).then(|| Problem {
        place: place.to_string(),
        message: format!(
            "a folder (it has `requests`) can not also have {}",
            stray
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        hint: Some("move these into the requests inside the folder".into()),
    })
}

/// The method, or GET with a problem when it is not one fhircheck sends.
fn method(item: &Item, place: &str, problems: &mut Vec<Problem>) -> reqwest::Method {
    let text = item.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
    if METHODS.contains(&text.as_str()) {
        return reqwest::Method::from_bytes(text.as_bytes()).unwrap_or(reqwest::Method::GET);
    }
    problems.push(Problem {
        place: place.to_string(),
        message: format!("`{text}` is not an HTTP method fhircheck sends"),
        hint: Some(format!("use one of {}", METHODS.join(", "))),
    });
    reqwest::Method::GET
}

fn body_problem(body: &Body, place: &str) -> Option<Problem> {
    let n = [
        body.json.is_some(),
        body.form.is_some(),
        body.text.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    (n != 1).then(|| Problem {
        place: format!("{place}.body"),
        message: "a body needs exactly one of `json`, `form` or `text`".into(),
        hint: None,
    })
}

/// The captures, their JSONPaths and regular expressions compiled.
fn compile_captures(
    item: &Item,
    place: &str,
    problems: &mut Vec<Problem>,
) -> Vec<(String, CompiledCapture)> {
    let mut captures = Vec::new();
    for (name, cap) in &item.capture {
        let cplace = format!("{place}.capture.{name}");
        let source = match (&cap.json, &cap.header, &cap.fhirpath) {
            (Some(p), None, None) => match serde_json_path::JsonPath::parse(p) {
                Ok(jp) => Some(CaptureSource::Json(p.clone(), jp)),
                Err(e) => {
                    problems.push(bad_jsonpath(&cplace, p, &e));
                    None
                }
            },
            (None, Some(h), None) => Some(CaptureSource::Header(h.clone())),
            (None, None, Some(f)) => parse_fhirpath(f, &format!("{cplace}.fhirpath"), problems)
                .map(CaptureSource::FhirPath),
            _ => {
                problems.push(Problem {
                    place: cplace.clone(),
                    message: "a capture needs exactly one of `json`, `header` or `fhirpath`".into(),
                    hint: Some("for example {\"json\": \"$.id\"}, {\"fhirpath\": \"entry.first().resource.id\"} or {\"header\": \"Location\", \"regex\": \"/Patient/([^/]+)\"}".into()),
                });
                None
            }
        };
        let regex = cap
            .regex
            .as_deref()
            .and_then(|r| compile_regex(&cplace, r, problems));
        if let Some(source) = source {
            captures.push((
                name.clone(),
                CompiledCapture {
                    source,
                    regex,
                    secret: cap.secret,
                    optional: cap.optional,
                },
            ));
        }
    }
    captures
}

/// One request item, validated and compiled; `None` when it has no URL.
fn plan_request(
    item: &Item,
    place: String,
    folders: &[String],
    conditions: Vec<String>,
    ctx: &WalkCtx<'_>,
    problems: &mut Vec<Problem>,
) -> Option<PlannedRequest> {
    let Some(url) = item.url.clone() else {
        problems.push(Problem {
            place,
            message: "a request needs a `url`".into(),
            hint: Some("give a path relative to `base_url` such as `Patient?_count=1`, or an absolute URL; a folder needs `requests`".into()),
        });
        return None;
    };
    let method = method(item, &place, problems);
    let auth = match item.auth.as_deref() {
        Some("none") => None,
        Some(name) => {
            if !ctx.profiles.contains(&name) {
                problems.push(unknown_profile(format!("{place}.auth"), name, ctx.profiles));
            }
            Some(name.to_string())
        }
        None => ctx.default_auth.map(str::to_string),
    };
    if let Some(body) = &item.body {
        problems.extend(body_problem(body, &place));
    }
    let captures = compile_captures(item, &place, problems);
    if item.follow_next == Some(0) {
        problems.push(Problem {
            place: format!("{place}.follow_next"),
            message: "`follow_next` counts pages in all, the first included: give 2 or more".into(),
            hint: None,
        });
    }
    let expect = compile(
        item.expect.as_ref().cloned().unwrap_or_default(),
        &format!("{place}.expect"),
        problems,
    );
    let mut body_shape = crate::assertions::shape(&expect);
    body_shape.merge(crate::assertions::outcome_shape().clone());
    for (_, c) in &captures {
        match &c.source {
            CaptureSource::Json(path, _) => {
                body_shape.merge(crate::shape::Shape::of_path(
                    path,
                    crate::shape::Shape::whole(),
                ));
            }
            CaptureSource::FhirPath(_) => body_shape = crate::shape::Shape::whole(),
            CaptureSource::Header(_) => {}
        }
    }
    if item.follow_next.is_some() {
        body_shape = crate::shape::Shape::whole();
    }
    Some(PlannedRequest {
        body_shape: body_shape.settle(),
        place,
        folders: folders.to_vec(),
        name: item.name.clone(),
        method,
        url,
        headers: item.headers.clone(),
        query: item.query.clone(),
        body: item.body.clone(),
        auth,
        conditions,
        captures,
        expect,
        cleanup: item.cleanup,
        pages: item.follow_next.unwrap_or(1),
        if_none_exist: item.if_none_exist.clone(),
        if_match_last: item.if_match_last,
        validate_profile: item.validate_profile.clone(),
    })
}

pub fn bad_jsonpath(place: &str, path: &str, e: &impl fmt::Display) -> Problem {
    Problem {
        place: place.to_string(),
        message: format!("`{path}` is not a valid JSONPath: {e}"),
        hint: Some("JSONPath (RFC 9535) starts with `$`, e.g. `$.id`, `$.entry[0].resource.id`, `$.entry[*]`".into()),
    }
}

pub fn compile_regex(
    place: &str,
    pattern: &str,
    problems: &mut Vec<Problem>,
) -> Option<regex::Regex> {
    match regex::Regex::new(pattern) {
        Ok(r) => Some(r),
        Err(e) => {
            problems.push(Problem {
                place: place.to_string(),
                message: format!("`{pattern}` is not a valid regular expression"),
                hint: Some(
                    e.to_string()
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                ),
            });
            None
        }
    }
}

/// The fields an auth type takes, and those it needs.
fn profile_fields(kind: AuthKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        AuthKind::Entra => (
            &[
                "tenant",
                "client_id",
                "client_secret",
                "certificate",
                "certificate_password",
                "private_key",
                "signing_alg",
                "x5t",
                "authority_host",
                "federated_token_file",
                "default_azure_credential",
                "version",
                "resource",
                "scope",
                "client_auth",
            ],
            &[],
        ),
        AuthKind::Oauth2 => (
            &[
                "client_id",
                "client_secret",
                "resource",
                "scope",
                "audience",
                "token_url",
                "client_auth",
                "extra_params",
            ],
            &["token_url", "client_id", "client_secret"],
        ),
        AuthKind::Bearer => (&["token"], &["token"]),
        AuthKind::ManagedIdentity => (&["client_id", "object_id", "msi_res_id", "resource"], &[]),
        AuthKind::AzureCli => (&["resource", "tenant"], &[]),
        AuthKind::Smart => (
            &[
                "client_id",
                "private_key",
                "key_id",
                "jku",
                "signing_alg",
                "scope",
                "token_url",
            ],
            &["client_id", "private_key", "key_id", "scope"],
        ),
        AuthKind::None => (&[], &[]),
    }
}

fn check_profile(name: &str, p: &AuthProfile, problems: &mut Vec<Problem>) {
    let place = format!("auth.{name}");
    let set: Vec<(&str, bool)> = vec![
        ("tenant", p.tenant.is_some()),
        ("client_id", p.client_id.is_some()),
        ("client_secret", p.client_secret.is_some()),
        ("certificate", p.certificate.is_some()),
        ("certificate_password", p.certificate_password.is_some()),
        ("private_key", p.private_key.is_some()),
        ("signing_alg", p.signing_alg.is_some()),
        ("x5t", p.x5t.is_some()),
        ("authority_host", p.authority_host.is_some()),
        ("federated_token_file", p.federated_token_file.is_some()),
        (
            "default_azure_credential",
            p.default_azure_credential.is_some(),
        ),
        ("version", p.version.is_some()),
        ("resource", p.resource.is_some()),
        ("scope", p.scope.is_some()),
        ("audience", p.audience.is_some()),
        ("token_url", p.token_url.is_some()),
        ("client_auth", p.client_auth.is_some()),
        ("extra_params", !p.extra_params.is_empty()),
        ("token", p.token.is_some()),
        ("object_id", p.object_id.is_some()),
        ("key_id", p.key_id.is_some()),
        ("jku", p.jku.is_some()),
        ("msi_res_id", p.msi_res_id.is_some()),
    ];
    let (allowed, required) = profile_fields(p.kind);
    for (field, is_set) in &set {
        if *is_set && !allowed.contains(field) {
            problems.push(Problem {
                place: place.clone(),
                message: format!("`{field}` does not apply to auth type `{}`", p.kind),
                hint: Some(if allowed.is_empty() {
                    "an auth profile of type none takes no other fields".to_string()
                } else {
                    format!("type {} takes: {}", p.kind, allowed.join(", "))
                }),
            });
        }
    }
    for field in required {
        if !set.iter().any(|(f, s)| f == field && *s) {
            problems.push(Problem {
                place: place.clone(),
                message: format!("auth type `{}` needs `{field}`", p.kind),
                hint: None,
            });
        }
    }
    if let Some(v) = &p.version {
        if !v.contains("{{") && !matches!(v.as_str(), "v1" | "v2" | "1" | "2" | "1.0" | "2.0") {
            problems.push(Problem {
                place: place.clone(),
                message: format!("`version` must be v1 or v2, not `{v}`"),
                hint: Some("v1 posts `resource=` to /oauth2/token; v2 posts `scope=<resource>/.default` to /oauth2/v2.0/token".into()),
            });
        }
    }
}

/// Names captured by requests, in order: a reference to one is defined from that request on.
pub fn captured_names(plan: &Plan) -> Vec<HashSet<String>> {
    let mut seen = HashSet::new();
    plan.requests
        .iter()
        .map(|r| {
            let before = seen.clone();
            for (n, _) in &r.captures {
                seen.insert(n.clone());
            }
            before
        })
        .collect()
}

/// A status expectation: a code, a list of codes, or a class such as `2xx`.
fn compile_status(
    status: Option<StatusExpect>,
    place: &str,
    problems: &mut Vec<Problem>,
) -> Option<StatusMatcher> {
    match status {
        None => None,
        Some(StatusExpect::Code(c)) => Some(StatusMatcher::Codes(vec![c])),
        Some(StatusExpect::List(c)) if !c.is_empty() => Some(StatusMatcher::Codes(c)),
        Some(StatusExpect::List(_)) => {
            problems.push(Problem {
                place: format!("{place}.status"),
                message: "the list of accepted status codes is empty".into(),
                hint: None,
            });
            None
        }
        Some(StatusExpect::Class(c)) => {
            let b = c.as_bytes();
            if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && c[1..].eq_ignore_ascii_case("xx") {
                Some(StatusMatcher::Class(u16::from(b[0] - b'0')))
            } else {
                problems.push(Problem {
                    place: format!("{place}.status"),
                    message: format!("`{c}` is not a status class"),
                    hint: Some("write a class as 2xx, 4xx…, or give the code as a number".into()),
                });
                None
            }
        }
    }
}

/// Header expectations: a value, or a check with equals, contains, matches or exists.
fn compile_headers(
    headers_in: IndexMap<String, HeaderExpect>,
    place: &str,
    problems: &mut Vec<Problem>,
) -> Vec<(String, HeaderPredicate)> {
    let mut headers = Vec::new();
    for (name, h) in headers_in {
        let hplace = format!("{place}.headers.{name}");
        match h {
            HeaderExpect::Equals(v) => headers.push((name, HeaderPredicate::Equals(v))),
            HeaderExpect::Check(c) => {
                let before = headers.len();
                if let Some(v) = c.equals {
                    headers.push((name.clone(), HeaderPredicate::Equals(v)));
                }
                if let Some(v) = c.contains {
                    headers.push((name.clone(), HeaderPredicate::Contains(v)));
                }
                if let Some(v) = c.matches {
                    if let Some(r) = compile_regex(&hplace, &v, problems) {
                        headers.push((name.clone(), HeaderPredicate::Matches(r)));
                    }
                }
                if let Some(v) = c.exists {
                    headers.push((name.clone(), HeaderPredicate::Exists(v)));
                }
                let more = [
                    c.not_equals.map(HeaderPredicate::NotEquals),
                    c.not_contains.map(HeaderPredicate::NotContains),
                    c.one_of.map(HeaderPredicate::OneOf),
                    c.none_of.map(HeaderPredicate::NoneOf),
                ];
                headers.extend(more.into_iter().flatten().map(|p| (name.clone(), p)));
                if headers.len() == before {
                    problems.push(Problem {
                        place: hplace,
                        message: "the header check needs at least one check".into(),
                        hint: Some("use equals, not_equals, contains, not_contains, matches, exists, in or not_in".into()),
                    });
                }
            }
        }
    }
    headers
}

/// JSONPath assertions, each with at least one predicate.
fn compile_json(
    asserts: Vec<crate::collection::JsonAssert>,
    place: &str,
    problems: &mut Vec<Problem>,
) -> Vec<JsonCheck> {
    let mut json = Vec::new();
    for (i, a) in asserts.into_iter().enumerate() {
        let jplace = format!("{place}.json[{i}]");
        let path = match serde_json_path::JsonPath::parse(&a.path) {
            Ok(p) => p,
            Err(e) => {
                problems.push(bad_jsonpath(&jplace, &a.path, &e));
                continue;
            }
        };
        let mut predicates = Vec::new();
        if let Some(v) = a.equals {
            predicates.push(JsonPredicate::Equals(v));
        }
        if let Some(v) = a.not_equals {
            predicates.push(JsonPredicate::NotEquals(v));
        }
        if let Some(v) = a.less_than {
            predicates.push(JsonPredicate::LessThan(v));
        }
        if let Some(v) = a.greater_than {
            predicates.push(JsonPredicate::GreaterThan(v));
        }
        if let Some(v) = a.contains {
            predicates.push(JsonPredicate::Contains(v));
        }
        if let Some(v) = a.matches {
            if let Some(r) = compile_regex(&jplace, &v, problems) {
                predicates.push(JsonPredicate::Matches(r));
            }
        }
        if let Some(v) = a.exists {
            predicates.push(JsonPredicate::Exists(v));
        }
        if let Some(v) = a.count {
            predicates.push(JsonPredicate::Count(v));
        }
        if let Some(v) = a.kind {
            predicates.push(JsonPredicate::Type(v));
        }
        if predicates.is_empty() {
            problems.push(Problem {
                place: jplace,
                message: format!("the assertion on `{}` needs at least one check", a.path),
                hint: Some("add equals, not_equals, less_than, greater_than, contains, matches, exists, count or type".into()),
            });
            continue;
        }
        json.push(JsonCheck {
            path_text: a.path,
            path,
            predicates,
        });
    }
    json
}

/// Validates an `expect` block; problems are added to `problems`.
pub fn compile(expect: Expect, place: &str, problems: &mut Vec<Problem>) -> CompiledExpect {
    let status = compile_status(expect.status, place, problems);
    let headers = compile_headers(expect.headers, place, problems);
    let json = compile_json(expect.json, place, problems);
    let fhirpath = expect
        .fhirpath
        .into_iter()
        .enumerate()
        .filter_map(|(i, a)| compile_fhirpath(a, &format!("{place}.fhirpath[{i}]"), problems))
        .collect();
    let warn = expect.warn.map(|w| {
        let wplace = format!("{place}.warn");
        if w.warn.is_some() {
            problems.push(Problem {
                place: format!("{wplace}.warn"),
                message: "`warn` can not hold another `warn`".into(),
                hint: None,
            });
        }
        Box::new(compile(*w, &wplace, problems))
    });
    CompiledExpect {
        status,
        headers,
        json,
        resource_type: expect.resource_type,
        no_error_outcome: expect.no_error_outcome,
        bundle: expect.bundle,
        max_duration_ms: expect.max_duration_ms,
        fhirpath,
        minimum: expect.minimum,
        request_method: expect.request_method,
        request_url: expect.request_url,
        warn,
    }
}

/// A FHIRPath expression, parsed now so a mistake stops the run before anything is sent.
pub fn parse_fhirpath(
    expression: &str,
    place: &str,
    problems: &mut Vec<Problem>,
) -> Option<crate::fhirpath::Expr> {
    match crate::fhirpath::Expr::parse(expression) {
        Ok(e) => Some(e),
        Err(e) => {
            let pointer: String = " ".repeat(e.offset) + "^";
            problems.push(Problem {
                place: place.to_string(),
                message: format!(
                    "FHIRPath problem at character {}: {}\n    {expression}\n    {pointer}",
                    e.offset + 1,
                    e.message
                ),
                hint: Some("FHIRPath reads like `Bundle.entry.where(resource.id = %id).exists()`; strings take single quotes; `%name` is the variable `name`".into()),
            });
            None
        }
    }
}

/// A FHIRPath assertion: the expression and its comparisons (none: it must be true).
fn compile_fhirpath(
    a: crate::collection::FhirPathAssert,
    place: &str,
    problems: &mut Vec<Problem>,
) -> Option<crate::compare::FhirPathCheck> {
    use crate::compare::Compare;
    let expr = parse_fhirpath(&a.expression, &format!("{place}.expression"), problems)?;
    let mut compare = Vec::new();
    compare.extend(a.equals.map(Compare::Equals));
    compare.extend(a.not_equals.map(Compare::NotEquals));
    compare.extend(a.one_of.map(Compare::In));
    compare.extend(a.none_of.map(Compare::NotIn));
    compare.extend(a.greater_than.map(Compare::GreaterThan));
    compare.extend(a.less_than.map(Compare::LessThan));
    compare.extend(a.empty.map(Compare::Empty));
    compare.extend(a.contains.map(Compare::Contains));
    compare.extend(a.not_contains.map(Compare::NotContains));
    if compare.is_empty() {
        compare.push(Compare::True);
    }
    let constants = crate::compare::constants(&a.expression)
        .into_iter()
        .map(|n| {
            let t = format!("{{{{{n}}}}}");
            (n, t)
        })
        .collect();
    Some(crate::compare::FhirPathCheck {
        label: a.label.unwrap_or(a.expression),
        expr,
        compare,
        constants,
    })
}

/// Checks templates against the variables: what preflight knows of the whole plan.
struct Checker<'a> {
    vars: &'a Variables,
    /// The base URL, rendered, when it renders.
    base: Option<String>,
    /// Every variable some request captures.
    all_captured: HashSet<String>,
    /// Whether the collection has a `base_url` at all.
    has_base: bool,
}

impl Checker<'_> {
    /// The problems of one template at `place`; `later` names what is captured before it.
    fn check(&self, place: &str, template: &str, later: &HashSet<String>) -> Vec<Problem> {
        self.vars
            .check(template, later)
            .into_iter()
            .map(|e| self.problem(place, &e))
            .collect()
    }

    fn problem(&self, place: &str, e: &vars::VarError) -> Problem {
        let captured_later =
            matches!(e, vars::VarError::Undefined { name } if self.all_captured.contains(name));
        let hint = match e {
            vars::VarError::Undefined { name } if captured_later => Some(format!(
                "move the request that captures `{name}` before this one"
            )),
            vars::VarError::Undefined { name } => Some(format!(
                "define `{name}` in the environment file (-e), with --var {name}=VALUE, or under `variables` in the collection"
            )),
            vars::VarError::EnvUnset { var, via: Some(v), .. } => Some(format!(
                "export {var}, or give `{v}` a value in the environment file (-e) or with --var {v}=VALUE"
            )),
            vars::VarError::EnvUnset { var, .. } => Some(format!("export {var} before running")),
            _ => None,
        };
        let message = match e {
            vars::VarError::Undefined { name } if captured_later => {
                format!("variable `{name}` is used before the request that captures it")
            }
            _ => e.to_string(),
        };
        Problem {
            place: place.to_string(),
            message,
            hint,
        }
    }

    /// A header that renders now to something a header can not carry (a line break, a control
    /// character): it would be sent without it, or not at all.
    fn header_problem(&self, place: &str, name: &str, value: &str) -> Option<Problem> {
        let name = self.vars.render(name).ok()?.text;
        let value = self.vars.render(value).ok()?.text;
        let message = crate::http::header_problem(&name, &value)?;
        Some(Problem {
            place: place.to_string(),
            message,
            hint: Some("remove the line break; a header is one line".into()),
        })
    }

    /// A value that renders now with a placeholder left from an example (`<workspace>`).
    fn placeholder_problem(&self, place: &str, template: &str) -> Option<Problem> {
        let full = match self.vars.render(template) {
            Ok(r) if !r.secret => r.text,
            _ => return None,
        };
        let found = crate::text::placeholder(&full)?;
        Some(Problem {
            place: place.to_string(),
            message: format!(
                "`{}` still holds the placeholder `{found}`",
                crate::secret::redact(&full)
            ),
            hint: Some("replace the placeholder with your own value (for the FHIR URL: Azure portal > the FHIR service > Overview > FHIR metadata endpoint, without /metadata)".into()),
        })
    }

    /// A URL that renders now to something no request can be sent to.
    fn url_problem(&self, place: &str, url: &str) -> Option<Problem> {
        let url = self.vars.render(url).ok()?.text;
        let full = join_url(self.base.as_deref(), &url);
        let base_placeholder = self
            .base
            .as_deref()
            .is_some_and(|b| crate::text::placeholder(b).is_some());
        if (self.base.is_none() && self.has_base) || base_placeholder {
            // The base URL does not render, or holds a placeholder: reported once, on `base_url`.
            return None;
        }
        let e = reqwest::Url::parse(&full).err()?;
        Some(Problem {
            place: place.to_string(),
            message: format!(
                "`{}` is not a URL a request can go to ({e})",
                crate::secret::redact(&full)
            ),
            hint: Some(if self.base.is_none() {
                "give the collection a `base_url`, or write the URL whole, starting with https://"
                    .into()
            } else {
                "check the URL and `base_url`: together they must make one absolute URL".into()
            }),
        })
    }

    /// Every template of one request.
    fn request(&self, r: &PlannedRequest, later: &HashSet<String>) -> Vec<Problem> {
        let place = |what: &str| format!("{}{what}", r.place);
        let mut p = self.check(&place(".url"), &r.url, later);
        if p.is_empty() {
            p.extend(
                self.placeholder_problem(&place(".url"), &r.url)
                    .or_else(|| self.url_problem(&place(".url"), &r.url)),
            );
        }
        for (k, v) in &r.headers {
            p.extend(self.check(&place(&format!(".headers.{k}")), k, later));
            p.extend(self.check(&place(&format!(".headers.{k}")), v, later));
        }
        for (k, v) in &r.query {
            p.extend(self.check(&place(&format!(".query.{k}")), v, later));
        }
        for (k, v) in &r.headers {
            p.extend(self.header_problem(&place(&format!(".headers.{k}")), k, v));
        }
        for t in r.expect.templates() {
            p.extend(self.check(&place(".expect"), t, later));
        }
        for c in &r.conditions {
            p.extend(self.check(&place(".when"), c, later));
        }
        if let Some(t) = &r.if_none_exist {
            p.extend(self.check(&place(".if_none_exist"), t, later));
        }
        if let Some(t) = &r.validate_profile {
            p.extend(self.check(&place(".validate_profile"), t, later));
        }
        if let Some(b) = &r.body {
            for s in b.json.iter().flat_map(json_strings) {
                p.extend(self.check(&place(".body.json"), s, later));
            }
            for (k, v) in b.form.iter().flatten() {
                p.extend(self.check(&place(&format!(".body.form.{k}")), v, later));
            }
            if let Some(t) = &b.text {
                p.extend(self.check(&place(".body.text"), t, later));
            }
        }
        p
    }

    /// Every template of a profile; when they all render now, the profile must resolve too.
    fn profile(&self, plan: &Plan, name: &str, env: &HashMap<String, String>) -> Vec<Problem> {
        let Some(profile) = plan.collection.auth.get(name) else {
            return vec![];
        };
        let fields = [
            &profile.tenant,
            &profile.client_id,
            &profile.client_secret,
            &profile.certificate,
            &profile.certificate_password,
            &profile.private_key,
            &profile.signing_alg,
            &profile.x5t,
            &profile.authority_host,
            &profile.federated_token_file,
            &profile.version,
            &profile.resource,
            &profile.scope,
            &profile.audience,
            &profile.token_url,
            &profile.token,
            &profile.object_id,
            &profile.msi_res_id,
            &profile.key_id,
            &profile.jku,
        ];
        let place = format!("auth.{name}");
        let mut problems = Vec::new();
        let mut uses_capture = false;
        for t in fields.into_iter().flatten() {
            uses_capture |= vars::references(t)
                .any(|n| self.all_captured.contains(n) && !self.vars.is_defined(n));
            problems.extend(self.check(&place, t, &self.all_captured));
        }
        for t in profile.extra_params.values() {
            problems.extend(self.check(&format!("{place}.extra_params"), t, &self.all_captured));
        }
        if problems.is_empty() {
            problems.extend(
                fields
                    .into_iter()
                    .flatten()
                    .find_map(|t| self.placeholder_problem(&place, t)),
            );
        }
        if problems.is_empty() && !uses_capture {
            let base = plan.base_url(self.vars);
            if let Err(e) = crate::auth::resolve(name, profile, self.vars, base.as_deref(), env) {
                problems.push(Problem {
                    place,
                    message: e.to_string(),
                    hint: None,
                });
            }
        }
        problems
    }
}

/// Checks every template the run will render, before anything is sent.
pub fn preflight(plan: &Plan, vars: &Variables, env: &HashMap<String, String>) -> Vec<Problem> {
    let checker = Checker {
        vars,
        base: plan.base_url(vars),
        has_base: plan.collection.base_url.is_some(),
        all_captured: plan
            .requests
            .iter()
            .flat_map(|r| r.captures.iter().map(|(n, _)| n.clone()))
            .collect(),
    };
    let mut problems = Vec::new();
    if let Some(b) = &plan.collection.base_url {
        problems.extend(checker.check("base_url", b, &HashSet::new()));
        if problems.is_empty() {
            problems.extend(checker.placeholder_problem("base_url", b));
        }
    }
    let mut used_profiles: Vec<&str> = Vec::new();
    for (r, later) in plan.requests.iter().zip(captured_names(plan)) {
        problems.extend(checker.request(r, &later));
        if let Some(p) = &r.auth {
            if !used_profiles.contains(&p.as_str()) {
                used_profiles.push(p);
            }
        }
    }
    for name in used_profiles {
        problems.extend(checker.profile(plan, name, env));
    }
    // One unset variable read in several places is one problem, shown where it is first read.
    let mut seen = HashSet::new();
    problems.retain(|p| seen.insert(p.message.clone()));
    problems
}

fn json_strings(v: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    fn walk<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::String(s) => out.push(s),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.iter().for_each(|(k, x)| {
                out.push(k);
                walk(x, out)
            }),
            _ => {}
        }
    }
    walk(v, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn load(text: &str) -> Result<Collection, crate::collection::LoadError> {
        crate::collection::load_collection_str(Path::new("c.json"), text)
    }

    #[test]
    fn plan_checks_what_serde_can_not() {
        let c = load(
            r#"{"name":"x","auth":{"e":{"type":"bearer"}},"requests":[
            {"name":"f","url":"x","requests":[]},
            {"name":"r","method":"FETCH","url":"x","auth":"ee",
             "capture":{"id":{"json":"id"}},
             "expect":{"status":"2xy","json":[{"path":"$.a"}]}}]}"#,
        )
        .unwrap();
        let problems = plan(c).unwrap_err();
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let all = text.join("\n");
        assert!(all.contains("auth type `bearer` needs `token`"), "{all}");
        assert!(
            all.contains("a folder (it has `requests`) can not also have `url`"),
            "{all}"
        );
        assert!(all.contains("`FETCH` is not an HTTP method"), "{all}");
        assert!(all.contains("auth profile `ee` is not defined"), "{all}");
        assert!(all.contains("did you mean `e`?"), "{all}");
        assert!(all.contains("`id` is not a valid JSONPath"), "{all}");
        assert!(all.contains("2xy"), "{all}");
        assert!(all.contains("needs at least one check"), "{all}");
    }

    #[test]
    fn single_profile_is_the_default_and_none_opts_out() {
        let c = load(
            r#"{"name":"x","auth":{"t":{"type":"bearer","token":"{{tok}}"}},"requests":[
            {"name":"a","url":"metadata","auth":"none"},{"name":"b","url":"Patient"}]}"#,
        )
        .unwrap();
        let p = plan(c).unwrap();
        assert_eq!(p.requests[0].auth, None);
        assert_eq!(p.requests[1].auth.as_deref(), Some("t"));
    }
}

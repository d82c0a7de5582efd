//! Runs a validated collection: variables → token → HTTP exchange → assertions → captures, one
//! request at a time, in order. Produces a [`CollectionResult`]; prints nothing itself.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::assertions::{self, AssertionResult, ResponseView};
use crate::auth::{self, ResolvedProfile, Token, TokenError};
use crate::clock::{millis, Clock};
use crate::collection::{AuthKind, CaptureSource, Plan, PlannedRequest, Problem};
use crate::result::{CollectionResult, Outcome, RequestStep, Step, TokenInfo, TokenStep};
use crate::secret::{redact, MASK};
use crate::vars::{self, Layer, Variables};

/// What a run needs from outside: built once by the configuration step.
pub struct RunContext {
    pub client: reqwest::Client,
    pub clock: Clock,
    /// The process environment, read once by the configuration step.
    pub env: Arc<HashMap<String, String>>,
    pub bail: bool,
    /// Receives every HTTP exchange (`--verbose`).
    pub tracer: Option<crate::http::Tracer>,
    /// `--token-cache`: the cache file.
    pub token_cache: Option<std::path::PathBuf>,
    /// `--retry`: how many times a 429 or 503 answer is retried.
    pub retries: u32,
}

/// Checks every template the run will render, before anything is sent.
pub fn preflight(plan: &Plan, vars: &Variables, env: &HashMap<String, String>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let captured_before = crate::collection::captured_names(plan);
    let all_captured: HashSet<String> = plan
        .requests
        .iter()
        .flat_map(|r| r.captures.iter().map(|(n, _)| n.clone()))
        .collect();
    let check = |place: &str,
                 what: &str,
                 template: &str,
                 later: &HashSet<String>|
     -> Vec<Problem> {
        vars.check(template, later)
            .into_iter()
            .map(|e| {
                let hint = match &e {
                    vars::VarError::Undefined { name } if all_captured.contains(name) => Some(format!(
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
                let message = match &e {
                    vars::VarError::Undefined { name } if all_captured.contains(name) => format!(
                        "variable `{name}` is used before the request that captures it"
                    ),
                    _ => e.to_string(),
                };
                Problem { place: format!("{place}{what}"), message, hint }
            })
            .collect()
    };
    let none = HashSet::new();
    if let Some(b) = &plan.collection.base_url {
        problems.extend(check("base_url", "", b, &none));
    }
    let mut used_profiles: Vec<&str> = Vec::new();
    for (i, r) in plan.requests.iter().enumerate() {
        let later = &captured_before[i];
        problems.extend(check(&r.place, ".url", &r.url, later));
        for (k, v) in &r.headers {
            problems.extend(check(&r.place, &format!(".headers.{k}"), k, later));
            problems.extend(check(&r.place, &format!(".headers.{k}"), v, later));
        }
        for (k, v) in &r.query {
            problems.extend(check(&r.place, &format!(".query.{k}"), v, later));
        }
        for t in r.expect.templates() {
            problems.extend(check(&r.place, ".expect", t, later));
        }
        for c in &r.conditions {
            problems.extend(check(&r.place, ".when", c, later));
        }
        if let Some(b) = &r.body {
            if let Some(j) = &b.json {
                for s in json_strings(j) {
                    problems.extend(check(&r.place, ".body.json", s, later));
                }
            }
            for (k, v) in b.form.iter().flatten() {
                problems.extend(check(&r.place, &format!(".body.form.{k}"), v, later));
            }
            if let Some(t) = &b.text {
                problems.extend(check(&r.place, ".body.text", t, later));
            }
        }
        if let Some(p) = &r.auth {
            if !used_profiles.contains(&p.as_str()) {
                used_profiles.push(p);
            }
        }
    }
    for name in used_profiles {
        let Some(profile) = plan.collection.auth.get(name) else {
            continue;
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
        let before = problems.len();
        let mut uses_capture = false;
        for t in fields.into_iter().flatten() {
            uses_capture |=
                vars::references(t).any(|n| all_captured.contains(n) && !vars.is_defined(n));
            problems.extend(check(&format!("auth.{name}"), "", t, &all_captured));
        }
        for t in profile.extra_params.values() {
            problems.extend(check(
                &format!("auth.{name}"),
                ".extra_params",
                t,
                &all_captured,
            ));
        }
        if problems.len() == before && !uses_capture {
            let base = plan
                .collection
                .base_url
                .as_deref()
                .and_then(|b| vars.render(b).ok())
                .map(|r| r.text);
            if let Err(e) = auth::resolve(name, profile, vars, base.as_deref(), env) {
                problems.push(Problem {
                    place: format!("auth.{name}"),
                    message: e.to_string(),
                    hint: None,
                });
            }
        }
    }
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

/// A template value is "true" unless it renders to one of these.
pub fn truthy(text: &str) -> bool {
    !matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "" | "false" | "0" | "no" | "off"
    )
}

enum TokenState {
    /// The token, and whether renewing it can help (it was valid when it arrived).
    Ready(Box<Token>, bool),
    Failed,
}

/// Seconds before expiry at which a cached token is renewed.
const RENEW_MARGIN: i64 = 120;

/// Obtains a token for `profile`; the attempt is returned as a step for the report.
pub async fn acquire(
    plan: &Plan,
    profile: &str,
    vars: &Variables,
    ctx: &RunContext,
) -> (TokenStep, Option<(Token, ResolvedProfile)>) {
    let Some(p) = plan.collection.auth.get(profile) else {
        let e = TokenError::Profile {
            message: format!("auth profile `{profile}` is not defined"),
        };
        return (token_step(profile, "", None, None, 0, Err(e), ctx), None);
    };
    let base = plan
        .collection
        .base_url
        .as_deref()
        .and_then(|b| vars.render(b).ok())
        .map(|r| r.text);
    let resolved = match auth::resolve(profile, p, vars, base.as_deref(), &ctx.env) {
        Ok(r) => r,
        Err(e) => {
            let e = TokenError::Profile {
                message: e.to_string(),
            };
            return (
                token_step(profile, &p.kind.to_string(), None, None, 0, Err(e), ctx),
                None,
            );
        }
    };
    let cache_key = ctx
        .token_cache
        .as_ref()
        .and_then(|_| crate::token_cache::key(&resolved));
    if let (Some(path), Some(key)) = (&ctx.token_cache, &cache_key) {
        if let Some(token) = crate::token_cache::get(path, key, ctx.clock.now(), RENEW_MARGIN) {
            let label = format!("{}, from the token cache", resolved.label);
            let step = token_step(profile, &label, None, None, 0, Ok(token.clone()), ctx);
            return (step, Some((token, resolved)));
        }
    }
    let attempt = auth::fetch(&ctx.client, &resolved, &ctx.clock, ctx.tracer.as_ref()).await;
    let ms = millis(attempt.duration);
    if let (Some(path), Some(key), Ok(token)) = (&ctx.token_cache, &cache_key, &attempt.outcome) {
        // A cache that can not be written costs a token request next time, nothing more.
        let _ = crate::token_cache::put(path, key, token, ctx.clock.now());
    }
    let cloud = base
        .as_deref()
        .zip(attempt.endpoint.as_deref())
        .and_then(|(b, e)| cloud_warning(b, e));
    let near_miss = base
        .as_deref()
        .zip(
            attempt
                .outcome
                .as_ref()
                .ok()
                .and_then(|t| t.claims.as_ref()),
        )
        .and_then(|(b, c)| crate::diagnose::audience_near_miss(&c.audiences(), b));
    let mut step = token_step(
        profile,
        &resolved.label,
        attempt.endpoint.clone(),
        attempt.status,
        ms,
        attempt.outcome.clone(),
        ctx,
    );
    if let Ok(info) = step.result.as_mut() {
        info.warnings.extend(cloud);
        info.warnings.extend(near_miss);
        info.warnings.extend(attempt.warnings.iter().cloned());
    }
    (step, attempt.outcome.ok().map(|t| (t, resolved)))
}

pub fn token_step(
    profile: &str,
    label: &str,
    endpoint: Option<String>,
    status: Option<u16>,
    duration_ms: u64,
    outcome: Result<Token, TokenError>,
    ctx: &RunContext,
) -> TokenStep {
    let now = ctx.clock.now();
    let requested = endpoint.is_some();
    TokenStep {
        profile: profile.to_string(),
        label: label.to_string(),
        endpoint: endpoint.map(|e| redact(&e).into_owned()),
        status,
        duration_ms,
        result: outcome.map(|t| TokenInfo {
            warnings: time_warnings(&t, now, requested),
            token_type: t.token_type.clone(),
            expires_at: t.expires_at,
            scope: t.scope.clone(),
            is_jwt: t.claims.is_some(),
            raw_claims: t
                .claims
                .as_ref()
                .map(|c| c.claims.clone())
                .unwrap_or_default(),
            claims: t
                .claims
                .as_ref()
                .map(|c| {
                    c.summary(now)
                        .into_iter()
                        .map(|(k, v)| (k, redact(&v).into_owned()))
                        .collect()
                })
                .unwrap_or_default(),
        }),
    }
}

/// Which Azure cloud a host belongs to, when it is one of the known ones.
fn cloud_of(url: &str) -> Option<&'static str> {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if host.ends_with(".azurehealthcareapis.us") || host == "login.microsoftonline.us" {
        Some("US Government")
    } else if host.ends_with(".azurehealthcareapis.azure.cn")
        || host == "login.partner.microsoftonline.cn"
        || host == "login.chinacloudapi.cn"
    {
        Some("China")
    } else if host.ends_with(".azurehealthcareapis.com")
        || host == "login.microsoftonline.com"
        || host == "login.windows.net"
    {
        Some("global Azure")
    } else {
        None
    }
}

/// A warning when the FHIR service and the authority are in different Azure clouds.
pub fn cloud_warning(fhir_url: &str, token_endpoint: &str) -> Option<String> {
    let (f, a) = (cloud_of(fhir_url)?, cloud_of(token_endpoint)?);
    (f != a).then(|| {
        format!("the FHIR service is in {f} but the token comes from {a}'s authority: use the authority host of the FHIR service's cloud (authority_host: {})", match f {
            "US Government" => "usgov",
            "China" => "china",
            _ => "global",
        })
    })
}

/// Clock problems visible the moment a token arrives. `requested`: fresh from an endpoint, so an
/// expired one means a wrong clock; a token given as-is (bearer profile) may simply be old.
fn time_warnings(t: &Token, now: i64, requested: bool) -> Vec<String> {
    let mut w = Vec::new();
    let claims = t.claims.as_ref();
    if let Some(exp) = claims.and_then(|c| c.time("exp")).or(t.expires_at) {
        if exp <= now && !requested {
            w.push(format!(
                "this token expired {}; a token given as-is is never renewed: get a fresh one, or use a profile that requests tokens (oauth2, smart, entra, azure_cli)",
                crate::clock::relative(exp, now)
            ));
        } else if exp <= now {
            w.push(format!(
                "this token had already expired when it arrived ({}): the issuer's clock or this machine's clock is wrong",
                crate::clock::relative(exp, now)
            ));
        }
    }
    if let Some(nbf) = claims.and_then(|c| c.time("nbf")) {
        if nbf > now + 300 {
            w.push(format!(
                "this token is not valid until {} ({}): the issuer's clock is ahead of this machine's",
                crate::clock::utc(nbf),
                crate::clock::relative(nbf, now)
            ));
        }
    }
    w
}

/// Runs every request of `plan` in order. `observer` sees each step as it completes.
pub async fn run_collection(
    plan: &Plan,
    mut vars: Variables,
    source: &str,
    ctx: &RunContext,
    observer: &mut dyn FnMut(&Step),
) -> CollectionResult {
    let started = Instant::now();
    let mut steps: Vec<Step> = Vec::new();
    let mut tokens: HashMap<String, TokenState> = HashMap::new();
    let mut stopped: Option<String> = None;
    // Which request captured a variable, for "not captured" explanations.
    let mut capture_owner: HashMap<String, String> = HashMap::new();
    for r in &plan.requests {
        for (n, _) in &r.captures {
            capture_owner
                .entry(n.clone())
                .or_insert_with(|| r.name.clone());
        }
    }
    let emit = |step: Step, steps: &mut Vec<Step>, observer: &mut dyn FnMut(&Step)| {
        observer(&step);
        steps.push(step);
    };

    for req in &plan.requests {
        if let Some(why) = &stopped {
            if !req.cleanup {
                emit(skipped(req, why.clone()), &mut steps, observer);
                continue;
            }
        }
        match conditions_hold(req, &vars) {
            Ok(true) => {}
            Ok(false) => {
                let cond = req
                    .conditions
                    .iter()
                    .find(|c| !vars.render(c).map(|r| truthy(&r.text)).unwrap_or(false));
                let why = format!(
                    "condition `{}` is false",
                    cond.map(String::as_str).unwrap_or("when")
                );
                emit(skipped(req, why), &mut steps, observer);
                continue;
            }
            Err(e) => {
                emit(
                    skipped(req, missing_var_reason(&e, &capture_owner)),
                    &mut steps,
                    observer,
                );
                continue;
            }
        }
        // The token, fetched on first use and renewed when it would expire mid-run.
        let mut bearer: Option<String> = None;
        if let Some(profile) = &req.auth {
            let kind = plan.collection.auth.get(profile).map(|p| p.kind);
            if kind != Some(AuthKind::None) {
                let needs_fetch = match tokens.get(profile) {
                    None => true,
                    Some(TokenState::Failed) => false,
                    Some(TokenState::Ready(t, renewable)) => {
                        *renewable
                            && t.expires_at
                                .is_some_and(|e| e - ctx.clock.now() < RENEW_MARGIN)
                    }
                };
                if needs_fetch {
                    let (step, token) = acquire(plan, profile, &vars, ctx).await;
                    let failed = token.is_none();
                    tokens.insert(
                        profile.clone(),
                        match token {
                            Some((t, _)) => {
                                let renewable = t
                                    .expires_at
                                    .is_none_or(|e| e - ctx.clock.now() > RENEW_MARGIN);
                                TokenState::Ready(Box::new(t), renewable)
                            }
                            None => TokenState::Failed,
                        },
                    );
                    emit(Step::Token(step), &mut steps, observer);
                    if failed && ctx.bail && stopped.is_none() {
                        stopped = Some(format!(
                            "--bail: the token for `{profile}` could not be obtained"
                        ));
                    }
                }
                match tokens.get(profile) {
                    Some(TokenState::Ready(t, _)) => bearer = Some(t.access.expose().to_string()),
                    _ => {
                        emit(
                            skipped(
                                req,
                                format!("no token: auth profile `{profile}` could not get one"),
                            ),
                            &mut steps,
                            observer,
                        );
                        continue;
                    }
                }
            }
        }
        let step = match exchange(req, plan, &vars, bearer.as_deref(), ctx).await {
            Err(reason) => skipped(req, missing_var_reason_text(reason, &capture_owner)),
            Ok(Sent::TransportError {
                method,
                url,
                duration_ms,
                message,
            }) => Step::Request(RequestStep {
                name: req.name.clone(),
                folders: req.folders.clone(),
                method,
                url,
                status: None,
                duration_ms,
                outcome: Outcome::Error(message),
                assertions: vec![],
                issues: vec![],
                challenge: None,
                captures: vec![],
                cleanup: req.cleanup,
                script_tests: false,
                retries: 0,
            }),
            Ok(Sent::Response(resp)) => {
                let json: Option<Value> = parse_json(&resp.body);
                let view = ResponseView {
                    status: resp.status,
                    headers: &resp.headers,
                    body: &resp.body,
                    json: json.as_ref(),
                    duration_ms: resp.duration_ms,
                };
                let expect = match req.expect.render(&|t| vars.render(t).map(|r| r.text)) {
                    Ok(e) => e,
                    Err(e) => {
                        let step = skipped(req, missing_var_reason(&e, &capture_owner));
                        emit(step, &mut steps, observer);
                        continue;
                    }
                };
                let mut results = assertions::evaluate(&expect, &view);
                let mut captures = Vec::new();
                // A failed response is no source of values: an OperationOutcome has an `id` too.
                if results.iter().all(|a| a.passed) {
                    for (name, cap) in &req.captures {
                        match capture(cap, &view) {
                            Ok(value) => {
                                let v = vars::Value::new(name, value, cap.secret);
                                let shown = if v.secret {
                                    MASK.to_string()
                                } else {
                                    redact(&v.text).into_owned()
                                };
                                captures.push((name.clone(), shown));
                                vars.set(Layer::Captured, name, v);
                            }
                            Err(why) => results.push(AssertionResult {
                                name: format!("capture {name}"),
                                passed: false,
                                expected: describe_capture(cap),
                                actual: why,
                            }),
                        }
                    }
                }
                let issues = json
                    .as_ref()
                    .map(assertions::outcome_issues)
                    .unwrap_or_default();
                let passed = results.iter().all(|a| a.passed);
                for a in &mut results {
                    a.actual = redact(&a.actual).into_owned();
                    a.expected = redact(&a.expected).into_owned();
                }
                Step::Request(RequestStep {
                    name: req.name.clone(),
                    folders: req.folders.clone(),
                    method: resp.method,
                    url: resp.url,
                    status: Some(resp.status),
                    duration_ms: resp.duration_ms,
                    outcome: if passed {
                        Outcome::Passed
                    } else {
                        Outcome::Failed
                    },
                    assertions: results,
                    issues,
                    challenge: view
                        .header("www-authenticate")
                        .map(|h| redact(h).into_owned()),
                    captures,
                    cleanup: req.cleanup,
                    script_tests: false,
                    retries: resp.retries,
                })
            }
        };
        let bad = matches!(
            &step,
            Step::Request(RequestStep {
                outcome: Outcome::Failed | Outcome::Error(_),
                ..
            })
        );
        emit(step, &mut steps, observer);
        if bad && ctx.bail && stopped.is_none() {
            stopped = Some(format!("--bail: stopped after \"{}\" failed", req.name));
        }
    }
    CollectionResult {
        name: plan.collection.name.clone(),
        source: source.to_string(),
        steps,
        duration_ms: millis(started.elapsed()),
    }
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

fn missing_var_reason_text(e: vars::VarError, owners: &HashMap<String, String>) -> String {
    missing_var_reason(&e, owners)
}

fn skipped(req: &PlannedRequest, why: String) -> Step {
    Step::Request(RequestStep {
        name: req.name.clone(),
        folders: req.folders.clone(),
        method: req.method.to_string(),
        url: req.url.clone(),
        status: None,
        duration_ms: 0,
        outcome: Outcome::Skipped(redact(&why).into_owned()),
        assertions: vec![],
        issues: vec![],
        challenge: None,
        captures: vec![],
        cleanup: req.cleanup,
        script_tests: false,
        retries: 0,
    })
}

fn parse_json(body: &str) -> Option<Value> {
    let t = body.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        serde_json::from_str(t).ok()
    } else {
        None
    }
}

struct Response {
    method: String,
    url: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    duration_ms: u64,
    /// Attempts answered 429/503 before this one (`--retry`).
    retries: u32,
}

enum Sent {
    Response(Response),
    TransportError {
        method: String,
        url: String,
        duration_ms: u64,
        message: String,
    },
}

/// Joins a relative URL to the base URL.
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

async fn exchange(
    req: &PlannedRequest,
    plan: &Plan,
    vars: &Variables,
    bearer: Option<&str>,
    ctx: &RunContext,
) -> Result<Sent, vars::VarError> {
    let base = match &plan.collection.base_url {
        Some(b) => Some(vars.render(b)?.text),
        None => None,
    };
    let url = join_url(base.as_deref(), &vars.render(&req.url)?.text);
    let mut query = Vec::new();
    for (k, v) in &req.query {
        query.push((vars.render(k)?.text, vars.render(v)?.text));
    }
    let mut headers = Vec::new();
    for (k, v) in &req.headers {
        headers.push((vars.render(k)?.text, vars.render(v)?.text));
    }
    let has =
        |h: &[(String, String)], name: &str| h.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    if !has(&headers, "accept") {
        headers.push(("Accept".into(), "application/fhir+json".into()));
    }
    let mut body: Option<Vec<u8>> = None;
    if let Some(b) = &req.body {
        if let Some(j) = &b.json {
            body = Some(render_json(j, vars)?.to_string().into_bytes());
            if !has(&headers, "content-type") {
                headers.push(("Content-Type".into(), "application/fhir+json".into()));
            }
        } else if let Some(f) = &b.form {
            let mut pairs = Vec::new();
            for (k, v) in f {
                pairs.push((vars.render(k)?.text, vars.render(v)?.text));
            }
            body = Some(
                serde_urlencoded::to_string(&pairs)
                    .unwrap_or_default()
                    .into_bytes(),
            );
            if !has(&headers, "content-type") {
                headers.push((
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
            }
        } else if let Some(t) = &b.text {
            body = Some(vars.render(t)?.text.into_bytes());
            if !has(&headers, "content-type") {
                headers.push((
                    "Content-Type".into(),
                    b.content_type
                        .clone()
                        .unwrap_or_else(|| "text/plain".into()),
                ));
            }
        }
    }
    let method = req.method.to_string();
    let mut full_url = url.clone();
    if !query.is_empty() {
        let q = serde_urlencoded::to_string(&query).unwrap_or_default();
        full_url.push(if url.contains('?') { '&' } else { '?' });
        full_url.push_str(&q);
    }
    let shown_url = redact(&full_url).into_owned();
    let mut rb = ctx.client.request(req.method.clone(), &full_url);
    for (k, v) in &headers {
        rb = rb.header(k.as_str(), v.as_str());
    }
    if let Some(t) = bearer {
        if !has(&headers, "authorization") {
            rb = rb.bearer_auth(t);
        }
    }
    if let Some(b) = body {
        rb = rb.body(b);
    }
    let mut retries = 0;
    loop {
        // Bodies are bytes, so a request can always be cloned for another attempt.
        let attempt = rb
            .try_clone()
            .unwrap_or_else(|| ctx.client.request(req.method.clone(), &full_url));
        let started = Instant::now();
        let answer = crate::http::send(&ctx.client, attempt, ctx.tracer.as_ref()).await;
        if let Ok(a) = &answer {
            if matches!(a.status, 429 | 503) && retries < ctx.retries {
                retries += 1;
                tokio::time::sleep(Duration::from_secs(retry_after(
                    &a.headers,
                    ctx.clock.now(),
                )))
                .await;
                continue;
            }
        }
        return match answer {
            Err(message) => Ok(Sent::TransportError {
                method,
                url: shown_url,
                duration_ms: millis(started.elapsed()),
                message,
            }),
            Ok(a) => Ok(Sent::Response(Response {
                method,
                url: shown_url,
                status: a.status,
                headers: a.headers,
                body: String::from_utf8_lossy(&a.body).into_owned(),
                duration_ms: millis(started.elapsed()),
                retries,
            })),
        };
    }
}

/// Seconds to wait before retrying, from `Retry-After` (seconds or an HTTP date): at least 1, at
/// most 30.
pub fn retry_after(headers: &[(String, String)], now: i64) -> u64 {
    let value = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
        .map(|(_, v)| v.trim());
    let secs = match value {
        Some(v) => v
            .parse::<i64>()
            .ok()
            .or_else(|| crate::doctor::httpdate_to_unix(v).map(|t| t - now))
            .unwrap_or(1),
        None => 1,
    };
    secs.clamp(1, 30) as u64
}

fn describe_capture(c: &crate::collection::CompiledCapture) -> String {
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
pub fn capture(
    c: &crate::collection::CompiledCapture,
    r: &ResponseView<'_>,
) -> Result<String, String> {
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
            None => Err(format!("{} does not match", assertions::shorten(&raw, 80))),
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
    fn clouds_must_match() {
        assert!(cloud_warning(
            "https://ws-fhir.fhir.azurehealthcareapis.us",
            "https://login.microsoftonline.com/t/oauth2/token"
        )
        .unwrap()
        .contains("usgov"));
        assert_eq!(
            cloud_warning(
                "https://ws-fhir.fhir.azurehealthcareapis.com",
                "https://login.microsoftonline.com/t/oauth2/token"
            ),
            None
        );
        assert_eq!(
            cloud_warning(
                "http://127.0.0.1:1/fhir",
                "https://login.microsoftonline.us/t/oauth2/token"
            ),
            None
        );
    }

    #[test]
    fn retry_after_seconds_or_date() {
        let h = |v: &str| vec![("Retry-After".to_string(), v.to_string())];
        assert_eq!(retry_after(&h("3"), 0), 3);
        assert_eq!(retry_after(&h("0"), 0), 1);
        assert_eq!(retry_after(&h("600"), 0), 30);
        assert_eq!(
            retry_after(&h("Thu, 26 Nov 2026 09:23:30 GMT"), 1_795_685_005),
            5
        );
        assert_eq!(retry_after(&[], 0), 1);
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
        let cap = |source, regex: Option<&str>| crate::collection::CompiledCapture {
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

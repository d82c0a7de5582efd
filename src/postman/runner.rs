//! Runs a Postman collection with Postman's semantics: variable scopes, auth inheritance,
//! prerequest and test scripts at every level, `setNextRequest`, iterations. Produces the same
//! [`CollectionResult`] as a native run, so reports, diagnosis and redaction apply unchanged.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::model::{self, Auth, Body, Collection, Item};
use super::script::{self, Engine, Header, Input, ScriptRequest, ScriptResponse};
use crate::assertions::{self, AssertionResult};
use crate::auth::{self, FormValue, ResolvedProfile};
use crate::clock::millis;
use crate::collection::AuthKind;
use crate::result::{CollectionResult, Outcome, RequestStep, Step};
use crate::runner::RunContext;
use crate::secret::{redact, redactor, Secret};
use crate::vars::is_secret_name;

/// Newman-compatible run options.
#[derive(Debug, Clone)]
pub struct Options {
    /// `-n`; default: the number of data rows, or 1.
    pub iterations: Option<usize>,
    /// `-d` rows.
    pub data: Vec<Map<String, Value>>,
    /// `--folder`: run only these folders (or requests) by name.
    pub folders: Vec<String>,
    pub delay: Duration,
    pub script_timeout: Duration,
    /// Send requests for Entra's public authority hosts to this base URL instead.
    pub authority_host: Option<String>,
}

/// The variable scopes, lowest precedence first in Postman's order:
/// globals < collection < environment < data < local.
#[derive(Debug, Clone, Default)]
pub struct Scopes {
    pub globals: Map<String, Value>,
    pub collection: Map<String, Value>,
    pub environment: Map<String, Value>,
}

const ENTRA_HOSTS: &[&str] = &[
    "https://login.microsoftonline.com",
    "https://login.windows.net",
    "https://login.microsoftonline.us",
    "https://login.partner.microsoftonline.cn",
];

struct Vars<'a> {
    scopes: &'a Scopes,
    data: &'a Map<String, Value>,
    local: &'a Map<String, Value>,
    folder: &'a [(String, String)],
    clock: &'a crate::clock::Clock,
}

impl Vars<'_> {
    fn lookup(&self, k: &str) -> Option<String> {
        let get = |m: &Map<String, Value>| m.get(k).filter(|v| !v.is_null()).map(model::text);
        get(self.local)
            .or_else(|| get(self.data))
            .or_else(|| get(&self.scopes.environment))
            .or_else(|| {
                self.folder
                    .iter()
                    .rev()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
            })
            .or_else(|| get(&self.scopes.collection))
            .or_else(|| get(&self.scopes.globals))
            .or_else(|| crate::vars::dynamic_value(k, self.clock))
    }

    /// Replaces `{{name}}` as Postman does: nested values too; unknown names stay as written.
    fn resolve(&self, t: &str) -> String {
        let mut text = t.to_string();
        for _ in 0..10 {
            if !text.contains("{{") {
                break;
            }
            let mut out = String::new();
            for seg in crate::vars::segments(&text) {
                match seg {
                    crate::vars::Segment::Text(s) => out.push_str(s),
                    crate::vars::Segment::Var(v) => match self.lookup(v) {
                        Some(val) => {
                            if is_secret_name(v) {
                                redactor().add(&val);
                            }
                            out.push_str(&val)
                        }
                        None => {
                            out.push_str("{{");
                            out.push_str(v);
                            out.push_str("}}");
                        }
                    },
                }
            }
            if out == text {
                break;
            }
            text = out;
        }
        text
    }
}

fn register_secrets(m: &Map<String, Value>) {
    for (k, v) in m {
        if is_secret_name(k) {
            redactor().add(&model::text(v));
        }
    }
}

fn is_token_endpoint(url: &str, body: &Body) -> bool {
    let path = url.split('?').next().unwrap_or(url);
    path.ends_with("/oauth2/token")
        || path.ends_with("/oauth2/v2.0/token")
        || matches!(body, Body::UrlEncoded(f) if f.iter().any(|(k, v)| k == "grant_type" && v == "client_credentials"))
}

fn rewrite_authority(url: String, host: Option<&str>) -> String {
    let Some(host) = host else { return url };
    for h in ENTRA_HOSTS {
        if let Some(rest) = url.strip_prefix(h) {
            return format!("{}{rest}", host.trim_end_matches('/'));
        }
    }
    url
}

fn to_headers(h: &[(String, String)]) -> Vec<Header> {
    h.iter()
        .map(|(k, v)| Header {
            key: k.clone(),
            value: v.clone(),
        })
        .collect()
}

fn test_assertions(tests: &[script::TestResult]) -> Vec<AssertionResult> {
    tests
        .iter()
        .filter(|t| !t.skipped)
        .map(|t| AssertionResult {
            name: t.name.clone(),
            passed: t.passed,
            expected: redact(
                &t.expected
                    .clone()
                    .unwrap_or_else(|| "the test passes".into()),
            )
            .into_owned(),
            actual: redact(&if t.passed {
                "passed".into()
            } else {
                t.error.clone().unwrap_or_else(|| "failed".into())
            })
            .into_owned(),
        })
        .collect()
}

struct Oauth2Cache {
    tokens: HashMap<String, Option<String>>,
}

/// Runs the collection. Returns the result and the scopes as the run left them.
pub async fn run(
    c: &Collection,
    source: &str,
    mut scopes: Scopes,
    opts: &Options,
    ctx: &RunContext,
    observer: &mut dyn FnMut(&Step),
) -> (CollectionResult, Scopes) {
    let started = Instant::now();
    let mut steps: Vec<Step> = Vec::new();
    register_secrets(&scopes.globals);
    register_secrets(&scopes.collection);
    register_secrets(&scopes.environment);
    let all = model::flatten(c);
    let items: Vec<&Item> = all
        .iter()
        .filter(|i| {
            opts.folders.is_empty()
                || opts
                    .folders
                    .iter()
                    .any(|f| i.folders.contains(f) || &i.name == f)
        })
        .collect();
    let engine = match Engine::new(opts.script_timeout) {
        Ok(e) => e,
        Err(msg) => {
            let step = Step::Request(RequestStep {
                name: "script engine".into(),
                folders: vec![],
                method: String::new(),
                url: String::new(),
                status: None,
                duration_ms: 0,
                outcome: Outcome::Error(msg),
                assertions: vec![],
                issues: vec![],
                challenge: None,
                captures: vec![],
                cleanup: false,
                script_tests: false,
                retries: 0,
            });
            observer(&step);
            steps.push(step);
            return (
                CollectionResult {
                    name: c.info.name.clone(),
                    source: source.into(),
                    steps,
                    duration_ms: 0,
                },
                scopes,
            );
        }
    };
    let iterations = opts
        .iterations
        .unwrap_or(if opts.data.is_empty() {
            1
        } else {
            opts.data.len()
        })
        .max(1);
    let mut oauth = Oauth2Cache {
        tokens: HashMap::new(),
    };
    let mut stop = false;
    'iterations: for iteration in 0..iterations {
        let data = opts
            .data
            .get(iteration % opts.data.len().max(1))
            .cloned()
            .unwrap_or_default();
        register_secrets(&data);
        let mut i = 0;
        let mut executed = 0;
        while i < items.len() {
            executed += 1;
            if executed > items.len() * 20 + 100 {
                let step = error_step(
                    items[i],
                    iteration,
                    iterations,
                    "setNextRequest looped more than the run allows; stopping this iteration"
                        .into(),
                );
                observer(&step);
                steps.push(step);
                break;
            }
            if executed > 1 && !opts.delay.is_zero() {
                tokio::time::sleep(opts.delay).await;
            }
            let item = items[i];
            let (mut new_steps, next, failed) = run_item(
                item,
                &mut scopes,
                &data,
                iteration,
                iterations,
                &engine,
                &mut oauth,
                opts,
                ctx,
            )
            .await;
            for s in new_steps.drain(..) {
                observer(&s);
                steps.push(s);
            }
            if failed && ctx.bail {
                stop = true;
            }
            if stop {
                break 'iterations;
            }
            match next {
                None => i += 1,
                Some(None) => break,
                Some(Some(name)) => match items.iter().position(|it| it.name == name) {
                    Some(p) => i = p,
                    None => break,
                },
            }
        }
    }
    (
        CollectionResult {
            name: c.info.name.clone(),
            source: source.to_string(),
            steps,
            duration_ms: millis(started.elapsed()),
        },
        scopes,
    )
}

fn folders_for(item: &Item, iteration: usize, iterations: usize) -> Vec<String> {
    let mut f = Vec::new();
    if iterations > 1 {
        f.push(format!("iteration {}", iteration + 1));
    }
    f.extend(item.folders.iter().cloned());
    f
}

fn error_step(item: &Item, iteration: usize, iterations: usize, msg: String) -> Step {
    Step::Request(RequestStep {
        name: item.name.clone(),
        folders: folders_for(item, iteration, iterations),
        method: item.request.method.clone(),
        url: redact(&item.request.url).into_owned(),
        status: None,
        duration_ms: 0,
        outcome: Outcome::Error(redact(&msg).into_owned()),
        assertions: vec![],
        issues: vec![],
        challenge: None,
        captures: vec![],
        cleanup: false,
        script_tests: true,
        retries: 0,
    })
}

type ItemOutcome = (Vec<Step>, Option<Option<String>>, bool);

#[allow(clippy::too_many_arguments)]
async fn run_item(
    item: &Item,
    scopes: &mut Scopes,
    data: &Map<String, Value>,
    iteration: usize,
    iterations: usize,
    engine: &Engine,
    oauth: &mut Oauth2Cache,
    opts: &Options,
    ctx: &RunContext,
) -> ItemOutcome {
    let mut steps = Vec::new();
    let mut local = Map::new();
    let mut next: Option<Option<String>> = None;
    let mut tests = Vec::new();
    let mut headers = item.request.headers.clone();
    let mut url_template = item.request.url.clone();
    let info = |event: &str| script::Info {
        event_name: event.into(),
        iteration,
        iteration_count: iterations,
        request_name: item.name.clone(),
        request_id: item.path.clone(),
    };
    let body_text = |b: &Body| match b {
        Body::Raw(t, _) => Some(t.clone()),
        Body::UrlEncoded(f) | Body::FormData(f) => {
            Some(serde_urlencoded::to_string(f).unwrap_or_default())
        }
        Body::None => None,
    };
    let trace_logs = |logs: &[String], label: &str| {
        if let Some(t) = &ctx.tracer {
            for l in logs {
                t(&crate::http::Exchange {
                    method: "console".into(),
                    url: format!("{label}: {l}"),
                    request_headers: vec![],
                    request_body: None,
                    status: None,
                    response_headers: vec![],
                    response_body: vec![],
                    duration: Duration::ZERO,
                    error: None,
                });
            }
        }
    };

    // Prerequest scripts, collection first.
    for (label, src) in &item.prerequest {
        let input = Input {
            globals: scopes.globals.clone(),
            collection: scopes.collection.clone(),
            environment: scopes.environment.clone(),
            data: data.clone(),
            local: local.clone(),
            request: ScriptRequest {
                url: url_template.clone(),
                method: item.request.method.clone(),
                headers: to_headers(&headers),
                body: body_text(&item.request.body),
            },
            response: None,
            info: info("prerequest"),
        };
        match engine.run(src, &input) {
            Ok(out) => {
                apply(scopes, &mut local, &out);
                trace_logs(&out.logs, label);
                headers = out
                    .headers
                    .iter()
                    .map(|h| (h.key.clone(), h.value.clone()))
                    .collect();
                url_template = out.url.clone();
                tests.extend(out.tests);
                if out.next_set {
                    next = Some(out.next);
                }
            }
            Err(e) => {
                steps.push(error_step(
                    item,
                    iteration,
                    iterations,
                    script_failure("prerequest", label, &e),
                ));
                return (steps, next, true);
            }
        }
    }

    let folder_vars = item.variables.clone();
    let v = Vars {
        scopes,
        data,
        local: &local,
        folder: &folder_vars,
        clock: &ctx.clock,
    };
    let url = rewrite_authority(v.resolve(&url_template), opts.authority_host.as_deref());
    let mut rb = match reqwest::Method::from_bytes(item.request.method.as_bytes()) {
        Ok(m) => ctx.client.request(m, &url),
        Err(_) => {
            steps.push(error_step(
                item,
                iteration,
                iterations,
                format!("`{}` is not an HTTP method", item.request.method),
            ));
            return (steps, next, true);
        }
    };
    for (k, val) in &headers {
        rb = rb.header(v.resolve(k), v.resolve(val));
    }
    let body = match &item.request.body {
        Body::None => None,
        Body::Raw(t, _) => Some(v.resolve(t)),
        Body::UrlEncoded(f) | Body::FormData(f) => {
            let pairs: Vec<(String, String)> = f
                .iter()
                .map(|(k, val)| {
                    let val = v.resolve(val);
                    if is_secret_name(k) {
                        redactor().add(&val);
                    }
                    (v.resolve(k), val)
                })
                .collect();
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                rb = rb.header("Content-Type", "application/x-www-form-urlencoded");
            }
            Some(serde_urlencoded::to_string(&pairs).unwrap_or_default())
        }
    };
    if let Some(b) = &body {
        rb = rb.body(b.clone());
    }

    // Auth, inherited.
    if let Some(a) = &item.auth {
        let attr = |k: &str| a.get(k).map(|x| v.resolve(x)).unwrap_or_default();
        match a.kind.as_str() {
            "bearer" => {
                let t = attr("token");
                redactor().add(&t);
                rb = rb.bearer_auth(t);
            }
            "basic" => {
                let pw = attr("password");
                redactor().add(&pw);
                rb = rb.basic_auth(attr("username"), Some(pw));
            }
            "apikey" => {
                let value = attr("value");
                redactor().add(&value);
                let key = a
                    .get("key")
                    .map(|k| v.resolve(k))
                    .unwrap_or_else(|| "x-api-key".into());
                if a.get("in") == Some("query") {
                    rb = rb.query(&[(key, value)]);
                } else {
                    rb = rb.header(key, value);
                }
            }
            "oauth2" => {
                match oauth2_token(a, &v, oauth, opts, ctx, &mut steps).await {
                    Some(t) => rb = rb.bearer_auth(t),
                    None => {
                        steps.push(Step::Request(RequestStep {
                        name: item.name.clone(),
                        folders: folders_for(item, iteration, iterations),
                        method: item.request.method.clone(),
                        url: redact(&url).into_owned(),
                        status: None,
                        duration_ms: 0,
                        outcome: Outcome::Skipped("no token: the oauth2 client credentials token could not be obtained".into()),
                        assertions: vec![],
                        issues: vec![],
                        challenge: None,
                        captures: vec![],
                        cleanup: false,
                        script_tests: true,
        retries: 0,
                    }));
                        return (steps, next, false);
                    }
                }
            }
            _ => {}
        }
    }

    let started = Instant::now();
    let answer = crate::http::send(&ctx.client, rb, ctx.tracer.as_ref()).await;
    let duration_ms = millis(started.elapsed());
    let shown_url = redact(&url).into_owned();
    let answer = match answer {
        Ok(a) => a,
        Err(message) => {
            let mut s = error_step(item, iteration, iterations, message);
            if let Step::Request(r) = &mut s {
                r.url = shown_url;
                r.duration_ms = duration_ms;
            }
            steps.push(s);
            return (steps, next, true);
        }
    };
    let text = String::from_utf8_lossy(&answer.body).into_owned();

    // A token request written as a plain request (Microsoft's samples): read it as one.
    if is_token_endpoint(&url, &item.request.body) {
        let outcome = auth::parse_token_response(answer.status, &text, ctx.clock.now());
        steps.push(Step::Token(crate::runner::token_step(
            &item.path,
            "token request in the collection",
            Some(shown_url.clone()),
            Some(answer.status),
            duration_ms,
            outcome,
            ctx,
        )));
    }

    // Test scripts, collection first.
    let reason = reqwest::StatusCode::from_u16(answer.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
        .to_string();
    let mut script_error = None;
    for (label, src) in &item.test {
        let input = Input {
            globals: scopes.globals.clone(),
            collection: scopes.collection.clone(),
            environment: scopes.environment.clone(),
            data: data.clone(),
            local: local.clone(),
            request: ScriptRequest {
                url: url.clone(),
                method: item.request.method.clone(),
                headers: to_headers(&headers),
                body: body.clone(),
            },
            response: Some(ScriptResponse {
                code: answer.status,
                status: reason.clone(),
                headers: answer
                    .headers
                    .iter()
                    .map(|(k, v)| Header {
                        key: k.clone(),
                        value: v.clone(),
                    })
                    .collect(),
                body: text.clone(),
                response_time: duration_ms,
            }),
            info: info("test"),
        };
        match engine.run(src, &input) {
            Ok(out) => {
                apply(scopes, &mut local, &out);
                trace_logs(&out.logs, label);
                tests.extend(out.tests);
                if out.next_set {
                    next = Some(out.next);
                }
            }
            Err(e) => {
                script_error = Some(script_failure("test", label, &e));
                break;
            }
        }
    }
    let assertions = test_assertions(&tests);
    let json: Option<Value> = serde_json::from_str(text.trim_start()).ok();
    let outcome = match &script_error {
        Some(e) => Outcome::Error(redact(e).into_owned()),
        None if assertions.iter().all(|a| a.passed) => Outcome::Passed,
        None => Outcome::Failed,
    };
    let failed = !matches!(outcome, Outcome::Passed);
    steps.push(Step::Request(RequestStep {
        name: item.name.clone(),
        folders: folders_for(item, iteration, iterations),
        method: item.request.method.clone(),
        url: shown_url,
        status: Some(answer.status),
        duration_ms,
        outcome,
        assertions,
        issues: json
            .as_ref()
            .map(assertions::outcome_issues)
            .unwrap_or_default(),
        challenge: answer
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
            .map(|(_, v)| redact(v).into_owned()),
        captures: vec![],
        cleanup: false,
        script_tests: true,
        retries: 0,
    }));
    (steps, next, failed)
}

fn script_failure(kind: &str, label: &str, e: &script::ScriptError) -> String {
    match e.line {
        Some(l) => format!("{kind} script of \"{label}\", line {l}: {}", e.message),
        None => format!("{kind} script of \"{label}\": {}", e.message),
    }
}

fn apply(scopes: &mut Scopes, local: &mut Map<String, Value>, out: &script::Output) {
    for (m, target) in [
        (&out.globals, &mut scopes.globals),
        (&out.collection, &mut scopes.collection),
        (&out.environment, &mut scopes.environment),
        (&out.local, local),
    ] {
        register_secrets(m);
        *target = m.clone();
    }
}

/// An oauth2 client-credentials token through fhircheck's own auth, cached for the run.
async fn oauth2_token(
    a: &Auth,
    v: &Vars<'_>,
    cache: &mut Oauth2Cache,
    opts: &Options,
    ctx: &RunContext,
    steps: &mut Vec<Step>,
) -> Option<String> {
    let attr = |k: &str| a.get(k).map(|x| v.resolve(x)).filter(|x| !x.is_empty());
    let grant = attr("grant_type").unwrap_or_else(|| "client_credentials".into());
    if grant != "client_credentials" {
        return attr("accessToken");
    }
    let url = rewrite_authority(attr("accessTokenUrl")?, opts.authority_host.as_deref());
    let client_id = attr("clientId").unwrap_or_default();
    let scope = attr("scope");
    let key = format!("{url}|{client_id}|{}", scope.clone().unwrap_or_default());
    if let Some(t) = cache.tokens.get(&key) {
        return t.clone();
    }
    let secret = Secret::new(attr("clientSecret").unwrap_or_default());
    let mut form = vec![(
        "grant_type".to_string(),
        FormValue::Plain("client_credentials".into()),
    )];
    if let Some(s) = &scope {
        form.push(("scope".into(), FormValue::Plain(s.clone())));
    }
    let basic = attr("client_authentication").as_deref() == Some("header");
    if let Some(Value::Array(params)) = a
        .attrs
        .iter()
        .find(|(k, _)| k == "tokenRequestParams")
        .and_then(|(_, val)| serde_json::from_str::<Value>(val).ok())
    {
        for p in params {
            if let (Some(k), Some(val)) = (
                p.get("key").and_then(Value::as_str),
                p.get("value").and_then(Value::as_str),
            ) {
                form.push((k.to_string(), FormValue::Plain(v.resolve(val))));
            }
        }
    }
    if !basic {
        form.push(("client_id".into(), FormValue::Plain(client_id.clone())));
        form.push(("client_secret".into(), FormValue::Secret(secret.clone())));
    }
    let profile = ResolvedProfile {
        name: "oauth2".into(),
        kind: AuthKind::Oauth2,
        label: "OAuth2 client credentials (Postman auth)".into(),
        endpoint: Some(url),
        form,
        basic: basic.then(|| (client_id.clone(), secret)),
        static_token: None,
        assertion: None,
        source: None,
        resource: None,
        client_id: Some(client_id),
        tenant: None,
    };
    let attempt = auth::fetch(&ctx.client, &profile, &ctx.clock, ctx.tracer.as_ref()).await;
    let token = attempt
        .outcome
        .as_ref()
        .ok()
        .map(|t| t.access.expose().to_string());
    steps.push(Step::Token(crate::runner::token_step(
        "oauth2",
        &profile.label,
        attempt.endpoint.clone().map(|e| redact(&e).into_owned()),
        attempt.status,
        millis(attempt.duration),
        attempt.outcome,
        ctx,
    )));
    cache.tokens.insert(key, token.clone());
    token
}

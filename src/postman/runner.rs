//! The Postman front end: Postman's semantics over the execution core. Variable scopes, auth
//! inheritance, prerequest and test scripts at every level, `setNextRequest`, iterations and
//! `--folder` live here; sending, retries and tokens (a collection's `oauth2` client credentials
//! auth is an ordinary token the core's manager serves, cached and renewed) are the core's.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Map, Value};

use super::auth::{apply_auth, AuthResult, DigestState, SignWith};
use super::model::{self, Body, Collection, Item};
use super::script::{self, Header, Input, ScriptRequest, ScriptResponse, Worker};
use crate::assertions::AssertionResult;
use crate::auth::{self, ResolvedProfile, TokenError, Unusable};
use crate::exec::{self, Context, Driver, Outgoing, Prepared, StepLabel, TokenNeed};
use crate::http::Answer;
use crate::result::{Outcome, Step};
use crate::secret::{redact, redactor};
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
    /// `--working-dir`: where form-data files are read from.
    pub working_dir: Option<std::path::PathBuf>,
    /// What `pm.sendRequest` sends with (the run's client settings); `None` refuses it.
    pub http: Option<crate::http::Http>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            iterations: None,
            data: vec![],
            folders: vec![],
            delay: Duration::ZERO,
            script_timeout: Duration::from_secs(5),
            authority_host: None,
            working_dir: None,
            http: None,
        }
    }
}

/// The variable scopes, lowest precedence first in Postman's order:
/// globals < collection < environment < data < local.
#[derive(Debug, Clone, Default)]
pub struct Scopes {
    pub globals: Map<String, Value>,
    pub collection: Map<String, Value>,
    pub environment: Map<String, Value>,
    /// The environment file's name, for `pm.environment.name`.
    pub environment_name: Option<String>,
}

const ENTRA_HOSTS: &[&str] = &[
    "https://login.microsoftonline.com",
    "https://login.windows.net",
    "https://login.microsoftonline.us",
    "https://login.partner.microsoftonline.cn",
];

pub(super) struct Vars<'a> {
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
    pub(super) fn resolve(&self, t: &str) -> String {
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

/// Scheme, host and port of a URL: what a Digest challenge is kept by.
fn origin_key(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => url.to_string(),
    }
}

pub(super) fn rewrite_authority(url: String, host: Option<&str>) -> String {
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
            warning: false,
            name: t.name.clone(),
            passed: t.passed,
            expected: crate::exec::shown(
                &t.expected
                    .clone()
                    .unwrap_or_else(|| "the test passes".into()),
            ),
            actual: crate::exec::shown(&if t.passed {
                "passed".into()
            } else {
                t.error.clone().unwrap_or_else(|| "failed".into())
            }),
        })
        .collect()
}

/// A request between its prerequest scripts and its test scripts.
struct Pending {
    item: usize,
    local: Map<String, Value>,
    tests: Vec<script::TestResult>,
    /// `setNextRequest` so far: `Some(None)` stops the iteration.
    next: Option<Option<String>>,
    headers: Vec<(String, String)>,
    url: String,
    body: Option<String>,
    /// A pre-request script threw: the request is still sent and tested, as Newman does, and
    /// the step is an error.
    pre_error: Option<String>,
    /// `pm.execution.skipRequest()`.
    skip: bool,
    /// `pm.request.body.update(…)`: the body to send instead of the item's.
    body_update: Option<String>,
    /// Sent again after an HTTP Digest challenge (once per request).
    replayed: bool,
}

/// Runs a Postman collection: items in order (or as `setNextRequest` says), for each iteration.
pub struct PostmanDriver<'a> {
    collection: &'a Collection,
    source: String,
    items: Vec<Item>,
    engine: Result<Worker, String>,
    scopes: Scopes,
    opts: &'a Options,
    iterations: usize,
    iteration: usize,
    data: Map<String, Value>,
    /// The next item to run in this iteration.
    position: usize,
    /// Items run in this iteration, to stop a `setNextRequest` loop.
    executed: usize,
    stopped: bool,
    pending: Option<Pending>,
    /// The request of `pending`, built by `prepare`, sent once its token is there.
    built: Option<(StepLabel, Outgoing)>,
    /// The credentials of the `oauth2` auths met so far, by token key.
    oauth2: HashMap<String, ResolvedProfile>,
    /// OAuth 2.0 auths that can give no token, by key: why.
    unusable: HashMap<String, String>,
    /// Where the environment goes when the run ends (`--export-environment`).
    environment_out: Option<&'a RefCell<Option<Scopes>>>,
    /// HTTP Digest challenges by origin, kept between requests as Postman keeps them.
    digest: RefCell<HashMap<String, DigestState>>,
    /// The request last rendered, to send again after a Digest challenge.
    sent: Option<Outgoing>,
}

impl<'a> PostmanDriver<'a> {
    pub fn new(
        collection: &'a Collection,
        source: &str,
        scopes: Scopes,
        opts: &'a Options,
        environment_out: Option<&'a RefCell<Option<Scopes>>>,
    ) -> Self {
        register_secrets(&scopes.globals);
        register_secrets(&scopes.collection);
        register_secrets(&scopes.environment);
        let items: Vec<Item> = model::flatten(collection)
            .into_iter()
            .filter(|i| {
                opts.folders.is_empty()
                    || opts
                        .folders
                        .iter()
                        .any(|f| i.folders.contains(f) || &i.name == f)
            })
            .collect();
        let iterations = opts
            .iterations
            .unwrap_or(if opts.data.is_empty() {
                1
            } else {
                opts.data.len()
            })
            .max(1);
        let mut d = PostmanDriver {
            collection,
            source: source.to_string(),
            items,
            engine: Worker::new(opts.script_timeout, opts.http.clone()),
            scopes,
            opts,
            iterations,
            iteration: 0,
            data: Map::new(),
            position: 0,
            executed: 0,
            stopped: false,
            pending: None,
            built: None,
            oauth2: HashMap::new(),
            unusable: HashMap::new(),
            environment_out,
            digest: RefCell::new(HashMap::new()),
            sent: None,
        };
        d.start_iteration(0);
        d
    }

    fn start_iteration(&mut self, iteration: usize) {
        self.iteration = iteration;
        self.position = 0;
        self.executed = 0;
        self.data = self
            .opts
            .data
            .get(iteration % self.opts.data.len().max(1))
            .cloned()
            .unwrap_or_default();
        register_secrets(&self.data);
    }

    fn folders(&self, item: &Item) -> Vec<String> {
        let mut f = Vec::new();
        if self.iterations > 1 {
            f.push(format!("iteration {}", self.iteration + 1));
        }
        f.extend(item.folders.iter().cloned());
        f
    }

    fn label(&self, item: &Item, url: &str) -> StepLabel {
        let mut l = StepLabel::new(&item.name, self.folders(item), &item.request.method, url);
        l.script_tests = true;
        l
    }

    fn info(&self, item: &Item, event: &str) -> script::Info {
        script::Info {
            event_name: event.into(),
            iteration: self.iteration,
            iteration_count: self.iterations,
            request_name: item.name.clone(),
            request_id: item.path.clone(),
            environment_name: self.scopes.environment_name.clone(),
        }
    }

    fn vars<'v>(
        &'v self,
        local: &'v Map<String, Value>,
        item: &'v Item,
        clock: &'v crate::clock::Clock,
    ) -> Vars<'v> {
        Vars {
            scopes: &self.scopes,
            data: &self.data,
            local,
            folder: &item.variables,
            clock,
        }
    }

    /// Moves on after an item, as `setNextRequest` says.
    fn advance(&mut self, next: Option<Option<String>>) {
        match next {
            None => self.position += 1,
            Some(None) => self.position = self.items.len(),
            Some(Some(name)) => {
                self.position = self
                    .items
                    .iter()
                    .position(|it| it.name == name)
                    .unwrap_or(self.items.len());
            }
        }
    }

    /// The end of the run: the variables as they stand go to `--export-environment` and
    /// `--export-globals`.
    fn finish(&mut self) -> Prepared {
        if let Some(out) = self.environment_out {
            *out.borrow_mut() = Some(self.scopes.clone());
        }
        Prepared::End
    }

    /// Runs a script and applies what it changed; the engine error when it throws.
    fn run_script(
        &mut self,
        label: &str,
        src: &str,
        input: &Input,
        local: &mut Map<String, Value>,
        ctx: &Context,
    ) -> Result<script::Output, script::ScriptError> {
        let engine = self.engine.as_mut().map_err(|e| script::ScriptError {
            message: e.clone(),
            line: None,
        })?;
        let out = engine.run(src, input)?;
        apply(&mut self.scopes, local, &out);
        trace_logs(ctx, &out.logs, label);
        Ok(out)
    }

    /// The prerequest scripts, collection first; the item's request as they leave it.
    fn prerequest(
        &mut self,
        index: usize,
        ctx: &Context,
    ) -> Result<Pending, (String, Option<Option<String>>)> {
        let item = self.items[index].clone();
        let mut p = Pending {
            item: index,
            local: Map::new(),
            tests: vec![],
            next: None,
            headers: item.request.headers.clone(),
            url: item.request.url.clone(),
            body: None,
            pre_error: None,
            skip: false,
            body_update: None,
            replayed: false,
        };
        let body = body_text(&item.request.body);
        if let Err(e) = self.run_event("prerequest", &mut p, body, None, ctx) {
            p.pre_error = Some(e);
        }
        Ok(p)
    }

    /// The request with variables resolved, body and auth applied. `Err`: a step instead.
    fn build(
        &mut self,
        p: &mut Pending,
        ctx: &Context,
    ) -> Result<(StepLabel, Outgoing, Option<TokenNeed>), Box<Step>> {
        let item = &self.items[p.item];
        let v = self.vars(&p.local, item, &ctx.clock);
        let url = rewrite_authority(v.resolve(&p.url), self.opts.authority_host.as_deref());
        let label = self.label(item, &url);
        let method = reqwest::Method::from_bytes(item.request.method.as_bytes()).map_err(|_| {
            label.errored(
                &format!("`{}` is not an HTTP method", item.request.method),
                0,
            )
        })?;
        let mut headers: Vec<(String, String)> = p
            .headers
            .iter()
            .map(|(k, val)| (v.resolve(k), v.resolve(val)))
            .collect();
        let (body, bytes) = match (&item.request.body, p.body_update.take()) {
            (_, Some(text)) => {
                let text = v.resolve(&text);
                let bytes = Some(text.clone().into_bytes());
                (Some(text), bytes)
            }
            (body, None) => match body {
                Body::FormData(parts) => {
                    let bytes =
                        multipart(parts, &v, self.opts.working_dir.as_deref(), &mut headers)
                            .map_err(|e| Box::new(label.errored(&e, 0)))?;
                    (body_text(&item.request.body), Some(bytes))
                }
                other => {
                    let text = resolve_body(other, &v, &mut headers);
                    let bytes = text.clone().map(String::into_bytes);
                    (text, bytes)
                }
            },
        };
        let mut out = Outgoing {
            method,
            url,
            headers,
            body: bytes,
        };
        let mut token = None;
        let mut before: Option<String> = None;
        if let Some(a) = &item.auth {
            before = Some(out.url.clone());
            // Only a Digest auth keeps state between requests (the challenge, by origin).
            let mut digest = self.digest.borrow_mut();
            let with = SignWith {
                now: ctx.clock.now(),
                form_body: matches!(item.request.body, Body::UrlEncoded(_)),
                digest: (a.kind == "digest")
                    .then(|| digest.entry(origin_key(&out.url)).or_default()),
            };
            let oauth = apply_auth(a, &v, &mut out, self.opts.authority_host.as_deref(), with);
            drop(digest);
            match oauth {
                AuthResult::Done => {}
                AuthResult::Token(key, profile) => {
                    self.oauth2.insert(key.clone(), *profile);
                    token = Some(TokenNeed {
                        key,
                        profile: "oauth2".into(),
                        base: None,
                        skip_reason:
                            "no token: the oauth2 client credentials token could not be obtained"
                                .into(),
                    });
                }
                AuthResult::Invalid(why) => {
                    return Err(Box::new(label.errored(&why, 0)));
                }
                AuthResult::Unusable(why) => {
                    // A failed token step (exit 3), once per reason; every request it guards is
                    // skipped, and the run never passes.
                    let key = format!("unusable|{why}");
                    self.unusable.insert(key.clone(), why);
                    token = Some(TokenNeed {
                        key,
                        profile: "oauth2".into(),
                        base: None,
                        skip_reason:
                            "no token: the OAuth 2.0 auth can not give one in an unattended run"
                                .into(),
                    });
                }
            }
        }
        p.body = body;
        p.url = out.url.clone();
        // A signature an auth put in the query is part of what was sent (masked).
        let label = if before.as_deref().is_none_or(|b| b == out.url) {
            label
        } else {
            StepLabel {
                url: redact(&out.url).into_owned(),
                ..label
            }
        };
        Ok((label, out, token))
    }

    /// The test scripts, collection first; `Err` is the failure of the one that threw.
    fn tests(&mut self, p: &mut Pending, answer: &Answer, ctx: &Context) -> Result<(), String> {
        let reason = reqwest::StatusCode::from_u16(answer.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
            .to_string();
        let response = ScriptResponse {
            code: answer.status,
            status: reason,
            headers: to_headers(&answer.headers),
            body: answer.text().into_owned(),
            response_time: crate::clock::millis(answer.duration),
        };
        let body = p.body.clone();
        self.run_event("test", p, body, Some(response), ctx)
    }

    /// Runs one event's scripts on the pending request, collection first; a prerequest script may
    /// change the request's URL and headers. `Err` is the failure of the script that threw.
    fn run_event(
        &mut self,
        event: &str,
        p: &mut Pending,
        body: Option<String>,
        response: Option<ScriptResponse>,
        ctx: &Context,
    ) -> Result<(), String> {
        let item = self.items[p.item].clone();
        let scripts = if event == "prerequest" {
            &item.prerequest
        } else {
            &item.test
        };
        for (label, src) in scripts {
            let input = Input {
                globals: self.scopes.globals.clone(),
                collection: self.scopes.collection.clone(),
                environment: self.scopes.environment.clone(),
                data: self.data.clone(),
                local: p.local.clone(),
                request: ScriptRequest {
                    url: p.url.clone(),
                    method: item.request.method.clone(),
                    headers: to_headers(&p.headers),
                    body: body.clone(),
                },
                response: response.clone(),
                info: self.info(&item, event),
            };
            let mut local = std::mem::take(&mut p.local);
            let result = self.run_script(label, src, &input, &mut local, ctx);
            p.local = local;
            let out = result.map_err(|e| script_failure(event, label, &e))?;
            if response.is_none() {
                p.headers = out
                    .headers
                    .iter()
                    .map(|h| (h.key.clone(), h.value.clone()))
                    .collect();
                p.url = out.url.clone();
                p.skip |= out.skip;
                if out.body.is_some() {
                    p.body_update = out.body.clone();
                }
            }
            p.tests.extend(out.tests);
            if out.next_set {
                p.next = Some(out.next);
            }
            if let Some(e) = &out.error {
                return Err(script_failure(event, label, e));
            }
        }
        Ok(())
    }
}

impl Driver for PostmanDriver<'_> {
    fn name(&self) -> (String, String) {
        (self.collection.info.name.clone(), self.source.clone())
    }

    fn planned(&self) -> usize {
        self.items.len() * self.iterations
    }

    fn delay(&self) -> Duration {
        self.opts.delay
    }

    fn prepare(&mut self, ctx: &Context) -> Prepared {
        // A request that was never judged (no token, or no answer) still moves the run on.
        if let Some(p) = self.pending.take() {
            self.built = None;
            self.advance(p.next);
        }
        if let Err(msg) = &self.engine {
            if self.stopped {
                return self.finish();
            }
            self.stopped = true;
            let step = StepLabel::new("script engine", vec![], "", "").errored(msg, 0);
            return Prepared::Steps(vec![step]);
        }
        loop {
            if self.stopped || self.iteration >= self.iterations {
                return self.finish();
            }
            if self.position >= self.items.len() {
                self.start_iteration(self.iteration + 1);
                continue;
            }
            break;
        }
        self.executed += 1;
        if self.executed > self.items.len() * 20 + 100 {
            let item = &self.items[self.position];
            let step = self.label(item, &item.request.url).errored(
                "setNextRequest looped more than the run allows; stopping this iteration",
                0,
            );
            self.position = self.items.len();
            return Prepared::Steps(vec![step]);
        }
        let mut pending = match self.prerequest(self.position, ctx) {
            Ok(p) => p,
            Err((msg, next)) => {
                let item = &self.items[self.position];
                let step = self.label(item, &item.request.url).errored(&msg, 0);
                self.advance(next);
                return Prepared::Steps(vec![step]);
            }
        };
        if pending.skip {
            let item = &self.items[self.position];
            let step = self
                .label(item, &pending.url)
                .skipped("pm.execution.skipRequest() in its pre-request script");
            self.advance(pending.next);
            return Prepared::Steps(vec![step]);
        }
        match self.build(&mut pending, ctx) {
            Ok((label, out, token)) => {
                self.pending = Some(pending);
                self.built = Some((label.clone(), out));
                Prepared::Request { label, token }
            }
            Err(step) => {
                self.advance(pending.next);
                Prepared::Steps(vec![*step])
            }
        }
    }

    fn render(&mut self, _ctx: &Context) -> Result<(StepLabel, Outgoing), Box<Step>> {
        let built = self.built.take();
        // Kept to send again after a Digest challenge; no other auth asks for that.
        let digest = self
            .pending
            .as_ref()
            .and_then(|p| self.items[p.item].auth.as_ref())
            .is_some_and(|a| a.kind == "digest");
        self.sent = built
            .as_ref()
            .filter(|_| digest)
            .map(|(_, out)| out.clone());
        built.ok_or_else(|| {
            Box::new(StepLabel::new("(none)", vec![], "", "").errored("nothing was prepared", 0))
        })
    }

    fn resolve(&mut self, key: &str, _ctx: &Context) -> Result<ResolvedProfile, Box<Unusable>> {
        if let Some(why) = self.unusable.get(key) {
            return Err(Box::new(Unusable {
                label: "OAuth 2.0 (Postman auth)".into(),
                error: TokenError::Profile {
                    message: why.clone(),
                },
            }));
        }
        self.oauth2.get(key).cloned().ok_or_else(|| {
            let message = "no oauth2 auth is known under this key".to_string();
            Box::new(Unusable {
                label: String::new(),
                error: TokenError::Profile { message },
            })
        })
    }

    fn judge(&mut self, label: &StepLabel, answer: &Answer, ctx: &Context) -> Vec<Step> {
        let Some(mut p) = self.pending.take() else {
            return vec![];
        };
        let mut steps = Vec::new();
        // A token request written as a plain request (Microsoft's samples): read it as one.
        if is_token_endpoint(&p.url, &self.items[p.item].request.body) {
            let outcome = auth::answer_token(answer, ctx.clock.now());
            steps.push(Step::Token(exec::token_step(
                &self.items[p.item].path,
                "token request in the collection",
                Some(label.url.clone()),
                Some(answer.status),
                crate::clock::millis(answer.duration),
                outcome,
                ctx,
            )));
        }
        let test_error = self.tests(&mut p, answer, ctx).err();
        let script_error = match (p.pre_error.take(), test_error) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        }
        .map(|e| match html_page(answer) {
            // `JSON.parse` on a gateway's error page: say what the answer was.
            Some(what) => format!("{e} ({what})"),
            None => e,
        });
        let assertions = test_assertions(&p.tests);
        let json = answer.json_shaped(crate::assertions::outcome_shape());
        let mut step = label.answered(answer, json.as_ref());
        step.outcome = match &script_error {
            Some(e) => Outcome::Error(redact(e).into_owned()),
            None if assertions.iter().all(|a| a.passed) => Outcome::Passed,
            None => Outcome::Failed,
        };
        step.assertions = assertions;
        steps.push(Step::Request(step));
        self.advance(p.next);
        steps
    }

    fn again(&mut self, answer: &Answer, ctx: &Context) -> Option<Outgoing> {
        let p = self.pending.as_ref().filter(|p| !p.replayed)?;
        let item = &self.items[p.item];
        let a = item.auth.as_ref().filter(|a| a.kind == "digest")?;
        let sent = self.sent.as_ref()?;
        let v = self.vars(&p.local, item, &ctx.clock);
        let mut digest = self.digest.borrow_mut();
        let state = digest.entry(origin_key(&sent.url)).or_default();
        *state = super::auth::digest_retry(a, &v, state, answer)?;
        let mut out = sent.clone();
        super::auth::sign_digest(a, &v, &mut out, state);
        drop(digest);
        if let Some(p) = self.pending.as_mut() {
            p.replayed = true;
        }
        Some(out)
    }

    fn bail(&mut self, _why: String) {
        self.stopped = true;
    }
}

fn body_text(b: &Body) -> Option<String> {
    match b {
        Body::Raw(t, _) => Some(t.clone()),
        Body::UrlEncoded(f) => Some(serde_urlencoded::to_string(f).unwrap_or_default()),
        Body::FormData(parts) => Some(
            serde_urlencoded::to_string(
                parts
                    .iter()
                    .filter(|p| p.file.is_none())
                    .map(|p| (&p.key, &p.value))
                    .collect::<Vec<_>>(),
            )
            .unwrap_or_default(),
        ),
        Body::None => None,
    }
}

/// A multipart/form-data body: text parts with variables resolved, files read from
/// `working_dir` (default: the current directory). `Err`: a file that can not be read.
fn multipart(
    parts: &[super::model::FormPart],
    v: &Vars<'_>,
    working_dir: Option<&std::path::Path>,
    headers: &mut Vec<(String, String)>,
) -> Result<Vec<u8>, String> {
    let boundary = format!("----fhircheck{}", uuid::Uuid::new_v4().simple());
    let mut body = Vec::new();
    for p in parts {
        let key = v.resolve(&p.key).replace('"', "%22");
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match &p.file {
            Some(src) => {
                let src = v.resolve(src);
                let path = match working_dir {
                    Some(d) if std::path::Path::new(&src).is_relative() => d.join(&src),
                    _ => std::path::PathBuf::from(&src),
                };
                let bytes = std::fs::read(&path).map_err(|e| {
                    format!("form-data file `{key}`: cannot read {}: {e} (relative paths start at --working-dir, else the current directory)", path.display())
                })?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().replace('"', "%22"))
                    .unwrap_or_default();
                let ct = p
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".into());
                body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{key}\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n").as_bytes());
                body.extend_from_slice(&bytes);
            }
            None => {
                let value = v.resolve(&p.value);
                if is_secret_name(&p.key) {
                    redactor().add(&value);
                }
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{key}\"\r\n").as_bytes(),
                );
                if let Some(ct) = &p.content_type {
                    body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
                }
                body.extend_from_slice(b"\r\n");
                body.extend_from_slice(value.as_bytes());
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
    headers.push((
        "Content-Type".into(),
        format!("multipart/form-data; boundary={boundary}"),
    ));
    Ok(body)
}

/// "the answer was an HTML page (HTTP 502), not JSON", when it was one.
fn html_page(a: &Answer) -> Option<String> {
    let html = a.header("content-type").is_some_and(|c| c.contains("html"))
        || a.text().trim_start().starts_with('<');
    html.then(|| format!("the answer was an HTML page (HTTP {}), not JSON", a.status))
}

/// JSON with its `//` and `/* */` comments removed, as Postman sends a raw JSON body; text
/// inside strings is kept as it is.
fn strip_json_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => out.extend(chars.next()),
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                while chars.peek().is_some_and(|n| *n != '\n') {
                    chars.next();
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut last = ' ';
                for n in chars.by_ref() {
                    if last == '*' && n == '/' {
                        break;
                    }
                    last = n;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The body with variables resolved; a form sets its Content-Type when the request has none.
fn resolve_body(b: &Body, v: &Vars<'_>, headers: &mut Vec<(String, String)>) -> Option<String> {
    match b {
        Body::None => None,
        Body::Raw(t, lang) => {
            let media = match lang.as_deref() {
                Some("json") => Some("application/json"),
                Some("xml") => Some("application/xml"),
                Some("html") => Some("text/html"),
                Some("javascript") => Some("application/javascript"),
                Some("text") => Some("text/plain"),
                _ => None,
            };
            if let Some(m) = media {
                if !headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                {
                    headers.push(("Content-Type".into(), m.into()));
                }
            }
            let text = v.resolve(t);
            Some(if lang.as_deref() == Some("json") {
                strip_json_comments(&text)
            } else {
                text
            })
        }
        Body::FormData(_) => None,
        Body::UrlEncoded(f) => {
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
                headers.push((
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
            }
            Some(serde_urlencoded::to_string(&pairs).unwrap_or_default())
        }
    }
}

/// Script `console` output, shown in the `--verbose` trace.
fn trace_logs(ctx: &Context, logs: &[String], label: &str) {
    let Some(t) = &ctx.http.tracer else { return };
    for l in logs {
        t(&crate::http::Exchange {
            method: "console".into(),
            url: format!("{label}: {l}"),
            request_headers: vec![],
            request_body: None,
            status: None,
            response_headers: vec![],
            response_body: bytes::Bytes::new(),
            duration: Duration::ZERO,
            error: None,
        });
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn collection() -> Collection {
        serde_json::from_value(serde_json::json!({
            "info": {"name": "c", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
            "item": [
                {"name": "A", "item": [
                    {"name": "a1", "request": {"method": "GET", "url": "http://127.0.0.1:9/a1"}},
                    {"name": "a2", "request": {"method": "GET", "url": "http://127.0.0.1:9/a2"}}
                ]},
                {"name": "b", "request": {"method": "GET", "url": "http://127.0.0.1:9/b"}}
            ]
        }))
        .unwrap()
    }

    /// The progress total: what `--folder` keeps, times the iterations (`-n`, or the data rows).
    #[test]
    fn planned_counts_folders_and_iterations() {
        let c = collection();
        let plan =
            |opts: &Options| PostmanDriver::new(&c, "c", Scopes::default(), opts, None).planned();
        assert_eq!(plan(&Options::default()), 3);
        let folder = Options {
            folders: vec!["A".into()],
            ..Options::default()
        };
        assert_eq!(plan(&folder), 2);
        let iterations = Options {
            folders: vec!["A".into()],
            iterations: Some(4),
            ..Options::default()
        };
        assert_eq!(plan(&iterations), 8);
        let data = Options {
            data: vec![Map::new(), Map::new()],
            ..Options::default()
        };
        assert_eq!(plan(&data), 6);
    }
}

#[cfg(test)]
mod body_tests {
    #[test]
    fn json_comments_go_and_strings_stay() {
        let text = "{\n // note\n \"a\": \"x // y /* z */\", /* gone */ \"b\": \"q\\\"//\"\n}";
        let out = super::strip_json_comments(text);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["a"], "x // y /* z */");
        assert_eq!(v["b"], "q\"//");
        assert_eq!(super::strip_json_comments("[1, 2] // end"), "[1, 2] ");
    }
}

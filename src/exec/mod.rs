//! The execution core. Every request of every front end (native collections, Postman
//! collections, `doctor`) is sent here: tokens from one token manager, one retry policy, the
//! exchange through [`http::send`](crate::http::send) (so `--verbose` sees it), and the steps of
//! the run result built by one set of constructors.
//!
//! A front end is a [`Driver`]: it decides what to send next ([`Driver::prepare`]), names the
//! credential behind a token key ([`Driver::resolve`]) and judges each answer
//! ([`Driver::judge`]). The async loop that drives them is [`run`]; the drivers themselves are
//! synchronous.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{ResolvedProfile, Unusable};
use crate::clock::{millis, Clock};
use crate::http::{Answer, Tracer};
use crate::result::{CollectionResult, Outcome, RequestStep, RunResult, Step};
use crate::secret::redact;

pub mod tokens;

pub use tokens::{acquire, token_step, Tokens};

/// What a run needs from outside: built once by the configuration step.
pub struct Context {
    pub client: reqwest::Client,
    pub clock: Clock,
    /// The process environment, read once by the configuration step.
    pub env: Arc<HashMap<String, String>>,
    /// `--bail`: stop sending after the first failure (cleanup requests still run).
    pub bail: bool,
    /// Receives every HTTP exchange (`--verbose`).
    pub tracer: Option<Tracer>,
    /// `--token-cache`: the cache file.
    pub token_cache: Option<std::path::PathBuf>,
    /// `--retry`: how many times a 429 or 503 answer is retried.
    pub retries: u32,
}

/// A request as a front end built it: rendered, ready to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// A token a request needs, by the key its driver resolves.
#[derive(Debug, Clone)]
pub struct TokenNeed {
    /// The auth profile's name, or any key the driver knows the credential by.
    pub key: String,
    /// The profile's name, as the token step shows it.
    pub profile: String,
    /// The FHIR base URL the token is for, for the audience and cloud checks.
    pub base: Option<String>,
    /// Why the request is skipped when no token can be had.
    pub skip_reason: String,
}

/// What identifies a request step in the report.
#[derive(Debug, Clone)]
pub struct StepLabel {
    pub name: String,
    pub folders: Vec<String>,
    pub method: String,
    /// The URL as shown (secrets masked when the label is made).
    pub url: String,
    pub cleanup: bool,
    /// The assertions are script tests (`pm.test`): each is its own JUnit testcase.
    pub script_tests: bool,
}

impl StepLabel {
    pub fn new(name: &str, folders: Vec<String>, method: &str, url: &str) -> Self {
        StepLabel {
            name: name.to_string(),
            folders,
            method: method.to_string(),
            url: redact(url).into_owned(),
            cleanup: false,
            script_tests: false,
        }
    }

    fn step(&self, outcome: Outcome) -> RequestStep {
        RequestStep {
            name: self.name.clone(),
            folders: self.folders.clone(),
            method: self.method.clone(),
            url: self.url.clone(),
            status: None,
            duration_ms: 0,
            outcome,
            assertions: vec![],
            issues: vec![],
            challenge: None,
            captures: vec![],
            cleanup: self.cleanup,
            script_tests: self.script_tests,
            retries: 0,
        }
    }

    /// Not sent, and why.
    pub fn skipped(&self, why: &str) -> Step {
        Step::Request(self.step(Outcome::Skipped(redact(why).into_owned())))
    }

    /// Could not be completed (network, script, request building).
    pub fn errored(&self, message: &str, duration_ms: u64) -> Step {
        let mut s = self.step(Outcome::Error(redact(message).into_owned()));
        s.duration_ms = duration_ms;
        Step::Request(s)
    }

    /// Answered: the step with the answer's status, timing, retries, challenge and
    /// OperationOutcome issues; the driver fills in the outcome and assertions.
    pub fn answered(&self, answer: &Answer, json: Option<&serde_json::Value>) -> RequestStep {
        let mut s = self.step(Outcome::Passed);
        s.status = Some(answer.status);
        s.duration_ms = millis(answer.duration);
        s.retries = answer.retries;
        s.challenge = answer
            .header("www-authenticate")
            .map(|h| redact(h).into_owned());
        s.issues = json
            .map(crate::assertions::outcome_issues)
            .unwrap_or_default();
        s
    }
}

/// What a driver wants done next.
pub enum Prepared {
    /// A request: the core gets its token (which goes in `Authorization: Bearer` unless the
    /// request sets Authorization itself), asks the driver to render it, sends it, and has the
    /// driver judge the answer. `label` names it when it is skipped for want of a token.
    Request {
        label: StepLabel,
        token: Option<TokenNeed>,
    },
    /// Nothing to send this time; these steps say why.
    Steps(Vec<Step>),
    /// The collection is done.
    End,
}

/// A front end over the core.
pub trait Driver {
    /// The collection's name and where it came from, for the report.
    fn name(&self) -> (String, String);
    /// How many requests the run plans to send (iterations and `--folder` included).
    fn planned(&self) -> usize;
    /// The next thing to do.
    fn prepare(&mut self, ctx: &Context) -> Prepared;
    /// The request last prepared, rendered now that its token is there; `Err` is a step that
    /// says why it can not be sent.
    fn render(&mut self, ctx: &Context) -> Result<(StepLabel, Outgoing), Box<Step>>;
    /// The credential behind a token key. `Err` carries the label shown and why it failed.
    fn resolve(&mut self, key: &str, ctx: &Context) -> Result<ResolvedProfile, Box<Unusable>>;
    /// The steps for an answer to the request last prepared.
    fn judge(&mut self, label: &StepLabel, answer: &Answer, ctx: &Context) -> Vec<Step>;
    /// `--bail` after a failure: stop sending what is not cleanup.
    fn bail(&mut self, why: String);
    /// How long to wait between requests (`--delay-request`).
    fn delay(&self) -> Duration {
        Duration::ZERO
    }
}

/// What the core reports while it runs; the terminal's live lines are made from these. `run` is
/// the index of the collection run, in input order: with `--jobs`, events of several runs
/// arrive interleaved.
pub enum Event<'a> {
    /// Before anything is sent: how many requests all runs plan.
    RunStarted {
        planned: usize,
    },
    CollectionStarted {
        run: usize,
        name: &'a str,
        source: &'a str,
    },
    StepFinished {
        run: usize,
        step: &'a Step,
    },
    CollectionFinished {
        run: usize,
    },
}

/// Runs every driver, `jobs` at a time on this thread, and returns the one run result with the
/// collections in input order. Each run has its own driver (variables, cleanup) and its own
/// tokens; they share the HTTP client and its connections.
pub async fn run(
    drivers: &mut [Box<dyn Driver + '_>],
    jobs: usize,
    ctx: &Context,
    observer: &mut dyn FnMut(Event<'_>),
) -> RunResult {
    use futures_util::StreamExt;
    let started_at = ctx.clock.now();
    let started = std::time::Instant::now();
    let planned = drivers.iter().map(|d| d.planned()).sum();
    observer(Event::RunStarted { planned });
    // Runs are polled together on one thread: an event is delivered whole, never while another
    // is being delivered.
    let observer = std::cell::RefCell::new(observer);
    let emit = |e: Event<'_>| (observer.borrow_mut())(e);
    let collections = futures_util::stream::iter(
        drivers
            .iter_mut()
            .enumerate()
            .map(|(i, d)| run_one(i, d.as_mut(), ctx, &emit)),
    )
    .buffered(jobs.max(1))
    .collect::<Vec<_>>()
    .await;
    RunResult {
        collections,
        started_at,
        duration_ms: millis(started.elapsed()),
    }
}

/// Is this step a failure `--bail` stops for, and what does the stop say?
fn bail_reason(step: &Step) -> Option<String> {
    match step {
        Step::Token(t) if t.result.is_err() => Some(format!(
            "--bail: the token for `{}` could not be obtained",
            t.profile
        )),
        Step::Request(RequestStep {
            outcome: Outcome::Failed | Outcome::Error(_),
            name,
            ..
        }) => Some(format!("--bail: stopped after \"{name}\" failed")),
        _ => None,
    }
}

async fn run_one(
    run: usize,
    driver: &mut (dyn Driver + '_),
    ctx: &Context,
    emit: &dyn Fn(Event<'_>),
) -> CollectionResult {
    let started = std::time::Instant::now();
    let (name, source) = driver.name();
    emit(Event::CollectionStarted {
        run,
        name: &name,
        source: &source,
    });
    let mut steps: Vec<Step> = Vec::new();
    let mut tokens = Tokens::default();
    let mut bailed = false;
    let mut sent = 0usize;
    loop {
        let new_steps = match driver.prepare(ctx) {
            Prepared::End => break,
            Prepared::Steps(s) => s,
            Prepared::Request { label, token } => {
                if sent > 0 && !driver.delay().is_zero() {
                    tokio::time::sleep(driver.delay()).await;
                }
                sent += 1;
                exchange(driver, &mut tokens, &label, token.as_ref(), ctx).await
            }
        };
        for step in new_steps {
            emit(Event::StepFinished { run, step: &step });
            if ctx.bail && !bailed {
                if let Some(why) = bail_reason(&step) {
                    bailed = true;
                    driver.bail(why);
                }
            }
            steps.push(step);
        }
    }
    emit(Event::CollectionFinished { run });
    CollectionResult {
        name,
        source,
        steps,
        duration_ms: millis(started.elapsed()),
    }
}

/// One request: its token, the exchange with retries, and the driver's judgement.
async fn exchange(
    driver: &mut (dyn Driver + '_),
    tokens: &mut Tokens,
    label: &StepLabel,
    token: Option<&TokenNeed>,
    ctx: &Context,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut bearer = None;
    if let Some(need) = token {
        let (step, token) = tokens.bearer(need, driver, ctx).await;
        steps.extend(step.map(Step::Token));
        match token {
            Some(t) => bearer = Some(t),
            None => {
                steps.push(label.skipped(&need.skip_reason));
                return steps;
            }
        }
    }
    let (label, out) = match driver.render(ctx) {
        Ok(r) => r,
        Err(step) => {
            steps.push(*step);
            return steps;
        }
    };
    if let Err(why) = check_headers(&out.headers) {
        steps.push(label.errored(&why, 0));
        return steps;
    }
    match send(&out, bearer.as_ref().map(|t| t.expose()), ctx).await {
        Err((message, duration)) => steps.push(label.errored(&message, millis(duration))),
        Ok(answer) => steps.extend(driver.judge(&label, &answer, ctx)),
    }
    steps
}

/// Header names and values that can go on the wire; a value with CR or LF can not.
fn check_headers(headers: &[(String, String)]) -> Result<(), String> {
    for (k, v) in headers {
        if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() {
            return Err(format!(
                "`{k}` is not a valid header name; nothing was sent"
            ));
        }
        if reqwest::header::HeaderValue::from_str(v).is_err() {
            return Err(format!(
                "the value of header `{k}` has a character a header can not carry (a line break or a control character); nothing was sent"
            ));
        }
    }
    Ok(())
}

fn has_header(h: &[(String, String)], name: &str) -> bool {
    h.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
}

/// Builds a fresh request for each attempt, so a retry sends exactly what the first did.
fn build(out: &Outgoing, bearer: Option<&str>, ctx: &Context) -> reqwest::RequestBuilder {
    let mut rb = ctx.client.request(out.method.clone(), &out.url);
    for (k, v) in &out.headers {
        rb = rb.header(k.as_str(), v.as_str());
    }
    if let Some(t) = bearer {
        if !has_header(&out.headers, "authorization") {
            rb = rb.bearer_auth(t);
        }
    }
    if let Some(b) = &out.body {
        rb = rb.body(b.clone());
    }
    rb
}

/// Sends `out`, retrying 429 and 503 answers `ctx.retries` times after their Retry-After.
/// `Err` is the transport error and how long the failed attempt took.
pub async fn send(
    out: &Outgoing,
    bearer: Option<&str>,
    ctx: &Context,
) -> Result<Answer, (String, Duration)> {
    let mut retries = 0;
    loop {
        let started = std::time::Instant::now();
        let reply =
            crate::http::send(&ctx.client, build(out, bearer, ctx), ctx.tracer.as_ref()).await;
        match reply {
            Err(message) => return Err((message, started.elapsed())),
            Ok(a) if matches!(a.status, 429 | 503) && retries < ctx.retries => {
                retries += 1;
                let wait = retry_after(&a.headers, ctx.clock.now());
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
            Ok(mut a) => {
                a.retries = retries;
                return Ok(a);
            }
        }
    }
}

/// A GET with `Accept: application/fhir+json` and an optional bearer token, through the same
/// path as every request (retries, tracing).
pub async fn get(url: &str, bearer: Option<&str>, ctx: &Context) -> crate::http::Reply {
    let out = Outgoing {
        method: reqwest::Method::GET,
        url: url.to_string(),
        headers: vec![("Accept".into(), "application/fhir+json".into())],
        body: None,
    };
    send(&out, bearer, ctx).await.map_err(|(m, _)| m)
}

/// Seconds to wait before retrying, from `Retry-After` (seconds or an HTTP date): at least 1, at
/// most 30.
pub fn retry_after(headers: &[(String, String)], now: i64) -> u64 {
    let secs = match crate::http::header(headers, "retry-after").map(str::trim) {
        Some(v) => v
            .parse::<i64>()
            .ok()
            .or_else(|| crate::clock::httpdate_to_unix(v).map(|t| t - now))
            .unwrap_or(1),
        None => 1,
    };
    secs.clamp(1, 30) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn header_values_with_line_breaks_are_refused() {
        let ok = vec![("X-A".to_string(), "b".to_string())];
        assert!(check_headers(&ok).is_ok());
        let bad = vec![("X-A".to_string(), "b\r\nX-Injected: 1".to_string())];
        assert!(check_headers(&bad).unwrap_err().contains("line break"));
        let bad_name = vec![("X A".to_string(), "b".to_string())];
        assert!(check_headers(&bad_name).is_err());
    }
}

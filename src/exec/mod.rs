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
use crate::http::Answer;
use crate::result::{CollectionResult, Outcome, RequestStep, RunResult, Step};
use crate::secret::redact;

mod send;
pub mod tokens;

use send::check_headers;
pub use send::plain_http_refusal;
pub use send::{get, same_origin, send, wait_for_access};
pub use tokens::{acquire, token_step, Tokens};

/// What a run needs from outside: built once by the configuration step.
pub struct Context {
    /// The client, the `--verbose` tracer and `--max-body`.
    pub http: crate::http::Http,
    pub clock: Clock,
    /// The process environment, read once by the configuration step.
    pub env: Arc<HashMap<String, String>>,
    /// `--bail`: stop sending after the first failure (cleanup requests still run).
    pub bail: bool,
    /// `--token-cache`: the cache file.
    pub token_cache: Option<std::path::PathBuf>,
    /// `--retry`: how many times a 429 or 503 answer is retried.
    pub retries: u32,
    /// `--follow-cross-origin`: follow a redirect to another origin (without the credentials).
    pub follow_cross_origin: bool,
    /// `--allow-http`: send credentials over plain HTTP to hosts other than this machine.
    pub allow_http: bool,
    /// `--ignore-redirects`: a 3xx answer is the answer.
    pub ignore_redirects: bool,
    /// `--wait-for-access`: how long to retry the first authorised request while it answers 403.
    pub wait_for_access: Option<std::time::Duration>,
    /// Set to the signal's number when Ctrl-C or SIGTERM arrives: no new request is sent, the
    /// cleanup requests still are.
    pub interrupted: Arc<std::sync::atomic::AtomicI32>,
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
            waited_for_access_ms: None,
            redirects: vec![],
        }
    }

    /// Not sent, and why.
    pub fn skipped(&self, why: &str) -> Step {
        Step::Request(self.step(Outcome::Skipped(shown(why))))
    }

    /// Could not be completed (network, script, request building).
    pub fn errored(&self, message: &str, duration_ms: u64) -> Step {
        let mut s = self.step(Outcome::Error(shown(message)));
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
        s.redirects = answer.redirects.clone();
        s.challenge = answer.header("www-authenticate").map(shown);
        s.issues = json
            .map(crate::assertions::outcome_issues)
            .unwrap_or_default();
        s
    }
}

/// Text that reaches a report: secrets masked, control characters made harmless.
pub fn shown(text: &str) -> String {
    crate::text::clean(&redact(text)).into_owned()
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
    /// An answer that asks for the same request again with new credentials (an HTTP Digest
    /// challenge): the request to send in its place, once. The default never asks.
    fn again(&mut self, _answer: &Answer, _ctx: &Context) -> Option<Outgoing> {
        None
    }
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
    /// `--wait-for-access` is waiting: a line of progress.
    Waiting {
        message: &'a str,
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
    let interrupted = match ctx.interrupted.load(std::sync::atomic::Ordering::SeqCst) {
        0 => None,
        15 => Some("SIGTERM".to_string()),
        _ => Some("SIGINT".to_string()),
    };
    RunResult {
        collections,
        started_at,
        duration_ms: millis(started.elapsed()),
        interrupted,
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
    let notify = |message: &str| emit(Event::Waiting { message });
    let mut access = Access {
        seen: false,
        notify: &notify,
    };
    let mut bailed = false;
    let mut sent = 0usize;
    let mut stopped = false;
    loop {
        let signal = ctx.interrupted.load(std::sync::atomic::Ordering::SeqCst);
        if signal != 0 && !stopped {
            stopped = true;
            bailed = true;
            let name = if signal == 15 { "SIGTERM" } else { "Ctrl-C" };
            driver.bail(format!("interrupted by {name}: not sent"));
        }
        let new_steps = match driver.prepare(ctx) {
            Prepared::End => break,
            Prepared::Steps(s) => s,
            Prepared::Request { label, token } => {
                if sent > 0 && !driver.delay().is_zero() {
                    tokio::time::sleep(driver.delay()).await;
                }
                sent += 1;
                exchange(
                    driver,
                    &mut tokens,
                    &label,
                    token.as_ref(),
                    ctx,
                    &mut access,
                )
                .await
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
    access: &mut Access<'_>,
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
    let credentials = bearer.is_some()
        || out
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
    if let Some(why) = credentials
        .then(|| plain_http_refusal(&out.url, ctx.allow_http))
        .flatten()
    {
        steps.push(label.errored(&why, 0));
        return steps;
    }
    let bearer = bearer.as_ref().map(|t| t.expose());
    let mut result = send(&out, bearer, ctx).await;
    if let Some(again) = result.as_ref().ok().and_then(|a| driver.again(a, ctx)) {
        if let Err(why) = check_headers(&again.headers) {
            steps.push(label.errored(&why, 0));
            return steps;
        }
        result = send(&again, bearer, ctx).await;
    }
    let mut waited = None;
    if let (Ok(a), Some(limit), Some(_)) = (&result, ctx.wait_for_access, bearer) {
        if a.status == 403 && !access.seen {
            let (r, w) =
                send::wait_for_access(&out, bearer, ctx, limit, result, access.notify).await;
            result = r;
            waited = Some(millis(w));
        }
    }
    if let (Ok(a), Some(_)) = (&result, bearer) {
        access.seen |= a.status != 403 && a.status != 401;
    }
    match result {
        Err((message, duration)) => steps.push(label.errored(&message, millis(duration))),
        Ok(answer) => {
            let mut judged = driver.judge(&label, &answer, ctx);
            if let Some(Step::Request(r)) =
                judged.iter_mut().find(|s| matches!(s, Step::Request(_)))
            {
                r.waited_for_access_ms = waited;
            }
            steps.extend(judged);
        }
    }
    steps
}

/// Whether an authorised request of this run has been let in yet (`--wait-for-access` waits
/// only before that), and where the waiting is told.
pub(crate) struct Access<'a> {
    seen: bool,
    notify: &'a dyn Fn(&str),
}

//! Runs Postman scripts in QuickJS (rquickjs). One runtime per run, on a thread of its own
//! (`Worker`); every script starts from the same pristine builtins.
//! The API lives in `prelude.js`; state goes in and out as JSON, so the boundary stays small.
//! No file system and no network exist in the context; a time limit stops endless loops.

use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use rquickjs::{Context, Function, Persistent, Runtime};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

const PRELUDE: &str = include_str!("prelude.js");
/// The less common parts of the API, compiled on first use (see prelude.js's `__loadExtras`).
const EXTRAS: &str = include_str!("extras.js");

/// What a script sees.
#[derive(Debug, Clone, Serialize)]
pub struct Input {
    pub globals: Map<String, Value>,
    pub collection: Map<String, Value>,
    pub environment: Map<String, Value>,
    pub data: Map<String, Value>,
    pub local: Map<String, Value>,
    pub request: ScriptRequest,
    pub response: Option<ScriptResponse>,
    pub info: Info,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScriptRequest {
    pub url: String,
    pub method: String,
    pub headers: Vec<Header>,
    pub body: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScriptResponse {
    pub code: u16,
    pub status: String,
    pub headers: Vec<Header>,
    pub body: String,
    #[serde(rename = "responseTime")]
    pub response_time: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Info {
    #[serde(rename = "eventName")]
    pub event_name: String,
    pub iteration: usize,
    #[serde(rename = "iterationCount")]
    pub iteration_count: usize,
    #[serde(rename = "requestName")]
    pub request_name: String,
    #[serde(rename = "requestId")]
    pub request_id: String,
    /// The environment file's name (`pm.environment.name`).
    #[serde(rename = "environmentName")]
    pub environment_name: Option<String>,
}

/// How long `__finish` may take after a script: it only serialises the script's state.
const FINISH_TIME: Duration = Duration::from_millis(200);

/// What a script changed and decided.
#[derive(Debug, Clone, Deserialize)]
pub struct Output {
    pub globals: Map<String, Value>,
    pub collection: Map<String, Value>,
    pub environment: Map<String, Value>,
    pub local: Map<String, Value>,
    pub tests: Vec<TestResult>,
    pub logs: Vec<String>,
    /// `pm.setNextRequest`: a name, or null to stop.
    pub next: Option<String>,
    #[serde(rename = "nextSet")]
    pub next_set: bool,
    pub headers: Vec<Header>,
    pub url: String,
    /// The script threw: what it had done until then is kept, as Postman keeps it.
    #[serde(skip)]
    pub error: Option<ScriptError>,
    /// `pm.execution.skipRequest()` in a pre-request script.
    #[serde(default)]
    pub skip: bool,
    /// `pm.request.body.update(…)` in a pre-request script: the body to send.
    #[serde(default)]
    pub body: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TestResult {
    pub name: String,
    pub passed: bool,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub expected: Option<String>,
    #[serde(default)]
    pub actual: Option<String>,
    #[serde(default)]
    pub skipped: bool,
}

/// A script that threw, or ran too long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    pub message: String,
    /// 1-based line in the script, when known.
    pub line: Option<u32>,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

pub struct Engine {
    /// The context scripts run in, and its `__pristine`, held here so no script can replace
    /// it. Replaced by a fresh one when a script changed the builtins or the API.
    // Declared before the runtime: a context must be dropped before its runtime.
    sandbox: std::cell::RefCell<Sandbox>,
    /// What `pm.sendRequest` sends with; `None`: it is refused.
    sender: std::rc::Rc<Sender>,
    rt: Runtime,
    deadline: Arc<Mutex<Instant>>,
    limit: Duration,
}

/// `pm.sendRequest`'s HTTP: a client of its own on a runtime of this thread, made on first use
/// from the run's settings, so its exchanges go through `http::Http::send` (traced with `-v`,
/// masked) like every other request.
struct Sender {
    settings: Option<crate::http::Http>,
    live: std::cell::RefCell<Option<(crate::http::Http, tokio::runtime::Runtime)>>,
}

impl Sender {
    /// Sends one request described as JSON `{method, url, headers: [[k, v]], body}`; answers
    /// `{code, status, headers, body, responseTime}` or `{error}`.
    fn send(&self, spec: &str) -> String {
        let answer = self
            .try_send(spec)
            .unwrap_or_else(|e| serde_json::json!({ "error": e }));
        answer.to_string()
    }

    fn try_send(&self, spec: &str) -> Result<Value, String> {
        let Some(settings) = &self.settings else {
            return Err("pm.sendRequest is not available here".into());
        };
        let spec: Value = serde_json::from_str(spec).map_err(|e| e.to_string())?;
        let mut live = self.live.borrow_mut();
        if live.is_none() {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("pm.sendRequest: {e}"))?;
            *live = Some((settings.fresh()?, rt));
        }
        let Some((http, rt)) = live.as_ref() else {
            return Err("pm.sendRequest: no client".into());
        };
        let method = spec["method"]
            .as_str()
            .unwrap_or("GET")
            .to_ascii_uppercase();
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| format!("`{method}` is not an HTTP method"))?;
        let url = spec["url"].as_str().unwrap_or_default();
        let mut req = http.request(method, url);
        for h in spec["headers"].as_array().into_iter().flatten() {
            if let (Some(k), Some(v)) = (h[0].as_str(), h[1].as_str()) {
                req = req.header(k, v);
            }
        }
        if let Some(b) = spec["body"].as_str() {
            req = req.body(b.to_string());
        }
        let a = rt.block_on(http.send(req))?;
        // A token in the answer is a secret from now on, as one fetched by a token step is.
        if (200..300).contains(&a.status) {
            let _ = crate::auth::answer_token(&a, 0);
        }
        let reason = reqwest::StatusCode::from_u16(a.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        Ok(serde_json::json!({
            "code": a.status,
            "status": reason,
            "headers": a.headers.iter().map(|(k, v)| serde_json::json!({"key": k, "value": v})).collect::<Vec<_>>(),
            "body": a.text(),
            "responseTime": crate::clock::millis(a.duration),
        }))
    }
}

/// One context with the API defined, and the harness functions Rust calls for every script,
/// held here (a script can not replace them, and no source is parsed per script).
struct Sandbox {
    pristine: Persistent<Function<'static>>,
    begin: Persistent<Function<'static>>,
    flush: Persistent<Function<'static>>,
    finish: Persistent<Function<'static>>,
    ctx: Context,
}

impl Sandbox {
    fn new(rt: &Runtime, sender: &std::rc::Rc<Sender>) -> Result<Sandbox, String> {
        let ctx = Context::full(rt).map_err(|e| format!("cannot create a script context: {e}"))?;
        let pristine = ctx
            .with(|ctx| {
                let mut opts = rquickjs::context::EvalOptions::default();
                opts.global = true;
                opts.strict = false;
                ctx.globals().set("__extrasSource", EXTRAS)?;
                let s = sender.clone();
                let send = Function::new(ctx.clone(), move |spec: String| s.send(&spec))?;
                ctx.globals().set("__sendNative", send)?;
                // `{{$randomEmail}}` and the other dynamic variables in replaceIn.
                let dynamic = Function::new(ctx.clone(), |name: String| {
                    crate::vars::dynamic_value(&name, &crate::clock::Clock::System)
                })?;
                ctx.globals().set("__dynamicNative", dynamic)?;
                // CryptoJS's digests (extras.js): hex in, hex out.
                let digest =
                    Function::new(ctx.clone(), |alg: String, msg: String, key: String| {
                        crate::hash::hex_digest(&alg, &msg, &key).unwrap_or_default()
                    })?;
                ctx.globals().set("__digestNative", digest)?;
                // CryptoJS.AES (extras.js): hex in, hex out; a leading `!` is an error.
                let aes = Function::new(
                    ctx.clone(),
                    |op: String,
                     mode: String,
                     padding: String,
                     key: String,
                     iv: String,
                     data: String| {
                        let bytes = |h: &str| crate::hash::from_hex(h).unwrap_or_default();
                        let r = crate::cipher::aes(
                            op == "encrypt",
                            &mode,
                            &padding,
                            &bytes(&key),
                            &bytes(&iv),
                            &bytes(&data),
                        );
                        match r {
                            Ok(out) => crate::hash::hex(&out),
                            Err(e) => format!("!{e}"),
                        }
                    },
                )?;
                ctx.globals().set("__aesNative", aes)?;
                let evp = Function::new(ctx.clone(), |pass: String, salt: String| {
                    let bytes = |h: &str| crate::hash::from_hex(h).unwrap_or_default();
                    let (key, iv) =
                        crate::cipher::evp_bytes_to_key(&bytes(&pass), &bytes(&salt), 32, 16);
                    crate::hash::hex(&[key, iv].concat())
                })?;
                ctx.globals().set("__evpNative", evp)?;
                ctx.eval_with_options::<(), _>(PRELUDE, opts)?;
                let get = |name: &str| -> rquickjs::Result<Persistent<Function<'static>>> {
                    let f: Function = ctx.globals().get(name)?;
                    Ok(Persistent::save(&ctx, f))
                };
                Ok::<_, rquickjs::Error>((
                    get("__pristine")?,
                    get("__begin")?,
                    get("__flush")?,
                    get("__finish")?,
                ))
            })
            .map_err(|e| format!("the script API could not be set up: {e}"))?;
        let (pristine, begin, flush, finish) = pristine;
        Ok(Sandbox {
            pristine,
            begin,
            flush,
            finish,
            ctx,
        })
    }

    /// Whether the last script changed what every script must find as it was.
    fn tampered(&self) -> bool {
        self.ctx.with(|ctx| {
            self.pristine
                .clone()
                .restore(&ctx)
                .and_then(|f| f.call::<_, bool>(()))
                .unwrap_or(true)
        })
    }
}

impl Engine {
    pub fn new(limit: Duration) -> Result<Engine, String> {
        Engine::with_http(limit, None)
    }

    /// An engine whose `pm.sendRequest` sends with a client made from `http`'s settings.
    pub fn with_http(limit: Duration, http: Option<crate::http::Http>) -> Result<Engine, String> {
        let rt = Runtime::new().map_err(|e| format!("cannot start the script engine: {e}"))?;
        rt.set_memory_limit(128 * 1024 * 1024);
        rt.set_max_stack_size(1024 * 1024);
        let deadline = Arc::new(Mutex::new(Instant::now() + limit));
        let d = deadline.clone();
        rt.set_interrupt_handler(Some(Box::new(move || {
            Instant::now() > *d.lock().unwrap_or_else(|e| e.into_inner())
        })));
        // The API is defined once per run; each script then only resets its state.
        let sender = std::rc::Rc::new(Sender {
            settings: http,
            live: std::cell::RefCell::new(None),
        });
        let sandbox = Sandbox::new(&rt, &sender)?;
        Ok(Engine {
            sandbox: std::cell::RefCell::new(sandbox),
            sender,
            rt,
            deadline,
            limit,
        })
    }

    /// Runs what the script left to run after its own code: timers and `pm.sendRequest`
    /// callbacks (`__flush`), then promise jobs, in rounds, as the sandbox's event loop would.
    fn settle(&self, ctx: &rquickjs::Ctx<'_>, flush: &Function<'_>) -> rquickjs::Result<()> {
        for _ in 0..100 {
            let ran: bool = flush.call(())?;
            let mut jobs = false;
            let mut n = 0;
            while n < 10_000 && ctx.execute_pending_job() {
                jobs = true;
                n += 1;
            }
            if !ran && !jobs {
                break;
            }
        }
        Ok(())
    }

    /// Runs `source` with `input`; returns what it changed.
    pub fn run(&self, source: &str, input: &Input) -> Result<Output, ScriptError> {
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now() + self.limit;
        let input = serde_json::to_string(input).unwrap_or_default();
        let limit = self.limit;
        if self.sandbox.borrow().tampered() {
            let fresh = Sandbox::new(&self.rt, &self.sender).map_err(|message| ScriptError {
                message,
                line: None,
            })?;
            *self.sandbox.borrow_mut() = fresh;
        }
        let sandbox = self.sandbox.borrow();
        sandbox.ctx.with(|ctx| {
            let fail = |ctx: &rquickjs::Ctx<'_>, e: rquickjs::Error, user: bool| -> ScriptError {
                let (message, line) = if e.is_exception() {
                    let ex = ctx.catch();
                    let message = ex
                        .as_object()
                        .and_then(|o| o.get::<_, String>("message").ok())
                        .or_else(|| ex.as_string().and_then(|s| s.to_string().ok()))
                        .unwrap_or_else(|| "the script threw an exception".into());
                    let stack = ex
                        .as_object()
                        .and_then(|o| o.get::<_, String>("stack").ok())
                        .unwrap_or_default();
                    (
                        message,
                        if user {
                            first_line_number(&stack)
                        } else {
                            None
                        },
                    )
                } else {
                    (e.to_string(), None)
                };
                if message.contains("interrupted") {
                    ScriptError {
                        message: format!(
                            "the script ran longer than {} ms and was stopped (an endless loop?)",
                            limit.as_millis()
                        ),
                        line: None,
                    }
                } else {
                    ScriptError { message, line }
                }
            };
            ctx.globals()
                .set("__input", input)
                .map_err(|e| fail(&ctx, e, false))?;
            let call = |f: &Persistent<Function<'static>>| f.clone().restore(&ctx);
            let (begin, flush, finish) = (
                call(&sandbox.begin).map_err(|e| fail(&ctx, e, false))?,
                call(&sandbox.flush).map_err(|e| fail(&ctx, e, false))?,
                call(&sandbox.finish).map_err(|e| fail(&ctx, e, false))?,
            );
            begin.call::<_, ()>(()).map_err(|e| fail(&ctx, e, false))?;
            // A function per script keeps its `var`s its own, as a fresh Postman sandbox would;
            // the wrapper shares line 1, so line numbers stay the script's.
            let wrapped = format!("(function () {{ {source}\n}})();");
            let mut opts = rquickjs::context::EvalOptions::default();
            opts.global = true;
            opts.strict = false;
            opts.backtrace_barrier = true;
            let thrown = ctx
                .eval_with_options::<(), _>(wrapped, opts)
                .err()
                .map(|e| fail(&ctx, e, true));
            // Timers, pm.sendRequest callbacks and promise reactions, until none is left.
            let thrown =
                thrown.or_else(|| self.settle(&ctx, &flush).err().map(|e| fail(&ctx, e, true)));
            // What the script did before it threw is kept: its tests and variables. A script
            // stopped by the time limit gets a moment more to hand its state back.
            *self.deadline.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now() + FINISH_TIME;
            let out: String = finish.call(()).map_err(|e| fail(&ctx, e, false))?;
            let mut out: Output = serde_json::from_str(&out).map_err(|e| ScriptError {
                message: format!("the script's state could not be read back: {e}"),
                line: None,
            })?;
            out.error = thrown;
            Ok(out)
        })
    }
}

/// A script and what it gets, sent to the worker's thread.
type Job = (String, Input);
type Reply = Result<Output, ScriptError>;

/// Runs scripts on a thread of their own. QuickJS checks its interrupt handler (the script time
/// limit) in the bytecode loop but not inside its regular expression engine, so a pattern that
/// backtracks without end (`/^(a+)+$/` on a long string) would hold the run for ever. A script
/// that has not answered a second after its limit is abandoned with its thread, which spins until
/// the process ends; the next script gets a new thread and a new engine.
pub struct Worker {
    limit: Duration,
    http: Option<crate::http::Http>,
    live: Option<(mpsc::Sender<Job>, mpsc::Receiver<Reply>)>,
}

/// A message that is about to arrive, taken without going to sleep: scripts take a tenth of a
/// millisecond, and putting a thread to sleep and waking it costs as much. `Err(true)`: the
/// sender is gone; `Err(false)`: nothing yet, block as usual.
fn spin<T>(rx: &mpsc::Receiver<T>) -> Result<T, bool> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_micros(300) {
        match rx.try_recv() {
            Ok(v) => return Ok(v),
            Err(mpsc::TryRecvError::Disconnected) => return Err(true),
            Err(mpsc::TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
    Err(false)
}

/// How long past its limit a script may take before it is abandoned.
const GRACE: Duration = Duration::from_secs(1);

impl Worker {
    /// `http`: the settings `pm.sendRequest` sends with; `None` refuses it.
    pub fn new(limit: Duration, http: Option<crate::http::Http>) -> Result<Worker, String> {
        let mut w = Worker {
            limit,
            http,
            live: None,
        };
        w.live = Some(w.spawn()?);
        Ok(w)
    }

    fn spawn(&self) -> Result<(mpsc::Sender<Job>, mpsc::Receiver<Reply>), String> {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (reply_tx, replies) = mpsc::channel::<Reply>();
        let (ready_tx, ready) = mpsc::channel::<Result<(), String>>();
        let limit = self.limit;
        let http = self.http.clone();
        std::thread::Builder::new()
            .name("fhircheck-scripts".into())
            .spawn(move || {
                let engine = match Engine::with_http(limit, http) {
                    Ok(e) => {
                        let _ = ready_tx.send(Ok(()));
                        e
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                loop {
                    let job = match spin(&job_rx) {
                        Ok(job) => job,
                        Err(true) => return,
                        Err(false) => match job_rx.recv() {
                            Ok(job) => job,
                            Err(_) => return,
                        },
                    };
                    let (source, input) = job;
                    if reply_tx.send(engine.run(&source, &input)).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| format!("cannot start the script engine's thread: {e}"))?;
        ready
            .recv()
            .map_err(|_| "the script engine's thread ended before it started".to_string())??;
        Ok((jobs, replies))
    }

    /// Runs `source` with `input`, at most its time limit and a second.
    pub fn run(&mut self, source: &str, input: &Input) -> Result<Output, ScriptError> {
        let fail = |message: String| ScriptError {
            message,
            line: None,
        };
        if self.live.is_none() {
            self.live = Some(self.spawn().map_err(fail)?);
        }
        let Some((jobs, replies)) = &self.live else {
            return Err(fail("the script engine is not running".into()));
        };
        if jobs.send((source.to_string(), input.clone())).is_err() {
            self.live = None;
            return Err(fail("the script engine stopped".into()));
        }
        let reply = match spin(replies) {
            Ok(r) => Ok(r),
            Err(true) => Err(mpsc::RecvTimeoutError::Disconnected),
            Err(false) => replies.recv_timeout(self.limit + GRACE),
        };
        match reply {
            Ok(reply) => reply,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                self.live = None;
                Err(fail(format!(
                    "the script ran longer than {} ms and was stopped (a regular expression that backtracks without end?)",
                    self.limit.as_millis()
                )))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                self.live = None;
                Err(fail("the script engine stopped".into()))
            }
        }
    }
}

/// Names of the prelude's own functions, whose stack frames are not the user's.
fn prelude_function(name: &str) -> bool {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            let re = regex::Regex::new(
                r"(?:function\s+([A-Za-z_$][\w$]*)|([A-Za-z_$][\w$]*)\s*:\s*function)",
            )
            .unwrap_or_else(|_| unreachable!());
            re.captures_iter(PRELUDE)
                .filter_map(|c| {
                    c.get(1)
                        .or_else(|| c.get(2))
                        .map(|m| m.as_str().to_string())
                })
                .collect()
        })
        .iter()
        .any(|n| n == name)
}

/// The line of the first frame of the user's script in a QuickJS stack trace
/// (`at <eval> (eval_script:3:1)`), skipping frames inside the `pm` API.
fn first_line_number(stack: &str) -> Option<u32> {
    stack.lines().find_map(|l| {
        let func = l
            .trim()
            .strip_prefix("at ")
            .and_then(|r| r.split(" (").next())
            .unwrap_or("");
        if prelude_function(func) {
            return None;
        }
        let inner = l.rsplit_once('(')?.1.trim_end_matches(')');
        let mut parts = inner.rsplit(':');
        let last = parts.next()?;
        let second = parts.next();
        // `file:line:col` or `file:line`
        match second.and_then(|s| s.parse().ok()) {
            Some(line) if last.parse::<u32>().is_ok() => Some(line),
            _ => last.parse().ok(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(response: Option<(u16, &str)>) -> Input {
        Input {
            globals: Map::new(),
            collection: Map::new(),
            environment: [("fhirurl".to_string(), Value::String("http://h/fhir".into()))]
                .into_iter()
                .collect(),
            data: Map::new(),
            local: Map::new(),
            request: ScriptRequest {
                url: "{{fhirurl}}/Patient".into(),
                method: "GET".into(),
                headers: vec![],
                body: None,
            },
            response: response.map(|(code, body)| ScriptResponse {
                code,
                status: "OK".into(),
                headers: vec![Header {
                    key: "Content-Type".into(),
                    value: "application/fhir+json".into(),
                }],
                body: body.into(),
                response_time: 5,
            }),
            info: Info {
                event_name: "test".into(),
                iteration: 0,
                iteration_count: 1,
                request_name: "r".into(),
                request_id: "1".into(),
                environment_name: None,
            },
        }
    }

    fn engine() -> Engine {
        Engine::new(Duration::from_millis(500)).unwrap()
    }

    /// One script's changes to the builtins and the API do not reach the next script: it can
    /// not forge their results.
    #[test]
    fn every_script_gets_pristine_builtins() {
        let e = engine();
        let forge = r#"
            JSON.stringify = function () { return '{"tests":[{"name":"forged","passed":true}],"logs":[]}'; };
            __finish = function () { return '{"tests":[{"name":"forged","passed":true}]}'; };
            Object.prototype.injected = 1;
            Array.prototype.push = function () { return 0; };
            leaked = "left behind";
        "#;
        // What the forging script reports of itself does not matter here; the next one does.
        let _ = e.run(forge, &input(Some((200, "{}"))));
        let honest = r#"
            pm.test("fails", function () { pm.expect(1).to.eql(2); });
            pm.test("no injection", function () { pm.expect(({}).injected).to.be.undefined; });
            pm.test("no leak", function () { pm.expect(typeof leaked).to.eql("undefined"); });
        "#;
        let out = e.run(honest, &input(Some((200, "{}")))).unwrap();
        let names: Vec<(&str, bool)> = out
            .tests
            .iter()
            .map(|t| (t.name.as_str(), t.passed))
            .collect();
        assert_eq!(
            names,
            vec![("fails", false), ("no injection", true), ("no leak", true)]
        );
        // A global left behind alone is removed; a patched Math.max gets a fresh context.
        let _ = e.run(
            "stray = 1; Math.max = function () { return 42; };",
            &input(None),
        );
        let out = e
            .run(
                "pm.test('clean', function () { pm.expect(typeof stray).to.eql('undefined'); pm.expect(Math.max(1, 2)).to.eql(2); });",
                &input(None),
            )
            .unwrap();
        assert!(out.tests[0].passed, "{:?}", out.tests);
        let _ = e.run("only = 'a global';", &input(None));
        let out = e
            .run(
                "pm.test('gone', function () { pm.expect(typeof only).to.eql('undefined'); });",
                &input(None),
            )
            .unwrap();
        assert!(out.tests[0].passed, "{:?}", out.tests);
    }

    /// `--timeout-script` holds inside the regular expression engine too: the script is
    /// abandoned, and the next one runs on a fresh engine.
    #[test]
    fn legacy_response_headers_are_found_in_any_case() {
        let e = engine();
        let mut i = input(Some((200, "{}")));
        if let Some(r) = i.response.as_mut() {
            r.headers[0].key = "content-type".into();
        }
        let src = r#"
            tests["as the server wrote it"] = responseHeaders["Content-Type"] === "application/fhir+json";
            tests["in lower case"] = responseHeaders["content-type"] === "application/fhir+json";
            tests["in"] = "CONTENT-TYPE" in responseHeaders;
            tests["absent"] = responseHeaders["ETag"] === undefined;
            tests["keys"] = Object.keys(responseHeaders).join() === "content-type";
        "#;
        let out = e.run(src, &i).unwrap();
        assert_eq!(out.tests.len(), 5);
        assert!(out.tests.iter().all(|t| t.passed), "{:?}", out.tests);
    }

    #[test]
    fn a_catastrophic_regular_expression_is_stopped() {
        let mut w = Worker::new(Duration::from_millis(200), None).unwrap();
        let err = w
            .run(
                r#"/^(a+)+$/.test("a".repeat(40) + "b");"#,
                &input(Some((200, "{}"))),
            )
            .unwrap_err();
        assert!(err.message.contains("ran longer than"), "{}", err.message);
        let out = w
            .run(
                r#"pm.test("after", function () {});"#,
                &input(Some((200, "{}"))),
            )
            .unwrap();
        assert_eq!(out.tests.len(), 1);
    }

    #[test]
    fn pm_api_and_chai_chains() {
        let src = r#"
            pm.test("status", function () { pm.response.to.have.status(200); });
            pm.test("json", function () {
                var j = pm.response.json();
                pm.expect(j.resourceType).to.eql("Bundle");
                pm.expect(j.total).to.be.a("number").and.to.be.above(0);
                pm.expect(j.entry).to.have.lengthOf(1);
                pm.expect(j).to.have.property("type", "searchset");
                pm.expect(j.type).to.be.oneOf(["searchset", "history"]);
                pm.expect(j.entry[0]).to.include({id: "p1"});
                pm.expect(j.missing).to.not.exist;
                pm.expect(true).to.be.true;
                pm.expect("abc").to.include("b");
                pm.expect(j.total).to.not.equal(2);
                pm.response.to.have.header("content-type");
                pm.response.to.be.ok;
            });
            pm.test("fails", function () { pm.expect(pm.response.code).to.equal(201); });
            pm.environment.set("count", pm.response.json().total);
            pm.variables.set("local1", "x");
            pm.collectionVariables.set("c1", pm.variables.replaceIn("{{fhirurl}}/x"));
            console.log("hello", {a: 1});
            pm.setNextRequest(null);
        "#;
        let out = engine().run(src, &input(Some((200, r#"{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"id":"p1"}]}"#)))).unwrap();
        let names: Vec<(&str, bool)> = out
            .tests
            .iter()
            .map(|t| (t.name.as_str(), t.passed))
            .collect();
        assert_eq!(
            names,
            vec![("status", true), ("json", true), ("fails", false)],
            "{:?}",
            out.tests
        );
        assert_eq!(
            out.tests[2].error.as_deref(),
            Some("expected 200 to equal 201")
        );
        assert_eq!(out.tests[2].expected.as_deref(), Some("201"));
        // Typed, as Postman keeps it.
        assert_eq!(out.environment["count"], 1);
        assert_eq!(out.local["local1"], "x");
        assert_eq!(out.collection["c1"], "http://h/fhir/x");
        assert_eq!(out.logs, vec!["hello {\"a\":1}"]);
        assert!(out.next_set && out.next.is_none());
    }

    #[test]
    fn legacy_globals() {
        let src = r#"
            var jsonData = JSON.parse(responseBody);
            postman.setEnvironmentVariable("bearerToken", jsonData.access_token);
            tests["Status code is 200"] = responseCode.code === 200;
            tests["has token"] = !!jsonData.access_token;
            tests["wrong"] = responseCode.code === 500;
        "#;
        let out = engine()
            .run(
                src,
                &input(Some((200, r#"{"access_token":"abc.def.ghi"}"#))),
            )
            .unwrap();
        assert_eq!(out.environment["bearerToken"], "abc.def.ghi");
        let passed: Vec<bool> = out.tests.iter().map(|t| t.passed).collect();
        assert_eq!(passed, vec![true, true, false]);
    }

    #[test]
    fn errors_carry_the_line_and_loops_are_stopped() {
        let thrown = |src: &str| engine().run(src, &input(None)).unwrap().error.unwrap();
        let out = engine()
            .run(
                "pm.test('kept', function () {});\npm.environment.set('k', 'v');\nnotDefined();\n",
                &input(None),
            )
            .unwrap();
        let e = out.error.clone().unwrap();
        assert_eq!(e.line, Some(3), "{e:?}");
        assert!(e.message.contains("notDefined"), "{e:?}");
        // What the script did before it threw is kept, as in Postman.
        assert_eq!(out.tests.len(), 1);
        assert_eq!(out.environment["k"], "v");
        let e = thrown("while (true) {}");
        assert!(e.message.contains("was stopped"), "{e:?}");
        let e = thrown("var a;\nrequire('fs')");
        assert!(e.message.contains("not available"), "{e:?}");
        assert_eq!(e.line, Some(2), "the user's line, not the prelude's");
        // The engine is still usable after an interrupted script.
        assert!(engine()
            .run("pm.test('ok', function(){})", &input(None))
            .is_ok());
    }

    #[test]
    fn scripts_do_not_see_each_others_vars() {
        let e = engine();
        e.run("var leaked = 1; tests['a'] = true;", &input(None))
            .unwrap();
        let out = e.run("pm.test('clean', function () { pm.expect(typeof leaked).to.equal('undefined'); });", &input(None)).unwrap();
        assert_eq!(
            out.tests.len(),
            1,
            "tests[] from the last script is gone: {:?}",
            out.tests
        );
        assert!(out.tests[0].passed, "{:?}", out.tests);
    }

    #[test]
    fn request_headers_can_be_changed() {
        let out = engine()
            .run("pm.request.headers.add({key: 'X-A', value: '1'}); pm.request.headers.upsert({key: 'x-a', value: '2'});", &input(None))
            .unwrap();
        assert_eq!(out.headers.len(), 1);
        assert_eq!(out.headers[0].value, "2");
    }
}

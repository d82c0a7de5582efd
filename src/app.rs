//! The configuration step and the commands. This is the only module that reads the command
//! line, the process environment, the clock and the terminal; everything below gets values.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::cli::{self, Cli, ColorChoice, Command};
use crate::clock::Clock;
use crate::collection::{self, Environment, Plan, Problem};
use crate::exit::ExitCode;
use crate::report::{self, Style};
use crate::result::{RunResult, Step};
use crate::runner::{self, RunContext};
use crate::sandbox;
use crate::secret::redact_for;
use crate::vars::{Layer, Value, Variables};

/// The Azure smoke collection, built in so `demo` and `token` work from any directory.
pub const SMOKE_COLLECTION: &str = include_str!("../collections/azure-fhir-smoke.json");
pub const SMOKE_SOURCE: &str = "collections/azure-fhir-smoke.json";

/// What the outside world contributes, read once.
pub struct Config {
    pub env: Arc<HashMap<String, String>>,
    pub clock: Clock,
    stdout_tty: bool,
    stderr_tty: bool,
    width: u16,
}

impl Config {
    pub fn from_process() -> Self {
        let env: HashMap<String, String> = std::env::vars().collect();
        let width = terminal_size::terminal_size()
            .map(|(w, _)| w.0)
            .or_else(|| env.get("COLUMNS").and_then(|c| c.parse().ok()))
            .unwrap_or(100);
        Config {
            stdout_tty: std::io::stdout().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
            env: Arc::new(env),
            clock: Clock::system(),
            width,
        }
    }

    fn style(&self, choice: ColorChoice) -> Style {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                self.stdout_tty && self.env.get("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        Style {
            color,
            width: self.width,
        }
    }
}

/// Writes to stdout through the redactor.
fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(redact_for("terminal", text).as_bytes());
    let _ = o.flush();
}

/// Writes an error to stderr through the redactor.
fn error(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "error: {}", redact_for("errors", text));
}

/// Writes trace text to stderr through the redactor.
fn trace_out(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(redact_for("trace", text).as_bytes());
}

/// The entry point behind `main`.
pub fn main() -> std::process::ExitCode {
    crate::secret::install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitCode::Usage as u8
            } else {
                0
            };
            let _ = e.print();
            return std::process::ExitCode::from(code);
        }
    };
    let cfg = Config::from_process();
    if let Some(list) = cfg.env.get("FHIRCHECK_TEST_UNREDACTED") {
        crate::secret::set_unredacted_writers(
            list.split(',').map(|w| w.trim().to_string()).collect(),
        );
    }
    match cli.command {
        Command::Run(a) => run(*a, &cfg),
        Command::Token(a) => token(a, &cfg),
        Command::Doctor(a) => doctor(a, &cfg),
        Command::Decode(a) => decode(a, &cfg),
        Command::Import(cli::ImportCommand::Postman(a)) => import_postman(a),
        Command::Schema(a) => schema(a),
        Command::Sandbox(a) => sandbox_cmd(a, &cfg),
        Command::Demo(a) => demo(a, &cfg),
    }
    .into()
}

fn problems_text(path: &Path, problems: &[Problem]) -> String {
    let mut s = format!(
        "{}: the collection has {} problem{}:",
        path.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        s.push_str(&format!("\n  {}", p.to_string().replace('\n', "\n  ")));
    }
    s
}

fn load_env_file(path: Option<&Path>) -> Result<Option<Environment>, ExitCode> {
    match path {
        None => Ok(None),
        Some(p) => collection::load_environment(p).map(Some).map_err(|e| {
            error(&e.to_string());
            ExitCode::Usage
        }),
    }
}

fn variables(
    plan: &Plan,
    env_file: Option<&Environment>,
    cli: &[(String, String)],
    cfg: &Config,
) -> Variables {
    let mut v = Variables::new(cfg.env.clone(), cfg.clock);
    for (k, d) in &plan.collection.variables {
        v.set(Layer::Collection, k, Value::new(k, d.text(), d.secret()));
    }
    if let Some(e) = env_file {
        for (k, d) in &e.variables {
            v.set(Layer::Environment, k, Value::new(k, d.text(), d.secret()));
        }
    }
    for (k, val) in cli {
        v.set(Layer::CommandLine, k, Value::new(k, val.clone(), false));
    }
    v
}

/// Loads and validates a collection; prints the problem and returns Usage on failure.
fn prepare(
    path: &Path,
    text: Option<&str>,
    env_file: Option<&Environment>,
    cli_vars: &[(String, String)],
    profile: Option<&str>,
    cfg: &Config,
) -> Result<(Plan, Variables), ExitCode> {
    let loaded = match text {
        Some(t) => collection::load_collection_str(path, t),
        None => collection::load_collection(path),
    };
    let mut c = loaded.map_err(|e| {
        error(&e.to_string());
        ExitCode::Usage
    })?;
    if let Some(p) = profile {
        if p != "none" && !c.auth.contains_key(p) {
            let mut names: Vec<&str> = c.auth.keys().map(String::as_str).collect();
            names.sort_unstable();
            let problem = collection::unknown_profile("--profile".into(), p, &names);
            error(&format!(
                "{}: {}: {}\n  = help: {}",
                path.display(),
                problem.place,
                problem.message,
                problem.hint.unwrap_or_default()
            ));
            return Err(ExitCode::Usage);
        }
        c.default_auth = Some(p.to_string());
    }
    let plan = collection::plan(c).map_err(|p| {
        error(&problems_text(path, &p));
        ExitCode::Usage
    })?;
    let vars = variables(&plan, env_file, cli_vars, cfg);
    let problems = runner::preflight(&plan, &vars, &cfg.env);
    if !problems.is_empty() {
        error(&format!(
            "{}\nnothing was sent.",
            problems_text(path, &problems)
        ));
        return Err(ExitCode::Usage);
    }
    Ok((plan, vars))
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            error(&format!("cannot start the async runtime: {e}"));
            ExitCode::Runtime
        })
}

/// One collection, ready to run.
enum Job {
    Native(Box<Plan>, Variables),
    Postman(
        Box<crate::postman::model::Collection>,
        crate::postman::runner::Scopes,
    ),
}

/// Runs prepared collections, printing as it goes; returns the run result and, for Postman
/// collections, the environment as the run left it.
async fn execute(
    jobs: &[(String, Job)],
    ctx: &RunContext,
    style: &Style,
    quiet: bool,
    target: Option<&str>,
    progress: bool,
    postman: Option<&crate::postman::runner::Options>,
) -> (
    RunResult,
    Option<serde_json::Map<String, serde_json::Value>>,
) {
    let started_at = ctx.clock.now();
    let started = Instant::now();
    let mut collections = Vec::new();
    let mut environment = None;
    let total: usize = jobs
        .iter()
        .map(|(_, j)| match j {
            Job::Native(p, _) => p.requests.len(),
            Job::Postman(c, _) => crate::postman::model::flatten(c).len(),
        })
        .sum();
    let mut done = 0;
    for (source, job) in jobs {
        let name = match job {
            Job::Native(p, _) => p.collection.name.clone(),
            Job::Postman(c, _) => c.info.name.clone(),
        };
        if !quiet {
            out(&report::collection_header(&name, source, target, style));
        }
        let mut observer = |step: &Step| {
            if progress {
                // Clear the progress line before anything else is printed.
                eprint!("\r\x1b[2K");
            }
            if !quiet {
                out(&report::step_lines(step, style));
            }
            if let Step::Request(r) = step {
                done += 1;
                if progress && done < total {
                    eprint!("[{done}/{total}] {}", redact_for("terminal", &r.name));
                }
            }
        };
        match job {
            Job::Native(plan, vars) => collections
                .push(runner::run_collection(plan, vars.clone(), source, ctx, &mut observer).await),
            Job::Postman(c, scopes) => {
                let default = crate::postman::runner::Options {
                    iterations: None,
                    data: vec![],
                    folders: vec![],
                    delay: Duration::ZERO,
                    script_timeout: Duration::from_secs(5),
                    authority_host: None,
                };
                let opts = postman.unwrap_or(&default);
                let (result, scopes) = crate::postman::runner::run(
                    c,
                    source,
                    scopes.clone(),
                    opts,
                    ctx,
                    &mut observer,
                )
                .await;
                environment = Some(scopes.environment);
                collections.push(result);
            }
        }
    }
    if progress {
        eprint!("\r\x1b[2K");
    }
    (
        RunResult {
            collections,
            started_at,
            duration_ms: crate::clock::millis(started.elapsed()),
        },
        environment,
    )
}

/// Loads a Postman collection and the scopes it starts with.
fn prepare_postman(
    path: &Path,
    text: &str,
    env_file: Option<&Environment>,
    globals: Option<&Environment>,
    cli_vars: &[(String, String)],
) -> Result<
    (
        crate::postman::model::Collection,
        crate::postman::runner::Scopes,
    ),
    ExitCode,
> {
    let c: crate::postman::model::Collection = collection::parse(path, text).map_err(|e| {
        error(&e.to_string());
        ExitCode::Usage
    })?;
    let to_map = |e: Option<&Environment>| -> serde_json::Map<String, serde_json::Value> {
        e.map(|e| {
            e.variables
                .iter()
                .map(|(k, d)| {
                    if d.secret() || crate::vars::is_secret_name(k) {
                        crate::secret::redactor().add(&d.text());
                    }
                    (k.clone(), serde_json::Value::String(d.text()))
                })
                .collect()
        })
        .unwrap_or_default()
    };
    let mut scopes = crate::postman::runner::Scopes {
        globals: to_map(globals),
        collection: c
            .variable
            .iter()
            .filter(|v| !v.disabled)
            .filter_map(|v| {
                Some((
                    v.name()?.to_string(),
                    serde_json::Value::String(crate::postman::model::text(&v.value)),
                ))
            })
            .collect(),
        environment: to_map(env_file),
    };
    for (k, v) in cli_vars {
        if crate::vars::is_secret_name(k) {
            crate::secret::redactor().add(v);
        }
        scopes
            .environment
            .insert(k.clone(), serde_json::Value::String(v.clone()));
    }
    Ok((c, scopes))
}

/// Iteration data: a JSON array of objects, or CSV with a header row.
fn load_data(path: &Path) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the iteration data: {e}", path.display()))?;
    if text.trim_start().starts_with('[') {
        let rows: Vec<serde_json::Map<String, serde_json::Value>> = collection::parse(path, &text)
            .map_err(|e| format!("{e}\n  = help: iteration data in JSON is an array of objects"))?;
        return Ok(rows);
    }
    let records =
        crate::postman::csv::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = Vec::new();
    let mut it = records.into_iter();
    let header = it.next().unwrap_or_default();
    for rec in it {
        rows.push(
            header
                .iter()
                .cloned()
                .zip(rec.into_iter().map(serde_json::Value::String))
                .collect(),
        );
    }
    Ok(rows)
}

fn run(a: cli::RunArgs, cfg: &Config) -> ExitCode {
    let env_file = match load_env_file(a.vars.env.as_deref()) {
        Ok(e) => e,
        Err(c) => return c,
    };
    let pm = &a.postman;
    let globals = match load_env_file(pm.globals.as_deref()) {
        Ok(e) => e,
        Err(c) => return c,
    };
    let mut jobs = Vec::new();
    for path in &a.collections {
        let text = match collection::read(path) {
            Ok(t) => t,
            Err(e) => {
                error(&e.to_string());
                return ExitCode::Usage;
            }
        };
        let job = if collection::sniff(&text) == collection::Format::Postman {
            if a.profile.is_some() {
                error(&format!(
                    "{}: --profile applies to fhircheck collections; this is a Postman collection\n  = help: a Postman collection's requests carry their own auth; convert it with `fhircheck import postman` to choose profiles",
                    path.display()
                ));
                return ExitCode::Usage;
            }
            match prepare_postman(
                path,
                &text,
                env_file.as_ref(),
                globals.as_ref(),
                &a.vars.vars,
            ) {
                Ok((c, scopes)) => Job::Postman(Box::new(c), scopes),
                Err(c) => return c,
            }
        } else {
            let postman_only = [
                ("--globals", pm.globals.is_some()),
                ("--folder", !pm.folders.is_empty()),
                ("--iteration-count", pm.iterations.is_some()),
                ("--iteration-data", pm.data.is_some()),
                ("--delay-request", pm.delay > 0),
                ("--export-environment", pm.export_environment.is_some()),
                ("--authority-host", pm.authority_host.is_some()),
            ];
            if let Some((flag, _)) = postman_only.iter().find(|(_, set)| *set) {
                error(&format!(
                    "{}: {flag} applies to Postman collections; this is a fhircheck collection\n  = help: in fhircheck collections use `when` conditions, and variables for the authority host",
                    path.display()
                ));
                return ExitCode::Usage;
            }
            match prepare(
                path,
                Some(&text),
                env_file.as_ref(),
                &a.vars.vars,
                a.profile.as_deref(),
                cfg,
            ) {
                Ok((plan, vars)) => Job::Native(Box::new(plan), vars),
                Err(c) => return c,
            }
        };
        jobs.push((path.display().to_string(), job));
    }
    let data = match pm.data.as_deref().map(load_data).transpose() {
        Ok(d) => d.unwrap_or_default(),
        Err(e) => {
            error(&e);
            return ExitCode::Usage;
        }
    };
    if let Some(p) = &pm.export_environment {
        if let Err(e) = crate::reporters::plan(
            &[],
            Path::new("."),
            &[(crate::reporters::Kind::Json, Some(p.clone()))],
            false,
            None,
        ) {
            error(&format!(
                "{}\nnothing was sent.",
                e.replace("the json report", "the exported environment")
            ));
            return ExitCode::Usage;
        }
    }
    let postman_opts = crate::postman::runner::Options {
        iterations: pm.iterations.map(|n| n as usize),
        data,
        folders: pm.folders.clone(),
        delay: Duration::from_millis(pm.delay),
        script_timeout: Duration::from_millis(pm.timeout_script.max(1)),
        authority_host: pm.authority_host.clone(),
    };
    let timeout = pm
        .timeout_request
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(a.timeout));
    let client = match crate::http::client(timeout) {
        Ok(c) => c,
        Err(e) => {
            error(&e);
            return ExitCode::Runtime;
        }
    };
    let r = &a.reports;
    let outputs = match crate::reporters::plan(
        &r.reporters,
        &r.report_dir,
        &[
            (crate::reporters::Kind::Json, r.reporter_json_export.clone()),
            (
                crate::reporters::Kind::Junit,
                r.reporter_junit_export.clone(),
            ),
            (crate::reporters::Kind::Html, r.reporter_html_export.clone()),
        ],
        cfg.env.get("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
        cfg.env
            .get("GITHUB_STEP_SUMMARY")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from),
    ) {
        Ok(o) => o,
        Err(e) => {
            error(&format!("{e}\nnothing was sent."));
            return ExitCode::Usage;
        }
    };
    let tracer: Option<crate::http::Tracer> = r.verbose.then(|| {
        std::sync::Arc::new(|ex: &crate::http::Exchange| {
            trace_out(&crate::reporters::trace::render(ex))
        }) as crate::http::Tracer
    });
    let token_cache = if r.token_cache {
        match crate::token_cache::path(&cfg.env) {
            Some(p) => Some(p),
            None => {
                error("--token-cache needs a cache directory: set HOME, XDG_CACHE_HOME or FHIRCHECK_CACHE_DIR");
                return ExitCode::Usage;
            }
        }
    } else {
        None
    };
    let ctx = RunContext {
        client,
        clock: cfg.clock,
        env: cfg.env.clone(),
        bail: a.bail,
        tracer,
        token_cache,
        retries: a.retry,
    };
    let style = cfg.style(a.output.color);
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    let quiet = a.output.quiet || !outputs.cli;
    let progress = cfg.stderr_tty && !r.verbose;
    let (result, environment) = rt.block_on(execute(
        &jobs,
        &ctx,
        &style,
        quiet,
        None,
        progress,
        Some(&postman_opts),
    ));
    if let (Some(p), Some(env)) = (&pm.export_environment, environment) {
        if let Err(e) = crate::reporters::write_atomic(p, &crate::postman::export_environment(&env))
        {
            error(&format!(
                "cannot write the environment to {}: {e}",
                p.display()
            ));
            return ExitCode::Runtime;
        }
    }
    if outputs.cli {
        out(&report::summary(&result, &style));
    }
    match crate::reporters::write(&outputs, &result) {
        Ok(Some(annotations)) => {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(annotations.as_bytes());
        }
        Ok(None) => {}
        Err(e) => {
            error(&e);
            return ExitCode::Runtime;
        }
    }
    result.exit_code()
}

/// Loads the collection (or the built-in smoke collection) and picks the auth profile.
fn collection_and_profile(
    collection: Option<&Path>,
    profile: Option<&str>,
    vars_args: &cli::VarArgs,
    cfg: &Config,
) -> Result<(PathBuf, Plan, Variables, String), ExitCode> {
    let env_file = load_env_file(vars_args.env.as_deref())?;
    let (path, text) = match collection {
        Some(p) => (p.to_path_buf(), None),
        None => (PathBuf::from(SMOKE_SOURCE), Some(SMOKE_COLLECTION)),
    };
    let loaded = match text {
        Some(t) => collection::load_collection_str(&path, t),
        None => collection::load_collection(&path),
    };
    let c = loaded.map_err(|e| {
        error(&e.to_string());
        ExitCode::Usage
    })?;
    let chosen = profile
        .map(str::to_string)
        .or_else(|| c.default_auth.clone())
        .or_else(|| {
            (c.auth.len() == 1)
                .then(|| c.auth.keys().next().cloned())
                .flatten()
        });
    let profile = match chosen {
        Some(p) if c.auth.contains_key(&p) => p,
        Some(p) => {
            let names: Vec<&str> = c.auth.keys().map(String::as_str).collect();
            error(&format!(
                "{}: auth profile `{p}` is not defined{}",
                path.display(),
                collection::did_you_mean(&p, &names)
                    .map(|b| format!("; did you mean `{b}`?"))
                    .unwrap_or_else(|| format!(" (profiles: {})", names.join(", ")))
            ));
            return Err(ExitCode::Usage);
        }
        None => {
            error(&format!(
                "{}: name the auth profile with --profile (the collection has several, or none)",
                path.display()
            ));
            return Err(ExitCode::Usage);
        }
    };
    let plan = collection::plan(c).map_err(|p| {
        error(&problems_text(&path, &p));
        ExitCode::Usage
    })?;
    let vars = variables(&plan, env_file.as_ref(), &vars_args.vars, cfg);
    let mut problems = Vec::new();
    if let Some(b) = plan.collection.base_url.as_deref() {
        for e in vars.check(b, &Default::default()) {
            problems.push(Problem {
                place: "base_url".into(),
                message: e.to_string(),
                hint: None,
            });
        }
    }
    if let Some(p) = plan.collection.auth.get(&profile) {
        if problems.is_empty() {
            let base = plan
                .collection
                .base_url
                .as_deref()
                .and_then(|b| vars.render(b).ok())
                .map(|r| r.text);
            if let Err(e) = crate::auth::resolve(&profile, p, &vars, base.as_deref(), &cfg.env) {
                problems.push(Problem {
                    place: format!("auth.{profile}"),
                    message: e.to_string(),
                    hint: None,
                });
            }
        }
    }
    if !problems.is_empty() {
        error(&problems_text(&path, &problems));
        return Err(ExitCode::Usage);
    }
    Ok((path, plan, vars, profile))
}

/// The context of `doctor` and `token`: one client, no run options.
fn single_request_context(
    timeout: u64,
    token_cache: bool,
    cfg: &Config,
) -> Result<RunContext, ExitCode> {
    let client = crate::http::client(Duration::from_secs(timeout)).map_err(|e| {
        error(&e);
        ExitCode::Runtime
    })?;
    Ok(RunContext {
        client,
        clock: cfg.clock,
        env: cfg.env.clone(),
        bail: false,
        tracer: None,
        token_cache: if token_cache {
            crate::token_cache::path(&cfg.env)
        } else {
            None
        },
        retries: 0,
    })
}

fn doctor(a: cli::DoctorArgs, cfg: &Config) -> ExitCode {
    let (_, plan, vars, profile) =
        match collection_and_profile(a.collection.as_deref(), a.profile.as_deref(), &a.vars, cfg) {
            Ok(x) => x,
            Err(c) => return c,
        };
    let ctx = match single_request_context(a.timeout, false, cfg) {
        Ok(c) => c,
        Err(c) => return c,
    };
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    let report = rt.block_on(crate::doctor::run(&plan, &profile, &vars, &ctx, a.write));
    if a.json {
        out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ));
    } else {
        out(&report::doctor(&report, &cfg.style(a.color)));
    }
    report.exit_code()
}

fn decode(a: cli::DecodeArgs, cfg: &Config) -> ExitCode {
    let raw = match a.token.as_deref() {
        Some(t) if t != "-" => t.to_string(),
        _ => {
            let mut s = String::new();
            if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut s) {
                error(&format!("cannot read the token from standard input: {e}"));
                return ExitCode::Usage;
            }
            s
        }
    };
    let token = raw.trim().trim_start_matches("Bearer ").trim();
    // From here on the token is a secret: nothing below can print it.
    let secret = crate::secret::Secret::new(token);
    let Some(claims) = crate::auth::Claims::decode(secret.expose()) else {
        error("that is not a JWT: a JWT is three base64url parts separated by dots (header.claims.signature)");
        return ExitCode::Usage;
    };
    let now = cfg.clock.now();
    let checks = a.fhir_url.as_deref().map(|u| {
        let u = u.trim_end_matches('/');
        let authority = a.tenant.as_deref().map(|t| format!("https://login/{t}"));
        crate::doctor::claim_findings(&claims, u, "--fhir-url", authority.as_deref(), now, None)
    });
    let failed = checks
        .iter()
        .flatten()
        .any(|f| f.status == crate::diagnose::Status::Fail);
    if a.json {
        let times: serde_json::Map<String, serde_json::Value> = ["iat", "nbf", "exp"]
            .iter()
            .filter_map(|k| {
                let t = claims.time(k)?;
                let v = serde_json::json!({"utc": crate::clock::iso8601(t), "relative": crate::clock::relative(t, now)});
                Some((k.to_string(), v))
            })
            .collect();
        let v = serde_json::json!({
            "header": claims.header,
            "claims": claims.claims,
            "times": times,
            "checks": checks,
        });
        out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        ));
    } else {
        let style = cfg.style(a.color);
        let mut s = String::from("header\n");
        for (k, v) in &claims.header {
            s.push_str(&format!(
                "  {k:<8} {}\n",
                v.as_str().map_or_else(|| v.to_string(), str::to_string)
            ));
        }
        s.push_str("claims (signature not verified)\n");
        let shown = claims.summary(now);
        let w = claims
            .claims
            .keys()
            .map(String::len)
            .max()
            .unwrap_or(0)
            .max(5);
        for (k, v) in &shown {
            s.push_str(&format!("  {k:<w$}  {v}\n"));
        }
        for (k, v) in &claims.claims {
            if !crate::auth::SHOWN_CLAIMS.contains(&k.as_str()) {
                s.push_str(&format!(
                    "  {k:<w$}  {}\n",
                    v.as_str().map_or_else(|| v.to_string(), str::to_string)
                ));
            }
        }
        if let Some(list) = &checks {
            s.push_str("\nchecks against --fhir-url\n");
            s.push_str(&report::findings(list, &style));
        }
        out(&s);
    }
    if failed {
        ExitCode::AssertionFailed
    } else {
        ExitCode::Success
    }
}

fn import_postman(a: cli::ImportPostmanArgs) -> ExitCode {
    let text = match collection::read(&a.collection) {
        Ok(t) => t,
        Err(e) => {
            error(&e.to_string());
            return ExitCode::Usage;
        }
    };
    if collection::sniff(&text) != collection::Format::Postman {
        error(&format!(
            "{}: this is not a Postman collection (no `info` and `item`)",
            a.collection.display()
        ));
        return ExitCode::Usage;
    }
    let c: crate::postman::model::Collection = match collection::parse(&a.collection, &text) {
        Ok(c) => c,
        Err(e) => {
            error(&e.to_string());
            return ExitCode::Usage;
        }
    };
    let env = match load_env_file(a.env.as_deref()) {
        Ok(e) => e,
        Err(c) => return c,
    };
    let converted = crate::postman::import::convert(&c, env.as_ref());
    let json = serde_json::to_string_pretty(&converted.collection).unwrap_or_default() + "\n";
    // The result must be a valid collection; anything else is a bug in the importer.
    let shown = a
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("(output)"));
    let checked = collection::load_collection_str(&shown, &json)
        .map_err(|e| e.to_string())
        .and_then(|c| collection::plan(c).map_err(|p| problems_text(&shown, &p)));
    if let Err(e) = checked {
        error(&format!("the converted collection does not validate; this is a bug in fhircheck's importer:\n{e}"));
        return ExitCode::Runtime;
    }
    match &a.output {
        Some(p) => {
            if let Err(e) = crate::reporters::write_atomic(p, &json) {
                error(&format!("cannot write {}: {e}", p.display()));
                return ExitCode::Usage;
            }
            let mut msg = format!(
                "converted {} requests from {} to {}\n",
                converted.requests,
                a.collection.display(),
                p.display()
            );
            if !converted.notes.is_empty() {
                msg.push_str(&format!(
                    "{} things were not translated or changed shape:\n",
                    converted.notes.len()
                ));
                for n in &converted.notes {
                    msg.push_str(&format!("  {}: {}\n", n.item, n.text));
                }
            }
            eprint!("{}", redact_for("errors", &msg));
        }
        None => {
            out(&json);
            for n in &converted.notes {
                eprintln!("note: {}: {}", n.item, redact_for("errors", &n.text));
            }
        }
    }
    ExitCode::Success
}

fn schema(a: cli::SchemaArgs) -> ExitCode {
    let v = match a.kind {
        cli::SchemaKind::Collection => collection::collection_schema(),
        cli::SchemaKind::Environment => collection::environment_schema(),
        cli::SchemaKind::Report => crate::reporters::json::schema(),
    };
    out(&format!(
        "{}\n",
        serde_json::to_string_pretty(&v).unwrap_or_default()
    ));
    ExitCode::Success
}

fn token(a: cli::TokenArgs, cfg: &Config) -> ExitCode {
    if a.clear_cache {
        let Some(p) = crate::token_cache::path(&cfg.env) else {
            error("no cache directory: set HOME, XDG_CACHE_HOME or FHIRCHECK_CACHE_DIR");
            return ExitCode::Usage;
        };
        return match crate::token_cache::clear(&p) {
            Ok(true) => {
                out(&format!("token cache cleared ({})\n", p.display()));
                ExitCode::Success
            }
            Ok(false) => {
                out(&format!(
                    "the token cache was already empty ({})\n",
                    p.display()
                ));
                ExitCode::Success
            }
            Err(e) => {
                error(&format!(
                    "cannot delete the token cache {}: {e}",
                    p.display()
                ));
                ExitCode::Runtime
            }
        };
    }
    let (path, plan, vars, profile) =
        match collection_and_profile(a.collection.as_deref(), a.profile.as_deref(), &a.vars, cfg) {
            Ok(x) => x,
            Err(c) => return c,
        };
    let ctx = match single_request_context(a.timeout, a.token_cache, cfg) {
        Ok(c) => c,
        Err(c) => return c,
    };
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    let (step, _) = rt.block_on(runner::acquire(&plan, &profile, &vars, &ctx));
    let ok = step.result.is_ok();
    if a.json {
        let value = serde_json::json!({
            "profile": step.profile,
            "method": step.label,
            "endpoint": step.endpoint,
            "status": step.status,
            "duration_ms": step.duration_ms,
            "ok": ok,
            "token": step.result.as_ref().ok().map(|i| serde_json::json!({
                "token_type": i.token_type,
                "expires_at": i.expires_at.map(crate::clock::iso8601),
                "scope": i.scope,
                "verified": false,
                "claims": i.raw_claims,
            })),
            "error": step.result.as_ref().err(),
            "diagnosis": step.result.as_ref().err().and_then(crate::diagnose::token_error),
        });
        out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        ));
    } else {
        let style = cfg.style(a.color);
        out(&report::step_lines(&Step::Token(step.clone()), &style));
        if !ok {
            let result = RunResult {
                collections: vec![crate::result::CollectionResult {
                    name: plan.collection.name.clone(),
                    source: path.display().to_string(),
                    steps: vec![Step::Token(step)],
                    duration_ms: 0,
                }],
                started_at: cfg.clock.now(),
                duration_ms: 0,
            };
            out(&report::failures_only(&result, &style));
        }
    }
    if ok {
        ExitCode::Success
    } else {
        ExitCode::Token
    }
}

fn sandbox_cmd(a: cli::SandboxArgs, cfg: &Config) -> ExitCode {
    if a.print_registrations {
        let regs = sandbox::registrations::scenario(&a.scenario, "{{sandbox_url}}");
        out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&regs).unwrap_or_default()
        ));
        return ExitCode::Success;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            error(&format!("cannot start the async runtime: {e}"));
            return ExitCode::Runtime;
        }
    };
    rt.block_on(async {
        let opts = sandbox::Options {
            port: a.port,
            scenario: a.scenario.clone(),
            registrations: a.registrations.clone(),
            upstream: a.upstream.clone(),
            clock: cfg.clock,
        };
        let running = match sandbox::start(opts).await {
            Ok(r) => r,
            Err(e) => {
                error(&format!("{e}"));
                return ExitCode::Usage;
            }
        };
        let ep = running.endpoints.clone();
        if let Some(path) = &a.write_env {
            let text = serde_json::to_string_pretty(&ep.environment()).unwrap_or_default() + "\n";
            if let Err(e) = write_new_file(path, &text) {
                error(&format!("cannot write {}: {e}", path.display()));
                running.stop().await;
                return ExitCode::Usage;
            }
        }
        // The sandbox's own secret is a published test value: show it, so people can use it.
        let mut s = format!(
            "fhircheck sandbox listening on {} (scenario: {})\n",
            ep.base, ep.scenario
        );
        if let Some(d) = &ep.description {
            s.push_str(&format!("  {d}\n"));
        }
        s.push_str(&format!(
            "\n  fhir_url        {}\n  authority_host  {}\n  tenant_id       {}\n  client_id       {}\n  client_secret   {}\n  resource        {}\n  token endpoint  {}/{}/oauth2/token (v1), {}/{}/oauth2/v2.0/token (v2)\n",
            ep.fhir_url, ep.authority_host, ep.client.tenant_id, ep.client.client_id, ep.client.client_secret,
            ep.client.resource, ep.base, ep.client.tenant_id, ep.base, ep.client.tenant_id
        ));
        if let Some(p) = &a.write_env {
            s.push_str(&format!("\n  environment written to {}\n  try: fhircheck run {SMOKE_SOURCE} -e {}\n", p.display(), p.display()));
        }
        s.push_str("\nPress Ctrl-C to stop.\n");
        // Printed raw on purpose (see above); everything else goes through the redactor.
        print!("{s}");
        let _ = std::io::stdout().flush();
        let _ = tokio::signal::ctrl_c().await;
        running.stop().await;
        eprintln!("sandbox stopped");
        ExitCode::Success
    })
}

/// Writes a file completely or not at all: a temporary sibling renamed into place.
fn write_new_file(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp-fhircheck");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

fn demo(a: cli::DemoArgs, cfg: &Config) -> ExitCode {
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    let style = cfg.style(a.output.color);
    rt.block_on(async {
        let opts = sandbox::Options { scenario: a.scenario.clone(), clock: cfg.clock, ..Default::default() };
        let running = match sandbox::start(opts).await {
            Ok(r) => r,
            Err(e) => {
                error(&format!("{e}"));
                return ExitCode::Runtime;
            }
        };
        let ep = running.endpoints.clone();
        let mut cli_vars: Vec<(String, String)> = ep.variables().into_iter().map(|(k, v, _)| (k.to_string(), v)).collect();
        if a.token_version == "v2" {
            cli_vars.retain(|(k, _)| k != "token_version");
            cli_vars.push(("token_version".into(), "v2".into()));
        }
        let prepared = prepare(Path::new(SMOKE_SOURCE), Some(SMOKE_COLLECTION), None, &cli_vars, None, cfg);
        let (plan, vars) = match prepared {
            Ok(p) => p,
            Err(c) => {
                running.stop().await;
                return c;
            }
        };
        let client = match crate::http::client(Duration::from_secs(30)) {
            Ok(c) => c,
            Err(e) => {
                error(&e);
                running.stop().await;
                return ExitCode::Runtime;
            }
        };
        let ctx = RunContext { client, clock: cfg.clock, env: cfg.env.clone(), bail: false, tracer: None, token_cache: None, retries: 0 };
        if !a.output.quiet {
            out(&format!(
                "fhircheck demo: scenario `{}`: {}\nsandbox on {} (token service and FHIR service, 127.0.0.1 only)\n\n",
                ep.scenario,
                ep.description.as_deref().unwrap_or_default(),
                ep.base
            ));
        }
        let jobs = vec![(format!("{SMOKE_SOURCE}, built in"), Job::Native(Box::new(plan), vars))];
        let (result, _) = execute(&jobs, &ctx, &style, a.output.quiet, Some(&ep.fhir_url), cfg.stderr_tty, None).await;
        running.stop().await;
        out(&report::summary(&result, &style));
        result.exit_code()
    })
}

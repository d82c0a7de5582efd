//! `fhircheck run`: collections through the execution core, live lines, summary and reports.

use std::cell::RefCell;
use std::path::Path;
use std::time::Duration;

use super::setup::{self, ContextSetup};
use super::{out_to, CliError, Config, Outcome, SMOKE_COLLECTION, SMOKE_SOURCE};
use crate::cli::RunArgs;
use crate::collection;
use crate::exec::{self, Context, Driver, Event};
use crate::native::NativeDriver;
use crate::plan::Plan;
use crate::postman::model::Collection as PostmanCollection;
use crate::postman::runner::{Options as PostmanOptions, PostmanDriver, Scopes};
use crate::report::{self, Style};
use crate::reporters::{self, Kind, Outputs};
use crate::result::{RunResult, Step};
use crate::secret::redact_for;
use crate::vars::Variables;

/// One collection, loaded and validated.
pub(super) enum Job {
    Native(Box<Plan>, Variables),
    /// The collection, its variables, and its text (for `--export-collection`).
    Postman(Box<PostmanCollection>, Scopes, String),
}

/// Everything `run` decided before sending anything.
struct RunSetup {
    jobs: Vec<(String, Job)>,
    /// How many runs at the same time.
    parallel: usize,
    postman: PostmanOptions,
    outputs: Outputs,
    ctx: Context,
    style: Style,
    quiet: bool,
    progress: bool,
}

/// Flags that only mean something for Postman collections.
fn postman_only_flag(pm: &crate::cli::PostmanArgs) -> Option<&'static str> {
    [
        ("--globals", pm.globals.is_some()),
        ("--folder", !pm.folders.is_empty()),
        ("--iteration-count", pm.iterations.is_some()),
        ("--iteration-data", pm.data.is_some()),
        ("--delay-request", pm.delay > 0),
        ("--export-environment", pm.export_environment.is_some()),
        ("--authority-host", pm.authority_host.is_some()),
        ("--global-var", !pm.global_vars.is_empty()),
        ("--export-globals", pm.export_globals.is_some()),
        ("--export-collection", pm.export_collection.is_some()),
        ("--export-secrets", pm.export_secrets),
        ("--working-dir", pm.working_dir.is_some()),
    ]
    .into_iter()
    .find(|(_, set)| *set)
    .map(|(flag, _)| flag)
}

/// Loads one collection file, Postman or native, with what applies to its kind.
fn load_job(
    path: &Path,
    a: &RunArgs,
    env_file: Option<&collection::Environment>,
    globals: Option<&collection::Environment>,
    cfg: &Config,
) -> Result<Job, CliError> {
    let text = match builtin(path) {
        Some(t) => t.to_string(),
        None => collection::read(path).map_err(|e| CliError::Usage(e.to_string()))?,
    };
    if collection::sniff(&text) == collection::Format::Postman {
        if a.profile.is_some() {
            return Err(CliError::Usage(format!(
                "{}: --profile applies to fhircheck collections; this is a Postman collection\n  = help: a Postman collection's requests carry their own auth; convert it with `fhircheck import postman` to choose profiles",
                path.display()
            )));
        }
        let (c, scopes) = setup::load_postman(
            path,
            &text,
            env_file,
            globals,
            &a.vars.vars,
            &a.postman.global_vars,
        )?;
        return Ok(Job::Postman(Box::new(c), scopes, text));
    }
    let text = if crate::testscript::is_testscript(&text) {
        setup::testscript_collection(path, &text)?
    } else {
        text
    };
    if let Some(flag) = postman_only_flag(&a.postman) {
        return Err(CliError::Usage(format!(
            "{}: {flag} applies to Postman collections; this is a fhircheck collection\n  = help: in fhircheck collections use `when` conditions, and variables for the authority host",
            path.display()
        )));
    }
    let (plan, vars) = setup::load_native(
        path,
        &text,
        env_file,
        &a.vars.vars,
        a.profile.as_deref(),
        a.allow_http,
        cfg,
    )?;
    Ok(Job::Native(Box::new(plan), vars))
}

/// The built-in smoke collection's text, when `path` names it and no such file exists here
/// (after `cargo install`, outside a clone).
fn builtin(path: &Path) -> Option<&'static str> {
    (path == Path::new(SMOKE_SOURCE) && !path.exists()).then_some(SMOKE_COLLECTION)
}

/// The `--export-*` files asked for, with what each holds.
fn exports(pm: &crate::cli::PostmanArgs) -> Vec<(&Path, &'static str)> {
    [
        (&pm.export_environment, "environment"),
        (&pm.export_globals, "globals"),
        (&pm.export_collection, "collection"),
    ]
    .into_iter()
    .filter_map(|(p, what)| Some((p.as_deref()?, what)))
    .collect()
}

/// Where reports go; checked writable before anything is sent.
fn outputs(a: &RunArgs, cfg: &Config) -> Result<Outputs, CliError> {
    let r = &a.reports;
    for (p, what) in exports(&a.postman) {
        reporters::plan(
            &[],
            Path::new("."),
            &[(Kind::Json, Some(p.to_path_buf()))],
            false,
            None,
        )
        .map_err(|e| {
            CliError::Usage(format!(
                "{}\nnothing was sent.",
                e.replace("the json report", &format!("the exported {what}"))
            ))
        })?;
    }
    let planned = reporters::plan(
        &r.reporters,
        &r.report_dir,
        &[
            (Kind::Json, r.reporter_json_export.clone()),
            (Kind::Junit, r.reporter_junit_export.clone()),
            (Kind::Html, r.reporter_html_export.clone()),
        ],
        cfg.env.get("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
        cfg.env
            .get("GITHUB_STEP_SUMMARY")
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from),
    )
    .map_err(|e| CliError::Usage(format!("{e}\nnothing was sent.")))?;
    let to_stdout: Vec<&str> = exports(&a.postman)
        .into_iter()
        .filter(|(p, _)| reporters::is_stdout(p))
        .map(|(_, what)| what)
        .collect();
    if to_stdout.len() + usize::from(planned.stdout_taken()) > 1 {
        return Err(CliError::Usage(format!(
            "the exported {} and the reports ask for standard output more than once: write all but one of them to a file\nnothing was sent.",
            to_stdout.join(" and ")
        )));
    }
    Ok(planned)
}

impl RunSetup {
    fn from_args(a: &RunArgs, cfg: &Config) -> Result<RunSetup, CliError> {
        let pm = &a.postman;
        let globals = setup::load_env_file(pm.globals.as_deref())?;
        let mut envs = Vec::new();
        for p in &a.vars.env {
            envs.push((Some(p), Some(setup::load_environment(p)?)));
        }
        if envs.is_empty() {
            envs.push((None, None));
        }
        let several = envs.len() > 1;
        let mut jobs = Vec::new();
        let smoke = [std::path::PathBuf::from(SMOKE_SOURCE)];
        let collections = if a.collections.is_empty() {
            &smoke[..]
        } else {
            &a.collections[..]
        };
        for path in collections {
            for (env_path, env) in &envs {
                let job = load_job(path, a, env.as_ref(), globals.as_ref(), cfg)?;
                let shown = match builtin(path) {
                    Some(_) => format!("{SMOKE_SOURCE}, built in"),
                    None => path.display().to_string(),
                };
                let source = match env_path.filter(|_| several) {
                    Some(e) => format!("{shown} -e {}", e.display()),
                    None => shown,
                };
                jobs.push((source, job));
            }
        }
        let parallel = a.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            usize::from,
        );
        let data = pm.data.as_deref().map(setup::load_data).transpose()?;
        let outputs = outputs(a, cfg)?;
        let postman = PostmanOptions {
            iterations: pm.iterations.map(|n| n as usize),
            data: data.unwrap_or_default(),
            folders: pm.folders.clone(),
            delay: Duration::from_millis(pm.delay),
            script_timeout: Duration::from_millis(pm.timeout_script.max(1)),
            authority_host: pm.authority_host.clone(),
            working_dir: pm.working_dir.clone(),
            http: None,
        };
        let timeout = pm
            .timeout_request
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_secs(a.timeout));
        // 0: no limit, as in Newman (a week stands for it).
        let timeout = if timeout.is_zero() {
            Duration::from_secs(7 * 24 * 3600)
        } else {
            timeout
        };
        let ctx = ContextSetup {
            timeout,
            bail: a.bail.is_some(),
            tracer: setup::tracer(a.reports.verbose),
            token_cache: a.reports.token_cache,
            retries: a.retry,
            max_body: a.max_body,
            follow_cross_origin: a.follow_cross_origin,
            allow_http: a.allow_http,
            wait_for_access: a.wait_for_access,
            ignore_redirects: a.ignore_redirects,
        }
        .build(cfg)?;
        // pm.sendRequest sends with the run's client settings (trust, proxies, trace).
        let postman = PostmanOptions {
            http: Some(ctx.http.clone()),
            ..postman
        };
        Ok(RunSetup {
            jobs,
            parallel,
            postman,
            quiet: a.output.quiet || !outputs.cli,
            progress: cfg.stderr_tty && !a.reports.verbose,
            outputs,
            ctx,
            style: cfg.style(a.output.color),
        })
    }
}

/// How the terminal shows a run while it happens.
pub(super) struct Live<'a> {
    pub style: &'a Style,
    pub quiet: bool,
    /// A `[done/planned]` progress line on stderr.
    pub progress: bool,
    /// Shown in each collection's header: what it runs against.
    pub target: Option<&'a str>,
    /// Runs at the same time; above 1, each run's lines are held until it ends, then shown whole
    /// and in input order.
    pub parallel: usize,
    /// The terminal report goes to stderr: a report took stdout (`-`).
    pub to_stderr: bool,
}

/// The drivers of `jobs`, in order. `environments[i]` receives a Postman run's final environment.
fn drivers<'a>(
    jobs: &'a [(String, Job)],
    postman: &'a PostmanOptions,
    environments: &'a [RefCell<Option<Scopes>>],
) -> Vec<Box<dyn Driver + 'a>> {
    jobs.iter()
        .zip(environments)
        .map(|((source, job), env)| -> Box<dyn Driver + 'a> {
            match job {
                Job::Native(plan, vars) => Box::new(NativeDriver::new(plan, vars.clone(), source)),
                Job::Postman(c, scopes, _) => Box::new(PostmanDriver::new(
                    c,
                    source,
                    scopes.clone(),
                    postman,
                    Some(env),
                )),
            }
        })
        .collect()
}

/// The terminal's side of the events: lines as steps finish, runs shown whole and in order.
struct Printer<'a> {
    live: &'a Live<'a>,
    planned: usize,
    done: usize,
    /// Lines held per run, while runs go at the same time.
    held: Vec<String>,
    finished: Vec<bool>,
    /// The next run whose lines may be shown.
    next: usize,
}

impl Printer<'_> {
    fn show(&mut self, run: usize, text: &str) {
        if self.live.quiet {
            return;
        }
        if self.live.parallel > 1 && run != self.next {
            if self.held.len() <= run {
                self.held.resize(run + 1, String::new());
            }
            self.held[run].push_str(text);
        } else {
            out_to(self.live.to_stderr, text);
        }
    }

    /// After run `run` ends: show every following run that has ended too, and what the next
    /// running one has so far.
    fn finished(&mut self, run: usize) {
        if self.finished.len() <= run {
            self.finished.resize(run + 1, false);
        }
        self.finished[run] = true;
        while self.finished.get(self.next).copied().unwrap_or(false) {
            self.next += 1;
            if let Some(text) = self.held.get_mut(self.next).map(std::mem::take) {
                if !self.live.quiet && !text.is_empty() {
                    out_to(self.live.to_stderr, &text);
                }
            }
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::RunStarted { planned } => self.planned = planned,
            Event::CollectionStarted { run, name, source } => {
                let header =
                    report::collection_header(name, source, self.live.target, self.live.style);
                self.show(run, &header);
            }
            Event::StepFinished { run, step } => {
                if self.live.progress {
                    // Clear the progress line before anything else is printed.
                    eprint!("\r\x1b[2K");
                }
                self.show(run, &report::step_lines(step, self.live.style));
                if let Step::Request(r) = step {
                    self.done += 1;
                    if self.live.progress && self.done < self.planned {
                        eprint!(
                            "[{}/{}] {}",
                            self.done,
                            self.planned,
                            redact_for("terminal", &r.name)
                        );
                    }
                }
            }
            Event::CollectionFinished { run } => self.finished(run),
            Event::Waiting { message, .. } => {
                // Progress, not part of the report: stderr, one line per attempt.
                if self.live.progress {
                    eprint!("\r\x1b[2K");
                }
                super::trace_out(&format!("waiting for access: {message}\n"));
            }
        }
    }
}

/// Runs prepared collections through the core, printing as it goes; returns the run result and,
/// for Postman collections, the environment as the run left it.
pub(super) async fn execute(
    jobs: &[(String, Job)],
    postman: &PostmanOptions,
    ctx: &Context,
    live: &Live<'_>,
) -> (RunResult, Option<Scopes>) {
    let environments: Vec<RefCell<Option<Scopes>>> =
        jobs.iter().map(|_| RefCell::new(None)).collect();
    let mut drivers = drivers(jobs, postman, &environments);
    let mut printer = Printer {
        live,
        planned: 0,
        done: 0,
        held: vec![],
        finished: vec![],
        next: 0,
    };
    let mut observer = |event: Event<'_>| printer.event(event);
    watch_signals(ctx.interrupted.clone());
    let result = exec::run(&mut drivers, live.parallel, ctx, &mut observer).await;
    if live.progress {
        eprint!("\r\x1b[2K");
    }
    drop(drivers);
    // The environment of the last Postman run, in input order.
    let environment = environments
        .into_iter()
        .filter_map(RefCell::into_inner)
        .last();
    (result, environment)
}

/// Ctrl-C and SIGTERM (a cancelled CI job): the first stops new requests while the cleanup
/// requests still run and the reports are written; the second stops at once.
fn watch_signals(flag: std::sync::Arc<std::sync::atomic::AtomicI32>) {
    use std::sync::atomic::Ordering;
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            let signal = tokio::select! {
                _ = tokio::signal::ctrl_c() => 2,
                Some(()) = async {
                    match term.as_mut() {
                        Some(t) => t.recv().await,
                        None => std::future::pending().await,
                    }
                } => 15,
            };
            #[cfg(not(unix))]
            let signal = {
                let _ = tokio::signal::ctrl_c().await;
                2
            };
            if flag.swap(signal, Ordering::SeqCst) != 0 {
                std::process::exit(128 + signal);
            }
            let name = if signal == 15 { "SIGTERM" } else { "Ctrl-C" };
            eprintln!("\nfhircheck: {name}: no new request is sent; the cleanup requests run and the reports are written. {name} again stops at once.");
        }
    });
}

/// Writes the `--export-*` files from the variables the last Postman run left.
fn write_exports(
    pm: &crate::cli::PostmanArgs,
    jobs: &[(String, Job)],
    scopes: Option<&Scopes>,
) -> Result<Vec<(&'static str, std::path::PathBuf)>, CliError> {
    let mut written = Vec::new();
    let Some(scopes) = scopes else {
        return Ok(written);
    };
    let source = jobs.iter().rev().find_map(|(_, j)| match j {
        Job::Postman(_, _, text) => Some(text.as_str()),
        Job::Native(..) => None,
    });
    for (p, what) in exports(pm) {
        let text = match what {
            "globals" => crate::postman::export_scope(&scopes.globals, what, pm.export_secrets),
            "environment" => {
                crate::postman::export_scope(&scopes.environment, what, pm.export_secrets)
            }
            _ => crate::postman::export_collection(source.unwrap_or("{}"), pm.export_secrets)
                .map_err(CliError::Runtime)?,
        };
        reporters::write_atomic(p, &text).map_err(|e| {
            CliError::Runtime(format!("cannot write the {what} to {}: {e}", p.display()))
        })?;
        written.push((what, p.to_path_buf()));
    }
    Ok(written)
}

pub(super) fn run(a: RunArgs, cfg: &Config) -> Outcome {
    let s = RunSetup::from_args(&a, cfg)?;
    let rt = super::runtime()?;
    let to_stderr = s.outputs.stdout_taken()
        || exports(&a.postman)
            .iter()
            .any(|(p, _)| reporters::is_stdout(p));
    let live = Live {
        style: &s.style,
        quiet: s.quiet,
        progress: s.progress,
        target: None,
        parallel: s.parallel,
        to_stderr,
    };
    let (result, environment) = rt.block_on(execute(&s.jobs, &s.postman, &s.ctx, &live));
    let mut written = write_exports(&a.postman, &s.jobs, environment.as_ref())?;
    if s.outputs.cli {
        out_to(to_stderr, &report::summary(&result, &s.style));
    }
    if let Some(annotations) = reporters::write(&s.outputs, &result).map_err(CliError::Runtime)? {
        // Workflow commands are read from either stream; stdout may hold a report.
        out_to(to_stderr, &annotations);
    }
    written.extend(s.outputs.files.iter().map(|(k, p)| (k.name(), p.clone())));
    let lines: String = written
        .iter()
        .filter(|(_, p)| !reporters::is_stdout(p))
        .map(|(what, p)| format!("{what:<12} {}\n", p.display()))
        .collect();
    if !lines.is_empty() {
        out_to(
            to_stderr || !s.outputs.cli,
            &format!("\nreports written:\n{}", indent(&lines)),
        );
    }
    if a.suppress_exit_code {
        return Ok(crate::exit::ExitCode::Success);
    }
    Ok(result.exit_code())
}

fn indent(lines: &str) -> String {
    lines.lines().map(|l| format!("  {l}\n")).collect()
}

//! Loading what a command works on: collections (native or Postman), environment files,
//! iteration data and variables, validated before anything is sent; and the execution context.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use super::{CliError, Config, SMOKE_COLLECTION, SMOKE_SOURCE};
use crate::collection::{self, Environment};
use crate::exec::Context;
use crate::plan::{Plan, Problem};
use crate::postman::runner::Scopes;
use crate::vars::{Layer, Variables};

/// Every problem of a collection, one per line, under its file name.
pub(super) fn problems_text(path: &Path, problems: &[Problem]) -> String {
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

fn usage(e: impl ToString) -> CliError {
    CliError::Usage(e.to_string())
}

/// An environment file in fhircheck's format or Postman's.
pub(super) fn load_environment(path: &Path) -> Result<Environment, CliError> {
    let text = collection::read(path).map_err(usage)?;
    if collection::sniff(&text) == collection::Format::PostmanEnvironment {
        return crate::postman::environment::parse_environment(path, &text).map_err(usage);
    }
    collection::parse(path, &text).map_err(usage)
}

pub(super) fn load_env_file(path: Option<&Path>) -> Result<Option<Environment>, CliError> {
    path.map(load_environment).transpose()
}

/// The one environment file of a command that checks one target (`doctor`, `token`).
fn one_env_file(paths: &[PathBuf]) -> Result<Option<Environment>, CliError> {
    match paths {
        [] => Ok(None),
        [one] => load_environment(one).map(Some),
        _ => Err(usage(
            "give this command one environment file (-e); `fhircheck run` takes several, one run each",
        )),
    }
}

/// The variable layers of a native run: collection < environment file < `--var`.
fn variables(
    plan: &Plan,
    env_file: Option<&Environment>,
    cli: &[(String, String)],
    cfg: &Config,
) -> Variables {
    let mut v = Variables::new(cfg.env.clone(), cfg.clock);
    for (k, d) in &plan.collection.variables {
        v.set(
            Layer::Collection,
            k,
            crate::vars::Value::new(k, d.text(), d.secret()),
        );
    }
    if let Some(e) = env_file {
        for (k, d) in &e.variables {
            v.set(
                Layer::Environment,
                k,
                crate::vars::Value::new(k, d.text(), d.secret()),
            );
        }
    }
    for (k, val) in cli {
        v.set(
            Layer::CommandLine,
            k,
            crate::vars::Value::new(k, val.clone(), false),
        );
    }
    v
}

/// A TestScript as the text of the native collection that runs it, on the built-in profiles
/// and variables. What can not be converted is listed with its line and column.
pub(super) fn testscript_collection(path: &Path, text: &str) -> Result<String, CliError> {
    let ts: serde_json::Value = collection::parse(path, text).map_err(usage)?;
    let base: serde_json::Value = serde_json::from_str(super::SMOKE_COLLECTION).unwrap_or_default();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let read = |reference: &str| collection::read(&dir.join(reference)).map_err(|e| e.message);
    match crate::testscript::convert(&ts, &base, &read) {
        Ok(c) => Ok(serde_json::to_string_pretty(&c).unwrap_or_default() + "\n"),
        Err(problems) => {
            let mut s = format!(
                "{}: the TestScript has {} thing{} fhircheck can not run:",
                path.display(),
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            for p in &problems {
                let at = crate::locate::locate(text, &crate::locate::parse_path(&p.path))
                    .map(|(l, c)| format!("{}:{l}:{c}: ", path.display()))
                    .unwrap_or_default();
                s.push_str(&format!("\n  {at}{}: {}", p.path, p.message));
                if let Some(h) = &p.hint {
                    s.push_str(&format!("\n    = help: {h}"));
                }
            }
            s.push_str("\nnothing was sent.");
            Err(usage(s))
        }
    }
}

/// Loads and validates a native collection (every template checked): ready to run.
pub(super) fn load_native(
    path: &Path,
    text: &str,
    env_file: Option<&Environment>,
    cli_vars: &[(String, String)],
    profile: Option<&str>,
    allow_http: bool,
    cfg: &Config,
) -> Result<(Plan, Variables), CliError> {
    let mut c = collection::load_collection_str(path, text).map_err(usage)?;
    if let Some(p) = profile {
        if p != "none" && !c.auth.contains_key(p) {
            let mut names: Vec<&str> = c.auth.keys().map(String::as_str).collect();
            names.sort_unstable();
            let problem = crate::plan::unknown_profile("--profile".into(), p, &names);
            return Err(usage(format!(
                "{}: {}: {}\n  = help: {}",
                path.display(),
                problem.place,
                problem.message,
                problem.hint.unwrap_or_default()
            )));
        }
        c.default_auth = Some(p.to_string());
    }
    let plan = crate::plan::plan(c).map_err(|p| usage(problems_text(path, &p)))?;
    let vars = variables(&plan, env_file, cli_vars, cfg);
    let mut problems = crate::plan::preflight(&plan, &vars, &cfg.env);
    if problems.is_empty() && !allow_http {
        problems = plain_http_problems(&plan, &vars, cfg);
    }
    if !problems.is_empty() {
        return Err(usage(format!(
            "{}\nnothing was sent.",
            problems_text(path, &problems)
        )));
    }
    Ok((plan, vars))
}

/// Credentials that would go over plain http:// to another machine: the FHIR base URL of
/// requests that carry a token, and token endpoints that get a client's secret.
fn plain_http_problems(plan: &Plan, vars: &Variables, cfg: &Config) -> Vec<Problem> {
    let mut problems = Vec::new();
    let authenticated = plan.requests.iter().any(|r| {
        r.auth
            .as_ref()
            .and_then(|p| plan.collection.auth.get(p))
            .is_some_and(|p| p.kind != collection::AuthKind::None)
    });
    if let Some(why) = plan
        .base_url(vars)
        .filter(|_| authenticated)
        .and_then(|b| crate::exec::plain_http_refusal(&b, false))
    {
        problems.push(Problem {
            place: "base_url".into(),
            message: why,
            hint: None,
        });
    }
    let mut names: Vec<&String> = plan
        .requests
        .iter()
        .filter_map(|r| r.auth.as_ref())
        .collect();
    names.sort();
    names.dedup();
    for name in names {
        let Ok(p) = plan.resolve_profile(name, vars, &cfg.env) else {
            continue;
        };
        if let Some(why) = p
            .endpoint()
            .filter(|_| p.sends_secret())
            .and_then(|e| crate::exec::plain_http_refusal(&e, false))
        {
            problems.push(Problem {
                place: format!("auth.{name}"),
                message: why,
                hint: None,
            });
        }
    }
    problems
}

/// Loads a Postman collection and the scopes it starts with: globals, the collection's
/// variables, the environment file and `--var` (into the environment scope, as Newman does).
pub(super) fn load_postman(
    path: &Path,
    text: &str,
    env_file: Option<&Environment>,
    globals: Option<&Environment>,
    cli_vars: &[(String, String)],
    global_vars: &[(String, String)],
) -> Result<(crate::postman::model::Collection, Scopes), CliError> {
    let c: crate::postman::model::Collection = collection::parse(path, text).map_err(usage)?;
    postman_header_problems(path, &c)?;
    let to_map = |e: Option<&Environment>| -> Map<String, Value> {
        e.map(|e| {
            e.variables
                .iter()
                .map(|(k, d)| {
                    if d.secret() || crate::vars::is_secret_name(k) {
                        crate::secret::redactor().add(&d.text());
                    }
                    (k.clone(), Value::String(d.text()))
                })
                .collect()
        })
        .unwrap_or_default()
    };
    let mut scopes = Scopes {
        globals: to_map(globals),
        collection: c
            .variable
            .iter()
            .filter(|v| !v.disabled)
            .filter_map(|v| {
                Some((
                    v.name()?.to_string(),
                    Value::String(crate::postman::model::text(&v.value)),
                ))
            })
            .collect(),
        environment: to_map(env_file),
        environment_name: env_file.and_then(|e| e.name.clone()),
    };
    for (k, v) in cli_vars {
        if crate::vars::is_secret_name(k) {
            crate::secret::redactor().add(v);
        }
        scopes
            .environment
            .insert(k.clone(), Value::String(v.clone()));
    }
    for (k, v) in global_vars {
        if crate::vars::is_secret_name(k) {
            crate::secret::redactor().add(v);
        }
        scopes.globals.insert(k.clone(), Value::String(v.clone()));
    }
    Ok((c, scopes))
}

/// A header written without variables that no request could carry (a line break in it): a
/// usage error before anything is sent, as for fhircheck's own collections. Headers made of
/// variables are checked when they are rendered, and fail their request if they can not go.
fn postman_header_problems(
    path: &Path,
    c: &crate::postman::model::Collection,
) -> Result<(), CliError> {
    let items = crate::postman::model::flatten(c);
    let unsupported: Vec<String> = items
        .iter()
        .filter_map(|item| {
            let why = crate::postman::unsupported_auth(item.auth.as_ref()?)?;
            Some(format!("  {}: {why}", item.path))
        })
        .collect();
    if !unsupported.is_empty() {
        return Err(usage(format!(
            "{}: {} request(s) use an auth type fhircheck does not support (Newman sends them without it); nothing was sent:\n{}\n  = help: supported are {}; send the credential as a header instead, or run this collection with Newman",
            path.display(),
            unsupported.len(),
            unsupported.join("\n"),
            crate::postman::SUPPORTED_AUTH
        )));
    }
    for item in items {
        for (k, v) in &item.request.headers {
            if k.contains("{{") || v.contains("{{") {
                continue;
            }
            if let Some(why) = crate::http::header_problem(k, v) {
                return Err(usage(format!(
                    "{}: {}: {why}; nothing was sent\n  = help: a header is one line",
                    path.display(),
                    item.path
                )));
            }
        }
    }
    Ok(())
}

/// Iteration data: a JSON array of objects, or CSV with a header row.
pub(super) fn load_data(path: &Path) -> Result<Vec<Map<String, Value>>, CliError> {
    // Read as every other input is: a byte-order mark dropped, secret-named values registered.
    let text = collection::read(path).map_err(usage)?;
    if text.trim_start().starts_with('[') {
        return collection::parse(path, &text).map_err(|e| {
            usage(format!(
                "{e}\n  = help: iteration data in JSON is an array of objects"
            ))
        });
    }
    let records =
        crate::postman::csv::parse(&text).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    let mut it = records.into_iter();
    let header = it.next().unwrap_or_default();
    Ok(it
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.into_iter().map(Value::String))
                .collect()
        })
        .collect())
}

/// The profile `doctor` and `token` use: named, the collection's default, or its only one.
fn choose_profile(
    path: &Path,
    c: &collection::Collection,
    profile: Option<&str>,
) -> Result<String, CliError> {
    let chosen = profile
        .map(str::to_string)
        .or_else(|| c.default_auth.clone())
        .or_else(|| {
            (c.auth.len() == 1)
                .then(|| c.auth.keys().next().cloned())
                .flatten()
        });
    match chosen {
        Some(p) if c.auth.contains_key(&p) => Ok(p),
        Some(p) => {
            let names: Vec<&str> = c.auth.keys().map(String::as_str).collect();
            Err(usage(format!(
                "{}: auth profile `{p}` is not defined{}",
                path.display(),
                collection::did_you_mean(&p, &names)
                    .map(|b| format!("; did you mean `{b}`?"))
                    .unwrap_or_else(|| format!(" (profiles: {})", names.join(", ")))
            )))
        }
        None => Err(usage(format!(
            "{}: name the auth profile with --profile (the collection has several, or none)",
            path.display()
        ))),
    }
}

/// A collection loaded for `doctor` and `token`, and the profile they check.
pub(super) struct ProfileSetup {
    pub path: PathBuf,
    pub plan: Plan,
    pub vars: Variables,
    pub profile: String,
}

/// Loads the collection (or the built-in smoke collection) and picks the auth profile; its
/// base URL and the profile must render.
pub(super) fn collection_and_profile(
    collection: Option<&Path>,
    profile: Option<&str>,
    vars_args: &crate::cli::VarArgs,
    cfg: &Config,
) -> Result<ProfileSetup, CliError> {
    let env_file = one_env_file(&vars_args.env)?;
    let (path, text) = match collection {
        Some(p) => (p.to_path_buf(), collection::read(p).map_err(usage)?),
        None => (PathBuf::from(SMOKE_SOURCE), SMOKE_COLLECTION.to_string()),
    };
    let c = collection::load_collection_str(&path, &text).map_err(usage)?;
    let profile = choose_profile(&path, &c, profile)?;
    let plan = crate::plan::plan(c).map_err(|p| usage(problems_text(&path, &p)))?;
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
    if problems.is_empty() {
        if let Err(u) = plan.resolve_profile(&profile, &vars, &cfg.env) {
            problems.push(Problem {
                place: format!("auth.{profile}"),
                message: u.error.headline(),
                hint: None,
            });
        }
    }
    if !problems.is_empty() {
        return Err(usage(problems_text(&path, &problems)));
    }
    Ok(ProfileSetup {
        path,
        plan,
        vars,
        profile,
    })
}

/// The execution context of a command.
pub(super) struct ContextSetup {
    pub timeout: Duration,
    pub bail: bool,
    pub tracer: Option<crate::http::Tracer>,
    pub token_cache: bool,
    pub retries: u32,
    pub max_body: u64,
    pub follow_cross_origin: bool,
    pub allow_http: bool,
    pub wait_for_access: Option<Duration>,
    /// `--ignore-redirects`: a 3xx answer is the answer.
    pub ignore_redirects: bool,
}

impl ContextSetup {
    /// One request at a time, no retries, no trace, no cache: `token` and `demo`.
    pub fn simple(timeout: Duration) -> Self {
        ContextSetup {
            timeout,
            bail: false,
            tracer: None,
            token_cache: false,
            retries: 0,
            max_body: crate::http::DEFAULT_MAX_BODY,
            follow_cross_origin: false,
            allow_http: false,
            wait_for_access: None,
            ignore_redirects: false,
        }
    }

    pub fn build(self, cfg: &Config) -> Result<Context, CliError> {
        let http = crate::http::Http::new(
            self.timeout,
            self.tracer,
            self.max_body,
            cfg.network.clone(),
        )
        .map_err(CliError::Usage)?;
        let token_cache = if self.token_cache {
            Some(crate::token_cache::path(&cfg.env).ok_or_else(|| {
                usage("--token-cache needs a cache directory: set HOME, XDG_CACHE_HOME or FHIRCHECK_CACHE_DIR")
            })?)
        } else {
            None
        };
        Ok(Context {
            http,
            clock: cfg.clock,
            env: cfg.env.clone(),
            bail: self.bail,
            token_cache,
            retries: self.retries,
            follow_cross_origin: self.follow_cross_origin,
            allow_http: self.allow_http,
            wait_for_access: self.wait_for_access,
            ignore_redirects: self.ignore_redirects,
            interrupted: Default::default(),
        })
    }
}

/// The `--verbose` tracer: every exchange, rendered and redacted, to stderr.
pub(super) fn tracer(verbose: bool) -> Option<crate::http::Tracer> {
    verbose.then(|| {
        std::sync::Arc::new(|ex: &crate::http::Exchange| {
            super::trace_out(&crate::reporters::trace::render(ex))
        }) as crate::http::Tracer
    })
}

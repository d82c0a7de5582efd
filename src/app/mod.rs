//! The configuration step and the commands, one file each. This is the only module that reads
//! the command line, the process environment, the clock and the terminal; everything below gets
//! values. Commands return `Result<ExitCode, CliError>`; an error is printed once, here.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Arc;

use clap::Parser;

use crate::cli::{Cli, ColorChoice, Command};
use crate::clock::Clock;
use crate::exit::ExitCode;
use crate::report::Style;
use crate::secret::redact_for;

mod decode;
mod demo;
mod doctor;
mod import;
mod run;
mod sandbox;
mod schema;
mod setup;
mod token;

/// The Azure smoke collection, built in so `demo` and `token` work from any directory.
pub const SMOKE_COLLECTION: &str = include_str!("../../collections/azure-fhir-smoke.json");
pub const SMOKE_SOURCE: &str = "collections/azure-fhir-smoke.json";

/// Why a command stopped before it could report a result.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad command line, collection, environment or variable: nothing was sent.
    #[error("{0}")]
    Usage(String),
    /// Something failed while running (the runtime, a file that could not be written).
    #[error("{0}")]
    Runtime(String),
}

impl CliError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::Usage,
            CliError::Runtime(_) => ExitCode::Runtime,
        }
    }
}

/// What a command returns: the exit code of what it did, or why it could not.
type Outcome = Result<ExitCode, CliError>;

/// What the outside world contributes, read once.
pub struct Config {
    pub env: Arc<HashMap<String, String>>,
    pub clock: Clock,
    /// Trust and proxies: `--cacert`, `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`.
    pub network: crate::http::Network,
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
        let var = |k: &str| {
            env.get(k)
                .or_else(|| env.get(&k.to_ascii_lowercase()))
                .filter(|v| !v.trim().is_empty())
                .cloned()
        };
        let network = crate::http::Network {
            extra_roots: vec![],
            https_proxy: var("HTTPS_PROXY").or_else(|| var("ALL_PROXY")),
            http_proxy: var("HTTP_PROXY").or_else(|| var("ALL_PROXY")),
            no_proxy: var("NO_PROXY"),
            insecure: false,
            identity: None,
        };
        Config {
            stdout_tty: std::io::stdout().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
            network,
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

/// Trust and identity from the command line: `--cacert` (and Newman's `--ssl-extra-ca-certs`),
/// `-k`, `--ssl-client-cert` with `--ssl-client-key`.
fn network_options(cli: &Cli, net: &mut crate::http::Network) -> Result<(), String> {
    let run = match &cli.command {
        Command::Run(a) => Some(a),
        _ => None,
    };
    let extra = run.and_then(|a| a.postman.ssl_extra_ca_certs.as_ref());
    for path in cli.cacert.iter().chain(extra) {
        net.extra_roots
            .push((path.display().to_string(), read_cacert(path)?));
    }
    let Some(a) = run else { return Ok(()) };
    if a.insecure {
        net.insecure = true;
        error("warning: -k/--insecure: TLS certificates are not checked; anyone on the way can read the credentials this run sends\n");
    }
    if let (Some(cert), Some(key)) = (&a.postman.ssl_client_cert, &a.postman.ssl_client_key) {
        let read = |p: &std::path::Path| {
            std::fs::read(p).map_err(|e| format!("{}: cannot read the file: {e}", p.display()))
        };
        let mut pem = read(cert)?;
        pem.push(b'\n');
        let key_text = String::from_utf8_lossy(&read(key)?).into_owned();
        let key_text = match (
            &a.postman.ssl_client_passphrase,
            crate::keyfile::is_encrypted(&key_text),
        ) {
            (Some(pass), true) => {
                crate::secret::redactor().add(pass);
                crate::keyfile::decrypt(&key_text, pass)
                    .map_err(|e| format!("{}: {e}", key.display()))?
            }
            (None, true) => {
                return Err(format!("{}: the key is encrypted: give its passphrase with --ssl-client-passphrase, or decrypt it (openssl pkey -in key.pem -out plain.pem)", key.display()));
            }
            (pass, false) => {
                if let Some(p) = pass {
                    crate::secret::redactor().add(p);
                }
                key_text
            }
        };
        pem.extend(key_text.into_bytes());
        net.identity = Some(pem);
    }
    Ok(())
}

/// A `--cacert` file: readable, and holding at least one PEM certificate.
fn read_cacert(path: &std::path::Path) -> Result<Vec<u8>, String> {
    // A CA bundle is kilobytes; a device or a wrong file is not read whole.
    let mut pem = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(
            std::fs::File::open(path)
                .map_err(|e| format!("--cacert {}: cannot read the file: {e}", path.display()))?,
            16 << 20,
        ),
        &mut pem,
    )
    .map_err(|e| format!("--cacert {}: cannot read the file: {e}", path.display()))?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(c) if !c.is_empty() => Ok(pem),
        _ => Err(format!(
            "--cacert {}: no PEM certificate in it (a file starting with -----BEGIN CERTIFICATE-----)\n  = help: export the CA certificate as Base-64 (PEM); convert a DER one with `openssl x509 -inform der -in ca.cer -out ca.pem`",
            path.display()
        )),
    }
}

/// Writes to stdout through the redactor.
fn out(text: &str) {
    out_to(false, text);
}

/// Terminal text to stdout, or to stderr when a report has taken stdout (`-`).
fn out_to(stderr: bool, text: &str) {
    let text = redact_for("terminal", text);
    if stderr {
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(text.as_bytes());
        let _ = e.flush();
    } else {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(text.as_bytes());
        let _ = o.flush();
    }
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

/// The async runtime of a command: one thread, as every front end is sequential.
fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the async runtime: {e}")))
}

/// `fhircheck completions SHELL`: the completion script, from the same clap definitions as
/// `--help`.
fn completions(shell: clap_complete::Shell) -> Outcome {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "fhircheck", &mut buf);
    out(&String::from_utf8_lossy(&buf));
    Ok(ExitCode::Success)
}

/// `fhircheck man`: the manual page, from the same clap definitions as `--help`.
fn man() -> Outcome {
    let cmd = <Cli as clap::CommandFactory>::command();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut buf)
        .map_err(|e| CliError::Runtime(format!("cannot render the manual page: {e}")))?;
    out(&String::from_utf8_lossy(&buf));
    Ok(ExitCode::Success)
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
    let mut cfg = Config::from_process();
    if let Err(e) = network_options(&cli, &mut cfg.network) {
        error(&format!("error: {e}\n"));
        return std::process::ExitCode::from(ExitCode::Usage as u8);
    }
    if let Some(list) = cfg.env.get("FHIRCHECK_TEST_UNREDACTED") {
        crate::secret::set_unredacted_writers(
            list.split(',').map(|w| w.trim().to_string()).collect(),
        );
    }
    let outcome = match cli.command {
        Command::Run(a) => run::run(*a, &cfg),
        Command::Token(a) => token::token(a, &cfg),
        Command::Doctor(a) => doctor::doctor(a, &cfg),
        Command::Decode(a) => decode::decode(a, &cfg),
        Command::Import(crate::cli::ImportCommand::Postman(a)) => import::import_postman(a),
        Command::Import(crate::cli::ImportCommand::Testscript(a)) => import::import_testscript(a),
        Command::Schema(a) => schema::schema(a),
        Command::Sandbox(a) => sandbox::sandbox(a, &cfg),
        Command::Demo(a) => demo::demo(a, &cfg),
        Command::Completions(a) => completions(a.shell),
        Command::Man => man(),
    };
    match outcome {
        Ok(code) => code.into(),
        Err(e) => {
            error(&e.to_string());
            e.exit_code().into()
        }
    }
}

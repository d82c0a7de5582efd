//! Reports written from the run result: JSON, JUnit XML, HTML and GitHub Actions, plus the
//! `--verbose` trace formatter. Every writer passes its text through the redactor.

pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod trace;

use std::path::{Path, PathBuf};

use crate::result::RunResult;
use crate::secret::redact_for;

/// A reporter name as `--reporter` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// The terminal report (default)
    Cli,
    /// A JSON document (see `fhircheck schema report`)
    Json,
    /// JUnit XML, for CI test tabs
    Junit,
    /// One self-contained HTML file
    Html,
    /// GitHub Actions annotations and step summary (on by default when GITHUB_ACTIONS=true)
    Github,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Cli => "cli",
            Kind::Json => "json",
            Kind::Junit => "junit",
            Kind::Html => "html",
            Kind::Github => "github",
        }
    }

    fn default_file(self) -> Option<&'static str> {
        match self {
            Kind::Json => Some("fhircheck-report.json"),
            Kind::Junit => Some("fhircheck-junit.xml"),
            Kind::Html => Some("fhircheck-report.html"),
            _ => None,
        }
    }
}

/// Where each report goes, decided and checked before the run starts.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    pub cli: bool,
    pub files: Vec<(Kind, PathBuf)>,
    pub github: bool,
    /// `$GITHUB_STEP_SUMMARY`, when set.
    pub github_summary: Option<PathBuf>,
}

/// The path that means standard output, for a report or an exported environment.
pub fn is_stdout(path: &Path) -> bool {
    path == Path::new("-")
}

impl Outputs {
    /// Whether a report goes to standard output (`-`): the terminal report then goes to stderr.
    pub fn stdout_taken(&self) -> bool {
        self.files.iter().any(|(_, p)| is_stdout(p))
    }
}

/// Picks the outputs and proves each file can be written, before anything is sent.
pub fn plan(
    kinds: &[Kind],
    report_dir: &Path,
    exports: &[(Kind, Option<PathBuf>)],
    github_env: bool,
    github_summary: Option<PathBuf>,
) -> Result<Outputs, String> {
    let mut out = Outputs {
        cli: kinds.is_empty() || kinds.contains(&Kind::Cli),
        github: github_env || kinds.contains(&Kind::Github),
        github_summary,
        files: vec![],
    };
    for kind in [Kind::Json, Kind::Junit, Kind::Html] {
        let export = exports
            .iter()
            .find(|(k, _)| *k == kind)
            .and_then(|(_, p)| p.clone());
        if !kinds.contains(&kind) && export.is_none() {
            continue;
        }
        let path =
            export.unwrap_or_else(|| report_dir.join(kind.default_file().unwrap_or("report")));
        if is_stdout(&path) {
            if out.stdout_taken() {
                return Err(format!(
                    "two reports can not both go to standard output (-): the {} report and another; write one of them to a file",
                    kind.name()
                ));
            }
            out.files.push((kind, path));
            continue;
        }
        check_writable(&path).map_err(|e| {
            format!(
                "cannot write the {} report to {}: {e}",
                kind.name(),
                path.display()
            )
        })?;
        out.files.push((kind, path));
    }
    if out.github {
        if let Some(p) = &out.github_summary {
            check_writable(p).map_err(|e| {
                format!(
                    "cannot append the GitHub step summary to {}: {e}",
                    p.display()
                )
            })?;
        }
    }
    Ok(out)
}

fn check_writable(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    if path.is_dir() {
        return Err(std::io::Error::other("it is a directory"));
    }
    if written_through(path) {
        // Opening a FIFO for writing would wait for a reader: only its permissions are checked.
        let m = std::fs::metadata(path)?;
        if m.permissions().readonly() {
            return Err(std::io::Error::other("it is read-only"));
        }
        return Ok(());
    }
    let probe = temp_path(path);
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".fhircheck-{}.tmp", std::process::id()));
    path.with_file_name(name)
}

/// Whether `path` is something other than a regular file or nothing: a symbolic link, a FIFO,
/// a device. Those are written through, never replaced.
fn written_through(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file())
}

/// `-` is standard output. Writes `text` to `path` whole or not at all (a sibling temporary file renamed into place). A
/// path that is a symbolic link, a FIFO or a device (`/dev/stdout`) is written through instead:
/// replacing it would break what it points to.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    if is_stdout(path) {
        let mut o = std::io::stdout().lock();
        std::io::Write::write_all(&mut o, text.as_bytes())?;
        return std::io::Write::flush(&mut o);
    }
    if written_through(path) {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)?;
        return std::io::Write::write_all(&mut f, text.as_bytes());
    }
    let tmp = temp_path(path);
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Renders every file report and the GitHub summary. Returns the GitHub annotations for stdout.
pub fn write(outputs: &Outputs, result: &RunResult) -> Result<Option<String>, String> {
    for (kind, path) in &outputs.files {
        let text = match kind {
            Kind::Json => json::render(result),
            Kind::Junit => junit::render(result),
            Kind::Html => html::render(result),
            _ => continue,
        };
        write_atomic(path, &redact_for(kind.name(), &text)).map_err(|e| {
            format!(
                "cannot write the {} report to {}: {e}",
                kind.name(),
                path.display()
            )
        })?;
    }
    if !outputs.github {
        return Ok(None);
    }
    if let Some(p) = &outputs.github_summary {
        use std::io::Write;
        let text = github::summary(result);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .and_then(|mut f| f.write_all(redact_for("github", &text).as_bytes()))
            .map_err(|e| {
                format!(
                    "cannot append the GitHub step summary to {}: {e}",
                    p.display()
                )
            })?;
    }
    Ok(Some(
        redact_for("github", &github::annotations(result)).into_owned(),
    ))
}

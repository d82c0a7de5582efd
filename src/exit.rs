//! Exit codes, documented in the README and in `--help`.

/// What the process exit status means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Every request passed.
    Success = 0,
    /// A request's expectation failed.
    AssertionFailed = 1,
    /// Bad command line, collection, environment or variable: nothing was sent.
    Usage = 2,
    /// A token could not be obtained.
    Token = 3,
    /// A network or other runtime error.
    Runtime = 4,
    /// Stopped by Ctrl-C (SIGINT) after the cleanup requests ran.
    Interrupted = 130,
    /// Stopped by SIGTERM (a CI job cancelled) after the cleanup requests ran.
    Terminated = 143,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        std::process::ExitCode::from(c as u8)
    }
}

/// The text `--help` shows.
pub const HELP: &str = "Exit codes:
  0  every request sent passed, and at least one was sent
  1  an expectation failed (status, header, body, FHIR check), or no request was sent at all
  2  usage error: bad option, collection, environment or variable; nothing was sent
  3  a token could not be obtained (refused, unreachable, or it needs a person to sign in)
  4  a network or other runtime error while sending a request
  130, 143  stopped by Ctrl-C or SIGTERM: no new request was sent, `cleanup` requests ran,
     reports were written marked as interrupted; a second signal stops at once";

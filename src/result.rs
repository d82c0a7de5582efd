//! The run result: one value that every reporter reads, and nothing else.

use serde::Serialize;

use crate::assertions::{AssertionResult, OutcomeIssue};
use crate::auth::TokenError;
use crate::exit::ExitCode;

#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub collections: Vec<CollectionResult>,
    /// Unix seconds when the run began; the reference for relative times.
    pub started_at: i64,
    /// Set when a signal stopped the run: what stopped it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CollectionResult {
    pub name: String,
    /// Where it came from, as given.
    pub source: String,
    pub steps: Vec<Step>,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Token(TokenStep),
    Request(RequestStep),
}

/// Obtaining the token of one auth profile.
#[derive(Debug, Clone, Serialize)]
pub struct TokenStep {
    pub profile: String,
    /// e.g. "Entra ID v1 client credentials".
    pub label: String,
    pub endpoint: Option<String>,
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub result: Result<TokenInfo, TokenError>,
}

/// What can be shown of a token: never the token.
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub token_type: Option<String>,
    pub expires_at: Option<i64>,
    pub scope: Option<String>,
    /// (claim, text) pairs for people; empty when the token is not a JWT.
    pub claims: Vec<(String, String)>,
    /// The claims as the token carries them, for machine-readable output.
    pub raw_claims: serde_json::Map<String, serde_json::Value>,
    pub is_jwt: bool,
    /// Problems visible in the token itself (already expired, not yet valid).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "reason", rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    /// An expectation was not met.
    Failed,
    /// The request could not be completed (network, timeout).
    Error(String),
    /// Not sent, and why.
    Skipped(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestStep {
    pub name: String,
    pub folders: Vec<String>,
    pub method: String,
    /// The URL as sent (secrets already masked).
    pub url: String,
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub outcome: Outcome,
    pub assertions: Vec<AssertionResult>,
    /// The OperationOutcome issues the server sent, if any.
    pub issues: Vec<OutcomeIssue>,
    /// The `WWW-Authenticate` challenge of a 401, if any.
    pub challenge: Option<String>,
    /// (name, value) of captured variables, secret ones masked.
    pub captures: Vec<(String, String)>,
    pub cleanup: bool,
    /// The assertions are script tests (`pm.test`, `tests[…]`): each is its own JUnit testcase.
    #[serde(default)]
    pub script_tests: bool,
    /// Attempts answered 429/503 and retried before the one reported (`--retry`).
    #[serde(default)]
    pub retries: u32,
    /// `--wait-for-access`: how long this request was retried while it answered 403, waiting
    /// for a new role assignment to apply.
    pub waited_for_access_ms: Option<u64>,
    /// The redirects on the way to the answer reported, as "302 to URL".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<String>,
}

/// Counts for summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Totals {
    pub requests: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    pub assertions: usize,
    pub assertions_failed: usize,
    /// Checks not met whose failure is only a warning (`expect.warn`, TestScript `warningOnly`).
    #[serde(default)]
    pub assertions_warned: usize,
    pub token_failures: usize,
}

impl RunResult {
    pub fn totals(&self) -> Totals {
        totals(self.collections.iter().flat_map(|c| &c.steps))
    }

    /// 3 when a token could not be obtained, else 4 on a runtime error, else 1 on a failed
    /// expectation, else 0: the worst of every run.
    pub fn exit_code(&self) -> ExitCode {
        match self.interrupted.as_deref() {
            Some("SIGTERM") => ExitCode::Terminated,
            Some(_) => ExitCode::Interrupted,
            None => self.totals().exit_code(),
        }
    }
}

impl CollectionResult {
    pub fn totals(&self) -> Totals {
        totals(&self.steps)
    }
}

impl Totals {
    /// No request was sent (none planned, or every one skipped): a run that proves nothing
    /// never passes.
    pub fn nothing_sent(&self) -> bool {
        self.requests == self.skipped
    }

    /// What these counts mean for the process: the worst thing that happened.
    pub fn exit_code(&self) -> ExitCode {
        if self.token_failures > 0 {
            ExitCode::Token
        } else if self.errors > 0 {
            ExitCode::Runtime
        } else if self.failed > 0 || self.nothing_sent() {
            ExitCode::AssertionFailed
        } else {
            ExitCode::Success
        }
    }
}

fn totals<'a>(steps: impl IntoIterator<Item = &'a Step>) -> Totals {
    {
        let mut t = Totals::default();
        for step in steps {
            match step {
                Step::Token(tok) => {
                    if tok.result.is_err() {
                        t.token_failures += 1;
                    }
                }
                Step::Request(r) => {
                    t.requests += 1;
                    t.assertions += r.assertions.len();
                    t.assertions_failed += r.assertions.iter().filter(|a| a.failed()).count();
                    t.assertions_warned += r.assertions.iter().filter(|a| a.warned()).count();
                    match r.outcome {
                        Outcome::Passed => t.passed += 1,
                        Outcome::Failed => t.failed += 1,
                        Outcome::Error(_) => t.errors += 1,
                        Outcome::Skipped(_) => t.skipped += 1,
                    }
                }
            }
        }
        t
    }
}

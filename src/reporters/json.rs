//! The JSON report: a versioned document (`schema_version`), described by `fhircheck schema
//! report`. Run → collections → steps (token or request) → assertions.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::assertions::{AssertionResult, OutcomeIssue};
use crate::auth::TokenError;
use crate::diagnose::{self, Diagnosis};
use crate::result::{Outcome, RunResult, Step, Totals};

/// Bumped when a field changes meaning or disappears; new fields may appear in any version.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "fhircheck run report")]
pub struct JsonReport {
    pub schema_version: u32,
    pub tool: Tool,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_ms: u64,
    /// The process exit code of the run (0 passed, 1 failed expectation, 3 no token, 4 runtime
    /// error, 130/143 interrupted by Ctrl-C/SIGTERM).
    pub exit_code: u8,
    /// `SIGINT` or `SIGTERM` when a signal stopped the run (after its cleanup requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    pub summary: Totals,
    pub collections: Vec<JsonCollection>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct JsonCollection {
    pub name: String,
    pub source: String,
    pub duration_ms: u64,
    /// Token acquisitions and requests, in the order they happened.
    pub steps: Vec<JsonStep>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JsonStep {
    Token(JsonToken),
    Request(JsonRequest),
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct JsonToken {
    pub profile: String,
    pub method: String,
    pub endpoint: Option<String>,
    pub http_status: Option<u16>,
    pub duration_ms: u64,
    pub ok: bool,
    /// RFC 3339, when known.
    pub expires_at: Option<String>,
    /// The token's claims, decoded without verifying the signature. Never the token.
    pub claims: Map<String, Value>,
    pub warnings: Vec<String>,
    pub error: Option<JsonTokenError>,
    pub diagnosis: Option<Diagnosis>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct JsonTokenError {
    /// endpoint, network, malformed or profile.
    pub kind: String,
    pub message: String,
    pub error: Option<String>,
    /// The AADSTS number, for Entra.
    pub code: Option<u64>,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    pub timestamp: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct JsonRequest {
    pub name: String,
    pub folders: Vec<String>,
    pub method: String,
    pub url: String,
    pub http_status: Option<u16>,
    pub duration_ms: u64,
    /// passed, failed, error or skipped.
    pub outcome: String,
    /// Why it errored or was skipped.
    pub reason: Option<String>,
    pub assertions: Vec<AssertionResult>,
    /// Captured values; secret ones are `***`.
    pub captures: Map<String, Value>,
    pub operation_outcome: Vec<OutcomeIssue>,
    pub diagnosis: Option<Diagnosis>,
    pub cleanup: bool,
    /// Attempts answered 429/503 and retried first (`--retry`).
    pub retries: u32,
    /// `--wait-for-access`: milliseconds this request was retried while it answered 403.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waited_for_access_ms: Option<u64>,
    /// Redirects on the way to the answer, as "302 to URL"; the last one says when it was not
    /// followed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<String>,
}

fn token_error(e: &TokenError) -> JsonTokenError {
    let mut out = JsonTokenError {
        kind: String::new(),
        message: e.headline(),
        error: None,
        code: None,
        trace_id: None,
        correlation_id: None,
        timestamp: None,
    };
    out.kind = match e {
        TokenError::Endpoint {
            error,
            code,
            trace_id,
            correlation_id,
            timestamp,
            ..
        } => {
            out.error = error.clone();
            out.code = *code;
            out.trace_id = trace_id.clone();
            out.correlation_id = correlation_id.clone();
            out.timestamp = timestamp.clone();
            "endpoint"
        }
        TokenError::Network { .. } => "network",
        TokenError::Malformed { .. } => "malformed",
        TokenError::Profile { .. } => "profile",
        TokenError::Command { code, .. } => {
            out.code = *code;
            "command"
        }
    }
    .into();
    out
}

pub fn build(result: &RunResult) -> JsonReport {
    let collections = result
        .collections
        .iter()
        .map(|c| {
            let mut claims: Option<&Map<String, Value>> = None;
            let steps = c
                .steps
                .iter()
                .map(|s| match s {
                    Step::Token(t) => {
                        if let Ok(i) = &t.result {
                            claims = Some(&i.raw_claims);
                        }
                        JsonStep::Token(JsonToken {
                            profile: t.profile.clone(),
                            method: t.label.clone(),
                            endpoint: t.endpoint.clone(),
                            http_status: t.status,
                            duration_ms: t.duration_ms,
                            ok: t.result.is_ok(),
                            expires_at: t
                                .result
                                .as_ref()
                                .ok()
                                .and_then(|i| i.expires_at)
                                .map(crate::clock::iso8601),
                            claims: t
                                .result
                                .as_ref()
                                .map(|i| i.raw_claims.clone())
                                .unwrap_or_default(),
                            warnings: t
                                .result
                                .as_ref()
                                .map(|i| i.warnings.clone())
                                .unwrap_or_default(),
                            error: t.result.as_ref().err().map(token_error),
                            diagnosis: t.result.as_ref().err().and_then(diagnose::token_error),
                        })
                    }
                    Step::Request(r) => {
                        let (outcome, reason) = match &r.outcome {
                            Outcome::Passed => ("passed", None),
                            Outcome::Failed => ("failed", None),
                            Outcome::Error(e) => ("error", Some(e.clone())),
                            Outcome::Skipped(e) => ("skipped", Some(e.clone())),
                        };
                        JsonStep::Request(JsonRequest {
                            name: r.name.clone(),
                            folders: r.folders.clone(),
                            method: r.method.clone(),
                            url: r.url.clone(),
                            http_status: r.status,
                            duration_ms: r.duration_ms,
                            outcome: outcome.into(),
                            reason,
                            assertions: r.assertions.clone(),
                            captures: r
                                .captures
                                .iter()
                                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                                .collect(),
                            operation_outcome: r.issues.clone(),
                            diagnosis: diagnose::request_with_claims(r, claims),
                            cleanup: r.cleanup,
                            retries: r.retries,
                            waited_for_access_ms: r.waited_for_access_ms,
                            redirects: r.redirects.clone(),
                        })
                    }
                })
                .collect();
            JsonCollection {
                name: c.name.clone(),
                source: c.source.clone(),
                duration_ms: c.duration_ms,
                steps,
            }
        })
        .collect();
    JsonReport {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "fhircheck".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        started_at: crate::clock::iso8601(result.started_at),
        duration_ms: result.duration_ms,
        exit_code: result.exit_code() as u8,
        interrupted: result.interrupted.clone(),
        summary: result.totals(),
        collections,
    }
}

pub fn render(result: &RunResult) -> String {
    serde_json::to_string_pretty(&build(result)).unwrap_or_default() + "\n"
}

pub fn schema() -> Value {
    serde_json::to_value(schemars::schema_for!(JsonReport)).unwrap_or_default()
}

//! Tokens and token errors: the answer of a token endpoint (Entra v1 string numbers included)
//! and Entra's error shape.

use serde::Serialize;
use serde_json::{Map, Value};

use super::claims::{number, Claims};
use crate::secret::Secret;

/// A token, and what fhircheck could read of it.
#[derive(Debug, Clone)]
pub struct Token {
    pub access: Secret,
    pub token_type: Option<String>,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    pub scope: Option<String>,
    pub claims: Option<Claims>,
}

impl Token {
    /// A token as it came: its claims decoded when it is a JWT, and their `exp` as its expiry.
    pub fn from_access(access: Secret) -> Token {
        let claims = Claims::decode(access.expose());
        Token {
            expires_at: claims.as_ref().and_then(|c| c.time("exp")),
            access,
            token_type: None,
            scope: None,
            claims,
        }
    }
}

/// A string field of a JSON answer.
pub(super) fn text(j: &Map<String, Value>, k: &str) -> Option<String> {
    j.get(k)
        .and_then(Value::as_str)
        .map(|s| crate::text::clean(s).into_owned())
}

/// What went wrong getting a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenError {
    /// The endpoint answered with an error.
    Endpoint {
        status: u16,
        error: Option<String>,
        /// The AADSTS number, from `error_codes` or the description.
        code: Option<u64>,
        /// The first line of `error_description`.
        description: Option<String>,
        trace_id: Option<String>,
        correlation_id: Option<String>,
        timestamp: Option<String>,
        error_uri: Option<String>,
        /// For a federated-credential error: the claims of the external token presented.
        #[serde(skip_serializing_if = "Option::is_none")]
        presented: Option<Box<super::federated::Presented>>,
    },
    /// The endpoint could not be reached.
    Network { message: String },
    /// It answered, but not with a token.
    Malformed { status: u16, message: String },
    /// The profile could not be used (a variable, a missing field).
    Profile { message: String },
    /// A command that gives tokens (the Azure CLI) failed.
    Command {
        message: String,
        /// An AADSTS code in its output, if any.
        code: Option<u64>,
    },
}

impl TokenError {
    /// One line for a summary.
    pub fn headline(&self) -> String {
        match self {
            TokenError::Endpoint {
                status,
                error,
                code,
                description,
                ..
            } => {
                let mut s = format!("HTTP {status}");
                if let Some(e) = error {
                    s.push_str(&format!(" {e}"));
                }
                match (code, description) {
                    (_, Some(d)) => s.push_str(&format!(": {d}")),
                    (Some(c), None) => s.push_str(&format!(": AADSTS{c}")),
                    _ => {}
                }
                s
            }
            TokenError::Network { message } => {
                format!("could not reach the token endpoint: {message}")
            }
            TokenError::Malformed { status, message } => format!("HTTP {status}: {message}"),
            TokenError::Profile { message } => message.clone(),
            TokenError::Command { message, .. } => message.clone(),
        }
    }
}

/// Reads a token endpoint's answer, redirects included: credentials are never sent on, so a
/// redirect is an error that says where it pointed.
// The error is built once per token request, far from any hot path: boxing it buys nothing.
#[allow(clippy::result_large_err)]
pub fn answer_token(a: &crate::http::Answer, now: i64) -> Result<Token, TokenError> {
    if (300..400).contains(&a.status) {
        let to = a
            .header("location")
            .map(|l| crate::secret::redact(l).into_owned())
            .unwrap_or_else(|| "(no Location)".into());
        return Err(TokenError::Malformed {
            status: a.status,
            message: format!(
                "the token endpoint redirected to {to}; fhircheck never sends a client's credentials on to an address it was not given: use the address it redirects to as the token URL, or fix what redirects"
            ),
        });
    }
    parse_token_response(a.status, &a.text(), now)
}

/// Reads a token endpoint's answer: a token, or the error it carries.
// The error is built once per token request, far from any hot path: boxing it buys nothing.
#[allow(clippy::result_large_err)]
pub fn parse_token_response(status: u16, body: &str, now: i64) -> Result<Token, TokenError> {
    let json: Option<Map<String, Value>> = serde_json::from_str(body).ok();
    if !(200..300).contains(&status) {
        let Some(j) = json else {
            return Err(TokenError::Malformed {
                status,
                message: format!(
                    "the token endpoint answered with an error page, not JSON: {}",
                    crate::text::shorten(body.trim(), 100)
                ),
            });
        };
        let text = |k: &str| text(&j, k);
        let description = j
            .get("error_description")
            .and_then(Value::as_str)
            .map(str::to_string);
        let code = j
            .get("error_codes")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_u64)
            .or_else(|| description.as_deref().and_then(aadsts_code));
        let first_line = description
            .as_deref()
            .and_then(|d| d.lines().next())
            .map(|l| crate::text::clean(l.trim()).into_owned());
        return Err(TokenError::Endpoint {
            status,
            error: text("error"),
            code,
            description: first_line,
            trace_id: text("trace_id"),
            correlation_id: text("correlation_id"),
            timestamp: text("timestamp"),
            error_uri: text("error_uri"),
            presented: None,
        });
    }
    let Some(j) = json else {
        return Err(TokenError::Malformed {
            status,
            message: "the answer is not JSON".into(),
        });
    };
    let Some(access) = j.get("access_token").and_then(Value::as_str) else {
        return Err(TokenError::Malformed {
            status,
            message: "the answer has no access_token".into(),
        });
    };
    if access.trim().is_empty() {
        return Err(TokenError::Malformed {
            status,
            message: "the answer's access_token is empty: there is no token to send".into(),
        });
    }
    let mut t = Token::from_access(Secret::new(access));
    t.expires_at = number(j.get("expires_on"))
        .or_else(|| number(j.get("expires_in")).map(|s| now + s))
        .or(t.expires_at);
    t.token_type = text(&j, "token_type");
    t.scope = text(&j, "scope");
    Ok(t)
}

/// `AADSTS7000215: Invalid client secret…` → 7000215.
pub fn aadsts_code(text: &str) -> Option<u64> {
    let i = text.find("AADSTS")?;
    let digits: String = text[i + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

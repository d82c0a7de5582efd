//! Workload identity federation: an external token (Kubernetes' projected service-account
//! token, GitHub Actions' OIDC token) exchanged at Entra as the client assertion, with no secret.

use serde::Serialize;
use serde_json::Value;

use super::form::FormPost;
use super::token::TokenError;
use super::{Claims, TokenAttempt};
use crate::clock::Clock;
use crate::secret::Secret;

/// The audience Entra expects on a federated token.
pub const EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Where the external token comes from.
#[derive(Debug, Clone)]
pub enum FederatedSource {
    /// A file rewritten as the token rotates (`AZURE_FEDERATED_TOKEN_FILE`): read for every
    /// token request.
    File(String),
    /// GitHub Actions' OIDC endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`) and its bearer token.
    GitHub { url: String, token: Secret },
}

impl FederatedSource {
    /// For labels: where the assertion comes from.
    pub fn describe(&self) -> &'static str {
        match self {
            FederatedSource::File(_) => "workload identity, federated token file",
            FederatedSource::GitHub { .. } => "workload identity, GitHub Actions OIDC",
        }
    }
}

/// An Entra token request whose client assertion is an external token.
#[derive(Debug, Clone)]
pub struct Federated {
    pub post: FormPost,
    pub source: FederatedSource,
}

/// What the presented external token said about itself: what a federated credential must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Presented {
    pub issuer: Option<String>,
    pub subject: Option<String>,
    pub audiences: Vec<String>,
    pub expires_at: Option<i64>,
    pub not_before: Option<i64>,
}

impl Presented {
    fn of(token: &str) -> Option<Presented> {
        let c = Claims::decode(token)?;
        let text = |k: &str| c.claims.get(k).and_then(Value::as_str).map(str::to_string);
        Some(Presented {
            issuer: text("iss"),
            subject: text("sub"),
            audiences: c.audiences(),
            expires_at: c.time("exp"),
            not_before: c.time("nbf"),
        })
    }
}

/// The Entra codes that mean "the presented token matches no federated credential" or "it is
/// outside its time": the ones whose fix needs the presented token's claims.
pub const FEDERATED_CODES: &[u64] = &[70021, 700211, 700212, 700213, 700024, 70025];

/// A token file larger than this is not a token (a device, a log): refused, not read whole.
const MAX_TOKEN_FILE: u64 = 64 * 1024;

/// At most `max` bytes of a file as text; more is an error.
fn read_bounded(path: &str, max: u64) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > max {
        return Err(std::io::Error::other(format!(
            "it is larger than {} KiB: not a token",
            max / 1024
        )));
    }
    Ok(text)
}

/// The external token, fetched or read now.
async fn assertion(http: &crate::http::Http, source: &FederatedSource) -> Result<Secret, String> {
    match source {
        FederatedSource::File(path) => {
            let text = read_bounded(path, MAX_TOKEN_FILE).map_err(|e| {
                format!("cannot read the federated token file {path} (AZURE_FEDERATED_TOKEN_FILE): {e}; on AKS, check the pod has the label azure.workload.identity/use: \"true\" and a service account annotated with the client id")
            })?;
            let t = text.trim();
            if t.is_empty() {
                return Err(format!("the federated token file {path} is empty"));
            }
            Ok(Secret::new(t))
        }
        FederatedSource::GitHub { url, token } => github_token(http, url, token).await,
    }
}

/// `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=api://AzureADTokenExchange`, answered
/// `{"value": "<jwt>"}`.
async fn github_token(
    http: &crate::http::Http,
    url: &str,
    token: &Secret,
) -> Result<Secret, String> {
    let sep = if url.contains('?') { '&' } else { '?' };
    let full = format!(
        "{url}{sep}{}",
        serde_urlencoded::to_string([("audience", EXCHANGE_AUDIENCE)]).unwrap_or_default()
    );
    let req = http
        .client
        .get(&full)
        .header("Accept", "application/json")
        .header("Authorization", format!("bearer {}", token.expose()));
    let a = http
        .send(req)
        .await
        .map_err(|e| format!("GitHub's OIDC token endpoint did not answer ({e})"))?;
    if a.status != 200 {
        return Err(format!(
            "GitHub's OIDC token endpoint answered HTTP {}: give the job `permissions: id-token: write` (and contents: read)",
            a.status
        ));
    }
    let v: Value = serde_json::from_slice(&a.body)
        .map_err(|_| "GitHub's OIDC token endpoint answered, but not with JSON".to_string())?;
    match v.get("value").and_then(Value::as_str) {
        Some(t) if !t.trim().is_empty() => Ok(Secret::new(t.trim())),
        _ => Err("GitHub's OIDC token endpoint's answer has no `value`".into()),
    }
}

/// Gets the external token, then exchanges it at Entra; an Entra error about the federated
/// credential carries what the presented token said.
pub(super) async fn fetch(http: &crate::http::Http, f: &Federated, clock: &Clock) -> TokenAttempt {
    let endpoint = f.post.endpoint.clone();
    let assertion = match assertion(http, &f.source).await {
        Ok(a) => a,
        Err(message) => {
            return TokenAttempt::failed(Some(endpoint), None, TokenError::Profile { message })
        }
    };
    let presented = Presented::of(assertion.expose());
    let post = f.post.with_assertion(assertion);
    let mut attempt = super::form::fetch(http, &post, None, clock).await;
    if let Err(TokenError::Endpoint {
        code: Some(c),
        presented: p,
        ..
    }) = &mut attempt.outcome
    {
        if FEDERATED_CODES.contains(c) {
            *p = presented.map(Box::new);
        }
    }
    attempt
}

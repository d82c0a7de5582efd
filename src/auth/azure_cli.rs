//! A token from the signed-in Azure CLI (`az account get-access-token`).

use std::time::Duration;

use serde_json::{Map, Value};

use super::claims::number;
use super::token::{aadsts_code, text, Token, TokenError};
use super::{Credential, Fields, ProfileError, ResolvedProfile, TokenAttempt};
use crate::clock::Clock;
use crate::secret::Secret;

/// What `az account get-access-token` is asked for.
#[derive(Debug, Clone)]
pub struct AzureCli {
    pub resource: String,
    pub tenant: Option<String>,
}

pub(super) fn resolve(f: &Fields<'_>) -> Result<ResolvedProfile, ProfileError> {
    let resource = f.resource()?;
    let tenant = f.given("tenant", &f.profile.tenant)?;
    Ok(link(f.name, &resource, tenant))
}

/// The Azure CLI asked for a token to `resource`, in `tenant` when given.
pub(super) fn link(name: &str, resource: &str, tenant: Option<String>) -> ResolvedProfile {
    let mut out = ResolvedProfile::new(
        name,
        "Azure CLI (az account get-access-token)",
        Credential::AzureCli(AzureCli {
            resource: resource.to_string(),
            tenant: tenant.clone(),
        }),
    );
    out.resource = Some(resource.to_string());
    out.tenant = tenant;
    out
}

pub(super) async fn fetch(c: &AzureCli, clock: &Clock) -> TokenAttempt {
    TokenAttempt::answered(
        None,
        None,
        get_access_token(&c.resource, c.tenant.as_deref(), clock.now()).await,
    )
}

/// A token from the signed-in Azure CLI.
async fn get_access_token(
    resource: &str,
    tenant: Option<&str>,
    now: i64,
) -> Result<Token, TokenError> {
    let mut cmd = tokio::process::Command::new("az");
    cmd.args([
        "account",
        "get-access-token",
        "--resource",
        resource,
        "--output",
        "json",
    ]);
    if let Some(t) = tenant {
        cmd.args(["--tenant", t]);
    }
    cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
    let out = match tokio::time::timeout(Duration::from_secs(60), cmd.output()).await {
        Err(_) => return Err(TokenError::Command { message: "the Azure CLI did not answer within 60 s".into(), code: None }),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(TokenError::Command {
                message: "the Azure CLI (az) is not on PATH: install it and run `az login`, or use another auth type".into(),
                code: None,
            })
        }
        Ok(Err(e)) => return Err(TokenError::Command { message: format!("the Azure CLI could not be started: {e}"), code: None }),
        Ok(Ok(o)) => o,
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let line = err
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("WARNING"))
            .unwrap_or("the Azure CLI failed")
            .to_string();
        return Err(TokenError::Command {
            code: aadsts_code(&err),
            message: format!("az account get-access-token failed: {line}"),
        });
    }
    let j: Map<String, Value> =
        serde_json::from_slice(&out.stdout).map_err(|e| TokenError::Command {
            message: format!("the Azure CLI's answer is not JSON: {e}"),
            code: None,
        })?;
    let access = j
        .get("accessToken")
        .and_then(Value::as_str)
        .ok_or_else(|| TokenError::Command {
            message: "the Azure CLI's answer has no accessToken".into(),
            code: None,
        })?;
    let mut t = Token::from_access(Secret::new(access));
    t.expires_at = number(j.get("expires_on"))
        .or(t.expires_at)
        .or(Some(now + 300));
    t.token_type = text(&j, "tokenType");
    Ok(t)
}

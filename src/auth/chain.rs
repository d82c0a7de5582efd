//! The later links of `DefaultAzureCredential`'s order, tried at the first token request:
//! managed identity, then the Azure CLI. A link that is not available passes to the next; a link
//! that answers ends the chain, with its token or its error (a real failure never falls through).

use std::time::Duration;

use super::token::TokenError;
use super::{Credential, ResolvedProfile, TokenAttempt};
use crate::clock::Clock;

/// How long the VM metadata service may take to answer before the chain moves on: off Azure its
/// address does not answer at all.
const PROBE: Duration = Duration::from_secs(2);

/// Why a link's attempt means "not available here" rather than "failed", if it does.
fn unavailable(link: &ResolvedProfile, attempt: &TokenAttempt) -> Option<String> {
    match (&link.credential, &attempt.outcome) {
        (Credential::ManagedIdentity(_), Err(TokenError::Network { .. })) => Some(
            "no managed identity endpoint answered (not on an Azure resource with an identity)"
                .into(),
        ),
        (Credential::ManagedIdentity(_), Err(TokenError::Endpoint { status: 400, .. })) => {
            Some("the metadata service answered, but this resource has no managed identity".into())
        }
        (
            Credential::AzureCli(_),
            Err(TokenError::Command {
                message,
                code: None,
            }),
        ) if message.contains("not on PATH") || message.contains("az login") => {
            Some(message.clone())
        }
        _ => None,
    }
}

pub(super) async fn fetch(
    http: &crate::http::Http,
    links: &[ResolvedProfile],
    settled: &[String],
    clock: &Clock,
) -> TokenAttempt {
    let mut why = settled.to_vec();
    for link in links {
        let attempt = match &link.credential {
            Credential::ManagedIdentity(_) if link.label.contains("metadata service") => {
                match tokio::time::timeout(PROBE, super::fetch(http, link, clock)).await {
                    Ok(a) => a,
                    Err(_) => {
                        why.push(format!("{}: the metadata service did not answer within {} s (not on an Azure resource)", link.label, PROBE.as_secs()));
                        continue;
                    }
                }
            }
            _ => super::fetch(http, link, clock).await,
        };
        if let Some(reason) = unavailable(link, &attempt) {
            why.push(format!("{}: {reason}", link.label));
            continue;
        }
        let mut attempt = attempt;
        attempt.used = Some(format!(
            "{} (the first available in the credential chain)",
            link.label
        ));
        return attempt;
    }
    let mut message = String::from(
        "no credential of the chain is available; each needs something this run does not have:",
    );
    for w in &why {
        message.push_str(&format!("\n  - {w}"));
    }
    TokenAttempt::failed(None, None, TokenError::Profile { message })
}

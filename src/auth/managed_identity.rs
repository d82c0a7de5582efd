//! Azure managed identity: the VM metadata service (IMDS) or App Service's identity endpoint.

use std::collections::HashMap;

use super::token::{answer_token, TokenError};
use super::{Credential, Fields, ProfileError, ResolvedProfile, TokenAttempt};
use crate::clock::Clock;
use crate::secret::Secret;

/// Where a managed identity token comes from.
#[derive(Debug, Clone)]
pub struct ManagedIdentity {
    /// The token URL, query included.
    pub url: String,
    /// App Service's `X-IDENTITY-HEADER` secret; the metadata service takes `Metadata: true`.
    pub identity_header: Option<Secret>,
}

pub(super) fn resolve(f: &Fields<'_>) -> Result<ResolvedProfile, ProfileError> {
    let p = f.profile;
    let resource = f.resource()?;
    let ids = [
        f.text("client_id", &p.client_id)?,
        f.text("object_id", &p.object_id)?,
        f.text("msi_res_id", &p.msi_res_id)?,
    ];
    Ok(build(f.name, &resource, ids, f.env))
}

/// The managed identity link of a credential chain: user-assigned when a client id is known.
pub(super) fn link(
    name: &str,
    resource: &str,
    client_id: Option<String>,
    env: &HashMap<String, String>,
) -> ResolvedProfile {
    build(name, resource, [client_id, None, None], env)
}

/// `ids`: client id, object id, Azure resource id; any of them names a user-assigned identity.
fn build(
    name: &str,
    resource: &str,
    ids: [Option<String>; 3],
    env: &HashMap<String, String>,
) -> ResolvedProfile {
    let app_service = env.get("IDENTITY_ENDPOINT").zip(env.get("IDENTITY_HEADER"));
    // App Service and the VM metadata service name the same ids differently.
    let (api, names) = match app_service {
        Some(_) => ("2019-08-01", ["client_id", "principal_id", "mi_res_id"]),
        None => ("2018-02-01", ["client_id", "object_id", "msi_res_id"]),
    };
    let mut query = vec![
        ("api-version", api.to_string()),
        ("resource", resource.to_string()),
    ];
    for (k, v) in names.into_iter().zip(&ids) {
        if let Some(v) = v {
            query.push((k, v.clone()));
        }
    }
    let (url, identity_header, label) = match app_service {
        Some((endpoint, secret)) => (
            endpoint.clone(),
            Some(Secret::new(secret.clone())),
            "managed identity (App Service)",
        ),
        None => {
            // The Azure SDKs' override of the VM metadata service's address.
            let host = env
                .get("AZURE_POD_IDENTITY_AUTHORITY_HOST")
                .map(|h| h.trim_end_matches('/').to_string())
                .unwrap_or_else(|| "http://169.254.169.254".into());
            (
                format!("{host}/metadata/identity/oauth2/token"),
                None,
                "managed identity (VM metadata service)",
            )
        }
    };
    let q = serde_urlencoded::to_string(&query).unwrap_or_default();
    let assigned = if ids.iter().any(Option::is_some) {
        "user-assigned"
    } else {
        "system-assigned"
    };
    let mut out = ResolvedProfile::new(
        name,
        format!("{label}, {assigned}"),
        Credential::ManagedIdentity(ManagedIdentity {
            url: format!("{url}?{q}"),
            identity_header,
        }),
    );
    out.resource = Some(resource.to_string());
    out.client_id = ids[0].clone();
    out
}

pub(super) async fn fetch(
    http: &crate::http::Http,
    m: &ManagedIdentity,
    clock: &Clock,
) -> TokenAttempt {
    let mut req = http.client.get(&m.url).header("Accept", "application/json");
    req = match &m.identity_header {
        Some(secret) => req.header("X-IDENTITY-HEADER", secret.expose()),
        None => req.header("Metadata", "true"),
    };
    match http.send(req).await {
        Ok(a) => TokenAttempt::answered(
            Some(m.url.clone()),
            Some(a.status),
            answer_token(&a, clock.now()),
        ),
        Err(e) => TokenAttempt::failed(
            Some(m.url.clone()),
            None,
            TokenError::Network {
                message: format!(
                    "the managed identity endpoint did not answer ({e}): fhircheck is not running in Azure, or this resource has no managed identity"
                ),
            },
        ),
    }
}

//! Microsoft Entra ID client credentials (v1 `resource=` or v2 `scope=…/.default`), with a
//! client secret or a certificate, and the Azure SDK environment variables as fallbacks.

use super::certificate::load_certificate;
use super::federated::{Federated, FederatedSource};
use super::form::FormPost;
use super::{Credential, Fields, ProfileError, ResolvedProfile};
use crate::collection::ClientAuth;
use crate::secret::Secret;

/// Well-known authority hosts.
pub const AUTHORITY_PRESETS: &[(&str, &str)] = &[
    ("global", "https://login.microsoftonline.com"),
    ("public", "https://login.microsoftonline.com"),
    ("usgov", "https://login.microsoftonline.us"),
    ("us-government", "https://login.microsoftonline.us"),
    ("china", "https://login.partner.microsoftonline.cn"),
];

/// Turns `global`, `usgov`, `china`, a bare host or a URL into a base URL without trailing slash.
pub fn authority_base(host: &str) -> String {
    let h = host.trim();
    if let Some((_, url)) = AUTHORITY_PRESETS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(h))
    {
        return (*url).to_string();
    }
    let with_scheme = if h.starts_with("http://") || h.starts_with("https://") {
        h.to_string()
    } else {
        format!("https://{h}")
    };
    with_scheme.trim_end_matches('/').to_string()
}

/// What an Entra profile authenticates with.
enum ClientCredential {
    Secret(String),
    /// A certificate file's path.
    Certificate(String),
    Federated(FederatedSource),
    /// None of them: why each was not available.
    Nothing(Vec<String>),
}

/// What the profile names wins, in the order secret, certificate, federated token file; then
/// the Azure SDK variables in the same order, then GitHub Actions' OIDC token.
fn client_credential(f: &Fields<'_>) -> Result<ClientCredential, ProfileError> {
    let p = f.profile;
    if let Some(s) = f.given("client_secret", &p.client_secret)? {
        return Ok(ClientCredential::Secret(s.trim().to_string()));
    }
    if let Some(c) = f.given("certificate", &p.certificate)? {
        return Ok(ClientCredential::Certificate(c));
    }
    if let Some(t) = f.given("federated_token_file", &p.federated_token_file)? {
        return Ok(ClientCredential::Federated(FederatedSource::File(
            t.trim().to_string(),
        )));
    }
    if let Some(s) = f.env_var("AZURE_CLIENT_SECRET") {
        return Ok(ClientCredential::Secret(s.trim().to_string()));
    }
    if let Some(c) = f.env_var("AZURE_CLIENT_CERTIFICATE_PATH") {
        return Ok(ClientCredential::Certificate(c.clone()));
    }
    if let Some(t) = f.env_var("AZURE_FEDERATED_TOKEN_FILE") {
        return Ok(ClientCredential::Federated(FederatedSource::File(
            t.trim().to_string(),
        )));
    }
    if let (Some(url), Some(token)) = (
        f.env_var("ACTIONS_ID_TOKEN_REQUEST_URL"),
        f.env_var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) {
        return Ok(ClientCredential::Federated(FederatedSource::GitHub {
            url: url.trim().to_string(),
            token: Secret::new(token.trim()),
        }));
    }
    let github = if f.env_var("GITHUB_ACTIONS").is_some() {
        "this GitHub Actions job has no OIDC token: give it `permissions: id-token: write`"
    } else {
        "set AZURE_FEDERATED_TOKEN_FILE (AKS workload identity), or run in GitHub Actions with `permissions: id-token: write`"
    };
    Ok(ClientCredential::Nothing(vec![
        "environment: set AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH), with AZURE_TENANT_ID and AZURE_CLIENT_ID".into(),
        format!("workload identity: {github}, with AZURE_TENANT_ID and AZURE_CLIENT_ID"),
    ]))
}

/// `v1` or `v2`, as a flag: true for v1.
fn is_v1(f: &Fields<'_>) -> Result<bool, ProfileError> {
    let version = f
        .text("version", &f.profile.version)?
        .unwrap_or_else(|| "v2".into());
    match version.trim() {
        "v1" | "1" | "1.0" => Ok(true),
        "v2" | "2" | "2.0" => Ok(false),
        other => Err(f.invalid(format!("`version` must be v1 or v2, not `{other}`"))),
    }
}

pub(super) fn resolve(f: &Fields<'_>) -> Result<ResolvedProfile, ProfileError> {
    let p = f.profile;
    let credential = client_credential(f)?;
    if let ClientCredential::Nothing(why) = &credential {
        if p.default_azure_credential == Some(true) {
            return chain(f, why.clone());
        }
    }
    let tenant = f.required("tenant", &p.tenant, Some("AZURE_TENANT_ID"));
    let client_id = f.required("client_id", &p.client_id, Some("AZURE_CLIENT_ID"));
    // Every missing setting in one message, not one per run.
    let mut missing: Vec<String> = [&tenant, &client_id]
        .into_iter()
        .filter_map(|r| match r {
            Err(ProfileError::Missing {
                field, env_hint, ..
            }) => Some(format!("`{field}`{env_hint}")),
            _ => None,
        })
        .collect();
    if matches!(credential, ClientCredential::Nothing(_)) {
        missing.push("`client_secret` (or `certificate`, or `federated_token_file`) or the environment variable AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH, or AZURE_FEDERATED_TOKEN_FILE), or a GitHub Actions job with `permissions: id-token: write`".into());
    }
    match missing.len() {
        0 => {}
        1 if matches!(credential, ClientCredential::Nothing(_)) => {
            return Err(f.missing("client_secret", " (or `certificate`, or `federated_token_file`), or the environment variable AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH, or AZURE_FEDERATED_TOKEN_FILE), or run in GitHub Actions with `permissions: id-token: write`"));
        }
        1 => {}
        _ => {
            return Err(f.invalid(format!(
                "settings are missing; set each in the profile: {}",
                missing.join("; ")
            )))
        }
    }
    let (tenant, client_id) = (tenant?, client_id?);
    if let ClientCredential::Secret(s) = &credential {
        super::check_secret_length(f, s)?;
    }
    let base = authority_base(&authority_host(f)?);
    let v1 = is_v1(f)?;
    let resource = f.resource()?;
    let mut post = FormPost::client_credentials(if v1 {
        format!("{base}/{tenant}/oauth2/token")
    } else {
        format!("{base}/{tenant}/oauth2/v2.0/token")
    });
    if v1 {
        post.push("resource", resource.clone());
    } else {
        let scope = f
            .text("scope", &p.scope)?
            .unwrap_or_else(|| format!("{}/.default", resource.trim_end_matches('/')));
        post.push("scope", scope);
    }
    let version = if v1 { "v1" } else { "v2" };
    let mut out = match credential {
        ClientCredential::Secret(secret) => {
            post.add_client(
                &client_id,
                secret,
                p.client_auth.unwrap_or(ClientAuth::Post),
            );
            ResolvedProfile::new(
                f.name,
                format!("Entra ID {version} client credentials"),
                Credential::Secret(post),
            )
        }
        ClientCredential::Certificate(cert_path) => {
            let key = certificate_key(f, &client_id, &cert_path)?;
            post.push("client_id", client_id.clone());
            ResolvedProfile::new(
                f.name,
                format!("Entra ID {version} client credentials, certificate"),
                Credential::Certificate { post, key },
            )
        }
        ClientCredential::Federated(source) => {
            post.push("client_id", client_id.clone());
            ResolvedProfile::new(
                f.name,
                format!(
                    "Entra ID {version} client credentials, {}",
                    source.describe()
                ),
                Credential::Federated(Federated { post, source }),
            )
        }
        ClientCredential::Nothing(_) => unreachable!("handled above"),
    };
    out.resource = Some(resource);
    out.client_id = Some(client_id);
    out.tenant = Some(tenant);
    Ok(out)
}

/// The profile's authority host, else `AZURE_AUTHORITY_HOST`, else global Azure.
fn authority_host(f: &Fields<'_>) -> Result<String, ProfileError> {
    Ok(f.given("authority_host", &f.profile.authority_host)?
        .or_else(|| f.env_var("AZURE_AUTHORITY_HOST").cloned())
        .unwrap_or_else(|| "global".into()))
}

fn certificate_key(
    f: &Fields<'_>,
    client_id: &str,
    cert_path: &str,
) -> Result<super::AssertionKey, ProfileError> {
    let p = f.profile;
    // A password is a secret wherever it came from.
    let password = f
        .text("certificate_password", &p.certificate_password)?
        .or_else(|| f.env.get("AZURE_CLIENT_CERTIFICATE_PASSWORD").cloned())
        .filter(|v| !v.is_empty())
        .map(Secret::new);
    load_certificate(
        f.name,
        client_id,
        cert_path.trim(),
        f.text("private_key", &p.private_key)?.as_deref(),
        password.as_ref(),
        f.text("signing_alg", &p.signing_alg)?.as_deref(),
        f.text("x5t", &p.x5t)?.as_deref(),
    )
}

/// No secret, certificate or federated token: managed identity, then the Azure CLI, decided at
/// the first token request.
fn chain(f: &Fields<'_>, unavailable: Vec<String>) -> Result<ResolvedProfile, ProfileError> {
    let p = f.profile;
    let resource = f.resource()?;
    let client_id = f
        .given("client_id", &p.client_id)?
        .or_else(|| f.env_var("AZURE_CLIENT_ID").cloned());
    let tenant = f
        .given("tenant", &p.tenant)?
        .or_else(|| f.env_var("AZURE_TENANT_ID").cloned());
    let links = vec![
        super::managed_identity::link(f.name, &resource, client_id.clone(), f.env),
        super::azure_cli::link(f.name, &resource, tenant.clone()),
    ];
    let mut out = ResolvedProfile::new(
        f.name,
        "credential chain: managed identity, then Azure CLI",
        Credential::Chain { links, unavailable },
    );
    out.resource = Some(resource);
    out.client_id = client_id;
    out.tenant = tenant;
    Ok(out)
}

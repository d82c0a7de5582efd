//! Microsoft Entra ID client credentials (v1 `resource=` or v2 `scope=…/.default`), with a
//! client secret or a certificate, and the Azure SDK environment variables as fallbacks.

use super::certificate::load_certificate;
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

/// A secret named in the profile wins, then a certificate named in the profile, then the Azure
/// SDK variables in the same order. `Ok` is a secret, `Err` a certificate path.
fn secret_or_certificate(f: &Fields<'_>) -> Result<Result<String, String>, ProfileError> {
    let p = f.profile;
    let explicit_secret = f.given("client_secret", &p.client_secret)?;
    let explicit_cert = f.given("certificate", &p.certificate)?;
    let env_secret = f.env_var("AZURE_CLIENT_SECRET");
    let env_cert = f.env_var("AZURE_CLIENT_CERTIFICATE_PATH");
    Ok(match (explicit_secret, explicit_cert, env_secret, env_cert) {
        (Some(s), _, _, _) => Ok(s.trim().to_string()),
        (None, Some(c), _, _) => Err(c),
        (None, None, Some(s), _) => Ok(s.trim().to_string()),
        (None, None, None, Some(c)) => Err(c.clone()),
        (None, None, None, None) => {
            return Err(f.missing(
                "client_secret",
                " (or `certificate`), or the environment variable AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)",
            ))
        }
    })
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
    let tenant = f.required("tenant", &p.tenant, Some("AZURE_TENANT_ID"))?;
    let client_id = f.required("client_id", &p.client_id, Some("AZURE_CLIENT_ID"))?;
    let credential = secret_or_certificate(f)?;
    if let Ok(s) = &credential {
        super::check_secret_length(f, s)?;
    }
    let host = f
        .given("authority_host", &p.authority_host)?
        .or_else(|| f.env.get("AZURE_AUTHORITY_HOST").cloned())
        .unwrap_or_else(|| "global".into());
    let v1 = is_v1(f)?;
    let resource = f.resource()?;
    let base = authority_base(&host);
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
        Ok(secret) => {
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
        Err(cert_path) => {
            // A password is a secret wherever it came from.
            let password = f
                .text("certificate_password", &p.certificate_password)?
                .or_else(|| f.env.get("AZURE_CLIENT_CERTIFICATE_PASSWORD").cloned())
                .filter(|v| !v.is_empty())
                .map(Secret::new);
            let key = load_certificate(
                f.name,
                &client_id,
                cert_path.trim(),
                f.text("private_key", &p.private_key)?.as_deref(),
                password.as_ref(),
                f.text("signing_alg", &p.signing_alg)?.as_deref(),
                f.text("x5t", &p.x5t)?.as_deref(),
            )?;
            post.push("client_id", client_id.clone());
            ResolvedProfile::new(
                f.name,
                format!("Entra ID {version} client credentials, certificate"),
                Credential::Certificate { post, key },
            )
        }
    };
    out.resource = Some(resource);
    out.client_id = Some(client_id);
    out.tenant = Some(tenant);
    Ok(out)
}

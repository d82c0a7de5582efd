//! Tokens: turning an auth profile into a token request, reading the answer (Entra v1 string
//! numbers included), Entra's error shape, and the claims of the token (decoded, not verified).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock::{self, Clock};
use crate::collection::{AuthKind, AuthProfile, ClientAuth};
use crate::secret::Secret;
use crate::vars::{VarError, Variables};

mod jwk;

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

/// A profile with every template rendered and every default applied.
#[derive(Debug, Clone)]
pub struct ResolvedProfile {
    pub name: String,
    pub kind: AuthKind,
    /// e.g. "Entra ID v1 client credentials".
    pub label: String,
    pub endpoint: Option<String>,
    pub form: Vec<(String, FormValue)>,
    pub basic: Option<(String, Secret)>,
    pub static_token: Option<Secret>,
    /// A certificate credential: the client assertion is built when the token is requested.
    pub assertion: Option<AssertionKey>,
    /// A token that comes from somewhere other than a token endpoint form post.
    pub source: Option<Source>,
    /// The audience asked for: `resource`, or the scope's resource.
    pub resource: Option<String>,
    pub client_id: Option<String>,
    pub tenant: Option<String>,
}

#[derive(Debug, Clone)]
pub enum FormValue {
    Plain(String),
    Secret(Secret),
}

impl FormValue {
    fn expose(&self) -> &str {
        match self {
            FormValue::Plain(s) => s,
            FormValue::Secret(s) => s.expose(),
        }
    }
}

/// Where a managed identity or Azure CLI token comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// GET `url` with `header` (`Metadata: true`, or App Service's `X-IDENTITY-HEADER`).
    ManagedIdentity {
        url: String,
        header: (String, Secret),
        app_service: bool,
    },
    /// `az account get-access-token`.
    AzureCli {
        resource: String,
        tenant: Option<String>,
    },
    /// SMART Backend Services.
    Smart(SmartKey),
}

/// A SMART backend client's signing key and request.
#[derive(Debug, Clone)]
pub struct SmartKey {
    pub client_id: String,
    pub key_pem: Secret,
    pub alg: jsonwebtoken::Algorithm,
    pub kid: String,
    pub jku: Option<String>,
    pub scope: String,
    pub token_url: Option<String>,
    /// `[base]/.well-known/smart-configuration`, when the token URL is to be discovered.
    pub discovery: Option<String>,
}

/// SMART scopes as (context, resource type, permission letters): `system/Patient.read` (v1) is
/// `system/Patient.rs` (v2); `.write` is `.cud`; `.*` is `.cruds`.
pub fn parse_scope(s: &str) -> Option<(String, String, String)> {
    let (ctx, rest) = s.split_once('/')?;
    let (ty, perm) = rest.rsplit_once('.')?;
    let perm = perm.split('?').next().unwrap_or(perm);
    let letters = match perm {
        "read" => "rs".to_string(),
        "write" => "cud".to_string(),
        "*" => "cruds".to_string(),
        p if !p.is_empty() && p.chars().all(|c| "cruds".contains(c)) => p.to_string(),
        _ => return None,
    };
    Some((ctx.to_string(), ty.to_string(), letters))
}

/// The requested scopes that `granted` does not cover.
pub fn missing_scopes(requested: &str, granted: &str) -> Vec<String> {
    let granted: Vec<(String, String, String)> =
        granted.split_whitespace().filter_map(parse_scope).collect();
    requested
        .split_whitespace()
        .filter(|r| match parse_scope(r) {
            Some((ctx, ty, letters)) => !granted.iter().any(|(gc, gt, gl)| {
                *gc == ctx && (*gt == ty || gt == "*") && letters.chars().all(|c| gl.contains(c))
            }),
            // Scopes that are not SMART resource scopes (`launch`, `openid`…) are not compared.
            None => false,
        })
        .map(str::to_string)
        .collect()
}

/// What signs a client assertion.
#[derive(Debug, Clone)]
pub struct AssertionKey {
    pub client_id: String,
    /// The certificate, DER, for its thumbprint.
    pub cert_der: Vec<u8>,
    /// The private key PEM; a secret.
    pub key_pem: Secret,
    pub alg: jsonwebtoken::Algorithm,
    /// Legacy `x5t` (SHA-1) instead of `x5t#S256`.
    pub sha1: bool,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `x5t#S256` (or `x5t`) of a certificate: its DER's digest, base64url.
pub fn thumbprint(cert_der: &[u8], sha1: bool) -> String {
    let alg = if sha1 {
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY
    } else {
        &ring::digest::SHA256
    };
    b64url(ring::digest::digest(alg, cert_der).as_ref())
}

/// The PEM blocks of `text` as (tag, DER).
pub fn pem_blocks(text: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(tag_end) = after.find("-----") else {
            break;
        };
        let tag = after[..tag_end].to_string();
        let end_marker = format!("-----END {tag}-----");
        let Some(end) = after.find(&end_marker) else {
            break;
        };
        let body: String = after[tag_end + 5..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(body) {
            out.push((tag, der));
        }
        rest = &after[end + end_marker.len()..];
    }
    out
}

fn pem_text(tag: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN {tag}-----\n{}\n-----END {tag}-----\n",
        lines.join("\n")
    )
}

/// The certificate (DER) and its private key (PEM) from a PKCS#12 file. The leaf certificate is
/// the one whose local key id matches the key's; the password is `""` when none is given.
fn read_pkcs12(
    data: &[u8],
    path: &str,
    password: Option<&Secret>,
) -> Result<(Vec<u8>, Secret), String> {
    use p12_keystore::error::Error as P12;
    let given = password.map(Secret::expose).unwrap_or("");
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(data, given).map_err(|e| match e {
        P12::MacError(_) if password.is_none() => format!(
            "`{path}` is protected by a password: give it in `certificate_password` (a secret variable) or AZURE_CLIENT_CERTIFICATE_PASSWORD"
        ),
        P12::MacError(_) => format!(
            "the password does not open `{path}`: check `certificate_password` (or AZURE_CLIENT_CERTIFICATE_PASSWORD)"
        ),
        other => format!("`{path}` is not a PKCS#12 file fhircheck can read ({other}); export it again, or convert it to PEM: openssl pkcs12 -in {path} -out client.pem -nodes"),
    })?;
    let key = archive.keys.first().ok_or_else(|| {
        format!("`{path}` holds no private key: export the certificate with its private key (.pfx)")
    })?;
    let cert = archive
        .certs
        .iter()
        .find(|c| {
            key.local_key_id
                .as_ref()
                .is_some_and(|k| c.local_key_id.as_deref() == Some(k.as_ref()))
        })
        .or_else(|| archive.certs.first())
        .ok_or_else(|| format!("`{path}` holds no certificate"))?;
    Ok((
        cert.cert.as_der().to_vec(),
        Secret::new(pem_text("PRIVATE KEY", key.key.as_der())),
    ))
}

/// Reads a certificate credential: PEM files, or a PKCS#12 (.pfx/.p12) file and its password.
pub fn load_certificate(
    profile: &str,
    client_id: &str,
    cert_path: &str,
    key_path: Option<&str>,
    password: Option<&Secret>,
    alg: Option<&str>,
    x5t: Option<&str>,
) -> Result<AssertionKey, ProfileError> {
    let invalid = |message: String| ProfileError::Invalid {
        profile: profile.to_string(),
        message,
    };
    let read = |p: &str| {
        std::fs::read(p)
            .map_err(|e| invalid(format!("cannot read the certificate file `{p}`: {e}")))
    };
    let cert_bytes = read(cert_path)?;
    let lower = cert_path.to_ascii_lowercase();
    // PKCS#12 is DER: a SEQUENCE (0x30) with a long-form length; PEM is text.
    let is_der = matches!(cert_bytes.as_slice(), [0x30, 0x80..=0x84, ..]);
    let pkcs12 = lower.ends_with(".pfx") || lower.ends_with(".p12") || is_der;
    let (cert_der, key_pem) = if pkcs12 {
        if key_path.is_some() {
            return Err(invalid(format!(
                "`{cert_path}` is PKCS#12, which carries its own private key: leave out `private_key`"
            )));
        }
        read_pkcs12(&cert_bytes, cert_path, password).map_err(invalid)?
    } else {
        let cert_text = String::from_utf8_lossy(&cert_bytes);
        let blocks = pem_blocks(&cert_text);
        let cert_der = blocks
            .iter()
            .find(|(t, _)| t == "CERTIFICATE")
            .map(|(_, d)| d.clone())
            .ok_or_else(|| {
                invalid(format!(
                    "`{cert_path}` holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
                ))
            })?;
        let key_blocks = match key_path {
            Some(k) => pem_blocks(&String::from_utf8_lossy(&read(k)?)),
            None => blocks,
        };
        let key_file = key_path.unwrap_or(cert_path);
        if key_blocks.iter().any(|(t, _)| t == "ENCRYPTED PRIVATE KEY") {
            return Err(invalid(format!(
                "the private key in `{key_file}` is encrypted; decrypt it once (openssl pkcs8 -in {key_file} -out key.pem) or use a .pfx with `certificate_password`"
            )));
        }
        let (tag, der) = key_blocks
            .into_iter()
            .find(|(t, _)| t == "PRIVATE KEY" || t == "RSA PRIVATE KEY")
            .ok_or_else(|| invalid(format!(
                "no private key (-----BEGIN PRIVATE KEY-----) in `{key_file}`; give it in the same PEM file or with `private_key`"
            )))?;
        (cert_der, Secret::new(pem_text(&tag, &der)))
    };
    let alg = match alg.map(str::to_ascii_uppercase).as_deref() {
        None | Some("RS256") => jsonwebtoken::Algorithm::RS256,
        Some("PS256") => jsonwebtoken::Algorithm::PS256,
        Some(other) => {
            return Err(invalid(format!(
                "`signing_alg` must be RS256 or PS256, not `{other}`"
            )))
        }
    };
    let sha1 = match x5t.map(str::to_ascii_lowercase).as_deref() {
        None | Some("sha256") | Some("x5t#s256") => false,
        Some("sha1") | Some("x5t") => true,
        Some(other) => {
            return Err(invalid(format!(
                "`x5t` must be sha256 or sha1, not `{other}`"
            )))
        }
    };
    jsonwebtoken::EncodingKey::from_rsa_pem(key_pem.expose().as_bytes()).map_err(|e| {
        invalid(format!(
            "the private key can not sign (an RSA key is needed): {e}"
        ))
    })?;
    Ok(AssertionKey {
        client_id: client_id.to_string(),
        cert_der,
        key_pem,
        alg,
        sha1,
    })
}

/// A client assertion for `token_url`: `aud` the token URL, `iss` = `sub` = the client id, a
/// unique `jti`, valid for 10 minutes.
pub fn client_assertion(key: &AssertionKey, token_url: &str, now: i64) -> Result<Secret, String> {
    let mut header = jsonwebtoken::Header::new(key.alg);
    header.typ = Some("JWT".into());
    let tp = thumbprint(&key.cert_der, key.sha1);
    if key.sha1 {
        header.x5t = Some(tp);
    } else {
        header.x5t_s256 = Some(tp);
    }
    let claims = serde_json::json!({
        "aud": token_url,
        "iss": key.client_id,
        "sub": key.client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    });
    let ek = jsonwebtoken::EncodingKey::from_rsa_pem(key.key_pem.expose().as_bytes())
        .map_err(|e| e.to_string())?;
    jsonwebtoken::encode(&header, &claims, &ek)
        .map(Secret::new)
        .map_err(|e| format!("cannot sign the client assertion: {e}"))
}

/// Why a profile could not be turned into a token request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("auth profile `{profile}` has no {field}: set `{field}` in the profile{env_hint}")]
    Missing {
        profile: String,
        field: &'static str,
        env_hint: String,
    },
    #[error("auth profile `{profile}`, field `{field}`: {source}")]
    Var {
        profile: String,
        field: &'static str,
        source: VarError,
    },
    #[error("auth profile `{profile}`: {message}")]
    Invalid { profile: String, message: String },
}

/// Renders a profile. `env` is the process environment snapshot taken by the configuration step.
pub fn resolve(
    name: &str,
    p: &AuthProfile,
    vars: &Variables,
    base_url: Option<&str>,
    env: &HashMap<String, String>,
) -> Result<ResolvedProfile, ProfileError> {
    let render =
        |field: &'static str, t: &Option<String>| -> Result<Option<(String, bool)>, ProfileError> {
            match t {
                None => Ok(None),
                Some(t) => vars
                    .render(t)
                    .map(|r| Some((r.text, r.secret)))
                    .map_err(|source| ProfileError::Var {
                        profile: name.to_string(),
                        field,
                        source,
                    }),
            }
        };
    let env_or = |field: &'static str,
                  value: Option<(String, bool)>,
                  var: Option<&'static str>|
     -> Result<String, ProfileError> {
        if let Some((v, _)) = value.filter(|(v, _)| !v.trim().is_empty()) {
            return Ok(v.trim().to_string());
        }
        if let Some(var) = var {
            if let Some(v) = env.get(var).filter(|v| !v.trim().is_empty()) {
                return Ok(v.trim().to_string());
            }
        }
        Err(ProfileError::Missing {
            profile: name.to_string(),
            field,
            env_hint: var
                .map(|v| format!(" or the environment variable {v}"))
                .unwrap_or_default(),
        })
    };
    // The audience a token is for: the profile's `resource`, else the collection's base URL.
    let resource_or_base = |r: Option<(String, bool)>| -> Result<String, ProfileError> {
        r.map(|(v, _)| v)
            .or_else(|| base_url.map(str::to_string))
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| ProfileError::Missing {
                profile: name.to_string(),
                field: "resource",
                env_hint: " (or give the collection a `base_url`, which is the default)".into(),
            })
    };
    let mut out = ResolvedProfile {
        name: name.to_string(),
        kind: p.kind,
        label: String::new(),
        endpoint: None,
        form: Vec::new(),
        basic: None,
        static_token: None,
        assertion: None,
        source: None,
        resource: None,
        client_id: None,
        tenant: None,
    };
    let client_auth = p.client_auth.unwrap_or(ClientAuth::Post);
    match p.kind {
        AuthKind::None => out.label = "no authentication".into(),
        AuthKind::Bearer => {
            let token = env_or("token", render("token", &p.token)?, None)?;
            out.static_token = Some(Secret::new(token));
            out.label = "static bearer token".into();
        }
        AuthKind::Entra => {
            let tenant = env_or(
                "tenant",
                render("tenant", &p.tenant)?,
                Some("AZURE_TENANT_ID"),
            )?;
            let client_id = env_or(
                "client_id",
                render("client_id", &p.client_id)?,
                Some("AZURE_CLIENT_ID"),
            )?;
            let explicit_secret =
                render("client_secret", &p.client_secret)?.filter(|(v, _)| !v.trim().is_empty());
            let explicit_cert = render("certificate", &p.certificate)?
                .map(|(v, _)| v)
                .filter(|v| !v.trim().is_empty());
            let env_secret = env
                .get("AZURE_CLIENT_SECRET")
                .filter(|v| !v.trim().is_empty());
            let env_cert = env
                .get("AZURE_CLIENT_CERTIFICATE_PATH")
                .filter(|v| !v.trim().is_empty());
            // A secret named in the profile wins, then a certificate named in the profile, then
            // the Azure SDK variables in the same order.
            let credential = match (explicit_secret, explicit_cert, env_secret, env_cert) {
                (Some((s, _)), _, _, _) => Ok(s.trim().to_string()),
                (None, Some(c), _, _) => Err(c),
                (None, None, Some(s), _) => Ok(s.trim().to_string()),
                (None, None, None, Some(c)) => Err(c.clone()),
                (None, None, None, None) => {
                    return Err(ProfileError::Missing {
                        profile: name.to_string(),
                        field: "client_secret",
                        env_hint: " (or `certificate`), or the environment variable AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)".into(),
                    })
                }
            };
            let host = render("authority_host", &p.authority_host)?
                .map(|(v, _)| v)
                .filter(|v| !v.trim().is_empty())
                .or_else(|| env.get("AZURE_AUTHORITY_HOST").cloned())
                .unwrap_or_else(|| "global".into());
            let version = render("version", &p.version)?
                .map(|(v, _)| v)
                .unwrap_or_else(|| "v2".into());
            let v1 = match version.trim() {
                "v1" | "1" | "1.0" => true,
                "v2" | "2" | "2.0" => false,
                other => {
                    return Err(ProfileError::Invalid {
                        profile: name.to_string(),
                        message: format!("`version` must be v1 or v2, not `{other}`"),
                    })
                }
            };
            let resource = resource_or_base(render("resource", &p.resource)?)?;
            let base = authority_base(&host);
            out.endpoint = Some(if v1 {
                format!("{base}/{tenant}/oauth2/token")
            } else {
                format!("{base}/{tenant}/oauth2/v2.0/token")
            });
            out.form.push((
                "grant_type".into(),
                FormValue::Plain("client_credentials".into()),
            ));
            if v1 {
                out.form
                    .push(("resource".into(), FormValue::Plain(resource.clone())));
            } else {
                let scope = render("scope", &p.scope)?
                    .map(|(v, _)| v)
                    .unwrap_or_else(|| format!("{}/.default", resource.trim_end_matches('/')));
                out.form.push(("scope".into(), FormValue::Plain(scope)));
            }
            out.label = format!(
                "Entra ID {} client credentials",
                if v1 { "v1" } else { "v2" }
            );
            match credential {
                Ok(secret) => add_client(&mut out, &client_id, secret, client_auth),
                Err(cert_path) => {
                    let key_path = render("private_key", &p.private_key)?.map(|(v, _)| v);
                    let alg = render("signing_alg", &p.signing_alg)?.map(|(v, _)| v);
                    let x5t = render("x5t", &p.x5t)?.map(|(v, _)| v);
                    // A password is a secret wherever it came from.
                    let password = render("certificate_password", &p.certificate_password)?
                        .map(|(v, _)| v)
                        .or_else(|| env.get("AZURE_CLIENT_CERTIFICATE_PASSWORD").cloned())
                        .filter(|v| !v.is_empty())
                        .map(Secret::new);
                    let key = load_certificate(
                        name,
                        &client_id,
                        cert_path.trim(),
                        key_path.as_deref(),
                        password.as_ref(),
                        alg.as_deref(),
                        x5t.as_deref(),
                    )?;
                    out.form
                        .push(("client_id".into(), FormValue::Plain(client_id.clone())));
                    out.label = out
                        .label
                        .replace("client credentials", "client credentials, certificate");
                    out.assertion = Some(key);
                }
            }
            out.resource = Some(resource);
            out.client_id = Some(client_id);
            out.tenant = Some(tenant);
        }
        AuthKind::ManagedIdentity => {
            let resource = resource_or_base(render("resource", &p.resource)?)?;
            let client_id = render("client_id", &p.client_id)?.map(|(v, _)| v);
            let object_id = render("object_id", &p.object_id)?.map(|(v, _)| v);
            let msi_res_id = render("msi_res_id", &p.msi_res_id)?.map(|(v, _)| v);
            let app_service = env.get("IDENTITY_ENDPOINT").zip(env.get("IDENTITY_HEADER"));
            let mut query = vec![("resource", resource.clone())];
            let (url, header, label) = match app_service {
                Some((endpoint, secret)) => {
                    query.insert(0, ("api-version", "2019-08-01".into()));
                    for (k, v) in [
                        ("client_id", &client_id),
                        ("principal_id", &object_id),
                        ("mi_res_id", &msi_res_id),
                    ] {
                        if let Some(v) = v {
                            query.push((k, v.clone()));
                        }
                    }
                    (
                        endpoint.clone(),
                        ("X-IDENTITY-HEADER".to_string(), Secret::new(secret.clone())),
                        "managed identity (App Service)",
                    )
                }
                None => {
                    query.insert(0, ("api-version", "2018-02-01".into()));
                    for (k, v) in [
                        ("client_id", &client_id),
                        ("object_id", &object_id),
                        ("msi_res_id", &msi_res_id),
                    ] {
                        if let Some(v) = v {
                            query.push((k, v.clone()));
                        }
                    }
                    // The Azure SDKs' override of the VM metadata service's address.
                    let host = env
                        .get("AZURE_POD_IDENTITY_AUTHORITY_HOST")
                        .map(|h| h.trim_end_matches('/').to_string())
                        .unwrap_or_else(|| "http://169.254.169.254".into());
                    (
                        format!("{host}/metadata/identity/oauth2/token"),
                        ("Metadata".to_string(), Secret::default()),
                        "managed identity (VM metadata service)",
                    )
                }
            };
            let q = serde_urlencoded::to_string(&query).unwrap_or_default();
            out.label = format!(
                "{label}{}",
                if client_id.is_some() || object_id.is_some() || msi_res_id.is_some() {
                    ", user-assigned"
                } else {
                    ", system-assigned"
                }
            );
            out.endpoint = Some(format!("{url}?{q}"));
            out.source = Some(Source::ManagedIdentity {
                url: format!("{url}?{q}"),
                header,
                app_service: app_service.is_some(),
            });
            out.resource = Some(resource);
            out.client_id = client_id;
        }
        AuthKind::Smart => {
            let client_id = env_or("client_id", render("client_id", &p.client_id)?, None)?;
            let key_path = env_or("private_key", render("private_key", &p.private_key)?, None)?;
            let kid = env_or("key_id", render("key_id", &p.key_id)?, None)?;
            let scope = env_or("scope", render("scope", &p.scope)?, None)?;
            let jku = render("jku", &p.jku)?
                .map(|(v, _)| v)
                .filter(|v| !v.trim().is_empty());
            let token_url = render("token_url", &p.token_url)?
                .map(|(v, _)| v)
                .filter(|v| !v.trim().is_empty());
            let invalid = |message: String| ProfileError::Invalid {
                profile: name.to_string(),
                message,
            };
            let text = std::fs::read_to_string(key_path.trim())
                .map_err(|e| invalid(format!("cannot read the private key `{key_path}`: {e}")))?;
            let (tag, der) = if text.trim_start().starts_with('{') {
                jwk::private_key(&text, &kid).map_err(|e| invalid(format!("`{key_path}`: {e}")))?
            } else {
                pem_blocks(&text)
                    .into_iter()
                    .find(|(t, _)| t.ends_with("PRIVATE KEY"))
                    .ok_or_else(|| {
                        invalid(format!(
                            "`{key_path}` holds no private key: a PEM (-----BEGIN PRIVATE KEY-----), a private JWK or a JWKS is needed"
                        ))
                    })?
            };
            let key_pem = Secret::new(pem_text(&tag, &der));
            let is_ec = jsonwebtoken::EncodingKey::from_ec_pem(key_pem.expose().as_bytes()).is_ok();
            let alg = match render("signing_alg", &p.signing_alg)?.map(|(v, _)| v.to_ascii_uppercase()).as_deref() {
                Some("RS384") => jsonwebtoken::Algorithm::RS384,
                Some("ES384") => jsonwebtoken::Algorithm::ES384,
                None if is_ec => jsonwebtoken::Algorithm::ES384,
                None => jsonwebtoken::Algorithm::RS384,
                Some(other) => return Err(invalid(format!("`signing_alg` must be RS384 or ES384 for SMART Backend Services, not `{other}`"))),
            };
            let usable = match alg {
                jsonwebtoken::Algorithm::ES384 => {
                    jsonwebtoken::EncodingKey::from_ec_pem(key_pem.expose().as_bytes()).is_ok()
                }
                _ => jsonwebtoken::EncodingKey::from_rsa_pem(key_pem.expose().as_bytes()).is_ok(),
            };
            if !usable {
                return Err(invalid(format!("the key in `{key_path}` can not sign {alg:?}: ES384 needs a P-384 EC key, RS384 an RSA key (PKCS#8 PEM)")));
            }
            let discovery = match (&token_url, base_url) {
                (None, Some(b)) => Some(format!(
                    "{}/.well-known/smart-configuration",
                    b.trim_end_matches('/')
                )),
                (None, None) => {
                    return Err(ProfileError::Missing {
                        profile: name.to_string(),
                        field: "token_url",
                        env_hint: " (or give the collection a `base_url` to discover it from)"
                            .into(),
                    })
                }
                _ => None,
            };
            out.label = format!("SMART Backend Services, private_key_jwt {alg:?}");
            out.endpoint = token_url.clone().or_else(|| discovery.clone());
            out.source = Some(Source::Smart(SmartKey {
                client_id: client_id.clone(),
                key_pem,
                alg,
                kid,
                jku,
                scope,
                token_url,
                discovery,
            }));
            out.client_id = Some(client_id);
        }
        AuthKind::AzureCli => {
            let resource = resource_or_base(render("resource", &p.resource)?)?;
            let tenant = render("tenant", &p.tenant)?
                .map(|(v, _)| v)
                .filter(|t| !t.trim().is_empty());
            out.label = "Azure CLI (az account get-access-token)".into();
            out.source = Some(Source::AzureCli {
                resource: resource.clone(),
                tenant: tenant.clone(),
            });
            out.resource = Some(resource);
            out.tenant = tenant;
        }
        AuthKind::Oauth2 => {
            let url = env_or("token_url", render("token_url", &p.token_url)?, None)?;
            let client_id = env_or("client_id", render("client_id", &p.client_id)?, None)?;
            let secret = env_or(
                "client_secret",
                render("client_secret", &p.client_secret)?,
                None,
            )?;
            out.endpoint = Some(url);
            out.form.push((
                "grant_type".into(),
                FormValue::Plain("client_credentials".into()),
            ));
            for (field, key, value) in [
                ("scope", "scope", &p.scope),
                ("audience", "audience", &p.audience),
                ("resource", "resource", &p.resource),
            ] {
                if let Some((v, _)) = render(field, value)? {
                    if key != "scope" {
                        out.resource = Some(v.clone());
                    }
                    out.form.push((key.into(), FormValue::Plain(v)));
                }
            }
            for (k, t) in &p.extra_params {
                let r = vars.render(t).map_err(|source| ProfileError::Var {
                    profile: name.to_string(),
                    field: "extra_params",
                    source,
                })?;
                let v = if r.secret {
                    FormValue::Secret(Secret::new(r.text))
                } else {
                    FormValue::Plain(r.text)
                };
                out.form.push((k.clone(), v));
            }
            out.label = "OAuth2 client credentials".into();
            add_client(&mut out, &client_id, secret, client_auth);
            out.client_id = Some(client_id);
        }
    }
    Ok(out)
}

fn add_client(out: &mut ResolvedProfile, client_id: &str, secret: String, how: ClientAuth) {
    let secret = Secret::new(secret);
    match how {
        ClientAuth::Post => {
            out.form
                .push(("client_id".into(), FormValue::Plain(client_id.into())));
            out.form
                .push(("client_secret".into(), FormValue::Secret(secret)));
        }
        ClientAuth::Basic => {
            out.basic = Some((client_id.to_string(), secret));
        }
    }
}

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

/// One attempt at the token endpoint, for the run result.
#[derive(Debug, Clone)]
pub struct TokenAttempt {
    /// Things worth knowing about an answer that still gave a token.
    pub warnings: Vec<String>,
    pub endpoint: Option<String>,
    pub status: Option<u16>,
    pub duration: Duration,
    pub outcome: Result<Token, TokenError>,
}

/// Sends the token request of `p`.
pub async fn fetch(
    client: &reqwest::Client,
    p: &ResolvedProfile,
    clock: &Clock,
    tracer: Option<&crate::http::Tracer>,
) -> TokenAttempt {
    let started = Instant::now();
    if let Some(token) = &p.static_token {
        let claims = Claims::decode(token.expose());
        return TokenAttempt {
            warnings: vec![],
            endpoint: None,
            status: None,
            duration: started.elapsed(),
            outcome: Ok(Token {
                expires_at: claims.as_ref().and_then(|c| c.time("exp")),
                access: token.clone(),
                token_type: Some("Bearer".into()),
                scope: None,
                claims,
            }),
        };
    }
    match &p.source {
        Some(Source::ManagedIdentity {
            url,
            header,
            app_service,
        }) => {
            let mut req = client.get(url).header("Accept", "application/json");
            req = if *app_service {
                req.header(header.0.as_str(), header.1.expose())
            } else {
                req.header("Metadata", "true")
            };
            let outcome = match crate::http::send(client, req, tracer).await {
                Ok(a) => (Some(a.status), parse_token_response(a.status, &String::from_utf8_lossy(&a.body), clock.now())),
                Err(e) => (
                    None,
                    Err(TokenError::Network {
                        message: format!(
                            "the managed identity endpoint did not answer ({e}): fhircheck is not running in Azure, or this resource has no managed identity"
                        ),
                    }),
                ),
            };
            return TokenAttempt {
                warnings: vec![],
                endpoint: p.endpoint.clone(),
                status: outcome.0,
                duration: started.elapsed(),
                outcome: outcome.1,
            };
        }
        Some(Source::AzureCli { resource, tenant }) => {
            return TokenAttempt {
                warnings: vec![],
                endpoint: None,
                status: None,
                duration: Duration::ZERO,
                outcome: azure_cli(resource, tenant.as_deref(), clock.now()).await,
            }
            .with_duration(started.elapsed());
        }
        Some(Source::Smart(key)) => {
            return smart(client, key, clock, tracer)
                .await
                .with_duration(started.elapsed())
        }
        None => {}
    }
    let Some(endpoint) = p.endpoint.clone() else {
        return TokenAttempt {
            warnings: vec![],
            endpoint: None,
            status: None,
            duration: started.elapsed(),
            outcome: Err(TokenError::Profile {
                message: format!("auth profile `{}` needs no token", p.name),
            }),
        };
    };
    let mut form_values = p.form.clone();
    if let Some(key) = &p.assertion {
        match client_assertion(key, &endpoint, clock.now()) {
            Ok(a) => {
                form_values.push((
                    "client_assertion_type".into(),
                    FormValue::Plain(
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                    ),
                ));
                form_values.push(("client_assertion".into(), FormValue::Secret(a)));
            }
            Err(message) => {
                return TokenAttempt {
                    warnings: vec![],
                    endpoint: Some(endpoint),
                    status: None,
                    duration: started.elapsed(),
                    outcome: Err(TokenError::Profile { message }),
                }
            }
        }
    }
    let form: Vec<(&str, &str)> = form_values
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose()))
        .collect();
    let body = serde_urlencoded::to_string(&form).unwrap_or_default();
    let mut req = client
        .post(&endpoint)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(body);
    if let Some((id, secret)) = &p.basic {
        req = req.basic_auth(form_encode(id), Some(form_encode(secret.expose())));
    }
    let (status, text) = match crate::http::send(client, req, tracer).await {
        Ok(a) => (a.status, String::from_utf8_lossy(&a.body).into_owned()),
        Err(message) => {
            return TokenAttempt {
                warnings: vec![],
                endpoint: Some(endpoint),
                status: None,
                duration: started.elapsed(),
                outcome: Err(TokenError::Network { message }),
            }
        }
    };
    let outcome = parse_token_response(status, &text, clock.now());
    TokenAttempt {
        warnings: vec![],
        endpoint: Some(endpoint),
        status: Some(status),
        duration: started.elapsed(),
        outcome,
    }
}

impl TokenAttempt {
    fn with_duration(mut self, d: Duration) -> Self {
        self.duration = d;
        self
    }
}

/// SMART Backend Services: discovery, a signed assertion, the token request, and checks on the
/// answer (token type, lifetime, granted against requested scopes).
async fn smart(
    client: &reqwest::Client,
    key: &SmartKey,
    clock: &Clock,
    tracer: Option<&crate::http::Tracer>,
) -> TokenAttempt {
    let mut warnings = Vec::new();
    let fail = |endpoint: Option<String>,
                status: Option<u16>,
                e: TokenError,
                warnings: Vec<String>| TokenAttempt {
        warnings,
        endpoint,
        status,
        duration: Duration::ZERO,
        outcome: Err(e),
    };
    let token_url = match (&key.token_url, &key.discovery) {
        (Some(u), _) => u.clone(),
        (None, Some(d)) => {
            let answer = crate::http::send(
                client,
                client.get(d).header("Accept", "application/json"),
                tracer,
            )
            .await;
            let conf: Option<Map<String, Value>> = answer
                .as_ref()
                .ok()
                .filter(|a| a.status == 200)
                .and_then(|a| serde_json::from_slice(&a.body).ok());
            let Some(conf) = conf else {
                let why = match &answer {
                    Ok(a) => format!("HTTP {}", a.status),
                    Err(e) => e.clone(),
                };
                return fail(Some(d.clone()), answer.as_ref().ok().map(|a| a.status), TokenError::Profile {
                    message: format!("the SMART configuration at {d} could not be read ({why}): set `token_url` in the profile"),
                }, warnings);
            };
            let list = |k: &str| {
                conf.get(k).and_then(Value::as_array).map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
            };
            if let Some(m) = list("token_endpoint_auth_methods_supported") {
                if !m.iter().any(|x| x == "private_key_jwt") {
                    warnings.push(format!("the server's SMART configuration does not list private_key_jwt among its token endpoint auth methods ({})", m.join(", ")));
                }
            }
            let alg = format!("{:?}", key.alg);
            if let Some(a) = list("token_endpoint_auth_signing_alg_values_supported") {
                if !a.contains(&alg) {
                    warnings.push(format!("the server's SMART configuration does not list {alg} among its signing algorithms ({})", a.join(", ")));
                }
            }
            match conf.get("token_endpoint").and_then(Value::as_str) {
                Some(t) => t.to_string(),
                None => {
                    return fail(
                        Some(d.clone()),
                        Some(200),
                        TokenError::Profile {
                            message: format!(
                                "the SMART configuration at {d} has no token_endpoint"
                            ),
                        },
                        warnings,
                    )
                }
            }
        }
        (None, None) => {
            return fail(
                None,
                None,
                TokenError::Profile {
                    message: "no token URL".into(),
                },
                warnings,
            )
        }
    };
    let now = clock.now();
    let mut header = jsonwebtoken::Header::new(key.alg);
    header.typ = Some("JWT".into());
    header.kid = Some(key.kid.clone());
    header.jku = key.jku.clone();
    let claims = serde_json::json!({
        "iss": key.client_id, "sub": key.client_id, "aud": token_url,
        "exp": now + 300, "iat": now, "jti": uuid::Uuid::new_v4().to_string(),
    });
    let ek = match key.alg {
        jsonwebtoken::Algorithm::ES384 => {
            jsonwebtoken::EncodingKey::from_ec_pem(key.key_pem.expose().as_bytes())
        }
        _ => jsonwebtoken::EncodingKey::from_rsa_pem(key.key_pem.expose().as_bytes()),
    };
    let assertion = match ek.and_then(|k| jsonwebtoken::encode(&header, &claims, &k)) {
        Ok(a) => Secret::new(a),
        Err(e) => {
            return fail(
                Some(token_url),
                None,
                TokenError::Profile {
                    message: format!("cannot sign the client assertion: {e}"),
                },
                warnings,
            )
        }
    };
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", key.scope.as_str()),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion.expose()),
    ];
    let req = client
        .post(&token_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(serde_urlencoded::to_string(form).unwrap_or_default());
    let (status, text) = match crate::http::send(client, req, tracer).await {
        Ok(a) => (a.status, String::from_utf8_lossy(&a.body).into_owned()),
        Err(message) => {
            return fail(
                Some(token_url),
                None,
                TokenError::Network { message },
                warnings,
            )
        }
    };
    let outcome = parse_token_response(status, &text, now);
    if let Ok(t) = &outcome {
        if !t
            .token_type
            .as_deref()
            .is_some_and(|tt| tt.eq_ignore_ascii_case("bearer"))
        {
            warnings.push(format!(
                "token_type is {:?}; SMART requires \"bearer\"",
                t.token_type.as_deref().unwrap_or("(missing)")
            ));
        }
        if t.expires_at.is_some_and(|e| e - now > 305) {
            warnings.push(format!(
                "the token lives {} s; SMART Backend Services recommends at most 300",
                t.expires_at.unwrap_or(now) - now
            ));
        }
        match &t.scope {
            Some(granted) => {
                let missing = missing_scopes(&key.scope, granted);
                if !missing.is_empty() {
                    warnings.push(format!(
                        "granted scopes `{granted}` do not cover the requested `{}`",
                        missing.join(" ")
                    ));
                }
            }
            None => warnings.push(
                "the token answer has no scope: SMART servers say which scopes they granted".into(),
            ),
        }
    }
    TokenAttempt {
        warnings,
        endpoint: Some(token_url),
        status: Some(status),
        duration: Duration::ZERO,
        outcome,
    }
}

/// A token from the signed-in Azure CLI.
async fn azure_cli(resource: &str, tenant: Option<&str>, now: i64) -> Result<Token, TokenError> {
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
    let access = Secret::new(access);
    let claims = Claims::decode(access.expose());
    let expires_at = number(j.get("expires_on"))
        .or_else(|| claims.as_ref().and_then(|c| c.time("exp")))
        .or(Some(now + 300));
    Ok(Token {
        access,
        token_type: j
            .get("tokenType")
            .and_then(Value::as_str)
            .map(str::to_string),
        expires_at,
        scope: None,
        claims,
    })
}

/// RFC 6749 2.3.1: client id and secret are form-encoded before going into Basic.
fn form_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_string())
        .unwrap_or_else(|_| s.to_string())
}

fn number(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
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
                    crate::assertions::shorten(body.trim(), 100)
                ),
            });
        };
        let text = |k: &str| j.get(k).and_then(Value::as_str).map(str::to_string);
        let description = text("error_description");
        let code = j
            .get("error_codes")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_u64)
            .or_else(|| description.as_deref().and_then(aadsts_code));
        let first_line = description
            .as_deref()
            .and_then(|d| d.lines().next())
            .map(|l| l.trim().to_string());
        return Err(TokenError::Endpoint {
            status,
            error: text("error"),
            code,
            description: first_line,
            trace_id: text("trace_id"),
            correlation_id: text("correlation_id"),
            timestamp: text("timestamp"),
            error_uri: text("error_uri"),
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
    let access = Secret::new(access);
    let claims = Claims::decode(access.expose());
    let expires_at = number(j.get("expires_on"))
        .or_else(|| number(j.get("expires_in")).map(|s| now + s))
        .or_else(|| claims.as_ref().and_then(|c| c.time("exp")));
    Ok(Token {
        access,
        token_type: j
            .get("token_type")
            .and_then(Value::as_str)
            .map(str::to_string),
        expires_at,
        scope: j.get("scope").and_then(Value::as_str).map(str::to_string),
        claims,
    })
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

/// A JWT's header and claims, decoded without checking the signature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claims {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

/// The claims worth showing, in this order.
pub const SHOWN_CLAIMS: &[&str] = &[
    "aud", "iss", "tid", "appid", "azp", "oid", "sub", "roles", "scp", "scope", "ver", "idtyp",
    "iat", "nbf", "exp",
];

impl Claims {
    /// `None` when the token is not a JWT (opaque tokens are legal).
    pub fn decode(token: &str) -> Option<Claims> {
        let mut parts = token.split('.');
        let (h, c, _s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let dec = |p: &str| -> Option<Map<String, Value>> {
            let bytes = engine.decode(p.trim_end_matches('=')).ok()?;
            serde_json::from_slice(&bytes).ok()
        };
        Some(Claims {
            header: dec(h)?,
            claims: dec(c)?,
        })
    }

    pub fn str(&self, k: &str) -> Option<&str> {
        self.claims.get(k).and_then(Value::as_str)
    }

    /// A time claim in Unix seconds.
    pub fn time(&self, k: &str) -> Option<i64> {
        number(self.claims.get(k))
    }

    /// `aud` as a list (it may be a string or an array).
    pub fn audiences(&self) -> Vec<String> {
        match self.claims.get("aud") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => vec![],
        }
    }

    /// The shown claims as (name, text) pairs; times as UTC and relative to `now`.
    pub fn summary(&self, now: i64) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for k in SHOWN_CLAIMS {
            let Some(v) = self.claims.get(*k) else {
                // Scope-based tokens (SMART, most OAuth2 servers) carry permissions in `scope`.
                let scoped = self.claims.contains_key("scope") || self.claims.contains_key("scp");
                if *k == "roles" && !scoped {
                    out.push((
                        "roles".into(),
                        "(none: no application roles in the token)".into(),
                    ));
                }
                continue;
            };
            let text = match (*k, v) {
                ("iat" | "nbf" | "exp", _) => match number(Some(v)) {
                    Some(t) => format!("{} ({})", clock::utc(t), clock::relative(t, now)),
                    None => v.to_string(),
                },
                (_, Value::String(s)) => s.clone(),
                (_, Value::Array(a)) => a
                    .iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(", "),
                (_, other) => other.to_string(),
            };
            out.push(((*k).to_string(), text));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn jwt(claims: Value) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.{}",
            e.encode(br#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#),
            e.encode(claims.to_string()),
            e.encode(b"not-a-real-signature-but-long-enough")
        )
    }

    #[test]
    fn authority_presets_and_urls() {
        assert_eq!(
            authority_base("global"),
            "https://login.microsoftonline.com"
        );
        assert_eq!(authority_base("USGov"), "https://login.microsoftonline.us");
        assert_eq!(
            authority_base("china"),
            "https://login.partner.microsoftonline.cn"
        );
        assert_eq!(
            authority_base("login.example.org"),
            "https://login.example.org"
        );
        assert_eq!(authority_base("http://127.0.0.1:9/"), "http://127.0.0.1:9");
    }

    #[test]
    fn v1_answers_with_string_numbers() {
        let token = jwt(serde_json::json!({"aud": "https://x", "exp": 2000}));
        let body = serde_json::json!({"token_type": "Bearer", "expires_in": "3599",
            "expires_on": "1003599", "resource": "https://x", "access_token": token});
        let t = parse_token_response(200, &body.to_string(), 1_000_000).unwrap();
        assert_eq!(t.expires_at, Some(1_003_599));
        assert_eq!(t.claims.unwrap().audiences(), vec!["https://x"]);
        let body = serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "opaque-token-value"});
        let t = parse_token_response(200, &body.to_string(), 1_000_000).unwrap();
        assert_eq!(t.expires_at, Some(1_003_599));
        assert!(t.claims.is_none());
    }

    #[test]
    fn entra_errors_keep_code_trace_and_correlation() {
        let body = serde_json::json!({"error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t-1\r\nCorrelation ID: c-1\r\nTimestamp: 2026-11-26 09:00:00Z",
            "error_codes": [7000215], "timestamp": "2026-11-26 09:00:00Z",
            "trace_id": "t-1", "correlation_id": "c-1"});
        let e = parse_token_response(401, &body.to_string(), 0).unwrap_err();
        assert_eq!(
            e,
            TokenError::Endpoint {
                status: 401,
                error: Some("invalid_client".into()),
                code: Some(7000215),
                description: Some("AADSTS7000215: Invalid client secret provided.".into()),
                trace_id: Some("t-1".into()),
                correlation_id: Some("c-1".into()),
                timestamp: Some("2026-11-26 09:00:00Z".into()),
                error_uri: None,
            }
        );
        assert_eq!(
            e.headline(),
            "HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided."
        );
        let e = parse_token_response(502, "<html>bad gateway</html>", 0).unwrap_err();
        assert!(matches!(e, TokenError::Malformed { .. }));
    }

    #[test]
    fn claims_summary_shows_times_and_missing_roles() {
        let c = Claims::decode(&jwt(serde_json::json!({"aud": "https://x", "ver": "1.0",
            "exp": 1_795_688_604, "iat": 1_795_685_005})))
        .unwrap();
        let s = c.summary(1_795_685_005);
        assert_eq!(s[0], ("aud".into(), "https://x".into()));
        assert!(s
            .iter()
            .any(|(k, v)| k == "roles" && v.starts_with("(none")));
        let exp = &s.iter().find(|(k, _)| k == "exp").unwrap().1;
        assert_eq!(exp, "2026-11-26 10:23:24 UTC (in 59 min)");
        assert!(Claims::decode("not.a.jwt.at.all").is_none());
    }

    #[test]
    fn smart_scopes_in_v1_and_v2_syntax() {
        assert_eq!(
            parse_scope("system/Patient.read"),
            Some(("system".into(), "Patient".into(), "rs".into()))
        );
        assert_eq!(parse_scope("system/*.cruds").unwrap().2, "cruds");
        assert!(missing_scopes("system/Patient.rs", "system/Patient.read").is_empty());
        assert!(
            missing_scopes("system/Patient.read system/Observation.rs", "system/*.rs").is_empty()
        );
        assert_eq!(
            missing_scopes("system/Patient.write", "system/Patient.cu"),
            vec!["system/Patient.write"]
        );
        assert!(missing_scopes("system/Patient.c", "system/Patient.*").is_empty());
        assert!(missing_scopes("launch openid", "").is_empty());
    }

    #[test]
    fn entra_profile_falls_back_to_azure_sdk_variables() {
        let env: HashMap<String, String> = [
            ("AZURE_TENANT_ID", "tenant-1"),
            ("AZURE_CLIENT_ID", "client-1"),
            ("AZURE_CLIENT_SECRET", "the-secret-value"),
            ("AZURE_AUTHORITY_HOST", "http://127.0.0.1:1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let vars = Variables::new(Arc::new(env.clone()), Clock::Fixed(0));
        let p: AuthProfile =
            serde_json::from_value(serde_json::json!({"type": "entra", "version": "v1"})).unwrap();
        let r = resolve("e", &p, &vars, Some("https://fhir.example"), &env).unwrap();
        assert_eq!(
            r.endpoint.as_deref(),
            Some("http://127.0.0.1:1/tenant-1/oauth2/token")
        );
        assert!(r
            .form
            .iter()
            .any(|(k, v)| k == "resource" && v.expose() == "https://fhir.example"));
        assert_eq!(
            format!("{:?}", r.form).matches("the-secret-value").count(),
            0
        );
        let p: AuthProfile = serde_json::from_value(serde_json::json!({"type": "entra", "client_auth": "basic", "resource": "https://fhir.example/"})).unwrap();
        let r = resolve("e", &p, &vars, None, &env).unwrap();
        assert!(r.endpoint.unwrap().ends_with("/oauth2/v2.0/token"));
        assert!(r
            .form
            .iter()
            .any(|(k, v)| k == "scope" && v.expose() == "https://fhir.example/.default"));
        assert!(r.basic.is_some());
        let empty = HashMap::new();
        let err = resolve(
            "e",
            &p,
            &Variables::new(Arc::new(HashMap::new()), Clock::Fixed(0)),
            None,
            &empty,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "auth profile `e` has no tenant: set `tenant` in the profile or the environment variable AZURE_TENANT_ID");
    }
}

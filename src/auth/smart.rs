//! SMART Backend Services: `private_key_jwt` with RS384 or ES384, the token URL from the
//! profile or discovered from `.well-known/smart-configuration`, and checks on what was granted.

use serde_json::{Map, Value};

use super::certificate::{pem_blocks, pem_text};
use super::token::{answer_token, TokenError};
use super::{jwk, Credential, Fields, ProfileError, ResolvedProfile, TokenAttempt};
use crate::clock::Clock;
use crate::secret::Secret;

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

/// The private key as PEM: from a PEM file, a private JWK or a JWKS (the key whose `kid` is `kid`).
fn read_key(f: &Fields<'_>, key_path: &str, kid: &str) -> Result<Secret, ProfileError> {
    let text = std::fs::read_to_string(key_path.trim())
        .map_err(|e| f.invalid(format!("cannot read the private key `{key_path}`: {e}")))?;
    let (tag, der) = if text.trim_start().starts_with('{') {
        jwk::private_key(&text, kid).map_err(|e| f.invalid(format!("`{key_path}`: {e}")))?
    } else {
        pem_blocks(&text)
            .into_iter()
            .find(|(t, _)| t.ends_with("PRIVATE KEY"))
            .ok_or_else(|| {
                f.invalid(format!(
                    "`{key_path}` holds no private key: a PEM (-----BEGIN PRIVATE KEY-----), a private JWK or a JWKS is needed"
                ))
            })?
    };
    Ok(Secret::new(pem_text(&tag, &der)))
}

fn encoding_key(
    alg: jsonwebtoken::Algorithm,
    pem: &Secret,
) -> Result<jsonwebtoken::EncodingKey, jsonwebtoken::errors::Error> {
    match alg {
        jsonwebtoken::Algorithm::ES384 => {
            jsonwebtoken::EncodingKey::from_ec_pem(pem.expose().as_bytes())
        }
        _ => jsonwebtoken::EncodingKey::from_rsa_pem(pem.expose().as_bytes()),
    }
}

/// RS384 or ES384, by name or from the key's type; the key must be able to sign with it.
fn signing_alg(
    f: &Fields<'_>,
    key_pem: &Secret,
    key_path: &str,
) -> Result<jsonwebtoken::Algorithm, ProfileError> {
    let is_ec = encoding_key(jsonwebtoken::Algorithm::ES384, key_pem).is_ok();
    let named = f
        .text("signing_alg", &f.profile.signing_alg)?
        .map(|v| v.to_ascii_uppercase());
    let alg = match named.as_deref() {
        Some("RS384") => jsonwebtoken::Algorithm::RS384,
        Some("ES384") => jsonwebtoken::Algorithm::ES384,
        None if is_ec => jsonwebtoken::Algorithm::ES384,
        None => jsonwebtoken::Algorithm::RS384,
        Some(other) => {
            return Err(f.invalid(format!(
                "`signing_alg` must be RS384 or ES384 for SMART Backend Services, not `{other}`"
            )))
        }
    };
    if encoding_key(alg, key_pem).is_err() {
        return Err(f.invalid(format!("the key in `{key_path}` can not sign {alg:?}: ES384 needs a P-384 EC key, RS384 an RSA key (PKCS#8 PEM)")));
    }
    Ok(alg)
}

pub(super) fn resolve(f: &Fields<'_>) -> Result<ResolvedProfile, ProfileError> {
    let p = f.profile;
    let client_id = f.required("client_id", &p.client_id, None)?;
    let key_path = f.required("private_key", &p.private_key, None)?;
    let kid = f.required("key_id", &p.key_id, None)?;
    let scope = f.required("scope", &p.scope, None)?;
    let jku = f.given("jku", &p.jku)?;
    let token_url = f.given("token_url", &p.token_url)?;
    let key_pem = read_key(f, &key_path, &kid)?;
    let alg = signing_alg(f, &key_pem, &key_path)?;
    let discovery = match (&token_url, f.base_url) {
        (None, Some(b)) => Some(format!(
            "{}/.well-known/smart-configuration",
            b.trim_end_matches('/')
        )),
        (None, None) => {
            return Err(f.missing(
                "token_url",
                " (or give the collection a `base_url` to discover it from)",
            ))
        }
        _ => None,
    };
    let mut out = ResolvedProfile::new(
        f.name,
        format!("SMART Backend Services, private_key_jwt {alg:?}"),
        Credential::Smart(SmartKey {
            client_id: client_id.clone(),
            key_pem,
            alg,
            kid,
            jku,
            scope,
            token_url,
            discovery,
        }),
    );
    out.client_id = Some(client_id);
    Ok(out)
}

/// The token URL from the SMART configuration, with warnings about what it does not support.
/// `Err` is the failed attempt.
async fn discover(
    http: &crate::http::Http,
    key: &SmartKey,
    url: &str,
    warnings: &mut Vec<String>,
) -> Result<String, TokenAttempt> {
    let answer = http
        .send(http.client.get(url).header("Accept", "application/json"))
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
        let message = format!("the SMART configuration at {url} could not be read ({why}): set `token_url` in the profile");
        let status = answer.as_ref().ok().map(|a| a.status);
        return Err(TokenAttempt::failed(
            Some(url.to_string()),
            status,
            TokenError::Profile { message },
        ));
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
    conf.get("token_endpoint")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            let message = format!("the SMART configuration at {url} has no token_endpoint");
            TokenAttempt::failed(
                Some(url.to_string()),
                Some(200),
                TokenError::Profile { message },
            )
        })
}

/// The client assertion for `token_url`, signed with the client's key, valid five minutes.
fn assertion(key: &SmartKey, token_url: &str, now: i64) -> Result<Secret, String> {
    let mut header = jsonwebtoken::Header::new(key.alg);
    header.typ = Some("JWT".into());
    header.kid = Some(key.kid.clone());
    header.jku = key.jku.clone();
    let claims = serde_json::json!({
        "iss": key.client_id, "sub": key.client_id, "aud": token_url,
        "exp": now + 300, "iat": now, "jti": uuid::Uuid::new_v4().to_string(),
    });
    encoding_key(key.alg, &key.key_pem)
        .and_then(|k| jsonwebtoken::encode(&header, &claims, &k))
        .map(Secret::new)
        .map_err(|e| format!("cannot sign the client assertion: {e}"))
}

/// What SMART expects of a token answer: a bearer token, at most five minutes, the scopes asked.
fn token_warnings(t: &super::Token, requested: &str, now: i64) -> Vec<String> {
    let mut warnings = Vec::new();
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
            let missing = missing_scopes(requested, granted);
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
    warnings
}

/// SMART Backend Services: discovery, a signed assertion, the token request, and checks on the
/// answer (token type, lifetime, granted against requested scopes).
pub(super) async fn fetch(http: &crate::http::Http, key: &SmartKey, clock: &Clock) -> TokenAttempt {
    let mut warnings = Vec::new();
    let with_warnings = |mut a: TokenAttempt, w: Vec<String>| {
        a.warnings = w;
        a
    };
    let token_url = match (&key.token_url, &key.discovery) {
        (Some(u), _) => u.clone(),
        (None, Some(d)) => match discover(http, key, d, &mut warnings).await {
            Ok(u) => u,
            Err(a) => return with_warnings(a, warnings),
        },
        (None, None) => {
            let e = TokenError::Profile {
                message: "no token URL".into(),
            };
            return TokenAttempt::failed(None, None, e);
        }
    };
    let now = clock.now();
    let assertion = match assertion(key, &token_url, now) {
        Ok(a) => a,
        Err(message) => {
            let a = TokenAttempt::failed(Some(token_url), None, TokenError::Profile { message });
            return with_warnings(a, warnings);
        }
    };
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", key.scope.as_str()),
        ("client_assertion_type", super::form::JWT_BEARER),
        ("client_assertion", assertion.expose()),
    ];
    let req = http
        .client
        .post(&token_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(serde_urlencoded::to_string(form).unwrap_or_default());
    let answer = match http.send(req).await {
        Ok(a) => a,
        Err(message) => {
            let a = TokenAttempt::failed(Some(token_url), None, TokenError::Network { message });
            return with_warnings(a, warnings);
        }
    };
    let outcome = answer_token(&answer, now);
    if let Ok(t) = &outcome {
        warnings.extend(token_warnings(t, &key.scope, now));
    }
    with_warnings(
        TokenAttempt::answered(Some(token_url), Some(answer.status), outcome),
        warnings,
    )
}

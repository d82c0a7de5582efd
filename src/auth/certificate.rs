//! Certificate credentials: the certificate and key from PEM or PKCS#12 (.pfx/.p12), and the
//! client assertion signed with them (Entra's `private_key_jwt` with `x5t#S256`).

use base64::Engine;

use super::ProfileError;
use crate::secret::Secret;

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

pub(crate) fn pem_text(tag: &str, der: &[u8]) -> String {
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

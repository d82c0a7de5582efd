//! Private keys given as a JWK (RFC 7517/7518), as SMART servers and many key tools hand them
//! out: turned into the DER that the signer reads. RSA becomes PKCS#1, P-384 EC becomes PKCS#8.

use base64::Engine;
use serde_json::Value;

use crate::secret::Secret;

/// The private key in `text` (a JWK, or a JWKS chosen by `kid`), as a PEM tag and DER.
pub fn private_key(text: &str, kid: &str) -> Result<(String, Vec<u8>), String> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| format!("not a JWK or JWKS (JSON: {e})"))?;
    let key = match v.get("keys").and_then(Value::as_array) {
        Some(keys) => {
            let private: Vec<&Value> = keys.iter().filter(|k| k.get("d").is_some()).collect();
            let by_kid = private
                .iter()
                .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid));
            match (by_kid, private.as_slice()) {
                (Some(k), _) => *k,
                (None, [only]) if only.get("kid").is_none() => only,
                (None, []) => return Err(
                    "the JWKS holds only public keys (no `d`): the private key is needed to sign"
                        .into(),
                ),
                (None, _) => {
                    let kids: Vec<&str> = private
                        .iter()
                        .filter_map(|k| k.get("kid").and_then(Value::as_str))
                        .collect();
                    return Err(format!(
                        "the JWKS has no private key with kid `{kid}` (it has: {}); set `key_id` to one of them",
                        kids.join(", ")
                    ));
                }
            }
        }
        None => &v,
    };
    if key.get("d").is_none() {
        return Err("the JWK is a public key (no `d`): the private key is needed to sign".into());
    }
    let field = |name: &str| -> Result<Vec<u8>, String> {
        let text = key
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the JWK has no `{name}`"))?;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| format!("the JWK's `{name}` is not base64url"))
    };
    if let Some(d) = key.get("d").and_then(Value::as_str) {
        Secret::new(d);
    }
    match key.get("kty").and_then(Value::as_str) {
        Some("RSA") => {
            let mut body = integer(&[0]);
            for name in ["n", "e", "d", "p", "q", "dp", "dq", "qi"] {
                body.extend(integer(&field(name)?));
            }
            Ok(("RSA PRIVATE KEY".into(), tlv(0x30, &body)))
        }
        Some("EC") => {
            let crv = key.get("crv").and_then(Value::as_str).unwrap_or("");
            if crv != "P-384" {
                return Err(format!(
                    "the JWK's curve is `{crv}`; SMART's ES384 needs P-384"
                ));
            }
            let (d, x, y) = (field("d")?, field("x")?, field("y")?);
            if d.len() > 48 || x.len() != 48 || y.len() != 48 {
                return Err("the JWK's `d`, `x` or `y` has the wrong length for P-384".into());
            }
            let mut d48 = vec![0u8; 48 - d.len()];
            d48.extend(d);
            let mut point = vec![0u8, 4];
            point.extend(x);
            point.extend(y);
            // RFC 5915 ECPrivateKey, inside an RFC 5208 PrivateKeyInfo.
            let mut ec = integer(&[1]);
            ec.extend(tlv(0x04, &d48));
            ec.extend(tlv(0xa1, &tlv(0x03, &point)));
            let mut algorithm = tlv(0x06, EC_PUBLIC_KEY);
            algorithm.extend(tlv(0x06, SECP384R1));
            let mut info = integer(&[0]);
            info.extend(tlv(0x30, &algorithm));
            info.extend(tlv(0x04, &tlv(0x30, &ec)));
            Ok(("PRIVATE KEY".into(), tlv(0x30, &info)))
        }
        Some(other) => Err(format!(
            "the JWK's key type is `{other}`; SMART needs RSA (RS384) or EC P-384 (ES384)"
        )),
        None => Err("the JWK has no `kty`".into()),
    }
}

/// 1.2.840.10045.2.1 (id-ecPublicKey) and 1.3.132.0.34 (secp384r1), DER contents.
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const SECP384R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

/// A DER tag-length-value.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER from unsigned big-endian bytes.
fn integer(unsigned: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = unsigned.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = match trimmed.first() {
        None => vec![0],
        Some(b) if b & 0x80 != 0 => vec![0],
        Some(_) => vec![],
    };
    content.extend(trimmed);
    tlv(0x02, &content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_and_integers() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = tlv(0x04, &[0; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(integer(&[0, 0, 5]), vec![0x02, 1, 5]);
        assert_eq!(integer(&[0x80]), vec![0x02, 2, 0, 0x80]);
        assert_eq!(integer(&[]), vec![0x02, 1, 0]);
    }

    #[test]
    fn public_keys_and_other_curves_are_refused() {
        let public = r#"{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}"#;
        assert!(private_key(public, "k").unwrap_err().contains("public key"));
        let p256 = r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}"#;
        assert!(private_key(p256, "k").unwrap_err().contains("P-384"));
        let jwks = r#"{"keys":[{"kty":"EC","kid":"a","d":"AA"},{"kty":"EC","kid":"b","d":"AA"}]}"#;
        let e = private_key(jwks, "c").unwrap_err();
        assert!(e.contains("kid `c`") && e.contains("a, b"), "{e}");
        assert!(private_key("{", "k").unwrap_err().contains("not a JWK"));
    }
}

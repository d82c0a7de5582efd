//! Encrypted private keys in PEM files, decrypted with their passphrase (Newman's
//! `--ssl-client-passphrase`): PKCS#8 `ENCRYPTED PRIVATE KEY` (PBES2: PBKDF2 or scrypt with AES,
//! as OpenSSL 3 writes them), and OpenSSL's traditional `Proc-Type: 4,ENCRYPTED` keys with an
//! AES `DEK-Info`. Other blocks of the file (certificates, plain keys) stay as they are.

use base64::Engine as _;

/// One PEM block: its label, its headers (`Name: value` lines) and its DER bytes.
struct Block {
    label: String,
    headers: Vec<(String, String)>,
    der: Vec<u8>,
}

fn blocks(text: &str) -> Result<Vec<(Block, std::ops::Range<usize>)>, String> {
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(i) = text[rest..].find("-----BEGIN ") {
        let start = rest + i;
        let label_end = text[start + 11..]
            .find("-----")
            .ok_or("a PEM header line is not closed")?;
        let label = text[start + 11..start + 11 + label_end].to_string();
        let end_marker = format!("-----END {label}-----");
        let body_start = start + 11 + label_end + 5;
        let end = text[body_start..]
            .find(&end_marker)
            .map(|e| body_start + e)
            .ok_or_else(|| format!("the `{label}` block has no END line"))?;
        let mut headers = Vec::new();
        let mut b64 = String::new();
        for line in text[body_start..end].lines() {
            match line.split_once(':') {
                Some((k, v)) if b64.is_empty() => {
                    headers.push((k.trim().to_string(), v.trim().to_string()))
                }
                _ => b64.push_str(line.trim()),
            }
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| format!("the `{label}` block is not base64: {e}"))?;
        let stop = end + end_marker.len();
        out.push((
            Block {
                label,
                headers,
                der,
            },
            start..stop,
        ));
        rest = stop;
    }
    Ok(out)
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----",
        lines.join("\n")
    )
}

/// Whether a PEM text holds an encrypted private key.
pub fn is_encrypted(text: &str) -> bool {
    text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || text.contains("Proc-Type: 4,ENCRYPTED")
}

/// The PEM text with every encrypted private key decrypted with `passphrase`.
pub fn decrypt(text: &str, passphrase: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut last = 0;
    for (block, range) in blocks(text)? {
        let plain = if block.label == "ENCRYPTED PRIVATE KEY" {
            Some(pkcs8(&block.der, passphrase)?)
        } else if block
            .headers
            .iter()
            .any(|(k, v)| k == "Proc-Type" && v.contains("ENCRYPTED"))
        {
            Some(traditional(&block, passphrase)?)
        } else {
            None
        };
        if let Some(p) = plain {
            out.push_str(&text[last..range.start]);
            out.push_str(&p);
            last = range.end;
        }
    }
    out.push_str(&text[last..]);
    Ok(out)
}

const WRONG: &str = "the passphrase does not decrypt the key (a wrong --ssl-client-passphrase?)";

fn pkcs8(der: &[u8], passphrase: &str) -> Result<String, String> {
    let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der)
        .map_err(|e| format!("the ENCRYPTED PRIVATE KEY block can not be read: {e}"))?;
    let doc = info.decrypt(passphrase).map_err(|e| match e {
        pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::UnsupportedAlgorithm { oid }) => {
            format!("the key is encrypted with an algorithm fhircheck does not read ({oid}): re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`, or decrypt it (`openssl pkey -in key.pem -out plain.pem`)")
        }
        _ => WRONG.to_string(),
    })?;
    Ok(pem("PRIVATE KEY", doc.as_bytes()))
}

/// OpenSSL's traditional encryption: key from `EVP_BytesToKey(MD5, passphrase, IV[..8])`, the
/// DER encrypted with the `DEK-Info` cipher in CBC mode.
fn traditional(block: &Block, passphrase: &str) -> Result<String, String> {
    let info = block
        .headers
        .iter()
        .find(|(k, _)| k == "DEK-Info")
        .map(|(_, v)| v.as_str())
        .ok_or("an encrypted key with no DEK-Info header")?;
    let (cipher, iv_hex) = info.split_once(',').ok_or("a DEK-Info header with no IV")?;
    let key_len = match cipher.trim() {
        "AES-128-CBC" => 16,
        "AES-192-CBC" => 24,
        "AES-256-CBC" => 32,
        other => {
            return Err(format!(
                "the key is encrypted with {other}, which fhircheck does not read: re-encrypt it with AES (`openssl pkcs8 -topk8 -v2 aes-256-cbc`), or decrypt it (`openssl pkey -in key.pem -out plain.pem`)"
            ))
        }
    };
    let iv = crate::hash::from_hex(iv_hex.trim())?;
    if iv.len() != 16 {
        return Err("a DEK-Info IV that is not 16 bytes".into());
    }
    let (key, _) = crate::cipher::evp_bytes_to_key(passphrase.as_bytes(), &iv[..8], key_len, 0);
    let padded = crate::cipher::aes(false, "CBC", "NoPadding", &key, &iv, &block.der)?;
    // PKCS#7 padding, checked: a wrong passphrase almost never leaves a valid one.
    let n = padded.last().copied().unwrap_or(0) as usize;
    if n == 0
        || n > 16
        || n > padded.len()
        || padded[padded.len() - n..].iter().any(|&b| b as usize != n)
    {
        return Err(WRONG.into());
    }
    let der = &padded[..padded.len() - n];
    if der.first() != Some(&0x30) {
        return Err(WRONG.into());
    }
    Ok(pem(&block.label, der))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/certs")
                .join(name),
        )
        .unwrap()
    }

    fn der_of(text: &str) -> Vec<u8> {
        blocks(text).unwrap().remove(0).0.der
    }

    #[test]
    fn both_encryptions_give_back_the_key() {
        let plain = fixture("mtls-client.key.pem");
        let p8 = fixture("mtls-client.pkcs8-encrypted.pem");
        assert!(is_encrypted(&p8));
        let back = decrypt(&p8, "mtls-key-passphrase").unwrap();
        assert!(!is_encrypted(&back));
        assert_eq!(der_of(&back), der_of(&plain));
        let legacy = fixture("mtls-client.legacy-encrypted.pem");
        assert!(is_encrypted(&legacy));
        let back = decrypt(&legacy, "mtls-key-passphrase").unwrap();
        assert!(
            back.starts_with("-----BEGIN EC PRIVATE KEY-----\n"),
            "{back}"
        );
        // The same private scalar as the PKCS#8 key's (after `version 1, OCTET STRING (32)`).
        let scalar = |der: &[u8]| {
            let at = der
                .windows(5)
                .position(|w| w == [0x02, 0x01, 0x01, 0x04, 0x20])
                .unwrap();
            der[at + 5..at + 37].to_vec()
        };
        assert_eq!(scalar(&der_of(&back)), scalar(&der_of(&plain)));
    }

    #[test]
    fn a_wrong_passphrase_is_named() {
        for f in [
            "mtls-client.pkcs8-encrypted.pem",
            "mtls-client.legacy-encrypted.pem",
        ] {
            let e = decrypt(&fixture(f), "not it").unwrap_err();
            assert!(e.contains("passphrase does not decrypt"), "{f}: {e}");
        }
        let plain = fixture("mtls-client.key.pem");
        assert_eq!(decrypt(&plain, "anything").unwrap(), plain);
        assert!(decrypt("-----BEGIN X-----\nAAAA", "p").is_err());
    }
}

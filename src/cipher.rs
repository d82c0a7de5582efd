//! AES in the block modes and paddings CryptoJS offers, and OpenSSL's `EVP_BytesToKey`: the
//! scripts' `CryptoJS.AES` (a passphrase becomes key and IV as OpenSSL derives them), and the
//! legacy encrypted PEM keys of `--ssl-client-passphrase`. The block cipher is the `aes` crate's.

use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};

enum Key {
    A128(aes::Aes128),
    A192(aes::Aes192),
    A256(aes::Aes256),
}

impl Key {
    fn new(k: &[u8]) -> Result<Key, String> {
        let bad = |_| format!("an AES key is 16, 24 or 32 bytes, not {}", k.len());
        Ok(match k.len() {
            16 => Key::A128(aes::Aes128::new_from_slice(k).map_err(bad)?),
            24 => Key::A192(aes::Aes192::new_from_slice(k).map_err(bad)?),
            32 => Key::A256(aes::Aes256::new_from_slice(k).map_err(bad)?),
            n => return Err(format!("an AES key is 16, 24 or 32 bytes, not {n}")),
        })
    }

    fn encrypt(&self, b: &mut [u8; 16]) {
        let mut block = aes::Block::from(*b);
        match self {
            Key::A128(c) => c.encrypt_block(&mut block),
            Key::A192(c) => c.encrypt_block(&mut block),
            Key::A256(c) => c.encrypt_block(&mut block),
        }
        b.copy_from_slice(&block);
    }

    fn decrypt(&self, b: &mut [u8; 16]) {
        let mut block = aes::Block::from(*b);
        match self {
            Key::A128(c) => c.decrypt_block(&mut block),
            Key::A192(c) => c.decrypt_block(&mut block),
            Key::A256(c) => c.decrypt_block(&mut block),
        }
        b.copy_from_slice(&block);
    }
}

fn xor(a: &mut [u8], b: &[u8]) {
    a.iter_mut().zip(b).for_each(|(x, y)| *x ^= y);
}

/// Pads to whole blocks as CryptoJS's padding of that name does.
fn pad(data: &mut Vec<u8>, padding: &str) -> Result<(), String> {
    let n = 16 - data.len() % 16;
    match padding {
        "Pkcs7" => data.extend(std::iter::repeat_n(n as u8, n)),
        "AnsiX923" => {
            data.extend(std::iter::repeat_n(0, n - 1));
            data.push(n as u8);
        }
        "Iso10126" => {
            data.extend(uuid::Uuid::new_v4().as_bytes().iter().take(n - 1));
            data.push(n as u8);
        }
        "Iso97971" => {
            data.push(0x80);
            let m = 16 - data.len() % 16;
            if m < 16 {
                data.extend(std::iter::repeat_n(0, m));
            }
        }
        "ZeroPadding" => {
            if data.len() % 16 != 0 {
                data.extend(std::iter::repeat_n(0, n));
            }
        }
        "NoPadding" => {}
        other => {
            return Err(format!(
                "CryptoJS.pad.{other} is not available in fhircheck scripts"
            ))
        }
    }
    Ok(())
}

/// Takes the padding off as CryptoJS does: leniently, trusting the last byte.
fn unpad(data: &mut Vec<u8>, padding: &str) {
    match padding {
        "Pkcs7" | "AnsiX923" | "Iso10126" => {
            let n = data.last().copied().unwrap_or(0) as usize;
            data.truncate(data.len().saturating_sub(n));
        }
        "Iso97971" => {
            while data.last() == Some(&0) {
                data.pop();
            }
            data.pop();
        }
        "ZeroPadding" => {
            while data.last() == Some(&0) {
                data.pop();
            }
        }
        _ => {}
    }
}

/// AES over `data` in `mode` (CBC, ECB, CFB, OFB, CTR) with CryptoJS's `padding`.
pub fn aes(
    encrypt: bool,
    mode: &str,
    padding: &str,
    key: &[u8],
    iv: &[u8],
    data: &[u8],
) -> Result<Vec<u8>, String> {
    let k = Key::new(key)?;
    let mut state = [0u8; 16];
    if mode != "ECB" {
        if iv.len() != 16 {
            return Err(format!(
                "the IV of AES-{mode} is 16 bytes, not {}",
                iv.len()
            ));
        }
        state.copy_from_slice(iv);
    }
    let mut data = data.to_vec();
    if encrypt {
        pad(&mut data, padding)?;
    }
    let block_mode = matches!(mode, "CBC" | "ECB");
    if block_mode && data.len() % 16 != 0 {
        return Err(format!(
            "AES-{mode} works on whole 16-byte blocks: {} bytes with no padding",
            data.len()
        ));
    }
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.chunks(16) {
        let mut b = [0u8; 16];
        b[..chunk.len()].copy_from_slice(chunk);
        match (mode, encrypt) {
            ("ECB", true) => k.encrypt(&mut b),
            ("ECB", false) => k.decrypt(&mut b),
            ("CBC", true) => {
                xor(&mut b, &state);
                k.encrypt(&mut b);
                state = b;
            }
            ("CBC", false) => {
                let c = b;
                k.decrypt(&mut b);
                xor(&mut b, &state);
                state = c;
            }
            ("CFB", _) => {
                let mut ks = state;
                k.encrypt(&mut ks);
                xor(&mut b, &ks);
                state = if encrypt { b } else { pad_block(chunk) };
            }
            ("OFB", _) => {
                k.encrypt(&mut state);
                xor(&mut b, &state);
            }
            ("CTR", _) => {
                let mut ks = state;
                k.encrypt(&mut ks);
                xor(&mut b, &ks);
                // CryptoJS counts in the last 32-bit word only.
                let last = u32::from_be_bytes([state[12], state[13], state[14], state[15]]);
                state[12..].copy_from_slice(&last.wrapping_add(1).to_be_bytes());
            }
            (other, _) => {
                return Err(format!(
                    "CryptoJS.mode.{other} is not available in fhircheck scripts (CBC, ECB, CFB, OFB, CTR are)"
                ))
            }
        }
        out.extend_from_slice(&b[..chunk.len()]);
    }
    if !encrypt {
        unpad(&mut out, padding);
    }
    Ok(out)
}

fn pad_block(chunk: &[u8]) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..chunk.len()].copy_from_slice(chunk);
    b
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one round: key and IV from a passphrase and salt,
/// as `CryptoJS.AES.encrypt(text, "passphrase")` and `openssl enc` derive them.
pub fn evp_bytes_to_key(
    pass: &[u8],
    salt: &[u8],
    key_len: usize,
    iv_len: usize,
) -> (Vec<u8>, Vec<u8>) {
    let mut out: Vec<u8> = Vec::new();
    let mut last: Vec<u8> = Vec::new();
    while out.len() < key_len + iv_len {
        let mut input = last.clone();
        input.extend_from_slice(pass);
        input.extend_from_slice(salt);
        last = crate::hash::plain("md5", &input).unwrap_or_default();
        out.extend_from_slice(&last);
    }
    let iv = out[key_len..key_len + iv_len].to_vec();
    out.truncate(key_len);
    (out, iv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn matches_nist_sp800_38a_vectors() {
        // NIST SP 800-38A, F.2.1 (CBC-AES128), F.3.13 (CFB128-AES128), F.4.1 (OFB-AES128) and
        // F.1.1 (ECB-AES128): the first block.
        let key = unhex("2b7e151628aed2a6abf7158809cf4f3c");
        let iv = unhex("000102030405060708090a0b0c0d0e0f");
        let pt = unhex("6bc1bee22e409f96e93d7e117393172a");
        for (mode, want) in [
            ("CBC", "7649abac8119b246cee98e9b12e9197d"),
            ("CFB", "3b3fd92eb72dad20333449f8e83cfb4a"),
            ("OFB", "3b3fd92eb72dad20333449f8e83cfb4a"),
            ("ECB", "3ad77bb40d7a3660a89ecaf32466ef97"),
        ] {
            let ct = aes(true, mode, "NoPadding", &key, &iv, &pt).unwrap();
            assert_eq!(crate::hash::hex(&ct), want, "{mode}");
            assert_eq!(aes(false, mode, "NoPadding", &key, &iv, &ct).unwrap(), pt);
        }
    }

    #[test]
    fn paddings_round_trip_and_stream_modes_take_any_length() {
        let key = [7u8; 32];
        let iv = [9u8; 16];
        for padding in ["Pkcs7", "AnsiX923", "Iso10126", "Iso97971", "ZeroPadding"] {
            let ct = aes(true, "CBC", padding, &key, &iv, b"fhir").unwrap();
            assert_eq!(ct.len(), 16);
            assert_eq!(aes(false, "CBC", padding, &key, &iv, &ct).unwrap(), b"fhir");
        }
        let ct = aes(true, "CTR", "NoPadding", &key, &iv, b"seventeen bytes!!").unwrap();
        assert_eq!(ct.len(), 17);
        assert_eq!(
            aes(false, "CTR", "NoPadding", &key, &iv, &ct).unwrap(),
            b"seventeen bytes!!"
        );
        assert!(aes(true, "CBC", "NoPadding", &key, &iv, b"short").is_err());
        assert!(aes(true, "GCM", "Pkcs7", &key, &iv, b"x").is_err());
        assert!(aes(true, "CBC", "Pkcs7", &[1u8; 5], &iv, b"x").is_err());
    }

    #[test]
    fn derives_keys_as_openssl_does() {
        // `openssl enc -aes-256-cbc -P -md md5 -pass pass:secret -S 0102030405060708`
        let (key, iv) = evp_bytes_to_key(b"secret", &unhex("0102030405060708"), 32, 16);
        assert_eq!(
            crate::hash::hex(&key),
            "c9e5a1bd216dbe1317e230cef48f38ee7f0e17ad64022144bccec4a1aa2879ab"
        );
        assert_eq!(crate::hash::hex(&iv), "e24b32bbbc4ef02ecbcb6576523ad893");
    }
}

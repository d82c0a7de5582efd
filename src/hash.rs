//! Digests and HMACs: SHA-1 and SHA-2 (ring), MD5 (here: ring has none). The scripts' CryptoJS
//! hands bytes over as hex; request signatures (`sign`) use the byte forms.

/// `alg` over `msg`, or HMAC-`alg` with `key` when one is given; hex in, hex out.
pub fn hex_digest(alg: &str, msg_hex: &str, key_hex: &str) -> Result<String, String> {
    let msg = from_hex(msg_hex)?;
    let out = if key_hex.is_empty() {
        plain(alg, &msg)?
    } else {
        hmac(alg, &from_hex(key_hex)?, &msg)?
    };
    Ok(hex(&out))
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(h: &str) -> Result<Vec<u8>, String> {
    let digit = |c: u8| {
        (c as char)
            .to_digit(16)
            .map(|d| d as u8)
            .ok_or_else(|| format!("`{}` is not a hex digit", c as char))
    };
    h.as_bytes()
        .chunks(2)
        .filter(|p| p.len() == 2)
        .map(|p| Ok(digit(p[0])? * 16 + digit(p[1])?))
        .collect()
}

fn ring_alg(alg: &str) -> Option<&'static ring::digest::Algorithm> {
    Some(match alg {
        "sha1" => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        "sha256" => &ring::digest::SHA256,
        "sha384" => &ring::digest::SHA384,
        "sha512" => &ring::digest::SHA512,
        "sha512-256" => &ring::digest::SHA512_256,
        _ => return None,
    })
}

pub fn plain(alg: &str, msg: &[u8]) -> Result<Vec<u8>, String> {
    if alg == "md5" {
        return Ok(md5(msg).to_vec());
    }
    let a = ring_alg(alg).ok_or_else(|| format!("no digest `{alg}`"))?;
    Ok(ring::digest::digest(a, msg).as_ref().to_vec())
}

/// RFC 2104 HMAC over any of the digests (block size 64 bytes, 128 for SHA-384/512).
pub fn hmac(alg: &str, key: &[u8], msg: &[u8]) -> Result<Vec<u8>, String> {
    let block = if matches!(alg, "sha384" | "sha512" | "sha512-256") {
        128
    } else {
        64
    };
    let mut k = if key.len() > block {
        plain(alg, key)?
    } else {
        key.to_vec()
    };
    k.resize(block, 0);
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let mut inner = pad(0x36);
    inner.extend_from_slice(msg);
    let mut outer = pad(0x5c);
    outer.extend(plain(alg, &inner)?);
    plain(alg, &outer)
}

/// MD5 (RFC 1321): legacy, but collections still sign with it.
fn md5(msg: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut data = msg.to_vec();
    let bits = (msg.len() as u64).wrapping_mul(8);
    data.push(0x80);
    while data.len() % 64 != 56 {
        data.push(0);
    }
    data.extend_from_slice(&bits.to_le_bytes());
    let mut h: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for chunk in data.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = h;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let t = d;
            d = c;
            c = b;
            b = b.wrapping_add(
                a.wrapping_add(f)
                    .wrapping_add(k[i])
                    .wrapping_add(m[g])
                    .rotate_left(S[i]),
            );
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 16];
    for (i, w) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::hex_digest;

    fn hex(s: &str) -> String {
        s.bytes().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn known_answers() {
        // RFC 1321, FIPS 180, RFC 4231 test vectors.
        assert_eq!(
            hex_digest("md5", "", "").unwrap(),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            hex_digest("md5", &hex("abc"), "").unwrap(),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hex_digest("md5", &hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"), "").unwrap(),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
        assert_eq!(
            hex_digest("sha256", &hex("abc"), "").unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex_digest("sha256", &hex("what do ya want for nothing?"), &hex("Jefe")).unwrap(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex_digest("md5", &hex("what do ya want for nothing?"), &hex("Jefe")).unwrap(),
            "750c783e6ab0b503eaa86e310a5db738"
        );
    }
}

//! Request signatures of Postman's auth types, computed as Postman and Newman compute them:
//! HTTP Digest (RFC 7616), AWS Signature Version 4 and OAuth 1.0a (RFC 5849). Pure: the caller
//! gives the time and the random values, so the same inputs always sign the same way, and the
//! sandbox checks signatures with the same canonical forms.

use base64::Engine as _;

use crate::hash::{hex, hmac, plain};

/// Percent-encoding of RFC 3986: every byte but `A-Z a-z 0-9 - _ . ~` as `%XX`. Both AWS
/// Signature Version 4 and OAuth 1.0 encode this way.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `%XX` (and `+` for a space, as forms write it) decoded; bad escapes stay as written.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(&h), Some(&l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                    let v = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                    out.push(v(h) * 16 + v(l));
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A query string as (name, value) pairs, decoded.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// HTTP Digest

/// What a `WWW-Authenticate: Digest …` challenge asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub qop: String,
    pub opaque: String,
}

/// The challenge in a `WWW-Authenticate` value, if it is a Digest one.
pub fn digest_challenge(value: &str) -> Option<Challenge> {
    let v = value.trim_start();
    if !v.to_ascii_lowercase().starts_with("digest ") {
        return None;
    }
    let field = |name: &str| {
        let re = regex::Regex::new(&format!(r#"(?i){name}="([^"]*)""#)).ok()?;
        re.captures(v).map(|c| c[1].to_string())
    };
    Some(Challenge {
        realm: field("realm").unwrap_or_default(),
        nonce: field("nonce").unwrap_or_default(),
        qop: field("qop").unwrap_or_default(),
        opaque: field("opaque").unwrap_or_default(),
    })
}

/// One Digest answer to compute.
#[derive(Debug, Clone, Default)]
pub struct DigestInput<'a> {
    pub username: &'a str,
    pub password: &'a str,
    /// `MD5` (also when empty), `MD5-sess`, `SHA-256`, `SHA-256-sess`, `SHA-512-256`, `-sess`.
    pub algorithm: &'a str,
    pub challenge: Challenge,
    /// The nonce count, as eight hex digits (`00000001`).
    pub nc: &'a str,
    pub cnonce: &'a str,
    pub method: &'a str,
    /// The request target: path and query.
    pub uri: &'a str,
    /// The body, for `qop=auth-int`.
    pub body: &'a [u8],
}

/// The `Authorization` value answering a Digest challenge.
pub fn digest_authorization(d: &DigestInput<'_>) -> Result<String, String> {
    let algorithm = if d.algorithm.is_empty() {
        "MD5"
    } else {
        d.algorithm
    };
    let alg = match algorithm {
        "MD5" | "MD5-sess" => "md5",
        "SHA-256" | "SHA-256-sess" => "sha256",
        "SHA-512-256" | "SHA-512-256-sess" => "sha512-256",
        other => {
            return Err(format!(
                "the Digest algorithm `{other}` is not one of MD5, MD5-sess, SHA-256, SHA-256-sess, SHA-512-256, SHA-512-256-sess"
            ))
        }
    };
    let h = |s: &[u8]| plain(alg, s).map(|b| hex(&b));
    let c = &d.challenge;
    let a1 = if algorithm.ends_with("-sess") {
        let a0 = h(format!("{}:{}:{}", d.username, c.realm, d.password).as_bytes())?;
        format!("{a0}:{}:{}", c.nonce, d.cnonce)
    } else {
        format!("{}:{}:{}", d.username, c.realm, d.password)
    };
    let a2 = if c.qop == "auth-int" {
        format!("{}:{}:{}", d.method, d.uri, h(d.body)?)
    } else {
        format!("{}:{}", d.method, d.uri)
    };
    let (ha1, ha2) = (h(a1.as_bytes())?, h(a2.as_bytes())?);
    let with_qop = c.qop == "auth" || c.qop == "auth-int";
    let response = if with_qop {
        h(format!("{ha1}:{}:{}:{}:{}:{ha2}", c.nonce, d.nc, d.cnonce, c.qop).as_bytes())?
    } else {
        h(format!("{ha1}:{}:{ha2}", c.nonce).as_bytes())?
    };
    let mut parts = vec![
        format!("username=\"{}\"", d.username),
        format!("realm=\"{}\"", c.realm),
        format!("nonce=\"{}\"", c.nonce),
        format!("uri=\"{}\"", d.uri),
        format!("algorithm=\"{algorithm}\""),
    ];
    if with_qop {
        parts.push(format!("qop={}", c.qop));
    }
    if with_qop || algorithm == "MD5-sess" {
        parts.push(format!("nc={}", d.nc));
        parts.push(format!("cnonce=\"{}\"", d.cnonce));
    }
    parts.push(format!("response=\"{response}\""));
    if !c.opaque.is_empty() {
        parts.push(format!("opaque=\"{}\"", c.opaque));
    }
    Ok(format!("Digest {}", parts.join(", ")))
}

// ---------------------------------------------------------------------------------------------
// AWS Signature Version 4

/// Headers AWS Signature Version 4 never signs.
const AWS_UNSIGNED: &[&str] = &[
    "authorization",
    "connection",
    "x-amzn-trace-id",
    "user-agent",
    "expect",
    "presigned-expires",
    "range",
];

/// The scope of an AWS signature and its key.
#[derive(Debug, Clone)]
pub struct AwsKey<'a> {
    pub access_key: &'a str,
    pub secret_key: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

/// A request as AWS Signature Version 4 sees it.
#[derive(Debug, Clone)]
pub struct AwsRequest<'a> {
    pub method: &'a str,
    /// The path as sent, undecoded.
    pub path: &'a str,
    /// The query as sent, undecoded, without `?`.
    pub query: &'a str,
    /// Every header sent; the ones AWS never signs are left out here.
    pub headers: &'a [(String, String)],
    /// The payload hash (hex SHA-256, or `UNSIGNED-PAYLOAD`).
    pub payload_hash: &'a str,
}

/// The header names AWS Signature Version 4 signs of `headers`: lower case, sorted, `;`-joined.
pub fn aws_signed_headers(headers: &[(String, String)]) -> String {
    aws_headers(headers).0
}

/// The signed header names (lower case, sorted, `;`-joined) and the canonical header block.
fn aws_headers(headers: &[(String, String)]) -> (String, String) {
    let mut h: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .filter(|(k, _)| !AWS_UNSIGNED.contains(&k.as_str()))
        .collect();
    h.sort_by(|a, b| a.0.cmp(&b.0));
    let ws = regex::Regex::new(r"\s+").ok();
    let canonical = h
        .iter()
        .map(|(k, v)| {
            let v = match &ws {
                Some(re) => re.replace_all(v.trim(), " ").into_owned(),
                None => v.trim().to_string(),
            };
            format!("{k}:{v}\n")
        })
        .collect::<String>();
    let names = h
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (names, canonical)
}

/// The canonical path: S3 signs the decoded path encoded once; other services normalise the
/// path and encode each segment as it was sent (so an escape is encoded again).
fn aws_path(path: &str, service: &str) -> String {
    if path == "/" || path.is_empty() {
        return "/".into();
    }
    let s3 = service == "s3";
    let collapsed;
    let path = if s3 {
        path
    } else {
        let re = regex::Regex::new("/{2,}").ok();
        collapsed = match re {
            Some(re) => re.replace_all(path, "/").into_owned(),
            None => path.to_string(),
        };
        &collapsed
    };
    let mut out: Vec<String> = Vec::new();
    for piece in path.split('/') {
        if !s3 && piece == ".." {
            out.pop();
        } else if s3 || piece != "." {
            let piece = if s3 { decode(piece) } else { piece.to_string() };
            out.push(encode(&piece));
        }
    }
    let mut joined = out.join("/");
    if !joined.starts_with('/') {
        joined.insert(0, '/');
    }
    if s3 {
        joined = joined.replace("%2F", "/");
    }
    joined
}

fn aws_query(query: &str, service: &str) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (k, v) in query_pairs(query) {
        if k.is_empty() || (service == "s3" && pairs.iter().any(|(pk, _)| *pk == encode(&k))) {
            continue;
        }
        pairs.push((encode(&k), encode(&v)));
    }
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The signature of a request at `datetime` (`YYYYMMDD'T'HHMMSS'Z'`), with the signed header
/// names: what the `Authorization` header (or the `X-Amz-Signature` parameter) carries.
pub fn aws_signature(r: &AwsRequest<'_>, key: &AwsKey<'_>, datetime: &str) -> (String, String) {
    let (names, canonical_headers) = aws_headers(r.headers);
    let canonical = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{names}\n{}",
        r.method,
        aws_path(r.path, key.service),
        aws_query(r.query, key.service),
        r.payload_hash
    );
    let date = datetime.get(..8).unwrap_or(datetime);
    let scope = format!("{date}/{}/{}/aws4_request", key.region, key.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{datetime}\n{scope}\n{}",
        hex(&plain("sha256", canonical.as_bytes()).unwrap_or_default())
    );
    let mac = |k: &[u8], m: &str| hmac("sha256", k, m.as_bytes()).unwrap_or_default();
    let k = mac(format!("AWS4{}", key.secret_key).as_bytes(), date);
    let k = mac(&k, key.region);
    let k = mac(&k, key.service);
    let k = mac(&k, "aws4_request");
    (hex(&mac(&k, &to_sign)), names)
}

/// The credential scope an `Authorization` value or `X-Amz-Credential` names.
pub fn aws_credential(key: &AwsKey<'_>, datetime: &str) -> String {
    let date = datetime.get(..8).unwrap_or(datetime);
    format!(
        "{}/{date}/{}/{}/aws4_request",
        key.access_key, key.region, key.service
    )
}

/// Hex SHA-256 of a payload.
pub fn sha256_hex(body: &[u8]) -> String {
    hex(&plain("sha256", body).unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// OAuth 1.0

/// The `oauth_signature` of a request: `method` `&` base URL `&` the sorted parameters (the
/// `oauth_*` ones, the query's and a form body's), keyed by the consumer and token secrets.
pub fn oauth1_signature(
    signature_method: &str,
    method: &str,
    base_url: &str,
    params: &[(String, String)],
    consumer_secret: &str,
    token_secret: &str,
) -> Result<String, String> {
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    let alg = match signature_method.to_ascii_uppercase().as_str() {
        "PLAINTEXT" => return Ok(key),
        "HMAC-SHA1" => "sha1",
        "HMAC-SHA256" => "sha256",
        "HMAC-SHA512" => "sha512",
        other => {
            return Err(format!(
                "the OAuth 1.0 signature method `{other}` is not supported: use HMAC-SHA1, HMAC-SHA256, HMAC-SHA512 or PLAINTEXT"
            ))
        }
    };
    let mut sorted: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "oauth_signature")
        .map(|(k, v)| (encode(k), encode(v)))
        .collect();
    sorted.sort_by(|a, b| format!("{} {}", a.0, a.1).cmp(&format!("{} {}", b.0, b.1)));
    let normalized = sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let base = format!(
        "{}&{}&{}",
        encode(&method.to_ascii_uppercase()),
        encode(base_url),
        encode(&normalized)
    );
    let mac = hmac(alg, key.as_bytes(), base.as_bytes())?;
    Ok(base64::engine::general_purpose::STANDARD.encode(mac))
}

/// The base URL OAuth 1.0 signs: scheme and host in lower case, the port only when it is not
/// the scheme's default, the path, no query.
pub fn oauth1_base_url(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{}://{host}{port}{}", url.scheme(), url.path())
}

/// The body hash OAuth 1.0 adds with `includeBodyHash`: base64 of the digest the signature
/// method names (none for PLAINTEXT).
pub fn oauth1_body_hash(signature_method: &str, body: &[u8]) -> Option<String> {
    let alg = match signature_method.to_ascii_uppercase().as_str() {
        "HMAC-SHA1" | "RSA-SHA1" => "sha1",
        "HMAC-SHA256" | "RSA-SHA256" => "sha256",
        "HMAC-SHA512" | "RSA-SHA512" => "sha512",
        _ => return None,
    };
    let d = plain(alg, body).ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(d))
}

/// The `Authorization: OAuth …` value: the realm when there is one, then every non-empty
/// `oauth_*` parameter, encoded.
pub fn oauth1_header(realm: &str, params: &[(String, String)]) -> String {
    let mut parts = Vec::new();
    if !realm.trim().is_empty() {
        parts.push(format!("realm=\"{}\"", encode(realm)));
    }
    for (k, v) in params {
        if k.starts_with("oauth_") && !v.is_empty() {
            parts.push(format!("{}=\"{}\"", encode(k), encode(v.trim())));
        }
    }
    format!("OAuth {}", parts.join(","))
}

/// The parameters of an `Authorization: OAuth …` value, decoded.
pub fn oauth1_header_params(value: &str) -> Option<Vec<(String, String)>> {
    let rest = value.trim().strip_prefix("OAuth ")?;
    let re = regex::Regex::new(r#"([A-Za-z0-9_%.~-]+)="([^"]*)""#).ok()?;
    Some(
        re.captures_iter(rest)
            .map(|c| (decode(&c[1]), decode(&c[2])))
            .filter(|(k, _)| k != "realm")
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Hawk

/// One Hawk request to sign (Hawk 1.0, as Postman's sandbox signs it).
#[derive(Debug, Clone, Default)]
pub struct HawkInput<'a> {
    pub id: &'a str,
    pub key: &'a str,
    /// `sha1` or `sha256`.
    pub algorithm: &'a str,
    pub ts: &'a str,
    pub nonce: &'a str,
    pub method: &'a str,
    /// Path and query.
    pub resource: &'a str,
    pub host: &'a str,
    pub port: u16,
    /// The payload hash (`hawk_payload_hash`), when signed.
    pub hash: &'a str,
    pub ext: &'a str,
    pub app: &'a str,
    pub dlg: &'a str,
}

/// The request MAC: base64 HMAC of Hawk's normalized string.
pub fn hawk_mac(h: &HawkInput<'_>) -> Result<String, String> {
    if !matches!(h.algorithm, "sha1" | "sha256") {
        return Err(format!(
            "the Hawk algorithm `{}` is not sha1 or sha256",
            h.algorithm
        ));
    }
    let mut n = format!(
        "hawk.1.header\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
        h.ts,
        h.nonce,
        h.method.to_ascii_uppercase(),
        h.resource,
        h.host.to_ascii_lowercase(),
        h.port,
        h.hash
    );
    n.push_str(&h.ext.replacen('\\', "\\\\", 1).replacen('\n', "\\n", 1));
    n.push('\n');
    if !h.app.is_empty() {
        n.push_str(&format!("{}\n{}\n", h.app, h.dlg));
    }
    let mac = hmac(h.algorithm, h.key.as_bytes(), n.as_bytes())?;
    Ok(base64::engine::general_purpose::STANDARD.encode(mac))
}

/// Hawk's payload hash over the content type (no parameters, lower case) and the body.
pub fn hawk_payload_hash(algorithm: &str, content_type: &str, body: &[u8]) -> Option<String> {
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mut input = format!("hawk.1.payload\n{ct}\n").into_bytes();
    input.extend_from_slice(body);
    input.push(b'\n');
    let d = plain(algorithm, &input).ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(d))
}

/// The `Authorization: Hawk …` value.
pub fn hawk_header(h: &HawkInput<'_>) -> Result<String, String> {
    let mac = hawk_mac(h)?;
    let mut v = format!(
        "Hawk id=\"{}\", ts=\"{}\", nonce=\"{}\"",
        h.id, h.ts, h.nonce
    );
    if !h.hash.is_empty() {
        v.push_str(&format!(", hash=\"{}\"", h.hash));
    }
    if !h.ext.is_empty() {
        v.push_str(&format!(
            ", ext=\"{}\"",
            h.ext.replace('\\', "\\\\").replace('"', "\\\"")
        ));
    }
    v.push_str(&format!(", mac=\"{mac}\""));
    if !h.app.is_empty() {
        v.push_str(&format!(", app=\"{}\"", h.app));
        if !h.dlg.is_empty() {
            v.push_str(&format!(", dlg=\"{}\"", h.dlg));
        }
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// JWT bearer

/// A JWT signed with `algorithm` over the JSON `header` (its `alg` set) and `payload`, as
/// Postman's JWT Bearer auth makes it. `secret` is the HMAC secret (HS*) or the PKCS#8 PEM
/// private key (RS*, PS*, ES256, ES384).
pub fn jwt(
    algorithm: &str,
    header: &serde_json::Map<String, serde_json::Value>,
    payload: &serde_json::Value,
    secret: &[u8],
) -> Result<String, String> {
    use jsonwebtoken::Algorithm as A;
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let mut h = header.clone();
    h.insert("alg".into(), serde_json::Value::String(algorithm.into()));
    let signing_input = format!(
        "{}.{}",
        b64(serde_json::Value::Object(h).to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let hs = |alg: &str| -> Result<String, String> {
        Ok(b64(&hmac(alg, secret, signing_input.as_bytes())?))
    };
    let signature = match algorithm {
        "HS256" => hs("sha256")?,
        "HS384" => hs("sha384")?,
        "HS512" => hs("sha512")?,
        other => {
            let alg = match other {
                "RS256" => A::RS256,
                "RS384" => A::RS384,
                "RS512" => A::RS512,
                "PS256" => A::PS256,
                "PS384" => A::PS384,
                "PS512" => A::PS512,
                "ES256" => A::ES256,
                "ES384" => A::ES384,
                _ => {
                    return Err(format!(
                        "the JWT algorithm `{other}` is not one of HS256/384/512, RS256/384/512, PS256/384/512, ES256, ES384"
                    ))
                }
            };
            let key = if other.starts_with("ES") {
                jsonwebtoken::EncodingKey::from_ec_pem(secret)
            } else {
                jsonwebtoken::EncodingKey::from_rsa_pem(secret)
            }
            .map_err(|e| {
                format!("the JWT private key can not be read ({e}): give a PEM private key")
            })?;
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, alg)
                .map_err(|e| format!("the JWT could not be signed: {e}"))?
        }
    };
    Ok(format!("{signing_input}.{signature}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_rfc_2617_example() {
        let d = DigestInput {
            username: "Mufasa",
            password: "Circle Of Life",
            algorithm: "",
            challenge: Challenge {
                realm: "testrealm@host.com".into(),
                nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093".into(),
                qop: "auth".into(),
                opaque: "5ccc069c403ebaf9f0171e9517f40e41".into(),
            },
            nc: "00000001",
            cnonce: "0a4f113b",
            method: "GET",
            uri: "/dir/index.html",
            body: b"",
        };
        let h = digest_authorization(&d).unwrap();
        assert!(
            h.contains("response=\"6629fae49393a05397450978507c4ef1\""),
            "{h}"
        );
        assert!(h.starts_with("Digest username=\"Mufasa\", realm=\"testrealm@host.com\""));
        assert!(h.ends_with("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
        let bad = DigestInput {
            algorithm: "SHA-1",
            ..d
        };
        assert!(digest_authorization(&bad).is_err());
    }

    #[test]
    fn digest_challenge_is_read_case_blind() {
        let c =
            digest_challenge(r#"Digest realm="r", QOP="auth", nonce="n1", opaque="o""#).unwrap();
        assert_eq!((c.realm.as_str(), c.nonce.as_str()), ("r", "n1"));
        assert_eq!((c.qop.as_str(), c.opaque.as_str()), ("auth", "o"));
        assert!(digest_challenge("Basic realm=\"r\"").is_none());
    }

    #[test]
    fn aws_matches_the_get_vanilla_suite_case() {
        // AWS's Signature Version 4 test suite, `get-vanilla`.
        let headers = vec![
            ("Host".to_string(), "example.amazonaws.com".to_string()),
            ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()),
        ];
        let r = AwsRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            payload_hash: &sha256_hex(b""),
        };
        let key = AwsKey {
            access_key: "AKIDEXAMPLE",
            secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            service: "service",
        };
        let (sig, names) = aws_signature(&r, &key, "20150830T123600Z");
        assert_eq!(names, "host;x-amz-date");
        assert_eq!(
            sig,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert_eq!(
            aws_credential(&key, "20150830T123600Z"),
            "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
        );
    }

    #[test]
    fn aws_paths_and_queries_are_canonical() {
        assert_eq!(aws_path("/a//b/./c/../d", "execute-api"), "/a/b/d");
        assert_eq!(aws_path("/a%20b", "execute-api"), "/a%2520b");
        assert_eq!(aws_path("/a%20b", "s3"), "/a%20b");
        assert_eq!(aws_query("b=2&a=x y&a=1", "execute-api"), "a=1&a=x%20y&b=2");
    }

    #[test]
    fn oauth1_matches_the_published_hmac_sha1_example() {
        // The worked example of Twitter's "Creating a signature" guide.
        let url = reqwest::Url::parse(
            "https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
        )
        .unwrap();
        let mut params: Vec<(String, String)> = [
            ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
            ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1318622958"),
            (
                "oauth_token",
                "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
            ),
            ("oauth_version", "1.0"),
            (
                "status",
                "Hello Ladies + Gentlemen, a signed OAuth request!",
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        params.extend(query_pairs(url.query().unwrap_or("")));
        let sig = oauth1_signature(
            "HMAC-SHA1",
            "post",
            &oauth1_base_url(&url),
            &params,
            "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
            "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        )
        .unwrap();
        assert_eq!(sig, "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
        assert_eq!(
            oauth1_signature("PLAINTEXT", "GET", "", &[], "c s", "t").unwrap(),
            "c%20s&t"
        );
        assert!(oauth1_signature("RSA-SHA1", "GET", "", &[], "", "").is_err());
    }

    #[test]
    fn oauth1_header_round_trips() {
        let params = vec![
            ("oauth_consumer_key".to_string(), "k y".to_string()),
            ("oauth_token".to_string(), String::new()),
            ("oauth_signature".to_string(), "a+b/=".to_string()),
        ];
        let h = oauth1_header("Example", &params);
        assert_eq!(
            h,
            r#"OAuth realm="Example",oauth_consumer_key="k%20y",oauth_signature="a%2Bb%2F%3D""#
        );
        let back = oauth1_header_params(&h).unwrap();
        assert_eq!(back[0], ("oauth_consumer_key".into(), "k y".into()));
        assert_eq!(back[1], ("oauth_signature".into(), "a+b/=".into()));
    }

    #[test]
    fn decoding_keeps_bad_escapes() {
        assert_eq!(decode("a%20b+c%2"), "a b c%2");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(encode("a b*'~"), "a%20b%2A%27~");
    }

    #[test]
    fn hawk_matches_the_hawk_specification_example() {
        // The example of the Hawk README: id dh37fgj492je, key werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn.
        let h = HawkInput {
            id: "dh37fgj492je",
            key: "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn",
            algorithm: "sha256",
            ts: "1353832234",
            nonce: "j4h3g2",
            method: "GET",
            resource: "/resource/1?b=1&a=2",
            host: "example.com",
            port: 8000,
            ext: "some-app-ext-data",
            ..Default::default()
        };
        assert_eq!(
            hawk_mac(&h).unwrap(),
            "6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE="
        );
        let hash = hawk_payload_hash("sha256", "text/plain", b"Thank you for flying Hawk").unwrap();
        assert_eq!(hash, "Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY=");
        let with_hash = HawkInput {
            method: "POST",
            hash: &hash,
            ..h.clone()
        };
        assert_eq!(
            hawk_mac(&with_hash).unwrap(),
            "aSe1DERmZuRl3pI36/9BdZmnErTw3sNzOOAUlfeKjVw="
        );
        let header = hawk_header(&h).unwrap();
        assert!(header.starts_with(r#"Hawk id="dh37fgj492je", ts="1353832234", nonce="j4h3g2", ext="some-app-ext-data", mac=""#), "{header}");
        assert!(hawk_mac(&HawkInput {
            algorithm: "md5",
            ..h
        })
        .is_err());
    }

    #[test]
    fn jwt_signs_hmac_and_keys() {
        let mut header = serde_json::Map::new();
        header.insert("typ".into(), "JWT".into());
        let payload =
            serde_json::json!({"sub": "1234567890", "name": "John Doe", "iat": 1516239022});
        // jwt.io's example token, secret `your-256-bit-secret`.
        let t = jwt("HS256", &header, &payload, b"your-256-bit-secret").unwrap();
        assert_eq!(
            t.split('.').nth(1).unwrap(),
            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
        );
        let key = jsonwebtoken::DecodingKey::from_secret(b"your-256-bit-secret");
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        assert!(jsonwebtoken::decode::<serde_json::Value>(&t, &key, &v).is_ok());
        assert!(jwt("none", &header, &payload, b"x").is_err());
        assert!(jwt("RS256", &header, &payload, b"not a key").is_err());
    }
}

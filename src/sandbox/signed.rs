//! `/auth/{digest,awsv4,oauth1}/…`: endpoints that let a request in only with a valid HTTP
//! Digest answer, AWS Signature Version 4 or OAuth 1.0 signature made with the sandbox's
//! published test credentials. Postman collections that sign their requests are tried here,
//! under fhircheck and under Newman alike.

use axum::http::HeaderMap;
use serde_json::{json, Value};

use crate::sign;

/// The test credentials, as `GET /` lists them.
pub const DIGEST_USER: &str = "clinician";
pub const DIGEST_PASSWORD: &str = "digest-sandbox-password";
pub const DIGEST_REALM: &str = "fhircheck sandbox";
pub const AWS_ACCESS_KEY: &str = "AKIDFHIRCHECKSANDBOX";
pub const AWS_SECRET_KEY: &str = "sandbox/aws/secret/key/EXAMPLE";
pub const OAUTH1_CONSUMER: (&str, &str) = ("fhircheck-consumer", "consumer-sandbox-secret");
pub const OAUTH1_TOKEN: (&str, &str) = ("fhircheck-token", "token-sandbox-secret");
/// Hawk ids and keys: one per algorithm.
pub const HAWK: [(&str, &str, &str); 2] = [
    ("fhircheck-hawk", "hawk-sandbox-key", "sha256"),
    ("fhircheck-hawk-sha1", "hawk-sandbox-key", "sha1"),
];
pub const JWT_SECRET: &str = "jwt-sandbox-secret-of-32-bytes!!";
const OPAQUE: &str = "5ccc069c403ebaf9f0171e9517f40e41";

/// The credentials, for the sandbox's index.
pub fn credentials() -> Value {
    json!({
        "digest": {"username": DIGEST_USER, "password": DIGEST_PASSWORD, "realm": DIGEST_REALM},
        "awsv4": {"accessKey": AWS_ACCESS_KEY, "secretKey": AWS_SECRET_KEY},
        "oauth1": {
            "consumerKey": OAUTH1_CONSUMER.0, "consumerSecret": OAUTH1_CONSUMER.1,
            "token": OAUTH1_TOKEN.0, "tokenSecret": OAUTH1_TOKEN.1,
        },
        "hawk": HAWK.iter().map(|(id, key, alg)| json!({"authId": id, "authKey": key, "algorithm": alg})).collect::<Vec<_>>(),
        "jwt": {"algorithm": "HS256, HS384 or HS512", "secret": JWT_SECRET},
    })
}

/// A request as it arrived.
pub struct Received<'a> {
    pub method: &'a str,
    /// Path and query, as sent.
    pub target: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The sandbox's own base URL (`http://127.0.0.1:PORT`).
    pub base: &'a str,
}

impl Received<'_> {
    fn header(&self, k: &str) -> Option<&str> {
        self.headers.get(k).and_then(|v| v.to_str().ok())
    }
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
    fn query(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or("")
    }
}

/// The status, extra headers and body for a request to `/auth/{scheme}/…`.
pub fn check(
    scheme: &str,
    nonce: &str,
    r: &Received<'_>,
) -> (u16, Vec<(&'static str, String)>, Value) {
    let verdict = match scheme {
        "digest" => digest(nonce, r),
        "awsv4" => aws(r),
        "oauth1" => oauth1(r),
        "hawk" => hawk(r),
        "jwt" => jwt(r),
        other => {
            return (
                404,
                vec![],
                json!({"error": "not_found", "error_description": format!("no signed scheme `{other}`: digest, awsv4 or oauth1")}),
            )
        }
    };
    match verdict {
        Ok(who) => (
            200,
            vec![],
            json!({"authenticated": true, "scheme": scheme, "as": who, "method": r.method, "path": r.path()}),
        ),
        Err(why) => {
            let challenge = format!(
                "Digest realm=\"{DIGEST_REALM}\", qop=\"auth\", nonce=\"{nonce}\", opaque=\"{OPAQUE}\""
            );
            let headers = if scheme == "digest" {
                vec![("WWW-Authenticate", challenge)]
            } else {
                vec![]
            };
            (
                401,
                headers,
                json!({"authenticated": false, "scheme": scheme, "error": "invalid_signature", "error_description": why}),
            )
        }
    }
}

/// The `key="value"` and `key=value` fields of an `Authorization` value.
fn fields(value: &str) -> Vec<(String, String)> {
    let re = regex::Regex::new(r#"([A-Za-z0-9_-]+)=(?:"([^"]*)"|([^,\s]*))"#);
    let Ok(re) = re else { return vec![] };
    re.captures_iter(value)
        .map(|c| {
            let v = c.get(2).or_else(|| c.get(3)).map(|m| m.as_str());
            (c[1].to_string(), v.unwrap_or("").to_string())
        })
        .collect()
}

/// The value of field `k` among `fields`, or "".
fn field<'a>(fields: &'a [(String, String)], k: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == k)
        .map_or("", |(_, v)| v.as_str())
}

fn digest(nonce: &str, r: &Received<'_>) -> Result<String, String> {
    let value = r
        .header("authorization")
        .filter(|v| v.starts_with("Digest "))
        .ok_or("no Digest credentials")?;
    let f = fields(value);
    let get = |k: &str| field(&f, k);
    if get("username") != DIGEST_USER || get("realm") != DIGEST_REALM {
        return Err("unknown user or realm".into());
    }
    if get("nonce") != nonce {
        return Err("stale or unknown nonce".into());
    }
    if get("uri") != r.target {
        return Err(format!(
            "the uri `{}` is not the request target `{}`",
            get("uri"),
            r.target
        ));
    }
    let input = sign::DigestInput {
        username: DIGEST_USER,
        password: DIGEST_PASSWORD,
        algorithm: get("algorithm"),
        challenge: sign::Challenge {
            realm: DIGEST_REALM.into(),
            nonce: nonce.into(),
            qop: get("qop").into(),
            opaque: get("opaque").into(),
        },
        nc: get("nc"),
        cnonce: get("cnonce"),
        method: r.method,
        uri: r.target,
        body: r.body,
    };
    let expected = sign::digest_authorization(&input)?;
    if field(&fields(&expected), "response") != get("response") {
        return Err("the Digest response does not match the password".into());
    }
    Ok(DIGEST_USER.into())
}

fn aws(r: &Received<'_>) -> Result<String, String> {
    let query = sign::query_pairs(r.query());
    let from_query = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (credential, names, signature, datetime, payload) = match r
        .header("authorization")
        .and_then(|v| v.strip_prefix("AWS4-HMAC-SHA256 "))
    {
        Some(v) => {
            let f = fields(v);
            let get = |k: &str| field(&f, k).to_string();
            let payload = r
                .header("x-amz-content-sha256")
                .map(str::to_string)
                .unwrap_or_else(|| sign::sha256_hex(b""));
            let date = r.header("x-amz-date").unwrap_or("").to_string();
            (
                get("Credential"),
                get("SignedHeaders"),
                get("Signature"),
                date,
                payload,
            )
        }
        None => (
            from_query("X-Amz-Credential").ok_or("no AWS signature")?,
            from_query("X-Amz-SignedHeaders").unwrap_or_default(),
            from_query("X-Amz-Signature").unwrap_or_default(),
            from_query("X-Amz-Date").unwrap_or_default(),
            sign::sha256_hex(b""),
        ),
    };
    let parts: Vec<&str> = credential.split('/').collect();
    let [access, _date, region, service, "aws4_request"] = parts.as_slice() else {
        return Err(format!("a malformed credential scope `{credential}`"));
    };
    if *access != AWS_ACCESS_KEY {
        return Err(format!("unknown access key `{access}`"));
    }
    let signed: Vec<(String, String)> = names
        .split(';')
        .filter_map(|n| Some((n.to_string(), r.header(n)?.to_string())))
        .collect();
    let query_signed: Vec<&str> = r
        .query()
        .split('&')
        .filter(|p| !p.starts_with("X-Amz-Signature="))
        .collect();
    let key = sign::AwsKey {
        access_key: AWS_ACCESS_KEY,
        secret_key: AWS_SECRET_KEY,
        region,
        service,
    };
    let request = sign::AwsRequest {
        method: r.method,
        path: r.path(),
        query: &query_signed.join("&"),
        headers: &signed,
        payload_hash: &payload,
    };
    let (want, _) = sign::aws_signature(&request, &key, &datetime);
    if want != signature {
        return Err("the AWS signature does not match the secret key".into());
    }
    if r.header("x-amz-content-sha256").is_some() && payload != sign::sha256_hex(r.body) {
        return Err("X-Amz-Content-Sha256 is not the body's hash".into());
    }
    Ok(AWS_ACCESS_KEY.into())
}

fn oauth1(r: &Received<'_>) -> Result<String, String> {
    let mut params = r
        .header("authorization")
        .and_then(sign::oauth1_header_params)
        .unwrap_or_default();
    params.extend(sign::query_pairs(r.query()));
    let form = r
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if form {
        params.extend(sign::query_pairs(&String::from_utf8_lossy(r.body)));
    }
    let get = |k: &str| field(&params, k).to_string();
    if get("oauth_consumer_key") != OAUTH1_CONSUMER.0 {
        return Err("no OAuth 1.0 parameters with the sandbox's consumer key".into());
    }
    let token_secret = match get("oauth_token").as_str() {
        "" => "",
        t if t == OAUTH1_TOKEN.0 => OAUTH1_TOKEN.1,
        other => return Err(format!("unknown token `{other}`")),
    };
    let url = reqwest::Url::parse(&format!("{}{}", r.base, r.target))
        .map_err(|e| format!("the request target can not be read: {e}"))?;
    let want = sign::oauth1_signature(
        &get("oauth_signature_method"),
        r.method,
        &sign::oauth1_base_url(&url),
        &params,
        OAUTH1_CONSUMER.1,
        token_secret,
    )?;
    if want != get("oauth_signature") {
        return Err("the OAuth 1.0 signature does not match the secrets".into());
    }
    Ok(OAUTH1_CONSUMER.0.into())
}

fn hawk(r: &Received<'_>) -> Result<String, String> {
    let value = r
        .header("authorization")
        .and_then(|v| v.strip_prefix("Hawk "))
        .ok_or("no Hawk credentials")?;
    let f = fields(value);
    let get = |k: &str| field(&f, k);
    let (id, key, algorithm) = HAWK
        .iter()
        .find(|(id, _, _)| *id == get("id"))
        .ok_or_else(|| format!("unknown Hawk id `{}`", get("id")))?;
    let host = r.header("host").unwrap_or("");
    let (name, port) = match host.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().unwrap_or(80)),
        None => (host, 80),
    };
    if !get("hash").is_empty() {
        let ct = r.header("content-type").unwrap_or("");
        if sign::hawk_payload_hash(algorithm, ct, r.body).as_deref() != Some(get("hash")) {
            return Err("the Hawk payload hash is not the body's".into());
        }
    }
    let input = sign::HawkInput {
        id,
        key,
        algorithm,
        ts: get("ts"),
        nonce: get("nonce"),
        method: r.method,
        resource: r.target,
        host: name,
        port,
        hash: get("hash"),
        ext: get("ext"),
        app: get("app"),
        dlg: get("dlg"),
    };
    if sign::hawk_mac(&input)? != get("mac") {
        return Err("the Hawk MAC does not match the key".into());
    }
    Ok((*id).to_string())
}

fn jwt(r: &Received<'_>) -> Result<String, String> {
    let token = r
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        .or_else(|| {
            sign::query_pairs(r.query())
                .into_iter()
                .map(|(_, v)| v)
                .find(|v| v.matches('.').count() == 2)
        })
        .ok_or("no JWT in the Authorization header or the query")?;
    let header = jsonwebtoken::decode_header(&token).map_err(|e| format!("not a JWT: {e}"))?;
    use jsonwebtoken::Algorithm as A;
    if !matches!(header.alg, A::HS256 | A::HS384 | A::HS512) {
        return Err(format!(
            "the sandbox checks HS256/384/512 JWTs, not {:?}",
            header.alg
        ));
    }
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.validate_aud = false;
    let key = jsonwebtoken::DecodingKey::from_secret(JWT_SECRET.as_bytes());
    let data = jsonwebtoken::decode::<Value>(&token, &key, &v)
        .map_err(|e| format!("the JWT does not verify with the sandbox's secret: {e}"))?;
    Ok(data.claims["sub"].as_str().unwrap_or("").to_string())
}

//! What a Postman auth does to a request: headers and query parameters for bearer, basic and
//! API keys; signatures for HTTP Digest, AWS Signature Version 4 and OAuth 1.0 (`crate::sign`);
//! a token to hold or to fetch for OAuth 2.0. Auth types fhircheck can not send are named before
//! anything is sent (`unsupported`).

use serde_json::Value;

use super::model::Auth;
use super::runner::{rewrite_authority, Vars};
use crate::auth::{Credential, FormPost, FormValue, ResolvedProfile};
use crate::exec::Outgoing;
use crate::secret::{redactor, Secret};
use crate::sign;

/// What an item's auth did to the request.
pub(super) enum AuthResult {
    /// Applied as headers or query.
    Done,
    /// A client credentials token the core fetches, by key.
    Token(String, Box<ResolvedProfile>),
    /// An oauth2 auth that can give no token here, and why.
    Unusable(String),
    /// The auth can not sign this request (a bad key, JSON or algorithm): the request is an
    /// error, and why.
    Invalid(String),
}

/// What signing needs besides the request: the time, whether the body is a urlencoded form
/// (OAuth 1.0 signs its fields), and for Digest the challenge its server sent last.
pub(super) struct SignWith<'a> {
    pub now: i64,
    pub form_body: bool,
    pub digest: Option<&'a mut DigestState>,
}

/// What a Digest auth keeps between requests to one origin: the server's challenge and the
/// nonce count, as Postman keeps them on the auth.
#[derive(Debug, Clone, Default)]
pub(super) struct DigestState {
    pub challenge: sign::Challenge,
    pub nc: u32,
    pub cnonce: String,
}

/// The auth types fhircheck can send, and what a collection names that it can not.
pub const SUPPORTED: &str =
    "bearer, basic, apikey, digest, awsv4, hawk, jwt, oauth1 (HMAC-SHA1/256/512, PLAINTEXT), oauth2 (a token it holds, or client credentials) and noauth";

/// Why an auth can not be sent by fhircheck (named before anything is sent), or `None`.
pub fn unsupported(a: &Auth) -> Option<String> {
    match a.kind.as_str() {
        "bearer" | "basic" | "apikey" | "oauth2" | "noauth" | "digest" | "awsv4" | "hawk"
        | "jwt" => None,
        "oauth1" => {
            let method = a.get("signatureMethod").unwrap_or("HMAC-SHA1");
            method
                .to_ascii_uppercase()
                .starts_with("RSA")
                .then(|| format!("oauth1 with the {method} signature method"))
        }
        other => Some(other.to_string()),
    }
}

pub(super) fn apply_auth(
    a: &Auth,
    v: &Vars<'_>,
    out: &mut Outgoing,
    authority: Option<&str>,
    with: SignWith<'_>,
) -> AuthResult {
    let attr = |k: &str| a.get(k).map(|x| v.resolve(x)).unwrap_or_default();
    match a.kind.as_str() {
        "bearer" => {
            let t = attr("token");
            redactor().add(&t);
            out.headers
                .push(("Authorization".into(), format!("Bearer {t}")));
        }
        "basic" => {
            let pw = attr("password");
            redactor().add(&pw);
            let encoded = base64_encode(&format!("{}:{pw}", attr("username")));
            redactor().add(&encoded);
            out.headers
                .push(("Authorization".into(), format!("Basic {encoded}")));
        }
        "apikey" => {
            let value = attr("value");
            redactor().add(&value);
            let key = a
                .get("key")
                .map(|k| v.resolve(k))
                .unwrap_or_else(|| "x-api-key".into());
            if a.get("in") == Some("query") {
                let q = serde_urlencoded::to_string([(key, value)]).unwrap_or_default();
                out.url.push(if out.url.contains('?') { '&' } else { '?' });
                out.url.push_str(&q);
            } else {
                out.headers.push((key, value));
            }
        }
        "oauth2" => return oauth2(a, v, out, authority),
        "digest" => {
            if let Some(state) = with.digest {
                digest(a, v, out, state);
            }
        }
        "awsv4" => aws(a, v, out, with.now),
        "oauth1" => {
            if let Err(e) = oauth1(a, v, out, with.now, with.form_body) {
                return AuthResult::Invalid(format!("oauth1 auth: {e}"));
            }
        }
        "hawk" => {
            if let Err(e) = hawk(a, v, out, with.now) {
                return AuthResult::Invalid(format!("hawk auth: {e}"));
            }
        }
        "jwt" => {
            if let Err(e) = jwt(a, v, out) {
                return AuthResult::Invalid(format!("jwt auth: {e}"));
            }
        }
        _ => {}
    }
    AuthResult::Done
}

fn base64_encode(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// An `oauth2` auth: a given access token, or client credentials for the core to fetch.
fn oauth2(a: &Auth, v: &Vars<'_>, out: &mut Outgoing, authority: Option<&str>) -> AuthResult {
    let attr = |k: &str| a.get(k).map(|x| v.resolve(x)).filter(|x| !x.is_empty());
    // A token the auth holds is sent as it is, whatever the grant, as Postman and Newman do.
    if let Some(t) = attr("accessToken") {
        redactor().add(&t);
        let prefix = attr("headerPrefix").unwrap_or_else(|| "Bearer".into());
        if attr("addTokenTo").as_deref() == Some("queryParams") {
            let q = serde_urlencoded::to_string([("access_token", t.as_str())]).unwrap_or_default();
            out.url.push(if out.url.contains('?') { '&' } else { '?' });
            out.url.push_str(&q);
        } else {
            out.headers.push((
                "Authorization".into(),
                format!("{prefix} {t}").trim().to_string(),
            ));
        }
        return AuthResult::Done;
    }
    let grant = attr("grant_type").unwrap_or_else(|| "client_credentials".into());
    if grant != "client_credentials" {
        return AuthResult::Unusable(format!(
            "the OAuth 2.0 auth uses the `{grant}` grant, which needs a person to sign in (in a browser), and holds no access token; an unattended run can not sign in. Give it a token (set the auth's Access Token to {{{{accessToken}}}} and pass --env-var accessToken=…), or use the client credentials grant with a client id and secret"
        ));
    }
    let Some(url) = attr("accessTokenUrl").map(|u| rewrite_authority(u, authority)) else {
        return AuthResult::Unusable(
            "the OAuth 2.0 auth (client credentials) has no Access Token URL and no access token: set the token URL, or give the auth a token".into(),
        );
    };
    let client_id = attr("clientId").unwrap_or_default();
    let scope = attr("scope");
    let key = format!("{url}|{client_id}|{}", scope.clone().unwrap_or_default());
    let secret = Secret::new(attr("clientSecret").unwrap_or_default());
    let mut post = FormPost {
        endpoint: url,
        form: vec![(
            "grant_type".into(),
            FormValue::Plain("client_credentials".into()),
        )],
        basic: None,
    };
    if let Some(s) = &scope {
        post.form
            .push(("scope".into(), FormValue::Plain(s.clone())));
    }
    for (k, val) in token_request_params(a, v) {
        post.form.push((k, FormValue::Plain(val)));
    }
    if attr("client_authentication").as_deref() == Some("header") {
        post.basic = Some((client_id.clone(), secret));
    } else {
        post.form
            .push(("client_id".into(), FormValue::Plain(client_id.clone())));
        post.form
            .push(("client_secret".into(), FormValue::Secret(secret)));
    }
    let profile = ResolvedProfile {
        name: "oauth2".into(),
        label: "OAuth2 client credentials (Postman auth)".into(),
        credential: Credential::Oauth2(post),
        resource: None,
        client_id: Some(client_id),
        tenant: None,
    };
    AuthResult::Token(key, Box::new(profile))
}

/// Postman's `tokenRequestParams`: extra form fields of the token request.
fn token_request_params(a: &Auth, v: &Vars<'_>) -> Vec<(String, String)> {
    let Some(Value::Array(params)) = a
        .attrs
        .iter()
        .find(|(k, _)| k == "tokenRequestParams")
        .and_then(|(_, val)| serde_json::from_str::<Value>(val).ok())
    else {
        return vec![];
    };
    params
        .iter()
        .filter_map(|p| {
            let k = p.get("key").and_then(Value::as_str)?;
            let val = p.get("value").and_then(Value::as_str)?;
            Some((k.to_string(), v.resolve(val)))
        })
        .collect()
}

/// Removes headers by name, case-blind.
fn drop_headers(out: &mut Outgoing, names: &[&str]) {
    out.headers
        .retain(|(k, _)| !names.iter().any(|n| k.eq_ignore_ascii_case(n)));
}

/// Removes query parameters by name from the URL.
fn drop_query(url: &str, names: &[&str]) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| {
            let k = sign::decode(p.split('=').next().unwrap_or(""));
            !p.is_empty() && !names.iter().any(|n| k.eq_ignore_ascii_case(n))
        })
        .collect();
    let mut out = base.to_string();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

fn add_query(url: &mut String, pairs: &[(String, String)]) {
    for (k, val) in pairs {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("{}={}", sign::encode(k), sign::encode(val)));
    }
}

/// Letters and digits from the system's randomness, for nonces.
fn random_token(n: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut out = String::new();
    while out.len() < n {
        for b in uuid::Uuid::new_v4().as_bytes() {
            if out.len() < n {
                out.push(CHARS[*b as usize % CHARS.len()] as char);
            }
        }
    }
    out
}

fn truthy(s: &str) -> bool {
    matches!(s.trim(), "true" | "1")
}

/// The request target (path and query) as it goes out.
fn target(url: &reqwest::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// HTTP Digest: the first request goes without credentials unless the auth (or an earlier
/// answer from this origin) holds a challenge; a challenge in the answer sends it again, signed
/// (`digest_retry`).
fn digest(a: &Auth, v: &Vars<'_>, out: &mut Outgoing, state: &mut DigestState) {
    let attr = |k: &str| a.get(k).map(|x| v.resolve(x)).unwrap_or_default();
    let (realm, nonce) = (attr("realm"), attr("nonce"));
    if !realm.is_empty() && !nonce.is_empty() && state.challenge.nonce.is_empty() {
        state.challenge = sign::Challenge {
            realm,
            nonce,
            qop: attr("qop"),
            opaque: attr("opaque"),
        };
        state.cnonce = attr("clientNonce");
        state.nc = u32::from_str_radix(&attr("nonceCount"), 16).unwrap_or(0);
    }
    if state.challenge.nonce.is_empty() {
        return;
    }
    state.nc = state.nc.saturating_add(1);
    if state.cnonce.is_empty() {
        state.cnonce = random_token(8);
    }
    sign_digest(a, v, out, state);
}

/// Puts the Digest `Authorization` for the state's challenge on the request.
pub(super) fn sign_digest(a: &Auth, v: &Vars<'_>, out: &mut Outgoing, state: &DigestState) {
    let attr = |k: &str| a.get(k).map(|x| v.resolve(x)).unwrap_or_default();
    let Ok(url) = reqwest::Url::parse(&out.url) else {
        return;
    };
    let (username, password, algorithm) = (attr("username"), attr("password"), attr("algorithm"));
    redactor().add(&password);
    let nc = format!("{:08x}", state.nc.max(1));
    let input = sign::DigestInput {
        username: &username,
        password: &password,
        algorithm: &algorithm,
        challenge: state.challenge.clone(),
        nc: &nc,
        cnonce: &state.cnonce,
        method: out.method.as_str(),
        uri: &target(&url),
        body: out.body.as_deref().unwrap_or(b""),
    };
    if let Ok(h) = sign::digest_authorization(&input) {
        drop_headers(out, &["authorization"]);
        out.headers.push(("Authorization".into(), h));
    }
}

/// Whether a Digest auth should send its request again for this answer: a 401 or 403 with a
/// Digest challenge it has not answered yet. The new state when it should.
pub(super) fn digest_retry(
    a: &Auth,
    v: &Vars<'_>,
    state: &DigestState,
    answer: &crate::http::Answer,
) -> Option<DigestState> {
    if a.kind != "digest"
        || !matches!(answer.status, 401 | 403)
        || a.get("disableRetryRequest").map(|x| truthy(&v.resolve(x))) == Some(true)
    {
        return None;
    }
    let challenge = answer
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
        .find_map(|(_, val)| sign::digest_challenge(val))?;
    if challenge == state.challenge {
        return None;
    }
    let with_qop = !challenge.qop.is_empty() || a.get("qop").is_some_and(|q| !q.is_empty());
    Some(DigestState {
        challenge,
        nc: 1,
        cnonce: if with_qop {
            random_token(8)
        } else {
            String::new()
        },
    })
}

/// AWS Signature Version 4, in headers or (`addAuthDataToQuery`) in the query.
fn aws(a: &Auth, v: &Vars<'_>, out: &mut Outgoing, now: i64) {
    let attr = |k: &str| a.get(k).map(|x| v.resolve(x)).unwrap_or_default();
    let (access, secret, session) = (attr("accessKey"), attr("secretKey"), attr("sessionToken"));
    redactor().add(&secret);
    redactor().add(&session);
    let service = Some(attr("service")).filter(|s| !s.is_empty());
    let region = Some(attr("region")).filter(|s| !s.is_empty());
    let key = sign::AwsKey {
        access_key: &access,
        secret_key: &secret,
        region: region.as_deref().unwrap_or("us-east-1"),
        service: service.as_deref().unwrap_or("execute-api"),
    };
    let in_query = truthy(&attr("addAuthDataToQuery"));
    drop_headers(
        out,
        &[
            "authorization",
            "x-amz-date",
            "x-amz-security-token",
            "x-amz-content-sha256",
        ],
    );
    out.url = drop_query(
        &out.url,
        &[
            "X-Amz-Security-Token",
            "X-Amz-Date",
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-SignedHeaders",
            "X-Amz-Signature",
        ],
    );
    let Ok(url) = reqwest::Url::parse(&out.url) else {
        return;
    };
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_string(),
    };
    let datetime = crate::clock::iso8601(now).replace(['-', ':'], "");
    drop_headers(out, &["host"]);
    out.headers.push(("Host".into(), host));
    if in_query {
        aws_in_query(out, &key, &session, &datetime);
    } else {
        aws_in_headers(out, &key, &session, &datetime);
    }
}

/// The signature of the request as it stands (masked from now on), with the signed header names.
fn aws_sign(
    out: &Outgoing,
    key: &sign::AwsKey<'_>,
    datetime: &str,
    payload: &str,
) -> Option<(String, String)> {
    let url = reqwest::Url::parse(&out.url).ok()?;
    let request = sign::AwsRequest {
        method: out.method.as_str(),
        path: url.path(),
        query: url.query().unwrap_or(""),
        headers: &out.headers,
        payload_hash: payload,
    };
    let (signature, names) = sign::aws_signature(&request, key, datetime);
    redactor().add(&signature);
    Some((signature, names))
}

fn aws_in_headers(out: &mut Outgoing, key: &sign::AwsKey<'_>, session: &str, datetime: &str) {
    let body = out.body.as_deref().unwrap_or(b"");
    if !body.is_empty() || key.service == "s3" {
        let hash = sign::sha256_hex(body);
        out.headers.push(("X-Amz-Content-Sha256".into(), hash));
    }
    if !session.is_empty() {
        out.headers
            .push(("X-Amz-Security-Token".into(), session.to_string()));
    }
    out.headers
        .push(("X-Amz-Date".into(), datetime.to_string()));
    let payload = out
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-content-sha256"))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| sign::sha256_hex(b""));
    let Some((signature, names)) = aws_sign(out, key, datetime, &payload) else {
        return;
    };
    let value = format!(
        "AWS4-HMAC-SHA256 Credential={}, SignedHeaders={names}, Signature={signature}",
        sign::aws_credential(key, datetime)
    );
    out.headers.push(("Authorization".into(), value));
}

fn aws_in_query(out: &mut Outgoing, key: &sign::AwsKey<'_>, session: &str, datetime: &str) {
    let names = sign::aws_signed_headers(&out.headers);
    let mut params = Vec::new();
    if !session.is_empty() {
        params.push(("X-Amz-Security-Token".to_string(), session.to_string()));
    }
    if key.service == "s3" {
        params.push(("X-Amz-Expires".to_string(), "86400".to_string()));
    }
    params.push(("X-Amz-Date".to_string(), datetime.to_string()));
    params.push((
        "X-Amz-Algorithm".to_string(),
        "AWS4-HMAC-SHA256".to_string(),
    ));
    params.push((
        "X-Amz-Credential".to_string(),
        sign::aws_credential(key, datetime),
    ));
    params.push(("X-Amz-SignedHeaders".to_string(), names));
    add_query(&mut out.url, &params);
    let payload = if key.service == "s3" {
        "UNSIGNED-PAYLOAD".to_string()
    } else {
        sign::sha256_hex(b"")
    };
    let Some((signature, _)) = aws_sign(out, key, datetime, &payload) else {
        return;
    };
    add_query(&mut out.url, &[("X-Amz-Signature".into(), signature)]);
}

const OAUTH1_PARAMS: &[&str] = &[
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_version",
    "oauth_signature",
    "oauth_callback",
    "oauth_verifier",
    "oauth_body_hash",
];

/// OAuth 1.0a: the `oauth_*` parameters signed and put in the `Authorization` header
/// (`addParamsToHeader`), a POST or PUT form body, or the query, as Postman places them.
fn oauth1(
    a: &Auth,
    v: &Vars<'_>,
    out: &mut Outgoing,
    now: i64,
    form_body: bool,
) -> Result<(), String> {
    let attr = |k: &str| a.get(k).map(|x| v.resolve(x)).unwrap_or_default();
    let method_name = Some(attr("signatureMethod"))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "HMAC-SHA1".into());
    let (consumer_key, consumer_secret) = (attr("consumerKey"), attr("consumerSecret"));
    let token_secret = attr("tokenSecret");
    redactor().add(&consumer_secret);
    redactor().add(&token_secret);
    if consumer_key.is_empty() || consumer_secret.is_empty() {
        return Ok(());
    }
    drop_headers(out, &["authorization"]);
    out.url = drop_query(&out.url, OAUTH1_PARAMS);
    let body_pairs = if form_body {
        let body = String::from_utf8_lossy(out.body.as_deref().unwrap_or(b"")).into_owned();
        let kept: Vec<(String, String)> = sign::query_pairs(&body)
            .into_iter()
            .filter(|(k, _)| !OAUTH1_PARAMS.contains(&k.as_str()))
            .collect();
        out.body = Some(
            serde_urlencoded::to_string(&kept)
                .unwrap_or_default()
                .into_bytes(),
        );
        kept
    } else {
        vec![]
    };
    let keep_empty = truthy(&attr("addEmptyParamsToSign"));
    let or = |k: &str, d: String| Some(attr(k)).filter(|x| !x.trim().is_empty()).unwrap_or(d);
    let mut params: Vec<(String, String)> = vec![
        ("oauth_consumer_key".into(), consumer_key),
        ("oauth_token".into(), attr("token")),
        ("oauth_signature_method".into(), method_name.clone()),
        ("oauth_timestamp".into(), or("timestamp", now.to_string())),
        ("oauth_nonce".into(), or("nonce", random_token(11))),
        ("oauth_version".into(), or("version", "1.0".into())),
    ];
    if truthy(&attr("includeBodyHash")) && !form_body {
        let body = out.body.as_deref().unwrap_or(b"");
        if let Some(h) = sign::oauth1_body_hash(&method_name, body) {
            params.push(("oauth_body_hash".into(), h));
        }
    }
    params.push(("oauth_callback".into(), attr("callback")));
    params.push(("oauth_verifier".into(), attr("verifier")));
    params.retain(|(k, val)| match k.as_str() {
        "oauth_callback" | "oauth_verifier" | "oauth_body_hash" => !val.is_empty(),
        _ => keep_empty || !val.trim().is_empty(),
    });
    let url =
        reqwest::Url::parse(&out.url).map_err(|e| format!("the URL can not be signed: {e}"))?;
    let mut all = params.clone();
    all.extend(sign::query_pairs(url.query().unwrap_or("")));
    all.extend(body_pairs);
    let signature = sign::oauth1_signature(
        &method_name,
        out.method.as_str(),
        &sign::oauth1_base_url(&url),
        &all,
        &consumer_secret,
        &token_secret,
    )?;
    redactor().add(&signature);
    redactor().add(&sign::encode(&signature));
    params.push(("oauth_signature".into(), signature));
    if truthy(&attr("addParamsToHeader")) {
        let header = sign::oauth1_header(&attr("realm"), &params);
        out.headers.push(("Authorization".into(), header));
    } else if form_body && matches!(out.method.as_str(), "POST" | "PUT") {
        let mut body = String::from_utf8_lossy(out.body.as_deref().unwrap_or(b"")).into_owned();
        for (k, val) in &params {
            if !body.is_empty() {
                body.push('&');
            }
            body.push_str(&format!("{}={}", sign::encode(k), sign::encode(val)));
        }
        out.body = Some(body.into_bytes());
    } else {
        add_query(&mut out.url, &params);
    }
    Ok(())
}

/// Hawk: a MAC over the method, target, host, port and (with `includePayloadHash`) the body.
fn hawk(a: &Auth, v: &Vars<'_>, out: &mut Outgoing, now: i64) -> Result<(), String> {
    let attr = |k: &str| a.get(k).map(|x| v.resolve(x)).unwrap_or_default();
    let (id, key) = (attr("authId"), attr("authKey"));
    redactor().add(&key);
    if id.is_empty() || key.is_empty() {
        return Ok(());
    }
    let algorithm = attr("algorithm");
    drop_headers(out, &["authorization"]);
    let url =
        reqwest::Url::parse(&out.url).map_err(|e| format!("the URL can not be signed: {e}"))?;
    let content_type = out
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let body = out.body.as_deref().unwrap_or(b"");
    let hash = if truthy(&attr("includePayloadHash")) && !body.is_empty() {
        sign::hawk_payload_hash(&algorithm, &content_type, body).unwrap_or_default()
    } else {
        String::new()
    };
    let ts = Some(attr("timestamp"))
        .filter(|t| t.parse::<i64>().is_ok_and(|n| n != 0))
        .unwrap_or_else(|| now.to_string());
    let nonce = Some(attr("nonce"))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| random_token(6));
    let (ext, app, dlg) = (attr("extraData"), attr("app"), attr("delegation"));
    let input = sign::HawkInput {
        id: &id,
        key: &key,
        algorithm: &algorithm,
        ts: &ts,
        nonce: &nonce,
        method: out.method.as_str(),
        resource: &target(&url),
        host: url.host_str().unwrap_or(""),
        port: url.port_or_known_default().unwrap_or(80),
        hash: &hash,
        ext: &ext,
        app: &app,
        dlg: &dlg,
    };
    let header = sign::hawk_header(&input)?;
    if let Some(mac) = header
        .split("mac=\"")
        .nth(1)
        .and_then(|m| m.split('"').next())
    {
        redactor().add(mac);
    }
    out.headers.push(("Authorization".into(), header));
    Ok(())
}

/// JWT Bearer: a token signed here from the auth's header, payload and secret or private key,
/// sent as `Authorization: Bearer …` or as a query parameter.
fn jwt(a: &Auth, v: &Vars<'_>, out: &mut Outgoing) -> Result<(), String> {
    use base64::Engine as _;
    let attr = |k: &str| a.get(k).map(|x| v.resolve(x)).unwrap_or_default();
    let algorithm = attr("algorithm");
    let hs = algorithm.starts_with("HS");
    let (secret, private_key) = (attr("secret"), attr("privateKey"));
    redactor().add(&secret);
    redactor().add(&private_key);
    let key = if hs {
        if secret.is_empty() {
            return Err("no secret: give the auth's secret".into());
        }
        if truthy(&attr("isSecretBase64Encoded")) {
            base64::engine::general_purpose::STANDARD
                .decode(secret.trim())
                .map_err(|e| format!("the secret is marked base64 but is not: {e}"))?
        } else {
            secret.into_bytes()
        }
    } else {
        if private_key.trim().is_empty() {
            return Err("no private key: give the auth's private key (PEM)".into());
        }
        private_key.into_bytes()
    };
    let json = |k: &str, empty: Value| -> Result<Value, String> {
        let text = attr(k);
        if text.trim().is_empty() {
            return Ok(empty);
        }
        serde_json::from_str(&text).map_err(|e| format!("the {k} is not JSON: {e}"))
    };
    let header = match json("header", Value::Object(Default::default()))? {
        Value::Object(m) => m,
        _ => return Err("the header is not a JSON object".into()),
    };
    let payload = json("payload", Value::Object(Default::default()))?;
    let token = sign::jwt(&algorithm, &header, &payload, &key)?;
    redactor().add(&token);
    if attr("addTokenTo") == "queryParam" {
        let name = Some(attr("queryParamKey"))
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| "token".into());
        out.url = drop_query(&out.url, &[name.as_str()]);
        add_query(&mut out.url, &[(name, token)]);
    } else {
        drop_headers(out, &["authorization"]);
        let prefix = a.get("headerPrefix").map(|x| v.resolve(x));
        let prefix = prefix.unwrap_or_else(|| "Bearer".into());
        let value = if prefix.is_empty() {
            token
        } else {
            format!("{prefix} {token}")
        };
        out.headers.push(("Authorization".into(), value));
    }
    Ok(())
}

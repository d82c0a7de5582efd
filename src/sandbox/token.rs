//! The Entra-ID-shaped token service: v1 and v2 client credentials, discovery, JWKS, and
//! errors shaped as Entra shapes them.

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::registrations::{Application, Tenant};
use super::SandboxState;
use crate::clock;

pub const KEY_ID: &str = "fhircheck-sandbox-key-1";
const KEY_PEM: &[u8] = include_bytes!("signing-key.pem");
/// The modulus of the key above, base64url, as its JWKS publishes it.
pub const KEY_N: &str = include_str!("jwks-n.txt");
pub const KEY_E: &str = "AQAB";
pub const LIFETIME: i64 = 3599;

/// An Entra-shaped error answer.
pub struct EntraError {
    pub code: u64,
    pub error: &'static str,
    pub message: String,
}

fn err(code: u64, error: &'static str, message: impl Into<String>) -> EntraError {
    EntraError {
        code,
        error,
        message: message.into(),
    }
}

impl EntraError {
    /// The JSON body, with fresh trace and correlation ids.
    pub fn body(&self, now: i64, correlation: &str) -> Value {
        let trace = uuid::Uuid::new_v4().to_string();
        let ts = clock::iso8601(now).replace('T', " ");
        json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {ts}",
                self.code, self.message
            ),
            "error_codes": [self.code],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        })
    }
}

pub fn find_tenant<'a>(st: &'a SandboxState, segment: &str) -> Option<&'a Tenant> {
    st.regs.tenants.iter().find(|t| {
        t.id.eq_ignore_ascii_case(segment)
            || t.domain
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(segment))
    })
}

fn find_app<'a>(st: &'a SandboxState, client_id: &str, tenant: &str) -> Option<&'a Application> {
    st.regs.applications.iter().find(|a| {
        a.client_id.eq_ignore_ascii_case(client_id) && a.tenants.iter().any(|t| t == tenant)
    })
}

/// The resource app an identifier names in `tenant`: by App ID URI (a trailing slash is
/// tolerated, as Entra does) or by client id.
fn find_resource<'a>(st: &'a SandboxState, id: &str, tenant: &str) -> Option<&'a Application> {
    let norm = id.trim_end_matches('/');
    st.regs.applications.iter().find(|a| {
        a.tenants.iter().any(|t| t == tenant)
            && (a.client_id.eq_ignore_ascii_case(norm)
                || a.app_id_uris
                    .iter()
                    .any(|u| u.trim_end_matches('/').eq_ignore_ascii_case(norm)))
    })
}

fn basic_credentials(auth: Option<&str>) -> Option<(String, String)> {
    let b64 = auth?.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let dec = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|v| v.into_iter().next().map(|(_, v)| v))
            .unwrap_or_else(|| s.to_string())
    };
    Some((dec(id), dec(secret)))
}

/// A form field's value.
fn field<'a>(form: &'a [(String, String)], k: &str) -> Option<&'a str> {
    form.iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.as_str())
}

/// The resource a token request asks for: v1 `resource=`, v2 `scope=<resource>/.default`.
fn requested_resource(form: &[(String, String)], v2: bool) -> Result<String, EntraError> {
    let get = |k: &str| field(form, k);
    let missing = |p: &str| {
        err(
            900144,
            "invalid_request",
            format!("The request body must contain the following parameter: '{p}'."),
        )
    };
    if v2 {
        if get("resource").is_some() {
            return Err(err(
                901002,
                "invalid_request",
                "The 'resource' request parameter is not supported.",
            ));
        }
        let scope = get("scope").ok_or_else(|| missing("scope"))?;
        let scopes: Vec<&str> = scope.split_whitespace().collect();
        if scopes.is_empty() {
            return Err(err(
                70011,
                "invalid_scope",
                "The provided request must include a 'scope' input parameter.",
            ));
        }
        if scopes.len() > 1 {
            return Err(err(700022, "invalid_scope", format!("The provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid.")));
        }
        let Some(res) = scopes[0].strip_suffix("/.default") else {
            return Err(err(1002012, "invalid_scope", format!("The provided value for scope {} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scopes[0])));
        };
        Ok(res.to_string())
    } else {
        Ok(get("resource")
            .ok_or_else(|| missing("resource"))?
            .to_string())
    }
}

/// Checks the client's secret or certificate assertion; true for a certificate.
#[allow(clippy::too_many_arguments)]
fn check_credential(
    st: &SandboxState,
    tenant: &Tenant,
    tenant_segment: &str,
    app: &Application,
    v2: bool,
    form: &[(String, String)],
    basic: Option<&(String, String)>,
    now: i64,
) -> Result<bool, EntraError> {
    let get = |k: &str| field(form, k);
    let secret = get("client_secret")
        .map(str::to_string)
        .or_else(|| basic.map(|(_, s)| s.clone()));
    let mut certificate = false;
    match (secret, get("client_assertion")) {
        (Some(s), _) => {
            let known = app.secrets.iter().find(|c| c.value == s);
            match known {
                None => {
                    return Err(err(7000215, "invalid_client", format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.", app.client_id)));
                }
                Some(c) if clock::parse_rfc3339(&c.expires).is_some_and(|e| e <= now) => {
                    return Err(err(7000222, "invalid_client", format!("The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", app.client_id)));
                }
                Some(_) => {}
            }
        }
        (None, Some(assertion)) if is_external(assertion, &app.client_id) => {
            verify_federated(app, get("client_assertion_type"), assertion, now)?;
            certificate = true;
        }
        (None, Some(assertion)) => {
            let path = if v2 {
                "oauth2/v2.0/token"
            } else {
                "oauth2/token"
            };
            let token_urls = [
                format!("{}/{tenant_segment}/{path}", st.base),
                format!("{}/{}/{path}", st.base, tenant.id),
            ];
            verify_assertion(
                st,
                app,
                get("client_assertion_type"),
                assertion,
                &token_urls,
                now,
            )?;
            certificate = true;
        }
        (None, None) => {
            return Err(err(7000218, "invalid_client", "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."));
        }
    }
    Ok(certificate)
}

/// Handles `POST /{tenant}/oauth2/token` (v1) and `/{tenant}/oauth2/v2.0/token` (v2).
pub fn issue(
    st: &SandboxState,
    tenant_segment: &str,
    v2: bool,
    authorization: Option<&str>,
    body: &[u8],
) -> Result<Value, EntraError> {
    let tenant = find_tenant(st, tenant_segment).ok_or_else(|| {
        err(90002, "invalid_request", format!("Tenant '{tenant_segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."))
    })?;
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let get = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let basic = basic_credentials(authorization);
    let missing = |p: &str| {
        err(
            900144,
            "invalid_request",
            format!("The request body must contain the following parameter: '{p}'."),
        )
    };
    let grant = get("grant_type").ok_or_else(|| missing("grant_type"))?;
    if grant != "client_credentials" {
        return Err(err(
            70003,
            "unsupported_grant_type",
            format!("The app requested an unsupported grant type '{grant}'."),
        ));
    }
    let client_id = get("client_id")
        .map(str::to_string)
        .or_else(|| basic.as_ref().map(|(id, _)| id.clone()))
        .ok_or_else(|| missing("client_id"))?;
    let app = find_app(st, &client_id, &tenant.id).ok_or_else(|| {
        err(700016, "unauthorized_client", format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", tenant.domain.as_deref().unwrap_or(&tenant.id)))
    })?;
    let resource = requested_resource(&form, v2)?;
    let now = st.clock.now();
    let certificate = check_credential(
        st,
        tenant,
        tenant_segment,
        app,
        v2,
        &form,
        basic.as_ref(),
        now,
    )?;
    let res_app = find_resource(st, &resource, &tenant.id).ok_or_else(|| {
        err(500011, "invalid_resource", format!("The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", tenant.domain.as_deref().unwrap_or(&tenant.id)))
    })?;
    let issued = now + st.regs.token_clock_offset_seconds;
    let token = mint(
        st,
        &tenant.id,
        &app.client_id,
        &app.object_id,
        res_app,
        &resource,
        if certificate { "2" } else { "1" },
        issued,
    );
    Ok(if v2 {
        json!({"token_type": "Bearer", "expires_in": LIFETIME, "ext_expires_in": LIFETIME, "access_token": token})
    } else {
        json!({
            "token_type": "Bearer",
            "expires_in": LIFETIME.to_string(),
            "ext_expires_in": LIFETIME.to_string(),
            "expires_on": (issued + LIFETIME).to_string(),
            "not_before": issued.to_string(),
            "resource": resource,
            "access_token": token,
        })
    })
}

/// Checks a certificate client assertion as Entra does: the certificate by thumbprint among the
/// app's registered ones, the signature with its key, `aud` the token URL, `iss` = `sub` = the
/// client id, the validity window, and a `jti` not seen before.
fn verify_assertion(
    st: &SandboxState,
    app: &Application,
    assertion_type: Option<&str>,
    assertion: &str,
    token_urls: &[String],
    now: i64,
) -> Result<(), EntraError> {
    assertion_type_is_jwt(assertion_type)?;
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| {
        err(
            50012,
            "invalid_client",
            "The client assertion is not a valid JWT.",
        )
    })?;
    let (thumb, sha1) = match (&header.x5t_s256, &header.x5t) {
        (Some(t), _) => (t.clone(), false),
        (None, Some(t)) => (t.clone(), true),
        (None, None) => return Err(err(700027, "invalid_client", "Client assertion failed signature validation: the assertion names no certificate (x5t#S256 or x5t).")),
    };
    let cert = app
        .certificates
        .iter()
        .find(|c| {
            crate::auth::pem_blocks(&c.pem)
                .iter()
                .any(|(t, der)| t == "CERTIFICATE" && crate::auth::thumbprint(der, sha1) == thumb)
        })
        .ok_or_else(|| err(700027, "invalid_client", format!("Client assertion failed signature validation. Reason - The key was not found., Thumbprint of key used by client: '{thumb}'. Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'.", app.client_id)))?;
    if !matches!(
        header.alg,
        jsonwebtoken::Algorithm::RS256 | jsonwebtoken::Algorithm::PS256
    ) {
        return Err(err(
            50012,
            "invalid_client",
            format!(
                "The client assertion algorithm {:?} is not supported; use RS256 or PS256.",
                header.alg
            ),
        ));
    }
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(cert.pem.as_bytes())
        .map_err(|_| err(700027, "invalid_client", "Client assertion failed signature validation: the registered certificate can not be read."))?;
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Value>(assertion, &key, &v)
        .map_err(|_| err(700027, "invalid_client", "Client assertion failed signature validation. Reason - The signature does not match the registered certificate."))?;
    let c = data.claims;
    let text = |k: &str| claim_text(&c, k);
    if text("iss") != app.client_id || text("sub") != app.client_id {
        return Err(err(
            50012,
            "invalid_client",
            format!(
                "The client assertion's iss and sub must both be the client id '{}'.",
                app.client_id
            ),
        ));
    }
    if !token_urls.iter().any(|u| *u == text("aud")) {
        return Err(err(
            50012,
            "invalid_client",
            format!(
                "The client assertion's audience '{}' is not this token endpoint '{}'.",
                text("aud"),
                token_urls[0]
            ),
        ));
    }
    within_time(&c, now)?;
    let jti = text("jti");
    if jti.is_empty() {
        return Err(err(
            50012,
            "invalid_client",
            "The client assertion has no jti claim.",
        ));
    }
    let mut seen = st.seen_jti.lock().unwrap_or_else(|e| e.into_inner());
    if !seen.insert(jti.clone()) {
        return Err(err(50012, "invalid_client", format!("The client assertion with jti '{jti}' was already used: each assertion may be used once.")));
    }
    Ok(())
}

/// A client assertion whose issuer is not the client itself: an external token (workload
/// identity federation), not one the client signed with its certificate.
fn is_external(assertion: &str, client_id: &str) -> bool {
    crate::auth::Claims::decode(assertion)
        .and_then(|c| c.str("iss").map(|i| i != client_id))
        .unwrap_or(false)
}

/// Checks an external token as Entra does for workload identity federation: signed by the
/// issuer's keys (here: the sandbox's own, for its two issuers), and matching one federated
/// credential of the app on issuer, audience and subject, within its time.
fn verify_federated(
    app: &Application,
    assertion_type: Option<&str>,
    assertion: &str,
    now: i64,
) -> Result<(), EntraError> {
    assertion_type_is_jwt(assertion_type)?;
    let key =
        jsonwebtoken::DecodingKey::from_rsa_components(KEY_N.trim(), KEY_E).map_err(|_| {
            err(
                50012,
                "invalid_client",
                "The issuer's signing keys can not be read.",
            )
        })?;
    let mut v = jsonwebtoken::Validation::new(Algorithm::RS256);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let c = jsonwebtoken::decode::<Value>(assertion, &key, &v)
        .map_err(|_| err(50012, "invalid_client", "The presented assertion's signature could not be verified with its issuer's OIDC discovery keys."))?
        .claims;
    let text = |k: &str| claim_text(&c, k);
    let (iss, sub) = (text("iss"), text("sub"));
    let auds: Vec<String> = match c.get("aud") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(a)) => vec![a.clone()],
        _ => vec![],
    };
    if app.federated_credentials.is_empty() {
        return Err(err(
            70025,
            "invalid_client",
            format!(
                "The client '{}'({}) has no configured federated identity credentials.",
                app.client_id, app.display_name
            ),
        ));
    }
    let hint = "Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation";
    let by_issuer: Vec<_> = app
        .federated_credentials
        .iter()
        .filter(|f| f.issuer == iss)
        .collect();
    if by_issuer.is_empty() {
        return Err(err(700211, "invalid_client", format!("No matching federated identity record found for presented assertion issuer '{iss}'. {hint}")));
    }
    let by_audience: Vec<_> = by_issuer
        .into_iter()
        .filter(|f| f.audiences.iter().any(|a| auds.contains(a)))
        .collect();
    if by_audience.is_empty() {
        return Err(err(700212, "invalid_client", format!("No matching federated identity record found for presented assertion audience '{}'. {hint}", auds.join(", "))));
    }
    if !by_audience.iter().any(|f| f.subject == sub) {
        return Err(err(700213, "invalid_client", format!("No matching federated identity record found for presented assertion subject '{sub}'. {hint}")));
    }
    within_time(&c, now)
}

/// `client_assertion_type` must be the JWT bearer type, as Entra requires.
fn assertion_type_is_jwt(t: Option<&str>) -> Result<(), EntraError> {
    if t == Some(crate::auth::JWT_BEARER) {
        return Ok(());
    }
    Err(err(
        50012,
        "invalid_client",
        format!("client_assertion_type must be {}.", crate::auth::JWT_BEARER),
    ))
}

/// An assertion's `exp` and `nbf` against `now`, with Entra's five minutes of skew (AADSTS700024).
fn within_time(c: &Value, now: i64) -> Result<(), EntraError> {
    let time = |k: &str| c.get(k).and_then(Value::as_i64);
    let skew = 300;
    let outside = |what: &str, t: i64| {
        Err(err(700024, "invalid_client", format!("Client assertion is not within its valid time range. Current time: {}, assertion valid {what}: {}.", clock::iso8601(now), clock::iso8601(t))))
    };
    match (time("exp"), time("nbf")) {
        (Some(exp), _) if exp + skew < now => outside("to", exp),
        (_, Some(nbf)) if nbf - skew > now => outside("from", nbf),
        (None, _) => Err(err(
            50012,
            "invalid_client",
            "The client assertion has no exp claim.",
        )),
        _ => Ok(()),
    }
}

/// An external token from one of the sandbox's issuers: `github` (GitHub Actions' OIDC
/// endpoint, which wants its request token as bearer) or `aks` (a Kubernetes service-account
/// token, as projected into a pod). The query may set `issuer`, `audience`, `subject` and `lifetime`
/// (seconds, negative for an expired token) to reproduce a mismatch.
pub fn external_token(
    st: &SandboxState,
    issuer: &str,
    query: &[(String, String)],
    authorization: Option<&str>,
) -> Result<String, (u16, Value)> {
    let q = |k: &str| {
        query
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let (subject, audience, lifetime) = match issuer {
        "github" => {
            let bearer = authorization
                .and_then(|h| h.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, t)| t.trim());
            if bearer != Some(super::registrations::GITHUB_REQUEST_TOKEN) {
                return Err((
                    401,
                    json!({"message": "Bad credentials: send ACTIONS_ID_TOKEN_REQUEST_TOKEN as a bearer token"}),
                ));
            }
            (
                super::registrations::GITHUB_SUBJECT,
                "https://github.com/contoso",
                300,
            )
        }
        _ => (
            super::registrations::AKS_SUBJECT,
            crate::auth::EXCHANGE_AUDIENCE,
            3600,
        ),
    };
    let lifetime: i64 = q("lifetime")
        .and_then(|l| l.parse().ok())
        .unwrap_or(lifetime);
    let now = st.clock.now();
    let (iat, exp) = if lifetime < 0 {
        (now + 2 * lifetime, now + lifetime)
    } else {
        (now, now + lifetime)
    };
    Ok(sign(&json!({
        "iss": q("issuer").map_or_else(|| format!("{}/{issuer}", st.base), str::to_string),
        "sub": q("subject").unwrap_or(subject),
        "aud": q("audience").unwrap_or(audience),
        "iat": iat,
        "nbf": iat,
        "exp": exp,
        "jti": uuid::Uuid::new_v4().to_string(),
    })))
}

/// Signs an access token for `client_id` (service principal `object_id`) to `resource`, in the
/// shape the resource app accepts (v1 or v2). `acr`: "0" managed identity, "1" secret, "2" certificate.
#[allow(clippy::too_many_arguments)]
fn mint(
    st: &SandboxState,
    tenant: &str,
    client_id: &str,
    object_id: &str,
    res_app: &Application,
    resource: &str,
    acr: &str,
    issued: i64,
) -> String {
    let token_v2 = res_app.access_token_version == 2;
    let aud = if token_v2 {
        res_app.client_id.clone()
    } else {
        resource.to_string()
    };
    let mut claims = json!({
        "aud": aud,
        "iss": issuer(st, tenant, token_v2),
        "iat": issued,
        "nbf": issued,
        "exp": issued + LIFETIME,
        "oid": object_id,
        "sub": object_id,
        "tid": tenant,
        "uti": uuid::Uuid::new_v4().simple().to_string(),
        "ver": if token_v2 { "2.0" } else { "1.0" },
    });
    if token_v2 {
        claims["azp"] = json!(client_id);
        claims["azpacr"] = json!(acr);
    } else {
        claims["appid"] = json!(client_id);
        claims["appidacr"] = json!(acr);
        claims["idp"] = json!(format!("https://sts.windows.net/{tenant}/"));
    }
    sign(&claims)
}

type SmartError = (u16, Value);

/// Checks a SMART client's assertion: a registered client, RS384/ES384 signed by a registered
/// key, iss = sub, aud the token URL, exp at most 5 minutes ahead, a jti used once.
fn verify_smart_assertion<'a>(
    st: &'a SandboxState,
    assertion: &str,
) -> Result<(String, &'a super::registrations::SmartClient, i64), SmartError> {
    let client_err = |d: &str| {
        (
            401,
            json!({"error": "invalid_client", "error_description": d}),
        )
    };
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| client_err("the client assertion is not a JWT"))?;
    let unverified = crate::auth::Claims::decode(assertion)
        .ok_or_else(|| client_err("the client assertion is not a JWT"))?;
    let iss = unverified.str("iss").unwrap_or_default().to_string();
    let client = st
        .regs
        .smart_clients
        .iter()
        .find(|c| c.client_id == iss)
        .ok_or_else(|| client_err(&format!("unknown client '{iss}'")))?;
    if !matches!(
        header.alg,
        jsonwebtoken::Algorithm::RS384 | jsonwebtoken::Algorithm::ES384
    ) {
        return Err(client_err(&format!(
            "the assertion is signed with {:?}; this server accepts RS384 and ES384",
            header.alg
        )));
    }
    let kid = header
        .kid
        .clone()
        .ok_or_else(|| client_err("the assertion header has no kid"))?;
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(client.jwks.clone())
        .map_err(|_| client_err("the client's registered JWKS can not be read"))?;
    let jwk = set
        .keys
        .iter()
        .find(|k| k.common.key_id.as_deref() == Some(kid.as_str()))
        .ok_or_else(|| client_err(&format!("no registered key with kid '{kid}'")))?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk)
        .map_err(|_| client_err("the registered key can not be used"))?;
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Value>(assertion, &key, &v).map_err(|_| {
        client_err("the assertion's signature does not verify with the registered key")
    })?;
    let c = data.claims;
    let text = |k: &str| claim_text(&c, k);
    if text("sub") != iss {
        return Err(client_err("iss and sub must both be the client id"));
    }
    let token_url = format!("{}/smart/token", st.base);
    if text("aud") != token_url {
        return Err(client_err(&format!(
            "the assertion's aud must be {token_url}"
        )));
    }
    let now = st.clock.now();
    let exp = c
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| client_err("the assertion has no exp"))?;
    if exp < now - 60 {
        return Err(client_err("the assertion has expired"));
    }
    if exp > now + 300 + 60 {
        return Err(client_err(
            "the assertion's exp is more than 5 minutes ahead",
        ));
    }
    let jti = text("jti");
    if jti.is_empty()
        || !st
            .seen_jti
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(format!("smart:{jti}"))
    {
        return Err(client_err(
            "the assertion's jti is missing or was already used",
        ));
    }
    Ok((iss, client, now))
}

/// The SMART Backend Services authorization server's token endpoint (`/smart/token`):
/// `private_key_jwt` checked against the client's registered JWKS (RS384 or ES384, by `kid`),
/// `aud` the token URL, `iss` = `sub`, `exp` at most 5 minutes ahead, `jti` used once. Grants
/// the requested scopes the client may have. Any authentication failure is `invalid_client`.
pub fn smart_token(st: &SandboxState, body: &[u8]) -> Result<Value, (u16, Value)> {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let get = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let e =
        |code: u16, error: &str, d: String| (code, json!({"error": error, "error_description": d}));
    if get("grant_type") != Some("client_credentials") {
        return Err(e(
            400,
            "unsupported_grant_type",
            "grant_type must be client_credentials".into(),
        ));
    }
    let client_err = |d: &str| e(401, "invalid_client", d.to_string());
    if get("client_assertion_type") != Some(crate::auth::JWT_BEARER) {
        return Err(client_err(&format!(
            "client_assertion_type must be {}",
            crate::auth::JWT_BEARER
        )));
    }
    let assertion =
        get("client_assertion").ok_or_else(|| client_err("client_assertion is missing"))?;
    let (iss, client, now) = verify_smart_assertion(st, assertion)?;
    let requested = get("scope").unwrap_or_default();
    let allowed = client.scopes.join(" ");
    let granted: Vec<&str> = requested
        .split_whitespace()
        .filter(|s| {
            crate::auth::missing_scopes(s, &allowed).is_empty()
                && crate::auth::parse_scope(s).is_some()
        })
        .collect();
    if granted.is_empty() {
        return Err(e(
            400,
            "invalid_scope",
            format!("none of the requested scopes '{requested}' may be granted to this client"),
        ));
    }
    let granted = granted.join(" ");
    let token = sign(&json!({
        "iss": format!("{}/smart", st.base),
        "sub": iss,
        "aud": format!("{}/fhir", st.base),
        "client_id": iss,
        "scope": granted,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid::Uuid::new_v4().to_string(),
    }));
    Ok(json!({"access_token": token, "token_type": "bearer", "expires_in": 300, "scope": granted}))
}

/// The secret App Service puts in `IDENTITY_HEADER`, as the sandbox plays it.
pub const IDENTITY_HEADER: &str = "fhircheck-sandbox-identity-header-0001";

/// Managed identity tokens: the VM metadata service (`app_service = false`, header
/// `Metadata: true`) or App Service's identity endpoint (header `X-IDENTITY-HEADER`).
pub fn managed_identity(
    st: &SandboxState,
    query: &[(String, String)],
    metadata_header: Option<&str>,
    identity_header: Option<&str>,
    app_service: bool,
) -> Result<Value, (u16, Value)> {
    let get = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
    let bad = |code: u16, error: &str, description: String| {
        (
            code,
            json!({"error": error, "error_description": description}),
        )
    };
    if app_service {
        if identity_header != Some(IDENTITY_HEADER) {
            return Err(bad(
                401,
                "unauthorized",
                "The X-IDENTITY-HEADER header is missing or wrong.".into(),
            ));
        }
    } else if metadata_header != Some("true") {
        return Err(bad(
            400,
            "invalid_request",
            "Required metadata header not specified".into(),
        ));
    }
    let resource = get("resource").ok_or_else(|| {
        bad(
            400,
            "invalid_request",
            "Required query variable 'resource' is missing".into(),
        )
    })?;
    let wanted = [
        ("client_id", get("client_id")),
        ("object_id", get("object_id").or(get("principal_id"))),
        ("msi_res_id", get("msi_res_id").or(get("mi_res_id"))),
    ];
    let mi = st.regs.managed_identities.iter().find(|m| {
        match wanted.iter().find(|(_, v)| v.is_some()) {
            Some(("client_id", Some(v))) => m.client_id.eq_ignore_ascii_case(v),
            Some(("object_id", Some(v))) => m.object_id.eq_ignore_ascii_case(v),
            Some((_, Some(v))) => m.resource_id.eq_ignore_ascii_case(v),
            _ => m.system_assigned,
        }
    });
    let Some(mi) = mi else {
        return Err(bad(400, "invalid_request", "Identity not found".into()));
    };
    let tenant = st.regs.fhir.tenant.clone();
    let res_app = st
        .regs
        .applications
        .iter()
        .find(|a| {
            a.tenants.contains(&tenant)
                && (a.client_id.eq_ignore_ascii_case(resource.trim_end_matches('/'))
                    || a.app_id_uris.iter().any(|u| u.trim_end_matches('/').eq_ignore_ascii_case(resource.trim_end_matches('/'))))
        })
        .ok_or_else(|| bad(400, "invalid_resource", format!("AADSTS500011: The resource principal named {resource} was not found in the tenant named {tenant}.")))?;
    let issued = st.clock.now() + st.regs.token_clock_offset_seconds;
    let token = mint(
        st,
        &tenant,
        &mi.client_id,
        &mi.object_id,
        res_app,
        resource,
        "0",
        issued,
    );
    Ok(if app_service {
        json!({"access_token": token, "expires_on": (issued + LIFETIME).to_string(), "resource": resource, "token_type": "Bearer", "client_id": mi.client_id})
    } else {
        json!({
            "access_token": token,
            "client_id": mi.client_id,
            "expires_in": LIFETIME.to_string(),
            "expires_on": (issued + LIFETIME).to_string(),
            "ext_expires_in": LIFETIME.to_string(),
            "not_before": issued.to_string(),
            "resource": resource,
            "token_type": "Bearer",
        })
    })
}

/// v1 tokens carry the sts.windows.net issuer; v2 tokens the authority's own.
pub fn issuer(st: &SandboxState, tenant: &str, v2: bool) -> String {
    if v2 {
        format!("{}/{tenant}/v2.0", st.base)
    } else {
        format!("https://sts.windows.net/{tenant}/")
    }
}

pub fn sign(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KEY_ID.into());
    header.typ = Some("JWT".into());
    let key =
        EncodingKey::from_rsa_pem(KEY_PEM).expect("the embedded sandbox key is a valid RSA PEM");
    jsonwebtoken::encode(&header, claims, &key).expect("signing with a valid RSA key does not fail")
}

pub fn jwks() -> Value {
    json!({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KEY_ID, "x5t": KEY_ID, "n": KEY_N.trim(), "e": KEY_E}]})
}

/// OpenID discovery for v1 (`v2 = false`) or v2.
pub fn discovery(st: &SandboxState, tenant: &str, v2: bool) -> Value {
    let base = &st.base;
    if v2 {
        json!({
            "issuer": issuer(st, tenant, true),
            "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
            "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
            "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "tenant_region_scope": "NA",
            "cloud_instance_name": "fhircheck.sandbox",
        })
    } else {
        json!({
            "issuer": issuer(st, tenant, false),
            "token_endpoint": format!("{base}/{tenant}/oauth2/token"),
            "authorization_endpoint": format!("{base}/{tenant}/oauth2/authorize"),
            "jwks_uri": format!("{base}/common/discovery/keys"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
            "subject_types_supported": ["pairwise"],
            "tenant_region_scope": "NA",
            "cloud_instance_name": "fhircheck.sandbox",
        })
    }
}

/// A string claim of a decoded assertion, or "" when absent.
fn claim_text(claims: &Value, k: &str) -> String {
    claims
        .get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

//! `fhircheck doctor`: collects evidence in order (metadata, SMART configuration, the
//! unauthenticated challenge, the token, its claims and signature, read and write probes) and
//! turns it into findings with the pure functions of [`crate::diagnose`]. At the first blocking
//! failure it stops and says which checks could not run.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::auth::{self, Claims};
use crate::collection::Plan;
use crate::diagnose::{self, Finding, Status};
use crate::exit::ExitCode;
use crate::runner::{self, RunContext};
use crate::secret::redact;
use crate::vars::Variables;

/// Everything `doctor` found.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    pub schema_version: u32,
    pub fhir_url: String,
    pub profile: String,
    pub method: String,
    pub findings: Vec<Finding>,
}

/// The checks, in the order they run.
pub const CHECKS: &[(&str, &str)] = &[
    (
        "metadata",
        "the FHIR base URL answers /metadata with a CapabilityStatement",
    ),
    (
        "smart-configuration",
        "/.well-known/smart-configuration, when published",
    ),
    (
        "challenge",
        "an unauthenticated data request is challenged with the expected authority and audience",
    ),
    (
        "token",
        "a token can be obtained with the profile's credentials",
    ),
    (
        "claims.audience",
        "the token's aud is what the FHIR service expects",
    ),
    ("claims.tenant", "the token's tenant is the FHIR service's"),
    ("claims.version", "the token's version"),
    (
        "claims.times",
        "exp and nbf against this clock and the server's",
    ),
    ("claims.roles", "application roles in the token"),
    (
        "claims.signature",
        "the signature against the issuer's published keys",
    ),
    ("read", "Patient?_count=1 with the token"),
    ("write", "create and delete a tagged test Patient (--write)"),
];

impl DoctorReport {
    /// 0 when nothing failed; 4 when the FHIR service could not be reached; 3 when no token
    /// could be obtained; 1 for any other failed check.
    pub fn exit_code(&self) -> ExitCode {
        let failed = |id: &str| {
            self.findings
                .iter()
                .any(|f| f.check == id && f.status == Status::Fail)
        };
        if failed("metadata")
            && self
                .findings
                .iter()
                .any(|f| f.check == "metadata" && f.evidence.iter().any(|(k, _)| k == "transport"))
        {
            ExitCode::Runtime
        } else if failed("token") {
            ExitCode::Token
        } else if self.findings.iter().any(|f| f.status == Status::Fail) {
            ExitCode::AssertionFailed
        } else {
            ExitCode::Success
        }
    }
}

/// One HTTP answer, as evidence.
#[derive(Debug, Clone, Default)]
pub struct Http {
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub error: Option<String>,
}

impl Http {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(self.body.trim_start()).ok()
    }
}

async fn send(client: &reqwest::Client, req: reqwest::RequestBuilder) -> Http {
    let _ = client;
    match req.send().await {
        Err(e) => Http {
            error: Some(crate::http::describe_error(&e)),
            ..Default::default()
        },
        Ok(resp) => {
            let status = Some(resp.status().as_u16());
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = resp.text().await.unwrap_or_default();
            Http {
                status,
                headers,
                body,
                error: None,
            }
        }
    }
}

async fn get(client: &reqwest::Client, url: &str, bearer: Option<&str>) -> Http {
    let mut req = client.get(url).header("Accept", "application/fhir+json");
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    send(client, req).await
}

/// What /metadata says, as a finding; `alternative` is a base URL that did answer, if one was found.
pub fn metadata_finding(fhir: &str, ev: &Http, alternative: Option<&str>) -> Finding {
    if let Some(e) = &ev.error {
        let d = diagnose::transport(e);
        let mut f = Finding::new(
            "metadata",
            Status::Fail,
            format!("{fhir}/metadata could not be fetched: {e}"),
        )
        .with("transport", e.clone());
        if let Some(d) = d {
            f = f.because(d.cause, d.fix);
        }
        return f;
    }
    let status = ev.status.unwrap_or(0);
    let json = ev.json();
    let looks_html = ev
        .header("content-type")
        .is_some_and(|c| c.contains("html"))
        || ev.body.trim_start().starts_with('<');
    match (status, json.as_ref().and_then(|j| j.get("resourceType")).and_then(Value::as_str)) {
        (200, Some("CapabilityStatement")) => {
            let j = json.as_ref().unwrap_or(&Value::Null);
            let version = j.get("fhirVersion").and_then(Value::as_str).unwrap_or("(no fhirVersion)");
            let software = [j.pointer("/software/name"), j.pointer("/software/version")]
                .iter()
                .filter_map(|v| v.and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(" ");
            let token = oauth_uri(j, "token");
            let mut f = Finding::new(
                "metadata",
                if version.starts_with('4') { Status::Pass } else { Status::Warn },
                format!("FHIR {version} CapabilityStatement{}", if software.is_empty() { String::new() } else { format!(" from {software}") }),
            );
            if !version.starts_with('4') {
                f = f.because("fhircheck's collections expect FHIR R4 (4.0.x) or R4B (4.3.x)", "check that the URL points at the FHIR version you mean");
            }
            if let Some(t) = token {
                f = f.with("token endpoint (SMART oauth-uris)", t);
            }
            f
        }
        (_, _) if looks_html => Finding::new("metadata", Status::Fail, format!("HTTP {status} with an HTML page, not a FHIR CapabilityStatement"))
            .because(
                "something other than the FHIR server answered: a proxy, gateway or sign-in page, or a web site at a wrong URL",
                "use the FHIR service's own URL (Azure portal > the FHIR service > Overview > FHIR metadata endpoint, without /metadata); check proxies between you and it",
            ),
        (404, _) => {
            let f = Finding::new("metadata", Status::Fail, format!("HTTP 404: no /metadata at {fhir}"));
            match alternative {
                Some(alt) => f.because("the FHIR base path is wrong", format!("use `{alt}`: its /metadata is a CapabilityStatement")),
                None => f.because(
                    "the URL is not a FHIR base URL (the path is wrong, or the service does not exist)",
                    "Azure's FHIR services serve at the root of https://<workspace>-<service>.fhir.azurehealthcareapis.com; other servers often under /fhir",
                ),
            }
        }
        (401 | 403, _) => Finding::new("metadata", Status::Fail, format!("HTTP {status} for /metadata, which should need no token"))
            .because("something in front of the FHIR service asks for credentials on every request (an API gateway, or an anonymous /metadata turned off)", "check the gateway's policy; fhircheck's later checks need an anonymous /metadata to read the server's settings"),
        (_, Some(other)) => Finding::new("metadata", Status::Fail, format!("HTTP {status} with a {other}, not a CapabilityStatement")).because("the server did not describe itself", "check the URL is a FHIR base URL"),
        (_, None) if json.is_some() => Finding::new("metadata", Status::Fail, format!("HTTP {status} with JSON that is not a FHIR resource"))
            .because("the URL points at another API, not a FHIR server", "check the FHIR base URL"),
        _ => Finding::new("metadata", Status::Fail, format!("HTTP {status}, not a FHIR CapabilityStatement"))
            .because("the server did not answer as a FHIR server", "check the FHIR base URL"),
    }
}

fn oauth_uri(cap: &Value, which: &str) -> Option<String> {
    let security = cap.pointer("/rest/0/security/extension")?.as_array()?;
    let ext = security.iter().find(|e| {
        e.get("url")
            .and_then(Value::as_str)
            .is_some_and(|u| u.ends_with("oauth-uris"))
    })?;
    ext.get("extension")?
        .as_array()?
        .iter()
        .find(|e| e.get("url").and_then(Value::as_str) == Some(which))?
        .get("valueUri")?
        .as_str()
        .map(str::to_string)
}

pub fn smart_finding(ev: &Http) -> Finding {
    match (ev.status, ev.json()) {
        (Some(200), Some(j)) if j.get("token_endpoint").is_some() => {
            let mut f = Finding::new("smart-configuration", Status::Pass, "published").with(
                "token_endpoint",
                j["token_endpoint"].as_str().unwrap_or_default(),
            );
            if let Some(m) = j
                .get("token_endpoint_auth_methods_supported")
                .and_then(Value::as_array)
            {
                f = f.with(
                    "auth methods",
                    m.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                );
            }
            f
        }
        (Some(s), _) => Finding::new(
            "smart-configuration",
            Status::Pass,
            format!("not published (HTTP {s}); only SMART clients need it"),
        ),
        (None, _) => Finding::new(
            "smart-configuration",
            Status::Warn,
            format!(
                "could not be fetched: {}",
                ev.error.as_deref().unwrap_or("no answer")
            ),
        ),
    }
}

/// The challenge: what authority and audience the FHIR service names.
pub struct Challenge {
    pub authority: Option<String>,
    pub resource: Option<String>,
}

pub fn challenge_finding(ev: &Http) -> (Finding, Challenge) {
    let header = ev.header("www-authenticate");
    let params = header.map(diagnose::challenge_params).unwrap_or_default();
    let get = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let ch = Challenge {
        authority: get("authorization_uri"),
        resource: get("resource_id").or_else(|| get("realm")),
    };
    let f = match (ev.status, header) {
        (Some(401), Some(h)) => {
            let mut f = Finding::new("challenge", Status::Pass, "401 with a Bearer challenge")
                .with("WWW-Authenticate", h);
            if let Some(a) = &ch.authority {
                f = f.with("authority", a.clone());
            }
            if let Some(r) = &ch.resource {
                f = f.with("audience", r.clone());
            }
            f
        }
        (Some(401), None) => Finding::new(
            "challenge",
            Status::Warn,
            "401 without a WWW-Authenticate challenge",
        )
        .because(
            "the server does not say which authority and audience it expects",
            "the token checks below compare with the FHIR URL instead",
        ),
        (Some(s @ 200..=299), _) => Finding::new(
            "challenge",
            Status::Warn,
            format!("HTTP {s} without a token"),
        )
        .because(
            "the FHIR service answers data requests without authentication",
            "turn authentication on before trusting the results of an access check",
        ),
        (Some(s), _) => Finding::new(
            "challenge",
            Status::Warn,
            format!("HTTP {s} without a token (expected 401)"),
        ),
        (None, _) => Finding::new(
            "challenge",
            Status::Warn,
            format!("no answer: {}", ev.error.as_deref().unwrap_or("unknown")),
        ),
    };
    (f, ch)
}

/// Verifies `token`'s signature against the keys the issuer publishes.
async fn verify_signature(
    client: &reqwest::Client,
    token: &str,
    discovery: &[String],
    jwks_hint: Option<String>,
) -> Finding {
    let header = match jsonwebtoken::decode_header(token) {
        Ok(h) => h,
        Err(e) => {
            return Finding::new(
                "claims.signature",
                Status::Warn,
                format!("the token header could not be read: {e}"),
            )
        }
    };
    // The issuer's own discovery first; the SMART configuration's jwks_uri only when that fails.
    let mut jwks_uri = None;
    let mut tried = Vec::new();
    for url in discovery {
        let ev = get(client, url, None).await;
        tried.push(format!(
            "{url} ({})",
            ev.status.map_or_else(
                || ev.error.clone().unwrap_or_default(),
                |s| format!("HTTP {s}")
            )
        ));
        jwks_uri = ev.json().and_then(|j| {
            j.get("jwks_uri")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        if jwks_uri.is_some() {
            break;
        }
    }
    let jwks_uri = jwks_uri.or(jwks_hint);
    let Some(jwks_uri) = jwks_uri else {
        return Finding::new(
            "claims.signature",
            Status::Warn,
            "not verified: the issuer's keys could not be found",
        )
        .because(
            "no OpenID discovery document with a jwks_uri was found",
            "fhircheck only reads claims here; the FHIR service verifies the signature itself",
        )
        .with("tried", tried.join("; "));
    };
    let ev = get(client, &jwks_uri, None).await;
    let set: Option<jsonwebtoken::jwk::JwkSet> = serde_json::from_str(&ev.body).ok();
    let Some(set) = set else {
        return Finding::new(
            "claims.signature",
            Status::Warn,
            format!("not verified: {jwks_uri} is not a JWKS"),
        );
    };
    let kid = header.kid.clone().unwrap_or_default();
    let Some(jwk) = set
        .keys
        .iter()
        .find(|k| k.common.key_id.as_deref() == Some(kid.as_str()))
    else {
        return Finding::new("claims.signature", Status::Fail, format!("not verified: no key `{kid}` at the issuer"))
            .because("the token was signed with a key the issuer does not publish (another issuer, or a test key)", "request the token from the authority the FHIR service trusts")
            .with("jwks_uri", jwks_uri);
    };
    let key = match jsonwebtoken::DecodingKey::from_jwk(jwk) {
        Ok(k) => k,
        Err(e) => {
            return Finding::new(
                "claims.signature",
                Status::Warn,
                format!("not verified: the key could not be used: {e}"),
            )
        }
    };
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    match jsonwebtoken::decode::<Value>(token, &key, &v) {
        Ok(_) => Finding::new(
            "claims.signature",
            Status::Pass,
            format!("verified with key `{kid}` ({:?})", header.alg),
        )
        .with("jwks_uri", jwks_uri),
        Err(e) => Finding::new(
            "claims.signature",
            Status::Fail,
            format!("the signature does not verify: {e}"),
        )
        .because(
            "the token was altered, or signed by another key than the one published under its kid",
            "request a fresh token from the right authority",
        ),
    }
}

/// Runs every check. `write` adds the create/delete probe.
pub async fn run(
    plan: &Plan,
    profile: &str,
    vars: &Variables,
    ctx: &RunContext,
    write: bool,
) -> DoctorReport {
    let fhir = plan
        .collection
        .base_url
        .as_deref()
        .and_then(|b| vars.render(b).ok())
        .map(|r| r.text.trim_end_matches('/').to_string())
        .unwrap_or_default();
    let client = &ctx.client;
    let mut findings: Vec<Finding> = Vec::new();
    let mut report = DoctorReport {
        schema_version: 1,
        fhir_url: redact(&fhir).into_owned(),
        profile: profile.to_string(),
        method: String::new(),
        findings: vec![],
    };
    let block = |findings: &mut Vec<Finding>, by: &str| {
        let done: Vec<String> = findings.iter().map(|f| f.check.clone()).collect();
        for (id, _) in CHECKS {
            if !done.iter().any(|d| d == id) {
                findings.push(Finding::new(
                    id,
                    Status::Skip,
                    format!("not run: blocked by {by}"),
                ));
            }
        }
    };

    // a. metadata
    let meta = get(client, &format!("{fhir}/metadata"), None).await;
    let mut alternative = None;
    if meta.status == Some(404) && !fhir.ends_with("/fhir") {
        let alt = format!("{fhir}/fhir");
        let ev = get(client, &format!("{alt}/metadata"), None).await;
        if ev.json().is_some_and(|j| {
            j.get("resourceType").and_then(Value::as_str) == Some("CapabilityStatement")
        }) {
            alternative = Some(alt);
        }
    }
    let f = metadata_finding(&fhir, &meta, alternative.as_deref());
    let blocked = f.status == Status::Fail;
    findings.push(f);
    if blocked {
        block(&mut findings, "metadata");
        report.findings = findings;
        return report;
    }
    let server_now = meta.header("date").and_then(httpdate_to_unix);

    // b. SMART configuration
    let smart = get(
        client,
        &format!("{fhir}/.well-known/smart-configuration"),
        None,
    )
    .await;
    findings.push(smart_finding(&smart));

    // c. challenge
    let anon = get(client, &format!("{fhir}/Patient?_count=1"), None).await;
    let (f, challenge) = challenge_finding(&anon);
    findings.push(f);

    // d. token
    let (step, token) = runner::acquire(plan, profile, vars, ctx).await;
    report.method = step.label.clone();
    let Some((token, resolved)) = token else {
        let e = step.result.as_ref().err().cloned();
        let mut f = Finding::new(
            "token",
            Status::Fail,
            e.as_ref().map(|e| e.headline()).unwrap_or_default(),
        );
        if let Some(ep) = &step.endpoint {
            f = f.with("endpoint", ep.clone());
        }
        if let Some(auth::TokenError::Endpoint {
            code,
            trace_id,
            correlation_id,
            timestamp,
            ..
        }) = &e
        {
            if let Some(c) = code {
                f = f.with("AADSTS", c.to_string());
            }
            for (k, v) in [
                ("trace id", trace_id),
                ("correlation id", correlation_id),
                ("timestamp", timestamp),
            ] {
                if let Some(v) = v {
                    f = f.with(k, v.clone());
                }
            }
        }
        match e.as_ref().and_then(diagnose::token_error) {
            Some(d) => {
                f.cause = Some(d.cause);
                f.fix = Some(d.fix);
            }
            None => {
                f.cause = Some("the token endpoint refused the request".into());
                f.fix = Some("read the endpoint's message above; its trace and correlation ids identify the request to the issuer's support".into());
            }
        }
        findings.push(f);
        block(&mut findings, "token");
        report.findings = findings;
        return report;
    };
    let mut f = Finding::new("token", Status::Pass, format!("obtained ({})", step.label));
    if let Some(ep) = &step.endpoint {
        f = f.with("endpoint", ep.clone());
    }
    findings.push(f);

    // e. claims
    let now = ctx.clock.now();
    match &token.claims {
        None => {
            for id in [
                "claims.audience",
                "claims.tenant",
                "claims.version",
                "claims.times",
                "claims.roles",
                "claims.signature",
            ] {
                findings.push(Finding::new(
                    id,
                    Status::Skip,
                    "the token is opaque (not a JWT): nothing to read",
                ));
            }
        }
        Some(c) => {
            let (expected, from) = match &challenge.resource {
                Some(r) => (r.clone(), "the FHIR service's challenge (resource_id)"),
                None => (fhir.clone(), "the FHIR URL"),
            };
            findings.extend(claim_findings(
                c,
                &expected,
                from,
                challenge.authority.as_deref(),
                now,
                server_now,
            ));
            let mut discovery = Vec::new();
            if let (Some(base), Some(tid)) = (
                resolved.endpoint.as_deref().and_then(authority_of),
                c.str("tid"),
            ) {
                if c.str("ver") == Some("2.0") {
                    discovery.push(format!(
                        "{base}/{tid}/v2.0/.well-known/openid-configuration"
                    ));
                }
                discovery.push(format!("{base}/{tid}/.well-known/openid-configuration"));
            }
            if let Some(iss) = c.str("iss").filter(|i| i.starts_with("http")) {
                discovery.push(format!(
                    "{}/.well-known/openid-configuration",
                    iss.trim_end_matches('/')
                ));
            }
            let jwks_hint = smart.json().and_then(|j| {
                j.get("jwks_uri")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
            findings
                .push(verify_signature(client, token.access.expose(), &discovery, jwks_hint).await);
        }
    }

    // f. read probe, with 429 retried after Retry-After
    let oid = token
        .claims
        .as_ref()
        .and_then(|c| c.str("oid"))
        .map(str::to_string);
    let read_url = format!("{fhir}/Patient?_count=1");
    let (read, throttled) =
        with_retry(|| get(client, &read_url, Some(token.access.expose()))).await;
    let read_ok = read.status.is_some_and(|s| (200..300).contains(&s));
    findings.push(access_finding(
        "read",
        "GET",
        &read,
        throttled,
        oid.as_deref(),
    ));

    // write probe
    if !write {
        findings.push(Finding::new(
            "write",
            Status::Skip,
            "not asked: add --write to create and delete a tagged test Patient",
        ));
    } else if !read_ok {
        findings.push(Finding::new(
            "write",
            Status::Skip,
            "not run: blocked by read",
        ));
    } else {
        let body = serde_json::json!({
            "resourceType": "Patient",
            "meta": {"tag": [{"system": "urn:fhircheck", "code": "doctor-probe"}]},
            "active": false,
            "name": [{"family": "Fhircheck", "given": ["Doctor", "Probe"]}],
        });
        let (created, t1) = with_retry(|| {
            send(
                client,
                client
                    .post(format!("{fhir}/Patient"))
                    .bearer_auth(token.access.expose())
                    .header("Content-Type", "application/fhir+json")
                    .header("Accept", "application/fhir+json")
                    .body(body.to_string()),
            )
        })
        .await;
        let id = created
            .json()
            .and_then(|j| j.get("id").and_then(Value::as_str).map(str::to_string));
        let mut f = access_finding("write", "POST", &created, t1, oid.as_deref());
        if f.status == Status::Pass {
            match &id {
                Some(id) => {
                    let (deleted, t2) = with_retry(|| {
                        send(
                            client,
                            client
                                .delete(format!("{fhir}/Patient/{id}"))
                                .bearer_auth(token.access.expose()),
                        )
                    })
                    .await;
                    let d = access_finding("write", "DELETE", &deleted, t2, oid.as_deref());
                    f = if d.status == Status::Pass {
                        Finding::new(
                            "write",
                            Status::Pass,
                            format!("created and deleted Patient/{id}"),
                        )
                    } else {
                        Finding {
                            summary: format!(
                                "created Patient/{id} but could not delete it: {}",
                                d.summary
                            ),
                            ..d
                        }
                    };
                }
                None => f.summary = "created, but the answer carried no id to delete".into(),
            }
        }
        findings.push(f);
    }
    report.findings = findings;
    report
}

/// The claim findings, in checklist order. Pure.
pub fn claim_findings(
    c: &Claims,
    expected_aud: &str,
    from: &str,
    authority: Option<&str>,
    now: i64,
    server_now: Option<i64>,
) -> Vec<Finding> {
    let roles: Vec<String> = match c.claims.get("roles") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => vec![],
    };
    let expected_tenant = authority.and_then(diagnose::tenant_of_authority);
    vec![
        diagnose::audience_finding(&c.audiences(), expected_aud, from),
        diagnose::tenant_finding(c.str("tid"), c.str("iss"), expected_tenant.as_deref()),
        diagnose::version_finding(c.str("ver"), c.str("iss")),
        diagnose::times_finding(c.time("exp"), c.time("nbf"), now, server_now),
        diagnose::roles_finding(&roles, c.str("scope").or_else(|| c.str("scp"))),
    ]
}

/// `http://host/tenant/oauth2/token` → `http://host`.
fn authority_of(endpoint: &str) -> Option<String> {
    let (scheme, rest) = endpoint.split_once("://")?;
    let host = rest.split('/').next()?;
    Some(format!("{scheme}://{host}"))
}

/// Sends, and on 429 waits for Retry-After (at most 10 s, 3 tries). Returns the last answer and
/// how many 429s were seen.
async fn with_retry<F, Fut>(mut f: F) -> (Http, u32)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Http>,
{
    let mut throttled = 0;
    loop {
        let ev = f().await;
        if ev.status != Some(429) || throttled >= 3 {
            return (ev, throttled);
        }
        throttled += 1;
        let wait = ev
            .header("retry-after")
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(1)
            .min(10);
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
}

/// A probe's answer as a finding. Pure.
pub fn access_finding(
    check: &str,
    method: &str,
    ev: &Http,
    throttled: u32,
    oid: Option<&str>,
) -> Finding {
    let note = |f: Finding| {
        if throttled > 0 {
            f.with("throttling", format!("{throttled} answer(s) of 429 first; retried after Retry-After: the service is throttling, which is not an access problem"))
        } else {
            f
        }
    };
    let Some(status) = ev.status else {
        let e = ev.error.clone().unwrap_or_default();
        let f = Finding::new(check, Status::Fail, format!("{method} failed: {e}"));
        return note(match diagnose::transport(&e) {
            Some(d) => f.because(d.cause, d.fix),
            None => f,
        });
    };
    if (200..300).contains(&status) {
        let status_kind = if throttled > 0 {
            Status::Warn
        } else {
            Status::Pass
        };
        let mut f = Finding::new(check, status_kind, format!("{method} answered {status}"));
        if throttled > 0 {
            f = f.because(
                "the FHIR service throttled the first attempts (HTTP 429)",
                "spread requests out, or raise the service's throughput",
            );
        }
        return note(f);
    }
    let issues = ev
        .json()
        .map(|j| crate::assertions::outcome_issues(&j))
        .unwrap_or_default();
    let mut f = Finding::new(
        check,
        if status == 429 {
            Status::Warn
        } else {
            Status::Fail
        },
        format!(
            "{method} answered {status}{}",
            issues.first().map(|i| format!(": {i}")).unwrap_or_default()
        ),
    );
    if let Some(ch) = ev.header("www-authenticate") {
        f = f.with("WWW-Authenticate", ch);
    }
    if let Some(d) = diagnose::http_answer(method, status, ev.header("www-authenticate"), &issues) {
        let mut fix = d.fix;
        if status == 403 {
            if let Some(oid) = oid {
                fix = fix.replace(
                    "the token's `oid` claim",
                    &format!("{oid} (the token's `oid`)"),
                );
            }
        }
        f = f.because(d.cause, fix);
    }
    note(f)
}

/// Parses an HTTP `Date` (IMF-fixdate, e.g. `Thu, 26 Nov 2026 09:23:25 GMT`).
pub fn httpdate_to_unix(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() != 6 {
        return None;
    }
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| *m == parts[2])? + 1;
    let text = format!("{}-{month:02}-{:0>2}T{}Z", parts[3], parts[1], parts[4]);
    crate::clock::parse_rfc3339(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, body: &str, headers: &[(&str, &str)]) -> Http {
        Http {
            status: Some(status),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_string(),
            error: None,
        }
    }

    #[test]
    fn metadata_explains_what_answered() {
        let cap = r#"{"resourceType":"CapabilityStatement","fhirVersion":"4.0.1","software":{"name":"X","version":"1"}}"#;
        let f = metadata_finding("https://f", &http(200, cap, &[]), None);
        assert_eq!(
            (f.status, f.summary.as_str()),
            (Status::Pass, "FHIR 4.0.1 CapabilityStatement from X 1")
        );
        let f = metadata_finding(
            "https://f",
            &http(
                200,
                "<html>Sign in</html>",
                &[("content-type", "text/html")],
            ),
            None,
        );
        assert!(f.cause.unwrap().contains("proxy, gateway or sign-in page"));
        let f = metadata_finding("https://f", &http(404, "", &[]), Some("https://f/fhir"));
        assert!(f.fix.unwrap().contains("https://f/fhir"));
        let f = metadata_finding("https://f", &http(200, r#"{"status":"ok"}"#, &[]), None);
        assert!(f.cause.unwrap().contains("another API"));
        let f = metadata_finding(
            "https://f",
            &Http {
                error: Some("the host name could not be resolved (dns)".into()),
                ..Default::default()
            },
            None,
        );
        assert_eq!(f.status, Status::Fail);
        assert!(f.cause.unwrap().contains("does not resolve"));
    }

    #[test]
    fn forbidden_names_the_object_id() {
        let oo = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","diagnostics":"Authorization failed."}]}"#;
        let f = access_finding("read", "GET", &http(403, oo, &[]), 0, Some("oid-1"));
        assert_eq!(f.status, Status::Fail);
        let fix = f.fix.unwrap();
        assert!(
            fix.contains("object id is oid-1")
                && fix.contains("5 minutes")
                && fix.contains("admin consent"),
            "{fix}"
        );
        let f = access_finding("read", "GET", &http(200, "{}", &[]), 2, None);
        assert_eq!(f.status, Status::Warn);
        assert!(f.evidence[0].1.contains("not an access problem"));
    }

    #[test]
    fn hfs_style_401_messages() {
        for (msg, check) in [
            ("Invalid audience", "fhir.audience"),
            ("Token expired", "fhir.token_time"),
            ("Unknown key ID", "fhir.signature"),
        ] {
            let oo = format!(
                r#"{{"resourceType":"OperationOutcome","issue":[{{"severity":"error","code":"login","diagnostics":"{msg}"}}]}}"#
            );
            let issues = crate::assertions::outcome_issues(&serde_json::from_str(&oo).unwrap());
            let d = diagnose::http_answer("GET", 401, None, &issues).unwrap();
            assert_eq!(d.check, check, "{msg}");
        }
        let d = diagnose::http_answer(
            "GET",
            403,
            Some(r#"Bearer error="insufficient_scope", scope="system/Patient.rs""#),
            &[],
        )
        .unwrap();
        assert_eq!(d.check, "fhir.insufficient_scope");
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            httpdate_to_unix("Thu, 26 Nov 2026 09:23:25 GMT"),
            Some(1_795_685_005)
        );
        assert_eq!(httpdate_to_unix("yesterday"), None);
    }
}

//! `fhircheck doctor`: collects evidence in order (metadata, SMART configuration, the
//! unauthenticated challenge, the token, its claims and signature, read and write probes) and
//! turns it into findings with the pure functions of [`crate::diagnose`]. At the first blocking
//! failure it stops and says which checks could not run.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::auth::{self, Claims};
use crate::diagnose::{self, Finding, Status};
use crate::exec::{self, Context};
use crate::exit::ExitCode;
use crate::http::{Reply, ReplyExt};
use crate::plan::Plan;
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

/// What /metadata says, as a finding; `alternative` is a base URL that did answer, if one was found.
pub fn metadata_finding(fhir: &str, ev: &Reply, alternative: Option<&str>) -> Finding {
    if let Some(e) = ev.error() {
        let d = diagnose::transport_to(fhir, e);
        let mut f = Finding::new(
            "metadata",
            Status::Fail,
            format!("{fhir}/metadata could not be fetched: {e}"),
        )
        .with("transport", e.to_string());
        if let Some(d) = d {
            f = f.because(d.cause, d.fix);
        }
        return f;
    }
    let status = ev.status().unwrap_or(0);
    let json = ev.json();
    let looks_html = ev
        .header("content-type")
        .is_some_and(|c| c.contains("html"))
        || ev
            .as_ref()
            .is_ok_and(|a| a.text().trim_start().starts_with('<'));
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
            if let Some(host) = diagnose::azure_fhir_host(fhir) {
                f = f.with("service", host.name());
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

pub fn smart_finding(ev: &Reply) -> Finding {
    match (ev.status(), ev.json()) {
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
                ev.error().unwrap_or("no answer")
            ),
        ),
    }
}

/// The challenge: what authority and audience the FHIR service names.
pub struct Challenge {
    pub authority: Option<String>,
    pub resource: Option<String>,
}

pub fn challenge_finding(ev: &Reply) -> (Finding, Challenge) {
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
    let f = match (ev.status(), header) {
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
            format!("no answer: {}", ev.error().unwrap_or("unknown")),
        ),
    };
    (f, ch)
}

/// The issuer's JWKS URI: from its discovery documents, else the SMART configuration's hint.
async fn find_jwks(
    ctx: &Context,
    discovery: &[String],
    hint: Option<String>,
) -> Result<String, Vec<String>> {
    let mut tried = Vec::new();
    for url in discovery {
        let ev = exec::get(url, None, ctx).await;
        tried.push(format!(
            "{url} ({})",
            ev.status().map_or_else(
                || ev.error().unwrap_or_default().to_string(),
                |s| format!("HTTP {s}")
            )
        ));
        let uri = ev.json().and_then(|j| {
            j.get("jwks_uri")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        if let Some(uri) = uri {
            return Ok(uri);
        }
    }
    hint.ok_or(tried)
}

/// Verifies `token`'s signature against the keys the issuer publishes.
async fn verify_signature(
    ctx: &Context,
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
    let jwks_uri =
        match find_jwks(ctx, discovery, jwks_hint).await {
            Ok(u) => u,
            Err(tried) => return Finding::new(
                "claims.signature",
                Status::Warn,
                "not verified: the issuer's keys could not be found",
            )
            .because(
                "no OpenID discovery document with a jwks_uri was found",
                "fhircheck only reads claims here; the FHIR service verifies the signature itself",
            )
            .with("tried", tried.join("; ")),
        };
    let ev = exec::get(&jwks_uri, None, ctx).await;
    let set: Option<jsonwebtoken::jwk::JwkSet> = ev
        .as_ref()
        .ok()
        .and_then(|a| serde_json::from_slice(&a.body).ok());
    let Some(set) = set else {
        return Finding::new(
            "claims.signature",
            Status::Warn,
            format!("not verified: {jwks_uri} is not a JWKS"),
        );
    };
    check_signature(token, &header, &set, jwks_uri)
}

/// The signature against the published key with the token's `kid`. Pure.
fn check_signature(
    token: &str,
    header: &jsonwebtoken::Header,
    set: &jsonwebtoken::jwk::JwkSet,
    jwks_uri: String,
) -> Finding {
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

/// The findings gathered so far, and the checks that are marked blocked when one fails.
struct Findings(Vec<Finding>);

impl Findings {
    fn push(&mut self, f: Finding) {
        self.0.push(f);
    }

    /// Every check not yet run is skipped, blocked by `by`.
    fn block(&mut self, by: &str) {
        for (id, _) in CHECKS {
            if !self.0.iter().any(|f| f.check == *id) {
                self.0.push(Finding::new(
                    id,
                    Status::Skip,
                    format!("not run: blocked by {by}"),
                ));
            }
        }
    }
}

/// What the anonymous probes learned, for the checks that need a token.
struct Anonymous {
    fhir: String,
    server_now: Option<i64>,
    smart: Reply,
    challenge: Challenge,
}

/// Runs every check. `write` adds the create/delete probe.
/// `notify` receives a line of progress while `--wait` waits for access.
pub async fn run(
    plan: &Plan,
    profile: &str,
    vars: &Variables,
    ctx: &Context,
    write: bool,
    notify: &dyn Fn(&str),
) -> DoctorReport {
    let fhir = plan
        .base_url(vars)
        .map(|b| b.trim_end_matches('/').to_string())
        .unwrap_or_default();
    let mut report = DoctorReport {
        schema_version: 1,
        fhir_url: redact(&fhir).into_owned(),
        profile: profile.to_string(),
        method: String::new(),
        findings: vec![],
    };
    let mut findings = Findings(Vec::new());
    if let Some(anon) = anonymous_checks(&fhir, ctx, &mut findings).await {
        let resolved = plan.resolve_profile(profile, vars, &ctx.env);
        let (step, token) = exec::acquire(profile, resolved, Some(&fhir), ctx).await;
        report.method = step.label.clone();
        match token {
            None => {
                findings.push(token_failure(&step));
                findings.block("token");
            }
            Some(token) => {
                let mut f =
                    Finding::new("token", Status::Pass, format!("obtained ({})", step.label));
                if let Some(ep) = &step.endpoint {
                    f = f.with("endpoint", ep.clone());
                }
                findings.push(f);
                claims_checks(&anon, &token, step.endpoint.as_deref(), ctx, &mut findings).await;
                access_checks(&anon.fhir, &token, write, ctx, &mut findings, notify).await;
            }
        }
    }
    report.findings = findings.0;
    report
}

/// Metadata, SMART configuration and the challenge; `None` when metadata blocks the rest.
async fn anonymous_checks(fhir: &str, ctx: &Context, findings: &mut Findings) -> Option<Anonymous> {
    let meta = exec::get(&format!("{fhir}/metadata"), None, ctx).await;
    let mut alternative = None;
    if meta.status() == Some(404) && !fhir.ends_with("/fhir") {
        let alt = format!("{fhir}/fhir");
        let ev = exec::get(&format!("{alt}/metadata"), None, ctx).await;
        if ev.json().is_some_and(|j| {
            j.get("resourceType").and_then(Value::as_str) == Some("CapabilityStatement")
        }) {
            alternative = Some(alt);
        }
    }
    let f = metadata_finding(fhir, &meta, alternative.as_deref());
    let blocked = f.status == Status::Fail;
    findings.push(f);
    if blocked {
        findings.block("metadata");
        return None;
    }
    let server_now = meta.header("date").and_then(crate::clock::httpdate_to_unix);
    let smart = exec::get(
        &format!("{fhir}/.well-known/smart-configuration"),
        None,
        ctx,
    )
    .await;
    findings.push(smart_finding(&smart));
    let anon = exec::get(&format!("{fhir}/Patient?_count=1"), None, ctx).await;
    let (f, challenge) = challenge_finding(&anon);
    findings.push(f);
    Some(Anonymous {
        fhir: fhir.to_string(),
        server_now,
        smart,
        challenge,
    })
}

/// The token check when no token came: the endpoint's error, its ids, cause and fix.
fn token_failure(step: &crate::result::TokenStep) -> Finding {
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
    f
}

/// The claims against what the FHIR service expects, and the signature.
async fn claims_checks(
    anon: &Anonymous,
    token: &auth::Token,
    endpoint: Option<&str>,
    ctx: &Context,
    findings: &mut Findings,
) {
    let Some(c) = &token.claims else {
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
        return;
    };
    let (expected, from) = match &anon.challenge.resource {
        Some(r) => (r.clone(), "the FHIR service's challenge (resource_id)"),
        None => (anon.fhir.clone(), "the FHIR URL"),
    };
    let now = ctx.clock.now();
    for f in claim_findings(
        c,
        &expected,
        from,
        anon.challenge.authority.as_deref(),
        now,
        anon.server_now,
    ) {
        findings.push(f);
    }
    let mut discovery = Vec::new();
    if let (Some(base), Some(tid)) = (endpoint.and_then(authority_of), c.str("tid")) {
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
    let jwks_hint = anon.smart.json().and_then(|j| {
        j.get("jwks_uri")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    findings.push(verify_signature(ctx, token.access.expose(), &discovery, jwks_hint).await);
}

/// The read probe, and with `write` the create/delete probe. 429s are retried after
/// Retry-After by the core's one retry policy.
async fn access_checks(
    fhir: &str,
    token: &auth::Token,
    write: bool,
    ctx: &Context,
    findings: &mut Findings,
    notify: &dyn Fn(&str),
) {
    let oid = token
        .claims
        .as_ref()
        .and_then(|c| c.str("oid"))
        .map(str::to_string);
    let bearer = Some(token.access.expose());
    let url = format!("{fhir}/Patient?_count=1");
    let mut read = exec::get(&url, bearer, ctx).await;
    let mut waited = None;
    if let (Some(403), Some(limit)) = (read.status(), ctx.wait_for_access) {
        let out = exec::Outgoing {
            method: reqwest::Method::GET,
            url: url.clone(),
            headers: vec![("Accept".into(), "application/fhir+json".into())],
            body: None,
        };
        let (r, w) = exec::wait_for_access(
            &out,
            bearer,
            ctx,
            limit,
            read.map_err(|e| (e, Duration::ZERO)),
            notify,
        )
        .await;
        read = r.map_err(|(m, _)| m);
        waited = Some(w);
    }
    let read_ok = read.status().is_some_and(|s| (200..300).contains(&s));
    let mut f = access_finding("read", "GET", &read, oid.as_deref(), fhir);
    if let Some(w) = waited {
        f = f.with(
            "waited",
            if read_ok {
                format!("access appeared after {} s of 403 answers: the role assignment was still propagating", w.as_secs().max(1))
            } else {
                format!("still 403 after waiting {} s (--wait)", w.as_secs())
            },
        );
    }
    findings.push(f);
    let f = if !write {
        Finding::new(
            "write",
            Status::Skip,
            "not asked: add --write to create and delete a tagged test Patient",
        )
    } else if !read_ok {
        Finding::new("write", Status::Skip, "not run: blocked by read")
    } else {
        write_probe(fhir, bearer, oid.as_deref(), ctx).await
    };
    findings.push(f);
}

async fn write_probe(
    fhir: &str,
    bearer: Option<&str>,
    oid: Option<&str>,
    ctx: &Context,
) -> Finding {
    let body = serde_json::json!({
        "resourceType": "Patient",
        "meta": {"tag": [{"system": "urn:fhircheck", "code": "doctor-probe"}]},
        "active": false,
        "name": [{"family": "Fhircheck", "given": ["Doctor", "Probe"]}],
    });
    let create = exec::Outgoing {
        method: reqwest::Method::POST,
        url: format!("{fhir}/Patient"),
        headers: vec![
            ("Content-Type".into(), "application/fhir+json".into()),
            ("Accept".into(), "application/fhir+json".into()),
        ],
        body: Some(body.to_string().into_bytes()),
    };
    let created: Reply = exec::send(&create, bearer, ctx).await.map_err(|(m, _)| m);
    let id = created
        .json()
        .and_then(|j| j.get("id").and_then(Value::as_str).map(str::to_string));
    let mut f = access_finding("write", "POST", &created, oid, fhir);
    if f.status != Status::Pass {
        return f;
    }
    let Some(id) = id else {
        f.summary = "created, but the answer carried no id to delete".into();
        return f;
    };
    let delete = exec::Outgoing {
        method: reqwest::Method::DELETE,
        url: format!("{fhir}/Patient/{id}"),
        headers: vec![],
        body: None,
    };
    let deleted: Reply = exec::send(&delete, bearer, ctx).await.map_err(|(m, _)| m);
    let d = access_finding("write", "DELETE", &deleted, oid, fhir);
    if d.status == Status::Pass {
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
    }
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
    let roles = c.strings("roles");
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

/// A probe's answer as a finding. Pure.
/// `fhir`: the FHIR base URL, for the role assignment command.
pub fn access_finding(
    check: &str,
    method: &str,
    ev: &Reply,
    oid: Option<&str>,
    fhir: &str,
) -> Finding {
    let throttled = ev.as_ref().map_or(0, |a| a.retries);
    let note = |f: Finding| {
        if throttled > 0 {
            f.with("throttling", format!("{throttled} answer(s) of 429 first; retried after Retry-After: the service is throttling, which is not an access problem"))
        } else {
            f
        }
    };
    let Some(status) = ev.status() else {
        let e = ev.error().unwrap_or_default().to_string();
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
        if let (403, Some(oid), true) = (status, oid, d.check.starts_with("fhir.forbidden")) {
            fix = diagnose::role_fix(oid, fhir, method != "GET");
        }
        f = f.because(d.cause, fix);
    }
    note(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, body: &str, headers: &[(&str, &str)]) -> Reply {
        Ok(crate::http::Answer {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec().into(),
            ..Default::default()
        })
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
            &Err("the host name could not be resolved (dns)".into()),
            None,
        );
        assert_eq!(f.status, Status::Fail);
        assert!(f.cause.unwrap().contains("does not resolve"));
        // An Azure API for FHIR address that no longer resolves: retired, and where to look now.
        let f = metadata_finding(
            "https://contoso-fhir.azurehealthcareapis.com",
            &Err("the host name could not be resolved (dns)".into()),
            None,
        );
        assert!(f.cause.unwrap().contains("retired on 30 September 2026"));
        assert!(f.fix.unwrap().contains("fhir.azurehealthcareapis.com"));
        let f = metadata_finding(
            "https://ws-fhir1.fhir.azurehealthcareapis.com",
            &http(200, cap, &[]),
            None,
        );
        assert!(f
            .evidence
            .iter()
            .any(|(k, v)| k == "service" && v == "Azure Health Data Services FHIR service"));
    }

    #[test]
    fn azure_fhir_host_shapes() {
        use diagnose::{azure_fhir_host, AzureFhirHost::*};
        for (url, want) in [
            (
                "https://ws-fhir1.fhir.azurehealthcareapis.com",
                Some(HealthDataServices),
            ),
            (
                "https://ws-fhir1.fhir.azurehealthcareapis.us/",
                Some(HealthDataServices),
            ),
            (
                "https://contoso.azurehealthcareapis.com/Patient",
                Some(ApiForFhir),
            ),
            (
                "https://contoso.azurehealthcareapis.azure.cn:443",
                Some(ApiForFhir),
            ),
            ("https://azurehealthcareapis.com", None),
            ("https://fhir.example.org/r4", None),
            ("https://a.b.azurehealthcareapis.com", None),
        ] {
            assert_eq!(azure_fhir_host(url), want, "{url}");
        }
    }

    #[test]
    fn forbidden_names_the_object_id() {
        let oo = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","diagnostics":"Authorization failed."}]}"#;
        let f = access_finding(
            "read",
            "GET",
            &http(403, oo, &[]),
            Some("oid-1"),
            "https://ws-svc-1.fhir.azurehealthcareapis.com",
        );
        assert_eq!(f.status, Status::Fail);
        let fix = f.fix.unwrap();
        assert!(
            fix.contains("object id oid-1")
                && fix.contains("--workspace-name ws --name svc-1")
                && fix.contains("5 minutes")
                && fix.contains("admin consent"),
            "{fix}"
        );
        let mut throttled = http(200, "{}", &[]);
        if let Ok(a) = throttled.as_mut() {
            a.retries = 2;
        }
        let f = access_finding("read", "GET", &throttled, None, "https://f");
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
}

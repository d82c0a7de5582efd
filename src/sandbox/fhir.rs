//! The Azure-shaped FHIR R4 service: anonymous metadata, bearer validation with Azure's
//! answers, data roles, throttling, and an in-memory resource store.

use std::collections::HashMap;

use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use super::registrations::role_permissions;
use super::token::{self, KEY_E, KEY_ID, KEY_N};
use super::SandboxState;
use crate::clock;

/// An answer of the FHIR service.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Value>,
}

impl Answer {
    fn new(status: u16, body: Value) -> Self {
        Answer {
            status,
            headers: vec![],
            body: Some(body),
        }
    }
}

pub fn outcome(severity: &str, code: &str, diagnostics: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "id": uuid::Uuid::new_v4().to_string(),
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    })
}

pub fn fhir_url(st: &SandboxState) -> String {
    format!("{}/fhir", st.base)
}

pub fn capability_statement(st: &SandboxState) -> Value {
    let types = [
        "Patient",
        "Observation",
        "Encounter",
        "Practitioner",
        "Organization",
    ];
    let resources: Vec<Value> = types
        .iter()
        .map(|t| {
            json!({
                "type": t,
                "interaction": [{"code": "read"}, {"code": "vread"}, {"code": "update"}, {"code": "delete"}, {"code": "create"}, {"code": "search-type"}],
                "searchParam": [
                    {"name": "_id", "type": "token"},
                    {"name": "identifier", "type": "token"},
                    {"name": "name", "type": "string"},
                ],
            })
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "url": format!("{}/metadata", fhir_url(st)),
        "version": env!("CARGO_PKG_VERSION"),
        "name": "FhircheckSandbox",
        "status": "active",
        "experimental": true,
        "date": clock::iso8601(st.started_at),
        "publisher": "fhircheck",
        "kind": "instance",
        "software": {"name": "fhircheck sandbox FHIR service", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "An Azure-shaped FHIR R4 service for testing service clients", "url": fhir_url(st)},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "security": {
                "cors": true,
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth"}]}],
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [
                        {"url": "token", "valueUri": format!("{}/{}/oauth2/token", st.base, st.regs.fhir.tenant)},
                        {"url": "authorize", "valueUri": format!("{}/{}/oauth2/authorize", st.base, st.regs.fhir.tenant)},
                    ],
                }],
            },
            "resource": resources,
        }],
    })
}

pub fn smart_configuration(st: &SandboxState) -> Value {
    let t = &st.regs.fhir.tenant;
    json!({
        "issuer": format!("{}/smart", st.base),
        "jwks_uri": format!("{}/smart/jwks", st.base),
        "token_endpoint": format!("{}/smart/token", st.base),
        "authorization_endpoint": format!("{}/{t}/oauth2/authorize", st.base),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "grant_types_supported": ["client_credentials", "authorization_code"],
        "scopes_supported": ["system/*.read", "system/*.write", "system/*.*"],
        "capabilities": ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
    })
}

/// Validates the bearer token. `Err` is the 401 to send.
pub fn authenticate(st: &SandboxState, authorization: Option<&str>) -> Result<Value, Answer> {
    let fail = |reason: Option<&str>| {
        let aud = &st.regs.fhir.audience;
        let mut challenge = format!(
            "Bearer authorization_uri=\"{}/{}\", resource_id=\"{aud}\", realm=\"{aud}\"",
            st.base, st.regs.fhir.tenant
        );
        if let Some(r) = reason {
            challenge.push_str(&format!(
                ", error=\"invalid_token\", error_description=\"{r}\""
            ));
        }
        let mut a = Answer::new(401, outcome("error", "login", "Authentication failed."));
        a.headers.push(("WWW-Authenticate", challenge));
        a
    };
    let Some(token) = authorization.and_then(|h| {
        h.strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
            .map(str::trim)
    }) else {
        return Err(fail(None));
    };
    let header =
        jsonwebtoken::decode_header(token).map_err(|_| fail(Some("The token is malformed")))?;
    if header.kid.as_deref() != Some(KEY_ID) {
        return Err(fail(Some("The signing key was not found")));
    }
    let key = DecodingKey::from_rsa_components(KEY_N.trim(), KEY_E)
        .map_err(|_| fail(Some("The signing key was not found")))?;
    let tenant = &st.regs.fhir.tenant;
    let mut v = Validation::new(Algorithm::RS256);
    v.leeway = 300;
    v.validate_nbf = true;
    v.set_required_spec_claims(&["exp", "aud", "iss"]);
    v.set_audience(&[
        st.regs.fhir.audience.as_str(),
        st.regs.fhir.resource_app.as_str(),
    ]);
    let smart_issuer = format!("{}/smart", st.base);
    v.set_issuer(&[
        token::issuer(st, tenant, false).as_str(),
        token::issuer(st, tenant, true).as_str(),
        smart_issuer.as_str(),
    ]);
    // jsonwebtoken checks exp against the real clock; the sandbox's may be pinned in tests.
    v.validate_exp = false;
    let data = jsonwebtoken::decode::<Value>(token, &key, &v).map_err(|e| {
        fail(Some(match e.kind() {
            ErrorKind::InvalidSignature => "The signature is invalid",
            ErrorKind::InvalidAudience => "The audience is invalid",
            ErrorKind::InvalidIssuer => "The issuer is invalid",
            ErrorKind::ImmatureSignature => "The token is not yet valid",
            ErrorKind::ExpiredSignature => "The token is expired",
            ErrorKind::MissingRequiredClaim(_) => "The token lacks a required claim",
            _ => "The token is malformed",
        }))
    })?;
    let now = st.clock.now();
    let exp = data.claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp + 300 < now {
        return Err(fail(Some("The token is expired")));
    }
    Ok(data.claims)
}

/// Checks the caller's access for `method` on the path `segs`: SMART scopes for tokens of the
/// SMART authorization server, data roles of the service principal otherwise. `Err` is the 403.
pub fn authorize(
    st: &SandboxState,
    claims: &Value,
    method: &str,
    segs: &[&str],
) -> Result<(), Answer> {
    if claims.get("iss").and_then(Value::as_str) == Some(format!("{}/smart", st.base).as_str()) {
        let ty = segs.first().copied().unwrap_or("*");
        let (letter, op) = match (method, segs.len()) {
            ("GET" | "HEAD", 1) => ('s', "search"),
            ("GET" | "HEAD", _) => ('r', "read"),
            ("POST", _) => ('c', "create"),
            ("PUT" | "PATCH", _) => ('u', "update"),
            _ => ('d', "delete"),
        };
        let granted = claims
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let needed = format!("system/{ty}.{letter}");
        if crate::auth::missing_scopes(&needed, granted).is_empty() {
            return Ok(());
        }
        let mut a = Answer::new(
            403,
            outcome(
                "error",
                "forbidden",
                &format!("insufficient scope for {op} on {ty}"),
            ),
        );
        a.headers.push((
            "WWW-Authenticate",
            format!("Bearer error=\"insufficient_scope\", scope=\"{needed}\""),
        ));
        return Err(a);
    }
    let oid = claims
        .get("oid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut read = false;
    let mut write = false;
    let mut delete = false;
    for a in st
        .regs
        .role_assignments
        .iter()
        .filter(|a| a.principal_id.eq_ignore_ascii_case(oid))
        .filter(|a| st.started.elapsed().as_secs() >= a.applies_after_seconds)
    {
        let p = role_permissions(&a.role);
        read |= p.read;
        write |= p.write;
        delete |= p.delete;
    }
    let allowed = match method {
        "GET" | "HEAD" => read,
        "DELETE" => delete,
        _ => write,
    };
    if allowed {
        Ok(())
    } else {
        Err(Answer::new(
            403,
            outcome("error", "forbidden", "Authorization failed."),
        ))
    }
}

/// 415 for a body whose Content-Type is not JSON.
pub fn unsupported_media_type(content_type: &str) -> Answer {
    let shown = if content_type.is_empty() {
        "(none)"
    } else {
        content_type
    };
    Answer::new(
        415,
        outcome(
            "error",
            "not-supported",
            &format!(
                "Unsupported media type {shown}: send application/fhir+json or application/json"
            ),
        ),
    )
}

pub fn throttled() -> Answer {
    let mut a = Answer::new(
        429,
        outcome("error", "throttled", "The request was throttled because the service's request rate limit was exceeded. Retry after the time given in Retry-After."),
    );
    a.headers.push(("Retry-After", "1".into()));
    a
}

struct Entry {
    versions: Vec<Value>,
    deleted: bool,
    seq: u64,
}

/// The in-memory resource store.
#[derive(Default)]
pub struct Store {
    types: HashMap<String, HashMap<String, Entry>>,
    seq: u64,
}

fn valid_type(t: &str) -> bool {
    t.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && t.chars().all(|c| c.is_ascii_alphanumeric())
}

fn not_found(t: &str, id: &str) -> Answer {
    Answer::new(
        404,
        outcome(
            "error",
            "not-found",
            &format!("Resource type '{t}' with id '{id}' couldn't be found."),
        ),
    )
}

fn resource_answer(status: u16, st: &SandboxState, t: &str, res: &Value, location: bool) -> Answer {
    let id = res.get("id").and_then(Value::as_str).unwrap_or_default();
    let vid = res
        .pointer("/meta/versionId")
        .and_then(Value::as_str)
        .unwrap_or("1");
    let mut a = Answer::new(status, res.clone());
    a.headers.push(("ETag", format!("W/\"{vid}\"")));
    if let Some(lu) = res.pointer("/meta/lastUpdated").and_then(Value::as_str) {
        a.headers.push(("Last-Modified", lu.to_string()));
    }
    if location {
        a.headers.push((
            "Location",
            format!("{}/{t}/{id}/_history/{vid}", fhir_url(st)),
        ));
    }
    a
}

impl Store {
    /// Serves a data request (already authenticated and authorized).
    pub fn handle(
        &mut self,
        st: &SandboxState,
        method: &str,
        segments: &[&str],
        query: &[(String, String)],
        body: &[u8],
    ) -> Answer {
        match (method, segments) {
            (_, [t, ..]) if !valid_type(t) => Answer::new(
                404,
                outcome(
                    "error",
                    "not-supported",
                    &format!(
                        "'{t}' is not a FHIR resource type or operation this service supports."
                    ),
                ),
            ),
            ("GET" | "HEAD", [t]) => self.search(st, t, query),
            ("POST", [t]) => self.create(st, t, body),
            ("GET" | "HEAD", [t, id]) => self.read(st, t, id, None),
            ("GET" | "HEAD", [t, id, "_history", vid]) => self.read(st, t, id, Some(vid)),
            ("PUT", [t, id]) => self.update(st, t, id, body),
            ("DELETE", [t, id]) => self.delete(t, id),
            (_, [_] | [_, _]) => Answer::new(
                405,
                outcome(
                    "error",
                    "not-supported",
                    &format!("The method {method} is not allowed here."),
                ),
            ),
            _ => Answer::new(
                404,
                outcome("error", "not-found", "The requested route was not found."),
            ),
        }
    }

    fn parse_body(t: &str, body: &[u8]) -> Result<serde_json::Map<String, Value>, Answer> {
        let v: Value = serde_json::from_slice(body).map_err(|e| {
            Answer::new(
                400,
                outcome(
                    "error",
                    "structure",
                    &format!("The request body is not valid JSON: {e}"),
                ),
            )
        })?;
        let Value::Object(map) = v else {
            return Err(Answer::new(
                400,
                outcome(
                    "error",
                    "structure",
                    "The request body must be a JSON object (a FHIR resource).",
                ),
            ));
        };
        match map.get("resourceType").and_then(Value::as_str) {
            Some(rt) if rt == t => Ok(map),
            Some(rt) => Err(Answer::new(400, outcome("error", "invalid", &format!("Resource type in the URL must match resourceType in the resource: expected '{t}', got '{rt}'.")))),
            None => Err(Answer::new(400, outcome("error", "required", "The resource has no resourceType."))),
        }
    }

    fn stamp(
        &mut self,
        st: &SandboxState,
        mut map: serde_json::Map<String, Value>,
        id: &str,
        version: usize,
    ) -> Value {
        map.insert("id".into(), json!(id));
        let mut meta = map
            .remove("meta")
            .and_then(|m| m.as_object().cloned())
            .unwrap_or_default();
        meta.insert("versionId".into(), json!(version.to_string()));
        meta.insert(
            "lastUpdated".into(),
            json!(clock::iso8601_millis(st.clock.now_millis())),
        );
        map.insert("meta".into(), Value::Object(meta));
        // Keep resourceType first, as FHIR JSON is usually written.
        let mut ordered = serde_json::Map::new();
        if let Some(rt) = map.remove("resourceType") {
            ordered.insert("resourceType".into(), rt);
        }
        ordered.extend(map);
        Value::Object(ordered)
    }

    fn create(&mut self, st: &SandboxState, t: &str, body: &[u8]) -> Answer {
        let map = match Self::parse_body(t, body) {
            Ok(m) => m,
            Err(a) => return a,
        };
        let id = uuid::Uuid::new_v4().to_string();
        let res = self.stamp(st, map, &id, 1);
        self.seq += 1;
        self.types.entry(t.to_string()).or_default().insert(
            id,
            Entry {
                versions: vec![res.clone()],
                deleted: false,
                seq: self.seq,
            },
        );
        resource_answer(201, st, t, &res, true)
    }

    fn read(&self, st: &SandboxState, t: &str, id: &str, vid: Option<&str>) -> Answer {
        let Some(e) = self.types.get(t).and_then(|m| m.get(id)) else {
            return not_found(t, id);
        };
        match vid {
            Some(v) => match v
                .parse::<usize>()
                .ok()
                .and_then(|n| e.versions.get(n.wrapping_sub(1)))
            {
                Some(res) => resource_answer(200, st, t, res, false),
                None => Answer::new(
                    404,
                    outcome(
                        "error",
                        "not-found",
                        &format!("Resource type '{t}' with id '{id}' has no version '{v}'."),
                    ),
                ),
            },
            None if e.deleted => Answer::new(
                410,
                outcome(
                    "error",
                    "deleted",
                    &format!("Resource type '{t}' with id '{id}' has been deleted."),
                ),
            ),
            None => resource_answer(200, st, t, e.versions.last().unwrap_or(&Value::Null), false),
        }
    }

    fn update(&mut self, st: &SandboxState, t: &str, id: &str, body: &[u8]) -> Answer {
        let map = match Self::parse_body(t, body) {
            Ok(m) => m,
            Err(a) => return a,
        };
        match map.get("id").and_then(Value::as_str) {
            Some(bid) if bid == id => {}
            Some(bid) => return Answer::new(400, outcome("error", "invalid", &format!("The id in the resource ('{bid}') does not match the id in the URL ('{id}')."))),
            None => return Answer::new(400, outcome("error", "required", "The resource must carry its id for an update.")),
        }
        let version = self
            .types
            .get(t)
            .and_then(|m| m.get(id))
            .map_or(1, |e| e.versions.len() + 1);
        let res = self.stamp(st, map, id, version);
        self.seq += 1;
        let seq = self.seq;
        let entry = self
            .types
            .entry(t.to_string())
            .or_default()
            .entry(id.to_string())
            .or_insert(Entry {
                versions: vec![],
                deleted: false,
                seq,
            });
        entry.versions.push(res.clone());
        entry.deleted = false;
        resource_answer(
            if version == 1 { 201 } else { 200 },
            st,
            t,
            &res,
            version == 1,
        )
    }

    fn delete(&mut self, t: &str, id: &str) -> Answer {
        if let Some(e) = self.types.get_mut(t).and_then(|m| m.get_mut(id)) {
            e.deleted = true;
        }
        Answer {
            status: 204,
            headers: vec![],
            body: None,
        }
    }

    fn search(&self, st: &SandboxState, t: &str, query: &[(String, String)]) -> Answer {
        let get = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
        let count: usize = get("_count")
            .and_then(|c| c.parse().ok())
            .unwrap_or(10)
            .min(1000);
        let offset: usize = get("ct").and_then(|c| c.parse().ok()).unwrap_or(0);
        let mut matches: Vec<(&u64, &Value)> = self
            .types
            .get(t)
            .into_iter()
            .flat_map(|m| m.values())
            .filter(|e| !e.deleted)
            .filter_map(|e| e.versions.last().map(|v| (&e.seq, v)))
            .filter(|(_, r)| query.iter().all(|(k, v)| matches_param(r, k, v)))
            .collect();
        matches.sort_by_key(|(s, _)| **s);
        let total = matches.len();
        let base = format!("{}/{t}", fhir_url(st));
        let own: Vec<(String, String)> = query.iter().filter(|(k, _)| k != "ct").cloned().collect();
        let link = |ct: usize| {
            let mut q = own.clone();
            if ct > 0 {
                q.push(("ct".into(), ct.to_string()));
            }
            let qs = serde_urlencoded::to_string(&q).unwrap_or_default();
            if qs.is_empty() {
                base.clone()
            } else {
                format!("{base}?{qs}")
            }
        };
        let mut links = vec![json!({"relation": "self", "url": link(offset)})];
        if offset + count < total {
            links.push(json!({"relation": "next", "url": link(offset + count)}));
        }
        let entries: Vec<Value> = matches
            .iter()
            .skip(offset)
            .take(count)
            .map(|(_, r)| {
                let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
                json!({"fullUrl": format!("{base}/{id}"), "resource": r, "search": {"mode": "match"}})
            })
            .collect();
        let mut bundle = json!({
            "resourceType": "Bundle",
            "id": uuid::Uuid::new_v4().to_string(),
            "meta": {"lastUpdated": clock::iso8601_millis(st.clock.now_millis())},
            "type": "searchset",
            "total": total,
            "link": links,
        });
        if !entries.is_empty() {
            bundle["entry"] = Value::Array(entries);
        }
        Answer::new(200, bundle)
    }
}

/// Search semantics for the parameters the sandbox supports; others are ignored, as FHIR
/// servers ignore unknown parameters in lenient mode.
fn matches_param(r: &Value, key: &str, value: &str) -> bool {
    match key {
        "_id" => value
            .split(',')
            .any(|id| r.get("id").and_then(Value::as_str) == Some(id)),
        "identifier" => {
            let (system, code) = match value.split_once('|') {
                Some((s, c)) => (Some(s), c),
                None => (None, value),
            };
            r.get("identifier")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|i| {
                    let sys_ok = match system {
                        None => true,
                        Some("") => i.get("system").is_none(),
                        Some(s) => i.get("system").and_then(Value::as_str) == Some(s),
                    };
                    sys_ok
                        && (code.is_empty() || i.get("value").and_then(Value::as_str) == Some(code))
                })
        }
        "name" => {
            let needle = value.to_lowercase();
            let mut words = Vec::new();
            match r.get("name") {
                Some(Value::String(s)) => words.push(s.clone()),
                Some(Value::Array(names)) => {
                    for n in names {
                        for k in ["family", "text"] {
                            if let Some(s) = n.get(k).and_then(Value::as_str) {
                                words.push(s.to_string());
                            }
                        }
                        for g in n
                            .get("given")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            if let Some(s) = g.as_str() {
                                words.push(s.to_string());
                            }
                        }
                    }
                }
                _ => {}
            }
            words.iter().any(|w| w.to_lowercase().starts_with(&needle))
        }
        _ => true,
    }
}

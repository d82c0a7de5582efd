//! A JWT's header and claims, decoded without checking the signature (fhircheck reads claims
//! to explain; the FHIR service verifies).

use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock;

/// A JWT's header and claims, decoded without checking the signature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claims {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

/// The claims worth showing, in this order.
pub const SHOWN_CLAIMS: &[&str] = &[
    "aud", "iss", "tid", "appid", "azp", "oid", "sub", "roles", "scp", "scope", "ver", "idtyp",
    "iat", "nbf", "exp",
];

impl Claims {
    /// `None` when the token is not a JWT (opaque tokens are legal).
    pub fn decode(token: &str) -> Option<Claims> {
        let mut parts = token.split('.');
        let (h, c, _s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let dec = |p: &str| -> Option<Map<String, Value>> {
            let bytes = engine.decode(p.trim_end_matches('=')).ok()?;
            serde_json::from_slice(&bytes).ok()
        };
        Some(Claims {
            header: dec(h)?,
            claims: dec(c)?,
        })
    }

    pub fn str(&self, k: &str) -> Option<&str> {
        self.claims.get(k).and_then(Value::as_str)
    }

    /// A time claim in Unix seconds.
    pub fn time(&self, k: &str) -> Option<i64> {
        number(self.claims.get(k))
    }

    /// `aud` as a list (it may be a string or an array).
    pub fn audiences(&self) -> Vec<String> {
        self.strings("aud")
    }

    /// A claim that may be one string or an array of strings, as a list.
    pub fn strings(&self, k: &str) -> Vec<String> {
        match self.claims.get(k) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => vec![],
        }
    }

    /// The shown claims as (name, text) pairs; times as UTC and relative to `now`.
    pub fn summary(&self, now: i64) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for k in SHOWN_CLAIMS {
            let Some(v) = self.claims.get(*k) else {
                // Scope-based tokens (SMART, most OAuth2 servers) carry permissions in `scope`.
                let scoped = self.claims.contains_key("scope") || self.claims.contains_key("scp");
                if *k == "roles" && !scoped {
                    // Entra tokens carry `tid`: Azure's FHIR services grant data access by Azure
                    // role assignment, which is not in the token.
                    let text = if self.claims.contains_key("tid") {
                        "(none; as expected: Azure FHIR data roles are Azure role assignments, checked by the service, not app roles in the token)"
                    } else {
                        "(none: no application roles in the token)"
                    };
                    out.push(("roles".into(), text.into()));
                }
                continue;
            };
            let text = match (*k, v) {
                ("iat" | "nbf" | "exp", _) => match number(Some(v)) {
                    Some(t) => format!("{} ({})", clock::utc(t), clock::relative(t, now)),
                    None => v.to_string(),
                },
                (_, Value::String(s)) => s.clone(),
                (_, Value::Array(a)) => a
                    .iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(", "),
                (_, other) => other.to_string(),
            };
            out.push(((*k).to_string(), text));
        }
        out
    }
}

/// A number claim or field, whether sent as a number or as a string (Entra v1 sends strings).
pub(crate) fn number(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

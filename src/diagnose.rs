//! Cause and fix for failures, in the words of someone who just followed the registration
//! guide. Pure functions over what the run collected.

use serde::Serialize;

use crate::auth::TokenError;
use crate::result::{Outcome, RequestStep};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// A stable id, e.g. `token.aadsts.7000215` or `fhir.forbidden`.
    pub check: String,
    pub cause: String,
    pub fix: String,
}

fn d(check: impl Into<String>, cause: impl Into<String>, fix: impl Into<String>) -> Diagnosis {
    Diagnosis {
        check: check.into(),
        cause: cause.into(),
        fix: fix.into(),
    }
}

/// Entra ID (AADSTS) codes: cause and fix.
pub fn aadsts(code: u64) -> Option<(&'static str, &'static str)> {
    Some(match code {
        90002 => ("the tenant (directory) was not found",
                  "check the tenant id or domain (Entra ID > Overview > Tenant ID) and that the authority host is the right cloud (global, US Government, China)"),
        700016 => ("no application with this client id exists in this tenant",
                   "copy the Application (client) ID from the app registration's Overview page, and check the app is registered in the same tenant you request the token from"),
        7000215 => ("the client secret is wrong",
                    "use the secret's Value (shown once, when it was created), not its Secret ID; if the Value is lost, create a new secret under Certificates & secrets"),
        7000222 => ("the client secret has expired",
                    "create a new client secret under Certificates & secrets and update your environment or CI secret"),
        7000218 => ("the request carried no client secret or client assertion",
                    "supply the credential: set client_secret in the profile, or AZURE_CLIENT_SECRET"),
        900144 => ("a required parameter is missing from the token request",
                   "the message names the parameter; v1 needs `resource`, v2 needs `scope`"),
        500011 => ("the resource (audience) you asked a token for does not exist in this tenant",
                   "set the resource to the FHIR service URL exactly (e.g. https://<workspace>-<service>.fhir.azurehealthcareapis.com); check the FHIR service is in this tenant; if the Azure Healthcare APIs service principal is missing, create it with `az ad sp create --id 4f6778d8-5aef-43dc-a1ff-b073724b9495`"),
        70011 | 1002012 => ("the scope is not valid for client credentials",
                            "with the v2 endpoint the scope must be `<fhir-url>/.default`; or switch the profile to version v1 with `resource`"),
        700022 => ("the scope names more than one resource",
                   "ask for one resource per token request: `<fhir-url>/.default` only"),
        901002 => ("`resource` was sent to the v2 endpoint, which does not accept it",
                   "use version v1 (which takes `resource`), or send `scope=<fhir-url>/.default` to v2"),
        700027 => ("the client assertion's signature does not match any certificate of the app",
                   "upload the certificate (public part) under Certificates & secrets, and sign with its private key"),
        700024 => ("the client assertion is outside its valid time",
                   "check the machine's clock is synchronised and that times are UTC"),
        50012 => ("the client assertion is not valid",
                  "check the certificate, the signing algorithm and the assertion's aud/iss/sub claims"),
        501051 => ("the application is not assigned to a role for the resource",
                   "assign the app a role on the resource, or turn off 'assignment required'"),
        65001 => ("consent is missing",
                  "grant admin consent for the application permissions (API permissions > Grant admin consent)"),
        53003 => ("Conditional Access blocked the sign-in",
                  "ask your Entra administrator to review the Conditional Access policy for this service principal"),
        7000112 => ("the application is disabled",
                    "re-enable the app (Enterprise applications > Properties > Enabled for users to sign in)"),
        90038 | 900382 => ("the request went to the wrong cloud",
                           "use the authority host of the cloud your tenant is in (usgov, china or global)"),
        _ => return None,
    })
}

/// Why a token could not be obtained.
pub fn token_error(e: &TokenError) -> Option<Diagnosis> {
    match e {
        TokenError::Endpoint { code: Some(c), .. } => {
            aadsts(*c).map(|(cause, fix)| d(format!("token.aadsts.{c}"), cause, fix))
        }
        TokenError::Endpoint { error: Some(err), .. } => match err.as_str() {
            "invalid_client" => Some(d("token.invalid_client", "the token endpoint did not accept the client's credentials", "check the client id and secret (or key) registered with the issuer, and whether it expects client_secret_post or client_secret_basic")),
            "invalid_scope" | "invalid_target" => Some(d("token.invalid_scope", "the issuer does not grant the requested scope or audience", "ask only for scopes the client is registered for; check the resource or audience")),
            "unauthorized_client" => Some(d("token.unauthorized_client", "the client may not use the client credentials grant", "enable the client_credentials grant for this client at the issuer")),
            _ => None,
        },
        TokenError::Endpoint { status: 404, .. } => Some(d(
            "token.not_found",
            "the token URL does not exist",
            "check the authority host and tenant (for Entra: https://login.microsoftonline.com/<tenant>/oauth2/token)",
        )),
        TokenError::Network { .. } => Some(d(
            "token.unreachable",
            "the token endpoint could not be reached",
            "check the authority host or token URL, and any proxy between you and it",
        )),
        _ => None,
    }
}

/// Reads `key="value"` pairs from a `WWW-Authenticate: Bearer …` challenge.
pub fn challenge_params(header: &str) -> Vec<(String, String)> {
    let rest = header.trim();
    let rest = rest
        .strip_prefix("Bearer")
        .or_else(|| rest.strip_prefix("bearer"))
        .unwrap_or(rest);
    let mut out = Vec::new();
    let mut s = rest.trim_start();
    while !s.is_empty() {
        let Some(eq) = s.find('=') else { break };
        let key = s[..eq].trim().trim_start_matches(',').trim().to_string();
        s = &s[eq + 1..];
        let value;
        if let Some(q) = s.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            value = q[..end].to_string();
            s = q.get(end + 1..).unwrap_or("");
        } else {
            let end = s.find(',').unwrap_or(s.len());
            value = s[..end].trim().to_string();
            s = &s[end..];
        }
        s = s.trim_start().trim_start_matches(',').trim_start();
        out.push((key, value));
    }
    out
}

/// Why a FHIR request failed, when its status says something about access.
pub fn request(r: &RequestStep) -> Option<Diagnosis> {
    if let Outcome::Error(msg) = &r.outcome {
        return transport(msg);
    }
    if !matches!(r.outcome, Outcome::Failed) {
        return None;
    }
    let status = r.status?;
    let param = |k: &str| {
        r.challenge
            .as_deref()
            .map(challenge_params)
            .unwrap_or_default()
            .into_iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v)
    };
    match status {
        401 => {
            let why = param("error_description").unwrap_or_default();
            let expected = param("resource_id");
            let authority = param("authorization_uri");
            let lower = why.to_ascii_lowercase();
            if lower.contains("audience") {
                Some(d(
                    "fhir.audience",
                    format!("the FHIR service rejected the token's audience ({why})"),
                    match expected {
                        Some(a) => format!("request the token for exactly `{a}` (the resource / scope in your profile), with no trailing slash or other difference"),
                        None => "request the token for exactly the FHIR service URL".to_string(),
                    },
                ))
            } else if lower.contains("expired") || lower.contains("not yet valid") || lower.contains("lifetime") {
                Some(d(
                    "fhir.token_time",
                    format!("the FHIR service says the token is outside its valid time ({why})"),
                    "check the clocks of this machine and of the token issuer; get a fresh token",
                ))
            } else if lower.contains("issuer") || lower.contains("tenant") {
                Some(d(
                    "fhir.issuer",
                    format!("the token comes from a tenant the FHIR service does not trust ({why})"),
                    match authority {
                        Some(a) => format!("request the token from the FHIR service's tenant: {a}"),
                        None => "request the token from the tenant the FHIR service belongs to".to_string(),
                    },
                ))
            } else if lower.contains("signature") || lower.contains("key") {
                Some(d(
                    "fhir.signature",
                    format!("the FHIR service could not verify the token's signature ({why})"),
                    "request the token from the authority the FHIR service trusts; a token from another issuer or a test key is refused",
                ))
            } else {
                Some(d(
                    "fhir.unauthenticated",
                    "the FHIR service did not accept the request's credentials",
                    match authority {
                        Some(a) => format!("send a token issued by {a}{}", expected.map(|e| format!(" for the resource `{e}`")).unwrap_or_default()),
                        None => "check that the request sends a bearer token and that the profile targets this FHIR service".into(),
                    },
                ))
            }
        }
        403 => {
            let writes = !matches!(r.method.as_str(), "GET" | "HEAD");
            Some(d(
                if writes { "fhir.forbidden.write" } else { "fhir.forbidden.read" },
                if writes {
                    "the service principal has no FHIR data role that allows this change (FHIR Data Reader only reads; FHIR Data Writer cannot delete)".to_string()
                } else {
                    "the service principal has no FHIR data role on this FHIR service".to_string()
                },
                "in the FHIR service's Access control (IAM), assign the app's service principal (the `oid` claim of the token) the role FHIR Data Contributor (or Writer / Reader as needed); a new assignment can take up to 5 minutes to apply. Granting admin consent for API permissions does not give a client-credentials app data access",
            ))
        }
        429 => Some(d(
            "fhir.throttled",
            "the FHIR service is throttling requests (HTTP 429); this is not an access problem",
            "retry after the Retry-After interval, send fewer requests per second, or raise the service's throughput",
        )),
        _ => None,
    }
}

fn transport(msg: &str) -> Option<Diagnosis> {
    let m = msg.to_ascii_lowercase();
    if m.contains("connection refused") {
        Some(d("net.refused", "nothing answers at the FHIR URL's host and port", "check `fhir_url` (scheme, host and port) and that the service is running and reachable from here"))
    } else if m.contains("could not be resolved") {
        Some(d("net.dns", "the FHIR URL's host name does not resolve", "check the spelling of the host in `fhir_url`; private endpoints need this machine on the right network or DNS"))
    } else if m.contains("timed out") {
        Some(d(
            "net.timeout",
            "the FHIR service did not answer in time",
            "check network access (firewall, private endpoint, proxy), or raise --timeout",
        ))
    } else if m.contains("certificate") || m.contains("tls") {
        Some(d("net.tls", "the TLS connection failed", "check the URL uses the right scheme and host; a proxy that intercepts TLS needs its certificate trusted"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_in_the_reference_has_a_cause_and_fix() {
        for c in [
            90002, 700016, 7000215, 7000222, 7000218, 900144, 500011, 70011, 1002012, 700022,
            901002, 700027, 700024, 50012, 501051, 65001, 53003, 7000112, 90038, 900382,
        ] {
            let (cause, fix) = aadsts(c).unwrap_or_else(|| panic!("no entry for {c}"));
            assert!(!cause.is_empty() && !fix.is_empty());
        }
        assert!(aadsts(12345).is_none());
        let (_, fix) = aadsts(7000215).unwrap();
        assert!(fix.contains("Value") && fix.contains("Secret ID"));
    }

    #[test]
    fn reads_bearer_challenges() {
        let p = challenge_params(
            r#"Bearer authorization_uri="https://login/t", resource_id="https://fhir", realm="https://fhir", error="invalid_token", error_description="The audience is invalid""#,
        );
        assert_eq!(p[0], ("authorization_uri".into(), "https://login/t".into()));
        assert_eq!(
            p[4],
            ("error_description".into(), "The audience is invalid".into())
        );
        assert_eq!(
            challenge_params("Bearer realm=x, error=y")[1],
            ("error".into(), "y".into())
        );
    }
}

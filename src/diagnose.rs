//! Cause and fix for failures, in the words of someone who just followed the registration
//! guide. Pure functions over what the run collected.

use serde::Serialize;

use crate::auth::TokenError;
use crate::result::{Outcome, RequestStep};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
        TokenError::Endpoint {
            code: Some(c),
            presented,
            ..
        } if crate::auth::FEDERATED_CODES.contains(c) => Some(federated(*c, presented.as_deref())),
        TokenError::Profile { message } if message.starts_with("no credential of the chain") => Some(d(
            "token.chain",
            "no credential of the chain is available here (the list says what each needs)",
            "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a client secret; or, secretless, AZURE_FEDERATED_TOKEN_FILE, a GitHub Actions job with `permissions: id-token: write`, a managed identity, or `az login`",
        )),
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
        TokenError::Command { code: Some(c), .. } => aadsts(*c).map(|(cause, fix)| d(format!("token.aadsts.{c}"), cause, fix)),
        TokenError::Command { message, .. } if message.contains("az login") || message.contains("not on PATH") => Some(d(
            "token.azure_cli",
            "the Azure CLI has no signed-in account for this (or is not installed)",
            "install the Azure CLI and run `az login` (with `--tenant <tenant id>` for the FHIR service's tenant); or use a secret, certificate or managed identity profile",
        )),
        TokenError::Network { message } if message.contains("managed identity") => Some(d(
            "token.managed_identity",
            "no managed identity endpoint answered: fhircheck is not running on an Azure resource with a managed identity",
            "run fhircheck in Azure (a VM, App Service, Functions, Container Apps…) with a system- or user-assigned identity enabled, and give that identity a FHIR data role; elsewhere use a secret, a certificate or the Azure CLI",
        )),
        TokenError::Network { .. } => Some(d(
            "token.unreachable",
            "the token endpoint could not be reached",
            "check the authority host or token URL, and any proxy between you and it",
        )),
        _ => None,
    }
}

/// Entra's federated-credential errors: what the presented token said, next to what the app's
/// federated credential must say.
fn federated(code: u64, p: Option<&crate::auth::Presented>) -> Diagnosis {
    let none = || "(none)".to_string();
    let iss = p.and_then(|p| p.issuer.clone()).unwrap_or_else(none);
    let sub = p.and_then(|p| p.subject.clone()).unwrap_or_else(none);
    let aud = p
        .map(|p| p.audiences.join(", "))
        .filter(|a| !a.is_empty())
        .unwrap_or_else(none);
    let register = format!(
        "in Entra ID > App registrations > the app > Certificates & secrets > Federated credentials, add (or correct) one with issuer `{iss}`, subject `{sub}` and audience `{}`",
        crate::auth::EXCHANGE_AUDIENCE
    );
    let (cause, fix) = match code {
        700211 => (
            format!("no federated credential of the app has the presented token's issuer `{iss}`"),
            register,
        ),
        700212 => (
            format!("the presented token's audience `{aud}` is not one a federated credential of the app accepts"),
            format!(
                "request the external token for the audience `{}` (GitHub: the OIDC request's `audience=`; AKS: the projected token's audience), or add `{aud}` to the federated credential's audiences",
                crate::auth::EXCHANGE_AUDIENCE
            ),
        ),
        700213 => (
            format!("no federated credential of the app has the presented token's subject `{sub}` (issuer `{iss}`)"),
            format!("{register}; the subject must match exactly: a branch, environment or pull request each have their own (e.g. repo:OWNER/REPO:environment:NAME)"),
        ),
        700024 => (
            format!(
                "the presented federated token is outside its valid time (expires {})",
                p.and_then(|p| p.expires_at)
                    .map(crate::clock::iso8601)
                    .unwrap_or_else(none)
            ),
            "use a fresh token: the token file is re-read for every request (AKS rotates it; check the projection is mounted and current); GitHub's OIDC tokens live minutes, so fetch it in the same job; and check the machine's clock".into(),
        ),
        70025 => (
            "the app has no federated credentials at all".into(),
            register,
        ),
        _ => (
            format!("no federated credential of the app matches the presented token (issuer `{iss}`, subject `{sub}`, audience `{aud}`)"),
            register,
        ),
    };
    d(format!("token.aadsts.{code}"), cause, fix)
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
        if msg.contains("the answer was an HTML page") {
            return Some(html_instead_of_json(r.status));
        }
        return transport_to(&r.url, msg);
    }
    if !matches!(r.outcome, Outcome::Failed) {
        return None;
    }
    http_answer(&r.method, r.status?, r.challenge.as_deref(), &r.issues)
}

/// Like [`request`], with the claims of the token the request carried: a 401 is then
/// explained by the same audience and tenant checks `doctor` runs.
pub fn request_with_claims(
    r: &RequestStep,
    claims: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Option<Diagnosis> {
    if let (Some(401), Some(c), Some(ch)) = (r.status, claims, r.challenge.as_deref()) {
        let params = challenge_params(ch);
        let get = |k: &str| {
            params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let auds: Vec<String> = match c.get("aud") {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => vec![],
        };
        if let Some(expected) = get("resource_id") {
            let f = audience_finding(&auds, &expected, "the FHIR service's challenge");
            if f.status == Status::Fail {
                return Some(d(
                    "fhir.audience",
                    f.cause.unwrap_or_default(),
                    f.fix.unwrap_or_default(),
                ));
            }
        }
        if let Some(tenant) = get("authorization_uri")
            .as_deref()
            .and_then(tenant_of_authority)
        {
            let s = |k: &str| c.get(k).and_then(|v| v.as_str());
            let f = tenant_finding(s("tid"), s("iss"), Some(&tenant));
            if f.status == Status::Fail {
                return Some(d(
                    "fhir.issuer",
                    f.cause.unwrap_or_default(),
                    f.fix.unwrap_or_default(),
                ));
            }
        }
    }
    let mut found = request(r)?;
    if let (true, Some(oid)) = (
        found.check.starts_with("fhir.forbidden"),
        claims.and_then(|c| c.get("oid")).and_then(|v| v.as_str()),
    ) {
        found.fix = role_fix(oid, &r.url, found.check.ends_with("write"));
    }
    Some(found)
}

/// The no-role fix with the service principal's object id and a ready command.
pub fn role_fix(oid: &str, url: &str, writes: bool) -> String {
    let (role, other) = if writes {
        ("FHIR Data Contributor", "FHIR Data Writer cannot delete")
    } else {
        ("FHIR Data Reader", "or FHIR Data Contributor to write too")
    };
    // `<workspace>-<service>.fhir.azurehealthcareapis.com`: workspace names have no hyphen.
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or("")
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    let (workspace, service) = host
        .split('.')
        .next()
        .and_then(|first| first.split_once('-'))
        .filter(|_| azure_fhir_host(url) == Some(AzureFhirHost::HealthDataServices))
        .unwrap_or(("<workspace>", "<fhir-service>"));
    format!(
        "assign the app's service principal (object id {oid}, the token's `oid`) the role {role} ({other}) in the FHIR service's Access control (IAM), or run: `az role assignment create --assignee-object-id {oid} --assignee-principal-type ServicePrincipal --role \"{role}\" --scope $(az healthcareapis workspace fhir-service show --resource-group <resource-group> --workspace-name {workspace} --name {service} --query id -o tsv)`; a new assignment can take up to 5 minutes to apply (`fhircheck run --wait-for-access 5m` waits for it). Granting admin consent for API permissions does not give a client-credentials app data access"
    )
}

/// Cause and fix for a FHIR answer that says something about access: 401, 403, 429.
pub fn http_answer(
    method: &str,
    status: u16,
    challenge: Option<&str>,
    issues: &[crate::assertions::OutcomeIssue],
) -> Option<Diagnosis> {
    let param = |k: &str| {
        challenge
            .map(challenge_params)
            .unwrap_or_default()
            .into_iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v)
    };
    // What the server said, from the challenge or the body (HFS-style "Invalid audience").
    let body_text = issues
        .iter()
        .filter_map(|i| i.diagnostics.clone())
        .collect::<Vec<_>>()
        .join("; ");
    match status {
        401 => {
            let why = param("error_description")
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| body_text.clone());
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
            } else if lower.contains("signature") || lower.contains("key") || lower.contains("kid") {
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
        403 if param("error").as_deref() == Some("insufficient_scope")
            || body_text.to_ascii_lowercase().contains("scope") =>
        {
            Some(d(
                "fhir.insufficient_scope",
                format!("the token's scopes do not allow this request{}", param("scope").map(|s| format!(" (it needs {s})")).unwrap_or_default()),
                "request the scopes this call needs, e.g. system/Patient.read (v1) or system/Patient.rs (v2) for reads, .write / .cud for changes; the client must be allowed them at the issuer",
            ))
        }
        403 => {
            let writes = !matches!(method, "GET" | "HEAD");
            Some(d(
                if writes { "fhir.forbidden.write" } else { "fhir.forbidden.read" },
                if writes {
                    "the service principal has no FHIR data role that allows this change (FHIR Data Reader only reads; FHIR Data Writer cannot delete)".to_string()
                } else {
                    "the service principal has no FHIR data role on this FHIR service".to_string()
                },
                "in the FHIR service's Access control (IAM), assign the role FHIR Data Contributor (or Writer / Reader as needed) to the app's service principal, whose object id is the token's `oid` claim; a new assignment can take up to 5 minutes to apply. Granting admin consent for API permissions does not give a client-credentials app data access",
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

/// A script read an answer as JSON, and it was an HTML page.
fn html_instead_of_json(status: Option<u16>) -> Diagnosis {
    let gateway = matches!(status, Some(502..=504));
    d(
        "script.html_answer",
        if gateway {
            "a proxy or gateway in front of the FHIR service answered with its own error page (HTTP 502-504): it could not reach the service, or the service did not answer in time; the script's JSON.parse then failed on the page"
        } else {
            "the answer was an HTML page, not the FHIR server's JSON: a proxy, gateway or sign-in page answered, or the URL points at a web site; the script's JSON.parse then failed on it"
        },
        if gateway {
            "retry later or with --retry N; check the gateway's health and its route to the FHIR service; fhircheck doctor shows what answers at the FHIR URL"
        } else {
            "check the URL is the FHIR service's own (Azure portal > the FHIR service > Overview > FHIR metadata endpoint) and any proxy between you and it; fhircheck doctor shows what answers there"
        },
    )
}

/// Which Azure FHIR service a URL's host is shaped like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AzureFhirHost {
    /// `https://<workspace>-<service>.fhir.azurehealthcareapis.com`: today's service.
    HealthDataServices,
    /// `https://<name>.azurehealthcareapis.com`: Azure API for FHIR, retired 30 September 2026.
    ApiForFhir,
}

impl AzureFhirHost {
    pub fn name(self) -> &'static str {
        match self {
            AzureFhirHost::HealthDataServices => "Azure Health Data Services FHIR service",
            AzureFhirHost::ApiForFhir => "Azure API for FHIR (retired 30 September 2026)",
        }
    }
}

/// The Azure FHIR service a URL names, by its host's shape (global, US Government and China
/// clouds alike).
pub fn azure_fhir_host(url: &str) -> Option<AzureFhirHost> {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':', '?'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let rest = [
        "azurehealthcareapis.com",
        "azurehealthcareapis.us",
        "azurehealthcareapis.azure.cn",
    ]
    .iter()
    .find_map(|d| host.strip_suffix(d))?
    .strip_suffix('.')?;
    if rest.ends_with(".fhir") {
        Some(AzureFhirHost::HealthDataServices)
    } else if !rest.is_empty() && !rest.contains('.') {
        Some(AzureFhirHost::ApiForFhir)
    } else {
        None
    }
}

/// A transport failure on a request to `url`: a retired Azure API for FHIR host that no longer
/// resolves is said to be retired; everything else as [`transport`].
pub fn transport_to(url: &str, msg: &str) -> Option<Diagnosis> {
    if msg.contains("could not be resolved")
        && azure_fhir_host(url) == Some(AzureFhirHost::ApiForFhir)
    {
        return Some(d(
            "net.dns.retired",
            "this is an Azure API for FHIR address (https://<name>.azurehealthcareapis.com): that service was retired on 30 September 2026 and its addresses no longer resolve",
            "use the FHIR service of Azure Health Data Services that the data moved to: Azure portal > the Health Data Services workspace > the FHIR service > Overview > FHIR metadata endpoint (https://<workspace>-<service>.fhir.azurehealthcareapis.com, without /metadata), or `az healthcareapis workspace fhir-service list --resource-group <group> --workspace-name <workspace> -o table`; the token's resource (audience) changes with it",
        ));
    }
    transport(msg)
}

/// Cause and fix for a transport failure message.
pub fn transport(msg: &str) -> Option<Diagnosis> {
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
    } else if m.contains("unknownissuer") || m.contains("machine does not trust") {
        Some(d("net.tls.untrusted", "the server's certificate is signed by a certificate authority this machine does not trust: a private CA, or a proxy that inspects TLS", "get that CA's certificate (PEM) from your network or security team, then pass it with --cacert FILE, or set SSL_CERT_FILE=FILE, or add it to the system's store (Debian/Ubuntu: copy it to /usr/local/share/ca-certificates/ and run update-ca-certificates); behind a proxy, also set HTTPS_PROXY"))
    } else if m.contains("notvalidforname") {
        Some(d("net.tls.name", "the server's certificate is not for the host name in the URL", "use the host name the certificate is for (the FHIR service's own name, not an IP address or an alias)"))
    } else if m.contains("certificate") && m.contains("expired") {
        Some(d(
            "net.tls.expired",
            "the server's certificate has expired (or this machine's clock is wrong)",
            "check the machine's clock; otherwise the server's owner must renew its certificate",
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

// ---------------------------------------------------------------------------------------------
// Findings: the doctor's checklist entries, built by pure functions over collected evidence.

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

/// One checked thing: what was found, and for failures and warnings the cause and fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// A stable id such as `claims.audience`.
    pub check: String,
    pub status: Status,
    /// What was found, in one line.
    pub summary: String,
    pub cause: Option<String>,
    pub fix: Option<String>,
    /// (name, value) pairs the finding rests on; secrets never appear here.
    pub evidence: Vec<(String, String)>,
}

impl Finding {
    pub fn new(check: &str, status: Status, summary: impl Into<String>) -> Finding {
        Finding {
            check: check.to_string(),
            status,
            summary: summary.into(),
            cause: None,
            fix: None,
            evidence: vec![],
        }
    }

    pub fn because(mut self, cause: impl Into<String>, fix: impl Into<String>) -> Finding {
        self.cause = Some(cause.into());
        self.fix = Some(fix.into());
        self
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Finding {
        let value = value.into();
        self.evidence
            .push((name.to_string(), crate::text::clean(&value).into_owned()));
        self
    }
}

/// How a token's audience differs from the one the FHIR service expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudienceMismatch {
    TrailingSlash,
    Case,
    Scheme,
    GuidForUrl,
    Different,
}

fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Compares a token audience with the expected one, naming the kind of difference.
/// A warning when the token's audience is the FHIR URL but for a trailing slash, letter case or
/// scheme: nearly always a typo in the profile, refused by servers that check the audience.
/// Other differences are left alone (an audience may legitimately be an app id or another URI).
pub fn audience_near_miss(audiences: &[String], fhir_url: &str) -> Option<String> {
    if audiences.iter().any(|a| a == fhir_url) {
        return None;
    }
    let aud = audiences.first()?;
    let how = match compare_audience(aud, fhir_url)? {
        AudienceMismatch::TrailingSlash => "only by a trailing slash",
        AudienceMismatch::Case => "only in letter case",
        AudienceMismatch::Scheme => "only in its scheme (http vs https)",
        _ => return None,
    };
    Some(format!(
        "the token's audience `{aud}` differs from the FHIR URL `{fhir_url}` {how}; servers that check the audience compare it as an exact string: request the token for exactly `{fhir_url}`"
    ))
}

pub fn compare_audience(aud: &str, expected: &str) -> Option<AudienceMismatch> {
    if aud == expected {
        return None;
    }
    if aud.trim_end_matches('/') == expected.trim_end_matches('/') {
        return Some(AudienceMismatch::TrailingSlash);
    }
    if aud.eq_ignore_ascii_case(expected) {
        return Some(AudienceMismatch::Case);
    }
    let strip = |s: &str| {
        s.strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .unwrap_or(s)
            .trim_end_matches('/')
            .to_ascii_lowercase()
    };
    if strip(aud) == strip(expected) {
        return Some(AudienceMismatch::Scheme);
    }
    if is_guid(aud) && !is_guid(expected) {
        return Some(AudienceMismatch::GuidForUrl);
    }
    Some(AudienceMismatch::Different)
}

/// The audience finding.
pub fn audience_finding(audiences: &[String], expected: &str, expected_from: &str) -> Finding {
    let shown = audiences.join(", ");
    if audiences.iter().any(|a| a == expected) {
        return Finding::new(
            "claims.audience",
            Status::Pass,
            format!("aud `{shown}` is what the FHIR service expects"),
        )
        .with("expected", expected)
        .with("expected from", expected_from);
    }
    let Some(aud) = audiences.first() else {
        return Finding::new(
            "claims.audience",
            Status::Fail,
            "the token has no aud claim",
        )
        .because(
            "the issuer did not say which resource the token is for",
            format!("request the token for `{expected}`"),
        );
    };
    let kind = compare_audience(aud, expected).unwrap_or(AudienceMismatch::Different);
    let (status, cause) = match kind {
        AudienceMismatch::TrailingSlash => (Status::Fail, format!("the token's audience `{aud}` differs from `{expected}` only by a trailing slash; FHIR servers compare the audience as an exact string")),
        AudienceMismatch::Case => (Status::Fail, format!("the token's audience `{aud}` differs from `{expected}` in letter case")),
        AudienceMismatch::Scheme => (Status::Fail, format!("the token's audience `{aud}` differs from `{expected}` in its scheme (http vs https)")),
        AudienceMismatch::GuidForUrl => (Status::Warn, format!("the token's audience is the resource app's id `{aud}` (a v2-style token), while the FHIR service names `{expected}`; it is accepted only if the service lists that id as an audience")),
        AudienceMismatch::Different => (Status::Fail, format!("the token is for `{aud}`, not for the FHIR service `{expected}`")),
    };
    Finding::new("claims.audience", status, format!("aud `{shown}`, expected `{expected}`"))
        .because(cause, format!("request the token for exactly `{expected}`: the `resource` (v1) or `scope` = `{expected}/.default` (v2) in your profile"))
        .with("expected from", expected_from)
}

/// The tenant a challenge's `authorization_uri` names (its last path segment).
pub fn tenant_of_authority(uri: &str) -> Option<String> {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let seg = rest.trim_end_matches('/').rsplit('/').next()?;
    (seg != rest && !seg.is_empty()).then(|| seg.to_string())
}

/// The tenant finding: `tid` and `iss` against the tenant the FHIR service's challenge names.
pub fn tenant_finding(tid: Option<&str>, iss: Option<&str>, expected: Option<&str>) -> Finding {
    let tid_text = tid.unwrap_or("(none)");
    match expected {
        None => Finding::new("claims.tenant", Status::Pass, format!("tid `{tid_text}`, iss `{}`", iss.unwrap_or("(none)")))
            .with("note", "the FHIR service did not name its tenant; nothing to compare with"),
        Some(e) if tid.is_some_and(|t| t.eq_ignore_ascii_case(e)) => {
            let iss_ok = iss.is_some_and(|i| i.to_ascii_lowercase().contains(&e.to_ascii_lowercase()));
            if iss_ok {
                Finding::new("claims.tenant", Status::Pass, format!("tid `{tid_text}` is the FHIR service's tenant"))
            } else {
                Finding::new("claims.tenant", Status::Warn, format!("tid `{tid_text}` matches, but iss `{}` does not name it", iss.unwrap_or("(none)")))
                    .because("the issuer is not the tenant's", "request the token from the tenant's own authority")
            }
        }
        Some(e) => Finding::new("claims.tenant", Status::Fail, format!("tid `{tid_text}`, but the FHIR service trusts tenant `{e}`"))
            .because(
                "the token was issued by another tenant than the one the FHIR service belongs to (often: the app was registered in another directory)",
                format!("request the token from tenant `{e}`: set the tenant id to it, and register the app there if it is not"),
            ),
    }
}

/// The time finding: `exp`/`nbf` against this machine's clock, and this clock against the
/// server's `Date`.
pub fn times_finding(
    exp: Option<i64>,
    nbf: Option<i64>,
    now: i64,
    server_now: Option<i64>,
) -> Finding {
    let skew = server_now.map(|s| now - s);
    let mut f = match (exp, nbf) {
        (Some(e), _) if e <= now => Finding::new("claims.times", Status::Fail, format!("the token expired {}", crate::clock::relative(e, now)))
            .because(
                "the token arrived already expired: the issuer's clock or this machine's is wrong, or a cached token was reused",
                "check the clocks (use NTP) and request a fresh token",
            ),
        (_, Some(n)) if n > now + 300 => Finding::new("claims.times", Status::Fail, format!("the token is not valid until {}", crate::clock::relative(n, now)))
            .because("the issuer's clock is ahead of this machine's", "check the clocks (use NTP)"),
        (Some(e), _) => Finding::new("claims.times", Status::Pass, format!("valid, expires {}", crate::clock::relative(e, now))),
        (None, _) => Finding::new("claims.times", Status::Warn, "the token has no exp claim").because("the issuer sent a token without an expiry", "check the issuer's configuration"),
    };
    if let Some(s) = skew {
        f = f.with(
            "clock skew",
            format!("{s:+} s against the FHIR server's Date"),
        );
        if s.abs() > 300 && f.status == Status::Pass {
            f.status = Status::Warn;
            f.summary = format!(
                "{}; but this machine's clock is {} s off the FHIR server's",
                f.summary,
                s.abs()
            );
            f.cause = Some(
                "this machine's clock differs from the server's by more than 5 minutes".into(),
            );
            f.fix = Some(
                "synchronise the clock (NTP); token time checks use the server's clock".into(),
            );
        }
    }
    f
}

/// The roles finding: informative, since Azure's FHIR services decide data access by Azure RBAC,
/// and SMART servers by the token's scopes.
pub fn roles_finding(roles: &[String], scope: Option<&str>) -> Finding {
    if let (true, Some(scope)) = (roles.is_empty(), scope) {
        Finding::new(
            "claims.roles",
            Status::Pass,
            format!("no roles; scopes: {scope} (the read and write probes show what they allow)"),
        )
    } else if roles.is_empty() {
        Finding::new("claims.roles", Status::Pass, "no application roles in the token: normal for Azure's FHIR services, which grant data access by Azure role assignment (the read probe checks it)")
    } else {
        Finding::new(
            "claims.roles",
            Status::Pass,
            format!("roles: {}", roles.join(", ")),
        )
    }
}

/// The version finding.
pub fn version_finding(ver: Option<&str>, iss: Option<&str>) -> Finding {
    match ver {
        Some(v) => Finding::new("claims.version", Status::Pass, format!("token version {v}"))
            .with("iss", iss.unwrap_or("(none)")),
        None => Finding::new(
            "claims.version",
            Status::Pass,
            "no ver claim (not an Entra token)",
        ),
    }
}

#[cfg(test)]
mod finding_tests {
    use super::*;

    #[test]
    fn audience_near_misses_warn_and_other_audiences_do_not() {
        let url = "https://ws-fhir.fhir.azurehealthcareapis.com";
        let w = |aud: &str| audience_near_miss(&[aud.to_string()], url);
        assert!(w(&format!("{url}/")).unwrap().contains("trailing slash"));
        assert!(w("https://WS-fhir.fhir.azurehealthcareapis.com")
            .unwrap()
            .contains("letter case"));
        assert!(w("http://ws-fhir.fhir.azurehealthcareapis.com")
            .unwrap()
            .contains("scheme"));
        assert_eq!(w(url), None);
        assert_eq!(w("api://my-fhir-api"), None);
        assert_eq!(w("https://other.example"), None);
    }

    #[test]
    fn audience_differences_are_named() {
        use AudienceMismatch::*;
        let fhir = "https://ws-fhir.fhir.azurehealthcareapis.com";
        assert_eq!(compare_audience(fhir, fhir), None);
        assert_eq!(
            compare_audience(&format!("{fhir}/"), fhir),
            Some(TrailingSlash)
        );
        assert_eq!(
            compare_audience("https://WS-fhir.fhir.azurehealthcareapis.com", fhir),
            Some(Case)
        );
        assert_eq!(
            compare_audience("http://ws-fhir.fhir.azurehealthcareapis.com", fhir),
            Some(Scheme)
        );
        assert_eq!(
            compare_audience("4f6778d8-5aef-43dc-a1ff-b073724b9495", fhir),
            Some(GuidForUrl)
        );
        assert_eq!(
            compare_audience("https://azurehealthcareapis.com", fhir),
            Some(Different)
        );
        let f = audience_finding(&[format!("{fhir}/")], fhir, "the challenge");
        assert_eq!(f.status, Status::Fail);
        assert!(f.cause.unwrap().contains("trailing slash"));
        let f = audience_finding(&["4f6778d8-5aef-43dc-a1ff-b073724b9495".into()], fhir, "x");
        assert_eq!(f.status, Status::Warn);
        assert_eq!(
            audience_finding(&[fhir.into()], fhir, "x").status,
            Status::Pass
        );
    }

    #[test]
    fn tenant_mismatch() {
        assert_eq!(
            tenant_of_authority("https://login.microsoftonline.com/abc-1/").as_deref(),
            Some("abc-1")
        );
        assert_eq!(
            tenant_of_authority("https://login.microsoftonline.com"),
            None
        );
        let f = tenant_finding(Some("t2"), Some("https://sts.windows.net/t2/"), Some("t1"));
        assert_eq!(f.status, Status::Fail);
        assert!(f.fix.unwrap().contains("`t1`"));
        assert_eq!(
            tenant_finding(Some("t1"), Some("https://sts.windows.net/t1/"), Some("T1")).status,
            Status::Pass
        );
    }

    #[test]
    fn expired_not_yet_valid_and_skew() {
        let now = 1_000_000;
        assert_eq!(
            times_finding(Some(now - 10), None, now, None).status,
            Status::Fail
        );
        assert_eq!(
            times_finding(Some(now + 3600), Some(now + 3600), now, None).status,
            Status::Fail
        );
        assert_eq!(
            times_finding(Some(now + 3600), Some(now + 100), now, None).status,
            Status::Pass
        );
        let skewed = times_finding(Some(now + 3600), Some(now), now, Some(now - 900));
        assert_eq!(skewed.status, Status::Warn);
        assert!(skewed.summary.contains("900 s off"));
        assert_eq!(
            times_finding(Some(now + 3600), Some(now), now, Some(now - 30)).status,
            Status::Pass
        );
    }
}

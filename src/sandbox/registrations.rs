//! What the sandbox's directory knows: tenants, app registrations with their secrets,
//! service principals, role assignments, the FHIR service's audience. Built-in scenarios are
//! variations of one healthy registration, each reproducing a common mistake.

use serde::{Deserialize, Serialize};

/// The sandbox's primary tenant, where the FHIR service lives.
pub const TENANT: &str = "8f3c2e1a-5b7d-4c9e-a1f2-3d4e5f6a7b8c";
pub const TENANT_DOMAIN: &str = "contoso-health.onmicrosoft.com";
/// A second tenant, for the wrong-tenant scenario.
pub const OTHER_TENANT: &str = "2b9d7c6e-1a3f-4e5d-8c7b-6a5f4e3d2c1b";
pub const OTHER_TENANT_DOMAIN: &str = "fabrikam-dev.onmicrosoft.com";
/// The service client a user registered.
pub const CLIENT_ID: &str = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b";
/// Its service principal's object id (`oid` in its tokens).
pub const CLIENT_OID: &str = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
pub const SECRET_ID: &str = "c0ffee00-1234-4cde-8f00-abcdef012345";
/// Published on purpose: the sandbox is a local test double, never a real directory.
pub const SECRET_VALUE: &str = "Sbx8Q~fhircheck.sandbox-Secret_2f7a9c1e4b";
/// The FHIR service's resource application.
pub const FHIR_APP_ID: &str = "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9";
/// Azure Healthcare APIs' first-party application (its id is the public one).
pub const HEALTHCARE_APIS_APP_ID: &str = "4f6778d8-5aef-43dc-a1ff-b073724b9495";
pub const HEALTHCARE_APIS_URI: &str = "https://azurehealthcareapis.com";
/// A client id nobody registered.
pub const UNKNOWN_CLIENT_ID: &str = "0d0e0a0d-bee0-4f00-9000-00000000c0de";
/// A tenant id that does not exist.
pub const UNKNOWN_TENANT: &str = "00000000-dead-4bee-8f00-000000000000";

pub const READER: &str = "FHIR Data Reader";
pub const WRITER: &str = "FHIR Data Writer";
pub const CONTRIBUTOR: &str = "FHIR Data Contributor";

/// The built-in scenarios, with one line each for `--help`.
pub const SCENARIOS: &[(&str, &str)] = &[
    (
        "healthy",
        "everything right: secret, FHIR Data Contributor role, exact audience",
    ),
    (
        "wrong-secret",
        "the client sends the secret's ID instead of its Value (AADSTS7000215)",
    ),
    (
        "expired-secret",
        "the client secret expired (AADSTS7000222)",
    ),
    (
        "unknown-app",
        "the client id is not registered in the tenant (AADSTS700016)",
    ),
    (
        "unknown-tenant",
        "the tenant id does not exist (AADSTS90002)",
    ),
    (
        "no-role",
        "token works, but no FHIR data role is assigned: every data call is 403",
    ),
    (
        "read-only",
        "only FHIR Data Reader: reads pass, create/update/delete are 403",
    ),
    (
        "wrong-audience",
        "token asked for https://azurehealthcareapis.com instead of the FHIR URL: 401",
    ),
    (
        "audience-trailing-slash",
        "token asked for the FHIR URL with a trailing slash: 401",
    ),
    (
        "wrong-tenant",
        "the app is registered in another tenant than the FHIR service: 401",
    ),
    (
        "expired-token",
        "the token service's clock is 2 hours behind: tokens arrive expired, 401",
    ),
    (
        "new-role",
        "the FHIR Data Contributor role was assigned just now: data calls answer 403 for the first 4 seconds",
    ),
    (
        "throttled",
        "the FHIR service answers every other data request with 429 and Retry-After",
    ),
];

pub fn scenario_names() -> Vec<&'static str> {
    SCENARIOS.iter().map(|(n, _)| *n).collect()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registrations {
    #[serde(default)]
    pub description: Option<String>,
    pub tenants: Vec<Tenant>,
    pub applications: Vec<Application>,
    pub fhir: FhirService,
    #[serde(default)]
    pub role_assignments: Vec<RoleAssignment>,
    /// Managed identities of Azure resources in the FHIR service's tenant.
    #[serde(default)]
    pub managed_identities: Vec<ManagedIdentity>,
    /// SMART Backend Services clients of the FHIR service's own authorization server.
    #[serde(default)]
    pub smart_clients: Vec<SmartClient>,
    /// Seconds added to the token service's clock (negative: behind).
    #[serde(default)]
    pub token_clock_offset_seconds: i64,
    /// Answer every other data request with 429.
    #[serde(default)]
    pub throttle: bool,
    /// What the client side is configured with: printed on start, used by `demo`.
    pub client: ClientConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    pub id: String,
    #[serde(default)]
    pub domain: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub display_name: String,
    pub client_id: String,
    /// The service principal's object id.
    pub object_id: String,
    /// Tenants that hold a service principal for it; the first is the home tenant.
    pub tenants: Vec<String>,
    #[serde(default)]
    pub secrets: Vec<SecretCredential>,
    /// Certificates (public parts, PEM) whose keys may sign client assertions.
    #[serde(default)]
    pub certificates: Vec<CertificateCredential>,
    /// Federated identity credentials: external tokens (GitHub Actions, Kubernetes) it accepts
    /// as its client assertion.
    #[serde(default)]
    pub federated_credentials: Vec<FederatedCredential>,
    /// Identifier URIs (App ID URIs) a token can be requested for.
    #[serde(default)]
    pub app_id_uris: Vec<String>,
    /// 1 or 2: the shape of tokens issued for this app as a resource.
    #[serde(default = "one")]
    pub access_token_version: u8,
}

fn one() -> u8 {
    1
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretCredential {
    /// The Secret ID shown in the portal.
    pub id: String,
    /// The Value shown once at creation.
    pub value: String,
    /// RFC 3339 expiry.
    pub expires: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateCredential {
    /// The certificate, PEM (`-----BEGIN CERTIFICATE-----`).
    pub pem: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederatedCredential {
    pub name: String,
    /// Matched exactly against the external token's `iss`.
    pub issuer: String,
    /// Matched exactly against its `sub`.
    pub subject: String,
    /// One of them must be its `aud`.
    pub audiences: Vec<String>,
}

/// The subject of the sandbox's GitHub Actions-style OIDC tokens, unless asked otherwise.
pub const GITHUB_SUBJECT: &str = "repo:contoso/fhir-smoke:ref:refs/heads/main";
/// The subject of its Kubernetes-style service-account tokens, unless asked otherwise.
pub const AKS_SUBJECT: &str = "system:serviceaccount:fhir:fhircheck";
/// The bearer token its GitHub-style OIDC endpoint wants (`ACTIONS_ID_TOKEN_REQUEST_TOKEN`).
pub const GITHUB_REQUEST_TOKEN: &str = "sbx-gh-oidc-request-token-7c1e4b2f9a";

/// The sandbox's two external issuers, `{base}/github` and `{base}/aks`, each registered on the
/// service client with its default subject.
fn federated_credentials(base: &str) -> Vec<FederatedCredential> {
    [
        ("github-main", "github", GITHUB_SUBJECT),
        ("aks-fhircheck", "aks", AKS_SUBJECT),
    ]
    .into_iter()
    .map(|(name, issuer, subject)| FederatedCredential {
        name: name.into(),
        issuer: format!("{base}/{issuer}"),
        subject: subject.into(),
        audiences: vec![crate::auth::EXCHANGE_AUDIENCE.into()],
    })
    .collect()
}

/// The public part of the sandbox's test client certificate; its key is in
/// `fixtures/certs/sandbox-client.pem`, published on purpose.
pub const CLIENT_CERTIFICATE: &str = include_str!("credentials/sandbox-client.crt");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FhirService {
    /// The tenant whose tokens it accepts.
    pub tenant: String,
    /// The exact audience it accepts (v1 tokens).
    pub audience: String,
    /// The client id of its resource application (the audience of v2 tokens).
    pub resource_app: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedIdentity {
    pub client_id: String,
    pub object_id: String,
    /// The identity's Azure resource id (user-assigned) or its host's (system-assigned).
    pub resource_id: String,
    /// The one answered when a request names no identity.
    #[serde(default)]
    pub system_assigned: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmartClient {
    pub client_id: String,
    /// The client's public keys.
    pub jwks: serde_json::Value,
    /// The scopes it may be granted, e.g. `system/*.rs`.
    pub scopes: Vec<String>,
}

pub const SMART_CLIENT_ID: &str = "fhircheck-smart-backend";
/// The public keys of `fixtures/certs/smart-rs384.pem` and `smart-es384.pem`.
pub const SMART_JWKS: &str = include_str!("credentials/smart-client.jwks.json");

pub const MI_CLIENT_ID: &str = "7d1e2c3b-4a5f-4e6d-9c8b-1a2b3c4d5e6f";
pub const MI_OID: &str = "b7c6d5e4-f3a2-4b1c-8d9e-0f1a2b3c4d5e";
pub const MI_USER_CLIENT_ID: &str = "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7";
pub const MI_USER_OID: &str = "c8d7e6f5-a4b3-4c2d-9e1f-2a3b4c5d6e7f";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleAssignment {
    /// The service principal object id.
    pub principal_id: String,
    /// FHIR Data Reader, FHIR Data Writer or FHIR Data Contributor (name or role definition id).
    pub role: String,
    /// Seconds after the sandbox starts before the assignment applies: a new assignment
    /// propagates for minutes in Azure.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub applies_after_seconds: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub resource: String,
    /// v1 or v2 token endpoint.
    pub token_version: String,
}

/// What a role lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permissions {
    pub read: bool,
    pub write: bool,
    pub delete: bool,
}

pub fn role_permissions(role: &str) -> Permissions {
    let r = role.trim().to_ascii_lowercase();
    match r.as_str() {
        "fhir data reader" | "4c8d0bbc-75d3-4935-991f-5f3c56d81508" => Permissions {
            read: true,
            write: false,
            delete: false,
        },
        "fhir data writer" | "3f88fce4-5892-4214-ae73-ba5294559913" => Permissions {
            read: true,
            write: true,
            delete: false,
        },
        "fhir data contributor" | "5a1fc7df-4bf1-4951-a576-89034ee01acd" => Permissions {
            read: true,
            write: true,
            delete: true,
        },
        _ => Permissions {
            read: false,
            write: false,
            delete: false,
        },
    }
}

/// The registration of `scenario`, for a sandbox at `base` (e.g. `http://127.0.0.1:8080`).
pub fn scenario(name: &str, base: &str) -> Option<Registrations> {
    if !SCENARIOS.iter().any(|(n, _)| *n == name) {
        return None;
    }
    let fhir_url = format!("{base}/fhir");
    let mut r = Registrations {
        description: SCENARIOS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, d)| d.to_string()),
        tenants: vec![
            Tenant {
                id: TENANT.into(),
                domain: Some(TENANT_DOMAIN.into()),
            },
            Tenant {
                id: OTHER_TENANT.into(),
                domain: Some(OTHER_TENANT_DOMAIN.into()),
            },
        ],
        applications: vec![
            Application {
                display_name: "fhircheck-smoke-client".into(),
                client_id: CLIENT_ID.into(),
                object_id: CLIENT_OID.into(),
                tenants: vec![TENANT.into()],
                secrets: vec![SecretCredential {
                    id: SECRET_ID.into(),
                    value: SECRET_VALUE.into(),
                    expires: "2099-12-31T00:00:00Z".into(),
                }],
                certificates: vec![CertificateCredential {
                    pem: CLIENT_CERTIFICATE.into(),
                }],
                federated_credentials: federated_credentials(base),
                app_id_uris: vec![],
                access_token_version: 1,
            },
            Application {
                display_name: "FHIR service (sandbox)".into(),
                client_id: FHIR_APP_ID.into(),
                object_id: "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d".into(),
                tenants: vec![TENANT.into()],
                secrets: vec![],
                certificates: vec![],
                federated_credentials: vec![],
                app_id_uris: vec![fhir_url.clone()],
                access_token_version: 1,
            },
            Application {
                display_name: "Azure Healthcare APIs".into(),
                client_id: HEALTHCARE_APIS_APP_ID.into(),
                object_id: "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f".into(),
                tenants: vec![TENANT.into(), OTHER_TENANT.into()],
                secrets: vec![],
                certificates: vec![],
                federated_credentials: vec![],
                app_id_uris: vec![HEALTHCARE_APIS_URI.into()],
                access_token_version: 1,
            },
        ],
        fhir: FhirService {
            tenant: TENANT.into(),
            audience: fhir_url.clone(),
            resource_app: FHIR_APP_ID.into(),
        },
        role_assignments: vec![
            RoleAssignment { principal_id: CLIENT_OID.into(), role: CONTRIBUTOR.into(), applies_after_seconds: 0 },
            RoleAssignment { principal_id: MI_OID.into(), role: CONTRIBUTOR.into(), applies_after_seconds: 0 },
            RoleAssignment { principal_id: MI_USER_OID.into(), role: READER.into(), applies_after_seconds: 0 },
        ],
        smart_clients: vec![SmartClient {
            client_id: SMART_CLIENT_ID.into(),
            jwks: serde_json::from_str(SMART_JWKS).unwrap_or_default(),
            scopes: vec!["system/*.rs".into(), "system/Patient.cruds".into()],
        }],
        managed_identities: vec![
            ManagedIdentity {
                client_id: MI_CLIENT_ID.into(),
                object_id: MI_OID.into(),
                resource_id: "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/rg-fhir/providers/Microsoft.Web/sites/fhir-smoke-app".into(),
                system_assigned: true,
            },
            ManagedIdentity {
                client_id: MI_USER_CLIENT_ID.into(),
                object_id: MI_USER_OID.into(),
                resource_id: "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/rg-fhir/providers/Microsoft.ManagedIdentity/userAssignedIdentities/fhir-reader".into(),
                system_assigned: false,
            },
        ],
        token_clock_offset_seconds: 0,
        throttle: false,
        client: ClientConfig {
            tenant_id: TENANT.into(),
            client_id: CLIENT_ID.into(),
            client_secret: SECRET_VALUE.into(),
            resource: fhir_url.clone(),
            token_version: "v1".into(),
        },
    };
    match name {
        "wrong-secret" => r.client.client_secret = SECRET_ID.into(),
        "expired-secret" => r.applications[0].secrets[0].expires = "2025-06-30T00:00:00Z".into(),
        "unknown-app" => r.client.client_id = UNKNOWN_CLIENT_ID.into(),
        "unknown-tenant" => r.client.tenant_id = UNKNOWN_TENANT.into(),
        "no-role" => r.role_assignments.retain(|a| a.principal_id != CLIENT_OID),
        "read-only" => r
            .role_assignments
            .iter_mut()
            .filter(|a| a.principal_id == CLIENT_OID)
            .for_each(|a| a.role = READER.into()),
        "wrong-audience" => r.client.resource = HEALTHCARE_APIS_URI.into(),
        "audience-trailing-slash" => r.client.resource = format!("{fhir_url}/"),
        "wrong-tenant" => {
            r.applications[0].tenants = vec![OTHER_TENANT.into()];
            r.applications[1].tenants.push(OTHER_TENANT.into());
            r.client.tenant_id = OTHER_TENANT.into();
        }
        "expired-token" => r.token_clock_offset_seconds = -2 * 3600,
        "throttled" => r.throttle = true,
        "new-role" => r
            .role_assignments
            .iter_mut()
            .filter(|a| a.principal_id == CLIENT_OID)
            .for_each(|a| a.applies_after_seconds = 4),
        _ => {}
    }
    Some(r)
}

/// Reads a registrations file, replacing `{{sandbox_url}}` and `{{fhir_url}}`.
pub fn from_json(text: &str, base: &str) -> Result<Registrations, serde_json::Error> {
    let text = text
        .replace("{{sandbox_url}}", base)
        .replace("{{fhir_url}}", &format!("{base}/fhir"));
    serde_json::from_str(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_builds_and_differs_from_healthy() {
        let healthy = serde_json::to_string(&scenario("healthy", "http://h").unwrap()).unwrap();
        for (name, _) in SCENARIOS.iter().skip(1) {
            let s = serde_json::to_string(&scenario(name, "http://h").unwrap()).unwrap();
            assert_ne!(
                s.replace(name, ""),
                healthy.replace("healthy", ""),
                "{name}"
            );
        }
        assert!(scenario("nope", "http://h").is_none());
    }

    #[test]
    fn roles_have_data_plane_semantics() {
        assert_eq!(
            role_permissions(READER),
            Permissions {
                read: true,
                write: false,
                delete: false
            }
        );
        assert_eq!(
            role_permissions(WRITER),
            Permissions {
                read: true,
                write: true,
                delete: false
            }
        );
        assert_eq!(
            role_permissions("5a1fc7df-4bf1-4951-a576-89034ee01acd"),
            Permissions {
                read: true,
                write: true,
                delete: true
            }
        );
        assert!(!role_permissions("Owner").read);
    }

    #[test]
    fn files_take_placeholders() {
        let text = serde_json::to_string(&scenario("healthy", "{{sandbox_url}}").unwrap()).unwrap();
        let r = from_json(&text, "http://127.0.0.1:9").unwrap();
        assert_eq!(r.fhir.audience, "http://127.0.0.1:9/fhir");
    }
}

//! Auth profiles turned into credentials, and credentials into tokens. One file per kind of
//! credential (Entra secret or certificate, OAuth2 client credentials, SMART Backend Services,
//! managed identity, Azure CLI); `token.rs` reads token answers, `claims.rs` decodes tokens.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::collection::{AuthKind, AuthProfile};
use crate::secret::Secret;
use crate::vars::{VarError, Variables};

mod azure_cli;
mod certificate;
mod chain;
mod claims;
mod entra;
mod federated;
mod form;
mod jwk;
mod managed_identity;
mod smart;
mod token;

pub use azure_cli::AzureCli;
pub use certificate::{client_assertion, load_certificate, pem_blocks, thumbprint, AssertionKey};
pub use claims::{Claims, SHOWN_CLAIMS};
pub use entra::{authority_base, AUTHORITY_PRESETS};
pub use federated::{Federated, FederatedSource, Presented, EXCHANGE_AUDIENCE, FEDERATED_CODES};
pub use form::{FormPost, FormValue, JWT_BEARER};
pub use managed_identity::ManagedIdentity;
pub use smart::{missing_scopes, parse_scope, SmartKey};
pub use token::{answer_token, parse_token_response, Token, TokenError};

/// How a profile gets its token. Each kind carries exactly what it needs, so a profile that mixes
/// kinds (a certificate and a static token, say) can not be built.
#[derive(Debug, Clone)]
pub enum Credential {
    /// Anonymous requests.
    None,
    /// A token given as it is; never renewed.
    Bearer(Secret),
    /// Entra client credentials with a client secret.
    Secret(FormPost),
    /// Entra client credentials with a certificate: the assertion is signed per token request.
    Certificate {
        post: FormPost,
        key: AssertionKey,
    },
    /// Generic OAuth2 client credentials.
    Oauth2(FormPost),
    /// SMART Backend Services (`private_key_jwt`, RS384/ES384).
    Smart(SmartKey),
    ManagedIdentity(ManagedIdentity),
    AzureCli(AzureCli),
    /// Entra client credentials with an external token as the assertion (workload identity).
    Federated(Federated),
    /// `DefaultAzureCredential`'s later links, tried in order at the first token request: a link
    /// that is not available (no managed identity endpoint, no Azure CLI) passes to the next; one
    /// that answers, with a token or an error, ends the chain. `unavailable` says why the links
    /// settled before the run (environment, workload identity) were not used.
    Chain {
        links: Vec<ResolvedProfile>,
        unavailable: Vec<String>,
    },
}

impl Credential {
    /// A short stable name, part of the token cache key.
    pub fn kind(&self) -> &'static str {
        match self {
            Credential::None => "none",
            Credential::Bearer(_) => "bearer",
            Credential::Secret(_) => "entra",
            Credential::Certificate { .. } => "entra-certificate",
            Credential::Oauth2(_) => "oauth2",
            Credential::Smart(_) => "smart",
            Credential::ManagedIdentity(_) => "managed_identity",
            Credential::AzureCli(_) => "azure_cli",
            Credential::Federated(_) => "entra-federated",
            Credential::Chain { .. } => "chain",
        }
    }
}

/// A profile with every template rendered and every default applied.
#[derive(Debug, Clone)]
pub struct ResolvedProfile {
    pub name: String,
    /// e.g. "Entra ID v1 client credentials".
    pub label: String,
    pub credential: Credential,
    /// The audience asked for: `resource`, or the scope's resource.
    pub resource: Option<String>,
    pub client_id: Option<String>,
    pub tenant: Option<String>,
}

impl ResolvedProfile {
    fn new(name: &str, label: impl Into<String>, credential: Credential) -> Self {
        ResolvedProfile {
            name: name.to_string(),
            label: label.into(),
            credential,
            resource: None,
            client_id: None,
            tenant: None,
        }
    }

    /// Where the token comes from, when it comes from an HTTP endpoint.
    pub fn endpoint(&self) -> Option<String> {
        match &self.credential {
            Credential::Secret(p)
            | Credential::Oauth2(p)
            | Credential::Certificate { post: p, .. }
            | Credential::Federated(Federated { post: p, .. }) => Some(p.endpoint.clone()),
            Credential::Smart(k) => k.token_url.clone().or_else(|| k.discovery.clone()),
            Credential::ManagedIdentity(m) => Some(m.url.clone()),
            Credential::None
            | Credential::Bearer(_)
            | Credential::AzureCli(_)
            | Credential::Chain { .. } => None,
        }
    }

    /// Whether the token request carries a secret of the client's (a client secret, a signed
    /// assertion). The managed identity endpoints are plain HTTP by design and carry none.
    pub fn sends_secret(&self) -> bool {
        matches!(
            self.credential,
            Credential::Secret(_)
                | Credential::Certificate { .. }
                | Credential::Oauth2(_)
                | Credential::Smart(_)
                | Credential::Federated(_)
        )
    }

    /// The plain form value sent under `key`, if any.
    pub fn form_value(&self, key: &str) -> Option<String> {
        match &self.credential {
            Credential::Secret(p)
            | Credential::Oauth2(p)
            | Credential::Certificate { post: p, .. }
            | Credential::Federated(Federated { post: p, .. }) => p
                .form
                .iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| match v {
                    FormValue::Plain(s) => Some(s.clone()),
                    FormValue::Secret(_) => None,
                }),
            _ => None,
        }
    }
}

/// A profile that can not give a token: the label its token step shows (the profile's type)
/// and why.
#[derive(Debug, Clone)]
pub struct Unusable {
    pub label: String,
    pub error: TokenError,
}

/// Why a profile could not be turned into a token request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("auth profile `{profile}` has no {field}: set `{field}` in the profile{env_hint}")]
    Missing {
        profile: String,
        field: &'static str,
        env_hint: String,
    },
    #[error("auth profile `{profile}`, field `{field}`: {source}")]
    Var {
        profile: String,
        field: &'static str,
        source: VarError,
    },
    #[error("auth profile `{profile}`: {message}")]
    Invalid { profile: String, message: String },
}

/// A profile's fields as the resolver of each credential kind reads them: rendered, trimmed,
/// with the Azure SDK environment variables as fallbacks where the kind allows them.
struct Fields<'a> {
    name: &'a str,
    profile: &'a AuthProfile,
    vars: &'a Variables,
    base_url: Option<&'a str>,
    env: &'a HashMap<String, String>,
}

impl Fields<'_> {
    /// The rendered template and whether it holds a secret.
    fn render(
        &self,
        field: &'static str,
        t: &Option<String>,
    ) -> Result<Option<(String, bool)>, ProfileError> {
        match t {
            None => Ok(None),
            Some(t) => self
                .vars
                .render(t)
                .map(|r| Some((r.text, r.secret)))
                .map_err(|source| ProfileError::Var {
                    profile: self.name.to_string(),
                    field,
                    source,
                }),
        }
    }

    /// The rendered text, untrimmed; `None` when the field is absent.
    fn text(
        &self,
        field: &'static str,
        t: &Option<String>,
    ) -> Result<Option<String>, ProfileError> {
        Ok(self.render(field, t)?.map(|(v, _)| v))
    }

    /// The rendered text, `None` when absent or blank.
    fn given(
        &self,
        field: &'static str,
        t: &Option<String>,
    ) -> Result<Option<String>, ProfileError> {
        Ok(self.text(field, t)?.filter(|v| !v.trim().is_empty()))
    }

    /// A field that must have a value: the profile's, else the environment variable `var`.
    fn required(
        &self,
        field: &'static str,
        t: &Option<String>,
        var: Option<&'static str>,
    ) -> Result<String, ProfileError> {
        if let Some(v) = self.given(field, t)? {
            return Ok(v.trim().to_string());
        }
        if let Some((var, v)) = var.and_then(|var| self.env_var(var).map(|v| (var, v))) {
            if let Some(p) = crate::text::placeholder(v) {
                return Err(self.invalid(format!("the environment variable {var} still holds the placeholder `{p}`: set it to your own value")));
            }
            return Ok(v.trim().to_string());
        }
        Err(ProfileError::Missing {
            profile: self.name.to_string(),
            field,
            env_hint: var
                .map(|v| format!(" or the environment variable {v}"))
                .unwrap_or_default(),
        })
    }

    /// A client secret: required, and long enough to be found and masked in output.
    fn secret(
        &self,
        t: &Option<String>,
        var: Option<&'static str>,
    ) -> Result<String, ProfileError> {
        let s = self.required("client_secret", t, var)?;
        check_secret_length(self, &s)?;
        Ok(s)
    }

    /// A non-blank environment variable.
    fn env_var(&self, var: &str) -> Option<&String> {
        self.env.get(var).filter(|v| !v.trim().is_empty())
    }

    /// The audience a token is for: the profile's `resource`, else the collection's base URL.
    fn resource(&self) -> Result<String, ProfileError> {
        self.text("resource", &self.profile.resource)?
            .or_else(|| self.base_url.map(str::to_string))
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                self.missing(
                    "resource",
                    " (or give the collection a `base_url`, which is the default)",
                )
            })
    }

    fn missing(&self, field: &'static str, hint: &str) -> ProfileError {
        ProfileError::Missing {
            profile: self.name.to_string(),
            field,
            env_hint: hint.to_string(),
        }
    }

    fn invalid(&self, message: String) -> ProfileError {
        ProfileError::Invalid {
            profile: self.name.to_string(),
            message,
        }
    }
}

/// A secret shorter than [`crate::secret::MIN_SECRET_LEN`] could not be told apart from the rest
/// of the output to mask it; no real client secret is that short.
fn check_secret_length(f: &Fields<'_>, s: &str) -> Result<(), ProfileError> {
    if s.chars().count() < crate::secret::MIN_SECRET_LEN {
        return Err(f.invalid(format!(
            "the client secret is {} characters long: too short to be a real secret, and too short to mask in output; use the secret's Value from the app registration",
            s.chars().count()
        )));
    }
    Ok(())
}

/// Renders a profile into a credential. `env` is the process environment snapshot taken by the
/// configuration step.
pub fn resolve(
    name: &str,
    p: &AuthProfile,
    vars: &Variables,
    base_url: Option<&str>,
    env: &HashMap<String, String>,
) -> Result<ResolvedProfile, ProfileError> {
    let f = Fields {
        name,
        profile: p,
        vars,
        base_url,
        env,
    };
    match p.kind {
        AuthKind::None => Ok(ResolvedProfile::new(
            name,
            "no authentication",
            Credential::None,
        )),
        AuthKind::Bearer => {
            let token = f.required("token", &p.token, None)?;
            Ok(ResolvedProfile::new(
                name,
                "static bearer token",
                Credential::Bearer(Secret::new(token)),
            ))
        }
        AuthKind::Entra => entra::resolve(&f),
        AuthKind::Oauth2 => form::resolve_oauth2(&f),
        AuthKind::ManagedIdentity => managed_identity::resolve(&f),
        AuthKind::Smart => smart::resolve(&f),
        AuthKind::AzureCli => azure_cli::resolve(&f),
    }
}

/// One attempt at a token, for the run result.
#[derive(Debug, Clone)]
pub struct TokenAttempt {
    /// Things worth knowing about an answer that still gave a token.
    pub warnings: Vec<String>,
    /// For a chain: the label of the link that answered.
    pub used: Option<String>,
    pub endpoint: Option<String>,
    pub status: Option<u16>,
    pub duration: Duration,
    pub outcome: Result<Token, TokenError>,
}

impl TokenAttempt {
    fn failed(endpoint: Option<String>, status: Option<u16>, e: TokenError) -> Self {
        TokenAttempt {
            warnings: vec![],
            used: None,
            endpoint,
            status,
            duration: Duration::ZERO,
            outcome: Err(e),
        }
    }

    fn answered(
        endpoint: Option<String>,
        status: Option<u16>,
        outcome: Result<Token, TokenError>,
    ) -> Self {
        TokenAttempt {
            warnings: vec![],
            used: None,
            endpoint,
            status,
            duration: Duration::ZERO,
            outcome,
        }
    }
}

/// Obtains a token for `p`: from its endpoint, its command, or as given.
pub async fn fetch(http: &crate::http::Http, p: &ResolvedProfile, clock: &Clock) -> TokenAttempt {
    let started = Instant::now();
    let mut attempt = match &p.credential {
        Credential::None => TokenAttempt::failed(
            None,
            None,
            TokenError::Profile {
                message: format!("auth profile `{}` needs no token", p.name),
            },
        ),
        Credential::Bearer(token) => {
            let mut t = Token::from_access(token.clone());
            t.token_type = Some("Bearer".into());
            TokenAttempt::answered(None, None, Ok(t))
        }
        Credential::Secret(post) | Credential::Oauth2(post) => {
            form::fetch(http, post, None, clock).await
        }
        Credential::Certificate { post, key } => form::fetch(http, post, Some(key), clock).await,
        Credential::Smart(key) => smart::fetch(http, key, clock).await,
        Credential::ManagedIdentity(m) => managed_identity::fetch(http, m, clock).await,
        Credential::AzureCli(c) => azure_cli::fetch(c, clock).await,
        Credential::Federated(f) => federated::fetch(http, f, clock).await,
        Credential::Chain { links, unavailable } => {
            Box::pin(chain::fetch(http, links, unavailable, clock)).await
        }
    };
    attempt.duration = started.elapsed();
    attempt
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use base64::Engine;
    use serde_json::Value;

    fn form_of(r: &ResolvedProfile) -> &[(String, FormValue)] {
        match &r.credential {
            Credential::Secret(p)
            | Credential::Oauth2(p)
            | Credential::Certificate { post: p, .. } => &p.form,
            _ => &[],
        }
    }

    fn jwt(claims: Value) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.{}",
            e.encode(br#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#),
            e.encode(claims.to_string()),
            e.encode(b"not-a-real-signature-but-long-enough")
        )
    }

    #[test]
    fn authority_presets_and_urls() {
        assert_eq!(
            authority_base("global"),
            "https://login.microsoftonline.com"
        );
        assert_eq!(authority_base("USGov"), "https://login.microsoftonline.us");
        assert_eq!(
            authority_base("china"),
            "https://login.partner.microsoftonline.cn"
        );
        assert_eq!(
            authority_base("login.example.org"),
            "https://login.example.org"
        );
        assert_eq!(authority_base("http://127.0.0.1:9/"), "http://127.0.0.1:9");
    }

    #[test]
    fn v1_answers_with_string_numbers() {
        let token = jwt(serde_json::json!({"aud": "https://x", "exp": 2000}));
        let body = serde_json::json!({"token_type": "Bearer", "expires_in": "3599",
            "expires_on": "1003599", "resource": "https://x", "access_token": token});
        let t = parse_token_response(200, &body.to_string(), 1_000_000).unwrap();
        assert_eq!(t.expires_at, Some(1_003_599));
        assert_eq!(t.claims.unwrap().audiences(), vec!["https://x"]);
        let body = serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "opaque-token-value"});
        let t = parse_token_response(200, &body.to_string(), 1_000_000).unwrap();
        assert_eq!(t.expires_at, Some(1_003_599));
        assert!(t.claims.is_none());
    }

    #[test]
    fn entra_errors_keep_code_trace_and_correlation() {
        let body = serde_json::json!({"error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t-1\r\nCorrelation ID: c-1\r\nTimestamp: 2026-11-26 09:00:00Z",
            "error_codes": [7000215], "timestamp": "2026-11-26 09:00:00Z",
            "trace_id": "t-1", "correlation_id": "c-1"});
        let e = parse_token_response(401, &body.to_string(), 0).unwrap_err();
        assert_eq!(
            e,
            TokenError::Endpoint {
                status: 401,
                error: Some("invalid_client".into()),
                code: Some(7000215),
                description: Some("AADSTS7000215: Invalid client secret provided.".into()),
                trace_id: Some("t-1".into()),
                correlation_id: Some("c-1".into()),
                timestamp: Some("2026-11-26 09:00:00Z".into()),
                error_uri: None,
                presented: None,
            }
        );
        assert_eq!(
            e.headline(),
            "HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided."
        );
        let e = parse_token_response(502, "<html>bad gateway</html>", 0).unwrap_err();
        assert!(matches!(e, TokenError::Malformed { .. }));
    }

    #[test]
    fn claims_summary_shows_times_and_missing_roles() {
        let c = Claims::decode(&jwt(serde_json::json!({"aud": "https://x", "ver": "1.0",
            "exp": 1_795_688_604, "iat": 1_795_685_005})))
        .unwrap();
        let s = c.summary(1_795_685_005);
        assert_eq!(s[0], ("aud".into(), "https://x".into()));
        assert!(s
            .iter()
            .any(|(k, v)| k == "roles" && v.starts_with("(none")));
        let exp = &s.iter().find(|(k, _)| k == "exp").unwrap().1;
        assert_eq!(exp, "2026-11-26 10:23:24 UTC (in 59 min)");
        assert!(Claims::decode("not.a.jwt.at.all").is_none());
    }

    #[test]
    fn smart_scopes_in_v1_and_v2_syntax() {
        assert_eq!(
            parse_scope("system/Patient.read"),
            Some(("system".into(), "Patient".into(), "rs".into()))
        );
        assert_eq!(parse_scope("system/*.cruds").unwrap().2, "cruds");
        assert!(missing_scopes("system/Patient.rs", "system/Patient.read").is_empty());
        assert!(
            missing_scopes("system/Patient.read system/Observation.rs", "system/*.rs").is_empty()
        );
        assert_eq!(
            missing_scopes("system/Patient.write", "system/Patient.cu"),
            vec!["system/Patient.write"]
        );
        assert!(missing_scopes("system/Patient.c", "system/Patient.*").is_empty());
        assert!(missing_scopes("launch openid", "").is_empty());
    }

    #[test]
    fn entra_profile_falls_back_to_azure_sdk_variables() {
        let env: HashMap<String, String> = [
            ("AZURE_TENANT_ID", "tenant-1"),
            ("AZURE_CLIENT_ID", "client-1"),
            ("AZURE_CLIENT_SECRET", "the-secret-value"),
            ("AZURE_AUTHORITY_HOST", "http://127.0.0.1:1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let vars = Variables::new(Arc::new(env.clone()), Clock::Fixed(0));
        let p: AuthProfile =
            serde_json::from_value(serde_json::json!({"type": "entra", "version": "v1"})).unwrap();
        let r = resolve("e", &p, &vars, Some("https://fhir.example"), &env).unwrap();
        assert_eq!(
            r.endpoint().as_deref(),
            Some("http://127.0.0.1:1/tenant-1/oauth2/token")
        );
        assert!(form_of(&r)
            .iter()
            .any(|(k, v)| k == "resource" && v.expose() == "https://fhir.example"));
        assert_eq!(
            format!("{:?}", form_of(&r))
                .matches("the-secret-value")
                .count(),
            0
        );
        let p: AuthProfile = serde_json::from_value(serde_json::json!({"type": "entra", "client_auth": "basic", "resource": "https://fhir.example/"})).unwrap();
        let r = resolve("e", &p, &vars, None, &env).unwrap();
        assert!(r.endpoint().unwrap().ends_with("/oauth2/v2.0/token"));
        assert!(form_of(&r)
            .iter()
            .any(|(k, v)| k == "scope" && v.expose() == "https://fhir.example/.default"));
        assert!(matches!(&r.credential, Credential::Secret(p) if p.basic.is_some()));
        let empty = HashMap::new();
        let err = resolve(
            "e",
            &p,
            &Variables::new(Arc::new(HashMap::new()), Clock::Fixed(0)),
            None,
            &empty,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "auth profile `e`: settings are missing; set each in the profile: `tenant` or the environment variable AZURE_TENANT_ID; `client_id` or the environment variable AZURE_CLIENT_ID; `client_secret` (or `certificate`, or `federated_token_file`) or the environment variable AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH, or AZURE_FEDERATED_TOKEN_FILE), or a GitHub Actions job with `permissions: id-token: write`");
    }
}

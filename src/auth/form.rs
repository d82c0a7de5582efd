//! The client credentials form post shared by Entra (secret or certificate) and generic OAuth2
//! servers: the form, the client's authentication, and the request.

use super::certificate::{client_assertion, AssertionKey};
use super::token::{answer_token, TokenError};
use super::TokenAttempt;
use crate::clock::Clock;
use crate::collection::ClientAuth;
use crate::secret::Secret;

/// RFC 6749 2.3.1: client id and secret are form-encoded before going into Basic.
fn form_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_string())
        .unwrap_or_else(|_| s.to_string())
}

/// A form value: a secret stays a secret.
#[derive(Debug, Clone)]
pub enum FormValue {
    Plain(String),
    Secret(Secret),
}

impl FormValue {
    pub(super) fn expose(&self) -> &str {
        match self {
            FormValue::Plain(s) => s,
            FormValue::Secret(s) => s.expose(),
        }
    }
}

/// A client credentials form post to a token endpoint.
#[derive(Debug, Clone)]
pub struct FormPost {
    pub endpoint: String,
    pub form: Vec<(String, FormValue)>,
    /// `client_secret_basic`: the client id and secret go in the Authorization header.
    pub basic: Option<(String, Secret)>,
}

impl FormPost {
    pub(super) fn client_credentials(endpoint: String) -> Self {
        FormPost {
            endpoint,
            form: vec![(
                "grant_type".into(),
                FormValue::Plain("client_credentials".into()),
            )],
            basic: None,
        }
    }

    pub(super) fn push(&mut self, key: &str, value: impl Into<String>) {
        self.form
            .push((key.to_string(), FormValue::Plain(value.into())));
    }

    /// The client's id and secret, in the form or in the Authorization header.
    // (A secret too short to mask is refused where it is read: `Fields::secret`.)
    pub(super) fn add_client(&mut self, client_id: &str, secret: String, how: ClientAuth) {
        let secret = Secret::new(secret);
        match how {
            ClientAuth::Post => {
                self.push("client_id", client_id);
                self.form
                    .push(("client_secret".into(), FormValue::Secret(secret)));
            }
            ClientAuth::Basic => self.basic = Some((client_id.to_string(), secret)),
        }
    }
}

/// A generic OAuth2 client credentials profile.
pub(super) fn resolve_oauth2(
    f: &super::Fields<'_>,
) -> Result<super::ResolvedProfile, super::ProfileError> {
    let p = f.profile;
    let url = f.required("token_url", &p.token_url, None)?;
    let client_id = f.required("client_id", &p.client_id, None)?;
    let secret = f.secret(&p.client_secret, None)?;
    let mut post = FormPost::client_credentials(url);
    let mut resource = None;
    for (field, value) in [
        ("scope", &p.scope),
        ("audience", &p.audience),
        ("resource", &p.resource),
    ] {
        if let Some(v) = f.text(field, value)? {
            if field != "scope" {
                resource = Some(v.clone());
            }
            post.push(field, v);
        }
    }
    for (k, t) in &p.extra_params {
        let r = f
            .vars
            .render(t)
            .map_err(|source| super::ProfileError::Var {
                profile: f.name.to_string(),
                field: "extra_params",
                source,
            })?;
        let v = if r.secret {
            FormValue::Secret(Secret::new(r.text))
        } else {
            FormValue::Plain(r.text)
        };
        post.form.push((k.clone(), v));
    }
    post.add_client(
        &client_id,
        secret,
        p.client_auth.unwrap_or(ClientAuth::Post),
    );
    let mut out = super::ResolvedProfile::new(
        f.name,
        "OAuth2 client credentials",
        super::Credential::Oauth2(post),
    );
    out.resource = resource;
    out.client_id = Some(client_id);
    Ok(out)
}

/// `client_assertion_type` for a JWT client assertion (RFC 7523).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

impl FormPost {
    /// The form with a client assertion (a signed JWT, or an external token) added.
    pub(super) fn with_assertion(&self, assertion: Secret) -> FormPost {
        let mut post = self.clone();
        post.push("client_assertion_type", JWT_BEARER);
        post.form
            .push(("client_assertion".into(), FormValue::Secret(assertion)));
        post
    }
}

/// Posts the form; with a certificate, signs a fresh client assertion first.
pub(super) async fn fetch(
    http: &crate::http::Http,
    post: &FormPost,
    assertion: Option<&AssertionKey>,
    clock: &Clock,
) -> TokenAttempt {
    let endpoint = post.endpoint.clone();
    let signed;
    let mut post = post;
    if let Some(key) = assertion {
        match client_assertion(key, &endpoint, clock.now()) {
            Ok(a) => {
                signed = post.with_assertion(a);
                post = &signed;
            }
            Err(message) => {
                return TokenAttempt::failed(Some(endpoint), None, TokenError::Profile { message })
            }
        }
    }
    let form: Vec<(&str, &str)> = post
        .form
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose()))
        .collect();
    let mut req = http
        .client
        .post(&endpoint)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(serde_urlencoded::to_string(&form).unwrap_or_default());
    if let Some((id, secret)) = &post.basic {
        crate::secret::redactor().add_basic(id, secret.expose());
        req = req.basic_auth(form_encode(id), Some(form_encode(secret.expose())));
    }
    match http.send(req).await {
        Ok(a) => {
            let outcome = answer_token(&a, clock.now());
            TokenAttempt::answered(Some(endpoint), Some(a.status), outcome)
        }
        Err(message) => TokenAttempt::failed(Some(endpoint), None, TokenError::Network { message }),
    }
}

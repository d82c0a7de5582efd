//! The embedded sandbox: an Entra-ID-shaped token service and an Azure-shaped FHIR service in
//! one process, on 127.0.0.1 only.

pub mod fhir;
pub mod registrations;
pub mod signed;
pub mod token;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Value};

use crate::clock::Clock;
use registrations::Registrations;

/// Everything the handlers share.
pub struct SandboxState {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub regs: Registrations,
    pub store: Mutex<fhir::Store>,
    pub clock: Clock,
    pub started_at: i64,
    /// When it started, for role assignments that apply later.
    pub started: std::time::Instant,
    data_requests: AtomicU64,
    /// Client assertion ids already used: a replayed assertion is refused.
    pub seen_jti: Mutex<std::collections::HashSet<String>>,
    upstream: Option<(String, reqwest::Client)>,
}

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct Options {
    /// 0 picks a free port.
    pub port: u16,
    pub scenario: String,
    pub registrations: Option<PathBuf>,
    pub upstream: Option<String>,
    pub clock: Clock,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 0,
            scenario: "healthy".into(),
            registrations: None,
            upstream: None,
            clock: Clock::System,
        }
    }
}

/// The values a client uses against a running sandbox.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub base: String,
    pub fhir_url: String,
    pub authority_host: String,
    pub client: registrations::ClientConfig,
    pub scenario: String,
    pub description: Option<String>,
}

impl Endpoints {
    /// The values as a fhircheck environment file.
    pub fn environment(&self) -> Value {
        json!({
            "name": format!("fhircheck sandbox ({})", self.scenario),
            "description": self.description,
            "variables": {
                "fhir_url": self.fhir_url,
                "tenant_id": self.client.tenant_id,
                "client_id": self.client.client_id,
                "client_secret": {"value": self.client.client_secret, "secret": true},
                "authority_host": self.authority_host,
                "resource": self.client.resource,
                "token_version": self.client.token_version,
            }
        })
    }

    /// (name, value) pairs for variables, secret flag included.
    pub fn variables(&self) -> Vec<(&'static str, String, bool)> {
        vec![
            ("fhir_url", self.fhir_url.clone(), false),
            ("tenant_id", self.client.tenant_id.clone(), false),
            ("client_id", self.client.client_id.clone(), false),
            ("client_secret", self.client.client_secret.clone(), true),
            ("authority_host", self.authority_host.clone(), false),
            ("resource", self.client.resource.clone(), false),
            ("token_version", self.client.token_version.clone(), false),
        ]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("unknown scenario `{0}`")]
    UnknownScenario(String),
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("cannot read the registrations file {path}: {message}")]
    Registrations { path: String, message: String },
    #[error("the upstream URL `{0}` is not an http(s) URL")]
    Upstream(String),
}

/// A sandbox serving on a tokio runtime; dropping the handle's `shutdown` stops it.
pub struct Running {
    pub endpoints: Endpoints,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting connections and waits for the server to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Binds 127.0.0.1 and starts serving. Must run inside a tokio runtime.
pub async fn start(opts: Options) -> Result<Running, SandboxError> {
    if registrations::scenario(&opts.scenario, "x").is_none() {
        return Err(SandboxError::UnknownScenario(opts.scenario));
    }
    let upstream = match &opts.upstream {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => Some((
            u.trim_end_matches('/').to_string(),
            crate::http::client(
                std::time::Duration::from_secs(60),
                &crate::http::Network::default(),
            )
            .map_err(|_| SandboxError::Upstream(u.clone()))?,
        )),
        Some(u) => return Err(SandboxError::Upstream(u.clone())),
        None => None,
    };
    // Loopback only, by construction.
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, opts.port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| SandboxError::Bind {
            port: opts.port,
            source,
        })?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(opts.port);
    let base = format!("http://127.0.0.1:{port}");
    let regs = match &opts.registrations {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| SandboxError::Registrations {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            registrations::from_json(&text, &base).map_err(|e| SandboxError::Registrations {
                path: path.display().to_string(),
                message: e.to_string(),
            })?
        }
        None => registrations::scenario(&opts.scenario, &base)
            .ok_or_else(|| SandboxError::UnknownScenario(opts.scenario.clone()))?,
    };
    let endpoints = Endpoints {
        fhir_url: format!("{base}/fhir"),
        authority_host: base.clone(),
        client: regs.client.clone(),
        scenario: if opts.registrations.is_some() {
            "custom".into()
        } else {
            opts.scenario.clone()
        },
        description: regs.description.clone(),
        base: base.clone(),
    };
    let state = Arc::new(SandboxState {
        base,
        regs,
        store: Mutex::new(fhir::Store::default()),
        started_at: opts.clock.now(),
        started: std::time::Instant::now(),
        clock: opts.clock,
        data_requests: AtomicU64::new(0),
        seen_jti: Mutex::new(Default::default()),
        upstream,
    });
    let app = axum::Router::new().fallback(handle).with_state(state);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(Running {
        endpoints,
        shutdown: Some(tx),
        task,
    })
}

/// A sandbox on its own thread and runtime, for tests and tools that are not async.
/// Dropping it stops the server.
pub struct Background {
    pub endpoints: Endpoints,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    pub fn start(opts: Options) -> Result<Background, SandboxError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(SandboxError::Bind {
                        port: opts.port,
                        source: e,
                    }));
                    return;
                }
            };
            rt.block_on(async move {
                match start(opts).await {
                    Ok(running) => {
                        let _ = ready_tx.send(Ok(running.endpoints.clone()));
                        let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
                        running.stop().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        });
        let endpoints = ready_rx.recv().map_err(|_| {
            SandboxError::Upstream("the sandbox thread ended before it started".into())
        })??;
        Ok(Background {
            endpoints,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn respond(
    status: u16,
    content_type: &str,
    headers: Vec<(&'static str, String)>,
    body: Option<Value>,
) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    if body.is_some() {
        builder = builder.header("Content-Type", content_type);
    }
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            builder = builder.header(k, v);
        }
    }
    let bytes = body
        .map(|b| serde_json::to_vec(&b).unwrap_or_default())
        .unwrap_or_default();
    builder.body(Body::from(bytes)).unwrap_or_default()
}

const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

/// A token endpoint that fails and echoes the request it got, as some misconfigured gateways
/// do: a target for proving that fhircheck masks what comes back.
fn echo_token(authorization: Option<&str>, body: &[u8]) -> Response {
    let received = String::from_utf8_lossy(body).into_owned();
    let auth = authorization.unwrap_or("(none)");
    respond(
        400,
        JSON,
        vec![],
        Some(json!({
            "error": "invalid_request",
            "error_description": format!("AADSTS50000: the gateway could not forward the request: {received} (authorization: {auth})\r\nTrace ID: {}", uuid::Uuid::new_v4()),
            "error_codes": [50000],
        })),
    )
}

/// Entra's token endpoint, v1 or v2: a token, or Entra's error shape.
fn entra_token(
    st: &SandboxState,
    tenant: &str,
    v2: bool,
    authorization: Option<&str>,
    correlation: Option<&str>,
    body: &[u8],
) -> Response {
    let correlation = correlation
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let no_store = vec![("Cache-Control", "no-store, no-cache".to_string())];
    match token::issue(st, tenant, v2, authorization, body) {
        Ok(v) => respond(200, JSON, no_store, Some(v)),
        Err(e) => respond(
            400,
            JSON,
            no_store,
            Some(e.body(st.clock.now(), &correlation)),
        ),
    }
}

/// The tenant's OpenID discovery document, or Entra's unknown-tenant error.
fn openid_configuration(st: &SandboxState, tenant: &str, v2: bool) -> Response {
    match token::find_tenant(st, tenant) {
        Some(t) => respond(200, JSON, vec![], Some(token::discovery(st, &t.id, v2))),
        None => {
            let e = token::EntraError {
                code: 90002,
                error: "invalid_tenant",
                message: format!("Tenant '{tenant}' not found."),
            };
            respond(
                400,
                JSON,
                vec![],
                Some(e.body(st.clock.now(), &uuid::Uuid::new_v4().to_string())),
            )
        }
    }
}

/// `GET /github/token` (GitHub Actions' OIDC endpoint, JSON) and `GET /aks/token` (a projected
/// service-account token, the JWT as it is).
fn external_token(
    st: &SandboxState,
    issuer: &str,
    query: &[(String, String)],
    authorization: Option<&str>,
) -> Response {
    match token::external_token(st, issuer, query, authorization) {
        Ok(t) if issuer == "github" => respond(
            200,
            JSON,
            vec![],
            Some(json!({"count": t.len(), "value": t})),
        ),
        Ok(t) => Response::builder()
            .status(200)
            .header("Content-Type", "application/jwt")
            .body(Body::from(t))
            .unwrap_or_default(),
        Err((code, v)) => respond(code, JSON, vec![], Some(v)),
    }
}

/// The nonce of this sandbox's Digest challenges: one per process.
fn digest_nonce() -> &'static str {
    static NONCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NONCE.get_or_init(|| uuid::Uuid::new_v4().simple().to_string())
}

/// `/auth/{scheme}/…`: a request let in only with a valid signature (`signed`).
fn signed_route(
    scheme: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let host = headers.get("host").and_then(|v| v.to_str().ok());
    let base = format!("http://{}", host.unwrap_or("127.0.0.1"));
    let r = signed::Received {
        method: method.as_str(),
        target,
        headers,
        body,
        base: &base,
    };
    let (status, extra, v) = signed::check(scheme, digest_nonce(), &r);
    respond(status, JSON, extra, Some(v))
}

async fn handle(
    axum::extract::State(st): axum::extract::State<Arc<SandboxState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let header = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
    let query: Vec<(String, String)> = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();

    if let ["auth", scheme, ..] = segs.as_slice() {
        return signed_route(scheme, &method, &uri, &headers, &body);
    }
    if segs.first() == Some(&"fhir") {
        return fhir_route(
            &st,
            &method,
            &segs[1..],
            &query,
            header("authorization"),
            &headers,
            body,
        )
        .await;
    }
    let m = method.as_str();
    match (m, segs.as_slice()) {
        // A token endpoint that fails and echoes the request it got, as some misconfigured
        // gateways do: a target for proving that fhircheck masks what comes back.
        ("POST", ["echo", "oauth2", "token"]) => echo_token(header("authorization"), &body),
        ("POST", [tenant, "oauth2", "token"]) | ("POST", [tenant, "oauth2", "v2.0", "token"]) => {
            let correlation = header("client-request-id");
            entra_token(
                &st,
                tenant,
                segs.len() == 4,
                header("authorization"),
                correlation,
                &body,
            )
        }
        ("GET", [tenant, ".well-known", "openid-configuration"])
        | ("GET", [tenant, "v2.0", ".well-known", "openid-configuration"]) => {
            openid_configuration(&st, tenant, segs.len() == 4)
        }
        ("POST", ["smart", "token"]) => match token::smart_token(&st, &body) {
            Ok(v) => respond(
                200,
                JSON,
                vec![("Cache-Control", "no-store".into())],
                Some(v),
            ),
            Err((code, v)) => respond(
                code,
                JSON,
                vec![("Cache-Control", "no-store".into())],
                Some(v),
            ),
        },
        ("GET", [issuer @ ("github" | "aks"), "token"]) => {
            external_token(&st, issuer, &query, header("authorization"))
        }
        ("GET", [_, ".well-known", "jwks"]) => respond(200, JSON, vec![], Some(token::jwks())),
        ("GET", ["smart", "jwks"]) => respond(200, JSON, vec![], Some(token::jwks())),
        ("GET", ["metadata", "identity", "oauth2", "token"]) | ("GET", ["msi", "token"]) => {
            let app_service = segs[0] == "msi";
            match token::managed_identity(
                &st,
                &query,
                header("metadata"),
                header("x-identity-header"),
                app_service,
            ) {
                Ok(v) => respond(200, JSON, vec![], Some(v)),
                Err((code, v)) => respond(code, JSON, vec![], Some(v)),
            }
        }
        ("GET", [_, "discovery", "keys"]) | ("GET", [_, "discovery", "v2.0", "keys"]) => {
            respond(200, JSON, vec![], Some(token::jwks()))
        }
        ("GET", []) => respond(
            200,
            JSON,
            vec![],
            Some(json!({
                "service": "fhircheck sandbox",
                "fhir": format!("{}/fhir", st.base),
                "token_v1": format!("{}/{{tenant}}/oauth2/token", st.base),
                "token_v2": format!("{}/{{tenant}}/oauth2/v2.0/token", st.base),
                "signed": format!("{}/auth/{{digest|awsv4|oauth1}}/…", st.base),
                "signed_credentials": signed::credentials(),
            })),
        ),
        _ => respond(
            404,
            JSON,
            vec![],
            Some(
                json!({"error": "not_found", "error_description": format!("The sandbox has no route {m} {path}.")}),
            ),
        ),
    }
}

async fn fhir_route(
    st: &Arc<SandboxState>,
    method: &Method,
    segs: &[&str],
    query: &[(String, String)],
    authorization: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let m = method.as_str();
    match (m, segs) {
        ("GET", ["metadata"]) => {
            return respond(200, FHIR_JSON, vec![], Some(fhir::capability_statement(st)))
        }
        ("GET", [".well-known", "smart-configuration"]) => {
            return respond(200, JSON, vec![], Some(fhir::smart_configuration(st)))
        }
        _ => {}
    }
    let claims = match fhir::authenticate(st, authorization) {
        Ok(c) => c,
        Err(a) => return respond(a.status, FHIR_JSON, a.headers, a.body),
    };
    if let Err(a) = fhir::authorize(st, &claims, m, segs) {
        return respond(a.status, FHIR_JSON, a.headers, a.body);
    }
    let n = st.data_requests.fetch_add(1, Ordering::SeqCst);
    if st.regs.throttle && n % 2 == 0 {
        let a = fhir::throttled();
        return respond(a.status, FHIR_JSON, a.headers, a.body);
    }
    if let Some((upstream, client)) = &st.upstream {
        return forward(upstream, client, method, segs, query, headers, body).await;
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if matches!(m, "POST" | "PUT") && !body.is_empty() && !content_type.contains("json") {
        // As the Azure FHIR services answer a body sent without a JSON media type.
        let a = fhir::unsupported_media_type(content_type);
        return respond(a.status, FHIR_JSON, a.headers, a.body);
    }
    let answer = {
        let mut store = st.store.lock().unwrap_or_else(|e| e.into_inner());
        store.handle(st, m, segs, query, &body)
    };
    respond(
        answer.status,
        FHIR_JSON,
        answer.headers,
        if m == "HEAD" { None } else { answer.body },
    )
}

async fn forward(
    upstream: &str,
    client: &reqwest::Client,
    method: &Method,
    segs: &[&str],
    query: &[(String, String)],
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let mut url = format!("{upstream}/{}", segs.join("/"));
    if !query.is_empty() {
        url.push('?');
        url.push_str(&serde_urlencoded::to_string(query).unwrap_or_default());
    }
    let method =
        reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut req = client.request(method, &url).body(body.to_vec());
    for name in [
        "content-type",
        "accept",
        "prefer",
        "if-match",
        "if-none-match",
    ] {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            req = req.header(name, v);
        }
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let mut keep = Vec::new();
            for (name, key) in [
                ("Content-Type", "content-type"),
                ("Location", "location"),
                ("ETag", "etag"),
                ("Last-Modified", "last-modified"),
            ] {
                if let Some(v) = resp.headers().get(key).and_then(|v| v.to_str().ok()) {
                    keep.push((name, v.to_string()));
                }
            }
            let bytes = resp.bytes().await.unwrap_or_default();
            let mut builder = Response::builder()
                .status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY));
            for (k, v) in keep {
                builder = builder.header(k, v);
            }
            builder.body(Body::from(bytes)).unwrap_or_default()
        }
        Err(e) => {
            let oo = fhir::outcome(
                "error",
                "transient",
                &format!(
                    "The upstream FHIR server could not be reached: {}",
                    crate::http::describe_error(&e)
                ),
            );
            respond(502, FHIR_JSON, vec![], Some(oo))
        }
    }
}

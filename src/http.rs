//! The one HTTP client of a run, and readable descriptions of transport failures.

use std::time::Duration;

/// The largest answer read unless `--max-body` says otherwise: 64 MiB.
pub const DEFAULT_MAX_BODY: u64 = 64 << 20;

/// Whom a run trusts and how it reaches the network, decided by the configuration step.
#[derive(Debug, Clone, Default)]
pub struct Network {
    /// Certificates trusted besides the built-in roots and the platform's store: `--cacert`,
    /// as (file, PEM text).
    pub extra_roots: Vec<(String, Vec<u8>)>,
    /// `HTTPS_PROXY`, `HTTP_PROXY` (for http URLs), `NO_PROXY`.
    pub https_proxy: Option<String>,
    pub http_proxy: Option<String>,
    pub no_proxy: Option<String>,
    /// `-k`: certificates are not checked.
    pub insecure: bool,
    /// A client certificate and its key, PEM, for mutual TLS.
    pub identity: Option<Vec<u8>>,
}

impl Network {
    /// The proxy's host and port for `url`'s scheme, unless `NO_PROXY` exempts its host.
    pub fn proxy_for(&self, url: &reqwest::Url) -> Option<(String, u16)> {
        let proxy = match url.scheme() {
            "https" => self.https_proxy.as_ref(),
            _ => self.http_proxy.as_ref(),
        }?;
        let host = url.host_str().unwrap_or_default();
        let exempt = self.no_proxy.as_deref().is_some_and(|list| {
            list.split(',').map(str::trim).any(|n| {
                n == "*"
                    || (!n.is_empty()
                        && (host == n.trim_start_matches('.')
                            || host.ends_with(&format!(".{}", n.trim_start_matches('.')))))
            })
        });
        if exempt {
            return None;
        }
        let p = reqwest::Url::parse(proxy).ok()?;
        Some((p.host_str()?.to_string(), p.port_or_known_default()?))
    }
}

/// One client per run: rustls with the built-in web roots, the platform's trust store (which
/// honours `SSL_CERT_FILE` and `SSL_CERT_DIR`) and `--cacert`; the proxies the configuration
/// read; connection reuse, connect and per-request timeouts. It follows no redirect by itself:
/// `exec` decides which to follow (same origin only, unless asked), and token requests follow
/// none, so a credential never travels on to an address nobody named.
pub fn client(timeout: Duration, net: &Network) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("fhircheck/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    for (file, pem) in &net.extra_roots {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| format!("{file}: not a PEM certificate file: {e}"))?;
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    if net.insecure {
        b = b.danger_accept_invalid_certs(true);
    }
    if let Some(pem) = &net.identity {
        let id = reqwest::Identity::from_pem(pem).map_err(|e| {
            format!("the client certificate and key (--ssl-client-cert, --ssl-client-key) can not be used: {e}")
        })?;
        b = b.identity(id);
    }
    let no_proxy = net
        .no_proxy
        .as_deref()
        .and_then(reqwest::NoProxy::from_string);
    for (url, https) in [(&net.https_proxy, true), (&net.http_proxy, false)] {
        if let Some(url) = url {
            let p = if https {
                reqwest::Proxy::https(url)
            } else {
                reqwest::Proxy::http(url)
            }
            .map_err(|e| format!("the proxy `{url}` is not a proxy URL: {e}"))?;
            b = b.proxy(p.no_proxy(no_proxy.clone()));
        }
    }
    b.build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
}

/// What every exchange of a run goes through: the client, the `--verbose` tracer and the
/// largest answer it reads.
#[derive(Clone)]
pub struct Http {
    pub client: reqwest::Client,
    pub tracer: Option<Tracer>,
    /// `--max-body`, in bytes.
    pub max_body: u64,
    pub network: Network,
    /// The per-request timeout the client was built with.
    pub timeout: Duration,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("max_body", &self.max_body)
            .field("timeout", &self.timeout)
            .field("traced", &self.tracer.is_some())
            .finish_non_exhaustive()
    }
}

impl Http {
    /// A client of its own with the same settings: for a thread that runs its own runtime
    /// (the script engine's, for `pm.sendRequest`).
    pub fn fresh(&self) -> Result<Http, String> {
        Http::new(
            self.timeout,
            self.tracer.clone(),
            self.max_body,
            self.network.clone(),
        )
    }

    pub fn new(
        timeout: Duration,
        tracer: Option<Tracer>,
        max_body: u64,
        network: Network,
    ) -> Result<Http, String> {
        Ok(Http {
            client: client(timeout, &network)?,
            tracer,
            max_body,
            network,
            timeout,
        })
    }

    /// A request to build, on this client.
    pub fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.client.request(method, url)
    }

    /// Sends `req`, reads the whole answer and shows the exchange to the tracer.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        send(self, req).await
    }
}

/// "64 MiB" and the like, for messages.
pub fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// "connection refused", "timed out", "dns error: …", with the innermost cause, which is the
/// one that tells a person what to fix.
pub fn describe_error(e: &reqwest::Error) -> String {
    let mut root: &dyn std::error::Error = e;
    while let Some(next) = root.source() {
        root = next;
    }
    let root_text = root.to_string();
    let what = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        if root_text.to_ascii_lowercase().contains("refused") {
            "connection refused: nothing listens at that address and port".to_string()
        } else if root_text.contains("dns")
            || root_text.contains("resolve")
            || root_text.contains("lookup")
        {
            format!("the host name could not be resolved ({root_text})")
        } else {
            format!("could not connect ({root_text})")
        }
    } else if e.is_builder() {
        format!("the URL is not valid ({root_text})")
    } else if e.is_redirect() {
        "too many redirects".to_string()
    } else {
        root_text
    };
    crate::secret::redact(&what).into_owned()
}

/// One HTTP exchange as `--verbose` shows it. Values are raw here; the trace formatter masks
/// credentials and the redactor masks every known secret.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<Vec<u8>>,
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: bytes::Bytes,
    pub duration: std::time::Duration,
    pub error: Option<String>,
}

/// Receives every exchange when `--verbose` is on.
pub type Tracer = std::sync::Arc<dyn Fn(&Exchange) + Send + Sync>;

/// A complete answer: status, headers and the whole body. The one response type: every front
/// end, the token requests and `doctor` read answers through it.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as it arrived, never copied: reports, checks and the trace borrow it.
    pub body: bytes::Bytes,
    /// From sending the request to the end of the body, of the attempt reported.
    pub duration: Duration,
    /// Attempts answered 429/503 and retried before this one (`--retry`).
    pub retries: u32,
    /// The redirects before this answer, as "302 to URL" (the last one when not followed).
    pub redirects: Vec<String>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The body as text (invalid UTF-8 replaced), borrowed when it is valid UTF-8.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// The body as JSON, when it is a JSON object or array.
    pub fn json(&self) -> Option<serde_json::Value> {
        self.json_shaped(&crate::shape::Shape::whole())
    }

    /// What `shape` keeps of the body, when it is a JSON object or array: one pass over the
    /// bytes, only the kept parts allocated.
    pub fn json_shaped(&self, shape: &crate::shape::Shape) -> Option<serde_json::Value> {
        let start = self.body.iter().position(|b| !b.is_ascii_whitespace())?;
        matches!(self.body[start], b'{' | b'[')
            .then(|| shape.parse(&self.body[start..]).ok())
            .flatten()
    }
}

/// What came back from an exchange: the answer, or why there was none.
pub type Reply = Result<Answer, String>;

/// Reading a [`Reply`] as evidence, whether or not it was answered.
pub trait ReplyExt {
    fn status(&self) -> Option<u16>;
    fn header(&self, name: &str) -> Option<&str>;
    fn json(&self) -> Option<serde_json::Value>;
    fn error(&self) -> Option<&str>;
}

impl ReplyExt for Reply {
    fn status(&self) -> Option<u16> {
        self.as_ref().ok().map(|a| a.status)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.as_ref().ok().and_then(|a| a.header(name))
    }

    fn json(&self) -> Option<serde_json::Value> {
        self.as_ref().ok().and_then(Answer::json)
    }

    fn error(&self) -> Option<&str> {
        self.as_ref().err().map(String::as_str)
    }
}

/// Why `name: value` can not go on the wire, if it can not: a name that is not a token, a value
/// with a line break or another control character. The one check, before the run and before
/// each send.
pub fn header_problem(name: &str, value: &str) -> Option<String> {
    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Some(format!("`{name}` is not a header name"));
    }
    reqwest::header::HeaderValue::from_str(value).is_err().then(|| {
        format!("the value of header `{name}` has a line break or a control character, which a header can not carry")
    })
}

/// A header's value by name, case-insensitively: the one header lookup.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn header_pairs(h: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Reads the whole body into one buffer, sized from `Content-Length` when the server gives
/// one, so a large answer is held once and never copied while it grows. An answer larger than
/// `max` is an error as soon as that is known, with at most `max` bytes read.
async fn read_body(mut resp: reqwest::Response, max: u64) -> Result<bytes::Bytes, String> {
    let too_large = |what: String| {
        format!(
            "the answer is larger than --max-body {} ({what}); nothing more was read: raise --max-body if the answer is expected to be that large",
            size_text(max)
        )
    };
    if let Some(n) = resp.content_length().filter(|n| *n > max) {
        return Err(too_large(format!("Content-Length: {n}")));
    }
    // A length that is a lie must not reserve memory: the first 64 MiB at most up front.
    let hint = resp.content_length().unwrap_or(0).min(max).min(64 << 20) as usize;
    let mut buf = Vec::with_capacity(hint);
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) if (buf.len() + chunk.len()) as u64 > max => {
                return Err(too_large(format!(
                    "more than {} bytes arrived",
                    buf.len() + chunk.len()
                )));
            }
            Ok(Some(chunk)) => buf.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                return Err(format!(
                    "the response body could not be read: {}",
                    describe_error(&e)
                ))
            }
        }
    }
    Ok(bytes::Bytes::from(buf))
}

/// Sends `req` and reads the whole answer; reports the exchange to the tracer.
async fn send(http: &Http, req: reqwest::RequestBuilder) -> Result<Answer, String> {
    let (client, tracer) = (&http.client, http.tracer.as_ref());
    let req = req.build().map_err(|e| describe_error(&e))?;
    let mut ex = tracer.map(|_| Exchange {
        method: req.method().to_string(),
        url: req.url().to_string(),
        request_headers: header_pairs(req.headers()),
        request_body: req.body().and_then(|b| b.as_bytes()).map(<[u8]>::to_vec),
        status: None,
        response_headers: vec![],
        response_body: bytes::Bytes::new(),
        duration: Duration::ZERO,
        error: None,
    });
    let url = req.url().clone();
    let started = std::time::Instant::now();
    let result = async {
        let resp = match client.execute(req).await {
            Ok(r) => r,
            Err(e) => return Err(certificate_detail(describe_error(&e), &url, &http.network).await),
        };
        let status = resp.status().as_u16();
        let headers = header_pairs(resp.headers());
        let body = read_body(resp, http.max_body).await?;
        Ok::<Answer, String>(Answer {
            status,
            headers,
            body,
            duration: started.elapsed(),
            retries: 0,
            redirects: vec![],
        })
    }
    .await;
    if let (Some(t), Some(ex)) = (tracer, ex.as_mut()) {
        ex.duration = started.elapsed();
        match &result {
            Ok(a) => {
                ex.status = Some(a.status);
                ex.response_headers = a.headers.clone();
                ex.response_body = a.body.clone();
            }
            Err(e) => ex.error = Some(e.clone()),
        }
        t(ex);
    }
    result
}

/// A certificate failure, with what the server's certificate says: whom it is for and who
/// issued it, read by a second handshake that only looks.
async fn certificate_detail(message: String, url: &reqwest::Url, net: &Network) -> String {
    if !message.contains("certificate") || url.scheme() != "https" {
        return message;
    }
    let (Some(host), Some(port)) = (
        url.host_str().map(str::to_string),
        url.port_or_known_default(),
    ) else {
        return message;
    };
    let proxy = net.proxy_for(url);
    let chain = tokio::task::spawn_blocking(move || {
        crate::tls::presented_chain(
            &host,
            port,
            proxy.as_ref().map(|(h, p)| (h.as_str(), *p)),
            Duration::from_secs(5),
        )
    })
    .await
    .ok()
    .flatten();
    let Some(chain) = chain else {
        return message;
    };
    let leaf = &chain[0];
    let top = chain.last().unwrap_or(leaf);
    let mut text = format!(
        "{message}: the server's certificate is for `{}`, issued by `{}`",
        leaf.subject, leaf.issuer
    );
    if top.issuer != leaf.issuer {
        text.push_str(&format!(" (its chain ends at `{}`)", top.issuer));
    }
    if message.contains("UnknownIssuer") {
        text.push_str(", a certificate authority this machine does not trust");
    }
    text
}

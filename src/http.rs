//! The one HTTP client of a run, and readable descriptions of transport failures.

use std::time::Duration;

/// One client per run: rustls, connection reuse, connect and per-request timeouts.
pub fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .user_agent(concat!("fhircheck/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
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
/// one, so a large answer is held once and never copied while it grows.
async fn read_body(mut resp: reqwest::Response) -> Result<bytes::Bytes, String> {
    // A length that is a lie must not reserve memory: the first 64 MiB at most up front.
    let hint = resp.content_length().unwrap_or(0).min(64 << 20) as usize;
    let mut buf = Vec::with_capacity(hint);
    loop {
        match resp.chunk().await {
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

/// Sends `req` and reads the whole answer; reports the exchange to `tracer`.
pub async fn send(
    client: &reqwest::Client,
    req: reqwest::RequestBuilder,
    tracer: Option<&Tracer>,
) -> Result<Answer, String> {
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
    let started = std::time::Instant::now();
    let result = async {
        let resp = client.execute(req).await.map_err(|e| describe_error(&e))?;
        let status = resp.status().as_u16();
        let headers = header_pairs(resp.headers());
        let body = read_body(resp).await?;
        Ok::<Answer, String>(Answer {
            status,
            headers,
            body,
            duration: started.elapsed(),
            retries: 0,
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

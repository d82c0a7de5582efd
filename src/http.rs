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

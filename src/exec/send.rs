//! Sending one request: the header check, the redirects the policy allows, and the one retry
//! policy. Every exchange goes through `http::Http::send`, so `--verbose` sees each hop.

use std::time::Duration;

use super::{Context, Outgoing};
use crate::http::Answer;
use crate::secret::redact;

/// Redirects followed for one request, at most.
const MAX_REDIRECTS: usize = 5;

/// Header names and values that can go on the wire; a value with CR or LF can not.
pub(super) fn check_headers(headers: &[(String, String)]) -> Result<(), String> {
    for (k, v) in headers {
        if let Some(why) = crate::http::header_problem(k, v) {
            return Err(format!("{why}; nothing was sent"));
        }
    }
    Ok(())
}

fn has_header(h: &[(String, String)], name: &str) -> bool {
    crate::http::header(h, name).is_some()
}

/// Builds a fresh request for each attempt, so a retry sends exactly what the first did.
fn build(out: &Outgoing, bearer: Option<&str>, ctx: &Context) -> reqwest::RequestBuilder {
    let mut rb = ctx.http.request(out.method.clone(), &out.url);
    for (k, v) in &out.headers {
        rb = rb.header(k.as_str(), v.as_str());
    }
    if let Some(t) = bearer {
        if !has_header(&out.headers, "authorization") {
            rb = rb.bearer_auth(t);
        }
    }
    if let Some(b) = &out.body {
        rb = rb.body(b.clone());
    }
    rb
}

/// Sends `out`, retrying 429 and 503 answers `ctx.retries` times after their Retry-After.
/// `Err` is the transport error and how long the failed attempt took.
pub async fn send(
    out: &Outgoing,
    bearer: Option<&str>,
    ctx: &Context,
) -> Result<Answer, (String, Duration)> {
    let mut retries = 0;
    loop {
        let started = std::time::Instant::now();
        match follow(out, bearer, ctx).await {
            Err(message) => return Err((message, started.elapsed())),
            Ok(a) if matches!(a.status, 429 | 503) && retries < ctx.retries => {
                retries += 1;
                let wait = retry_after(&a.headers, ctx.clock.now());
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
            Ok(mut a) => {
                a.retries = retries;
                return Ok(a);
            }
        }
    }
}

/// `--wait-for-access`: `first` answered 403 before any authorised request of the run got in;
/// resend it, 1 s, 2 s, 4 s… (at most 15 s) apart, while it answers 403 and `limit` has not
/// passed. A new role assignment takes minutes to apply. Returns the last answer and how long
/// the waiting took.
pub async fn wait_for_access(
    out: &Outgoing,
    bearer: Option<&str>,
    ctx: &Context,
    limit: Duration,
    first: Result<Answer, (String, Duration)>,
    notify: &dyn Fn(&str),
) -> (Result<Answer, (String, Duration)>, Duration) {
    let started = std::time::Instant::now();
    let mut interval = Duration::from_secs(1);
    let mut last = first;
    loop {
        let waited = started.elapsed();
        let forbidden = matches!(&last, Ok(a) if a.status == 403);
        let interrupted = ctx.interrupted.load(std::sync::atomic::Ordering::SeqCst) != 0;
        if !forbidden || waited >= limit || interrupted {
            return (last, waited);
        }
        notify(&format!(
            "{} {}: 403, waiting for the role assignment to apply ({} s of {} s; a new assignment can take up to 5 minutes)",
            out.method,
            redact(&out.url),
            waited.as_secs(),
            limit.as_secs()
        ));
        tokio::time::sleep(interval.min(limit - waited)).await;
        interval = (interval * 2).min(Duration::from_secs(15));
        last = send(out, bearer, ctx).await;
    }
}

/// A GET with `Accept: application/fhir+json` and an optional bearer token, through the same
/// path as every request (retries, tracing).
pub async fn get(url: &str, bearer: Option<&str>, ctx: &Context) -> crate::http::Reply {
    let out = Outgoing {
        method: reqwest::Method::GET,
        url: url.to_string(),
        headers: vec![("Accept".into(), "application/fhir+json".into())],
        body: None,
    };
    send(&out, bearer, ctx).await.map_err(|(m, _)| m)
}

/// Seconds to wait before retrying, from `Retry-After` (seconds or an HTTP date): at least 1, at
/// most 30.
pub fn retry_after(headers: &[(String, String)], now: i64) -> u64 {
    let secs = match crate::http::header(headers, "retry-after").map(str::trim) {
        Some(v) => v
            .parse::<i64>()
            .ok()
            .or_else(|| crate::clock::httpdate_to_unix(v).map(|t| t - now))
            .unwrap_or(1),
        None => 1,
    };
    secs.clamp(1, 30) as u64
}

/// Where a redirect answer points, resolved against the URL that was asked.
fn redirect_target(a: &Answer, from: &str) -> Option<String> {
    if !matches!(a.status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = a.header("location")?;
    let base = reqwest::Url::parse(from).ok()?;
    base.join(location).ok().map(String::from)
}

/// Whether two URLs have the same scheme, host and port: where a credential may go.
pub fn same_origin(a: &str, b: &str) -> bool {
    matches!((origin(a), origin(b)), (Some(x), Some(y)) if x == y)
}

/// Scheme, host and port: the origin a credential belongs to.
fn origin(url: &str) -> Option<(String, String, Option<u16>)> {
    let u = reqwest::Url::parse(url).ok()?;
    Some((
        u.scheme().to_string(),
        u.host_str()?.to_ascii_lowercase(),
        u.port_or_known_default(),
    ))
}

/// One attempt: the request, then the redirects that stay within its origin (any origin with
/// `--follow-cross-origin`, the credentials left behind). The answer lists every hop.
async fn follow(out: &Outgoing, bearer: Option<&str>, ctx: &Context) -> crate::http::Reply {
    let mut current = out.clone();
    let mut bearer = bearer;
    let mut hops = Vec::new();
    for _ in 0..=MAX_REDIRECTS {
        let mut a = ctx.http.send(build(&current, bearer, ctx)).await?;
        let target = redirect_target(&a, &current.url);
        if let (Some(next), true) = (&target, ctx.ignore_redirects) {
            a.redirects = vec![format!(
                "{} to {}: not followed (--ignore-redirects)",
                a.status,
                redact(next)
            )];
            return Ok(a);
        }
        let Some(next) = target else {
            a.redirects = hops;
            return Ok(a);
        };
        let same = origin(&next).is_some() && origin(&next) == origin(&current.url);
        let shown = redact(&next).into_owned();
        if !same && !ctx.follow_cross_origin {
            hops.push(format!(
                "{} to {shown}: not followed, another origin (--follow-cross-origin follows it, without the credentials)",
                a.status
            ));
            a.redirects = hops;
            return Ok(a);
        }
        hops.push(format!("{} to {shown}", a.status));
        if !same {
            bearer = None;
            current.headers.retain(|(k, _)| {
                !k.eq_ignore_ascii_case("authorization") && !k.eq_ignore_ascii_case("cookie")
            });
        }
        let to_get = a.status == 303
            || (matches!(a.status, 301 | 302) && current.method == reqwest::Method::POST);
        if to_get {
            current.method = reqwest::Method::GET;
            current.body = None;
            current
                .headers
                .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
        }
        current.url = next;
    }
    Err(format!(
        "more than {MAX_REDIRECTS} redirects: {}",
        hops.join(", ")
    ))
}

/// Whether a URL's host, as written, is this machine: `localhost`, 127.0.0.0/8 or `[::1]`. A
/// name that merely resolves to 127.0.0.1 is not: DNS can change between the check and the send.
pub fn is_loopback(url: &str) -> bool {
    let Some(host) = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
    else {
        return false;
    };
    if host == "localhost" {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Why credentials may not go to `url`: plain HTTP to another machine, unless `--allow-http`.
pub fn plain_http_refusal(url: &str, allow_http: bool) -> Option<String> {
    let plain = url
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"));
    (plain && !allow_http && !is_loopback(url)).then(|| {
        format!(
            "refused to send credentials over plain http:// to {}: anyone on the network between could read them; use https://, or --allow-http if this network is trusted",
            redact(url)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_or_date() {
        let h = |v: &str| vec![("Retry-After".to_string(), v.to_string())];
        assert_eq!(retry_after(&h("3"), 0), 3);
        assert_eq!(retry_after(&h("0"), 0), 1);
        assert_eq!(retry_after(&h("600"), 0), 30);
        assert_eq!(
            retry_after(&h("Thu, 26 Nov 2026 09:23:30 GMT"), 1_795_685_005),
            5
        );
        assert_eq!(retry_after(&[], 0), 1);
    }

    #[test]
    fn loopback_is_judged_by_the_host_as_written() {
        for url in [
            "http://localhost:8080/x",
            "http://127.0.0.1/x",
            "http://127.8.9.10/",
            "http://[::1]:9/",
        ] {
            assert!(is_loopback(url), "{url}");
            assert!(plain_http_refusal(url, false).is_none());
        }
        for url in [
            "http://fhir.example.org/x",
            "http://localhost.example.org/",
            "http://10.0.0.1/",
            "http://169.254.169.254/",
        ] {
            assert!(!is_loopback(url), "{url}");
            assert!(plain_http_refusal(url, false).is_some(), "{url}");
            assert!(plain_http_refusal(url, true).is_none());
        }
        assert!(plain_http_refusal("https://fhir.example.org/", false).is_none());
    }

    #[test]
    fn header_values_with_line_breaks_are_refused() {
        let ok = vec![("X-A".to_string(), "b".to_string())];
        assert!(check_headers(&ok).is_ok());
        let bad = vec![("X-A".to_string(), "b\r\nX-Injected: 1".to_string())];
        assert!(check_headers(&bad).unwrap_err().contains("line break"));
        let bad_name = vec![("X A".to_string(), "b".to_string())];
        assert!(check_headers(&bad_name).is_err());
    }
}

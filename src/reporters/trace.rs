//! The `--verbose` trace of one HTTP exchange. Credentials are masked by name here (the
//! `Authorization` header, `client_secret`, `client_assertion`, `access_token`…) before the
//! redactor masks every known secret value.

use crate::http::Exchange;
use crate::secret::MASK;

const BODY_START: usize = 2048;

const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-identity-header",
    "api-key",
    "x-api-key",
];
const SECRET_FIELDS: &[&str] = &[
    "client_secret",
    "client_assertion",
    "access_token",
    "refresh_token",
    "id_token",
    "password",
    "assertion",
];

/// Field names whose values are credentials.
fn hidden(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_FIELDS.contains(&k.as_str()) || k.contains("secret") || k.contains("password")
}

fn header_value(name: &str, value: &str) -> String {
    if !SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return value.to_string();
    }
    match value.split_once(' ') {
        Some((scheme, _))
            if ["bearer", "basic"].contains(&scheme.to_ascii_lowercase().as_str()) =>
        {
            format!("{scheme} {MASK}")
        }
        _ => MASK.to_string(),
    }
}

fn mask_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if hidden(k) {
                    *x = serde_json::Value::String(MASK.into());
                } else {
                    mask_json(x);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(mask_json),
        _ => {}
    }
}

/// A signed or unsigned JWT: a base64url JSON header (`eyJ…`), a payload and a signature.
fn jwt_shaped() -> &'static regex::Regex {
    static JWT: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    JWT.get_or_init(|| {
        regex::Regex::new(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
            .expect("a valid pattern")
    })
}

/// A body's start, with credential fields masked.
fn body(bytes: &[u8], content_type: Option<&str>) -> String {
    let text = String::from_utf8_lossy(bytes);
    let ct = content_type.unwrap_or_default().to_ascii_lowercase();
    let masked = if ct.contains("x-www-form-urlencoded")
        || (!text.trim_start().starts_with('{') && text.contains('=') && !text.contains(' '))
    {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&text).unwrap_or_default();
        if pairs.is_empty() {
            text.into_owned()
        } else {
            let masked: Vec<(String, String)> = pairs
                .into_iter()
                .map(|(k, v)| {
                    let hide = hidden(&k);
                    (k, if hide { MASK.to_string() } else { v })
                })
                .collect();
            serde_urlencoded::to_string(&masked)
                .unwrap_or_default()
                .replace("%2A%2A%2A", MASK)
        }
    } else if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&text) {
        mask_json(&mut v);
        v.to_string()
    } else {
        text.into_owned()
    };
    // A JWT in a body is a credential whatever field holds it (GitHub's OIDC answer carries one
    // under `value`), and it may arrive before anything has told the redactor about it.
    let masked = jwt_shaped().replace_all(&masked, MASK);
    // Secrets are masked before the cut: a cut must never leave part of one behind.
    let masked = crate::secret::redact_for("trace", &masked).into_owned();
    if masked.chars().count() > BODY_START {
        let cut: String = masked.chars().take(BODY_START).collect();
        format!("{cut}… ({} bytes in all)", bytes.len())
    } else {
        masked
    }
}

fn content_type(h: &[(String, String)]) -> Option<&str> {
    crate::http::header(h, "content-type")
}

/// The trace block of one exchange.
pub fn render(ex: &Exchange) -> String {
    let mut s = format!("> {} {}\n", ex.method, ex.url);
    for (k, v) in &ex.request_headers {
        s.push_str(&format!("> {k}: {}\n", header_value(k, v)));
    }
    if let Some(b) = &ex.request_body {
        if !b.is_empty() {
            s.push_str(&format!(
                ">\n> {}\n",
                body(b, content_type(&ex.request_headers)).replace('\n', "\n> ")
            ));
        }
    }
    match (&ex.error, ex.status) {
        (Some(e), _) => s.push_str(&format!("! {e} ({} ms)\n", ex.duration.as_millis())),
        (None, Some(st)) => {
            s.push_str(&format!("< {st} ({} ms)\n", ex.duration.as_millis()));
            for (k, v) in &ex.response_headers {
                s.push_str(&format!("< {k}: {}\n", header_value(k, v)));
            }
            if !ex.response_body.is_empty() {
                s.push_str(&format!(
                    "<\n< {}\n",
                    body(&ex.response_body, content_type(&ex.response_headers))
                        .replace('\n', "\n< ")
                ));
            }
        }
        (None, None) => {}
    }
    s.push('\n');
    // A JWT anywhere in the exchange (a URL's query, a header of any name) is a credential too.
    let s = jwt_shaped().replace_all(&s, MASK);
    // What a server sent can not drive the terminal.
    crate::text::clean(&s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A secret that straddles the point where the body is cut is masked whole first: no part
    /// of it is left at the end of the shown text.
    #[test]
    fn a_cut_never_leaves_part_of_a_secret() {
        let secret = "Cut-Here-Secret-Value-0123456789";
        crate::secret::redactor().add(secret);
        let body = format!("{}{secret} and more", "x".repeat(BODY_START - 10));
        let shown = super::body(body.as_bytes(), Some("text/plain"));
        assert!(
            !shown.contains(&secret[..8]),
            "{}",
            &shown[shown.len() - 60..]
        );
        assert!(shown.contains("***"));
    }

    #[test]
    fn a_jwt_is_masked_wherever_it_is() {
        let ex = Exchange {
            method: "GET".into(),
            url: "https://h/token".into(),
            request_headers: vec![],
            request_body: None,
            status: Some(200),
            response_headers: vec![("content-type".into(), "application/json".into())],
            response_body: bytes::Bytes::from_static(
                br#"{"count":3,"value":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"}"#,
            ),
            duration: std::time::Duration::ZERO,
            error: None,
        };
        let t = render(&ex);
        assert!(!t.contains("eyJ"), "{t}");
        assert!(t.contains(r#""count":3"#), "{t}");
    }

    #[test]
    fn credentials_are_masked_by_name() {
        let ex = Exchange {
            method: "POST".into(),
            url: "https://login/t/oauth2/token".into(),
            request_headers: vec![("authorization".into(), "Basic Y2xpZW50OnNlY3JldA==".into()), ("content-type".into(), "application/x-www-form-urlencoded".into())],
            request_body: Some(b"grant_type=client_credentials&client_id=c&client_secret=s3cr3t&client_assertion=a.b.c".to_vec()),
            status: Some(200),
            response_headers: vec![("content-type".into(), "application/json".into())],
            response_body: bytes::Bytes::from_static(
                br#"{"token_type":"Bearer","access_token":"eyJ.x.y"}"#,
            ),
            duration: std::time::Duration::from_millis(3),
            error: None,
        };
        let t = render(&ex);
        assert!(t.contains("> authorization: Basic ***"), "{t}");
        assert!(
            t.contains("client_secret=***") && t.contains("client_assertion=***"),
            "{t}"
        );
        assert!(t.contains(r#""access_token":"***""#), "{t}");
        assert!(!t.contains("s3cr3t") && !t.contains("eyJ.x.y") && !t.contains("Y2xpZW50"));
    }
}

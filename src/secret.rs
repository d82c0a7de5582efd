//! Secret values and the one redactor every writer passes through.
//!
//! A [`Secret`] never shows its value through `Debug`, `Display` or `Serialize`. Values that
//! must be written somewhere (a request body, an `Authorization` header) are taken out with
//! [`Secret::expose`], and are registered with the process-wide [`Redactor`] at the moment they
//! are created, so any text that reaches a terminal, a report or a panic message can be
//! scrubbed of them.

use std::borrow::Cow;
use std::fmt;
use std::sync::{OnceLock, RwLock};

/// What a secret looks like in every output.
pub const MASK: &str = "***";

/// Values shorter than this are not searched for in output: masking every `a` of a report would
/// hide everything and protect nothing. Such short secrets are rejected where they are read.
pub const MIN_SECRET_LEN: usize = 4;

/// A client secret, client assertion, access token or secret variable.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value` and registers it with the global redactor.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        redactor().add(&value);
        Secret(value)
    }

    /// The raw value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(MASK)
    }
}

/// Replaces every known secret in text with [`MASK`].
#[derive(Default)]
pub struct Redactor {
    needles: RwLock<Vec<String>>,
}

/// The process-wide redactor.
pub fn redactor() -> &'static Redactor {
    static GLOBAL: OnceLock<Redactor> = OnceLock::new();
    GLOBAL.get_or_init(Redactor::default)
}

/// Shorthand for `redactor().redact(text)`.
pub fn redact(text: &str) -> Cow<'_, str> {
    redactor().redact(text)
}

impl Redactor {
    /// Registers a secret value, with every encoding it may travel in: form and URL encoding
    /// (either case of hex digits, `+` or `%20` for a space), base64 and base64url, and JSON
    /// string escaping. A JWT also registers its signature on its own, since that part alone is
    /// enough to replay a token whose header and claims are public.
    pub fn add(&self, value: &str) {
        let value = value.trim();
        if value.len() < MIN_SECRET_LEN {
            return;
        }
        let mut forms = encodings(value);
        let parts: Vec<&str> = value.split('.').collect();
        if parts.len() == 3 && parts.iter().all(|p| !p.is_empty()) && parts[2].len() >= 16 {
            forms.push(parts[2].to_string());
        }
        self.insert(forms);
    }

    /// Registers HTTP Basic credentials: `id:secret` in base64, as an `Authorization: Basic`
    /// header carries them (with and without the form encoding RFC 6749 asks of OAuth2
    /// clients), besides the secret itself.
    pub fn add_basic(&self, id: &str, secret: &str) {
        self.add(secret);
        if secret.trim().len() < MIN_SECRET_LEN {
            return;
        }
        let mut forms = Vec::new();
        for pair in [
            format!("{id}:{secret}"),
            format!(
                "{}:{}",
                form_urlencoded_bytes(id),
                form_urlencoded_bytes(secret)
            ),
        ] {
            forms.extend(b64_forms(&pair));
        }
        self.insert(forms);
    }

    fn insert(&self, forms: Vec<String>) {
        let mut needles = self.needles.write().unwrap_or_else(|e| e.into_inner());
        for form in forms {
            if !needles.contains(&form) {
                needles.push(form);
            }
        }
        // Longest first, so a token is masked whole before its signature part is looked for.
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    /// `text` with every registered secret replaced by [`MASK`].
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let needles = self.needles.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Cow<'a, str> = Cow::Borrowed(text);
        for needle in needles.iter() {
            if out.contains(needle.as_str()) {
                out = Cow::Owned(out.replace(needle.as_str(), MASK));
            }
        }
        out
    }
}

/// Base64 of `text`, padding left off so the needle is found whatever follows it; `url` for the
/// URL-safe alphabet.
fn b64(text: &str, url: bool) -> String {
    use base64::Engine;
    let engine = if url {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
    } else {
        base64::engine::general_purpose::STANDARD_NO_PAD
    };
    engine.encode(text)
}

/// Base64 and base64url of `text`, with and without padding (the padded form is longer, so it is
/// masked first and no `=` is left behind).
fn b64_forms(text: &str) -> Vec<String> {
    let (plain, url) = (b64(text, false), b64(text, true));
    let pad = "=".repeat((4 - plain.len() % 4) % 4);
    vec![format!("{plain}{pad}"), plain, format!("{url}{pad}"), url]
}

/// Every form of `value` worth searching output for.
fn encodings(value: &str) -> Vec<String> {
    let form = form_urlencoded_bytes(value);
    let mut forms = vec![
        value.to_string(),
        form.clone(),
        lower_hex_escapes(&form),
        form.replace('+', "%20"),
        lower_hex_escapes(&form.replace('+', "%20")),
        serde_json::to_string(value)
            .map(|s| s.trim_matches('"').to_string())
            .unwrap_or_default(),
    ];
    // Base64 only lines up with the secret when it starts a block: a standalone value.
    if value.len() >= 6 {
        forms.extend(b64_forms(value));
    }
    forms.retain(|f| f.len() >= MIN_SECRET_LEN);
    forms.sort();
    forms.dedup();
    forms
}

/// `%2F` → `%2f`: servers and proxies echo either case.
fn lower_hex_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for _ in 0..2 {
                if let Some(h) = chars.next() {
                    out.push(h.to_ascii_lowercase());
                }
            }
        }
    }
    out
}

fn form_urlencoded_bytes(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Writers whose redaction a test has switched off (see [`set_unredacted_writers`]).
static UNREDACTED: OnceLock<Vec<String>> = OnceLock::new();

/// Test hook: turn redaction off for the named writers (`terminal`, `errors`, `trace`,
/// `json`, `junit`, `html`, `github`), so a test can prove that each writer's redaction is what
/// keeps secrets out of it. Set by the configuration step from `FHIRCHECK_TEST_UNREDACTED`.
pub fn set_unredacted_writers(writers: Vec<String>) {
    let _ = UNREDACTED.set(writers);
}

/// `text` as the writer `writer` may emit it.
pub fn redact_for<'a>(writer: &str, text: &'a str) -> Cow<'a, str> {
    if UNREDACTED
        .get()
        .is_some_and(|w| w.iter().any(|x| x == writer))
    {
        Cow::Borrowed(text)
    } else {
        redact(text)
    }
}

/// Installs a panic hook whose message passes through the redactor, so a panic can not
/// print a token that happened to be in a formatted value.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: fhircheck crashed{location}: {}\nThis is a bug in fhircheck; please report it with the command you ran.",
            redact(&payload)
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_its_value() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s}"), MASK);
        assert_eq!(format!("{s:?}"), MASK);
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn redacts_plain_encoded_and_signature_forms() {
        let r = Redactor::default();
        r.add("a~b c/d+secret");
        assert_eq!(r.redact("x=a~b c/d+secret"), "x=***");
        assert_eq!(r.redact("x=a%7Eb+c%2Fd%2Bsecret&y"), "x=***&y");
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJlLXBhcnQtb2YtdGhlLXRva2Vu";
        r.add(jwt);
        assert_eq!(r.redact(&format!("Bearer {jwt}")), "Bearer ***");
        assert_eq!(
            r.redact("sig c2lnbmF0dXJlLXBhcnQtb2YtdGhlLXRva2Vu alone"),
            "sig *** alone"
        );
    }

    #[test]
    fn every_wire_form_of_a_secret_is_masked() {
        use base64::Engine;
        let r = Redactor::default();
        let secret = "Ab~c d/e+\"f\\g";
        r.add(secret);
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        for shown in [
            secret.to_string(),
            "Ab%7Ec+d%2Fe%2B%22f%5Cg".to_string(),
            "Ab%7ec+d%2fe%2b%22f%5cg".to_string(),
            "Ab%7Ec%20d%2Fe%2B%22f%5Cg".to_string(),
            serde_json::to_string(secret)
                .unwrap()
                .trim_matches('"')
                .to_string(),
            b64,
            b64url,
        ] {
            let text = format!("<{shown}>");
            let out = r.redact(&text);
            assert!(!out.contains(&shown), "{shown} in {out}");
        }
        r.add_basic("client-1", "s3cr3t:value");
        let basic = base64::engine::general_purpose::STANDARD.encode("client-1:s3cr3t:value");
        assert_eq!(r.redact(&format!("Basic {basic}")), "Basic ***");
        let form = base64::engine::general_purpose::STANDARD.encode("client-1:s3cr3t%3Avalue");
        assert_eq!(r.redact(&format!("Basic {form}")), "Basic ***");
    }

    #[test]
    fn short_values_are_not_searched_for() {
        let r = Redactor::default();
        r.add("ab");
        assert_eq!(r.redact("abc"), "abc");
    }

    mod property {
        use super::super::*;
        use base64::Engine;
        use proptest::prelude::*;

        /// Every way a secret may come back in output: plain, in a query or form, base64 and
        /// base64url, JSON-escaped, and as the Basic credentials of a client.
        fn shown_forms(secret: &str, id: &str) -> Vec<String> {
            let b = base64::engine::general_purpose::STANDARD;
            let u = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let form = serde_urlencoded::to_string([("", secret)]).unwrap()[1..].to_string();
            vec![
                secret.to_string(),
                form.clone(),
                form.to_ascii_lowercase_escapes(),
                form.replace('+', "%20"),
                serde_json::to_string(secret)
                    .unwrap()
                    .trim_matches('"')
                    .to_string(),
                b.encode(secret),
                u.encode(secret),
                b.encode(format!("{id}:{secret}")),
                u.encode(format!("{id}:{secret}")),
            ]
        }

        trait LowerEscapes {
            fn to_ascii_lowercase_escapes(&self) -> String;
        }

        impl LowerEscapes for String {
            fn to_ascii_lowercase_escapes(&self) -> String {
                super::super::lower_hex_escapes(self)
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]
            /// For any secret and any output it may take on the wire, the secret never shows.
            #[test]
            fn no_form_of_a_secret_survives_redaction(
                secret in "[A-Za-z0-9~!@#$%^&()_+={}|:;<>?,./ \\\"'é🙂-]{6,40}",
                id in "[a-z0-9-]{1,20}",
                before in "[ -~]{0,20}",
                after in "[ -~]{0,20}",
            ) {
                prop_assume!(secret.trim() == secret && !secret.contains('*'));
                let r = Redactor::default();
                r.add_basic(&id, &secret);
                for shown in shown_forms(&secret, &id) {
                    let text = format!("{before}{shown}{after}");
                    let out = r.redact(&text);
                    prop_assert!(!out.contains(&shown), "{shown:?} survived in {out:?}");
                }
            }
        }
    }
}

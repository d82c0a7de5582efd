//! Text helpers shared by every stage: values as people read them.

use serde_json::Value;

/// A value as reports show it: JSON, cut short.
pub fn show(v: &Value) -> String {
    let s = v.to_string();
    shorten(&s, 120)
}

/// Text from a server made safe to show: control characters (line breaks and tabs aside) become
/// `\u{fffd}`, so an answer can not move the cursor, retitle the terminal, ring the bell or
/// forge a line of the report with a carriage return.
pub fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| if unsafe_char(c) { '\u{fffd}' } else { c })
            .collect(),
    )
}

fn unsafe_char(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// `s` cut to `max` characters, with an ellipsis when cut. Secrets are masked before the cut,
/// so a cut can never leave part of one behind; control characters are made harmless.
/// A placeholder left unfilled from an example, like `<workspace>` or `<Directory (tenant) ID>`:
/// the first `<…>` that holds a letter and no markup-like characters.
pub fn placeholder(s: &str) -> Option<&str> {
    let mut rest = s;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after.find('>')?;
        let inner = &after[..end];
        if !inner.is_empty()
            && inner.len() <= 60
            && inner.trim() == inner
            && inner.chars().any(char::is_alphabetic)
            && !inner.contains(['<', '/', '=', '"'])
        {
            return Some(&rest[start..start + end + 2]);
        }
        rest = after;
    }
    None
}

pub fn shorten(s: &str, max: usize) -> String {
    let s = crate::secret::redact(s);
    let s = clean(&s);
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// The choice closest to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, choices: &[&'a str]) -> Option<&'a str> {
    choices
        .iter()
        .map(|c| (levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_made_harmless() {
        assert_eq!(clean("ok\nnext\tcol"), "ok\nnext\tcol");
        assert_eq!(
            clean("\x1b[2J\x1b]0;owned\x07PASS\r"),
            "\u{fffd}[2J\u{fffd}]0;owned\u{fffd}PASS\u{fffd}"
        );
        assert_eq!(clean("nul\0"), "nul\u{fffd}");
        assert_eq!(shorten("\x1babc", 2), "\u{fffd}a…");
    }
}

#[cfg(test)]
mod placeholder_tests {
    #[test]
    fn finds_unfilled_placeholders_only() {
        use super::placeholder;
        assert_eq!(
            placeholder("https://<workspace>-<service>.fhir.azurehealthcareapis.com"),
            Some("<workspace>")
        );
        assert_eq!(
            placeholder("<Directory (tenant) ID>"),
            Some("<Directory (tenant) ID>")
        );
        assert_eq!(placeholder("https://fhir.example.org/r4"), None);
        assert_eq!(placeholder("a < b > c"), None);
        assert_eq!(placeholder("<div xmlns=\"x\">"), None);
        assert_eq!(placeholder("</b>"), None);
        assert_eq!(placeholder("<"), None);
    }
}

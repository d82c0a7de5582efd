//! Text helpers shared by every stage: values as people read them.

use serde_json::Value;

/// A value as reports show it: JSON, cut short.
pub fn show(v: &Value) -> String {
    let s = v.to_string();
    shorten(&s, 120)
}

/// `s` cut to `max` characters, with an ellipsis when cut.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

//! The comparisons FHIRPath checks and TestScript asserts make (equals, in, greater than,
//! empty, contains…), and the `minimum` check: pure functions of values, no I/O.

use std::collections::HashMap;

use serde_json::Value;

use crate::fhirpath::{Expr, Found, Typed};
use crate::text::shorten;

/// One comparison of a result with an expected value.
#[derive(Debug, Clone)]
pub enum Compare {
    /// The expression itself must be `true`.
    True,
    Equals(Value),
    NotEquals(Value),
    In(Vec<Value>),
    NotIn(Vec<Value>),
    GreaterThan(Value),
    LessThan(Value),
    /// `true`: empty; `false`: not empty.
    Empty(bool),
    Contains(Value),
    NotContains(Value),
}

/// A FHIRPath expression with its comparisons and the variables it reads as `%name`.
#[derive(Debug, Clone)]
pub struct FhirPathCheck {
    pub label: String,
    pub expr: Expr,
    pub compare: Vec<Compare>,
    /// `(name, value)`: before rendering the value is the template `{{name}}`.
    pub constants: Vec<(String, String)>,
}

/// The outcome of one comparison: did it hold, what was expected, what was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub label: String,
    pub passed: bool,
    pub expected: String,
    pub actual: String,
}

/// The text of an expected value: a JSON string as itself, anything else as JSON.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The strings of a comparison that may hold `{{templates}}`.
pub fn templates(c: &Compare) -> Vec<&str> {
    match c {
        Compare::True | Compare::Empty(_) => vec![],
        Compare::Equals(v)
        | Compare::NotEquals(v)
        | Compare::GreaterThan(v)
        | Compare::LessThan(v)
        | Compare::Contains(v)
        | Compare::NotContains(v) => v.as_str().into_iter().collect(),
        Compare::In(vs) | Compare::NotIn(vs) => vs.iter().filter_map(Value::as_str).collect(),
    }
}

/// The same strings, to render them in place.
pub fn templates_mut(c: &mut Compare) -> Vec<&mut String> {
    fn strings(v: &mut Value) -> Option<&mut String> {
        match v {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    match c {
        Compare::True | Compare::Empty(_) => vec![],
        Compare::Equals(v)
        | Compare::NotEquals(v)
        | Compare::GreaterThan(v)
        | Compare::LessThan(v)
        | Compare::Contains(v)
        | Compare::NotContains(v) => strings(v).into_iter().collect(),
        Compare::In(vs) | Compare::NotIn(vs) => vs.iter_mut().filter_map(strings).collect(),
    }
}

/// `%name` references of an expression that name variables (not the built-in `%resource`,
/// `%context`, `%ucum`…).
pub fn constants(expr: &str) -> Vec<String> {
    const BUILT_IN: &[&str] = &[
        "resource",
        "context",
        "rootResource",
        "ucum",
        "sct",
        "loinc",
        "terminologies",
        "factory",
        "server",
    ];
    let mut out: Vec<String> = Vec::new();
    let mut in_string = false;
    let chars: Vec<char> = expr.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == '\'' && (i == 0 || chars[i - 1] != '\\') {
            in_string = !in_string;
        }
        if in_string || *c != '%' {
            continue;
        }
        let name: String = chars[i + 1..]
            .iter()
            .take_while(|c| c.is_alphanumeric() || **c == '_')
            .collect();
        let starts_ok = name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_');
        if starts_ok && !BUILT_IN.contains(&name.as_str()) && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Evaluates a check against a resource: one verdict per comparison, or one failed verdict
/// when the expression can not be evaluated.
pub fn fhirpath(check: &FhirPathCheck, body: &Result<Typed, String>) -> Vec<Verdict> {
    let vars: HashMap<String, String> = check.constants.iter().cloned().collect();
    let found = match body
        .as_ref()
        .map_err(String::clone)
        .and_then(|t| check.expr.eval_on(t, &vars))
    {
        Ok(f) => f,
        Err(e) => {
            return vec![Verdict {
                label: check.label.clone(),
                passed: false,
                expected: "an expression that evaluates".into(),
                actual: format!("evaluation error: {}", shorten(&e, 200)),
            }]
        }
    };
    check
        .compare
        .iter()
        .map(|c| {
            let (passed, expected) = judge(c, &found);
            Verdict {
                label: check.label.clone(),
                passed,
                expected,
                actual: describe(&found),
            }
        })
        .collect()
}

/// Whether the found values satisfy `c`, and the expectation in words.
pub fn judge(c: &Compare, found: &[Found]) -> (bool, String) {
    let text = joined(found);
    match c {
        Compare::True => (matches!(found, [Found::Boolean(true)]), "true".into()),
        Compare::Equals(v) => (same(found, v), value_text(v)),
        Compare::NotEquals(v) => (
            !found.is_empty() && !same(found, v),
            format!("not {}", value_text(v)),
        ),
        Compare::In(vs) => (
            !found.is_empty() && vs.iter().any(|v| same(found, v)),
            format!("one of {}", list(vs)),
        ),
        Compare::NotIn(vs) => (
            !found.is_empty() && !vs.iter().any(|v| same(found, v)),
            format!("none of {}", list(vs)),
        ),
        Compare::GreaterThan(v) => (
            order(found, v) == Some(std::cmp::Ordering::Greater),
            format!("greater than {}", value_text(v)),
        ),
        Compare::LessThan(v) => (
            order(found, v) == Some(std::cmp::Ordering::Less),
            format!("less than {}", value_text(v)),
        ),
        Compare::Empty(want) => (
            found.is_empty() == *want,
            if *want { "empty" } else { "not empty" }.into(),
        ),
        Compare::Contains(v) => (
            !found.is_empty() && text.contains(&value_text(v)),
            format!("contains {:?}", value_text(v)),
        ),
        Compare::NotContains(v) => (
            !text.contains(&value_text(v)),
            format!("does not contain {:?}", value_text(v)),
        ),
    }
}

fn joined(found: &[Found]) -> String {
    found.iter().map(Found::text).collect::<Vec<_>>().join(",")
}

fn list(vs: &[Value]) -> String {
    vs.iter().map(value_text).collect::<Vec<_>>().join(", ")
}

/// What an expression gave, for the report.
pub fn describe(found: &[Found]) -> String {
    match found {
        [] => "empty".into(),
        [one] => shorten(&one.text(), 160),
        many => shorten(&format!("{} items: {}", many.len(), joined(many)), 160),
    }
}

/// One found value equal to `v`: numbers by value, anything else by its text. Several values
/// equal a comma-separated list of them, as TestScript engines compare.
fn same(found: &[Found], v: &Value) -> bool {
    let want = value_text(v);
    match found {
        [one] => match (one.number(), want.trim().parse::<f64>()) {
            (Some(a), Ok(b)) if !matches!(one, Found::Text(_)) => a == b,
            _ => one.text() == want,
        },
        [] => false,
        many => joined(many) == want,
    }
}

/// The order of one found value against `v`: numbers numerically, dates and times as ISO text
/// of the same precision, text as text.
fn order(found: &[Found], v: &Value) -> Option<std::cmp::Ordering> {
    let [one] = found else { return None };
    let want = value_text(v);
    if let (Some(a), Ok(b)) = (one.number(), want.trim().parse::<f64>()) {
        return a.partial_cmp(&b);
    }
    let have = one.text();
    if one.is_temporal() {
        let n = have.len().min(want.len());
        return Some(have[..n].cmp(&want[..n.min(want.len())]));
    }
    Some(have.as_str().cmp(want.as_str()))
}

/// Whether `have` holds at least everything `min` holds: every member of an object (`id` and
/// `meta` aside, which a server assigns), and for an array, every element of `min` somewhere in
/// `have`. The first element that is missing, by its path, when one is.
pub fn minimum(have: &Value, min: &Value) -> Result<(), String> {
    contains_all(have, min, "", true)
}

fn contains_all(have: &Value, min: &Value, path: &str, top: bool) -> Result<(), String> {
    match (have, min) {
        (Value::Object(h), Value::Object(m)) => {
            for (k, mv) in m {
                if top && matches!(k.as_str(), "id" | "meta" | "text") {
                    continue;
                }
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match h.get(k) {
                    Some(hv) => contains_all(hv, mv, &p, false)?,
                    None => return Err(format!("`{p}` is missing")),
                }
            }
            Ok(())
        }
        (Value::Array(h), Value::Array(m)) => {
            for (i, mv) in m.iter().enumerate() {
                if !h.iter().any(|hv| contains_all(hv, mv, "", false).is_ok()) {
                    return Err(format!(
                        "`{path}[{i}]` ({}) is missing",
                        shorten(&mv.to_string(), 60)
                    ));
                }
            }
            Ok(())
        }
        (h, m) if h == m => Ok(()),
        (h, m) => Err(format!(
            "`{path}` is {} instead of {}",
            shorten(&h.to_string(), 60),
            shorten(&m.to_string(), 60)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(items: &[&str]) -> Vec<Found> {
        items
            .iter()
            .map(|s| Found::Text((*s).to_string()))
            .collect()
    }

    #[test]
    fn comparisons() {
        let one = [Found::Integer(3)];
        assert!(judge(&Compare::Equals(json!(3)), &one).0);
        assert!(judge(&Compare::Equals(json!("3")), &one).0);
        assert!(judge(&Compare::GreaterThan(json!(2)), &one).0);
        assert!(!judge(&Compare::LessThan(json!("2")), &one).0);
        assert!(judge(&Compare::In(vec![json!(1), json!(3)]), &one).0);
        assert!(judge(&Compare::NotIn(vec![json!(1)]), &one).0);
        assert!(!judge(&Compare::NotEquals(json!(3)), &one).0);
        assert!(judge(&Compare::Empty(true), &[]).0);
        assert!(!judge(&Compare::Empty(true), &one).0);
        assert!(judge(&Compare::Contains(json!("ell")), &f(&["hello"])).0);
        assert!(judge(&Compare::NotContains(json!("x")), &f(&["hello"])).0);
        assert!(judge(&Compare::Equals(json!("a,b")), &f(&["a", "b"])).0);
        assert!(judge(&Compare::True, &[Found::Boolean(true)]).0);
        assert!(!judge(&Compare::True, &[]).0);
        let date = [Found::Date("2020-05-01".into())];
        assert!(judge(&Compare::GreaterThan(json!("2019-12-31")), &date).0);
        // Text that reads as a number still compares as text for equality.
        assert!(!judge(&Compare::Equals(json!(1)), &f(&["1.0"])).0);
    }

    #[test]
    fn constants_skip_built_ins_and_strings() {
        assert_eq!(
            constants("entry.where(resource.id = %pid and %resource.x = '%no' and %pid2 = 1)"),
            ["pid", "pid2"]
        );
    }

    #[test]
    fn minimum_is_a_subset_check() {
        let have = json!({"resourceType": "Patient", "id": "s1", "name": [{"family": "Doe", "given": ["J", "K"]}], "active": true});
        let min = json!({"resourceType": "Patient", "id": "local", "name": [{"given": ["K"]}]});
        assert_eq!(minimum(&have, &min), Ok(()));
        let more = json!({"resourceType": "Patient", "gender": "male"});
        assert_eq!(minimum(&have, &more).unwrap_err(), "`gender` is missing");
        let diff = json!({"active": false});
        assert!(minimum(&have, &diff)
            .unwrap_err()
            .contains("`active` is true"));
    }
}

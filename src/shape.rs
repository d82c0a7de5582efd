//! The parts of a JSON body that a request's checks read, and a parse that builds only those.
//!
//! A 5 MB searchset parsed whole into `serde_json::Value` costs ten times its size in memory and
//! most of a run's time; checks such as `$.total equals 5000` and `$.entry count 5000` need one
//! number and one array length. A [`Shape`] is derived from the checks' JSONPaths before the run;
//! [`Shape::parse`] reads the whole body once (so a syntax error anywhere is still an error) and
//! allocates only what the shape keeps. The checks then run on the smaller value with the same
//! results: everything a path can select is kept, whole where a check compares values.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

/// What to keep of a JSON value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    /// Keep the value whole, everything below it included.
    whole: bool,
    /// Object members to keep, by name.
    keys: BTreeMap<String, Shape>,
    /// What to keep of every array element and every object member.
    any: Option<Box<Shape>>,
    /// The array's elements are Bundle entries: keep whole those that carry an OperationOutcome
    /// (a `search.mode` of `outcome`, a `response.outcome`), for the issues every report shows.
    outcomes: bool,
    /// `any` is folded into every named member already ([`Shape::settle`]).
    settled: bool,
}

impl Shape {
    /// The whole value.
    pub fn whole() -> Shape {
        Shape {
            whole: true,
            ..Shape::default()
        }
    }

    /// Only what the value is: its type, and an array's length (elements become `null`). Enough
    /// to count, to test existence or a type.
    pub fn outline() -> Shape {
        Shape::default()
    }

    fn is_whole(&self) -> bool {
        self.whole
    }

    /// Keeps what `other` keeps too.
    pub fn merge(&mut self, other: Shape) {
        self.settled = false;
        if self.whole || other.whole {
            *self = Shape::whole();
            return;
        }
        for (k, s) in other.keys {
            self.keys.entry(k).or_default().merge(s);
        }
        if let Some(a) = other.any {
            match &mut self.any {
                Some(mine) => mine.merge(*a),
                None => self.any = Some(a),
            }
        }
        self.outcomes |= other.outcomes;
    }

    /// Bundle entries whose resource or response is an OperationOutcome, kept whole.
    pub fn entry_outcomes() -> Shape {
        Shape {
            outcomes: true,
            ..Shape::default()
        }
    }

    /// A member by name, or every member, and what to keep of it.
    fn child(&mut self, step: Step) -> &mut Shape {
        match step {
            Step::Key(k) => self.keys.entry(k).or_default(),
            Step::Any => self.any.get_or_insert_with(Box::default),
        }
    }

    /// The shape a JSONPath reads, with `leaf` kept at each node it selects. A path this reader
    /// does not follow (descendants `..`, filters, slices, unions) keeps the node where that
    /// begins whole: more than needed, never less.
    pub fn of_path(path: &str, leaf: Shape) -> Shape {
        let mut root = Shape::default();
        let (steps, complete) = steps(path);
        let mut node = &mut root;
        for s in steps {
            node = node.child(s);
        }
        if complete {
            node.merge(leaf);
        } else {
            *node = Shape::whole();
        }
        root
    }

    /// Parses `bytes` as JSON, keeping what this shape keeps. A shape used for many answers is
    /// [settled](Shape::settle) once beforehand.
    pub fn parse(&self, bytes: &[u8]) -> serde_json::Result<Value> {
        let settled;
        let shape = if self.settled {
            self
        } else {
            settled = self.settled();
            &settled
        };
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let v = Seed(shape).deserialize(&mut de)?;
        de.end()?;
        Ok(v)
    }

    /// This shape, ready to parse many answers with.
    pub fn settle(self) -> Shape {
        self.settled()
    }

    /// The same shape with `any` folded into every named member, so a member's shape is found
    /// in one place while parsing.
    fn settled(&self) -> Shape {
        if self.whole {
            return Shape {
                settled: true,
                ..Shape::whole()
            };
        }
        let mut any = self.any.as_ref().map(|a| a.settled());
        if self.outcomes {
            // Elements other checks read too: keep what tells an outcome entry from the others.
            if let Some(a) = &mut any {
                for path in [
                    "$.response.outcome",
                    "$.search.mode",
                    "$.resource.resourceType",
                    "$.resource.issue",
                ] {
                    a.merge(Shape::of_path(path, Shape::whole()));
                }
            }
        }
        let keys = self
            .keys
            .iter()
            .map(|(k, s)| {
                let mut s = s.settled();
                if let Some(a) = &any {
                    s.merge(a.clone());
                }
                (k.clone(), s)
            })
            .collect();
        Shape {
            whole: false,
            keys,
            any: any.map(Box::new),
            outcomes: self.outcomes,
            settled: true,
        }
    }
}

/// One step of a path: a member by name, or every member or element.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Any,
}

/// The steps of a JSONPath made of name, index and wildcard selectors, and whether the whole
/// path was read (false: it goes on with something this reader does not follow).
fn steps(path: &str) -> (Vec<Step>, bool) {
    let mut out = Vec::new();
    let Some(mut rest) = path.trim().strip_prefix('$') else {
        return (out, false);
    };
    while !rest.is_empty() {
        let parsed = if rest.starts_with("..") {
            None
        } else if let Some(r) = rest.strip_prefix(".*") {
            Some((Step::Any, r))
        } else if let Some(r) = rest.strip_prefix('.') {
            member_name(r)
        } else if let Some(r) = rest.strip_prefix('[') {
            bracket(r)
        } else {
            None
        };
        match parsed {
            Some((step, r)) => {
                out.push(step);
                rest = r;
            }
            None => return (out, false),
        }
    }
    (out, true)
}

/// `name` after a dot: letters, digits, `_` and anything beyond ASCII.
fn member_name(r: &str) -> Option<(Step, &str)> {
    let end = r
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || !c.is_ascii()))
        .map_or(r.len(), |(i, _)| i);
    let name = &r[..end];
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii());
    starts_well.then(|| (Step::Key(name.to_string()), &r[end..]))
}

/// The inside of `[…]`: `*`, an index (kept as every element), or one quoted name without
/// escapes.
fn bracket(r: &str) -> Option<(Step, &str)> {
    let r = r.trim_start();
    if let Some(after) = r.strip_prefix('*') {
        return Some((Step::Any, after.trim_start().strip_prefix(']')?));
    }
    if let Some(q) = r.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let body = &r[1..];
        let end = body.find(q)?;
        let name = &body[..end];
        if name.contains('\\') {
            return None;
        }
        let after = body[end + 1..].trim_start().strip_prefix(']')?;
        return Some((Step::Key(name.to_string()), after));
    }
    let end = r.find(']')?;
    let index = r[..end].trim();
    let is_index = !index.is_empty()
        && index
            .strip_prefix('-')
            .unwrap_or(index)
            .chars()
            .all(|c| c.is_ascii_digit());
    is_index.then(|| (Step::Any, &r[end + 1..]))
}

/// Deserializes one value with the shape that applies to it.
struct Seed<'s>(&'s Shape);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.0.is_whole() {
            return Value::deserialize(d);
        }
        d.deserialize_any(ShapedVisitor(self.0))
    }
}

struct ShapedVisitor<'s>(&'s Shape);

impl<'de> Visitor<'de> for ShapedVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        if self.0.outcomes && self.0.any.is_none() {
            // Nothing else reads the entries: take each one's bytes as they are, and parse only
            // the few that mention an OperationOutcome.
            while let Some(raw) = seq.next_element::<&'de RawValue>()? {
                out.push(if raw.get().contains("OperationOutcome") {
                    serde_json::from_str(raw.get()).map_err(de::Error::custom)?
                } else {
                    Value::Null
                });
            }
            return Ok(Value::Array(out));
        }
        match &self.0.any {
            Some(each) => {
                while let Some(v) = seq.next_element_seed(Seed(each))? {
                    out.push(v);
                }
            }
            None => {
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    out.push(Value::Null);
                }
            }
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match self.0.keys.get(&key).or(self.0.any.as_deref()) {
                Some(shape) => {
                    let v = map.next_value_seed(Seed(shape))?;
                    out.insert(key, v);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "resourceType": "Bundle", "type": "searchset", "total": 3,
            "link": [{"relation": "self", "url": "http://x/Patient"}],
            "entry": [
                {"fullUrl": "a", "resource": {"resourceType": "Patient", "id": "p1", "name": [{"family": "A"}]}, "search": {"mode": "match"}},
                {"fullUrl": "b", "resource": {"resourceType": "Patient", "id": "p2"}},
                {"fullUrl": "c", "resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "warning"}]}, "search": {"mode": "outcome"}}
            ]
        })
    }

    fn shaped(paths: &[(&str, Shape)]) -> Value {
        let mut s = Shape::default();
        for (p, leaf) in paths {
            s.merge(Shape::of_path(p, leaf.clone()));
        }
        s.parse(doc().to_string().as_bytes()).unwrap()
    }

    /// Every path gives the same nodes on the shaped value as on the whole one.
    #[test]
    fn paths_select_the_same_nodes() {
        let full = doc();
        for path in [
            "$.total",
            "$.entry",
            "$.entry[*].resource.id",
            "$.entry[0].resource.name[0].family",
            "$['entry'][1]['resource']['id']",
            "$.entry[-1].search.mode",
            "$.entry[*].resource.*",
            "$..id",
            "$.entry[?@.search.mode == 'match'].fullUrl",
            "$.link[0:1].url",
            "$.nothing.here",
        ] {
            let jp = serde_json_path::JsonPath::parse(path).unwrap();
            let v = shaped(&[(path, Shape::whole())]);
            assert_eq!(jp.query(&v).all(), jp.query(&full).all(), "{path}");
        }
    }

    #[test]
    fn only_what_is_read_is_kept() {
        let v = shaped(&[("$.total", Shape::whole()), ("$.entry", Shape::outline())]);
        assert_eq!(v, json!({"total": 3, "entry": [null, null, null]}));
        let v = shaped(&[("$.entry[*].resource.id", Shape::whole())]);
        assert_eq!(
            v,
            json!({"entry": [{"resource": {"id": "p1"}}, {"resource": {"id": "p2"}}, {"resource": {}}]})
        );
        let v = shaped(&[("$..id", Shape::whole())]);
        assert_eq!(v, doc(), "a descendant path keeps everything");
    }

    #[test]
    fn a_syntax_error_anywhere_is_an_error() {
        let s = Shape::of_path("$.total", Shape::whole());
        assert!(s.parse(br#"{"total": 1, "entry": [1, 2,]}"#).is_err());
        assert!(s.parse(br#"{"total": 1} trailing"#).is_err());
        assert_eq!(s.parse(b"[1, 2]").unwrap(), json!([null, null]));
    }

    #[test]
    fn paths_it_does_not_follow_keep_the_node_whole() {
        assert_eq!(
            steps("$.a['b'][3].*"),
            (
                vec![
                    Step::Key("a".into()),
                    Step::Key("b".into()),
                    Step::Any,
                    Step::Any
                ],
                true
            )
        );
        assert!(!steps("$.a..b").1);
        assert!(!steps("$.a[1,2]").1);
        assert!(!steps("$.a['x\\'y']").1);
        assert!(!steps("a.b").1);
        assert_eq!(
            Shape::of_path("$.a[?@.b]", Shape::outline()).keys["a"],
            Shape::whole()
        );
    }
}

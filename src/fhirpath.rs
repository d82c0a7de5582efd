//! FHIRPath: expressions checked when a collection or TestScript loads, evaluated on a
//! response's JSON. The engine is `haste-fhirpath` (FHIRPath N1 with the FHIR R4 additions,
//! over the typed R4 model of `haste-fhir-model`); this module keeps it behind one small
//! interface, [`Expr::parse`] and [`Expr::eval`], with results as plain values ([`Found`]).
//!
//! The body is read into the R4 model, so choice elements (`value[x]`), `is`/`as`/`ofType` and
//! date types behave as the specification says. The model refuses elements R4 does not define;
//! an answer from a newer server (an R5 element) is read without them, and they evaluate as
//! empty. A JSON body that is not a FHIR resource can not be evaluated: the check says so.

use std::collections::HashMap;
use std::sync::Arc;

use haste_fhir_model::r4::generated::resources::Resource;
use haste_fhir_model::r4::generated::types::FHIRString;
use haste_fhirpath::{Config, ExternalConstantResolver, FHIRPathError, FPEngine};
use haste_reflect::MetaValue;
use serde_json::Value;

/// A checked expression.
#[derive(Clone, PartialEq, Eq)]
pub struct Expr {
    text: String,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expr({:?})", self.text)
    }
}

/// Why an expression does not parse: a message and the character offset (0-based) it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

/// One item of a result, as plain data.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Boolean(bool),
    Integer(i64),
    Decimal(String),
    Text(String),
    Date(String),
    DateTime(String),
    Time(String),
    Quantity(String, String),
    /// An element or resource, by its FHIR type.
    Object(String),
}

impl Found {
    /// The value as text, as FHIRPath's `toString()` writes it; an element as its type.
    pub fn text(&self) -> String {
        match self {
            Found::Boolean(b) => b.to_string(),
            Found::Integer(i) => i.to_string(),
            Found::Decimal(s)
            | Found::Text(s)
            | Found::Date(s)
            | Found::DateTime(s)
            | Found::Time(s) => s.clone(),
            Found::Quantity(v, u) => format!("{v} '{u}'"),
            Found::Object(t) => format!("({t})"),
        }
    }

    /// The value as a number, when it is one (or text that reads as one).
    pub fn number(&self) -> Option<f64> {
        match self {
            Found::Integer(i) => Some(*i as f64),
            Found::Decimal(s) | Found::Text(s) | Found::Quantity(s, _) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn is_temporal(&self) -> bool {
        matches!(self, Found::Date(_) | Found::DateTime(_) | Found::Time(_))
    }
}

impl Expr {
    /// Checks `text`: its syntax, and that every function it calls is one the engine has, so a
    /// typo is caught when the file loads, not halfway through a run.
    pub fn parse(text: &str) -> Result<Expr, SyntaxError> {
        if text.trim().is_empty() {
            return Err(SyntaxError {
                offset: 0,
                message: "the expression is empty".into(),
            });
        }
        if let Some(offset) = too_deep(text) {
            return Err(SyntaxError {
                offset,
                message: format!("the expression nests more than {MAX_DEPTH} parentheses deep"),
            });
        }
        if let Some((offset, name)) = unknown_function(text) {
            let hint = crate::text::closest(&name, FUNCTIONS)
                .map(|c| format!("; did you mean `{c}()`?"))
                .unwrap_or_default();
            let message = if NOT_IN_ENGINE.contains(&name.as_str()) {
                format!("`{name}()` is a FHIRPath function fhircheck's engine does not have")
            } else {
                format!("`{name}()` is not a FHIRPath function{hint}")
            };
            return Err(SyntaxError { offset, message });
        }
        // Evaluated on nothing, an expression only fails for its syntax.
        match run(text, &[], &HashMap::new()) {
            Err(Failure::Engine(FHIRPathError::ParseError(e))) => Err(SyntaxError {
                offset: text[..e.location.offset.min(text.len())].chars().count(),
                message: format!("expected {}", e.expected),
            }),
            _ => Ok(Expr {
                text: text.to_string(),
            }),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Evaluates the expression with the resource in `body` as its context, and `vars` as
    /// external constants (`%name`). `Err` says why it could not be evaluated.
    pub fn eval(&self, body: &Value, vars: &HashMap<String, String>) -> Result<Vec<Found>, String> {
        self.eval_on(&Typed::read(body)?, vars)
    }

    /// The same on a body already read, so several checks of one answer read it once.
    pub fn eval_on(
        &self,
        typed: &Typed,
        vars: &HashMap<String, String>,
    ) -> Result<Vec<Found>, String> {
        let resource = &typed.0;
        // Constants go in as string literals: the engine takes only literals as the argument of
        // startsWith(), contains() and a few others.
        let text = inline_constants(&self.text, vars);
        run(&text, &[resource], &HashMap::new()).map_err(|f| match f {
            Failure::Engine(e) => e.to_string(),
            Failure::Stuck => "the expression needs a service (a terminology server, resolve()) fhircheck does not offer".into(),
            Failure::Panicked => "the FHIRPath engine failed on this expression and body".into(),
        })
    }
}

/// A body read into the R4 model, once for all the checks of an answer.
pub struct Typed(Resource);

impl Typed {
    pub fn read(body: &Value) -> Result<Typed, String> {
        read_resource(body).map(Typed)
    }
}

enum Failure {
    Engine(FHIRPathError),
    Stuck,
    Panicked,
}

/// Evaluates `text` on `input`, synchronously: with no services configured the engine's future
/// does no I/O, so it is ready at the first poll. A panic inside the engine is an error.
fn run(
    text: &str,
    input: &[&Resource],
    vars: &HashMap<String, String>,
) -> Result<Vec<Found>, Failure> {
    let constants: HashMap<String, FHIRString> = vars
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                FHIRString {
                    value: Some(v.clone()),
                    ..Default::default()
                },
            )
        })
        .collect();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut refs: HashMap<String, &dyn MetaValue> = constants
            .iter()
            .map(|(k, v)| (k.clone(), v as &dyn MetaValue))
            .collect();
        // FHIR's own environment variables: the resource the expression started from.
        if let Some(r) = input.first() {
            for name in ["resource", "rootResource", "context"] {
                refs.insert(name.to_string(), *r as &dyn MetaValue);
            }
        }
        let config = Arc::new(
            Config::builder()
                .with_variable_resolver(ExternalConstantResolver::Variable(Arc::new(refs))),
        );
        let values: Vec<&dyn MetaValue> = input.iter().map(|r| *r as &dyn MetaValue).collect();
        let engine = FPEngine::new();
        let future = engine.evaluate_with_config(text, values, config);
        poll_once(future).map(|r| r.map(|ctx| ctx.iter().map(found).collect::<Vec<_>>()))
    }));
    match outcome {
        Err(_) => Err(Failure::Panicked),
        Ok(None) => Err(Failure::Stuck),
        Ok(Some(Err(e))) => Err(Failure::Engine(e)),
        Ok(Some(Ok(v))) => Ok(v),
    }
}

/// `%name` replaced by the value of `name` as a FHIRPath string literal, outside string
/// literals, for every name in `vars`.
fn inline_constants(text: &str, vars: &HashMap<String, String>) -> String {
    if vars.is_empty() || !text.contains('%') {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut quote = None;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) => {
                out.push(c);
                if c == '\\' && i + 1 < chars.len() {
                    out.push(chars[i + 1]);
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '`' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '%' => {
                let name: String = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || **c == '_')
                    .collect();
                if let Some(v) = vars.get(&name) {
                    out.push('\'');
                    out.push_str(&v.replace('\\', "\\\\").replace('\'', "\\'"));
                    out.push('\'');
                    i += name.chars().count();
                } else {
                    out.push(c);
                }
            }
            None => out.push(c),
        }
        i += 1;
    }
    out
}

/// Polls a future that does no I/O until it is ready, a bounded number of times.
fn poll_once<F: std::future::Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..64 {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return Some(v);
        }
    }
    None
}

/// The body as an R4 resource. Elements the R4 model does not define (an R5 server's) are
/// dropped, up to 32 of them, so the rest can still be evaluated.
fn read_resource(body: &Value) -> Result<Resource, String> {
    if body.get("resourceType").and_then(Value::as_str).is_none() {
        return Err(
            "the body is not a FHIR resource (no resourceType), so FHIRPath can not read it".into(),
        );
    }
    let mut body = body.clone();
    let mut dropped = Vec::new();
    loop {
        match serde_json::from_value::<Resource>(body.clone()) {
            Ok(r) => return Ok(r),
            Err(e) => {
                let msg = e.to_string();
                let field = msg
                    .strip_prefix("unknown field `")
                    .and_then(|r| r.split('`').next())
                    .map(str::to_string);
                match field {
                    Some(f)
                        if dropped.len() < 32
                            && !dropped.contains(&f)
                            && remove_key(&mut body, &f) =>
                    {
                        dropped.push(f);
                    }
                    _ => {
                        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                        return Err(format!(
                            "the body is not an R4 resource FHIRPath can read: {msg}"
                        ));
                    }
                }
            }
        }
    }
}

/// Removes `key` from every object in `v`; whether there was one.
fn remove_key(v: &mut Value, key: &str) -> bool {
    match v {
        Value::Object(o) => {
            let mut any = o.shift_remove(key).is_some();
            for x in o.values_mut() {
                any |= remove_key(x, key);
            }
            any
        }
        Value::Array(a) => {
            let mut any = false;
            for x in a {
                any |= remove_key(x, key);
            }
            any
        }
        _ => false,
    }
}

/// One result item as plain data, by its FHIR or System type.
fn found(v: &dyn MetaValue) -> Found {
    use haste_fhir_model::r4::conversion::{
        downcast_bool, downcast_datetime, downcast_number, downcast_string,
    };
    let t = v.fhir_type();
    let short = t.rsplit(['.', '/']).next().unwrap_or(t);
    match short {
        "boolean" | "Boolean" => {
            downcast_bool(v).map_or_else(|_| Found::Object(t.into()), Found::Boolean)
        }
        "integer" | "Integer" | "positiveInt" | "unsignedInt" => downcast_number(v)
            .map_or_else(|_| Found::Object(t.into()), |n| Found::Integer(n as i64)),
        "decimal" | "Decimal" => downcast_number(v).map_or_else(
            |_| Found::Object(t.into()),
            |n| Found::Decimal(n.to_string()),
        ),
        "date" | "Date" => {
            downcast_datetime(v).map_or_else(|_| Found::Object(t.into()), Found::Date)
        }
        "dateTime" | "DateTime" | "instant" => {
            downcast_datetime(v).map_or_else(|_| Found::Object(t.into()), Found::DateTime)
        }
        "time" | "Time" => {
            downcast_datetime(v).map_or_else(|_| Found::Object(t.into()), Found::Time)
        }
        "Quantity" => {
            let value = v.get_field("value").and_then(|x| downcast_number(x).ok());
            let unit = ["code", "unit"]
                .iter()
                .find_map(|f| v.get_field(f).and_then(|x| downcast_string(x).ok()))
                .unwrap_or_default();
            match value {
                Some(n) => Found::Quantity(n.to_string(), unit),
                None => Found::Object(t.into()),
            }
        }
        _ => downcast_string(v).map_or_else(|_| Found::Object(t.into()), Found::Text),
    }
}

/// The functions the engine evaluates.
const FUNCTIONS: &[&str] = &[
    "resolve",
    "extension",
    "hasValue",
    "getValue",
    "htmlChecks",
    "memberOf",
    "subsumes",
    "subsumedBy",
    "conformsTo",
    "where",
    "ofType",
    "as",
    "is",
    "count",
    "upper",
    "lower",
    "empty",
    "join",
    "exists",
    "children",
    "repeat",
    "descendants",
    "type",
    "first",
    "single",
    "last",
    "tail",
    "skip",
    "take",
    "not",
    "all",
    "allTrue",
    "anyTrue",
    "allFalse",
    "anyFalse",
    "subsetOf",
    "supersetOf",
    "distinct",
    "isDistinct",
    "select",
    "union",
    "combine",
    "intersect",
    "exclude",
    "iif",
    "abs",
    "ceiling",
    "exp",
    "floor",
    "ln",
    "log",
    "power",
    "round",
    "sqrt",
    "truncate",
    "startsWith",
    "endsWith",
    "contains",
    "getReferenceKey",
    "getResourceKey",
    "indexOf",
    "substring",
    "length",
    "toChars",
    "trim",
    "replace",
    "matches",
    "replaceMatches",
    "toBoolean",
    "convertsToBoolean",
    "toInteger",
    "convertsToInteger",
    "toDecimal",
    "convertsToDecimal",
    "toString",
    "convertsToString",
    "toDate",
    "convertsToDate",
    "toDateTime",
    "convertsToDateTime",
    "toTime",
    "convertsToTime",
    "toQuantity",
    "convertsToQuantity",
    "trace",
    "now",
    "timeOfDay",
    "today",
];

/// FHIRPath functions the engine does not have (documented in the README).
pub const NOT_IN_ENGINE: &[&str] = &[
    "aggregate",
    "escape",
    "unescape",
    "sum",
    "min",
    "max",
    "avg",
    "split",
    "encode",
    "decode",
    "lowBoundary",
    "highBoundary",
    "precision",
    "lastIndexOf",
    "matchesFull",
    "defineVariable",
    "sort",
    "coalesce",
    "repeatAll",
    "comparable",
    "duration",
    "difference",
];

/// How deep parentheses and brackets may nest: the engine's parser recurses once per level.
const MAX_DEPTH: usize = 32;

/// The character offset where nesting first goes deeper than [`MAX_DEPTH`], if it does.
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.chars().enumerate() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The first call of a function the engine does not know, outside string literals: its
/// character offset and name.
fn unknown_function(text: &str) -> Option<(usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || c == '`' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            continue;
        }
        let starts_word = (c.is_alphabetic() || c == '_')
            && (i == 0
                || !(chars[i - 1].is_alphanumeric() || matches!(chars[i - 1], '_' | '%' | '$')));
        if !starts_word {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        let mut j = i;
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        const OPERATORS: &[&str] = &[
            "and", "or", "xor", "implies", "div", "mod", "in", "is", "as", "contains",
        ];
        if chars.get(j) == Some(&'(')
            && !FUNCTIONS.contains(&name.as_str())
            && !(j > i && OPERATORS.contains(&name.as_str()))
        {
            return Some((start, name));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(expr: &str, r: &Value) -> Vec<String> {
        Expr::parse(expr)
            .unwrap()
            .eval(r, &HashMap::new())
            .unwrap()
            .iter()
            .map(Found::text)
            .collect()
    }

    #[test]
    fn evaluates_on_typed_and_untyped_bodies() {
        let bundle = json!({"resourceType": "Bundle", "type": "searchset", "total": 2,
            "entry": [{"resource": {"resourceType": "Patient", "id": "a", "birthDate": "1970-01-02"}},
                      {"resource": {"resourceType": "Patient", "id": "b"}}]});
        assert_eq!(eval("Bundle.entry.resource.id", &bundle), ["a", "b"]);
        assert_eq!(eval("entry.count()", &bundle), ["2"]);
        assert_eq!(
            eval("entry.resource.where(id = 'b').exists()", &bundle),
            ["true"]
        );
        assert_eq!(
            eval(
                "entry.resource.ofType(Patient).birthDate > @1960-01-01",
                &bundle
            ),
            ["true"]
        );
        // Not FHIR: said, not guessed.
        let plain = json!({"items": [{"n": 1}, {"n": 2}]});
        let e = Expr::parse("items.n")
            .unwrap()
            .eval(&plain, &HashMap::new())
            .unwrap_err();
        assert!(e.contains("not a FHIR resource"), "{e}");
        // An element R4 does not define is dropped; the rest still evaluates.
        let r5 = json!({"resourceType": "Patient", "id": "p", "newInR5": {"x": 1}});
        assert_eq!(eval("id", &r5), ["p"]);
    }

    #[test]
    fn external_constants_are_variables() {
        let p = json!({"resourceType": "Patient", "id": "p1"});
        let vars = HashMap::from([("pid".to_string(), "p1".to_string())]);
        let r = Expr::parse("id = %pid").unwrap().eval(&p, &vars).unwrap();
        assert_eq!(r, [Found::Boolean(true)]);
        // As arguments too, where the engine wants literals; quotes in values stay values.
        let r = Expr::parse("id.startsWith(%pid) and '%pid' = '%' + 'pid'")
            .unwrap()
            .eval(&p, &vars)
            .unwrap();
        assert_eq!(r, [Found::Boolean(true)]);
        let odd = HashMap::from([("q".to_string(), "it's \\ here".to_string())]);
        let r = Expr::parse("%q.length()").unwrap().eval(&p, &odd).unwrap();
        assert_eq!(r, [Found::Integer(11)]);
    }

    #[test]
    fn syntax_errors_and_unknown_functions_point_at_the_place() {
        let e = Expr::parse("Patient.name.where(").unwrap_err();
        assert!(!e.message.is_empty());
        let e = Expr::parse("name.frist()").unwrap_err();
        assert_eq!(e.offset, 5);
        assert!(
            e.message.contains("did you mean `first()`"),
            "{}",
            e.message
        );
        // A name inside a string is no call.
        assert!(Expr::parse("name.given = 'frist(x)'").is_ok());
        assert!(Expr::parse("  ").is_err());
        // Operators before a parenthesis are no calls.
        assert!(Expr::parse("active and (gender = 'male' or gender = 'female')").is_ok());
        let e = Expr::parse("(1|2).aggregate($this + $total, 0)").unwrap_err();
        assert!(e.message.contains("does not have"), "{}", e.message);
    }
}

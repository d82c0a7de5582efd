//! Variables: `{{name}}` templates, their precedence, dynamic values and secrecy.
//!
//! Precedence, highest first: values captured during the run, `--var`, the environment file,
//! the collection. A variable's value may itself hold `{{…}}` references, resolved on use.
//! Process environment variables are reached only explicitly, as `{{$env.NAME}}`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use indexmap::IndexMap;

use crate::clock::{self, Clock};
use crate::secret::redactor;

/// One piece of a template.
#[derive(Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// Splits a template into text and `{{name}}` references. An unclosed `{{` is text.
pub fn segments(template: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        if name.is_empty() || name.contains('{') {
            out.push(Segment::Text(&rest[..start + 2]));
            rest = after;
            continue;
        }
        if start > 0 {
            out.push(Segment::Text(&rest[..start]));
        }
        out.push(Segment::Var(name));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        out.push(Segment::Text(rest));
    }
    out
}

/// The variable names a template refers to.
pub fn references(template: &str) -> impl Iterator<Item = &str> {
    segments(template).into_iter().filter_map(|s| match s {
        Segment::Var(v) => Some(v),
        Segment::Text(_) => None,
    })
}

/// Names that hold credentials even when nobody marked them secret.
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    // `token_url`, `tokenEndpoint`, `jwks_uri`: where credentials go, not credentials.
    if ["url", "uri", "endpoint"]
        .iter()
        .any(|s| lower.ends_with(s))
    {
        return false;
    }
    // Postman auth settings named after what they configure: where a token goes, its type
    // and name, how a secret is encoded.
    if matches!(
        lower.as_str(),
        "addtokento" | "tokentype" | "tokenname" | "issecretbase64encoded" | "privatekeyformat"
    ) {
        return false;
    }
    [
        "secret",
        "password",
        "passwd",
        "token",
        "assertion",
        "apikey",
        "api_key",
        "api-key",
        "private",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// A variable's value and whether it is a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    pub text: String,
    pub secret: bool,
}

impl Value {
    pub fn new(name: &str, text: impl Into<String>, secret: bool) -> Self {
        let text = text.into();
        let secret = secret || is_secret_name(name);
        if secret && !text.contains("{{") {
            redactor().add(&text);
        }
        Value { text, secret }
    }
}

/// The value of a dynamic variable (`$guid`, `$randomUUID`, `$timestamp`, `$isoTimestamp`,
/// `$randomInt`), fresh on every use.
pub fn dynamic_value(name: &str, clock: &Clock) -> Option<String> {
    match name {
        "$guid" | "$randomUUID" => Some(uuid::Uuid::new_v4().to_string()),
        "$timestamp" => Some(clock.now().to_string()),
        "$isoTimestamp" => Some(clock::iso8601_millis(clock.now_millis())),
        _ => crate::fake::value(name, clock.now()),
    }
}

/// Where a variable was defined, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Collection,
    Environment,
    CommandLine,
    Captured,
}

/// A rendered template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    /// A secret variable went into it.
    pub secret: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    #[error("variable `{name}` is not defined")]
    Undefined { name: String },
    #[error("{}the environment variable {var} is not set", via.as_ref().map(|v| format!("`{v}` reads `{{{{{name}}}}}`, but ")).unwrap_or_default())]
    EnvUnset {
        name: String,
        var: String,
        /// The variable whose value refers to it, if any.
        via: Option<String>,
    },
    #[error("`{name}` is not a dynamic variable fhircheck knows (known: $guid, $timestamp, $isoTimestamp, $env.NAME, and Postman's $random… names such as $randomInt, $randomUUID, $randomEmail, $randomFirstName)")]
    UnknownDynamic { name: String },
    #[error("variables refer to each other in a loop: {chain}")]
    Cycle { chain: String },
}

impl VarError {
    pub fn name(&self) -> &str {
        match self {
            VarError::Undefined { name }
            | VarError::EnvUnset { name, .. }
            | VarError::UnknownDynamic { name } => name,
            VarError::Cycle { chain } => chain,
        }
    }
}

/// All variables of one collection run.
#[derive(Clone, Debug)]
pub struct Variables {
    layers: [IndexMap<String, Value>; 4],
    process_env: Arc<HashMap<String, String>>,
    clock: Clock,
}

const DYNAMIC: &[&str] = &[
    "$guid",
    "$randomUUID",
    "$timestamp",
    "$isoTimestamp",
    "$randomInt",
];

impl Variables {
    pub fn new(process_env: Arc<HashMap<String, String>>, clock: Clock) -> Self {
        Variables {
            layers: Default::default(),
            process_env,
            clock,
        }
    }

    pub fn set(&mut self, layer: Layer, name: &str, value: Value) {
        self.layers[layer as usize].insert(name.to_string(), value);
    }

    /// The value of `name` as defined, before its own references are resolved.
    pub fn raw(&self, name: &str) -> Option<(&Value, Layer)> {
        const ORDER: [Layer; 4] = [
            Layer::Captured,
            Layer::CommandLine,
            Layer::Environment,
            Layer::Collection,
        ];
        ORDER
            .iter()
            .find_map(|l| self.layers[*l as usize].get(name).map(|v| (v, *l)))
    }

    pub fn is_defined(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    /// Renders `template`, resolving references recursively.
    pub fn render(&self, template: &str) -> Result<Rendered, VarError> {
        let mut stack = Vec::new();
        self.render_inner(template, &mut stack)
    }

    fn render_inner(&self, template: &str, stack: &mut Vec<String>) -> Result<Rendered, VarError> {
        if !template.contains("{{") {
            return Ok(Rendered {
                text: template.to_string(),
                secret: false,
            });
        }
        let mut text = String::with_capacity(template.len());
        let mut secret = false;
        for seg in segments(template) {
            match seg {
                Segment::Text(t) => text.push_str(t),
                Segment::Var(name) => {
                    let r = self.resolve(name, stack)?;
                    secret |= r.secret;
                    text.push_str(&r.text);
                }
            }
        }
        Ok(Rendered { text, secret })
    }

    fn resolve(&self, name: &str, stack: &mut Vec<String>) -> Result<Rendered, VarError> {
        if let Some(var) = name.strip_prefix("$env.") {
            return match self.process_env.get(var) {
                Some(v) => {
                    let secret = is_secret_name(var);
                    if secret {
                        redactor().add(v);
                    }
                    Ok(Rendered {
                        text: v.clone(),
                        secret,
                    })
                }
                None => Err(VarError::EnvUnset {
                    name: name.to_string(),
                    var: var.to_string(),
                    via: stack.last().cloned(),
                }),
            };
        }
        if name.starts_with('$') && !self.is_defined(name) {
            return self.dynamic(name).map(|text| Rendered {
                text,
                secret: false,
            });
        }
        let Some((value, _)) = self.raw(name) else {
            return Err(VarError::Undefined {
                name: name.to_string(),
            });
        };
        if stack.iter().any(|s| s == name) || stack.len() > 16 {
            let mut chain = stack.join(" → ");
            chain.push_str(" → ");
            chain.push_str(name);
            return Err(VarError::Cycle { chain });
        }
        stack.push(name.to_string());
        let inner = self.render_inner(&value.text, stack);
        stack.pop();
        let mut r = inner?;
        if value.secret {
            redactor().add(&r.text);
            r.secret = true;
        }
        Ok(r)
    }

    fn dynamic(&self, name: &str) -> Result<String, VarError> {
        dynamic_value(name, &self.clock).ok_or_else(|| VarError::UnknownDynamic {
            name: name.to_string(),
        })
    }

    /// Checks, without rendering, that every reference in `template` can be resolved now or
    /// will be by a capture named in `later`. Returns the problems found.
    pub fn check(&self, template: &str, later: &HashSet<String>) -> Vec<VarError> {
        let mut problems = Vec::new();
        let mut seen = HashSet::new();
        self.check_inner(template, later, &mut Vec::new(), &mut seen, &mut problems);
        problems
    }

    fn check_inner(
        &self,
        template: &str,
        later: &HashSet<String>,
        stack: &mut Vec<String>,
        seen: &mut HashSet<String>,
        problems: &mut Vec<VarError>,
    ) {
        for name in references(template) {
            if !seen.insert(name.to_string()) && !stack.iter().any(|s| s == name) {
                continue;
            }
            if let Some(var) = name.strip_prefix("$env.") {
                if !self.process_env.contains_key(var) {
                    problems.push(VarError::EnvUnset {
                        name: name.to_string(),
                        var: var.to_string(),
                        via: stack.last().cloned(),
                    });
                }
                continue;
            }
            if later.contains(name) && self.raw(name).is_none() {
                continue;
            }
            match self.raw(name) {
                Some((value, _)) => {
                    if stack.iter().any(|s| s == name) {
                        let mut chain = stack.join(" → ");
                        chain.push_str(" → ");
                        chain.push_str(name);
                        problems.push(VarError::Cycle { chain });
                        continue;
                    }
                    stack.push(name.to_string());
                    let text = value.text.clone();
                    self.check_inner(&text, later, stack, seen, problems);
                    stack.pop();
                }
                None if name.starts_with('$') => {
                    if !DYNAMIC.contains(&name) {
                        problems.push(VarError::UnknownDynamic {
                            name: name.to_string(),
                        });
                    }
                }
                None => problems.push(VarError::Undefined {
                    name: name.to_string(),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(env: &[(&str, &str)]) -> Variables {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Variables::new(Arc::new(env), Clock::Fixed(1_795_685_005))
    }

    #[test]
    fn splits_templates() {
        assert_eq!(
            segments("a{{ b }}c{{d}}"),
            vec![
                Segment::Text("a"),
                Segment::Var("b"),
                Segment::Text("c"),
                Segment::Var("d")
            ]
        );
        assert_eq!(segments("{{open"), vec![Segment::Text("{{open")]);
        assert_eq!(
            segments("{{}}x"),
            vec![Segment::Text("{{"), Segment::Text("}}x")]
        );
    }

    #[test]
    fn precedence_is_captured_then_cli_then_environment_then_collection() {
        let mut v = vars(&[]);
        v.set(Layer::Collection, "x", Value::new("x", "collection", false));
        assert_eq!(v.render("{{x}}").unwrap().text, "collection");
        v.set(Layer::Environment, "x", Value::new("x", "env", false));
        assert_eq!(v.render("{{x}}").unwrap().text, "env");
        v.set(Layer::CommandLine, "x", Value::new("x", "cli", false));
        assert_eq!(v.render("{{x}}").unwrap().text, "cli");
        v.set(Layer::Captured, "x", Value::new("x", "captured", false));
        assert_eq!(v.render("{{x}}").unwrap().text, "captured");
    }

    #[test]
    fn nested_references_env_and_secrecy() {
        let mut v = vars(&[("MY_SECRET_VALUE", "s3cr3t-from-env")]);
        v.set(
            Layer::Collection,
            "base",
            Value::new("base", "http://h", false),
        );
        v.set(
            Layer::Collection,
            "url",
            Value::new("url", "{{base}}/fhir", false),
        );
        v.set(
            Layer::Collection,
            "pw",
            Value::new("pw", "{{$env.MY_SECRET_VALUE}}", true),
        );
        let r = v.render("{{url}}/x").unwrap();
        assert_eq!(r.text, "http://h/fhir/x");
        assert!(!r.secret);
        let r = v.render("p={{pw}}").unwrap();
        assert_eq!(r.text, "p=s3cr3t-from-env");
        assert!(r.secret);
        assert_eq!(crate::secret::redact("p=s3cr3t-from-env"), "p=***");
    }

    #[test]
    fn names_that_look_like_credentials_are_secret() {
        assert!(is_secret_name("client_secret"));
        assert!(is_secret_name("bearerToken"));
        assert!(!is_secret_name("fhir_url"));
        assert!(!is_secret_name("token_url"));
        assert!(!is_secret_name("tokenEndpoint"));
        assert!(is_secret_name("access_token"));
        let v = Value::new("bearerToken", "abc.def.ghi-long-enough", false);
        assert!(v.secret);
    }

    #[test]
    fn errors_name_the_variable() {
        let mut v = vars(&[]);
        assert_eq!(
            v.render("{{nope}}").unwrap_err(),
            VarError::Undefined {
                name: "nope".into()
            }
        );
        assert!(matches!(
            v.render("{{$env.NOT_SET_HERE}}").unwrap_err(),
            VarError::EnvUnset { .. }
        ));
        assert!(matches!(
            v.render("{{$bogus}}").unwrap_err(),
            VarError::UnknownDynamic { .. }
        ));
        v.set(Layer::Collection, "a", Value::new("a", "{{b}}", false));
        v.set(Layer::Collection, "b", Value::new("b", "{{a}}", false));
        assert!(matches!(
            v.render("{{a}}").unwrap_err(),
            VarError::Cycle { .. }
        ));
        let later: HashSet<String> = ["captured_id".to_string()].into();
        assert!(v.check("{{captured_id}}", &later).is_empty());
        assert_eq!(v.check("{{missing}} {{$guid}}", &later).len(), 1);
        assert_eq!(v.check("{{a}}", &later).len(), 1);
    }

    #[test]
    fn dynamic_values() {
        let v = vars(&[]);
        assert_eq!(v.render("{{$timestamp}}").unwrap().text, "1795685005");
        assert_eq!(
            v.render("{{$isoTimestamp}}").unwrap().text,
            "2026-11-26T09:23:25.000Z"
        );
        let g = v.render("{{$guid}}").unwrap().text;
        assert_eq!(g.len(), 36);
        assert_ne!(g, v.render("{{$guid}}").unwrap().text);
        let n: u32 = v.render("{{$randomInt}}").unwrap().text.parse().unwrap();
        assert!(n <= 1000);
    }
}

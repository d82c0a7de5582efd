//! Postman collection v2.0/v2.1, as exported: read leniently (Postman adds fields freely), then
//! normalised into [`Item`]s that carry what fhircheck runs.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
pub struct Collection {
    pub info: Info,
    #[serde(default)]
    pub item: Vec<RawItem>,
    #[serde(default)]
    pub event: Vec<Event>,
    #[serde(default)]
    pub variable: Vec<Variable>,
    #[serde(default)]
    pub auth: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Info {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub schema: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawItem {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub item: Option<Vec<RawItem>>,
    #[serde(default)]
    pub request: Option<Value>,
    #[serde(default)]
    pub event: Vec<Event>,
    #[serde(default)]
    pub variable: Vec<Variable>,
    #[serde(default)]
    pub auth: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    pub listen: String,
    #[serde(default)]
    pub script: Option<Script>,
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Script {
    #[serde(default)]
    pub exec: Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Variable {
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub value: Value,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub disabled: bool,
}

impl Variable {
    pub fn name(&self) -> Option<&str> {
        self.key.as_deref().or(self.id.as_deref())
    }
}

/// A JSON value as Postman treats it in a variable: strings as they are, others as JSON text.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Script source: `exec` is a list of lines or one string.
pub fn script_source(events: &[Event], listen: &str) -> Option<String> {
    let src: Vec<String> = events
        .iter()
        .filter(|e| e.listen == listen && !e.disabled)
        .filter_map(|e| e.script.as_ref())
        .map(|s| match &s.exec {
            Value::Array(lines) => lines.iter().map(text).collect::<Vec<_>>().join("\n"),
            other => text(other),
        })
        .filter(|s| !s.trim().is_empty())
        .collect();
    (!src.is_empty()).then(|| src.join("\n"))
}

/// An auth block: its type and its attributes as (key, value) pairs, whether stored as v2.1
/// `[{key, value}]` lists or v2.0 objects.
#[derive(Debug, Clone, PartialEq)]
pub struct Auth {
    pub kind: String,
    pub attrs: Vec<(String, String)>,
}

impl Auth {
    pub fn from_value(v: &Value) -> Option<Auth> {
        let kind = v.get("type")?.as_str()?.to_string();
        let attrs = match v.get(&kind) {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|a| {
                    Some((
                        a.get("key")?.as_str()?.to_string(),
                        text(a.get("value").unwrap_or(&Value::Null)),
                    ))
                })
                .collect(),
            Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
            _ => vec![],
        };
        Some(Auth { kind, attrs })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A request, normalised.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    /// The URL template, query included.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// `None`: inherit from the parent.
    pub auth: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub enum Body {
    #[default]
    None,
    Raw(String, Option<String>),
    UrlEncoded(Vec<(String, String)>),
    /// Sent as multipart/form-data: text parts and files.
    FormData(Vec<FormPart>),
}

/// One part of a form-data body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormPart {
    pub key: String,
    /// A text part's value (templates allowed).
    pub value: String,
    /// A file part's path (`src`), relative to `--working-dir`.
    pub file: Option<String>,
    pub content_type: Option<String>,
}

fn form_parts(v: Option<&Value>) -> Vec<FormPart> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| !e.get("disabled").and_then(Value::as_bool).unwrap_or(false))
        .filter_map(|e| {
            let key = e.get("key")?.as_str()?.to_string();
            let file = (e.get("type").and_then(Value::as_str) == Some("file")).then(|| {
                match e.get("src") {
                    Some(Value::Array(a)) => a.first().map(text).unwrap_or_default(),
                    Some(v) => text(v),
                    None => String::new(),
                }
            });
            Some(FormPart {
                key,
                value: text(e.get("value").unwrap_or(&Value::Null)),
                file,
                content_type: e
                    .get("contentType")
                    .and_then(Value::as_str)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
            })
        })
        .collect()
}

fn kv_list(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter(|e| !e.get("disabled").and_then(Value::as_bool).unwrap_or(false))
                .filter(|e| e.get("type").and_then(Value::as_str) != Some("file"))
                .filter_map(|e| {
                    Some((
                        e.get("key")?.as_str()?.to_string(),
                        text(e.get("value").unwrap_or(&Value::Null)),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn join_parts(v: Option<&Value>, sep: &str) -> String {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .map(|p| match p {
                Value::Object(_) => text(p.get("value").unwrap_or(&Value::Null)),
                other => text(other),
            })
            .collect::<Vec<_>>()
            .join(sep),
        Some(other) => text(other),
        None => String::new(),
    }
}

/// A URL string or object, as one template string.
pub fn url(v: &Value) -> String {
    let obj = match v {
        Value::String(s) => return s.clone(),
        Value::Object(_) => v,
        _ => return String::new(),
    };
    // `k` for a key with no value (null), `k=` for an empty one, as Postman writes them.
    let query: Option<Vec<String>> = obj.get("query").map(|q| {
        q.as_array()
            .into_iter()
            .flatten()
            .filter(|e| !e.get("disabled").and_then(Value::as_bool).unwrap_or(false))
            .filter_map(|e| {
                let k = e.get("key").and_then(Value::as_str)?;
                Some(match e.get("value") {
                    None | Some(Value::Null) => k.to_string(),
                    Some(v) => format!("{k}={}", text(v)),
                })
            })
            .collect()
    });
    let mut base = match obj.get("raw").and_then(Value::as_str) {
        Some(raw) if query.is_none() => raw.to_string(),
        Some(raw) => raw.split('?').next().unwrap_or(raw).to_string(),
        None => {
            let mut s = String::new();
            if let Some(p) = obj.get("protocol").and_then(Value::as_str) {
                s.push_str(p);
                s.push_str("://");
            }
            s.push_str(&join_parts(obj.get("host"), "."));
            if let Some(port) = obj.get("port") {
                s.push(':');
                s.push_str(&text(port));
            }
            let path = join_parts(obj.get("path"), "/");
            if !path.is_empty() {
                s.push('/');
                s.push_str(&path);
            }
            s
        }
    };
    // Path variables: `:id` segments with a value in url.variable.
    for var in obj
        .get("variable")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(k), Some(val)) = (var.get("key").and_then(Value::as_str), var.get("value")) {
            base = base
                .split('/')
                .map(|seg| {
                    if seg == format!(":{k}") {
                        text(val)
                    } else {
                        seg.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
        }
    }
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        base.push('?');
        base.push_str(&q.join("&"));
    }
    base
}

/// Reads `item.request`: a URL string, or an object.
pub fn request(v: &Value) -> Request {
    if let Value::String(s) = v {
        return Request {
            method: "GET".into(),
            url: s.clone(),
            ..Default::default()
        };
    }
    let method = v
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let url = v.get("url").map(url).unwrap_or_default();
    let headers = match v.get("header") {
        Some(Value::String(lines)) => lines
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect(),
        other => kv_list(other),
    };
    let body = match v.get("body") {
        Some(b) if !b.get("disabled").and_then(Value::as_bool).unwrap_or(false) => {
            match b.get("mode").and_then(Value::as_str) {
                Some("raw") => {
                    let lang = b
                        .pointer("/options/raw/language")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    Body::Raw(b.get("raw").map(text).unwrap_or_default(), lang)
                }
                Some("urlencoded") => Body::UrlEncoded(kv_list(b.get("urlencoded"))),
                Some("formdata") => Body::FormData(form_parts(b.get("formdata"))),
                // Sent as Postman sends it: JSON with the query and its variables.
                Some("graphql") => {
                    let g = b.get("graphql").cloned().unwrap_or(Value::Null);
                    let variables = match g.get("variables") {
                        Some(Value::String(v)) if !v.trim().is_empty() => {
                            serde_json::from_str(v).unwrap_or(Value::String(v.clone()))
                        }
                        Some(Value::String(_)) | None => Value::Object(Default::default()),
                        Some(other) => other.clone(),
                    };
                    let body = serde_json::json!({"query": g.get("query").cloned().unwrap_or(Value::Null), "variables": variables});
                    Body::Raw(body.to_string(), Some("json".into()))
                }
                _ => Body::None,
            }
        }
        _ => Body::None,
    };
    Request {
        method,
        url,
        headers,
        body,
        auth: v.get("auth").cloned().filter(|a| !a.is_null()),
    }
}

/// A request item with everything it inherits, in run order.
#[derive(Debug, Clone)]
pub struct Item {
    pub name: String,
    /// Folder names, outermost first.
    pub folders: Vec<String>,
    /// `item/folder/request` path, for messages.
    pub path: String,
    pub request: Request,
    /// The auth in force: the request's, else the nearest folder's, else the collection's.
    pub auth: Option<Auth>,
    /// Prerequest scripts, collection first, request last.
    pub prerequest: Vec<(String, String)>,
    /// Test scripts, collection first, request last.
    pub test: Vec<(String, String)>,
    /// Folder variables, outermost first.
    pub variables: Vec<(String, String)>,
}

/// Flattens the item tree depth first.
pub fn flatten(c: &Collection) -> Vec<Item> {
    let mut out = Vec::new();
    let mut pre = Vec::new();
    let mut test = Vec::new();
    if let Some(s) = script_source(&c.event, "prerequest") {
        pre.push(("collection".to_string(), s));
    }
    if let Some(s) = script_source(&c.event, "test") {
        test.push(("collection".to_string(), s));
    }
    let auth = c.auth.as_ref().and_then(Auth::from_value);
    walk(&c.item, &[], auth, &pre, &test, &[], &mut out);
    out
}

fn walk(
    items: &[RawItem],
    folders: &[String],
    auth: Option<Auth>,
    pre: &[(String, String)],
    test: &[(String, String)],
    vars: &[(String, String)],
    out: &mut Vec<Item>,
) {
    for it in items {
        let mut path = folders.to_vec();
        path.push(it.name.clone());
        let label = path.join(" / ");
        let mut pre = pre.to_vec();
        let mut test = test.to_vec();
        if let Some(s) = script_source(&it.event, "prerequest") {
            pre.push((label.clone(), s));
        }
        if let Some(s) = script_source(&it.event, "test") {
            test.push((label.clone(), s));
        }
        let own_auth = it.auth.as_ref().and_then(Auth::from_value);
        if let Some(children) = &it.item {
            let mut vars = vars.to_vec();
            vars.extend(
                it.variable
                    .iter()
                    .filter(|v| !v.disabled)
                    .filter_map(|v| Some((v.name()?.to_string(), text(&v.value)))),
            );
            walk(
                children,
                &path,
                own_auth.or_else(|| auth.clone()),
                &pre,
                &test,
                &vars,
                out,
            );
            continue;
        }
        let Some(req) = &it.request else { continue };
        let request = request(req);
        let effective = match request.auth.as_ref().and_then(Auth::from_value) {
            Some(a) => Some(a),
            None => own_auth.or_else(|| auth.clone()),
        };
        out.push(Item {
            name: it.name.clone(),
            folders: folders.to_vec(),
            path: label,
            request,
            auth: effective,
            prerequest: pre,
            test,
            variables: vars.to_vec(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_as_strings_and_objects() {
        assert_eq!(url(&json!("{{fhirurl}}/metadata")), "{{fhirurl}}/metadata");
        let u = json!({"raw": "{{base}}/Patient?_count=1&old=1", "host": ["{{base}}"], "path": ["Patient"],
            "query": [{"key": "_count", "value": "1"}, {"key": "old", "value": "1", "disabled": true}]});
        assert_eq!(url(&u), "{{base}}/Patient?_count=1");
        let u = json!({"protocol": "https", "host": ["fhir", "example", "org"], "port": "8443", "path": ["Patient", ":id"],
            "variable": [{"key": "id", "value": "{{pid}}"}]});
        assert_eq!(url(&u), "https://fhir.example.org:8443/Patient/{{pid}}");
    }

    #[test]
    fn auth_in_both_shapes_and_inheritance() {
        let v21 = Auth::from_value(&json!({"type": "bearer", "bearer": [{"key": "token", "value": "{{t}}", "type": "string"}]})).unwrap();
        let v20 =
            Auth::from_value(&json!({"type": "bearer", "bearer": {"token": "{{t}}"}})).unwrap();
        assert_eq!(v21, v20);
        let c: Collection = serde_json::from_value(json!({
            "info": {"name": "c"},
            "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "outer"}]},
            "item": [
                {"name": "f", "auth": {"type": "noauth"}, "item": [{"name": "a", "request": "http://x/a"}]},
                {"name": "b", "request": {"method": "post", "url": "http://x/b", "header": [{"key": "X", "value": "1"}, {"key": "Y", "value": "2", "disabled": true}]}}
            ]})).unwrap();
        let items = flatten(&c);
        assert_eq!(items[0].auth.as_ref().unwrap().kind, "noauth");
        assert_eq!(items[0].path, "f / a");
        assert_eq!(items[1].auth.as_ref().unwrap().get("token"), Some("outer"));
        assert_eq!(items[1].request.method, "POST");
        assert_eq!(
            items[1].request.headers,
            vec![("X".to_string(), "1".to_string())]
        );
    }
}

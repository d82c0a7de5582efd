//! `fhircheck import postman`: a Postman collection turned into fhircheck's format. The token
//! request becomes an auth profile; what scripts say that the format can say (status checks,
//! captures, simple property checks) becomes expectations and captures; the rest is listed.

use indexmap::IndexMap;
use serde_json::{json, Map, Value};

use super::model::{self, Auth, Body, Collection, Item};

/// What the conversion could not carry over, by item path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub item: String,
    pub text: String,
}

pub struct Converted {
    pub collection: Value,
    pub notes: Vec<Note>,
    pub requests: usize,
}

fn js_path_to_jsonpath(expr: &str) -> Option<String> {
    // `.a.b[0].c` after the response object
    let re = regex::Regex::new(
        r"^((?:\.[A-Za-z_$][A-Za-z0-9_$]*|\[\d+\]|\[['\x22][^'\x22]+['\x22]\])+)$",
    )
    .ok()?;
    let m = re.captures(expr.trim())?;
    let mut out = String::from("$");
    let part =
        regex::Regex::new(r"\.([A-Za-z_$][A-Za-z0-9_$]*)|\[(\d+)\]|\[['\x22]([^'\x22]+)['\x22]\]")
            .ok()?;
    for c in part.captures_iter(&m[1]) {
        if let Some(n) = c.get(1) {
            out.push('.');
            out.push_str(n.as_str());
        } else if let Some(i) = c.get(2) {
            out.push_str(&format!("[{}]", i.as_str()));
        } else if let Some(k) = c.get(3) {
            out.push_str(&format!("['{}']", k.as_str()));
        }
    }
    Some(out)
}

/// The JS value literal `'x'`, `"x"`, a number, true/false/null.
fn literal(s: &str) -> Option<Value> {
    let t = s.trim();
    if (t.starts_with('\'') && t.ends_with('\'') && t.len() >= 2)
        || (t.starts_with('"') && t.ends_with('"') && t.len() >= 2)
    {
        return Some(Value::String(t[1..t.len() - 1].to_string()));
    }
    serde_json::from_str(t).ok()
}

#[derive(Default)]
struct Translated {
    status: Option<Value>,
    captures: IndexMap<String, Value>,
    json: Vec<Value>,
    headers: IndexMap<String, Value>,
    resource_type: Option<String>,
    token_var: Option<String>,
}

/// Translates the test script lines it understands; returns the lines it did not.
fn translate(src: &str, t: &mut Translated) -> Vec<String> {
    let mut left = Vec::new();
    let mut response_vars: Vec<String> = vec![];
    let re = |p: &str| {
        regex::Regex::new(p)
            .unwrap_or_else(|_| regex::Regex::new("$^").unwrap_or_else(|_| unreachable!()))
    };
    let var_decl = re(
        r#"^(?:var|let|const)\s+(\w+)\s*=\s*(?:JSON\.parse\(responseBody\)|pm\.response\.json\(\))\s*;?$"#,
    );
    let status1 = re(r#"pm\.response\.to\.have\.status\((\d{3})\)"#);
    let status2 =
        re(r#"pm\.expect\(pm\.response\.code\)\.to\.(?:eql|equal|eq|be\.equal)\((\d{3})\)"#);
    let status3 = re(r#"pm\.expect\(pm\.response\.code\)\.to\.be\.oneOf\(\[([\d,\s]+)\]\)"#);
    let status4 = re(r#"tests\[[^\]]+\]\s*=\s*responseCode\.code\s*===?\s*(\d{3})"#);
    let ok = re(r#"pm\.response\.to\.be\.(?:ok|success)"#);
    let header = re(r#"pm\.response\.to\.have\.header\(\s*['"]([^'"]+)['"]\s*\)"#);
    let set = re(
        r#"^(?:pm\.(?:environment|collectionVariables|variables|globals)\.set|postman\.set(?:Environment|Global)Variable)\(\s*['"]([^'"]+)['"]\s*,\s*(.+?)\s*\)\s*;?$"#,
    );
    let expect = re(
        r#"pm\.expect\((.+?)\)\.to\.(?:eql|equal|eq|be\.equal)\((.+)\)\s*;?\s*(?:\}\s*\)\s*;?)?$"#,
    );
    let legacy_eq = re(r#"tests\[[^\]]+\]\s*=\s*(.+?)\s*===?\s*(.+?)\s*;?$"#);
    let skip = re(r#"^(?://.*|pm\.test\(.*function\s*\(\)\s*\{|\}\);?|\{|\}|)$"#);
    for raw in src.lines() {
        let line = raw.trim();
        if skip.is_match(line) {
            continue;
        }
        if let Some(c) = var_decl.captures(line) {
            response_vars.push(c[1].to_string());
            continue;
        }
        let body_path = |expr: &str| -> Option<String> {
            let e = expr.trim();
            let rest = e.strip_prefix("pm.response.json()").or_else(|| {
                response_vars
                    .iter()
                    .find_map(|v| e.strip_prefix(v.as_str()))
            })?;
            js_path_to_jsonpath(rest)
        };
        let mut handled = false;
        if let Some(c) = status1
            .captures(line)
            .or_else(|| status2.captures(line))
            .or_else(|| status4.captures(line))
        {
            t.status = c[1].parse::<u16>().ok().map(|n| json!(n));
            handled = true;
        } else if let Some(c) = status3.captures(line) {
            let list: Vec<u16> = c[1]
                .split(',')
                .filter_map(|x| x.trim().parse().ok())
                .collect();
            t.status = Some(json!(list));
            handled = true;
        } else if ok.is_match(line) {
            t.status.get_or_insert(json!("2xx"));
            handled = true;
        }
        if let Some(c) = header.captures(line) {
            t.headers.insert(c[1].to_string(), json!({"exists": true}));
            handled = true;
        }
        if let Some(c) = set.captures(line) {
            if let Some(path) = body_path(&c[2]) {
                if path == "$.access_token" {
                    t.token_var = Some(c[1].to_string());
                }
                t.captures.insert(c[1].to_string(), json!({"json": path}));
                handled = true;
            }
        }
        if !handled {
            if let Some(c) = expect.captures(line).or_else(|| legacy_eq.captures(line)) {
                if let (Some(path), Some(v)) = (body_path(&c[1]), literal(&c[2])) {
                    if path == "$.resourceType" {
                        t.resource_type = v.as_str().map(str::to_string);
                    } else {
                        t.json.push(json!({"path": path, "equals": v}));
                    }
                    handled = true;
                }
            }
        }
        if !handled {
            left.push(line.to_string());
        }
    }
    left
}

fn token_request(item: &Item) -> Option<(Value, String)> {
    let Body::UrlEncoded(form) = &item.request.body else {
        return None;
    };
    let get = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    if get("grant_type").as_deref() != Some("client_credentials") {
        return None;
    }
    let url = item.request.url.clone();
    let entra = regex::Regex::new(r"^(https://login\.(?:microsoftonline\.com|microsoftonline\.us|partner\.microsoftonline\.cn|windows\.net)|\{\{[^}]+\}\})/([^/]+)/oauth2/(v2\.0/)?token$").ok()?;
    if let Some(c) = entra.captures(&url) {
        let host = match &c[1] {
            "https://login.microsoftonline.com" | "https://login.windows.net" => {
                "global".to_string()
            }
            "https://login.microsoftonline.us" => "usgov".to_string(),
            "https://login.partner.microsoftonline.cn" => "china".to_string(),
            other => other.to_string(),
        };
        let v2 = c.get(3).is_some();
        let _ = host;
        let mut p = json!({
            "type": "entra",
            "tenant": &c[2],
            "client_id": get("client_id").unwrap_or_default(),
            "client_secret": get("client_secret").unwrap_or_default(),
            "authority_host": "{{authority_host}}",
            "version": if v2 { "v2" } else { "v1" },
        });
        if let Some(r) = get("resource") {
            p["resource"] = json!(r);
        }
        if let Some(s) = get("scope") {
            p["scope"] = json!(s);
        }
        return Some((p, "entra".into()));
    }
    let mut p = json!({
        "type": "oauth2",
        "token_url": url,
        "client_id": get("client_id").unwrap_or_default(),
        "client_secret": get("client_secret").unwrap_or_default(),
    });
    for k in ["scope", "resource", "audience"] {
        if let Some(v) = get(k) {
            p[k] = json!(v);
        }
    }
    Some((p, "oauth2".into()))
}

fn oauth2_profile(a: &Auth) -> Value {
    let mut p = json!({
        "type": "oauth2",
        "token_url": a.get("accessTokenUrl").unwrap_or_default(),
        "client_id": a.get("clientId").unwrap_or_default(),
        "client_secret": a.get("clientSecret").unwrap_or_default(),
    });
    if let Some(s) = a.get("scope") {
        p["scope"] = json!(s);
    }
    if a.get("client_authentication") == Some("header") {
        p["client_auth"] = json!("basic");
    }
    p
}

/// The collection's variables, and the environment's: secret ones become `{{$env.NAME}}`.
fn carried_variables(
    c: &Collection,
    env: Option<&crate::collection::Environment>,
) -> Map<String, Value> {
    let mut variables = Map::new();
    for v in c.variable.iter().filter(|v| !v.disabled) {
        if let Some(n) = v.name() {
            variables.insert(n.to_string(), json!(model::text(&v.value)));
        }
    }
    for (k, d) in env.iter().flat_map(|e| &e.variables) {
        if d.secret() || crate::vars::is_secret_name(k) {
            let var = k
                .chars()
                .map(|ch| {
                    if ch.is_ascii_alphanumeric() {
                        ch.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect::<String>();
            variables.insert(
                k.clone(),
                json!({"value": format!("{{{{$env.{var}}}}}"), "secret": true}),
            );
        } else {
            variables.insert(k.clone(), json!(d.text()));
        }
    }
    variables
}

/// `authority_host` as the preset its token URL's host is, or the host itself.
fn authority_preset(url: &str) -> String {
    let host = url.split('/').take(3).collect::<Vec<_>>().join("/");
    match host.as_str() {
        "https://login.microsoftonline.us" => "usgov".to_string(),
        "https://login.partner.microsoftonline.cn" => "china".to_string(),
        h if h.starts_with("https://login.") => "global".to_string(),
        h => h.to_string(),
    }
}

/// The variable most URLs start with: the base URL.
fn base_variable(items: &[Item]) -> Option<String> {
    let mut counts: IndexMap<String, usize> = IndexMap::new();
    for item in items {
        if let Some(rest) = item.request.url.strip_prefix("{{") {
            if let Some(end) = rest.find("}}") {
                *counts.entry(rest[..end].to_string()).or_default() += 1;
            }
        }
    }
    counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(k, _)| k.clone())
}

/// What a conversion builds up as it goes through the items.
#[derive(Default)]
struct Importer {
    auth: Map<String, Value>,
    variables: Map<String, Value>,
    notes: Vec<Note>,
    /// The variable a token request stored its token in → the profile that replaced it.
    token_vars: IndexMap<String, String>,
    /// The paths of the token requests, which are not requests any more.
    token_items: Vec<String>,
    base_var: Option<String>,
}

impl Importer {
    fn note(&mut self, item: &Item, text: String) {
        self.notes.push(Note {
            item: item.path.clone(),
            text,
        });
    }

    /// Token requests become auth profiles; the variables that held tokens are dropped.
    fn token_profiles(&mut self, items: &[Item]) {
        for item in items {
            let Some((profile, name)) = token_request(item) else {
                continue;
            };
            if profile["authority_host"] == "{{authority_host}}"
                && !self.variables.contains_key("authority_host")
            {
                self.variables.insert(
                    "authority_host".into(),
                    json!(authority_preset(&item.request.url)),
                );
            }
            let mut t = Translated::default();
            for (_, src) in &item.test {
                let _ = translate(src, &mut t);
            }
            let var = t.token_var.clone().unwrap_or_else(|| "bearerToken".into());
            let name = if self.auth.contains_key(&name) {
                format!("{name}_{}", self.auth.len() + 1)
            } else {
                name
            };
            self.auth.insert(name.clone(), profile);
            self.token_vars.insert(var, name.clone());
            self.token_items.push(item.path.clone());
            self.note(item, format!("the token request became the auth profile `{name}`; fhircheck gets the token itself"));
        }
        for var in self.token_vars.keys() {
            self.variables.remove(var);
        }
    }

    /// Scripts that could not be translated are listed, line by line.
    fn script_notes(&mut self, item: &Item, t: &mut Translated) {
        for (label, src) in &item.test {
            for line in translate(src, t) {
                self.note(item, format!("test script of \"{label}\": `{line}`"));
            }
        }
        for (label, src) in &item.prerequest {
            for line in src
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.trim().starts_with("//"))
            {
                self.note(
                    item,
                    format!("prerequest script of \"{label}\": `{}`", line.trim()),
                );
            }
        }
    }

    /// The headers to keep, and the profile an Authorization header or the item's auth names.
    fn headers_and_auth(&mut self, item: &Item) -> (Map<String, Value>, Option<String>) {
        let mut headers = Map::new();
        let mut profile: Option<String> = None;
        for (k, v) in &item.request.headers {
            let token_var = v
                .strip_prefix("Bearer {{")
                .and_then(|x| x.strip_suffix("}}"));
            if let Some(p) = token_var
                .filter(|_| k.eq_ignore_ascii_case("authorization"))
                .and_then(|var| self.token_vars.get(var))
            {
                profile = Some(p.clone());
                continue;
            }
            headers.insert(k.clone(), json!(v));
        }
        match &item.auth {
            Some(a) if a.kind == "bearer" => {
                let token = a.get("token").unwrap_or_default();
                match token
                    .strip_prefix("{{")
                    .and_then(|x| x.strip_suffix("}}"))
                    .and_then(|v| self.token_vars.get(v))
                {
                    Some(p) => profile = Some(p.clone()),
                    None => {
                        self.auth
                            .entry("bearer".to_string())
                            .or_insert_with(|| json!({"type": "bearer", "token": token}));
                        profile = Some("bearer".into());
                    }
                }
            }
            Some(a) if a.kind == "noauth" => profile = profile.or(Some("none".into())),
            Some(a) if a.kind == "oauth2" => profile = profile.or(Some("oauth2".into())),
            Some(a) if a.kind == "basic" || a.kind == "apikey" => {
                let kind = a.kind.clone();
                self.note(
                    item,
                    format!("{kind} auth is not translated: set the header yourself"),
                );
            }
            Some(a) => {
                let kind = a.kind.clone();
                self.note(
                    item,
                    format!("{kind} auth is not translated: the native format sends bearer tokens only; run the Postman collection itself to sign its requests"),
                );
            }
            None => {}
        }
        (headers, profile)
    }

    /// One request in the native format.
    fn request(&mut self, item: &Item) -> Value {
        let mut t = Translated::default();
        self.script_notes(item, &mut t);
        let mut url = item.request.url.clone();
        if let Some(b) = &self.base_var {
            if let Some(rest) = url.strip_prefix(&format!("{{{{{b}}}}}")) {
                url = rest.trim_start_matches('/').to_string();
            }
        }
        let mut r = json!({"name": item.name, "method": item.request.method, "url": url});
        let (mut headers, profile) = self.headers_and_auth(item);
        if let Some(body) = request_body(item, &mut headers) {
            r["body"] = body;
        }
        if !headers.is_empty() {
            r["headers"] = Value::Object(headers);
        }
        if let Some(p) = profile {
            r["auth"] = json!(p);
        }
        if !t.captures.is_empty() {
            r["capture"] = json!(t.captures);
        }
        if t.status.is_none() {
            self.note(
                item,
                "no status check was found: fhircheck expects a 2xx answer".into(),
            );
        }
        r["expect"] = expectations(t);
        if !item.folders.is_empty() {
            r["description"] = json!(format!("from folder {}", item.folders.join(" / ")));
        }
        r
    }
}

/// The body in the native format; the Content-Type header goes when the body implies it.
fn request_body(item: &Item, headers: &mut Map<String, Value>) -> Option<Value> {
    let drop_content_type =
        |h: &mut Map<String, Value>| h.retain(|k, _| !k.eq_ignore_ascii_case("content-type"));
    match &item.request.body {
        Body::None => None,
        Body::Raw(text, lang) => match serde_json::from_str::<Value>(text) {
            Ok(v) => {
                drop_content_type(headers);
                Some(json!({"json": v}))
            }
            Err(_) => {
                let ct = item
                    .request
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    .map(|(_, v)| v.clone());
                drop_content_type(headers);
                let ct = ct.unwrap_or_else(|| {
                    if lang.as_deref() == Some("json") {
                        "application/json".into()
                    } else {
                        "text/plain".into()
                    }
                });
                Some(json!({"text": text, "content_type": ct}))
            }
        },
        Body::UrlEncoded(f) => {
            drop_content_type(headers);
            Some(
                json!({"form": f.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<Map<_, _>>()}),
            )
        }
        // fhircheck's format sends forms urlencoded: the text parts carry over, files do not.
        Body::FormData(parts) => {
            drop_content_type(headers);
            Some(json!({"form": parts
                .iter()
                .filter(|p| p.file.is_none())
                .map(|p| (p.key.clone(), json!(p.value)))
                .collect::<Map<_, _>>()}))
        }
    }
}

/// The `expect` block of what the test scripts checked.
fn expectations(t: Translated) -> Value {
    let mut expect = Map::new();
    if let Some(s) = t.status {
        expect.insert("status".into(), s);
    }
    if !t.headers.is_empty() {
        expect.insert("headers".into(), json!(t.headers));
    }
    if !t.json.is_empty() {
        expect.insert("json".into(), json!(t.json));
    }
    if let Some(rt) = t.resource_type {
        expect.insert("resource_type".into(), json!(rt));
    }
    Value::Object(expect)
}

/// Converts `c`; `env` gives variable names and non-secret values to carry over.
pub fn convert(c: &Collection, env: Option<&crate::collection::Environment>) -> Converted {
    let items = model::flatten(c);
    let mut im = Importer {
        variables: carried_variables(c, env),
        base_var: base_variable(&items),
        ..Default::default()
    };
    im.token_profiles(&items);
    let mut default_auth = None;
    if let Some(a) = c.auth.as_ref().and_then(Auth::from_value) {
        if a.kind == "oauth2" {
            im.auth.insert("oauth2".into(), oauth2_profile(&a));
            default_auth = Some("oauth2".to_string());
        }
    }
    let token_items = std::mem::take(&mut im.token_items);
    let requests: Vec<Value> = items
        .iter()
        .filter(|item| !token_items.contains(&item.path))
        .map(|item| im.request(item))
        .collect();
    let mut out = json!({
        "$schema": "./collection.schema.json",
        "name": c.info.name,
        "description": format!("Imported from the Postman collection \"{}\".", c.info.name),
    });
    if let Some(b) = &im.base_var {
        out["base_url"] = json!(format!("{{{{{b}}}}}"));
    }
    if !im.variables.is_empty() {
        out["variables"] = Value::Object(im.variables);
    }
    if !im.auth.is_empty() {
        out["auth"] = Value::Object(im.auth);
    }
    out["default_auth"] = json!(default_auth.unwrap_or_else(|| "none".into()));
    let count = requests.len();
    out["requests"] = Value::Array(requests);
    Converted {
        collection: out,
        notes: im.notes,
        requests: count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_paths_become_jsonpaths() {
        assert_eq!(js_path_to_jsonpath(".id").as_deref(), Some("$.id"));
        assert_eq!(
            js_path_to_jsonpath(".entry[0].resource['id']").as_deref(),
            Some("$.entry[0].resource['id']")
        );
        assert_eq!(js_path_to_jsonpath("()"), None);
    }

    #[test]
    fn script_lines_become_expectations_and_captures() {
        let mut t = Translated::default();
        let left = translate(
            "var jsonData = JSON.parse(responseBody);\npostman.setEnvironmentVariable(\"bearerToken\", jsonData.access_token);\ntests[\"ok\"] = responseCode.code === 201;\npm.test('x', function () {\n  pm.expect(pm.response.json().resourceType).to.eql('Patient');\n  pm.expect(jsonData.name[0].family).to.equal(\"Kirk\");\n  pm.response.to.have.header('Location');\n});\nif (x) { pm.setNextRequest('a'); }",
            &mut t,
        );
        assert_eq!(t.token_var.as_deref(), Some("bearerToken"));
        assert_eq!(t.status, Some(json!(201)));
        assert_eq!(t.resource_type.as_deref(), Some("Patient"));
        assert_eq!(
            t.json,
            vec![json!({"path": "$.name[0].family", "equals": "Kirk"})]
        );
        assert!(t.headers.contains_key("Location"));
        assert_eq!(left, vec!["if (x) { pm.setNextRequest('a'); }"]);
    }
}

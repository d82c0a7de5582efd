//! FHIR R4 `TestScript` resources, converted to a native collection that runs on the built-in
//! profiles (the same `AZURE_*`, `fhir_url` and `--profile` as the smoke collection).
//!
//! The conversion is the whole front end: fixtures become request bodies (with `${var}` as
//! `{{var}}`), `autocreate` / `autodelete` become setup requests and cleanup requests, each
//! operation a request, each assert an expectation of the operation before it (a `warningOnly`
//! one under `expect.warn`), variables collection values or captures of the operation whose
//! response they read. Setup, each test and teardown are folders; teardown requests are
//! `cleanup` requests, which run whatever happened before them. What can not be converted is
//! named with its place, and nothing runs.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use serde_json::{json, Map, Value};

/// Something the TestScript says that fhircheck can not run: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// e.g. `test[1].action[0].assert.path`.
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
}

/// Whether a JSON text is a TestScript resource.
pub fn is_testscript(text: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "resourceType")]
        resource_type: Option<String>,
    }
    serde_json::from_str::<Probe>(text)
        .ok()
        .and_then(|p| p.resource_type)
        .is_some_and(|t| t == "TestScript")
}

/// A fixture: its resource (when fhircheck has it) and its flags.
#[derive(Debug, Clone, Default)]
struct Fixture {
    resource: Option<Value>,
    autocreate: bool,
    autodelete: bool,
}

impl Fixture {
    fn kind(&self) -> Option<&str> {
        self.resource.as_ref()?.get("resourceType")?.as_str()
    }
}

/// Converts a TestScript to a native collection, using `base` (the built-in smoke collection)
/// for the base URL, auth profiles and variables. `read` reads a fixture file named by a
/// relative reference.
pub fn convert(
    ts: &Value,
    base: &Value,
    read: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Value, Vec<Unsupported>> {
    let mut c = Conv::new(ts, read);
    for key in ["origin", "destination"] {
        if array(ts, key).len() > 1 {
            c.problem(
                format!("{key}[1]"),
                format!("more than one {key}: fhircheck tests one client against one FHIR server"),
                Some("split the script into one per server"),
            );
        }
    }
    c.fixtures();
    c.variables();
    c.autocreate();
    c.section("setup", "setup", false);
    for (i, t) in ts
        .get("test")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let name = t
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("test {}", i + 1), str::to_string);
        c.actions(&format!("test[{i}]"), t, &name, false);
    }
    c.section("teardown", "teardown", true);
    c.autodelete();
    c.unattached_variables();
    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    Ok(c.collection(base))
}

/// One converted request, and the folder it goes in.
struct Op {
    folder: String,
    item: Map<String, Value>,
    /// The responseId of the operation, if it has one.
    response_id: Option<String>,
}

struct Conv<'a> {
    ts: &'a Value,
    read: &'a dyn Fn(&str) -> Result<String, String>,
    fixtures: IndexMap<String, Fixture>,
    ops: Vec<Op>,
    problems: Vec<Unsupported>,
    /// Collection variables: defaults and values known before anything is sent.
    values: IndexMap<String, String>,
    /// Variables read from a response: name → (variable definition path, its JSON).
    pending: IndexMap<String, (String, Value)>,
    /// Names that are defined one way or another.
    defined: HashSet<String>,
    /// responseId → the index of the operation that gets it.
    responses: HashMap<String, usize>,
    /// fixture id → the index of the operation that created it.
    created: HashMap<String, usize>,
    counter: usize,
}

const OPERATION_FIELDS: &[&str] = &[
    "type",
    "resource",
    "label",
    "description",
    "accept",
    "contentType",
    "destination",
    "encodeRequestUrl",
    "method",
    "origin",
    "params",
    "requestHeader",
    "requestId",
    "responseId",
    "sourceId",
    "targetId",
    "url",
    "id",
    "extension",
    "modifierExtension",
];

const ASSERT_FIELDS: &[&str] = &[
    "label",
    "description",
    "direction",
    "compareToSourceId",
    "compareToSourceExpression",
    "contentType",
    "expression",
    "headerField",
    "minimumId",
    "navigationLinks",
    "operator",
    "requestMethod",
    "requestURL",
    "resource",
    "response",
    "responseCode",
    "sourceId",
    "value",
    "warningOnly",
    "id",
    "extension",
    "modifierExtension",
    "path",
    "compareToSourcePath",
    "validateProfileId",
];

impl<'a> Conv<'a> {
    fn new(ts: &'a Value, read: &'a dyn Fn(&str) -> Result<String, String>) -> Self {
        Conv {
            ts,
            read,
            fixtures: IndexMap::new(),
            ops: Vec::new(),
            problems: Vec::new(),
            values: IndexMap::new(),
            pending: IndexMap::new(),
            defined: HashSet::new(),
            responses: HashMap::new(),
            created: HashMap::new(),
            counter: 0,
        }
    }

    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>, hint: Option<&str>) {
        self.problems.push(Unsupported {
            path: path.into(),
            message: message.into(),
            hint: hint.map(str::to_string),
        });
    }

    /// Each fixture's resource: a contained one (`#id`) or a file next to the TestScript.
    fn fixtures(&mut self) {
        let contained: HashMap<&str, &Value> = self
            .ts
            .get("contained")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| Some((r.get("id")?.as_str()?, r)))
            .collect();
        for (i, f) in array(self.ts, "fixture").iter().enumerate() {
            let place = format!("fixture[{i}]");
            let Some(id) = f.get("id").and_then(Value::as_str) else {
                self.problem(
                    &place,
                    "a fixture needs an `id` that operations and asserts name",
                    None,
                );
                continue;
            };
            let mut fixture = Fixture {
                autocreate: f
                    .get("autocreate")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                autodelete: f
                    .get("autodelete")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                resource: None,
            };
            match f.pointer("/resource/reference").and_then(Value::as_str) {
                Some(r) if r.starts_with('#') => match contained.get(&r[1..]) {
                    Some(res) => fixture.resource = Some(strip_contained_id(res)),
                    None => self.problem(
                        format!("{place}.resource.reference"),
                        format!("`{r}` names no contained resource"),
                        Some("add the resource to `contained` with that id"),
                    ),
                },
                Some(r) if r.contains("://") => self.problem(
                    format!("{place}.resource.reference"),
                    format!("`{r}` is a URL; fhircheck reads fixtures from the TestScript's contained resources or from files next to it"),
                    Some("download the fixture next to the TestScript and refer to it by its file name"),
                ),
                Some(r) => match (self.read)(r).and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string())) {
                    Ok(v) => fixture.resource = Some(v),
                    Err(e) => self.problem(
                        format!("{place}.resource.reference"),
                        format!("the fixture file `{r}` can not be read as JSON: {e}"),
                        Some("fixture files are FHIR resources in JSON, relative to the TestScript's folder"),
                    ),
                },
                None => self.problem(format!("{place}.resource"), "the fixture has no resource reference", None),
            }
            self.fixtures.insert(id.to_string(), fixture);
        }
    }

    /// Variables: defaults and values of static fixtures now; values from responses as captures.
    fn variables(&mut self) {
        for (i, v) in array(self.ts, "variable").iter().enumerate() {
            let place = format!("variable[{i}]");
            let Some(name) = v.get("name").and_then(Value::as_str).map(str::to_string) else {
                self.problem(&place, "a variable needs a `name`", None);
                continue;
            };
            self.defined.insert(name.clone());
            if let Some(d) = v.get("defaultValue").and_then(Value::as_str) {
                self.values.insert(name.clone(), d.to_string());
            }
            let path = v.get("path").and_then(Value::as_str);
            if let Some(p) = path.filter(|_| v.get("expression").is_none()) {
                if let Err(e) = json_path(p) {
                    self.problem(format!("{place}.path"), e, Some(XPATH_HINT));
                    continue;
                }
            }
            let source = v.get("sourceId").and_then(Value::as_str);
            let static_fixture = source
                .and_then(|s| self.fixtures.get(s))
                .and_then(|f| f.resource.clone());
            match (
                v.get("expression").and_then(Value::as_str),
                path,
                static_fixture,
            ) {
                (Some(expr), _, Some(resource)) => match eval_text(expr, &resource) {
                    Ok(text) => {
                        self.values.insert(name, text);
                    }
                    Err(e) => self.problem(format!("{place}.expression"), e, None),
                },
                (None, Some(p), Some(resource)) => match json_path_text(p, &resource) {
                    Some(text) => {
                        self.values.insert(name, text);
                    }
                    None => self.problem(
                        format!("{place}.path"),
                        format!("`{p}` selects nothing in the fixture"),
                        None,
                    ),
                },
                (None, None, _) if v.get("headerField").is_none() => {
                    if !self.values.contains_key(&name) {
                        self.problem(
                            &place,
                            "the variable has no defaultValue, expression or headerField",
                            None,
                        );
                    }
                }
                _ => {
                    self.pending.insert(name, (place, v.clone()));
                }
            }
        }
    }

    /// A POST of each `autocreate` fixture, first of all.
    fn autocreate(&mut self) {
        let creates: Vec<(String, Fixture)> = self
            .fixtures
            .iter()
            .filter(|(_, f)| f.autocreate)
            .map(|(k, f)| (k.clone(), f.clone()))
            .collect();
        for (id, f) in creates {
            let Some(kind) = f.kind().map(str::to_string) else {
                continue;
            };
            let mut item = Map::new();
            item.insert("name".into(), json!(format!("create fixture {id}")));
            item.insert("method".into(), json!("POST"));
            item.insert("url".into(), json!(kind));
            item.insert(
                "body".into(),
                json!({"json": templated(f.resource.as_ref().unwrap_or(&Value::Null))}),
            );
            item.insert(
                "capture".into(),
                json!({ fixture_id(&id): location_capture() }),
            );
            item.insert("expect".into(), json!({"status": [200, 201]}));
            self.created.insert(id.clone(), self.ops.len());
            self.ops.push(Op {
                folder: "setup".into(),
                item,
                response_id: None,
            });
        }
    }

    /// A DELETE of each `autodelete` fixture, last of all, as cleanup.
    fn autodelete(&mut self) {
        let deletes: Vec<(String, String)> = self
            .fixtures
            .iter()
            .filter(|(_, f)| f.autodelete)
            .filter_map(|(k, f)| Some((k.clone(), f.kind()?.to_string())))
            .collect();
        for (id, kind) in deletes {
            let mut item = Map::new();
            item.insert("name".into(), json!(format!("delete fixture {id}")));
            item.insert("method".into(), json!("DELETE"));
            item.insert(
                "url".into(),
                json!(format!("{kind}/{{{{{}}}}}", fixture_id(&id))),
            );
            item.insert("cleanup".into(), json!(true));
            item.insert(
                "expect".into(),
                json!({"status": [200, 202, 204, 404, 410]}),
            );
            self.ops.push(Op {
                folder: "teardown".into(),
                item,
                response_id: None,
            });
        }
    }

    fn section(&mut self, key: &str, folder: &str, cleanup: bool) {
        if let Some(s) = self.ts.get(key) {
            self.actions(key, s, folder, cleanup);
        }
    }

    /// The actions of setup, a test or teardown, in order.
    fn actions(&mut self, place: &str, holder: &Value, folder: &str, cleanup: bool) {
        let start = self.ops.len();
        for (i, a) in array(holder, "action").iter().enumerate() {
            let aplace = format!("{place}.action[{i}]");
            if let Some(op) = a.get("operation") {
                self.operation(&format!("{aplace}.operation"), op, folder, cleanup);
            } else if let Some(assert) = a.get("assert") {
                if self.ops.len() == start && !folder.eq("teardown") && self.ops.is_empty() {
                    self.problem(
                        format!("{aplace}.assert"),
                        "an assert before any operation has no response to check",
                        None,
                    );
                    continue;
                }
                self.assert(&format!("{aplace}.assert"), assert);
            } else {
                self.problem(
                    &aplace,
                    "an action needs an `operation` or an `assert`",
                    None,
                );
            }
        }
    }

    /// One operation, as a request.
    fn operation(&mut self, place: &str, op: &Value, folder: &str, cleanup: bool) {
        self.unknown_fields(place, op, OPERATION_FIELDS);
        let code = op
            .pointer("/type/code")
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some(method) = self.method(place, op, code) else {
            return;
        };
        let url = self.url(place, op, code);
        self.attach_pending_variables(op);
        let mut item = Map::new();
        let name = op
            .get("label")
            .or_else(|| op.get("description"))
            .and_then(Value::as_str)
            .map_or_else(
                || {
                    format!(
                        "{code} {}",
                        op.get("resource").and_then(Value::as_str).unwrap_or("")
                    )
                    .trim()
                    .to_string()
                },
                str::to_string,
            );
        item.insert("name".into(), json!(name));
        item.insert("method".into(), json!(method));
        item.insert("url".into(), json!(url));
        let mut headers = Map::new();
        for (field, mime) in [("accept", "Accept"), ("contentType", "Content-Type")] {
            if let Some(v) = op.get(field).and_then(Value::as_str) {
                headers.insert(mime.into(), json!(mime_type(v)));
            }
        }
        for h in array(op, "requestHeader") {
            if let (Some(f), Some(v)) = (
                h.get("field").and_then(Value::as_str),
                h.get("value").and_then(Value::as_str),
            ) {
                headers.insert(f.to_string(), json!(dollar_to_braces(v)));
            }
        }
        if let Some(body) = self.body(place, op, code) {
            item.insert("body".into(), body);
        }
        if !headers.is_empty() {
            item.insert("headers".into(), Value::Object(headers));
        }
        if cleanup {
            item.insert("cleanup".into(), json!(true));
        }
        let response_id = op
            .get("responseId")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(r) = &response_id {
            self.responses.insert(r.clone(), self.ops.len());
        }
        if code == "create" {
            if let Some(src) = op.get("sourceId").and_then(Value::as_str) {
                if self.fixtures.contains_key(src) {
                    self.created.insert(src.to_string(), self.ops.len());
                    item.insert(
                        "capture".into(),
                        json!({ fixture_id(src): location_capture() }),
                    );
                }
            }
        }
        self.ops.push(Op {
            folder: folder.to_string(),
            item,
            response_id,
        });
    }

    fn method(&mut self, place: &str, op: &Value, code: &str) -> Option<&'static str> {
        if let Some(m) = op.get("method").and_then(Value::as_str) {
            return match m.to_ascii_lowercase().as_str() {
                "get" => Some("GET"),
                "post" => Some("POST"),
                "put" => Some("PUT"),
                "patch" => Some("PATCH"),
                "delete" => Some("DELETE"),
                "head" => Some("HEAD"),
                "options" => Some("OPTIONS"),
                _ => {
                    self.problem(
                        format!("{place}.method"),
                        format!("`{m}` is not an HTTP method"),
                        None,
                    );
                    None
                }
            };
        }
        match code {
            "read" | "vread" | "search" | "history" | "capabilities" => Some("GET"),
            "create" | "batch" | "transaction" => Some("POST"),
            "update" | "updateCreate" => Some("PUT"),
            "patch" => Some("PATCH"),
            "delete" | "deleteCondSingle" | "deleteCondMultiple" => Some("DELETE"),
            "" => {
                self.problem(
                    format!("{place}.type"),
                    "the operation has no type and no method",
                    Some("give `type` (e.g. read, create, search) or `method`"),
                );
                None
            }
            other => {
                self.problem(
                    format!("{place}.type"),
                    format!("the operation type `{other}` is not supported"),
                    Some("supported: read, vread, search, history, create, update, updateCreate, patch, delete, deleteCondSingle, deleteCondMultiple, capabilities, batch, transaction; or give `method` and `url`"),
                );
                None
            }
        }
    }

    /// The request URL of an operation, as a template.
    fn url(&mut self, place: &str, op: &Value, code: &str) -> String {
        if let Some(u) = op.get("url").and_then(Value::as_str) {
            return dollar_to_braces(u);
        }
        let params = op
            .get("params")
            .and_then(Value::as_str)
            .map(dollar_to_braces);
        let resource = op
            .get("resource")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                let src = op.get("sourceId").and_then(Value::as_str)?;
                self.fixtures.get(src)?.kind().map(str::to_string)
            });
        let target = op
            .get("targetId")
            .and_then(Value::as_str)
            .and_then(|t| self.target(place, t));
        let path = match code {
            "capabilities" => "metadata".to_string(),
            "batch" | "transaction" => "{{fhir_url}}".to_string(),
            "history" => match (&target, &resource) {
                (Some(t), _) => format!("{t}/_history"),
                (None, Some(r)) => format!("{r}/_history"),
                (None, None) => "_history".to_string(),
            },
            "vread" => match (op.get("targetId").and_then(Value::as_str), &target) {
                (Some(t), Some(tp)) => {
                    let var = self.version_of(t);
                    format!("{tp}/_history/{{{{{var}}}}}")
                }
                _ => resource.clone().unwrap_or_default(),
            },
            _ => target
                .clone()
                .or_else(|| resource.clone())
                .unwrap_or_default(),
        };
        let url = format!("{path}{}", params.unwrap_or_default());
        if url.is_empty() {
            self.problem(
                place,
                "the operation names no resource type, target, params or url",
                Some("give `resource` and `params`, `targetId`, or `url`"),
            );
        }
        url
    }

    /// `[type]/[id]` of a target: a fixture created earlier, or a response.
    fn target(&mut self, place: &str, id: &str) -> Option<String> {
        if let Some(f) = self.fixtures.get(id) {
            let kind = f.kind()?.to_string();
            return Some(format!("{kind}/{{{{{}}}}}", fixture_id(id)));
        }
        if let Some(owner) = self.responses.get(id).copied() {
            self.capture_on(owner, &format!("response_{id}_id"), json!({"json": "$.id"}));
            self.capture_on(
                owner,
                &format!("response_{id}_type"),
                json!({"json": "$.resourceType"}),
            );
            return Some(format!(
                "{{{{response_{id}_type}}}}/{{{{response_{id}_id}}}}"
            ));
        }
        self.problem(
            format!("{place}.targetId"),
            format!("`{id}` names no fixture and no earlier responseId"),
            None,
        );
        None
    }

    /// The body of an operation: a fixture's resource, or an earlier response.
    fn body(&mut self, place: &str, op: &Value, code: &str) -> Option<Value> {
        let src = op.get("sourceId").and_then(Value::as_str)?;
        if let Some(f) = self.fixtures.get(src) {
            let mut resource = templated(f.resource.as_ref()?);
            // An update addresses the target's id; the body must carry the same.
            if let (Some(t), "update" | "updateCreate") =
                (op.get("targetId").and_then(Value::as_str), code)
            {
                if self.fixtures.contains_key(t) {
                    resource["id"] = json!(format!("{{{{{}}}}}", fixture_id(t)));
                } else if let Some(owner) = self.responses.get(t).copied() {
                    self.capture_on(owner, &format!("response_{t}_id"), json!({"json": "$.id"}));
                    resource["id"] = json!(format!("{{{{response_{t}_id}}}}"));
                }
            }
            return Some(json!({"json": resource}));
        }
        if let Some(owner) = self.responses.get(src).copied() {
            self.capture_on(owner, &format!("response_{src}_body"), json!({"json": "$"}));
            return Some(
                json!({"text": format!("{{{{response_{src}_body}}}}"), "content_type": "application/fhir+json"}),
            );
        }
        self.problem(
            format!("{place}.sourceId"),
            format!("`{src}` names no fixture and no earlier responseId"),
            None,
        );
        None
    }

    /// Variables read from a response that an operation or assert uses: captured by the
    /// operation before it (or the one their sourceId names).
    fn attach_pending_variables(&mut self, action: &Value) {
        let text = action.to_string();
        let used: Vec<String> = self
            .pending
            .keys()
            .filter(|n| text.contains(&format!("${{{n}}}")))
            .cloned()
            .collect();
        for name in used {
            self.attach_variable(&name);
        }
    }

    fn attach_variable(&mut self, name: &str) {
        let Some((place, v)) = self.pending.shift_remove(name) else {
            return;
        };
        let owner = match v.get("sourceId").and_then(Value::as_str) {
            Some(src) => match self.responses.get(src) {
                Some(i) => *i,
                None => {
                    self.problem(format!("{place}.sourceId"), format!("`{src}` names no fixture and no responseId before the variable's first use"), None);
                    return;
                }
            },
            None => {
                match self.ops.len().checked_sub(1) {
                    Some(i) => i,
                    None => {
                        self.problem(&place, "the variable reads the last response, but it is used before any operation", None);
                        return;
                    }
                }
            }
        };
        let optional = v.get("defaultValue").is_some();
        let capture = match (
            v.get("expression").and_then(Value::as_str),
            v.get("headerField").and_then(Value::as_str),
        ) {
            (Some(e), _) => {
                if let Err(err) = crate::fhirpath::Expr::parse(e) {
                    self.problem(
                        format!("{place}.expression"),
                        format!(
                            "FHIRPath problem at character {}: {}",
                            err.offset + 1,
                            err.message
                        ),
                        None,
                    );
                    return;
                }
                json!({"fhirpath": e, "optional": optional})
            }
            (None, Some(h)) => json!({"header": h, "optional": optional}),
            (None, None) => match v.get("path").and_then(Value::as_str) {
                Some(p) => json!({"json": p, "optional": optional}),
                None => return,
            },
        };
        let item = &mut self.ops[owner].item;
        let caps = item.entry("capture").or_insert_with(|| json!({}));
        caps[name] = capture;
    }

    /// Variables never used by an operation are still captured where they say, for asserts.
    fn unattached_variables(&mut self) {
        let names: Vec<String> = self.pending.keys().cloned().collect();
        for n in names {
            let src = self.pending[&n]
                .1
                .get("sourceId")
                .and_then(Value::as_str)
                .map(str::to_string);
            if src.is_some_and(|s| self.responses.contains_key(&s)) || !self.ops.is_empty() {
                self.attach_variable(&n);
            }
        }
    }

    /// One assert, as expectations of the operation before it.
    fn assert(&mut self, place: &str, a: &Value) {
        self.unknown_fields(place, a, ASSERT_FIELDS);
        let Some(last) = self.ops.len().checked_sub(1) else {
            return;
        };
        if let Some(src) = a.get("sourceId").and_then(Value::as_str) {
            if self.ops[last].response_id.as_deref() != Some(src) {
                self.problem(
                    format!("{place}.sourceId"),
                    format!("the assert reads `{src}`, not the response of the operation just before it"),
                    Some("put the assert right after the operation whose responseId it names"),
                );
                return;
            }
        }
        self.attach_pending_variables(a);
        let request = a.get("direction").and_then(Value::as_str) == Some("request");
        let mut expect = Map::new();
        if request {
            self.request_assert(place, a, &mut expect);
        } else {
            self.response_assert(place, a, last, &mut expect);
        }
        let warning = a
            .get("warningOnly")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let item = &mut self.ops[last].item;
        let target = item.entry("expect").or_insert_with(|| json!({}));
        let target = if warning {
            target
                .as_object_mut()
                .map(|o| o.entry("warn").or_insert_with(|| json!({})))
        } else {
            Some(target)
        };
        if let Some(Value::Object(t)) = target {
            merge_expect(t, expect);
        }
    }

    fn request_assert(&mut self, place: &str, a: &Value, expect: &mut Map<String, Value>) {
        if let Some(m) = a.get("requestMethod").and_then(Value::as_str) {
            expect.insert("request_method".into(), json!(m.to_ascii_uppercase()));
        }
        if let Some(u) = a.get("requestURL").and_then(Value::as_str) {
            expect.insert("request_url".into(), json!(dollar_to_braces(u)));
        }
        if expect.is_empty() {
            self.problem(
                place,
                "an assert on the request checks only requestMethod or requestURL here",
                None,
            );
        }
    }

    fn response_assert(
        &mut self,
        place: &str,
        a: &Value,
        last: usize,
        expect: &mut Map<String, Value>,
    ) {
        let operator = a
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or("equals");
        let label = a
            .get("label")
            .or_else(|| a.get("description"))
            .and_then(Value::as_str);
        if let Some(m) = a.get("requestMethod").and_then(Value::as_str) {
            expect.insert("request_method".into(), json!(m.to_ascii_uppercase()));
        }
        if let Some(u) = a.get("requestURL").and_then(Value::as_str) {
            expect.insert("request_url".into(), json!(dollar_to_braces(u)));
        }
        let path = a.get("path").and_then(Value::as_str);
        if let Some(expr) = path.and_then(simple_path_as_fhirpath) {
            // A plain JSONPath reads as the same FHIRPath, which compares values as text, as
            // TestScript does (`"1"` equals a versionId "1" and a total 1).
            let mut with_expr = a.clone();
            with_expr["expression"] = json!(expr);
            self.expression_assert(place, &with_expr, operator, label, last, expect);
        } else if let Some(p) = path {
            match json_path(p) {
                Ok(()) => match json_assert(p, operator, a.get("value").and_then(Value::as_str)) {
                    Some(check) => {
                        let list = expect.entry("json").or_insert_with(|| json!([]));
                        if let Some(l) = list.as_array_mut() {
                            l.push(check);
                        }
                    }
                    None => self.problem(
                        format!("{place}.operator"),
                        format!("`{operator}` on a JSONPath `path` is not supported"),
                        Some("use equals, notEquals, contains, empty, notEmpty, greaterThan or lessThan, or write an `expression`"),
                    ),
                },
                Err(e) => self.problem(format!("{place}.path"), e, Some(XPATH_HINT)),
            }
        }
        for unsupported in ["compareToSourcePath", "validateProfileId"] {
            if a.get(unsupported).is_some() {
                self.problem(
                    format!("{place}.{unsupported}"),
                    format!("`{unsupported}` is not supported"),
                    Some("write the check as an `expression` (FHIRPath), with compareToSourceExpression to compare with another fixture or response"),
                );
            }
        }
        self.status_assert(place, a, operator, expect);
        if let Some(r) = a.get("resource").and_then(Value::as_str) {
            expect.insert("resource_type".into(), json!(r));
        }
        if let Some(ct) = a.get("contentType").and_then(Value::as_str) {
            // `json` and `xml` are found in every JSON or XML media type.
            expect.insert("headers".into(), json!({"Content-Type": {"contains": ct}}));
        }
        if let Some(h) = a.get("headerField").and_then(Value::as_str) {
            match header_check(operator, a.get("value").and_then(Value::as_str)) {
                Some(check) => {
                    let headers = expect.entry("headers").or_insert_with(|| json!({}));
                    headers[h] = check;
                }
                None => self.problem(format!("{place}.operator"), format!("`{operator}` can not compare a header"), Some("use equals, notEquals, contains, notContains, in, notIn, empty or notEmpty")),
            }
        }
        if let Some(min) = a.get("minimumId").and_then(Value::as_str) {
            match self.fixtures.get(min).and_then(|f| f.resource.clone()) {
                Some(r) => {
                    expect.insert("minimum".into(), r);
                }
                None => self.problem(
                    format!("{place}.minimumId"),
                    format!("`{min}` names no fixture"),
                    None,
                ),
            }
        }
        if a.get("navigationLinks").and_then(Value::as_bool) == Some(true) {
            expect.insert("fhirpath".into(), json!([{"expression": "link.where(relation = 'first').exists() and link.where(relation = 'last').exists()", "label": "navigation links"}]));
        }
        if path.is_none() || a.get("expression").is_some() {
            self.expression_assert(place, a, operator, label, last, expect);
        }
    }

    fn status_assert(
        &mut self,
        place: &str,
        a: &Value,
        operator: &str,
        expect: &mut Map<String, Value>,
    ) {
        let code = match (
            a.get("response").and_then(Value::as_str),
            a.get("responseCode").and_then(Value::as_str),
        ) {
            (Some(r), _) => match response_code(r) {
                Some(c) => c.to_string(),
                None => {
                    self.problem(
                        format!("{place}.response"),
                        format!("`{r}` is not a TestScript response code"),
                        None,
                    );
                    return;
                }
            },
            (None, Some(c)) => c.to_string(),
            (None, None) => return,
        };
        let codes: Vec<u16> = code
            .split(',')
            .filter_map(|c| c.trim().parse().ok())
            .collect();
        match (operator, codes.as_slice()) {
            ("equals", [one]) => {
                expect.insert("status".into(), json!(one));
            }
            ("in" | "equals", many) if !many.is_empty() => {
                expect.insert("status".into(), json!(many));
            }
            _ => self.problem(
                format!("{place}.operator"),
                format!("a response code compared with `{operator}` is not supported"),
                Some("compare response codes with equals or in"),
            ),
        }
    }

    /// An `expression` assert, compared with `value` or with another source's expression.
    fn expression_assert(
        &mut self,
        place: &str,
        a: &Value,
        operator: &str,
        label: Option<&str>,
        last: usize,
        expect: &mut Map<String, Value>,
    ) {
        let compare_expr = a.get("compareToSourceExpression").and_then(Value::as_str);
        let Some(expr) = a.get("expression").and_then(Value::as_str).or(compare_expr) else {
            if matches!(operator, "empty" | "notEmpty") && a.get("headerField").is_none() {
                self.problem(
                    place,
                    "`empty` / `notEmpty` needs an expression or a headerField",
                    None,
                );
            }
            return;
        };
        let expr = dollar_to_constant(expr);
        if let Err(e) = crate::fhirpath::Expr::parse(&expr) {
            let field = if a.get("expression").is_some() {
                "expression"
            } else {
                "compareToSourceExpression"
            };
            self.problem(
                format!("{place}.{field}"),
                format!(
                    "FHIRPath problem at character {}: {}",
                    e.offset + 1,
                    e.message
                ),
                None,
            );
            return;
        }
        let value = match (
            a.get("compareToSourceId").and_then(Value::as_str),
            compare_expr,
        ) {
            (Some(src), Some(cexpr)) => self.compare_value(place, src, cexpr, last),
            (Some(_), None) => {
                self.problem(
                    format!("{place}.compareToSourceId"),
                    "compareToSourceId needs compareToSourceExpression",
                    None,
                );
                return;
            }
            _ => a.get("value").and_then(Value::as_str).map(dollar_to_braces),
        };
        let mut check = json!({"expression": expr});
        if let Some(l) = label {
            check["label"] = json!(l);
        }
        let list = |v: &Option<String>| {
            json!(v
                .as_deref()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .collect::<Vec<_>>())
        };
        let key = match operator {
            "equals" if value.is_some() => Some(("equals", json!(value))),
            "equals" | "eval" => None,
            "notEquals" => Some(("not_equals", json!(value))),
            "in" => Some(("in", list(&value))),
            "notIn" => Some(("not_in", list(&value))),
            "greaterThan" => Some(("greater_than", json!(value))),
            "lessThan" => Some(("less_than", json!(value))),
            "empty" => Some(("empty", json!(true))),
            "notEmpty" => Some(("empty", json!(false))),
            "contains" => Some(("contains", json!(value))),
            "notContains" => Some(("not_contains", json!(value))),
            other => {
                self.problem(
                    format!("{place}.operator"),
                    format!("`{other}` is not a TestScript operator"),
                    None,
                );
                return;
            }
        };
        if let Some((k, v)) = key {
            if v.is_null() {
                self.problem(
                    format!("{place}.value"),
                    format!("`{operator}` needs a `value` to compare with"),
                    None,
                );
                return;
            }
            check[k] = v;
        }
        let list = expect.entry("fhirpath").or_insert_with(|| json!([]));
        if let Some(l) = list.as_array_mut() {
            l.push(check);
        }
    }

    /// The value to compare with: the source expression on a fixture now, or a capture of
    /// the operation that got the source response.
    fn compare_value(&mut self, place: &str, src: &str, expr: &str, last: usize) -> Option<String> {
        if let Some(resource) = self.fixtures.get(src).and_then(|f| f.resource.clone()) {
            return match eval_text(expr, &resource) {
                Ok(t) => Some(t),
                Err(e) => {
                    self.problem(format!("{place}.compareToSourceExpression"), e, None);
                    None
                }
            };
        }
        let Some(owner) = self.responses.get(src).copied() else {
            self.problem(
                format!("{place}.compareToSourceId"),
                format!("`{src}` names no fixture and no earlier responseId"),
                None,
            );
            return None;
        };
        let _ = last;
        self.counter += 1;
        let name = format!("compare_{}", self.counter);
        let caps = self.ops[owner]
            .item
            .entry("capture")
            .or_insert_with(|| json!({}));
        caps[&name] = json!({"fhirpath": dollar_to_constant(expr)});
        Some(format!("{{{{{name}}}}}"))
    }

    /// Adds a capture to the operation at `owner`.
    fn capture_on(&mut self, owner: usize, name: &str, capture: Value) {
        let caps = self.ops[owner]
            .item
            .entry("capture")
            .or_insert_with(|| json!({}));
        if caps.get(name).is_none() {
            caps[name] = capture;
        }
    }

    /// The variable holding the version of a target (a created fixture or a response).
    fn version_of(&mut self, target: &str) -> String {
        let (owner, name) = match self.created.get(target) {
            Some(i) => (Some(*i), format!("fixture_{target}_version")),
            None => (
                self.responses.get(target).copied(),
                format!("response_{target}_version"),
            ),
        };
        if let Some(i) = owner {
            self.capture_on(i, &name, json!({"json": "$.meta.versionId"}));
        }
        name
    }

    fn unknown_fields(&mut self, place: &str, v: &Value, known: &[&str]) {
        let Some(o) = v.as_object() else { return };
        for k in o.keys() {
            if !known.contains(&k.as_str()) {
                self.problem(
                    format!("{place}.{k}"),
                    format!("`{k}` is not supported here"),
                    None,
                );
            }
        }
    }

    /// The collection, with the built-in profiles and variables.
    fn collection(&self, base: &Value) -> Value {
        let mut folders: IndexMap<String, Vec<Value>> = IndexMap::new();
        for op in &self.ops {
            let item = op.item.clone();
            folders
                .entry(op.folder.clone())
                .or_default()
                .push(Value::Object(item));
        }
        let requests: Vec<Value> = folders
            .into_iter()
            .map(|(name, requests)| json!({"name": name, "requests": requests}))
            .collect();
        let mut variables = base.get("variables").cloned().unwrap_or_else(|| json!({}));
        for (k, v) in &self.values {
            variables[k] = json!(v);
        }
        let name = ["title", "name", "id"]
            .iter()
            .find_map(|k| self.ts.get(*k).and_then(Value::as_str))
            .unwrap_or("TestScript");
        let mut out = json!({
            "name": name,
            "base_url": base.get("base_url").cloned().unwrap_or(json!("{{fhir_url}}")),
            "variables": variables,
            "auth": base.get("auth").cloned().unwrap_or(json!({})),
            "requests": requests,
        });
        for k in ["default_auth", "fhir_version"] {
            if let Some(v) = base.get(k) {
                out[k] = v.clone();
            }
        }
        if let Some(d) = self.ts.get("description").and_then(Value::as_str) {
            out["description"] = json!(d);
        }
        out
    }
}

const XPATH_HINT: &str = "write it as an `expression` (FHIRPath), e.g. `Patient.name.family`; a JSONPath starting with `$` works too";

/// A `path` fhircheck can read: a JSONPath (RFC 9535). XPath is refused, with why.
fn json_path(p: &str) -> Result<(), String> {
    if !p.trim_start().starts_with('$') {
        return Err(format!("`{p}` is an XPath; fhircheck reads JSON, and a `path` only as a JSONPath (`$.name[0].family`)"));
    }
    serde_json_path::JsonPath::parse(p)
        .map(|_| ())
        .map_err(|e| format!("`{p}` is not a valid JSONPath: {e}"))
}

/// The first value a JSONPath selects in a fixture, as text.
fn json_path_text(p: &str, resource: &Value) -> Option<String> {
    let path = serde_json_path::JsonPath::parse(p).ok()?;
    let nodes = path.query(resource).all();
    nodes.first().map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// `$.a.b[0].c` as `a.b[0].c`; `None` for a JSONPath with filters, wildcards or quotes.
fn simple_path_as_fhirpath(p: &str) -> Option<String> {
    let re = regex::Regex::new(r"^\$((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+)$").ok()?;
    let body = re.captures(p.trim())?.get(1)?.as_str();
    Some(body.trim_start_matches('.').to_string())
}

/// A `path` assert as a native JSONPath check.
fn json_assert(p: &str, operator: &str, value: Option<&str>) -> Option<Value> {
    let v = value.map(dollar_to_braces);
    let number = || v.as_deref().and_then(|x| x.trim().parse::<f64>().ok());
    Some(match operator {
        "equals" if v.is_some() => json!({"path": p, "equals": v?}),
        "equals" | "notEmpty" => json!({"path": p, "exists": true}),
        "notEquals" => json!({"path": p, "not_equals": v?}),
        "contains" => json!({"path": p, "contains": v?}),
        "empty" => json!({"path": p, "exists": false}),
        "greaterThan" => json!({"path": p, "greater_than": number()?}),
        "lessThan" => json!({"path": p, "less_than": number()?}),
        _ => return None,
    })
}

/// Adds one assert's expectations to an operation's.
fn merge_expect(target: &mut Map<String, Value>, add: Map<String, Value>) {
    for (k, v) in add {
        match (target.get_mut(&k), v) {
            (Some(Value::Array(have)), Value::Array(more)) => have.extend(more),
            (Some(Value::Object(have)), Value::Object(more)) if k == "headers" => have.extend(more),
            (_, v) => {
                target.insert(k, v);
            }
        }
    }
}

/// TestScript's response codes.
fn response_code(r: &str) -> Option<u16> {
    Some(match r {
        "continue" => 100,
        "switchingProtocols" => 101,
        "okay" => 200,
        "created" => 201,
        "accepted" => 202,
        "nonAuthoritativeInformation" => 203,
        "noContent" => 204,
        "resetContent" => 205,
        "partialContent" => 206,
        "multipleChoices" => 300,
        "movedPermanently" => 301,
        "found" => 302,
        "seeOther" => 303,
        "notModified" => 304,
        "useProxy" => 305,
        "temporaryRedirect" => 307,
        "permanentRedirect" => 308,
        "badRequest" | "bad" => 400,
        "unauthorized" => 401,
        "paymentRequired" => 402,
        "forbidden" => 403,
        "notFound" => 404,
        "methodNotAllowed" => 405,
        "notAcceptable" => 406,
        "proxyAuthenticationRequired" => 407,
        "requestTimeout" => 408,
        "conflict" => 409,
        "gone" => 410,
        "lengthRequired" => 411,
        "preconditionFailed" => 412,
        "contentTooLarge" | "payloadTooLarge" => 413,
        "uriTooLong" => 414,
        "unsupportedMediaType" => 415,
        "rangeNotSatisfiable" => 416,
        "expectationFailed" => 417,
        "misdirectedRequest" => 421,
        "unprocessableContent" | "unprocessable" => 422,
        "upgradeRequired" => 426,
        "internalServerError" => 500,
        "notImplemented" => 501,
        "badGateway" => 502,
        "serviceUnavailable" => 503,
        "gatewayTimeout" => 504,
        "httpVersionNotSupported" => 505,
        _ => return None,
    })
}

/// A header assert as a native header check.
fn header_check(operator: &str, value: Option<&str>) -> Option<Value> {
    let v = value.map(dollar_to_braces);
    let list = || {
        json!(v
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .collect::<Vec<_>>())
    };
    Some(match operator {
        "equals" => json!({"equals": v?}),
        "notEquals" => json!({"not_equals": v?}),
        "contains" => json!({"contains": v?}),
        "notContains" => json!({"not_contains": v?}),
        "in" => json!({"in": list()}),
        "notIn" => json!({"not_in": list()}),
        "empty" => json!({"exists": false}),
        "notEmpty" => json!({"exists": true}),
        _ => return None,
    })
}

fn array<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn fixture_id(id: &str) -> String {
    format!("fixture_{id}_id")
}

/// The id a server gave a created resource: the last path segment before `_history` in
/// `Location`.
fn location_capture() -> Value {
    json!({"header": "Location", "regex": "/([^/?#]+)(?:/_history/[^/?#]+)?/?$"})
}

/// A contained resource as a fixture: its local id is the TestScript's, not the server's.
fn strip_contained_id(r: &Value) -> Value {
    let mut r = r.clone();
    if let Some(o) = r.as_object_mut() {
        o.shift_remove("id");
    }
    r
}

/// TestScript's `json`/`xml` shorthands as MIME types.
fn mime_type(v: &str) -> String {
    match v {
        "json" => "application/fhir+json".into(),
        "xml" => "application/fhir+xml".into(),
        other => other.to_string(),
    }
}

/// `${name}` as `{{name}}`.
pub fn dollar_to_braces(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        let Some(end) = rest[i..].find('}') else {
            break;
        };
        out.push_str(&rest[..i]);
        out.push_str(&format!("{{{{{}}}}}", &rest[i + 2..i + end]));
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    out
}

/// `${name}` (quoted or not) as the FHIRPath constant `%name`.
fn dollar_to_constant(s: &str) -> String {
    let re = regex::Regex::new(r"'?\$\{([A-Za-z_][A-Za-z0-9_]*)\}'?").expect("a valid pattern");
    re.replace_all(s, "%$1").into_owned()
}

/// Every string of a JSON value with `${name}` as `{{name}}`.
fn templated(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(dollar_to_braces(s)),
        Value::Array(a) => Value::Array(a.iter().map(templated).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, x)| (k.clone(), templated(x))).collect())
        }
        other => other.clone(),
    }
}

/// The first item of an expression on a static resource, as text.
fn eval_text(expr: &str, resource: &Value) -> Result<String, String> {
    let e = crate::fhirpath::Expr::parse(expr).map_err(|e| e.message)?;
    let found = e.eval(resource, &HashMap::new())?;
    found
        .first()
        .map(crate::fhirpath::Found::text)
        .ok_or_else(|| format!("`{expr}` gives nothing on the fixture"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert_ok(ts: Value) -> Value {
        let read = |_: &str| -> Result<String, String> { Err("no files here".into()) };
        convert(&ts, &json!({"base_url": "{{fhir_url}}", "auth": {}}), &read).unwrap()
    }

    fn ops(c: &Value) -> Vec<Value> {
        c["requests"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["requests"].as_array().unwrap().clone())
            .collect()
    }

    #[test]
    fn templates_and_constants() {
        assert_eq!(
            dollar_to_braces("Patient?name=${n}&x=${y}"),
            "Patient?name={{n}}&x={{y}}"
        );
        assert_eq!(dollar_to_braces("no ${ end"), "no ${ end");
        assert_eq!(
            dollar_to_constant("id = '${pid}' and x = ${n}"),
            "id = %pid and x = %n"
        );
        assert_eq!(response_code("okay"), Some(200));
        assert_eq!(response_code("preconditionFailed"), Some(412));
        assert_eq!(response_code("nope"), None);
        assert_eq!(
            header_check("in", Some("a, b")),
            Some(json!({"in": ["a", "b"]}))
        );
        assert_eq!(header_check("greaterThan", Some("1")), None);
    }

    #[test]
    fn operation_types_become_urls_and_methods() {
        let c = convert_ok(json!({
            "resourceType": "TestScript",
            "contained": [{"resourceType": "Patient", "id": "p", "name": [{"family": "F"}]},
                          {"resourceType": "Bundle", "id": "b", "type": "batch"}],
            "fixture": [{"id": "p", "autocreate": true, "autodelete": true, "resource": {"reference": "#p"}},
                        {"id": "b", "resource": {"reference": "#b"}}],
            "test": [{"name": "t", "action": [
                {"operation": {"type": {"code": "read"}, "resource": "Patient", "targetId": "p", "responseId": "r"}},
                {"operation": {"type": {"code": "vread"}, "resource": "Patient", "targetId": "p"}},
                {"operation": {"type": {"code": "search"}, "resource": "Patient", "params": "?name=F"}},
                {"operation": {"type": {"code": "history"}, "resource": "Patient"}},
                {"operation": {"type": {"code": "update"}, "resource": "Patient", "targetId": "r", "sourceId": "r"}},
                {"operation": {"type": {"code": "capabilities"}}},
                {"operation": {"type": {"code": "batch"}, "sourceId": "b"}},
                {"operation": {"type": {"code": "deleteCondSingle"}, "resource": "Patient", "params": "?name=F"}},
                {"operation": {"method": "post", "url": "Patient/$validate"}}
            ]}]
        }));
        let got: Vec<(String, String)> = ops(&c)
            .iter()
            .map(|o| {
                (
                    o["method"].as_str().unwrap().into(),
                    o["url"].as_str().unwrap().into(),
                )
            })
            .collect();
        let want = [
            ("POST", "Patient"),
            ("GET", "Patient/{{fixture_p_id}}"),
            (
                "GET",
                "Patient/{{fixture_p_id}}/_history/{{fixture_p_version}}",
            ),
            ("GET", "Patient?name=F"),
            ("GET", "Patient/_history"),
            ("PUT", "{{response_r_type}}/{{response_r_id}}"),
            ("GET", "metadata"),
            ("POST", "{{fhir_url}}"),
            ("DELETE", "Patient?name=F"),
            ("POST", "Patient/$validate"),
            ("DELETE", "Patient/{{fixture_p_id}}"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(m, u)| ((*m).into(), (*u).into()))
            .collect();
        assert_eq!(got, want);
        let all = ops(&c);
        // Captures only where something reads them: the read's id, type and body for the update.
        let read_caps = all[1]["capture"].as_object().unwrap();
        let mut names: Vec<&String> = read_caps.keys().collect();
        names.sort();
        assert_eq!(
            names,
            ["response_r_body", "response_r_id", "response_r_type"]
        );
        assert!(all[0]["capture"].get("fixture_p_version").is_some());
        assert_eq!(all[5]["body"]["text"], "{{response_r_body}}");
        assert_eq!(all.last().unwrap()["cleanup"], true);
    }

    #[test]
    fn asserts_become_expectations_and_warnings() {
        let c = convert_ok(json!({
            "resourceType": "TestScript",
            "variable": [{"name": "v", "defaultValue": "x"}],
            "test": [{"name": "t", "action": [
                {"operation": {"type": {"code": "search"}, "resource": "Patient"}},
                {"assert": {"response": "okay"}},
                {"assert": {"resource": "Bundle"}},
                {"assert": {"headerField": "ETag", "operator": "notEmpty"}},
                {"assert": {"expression": "total", "operator": "greaterThan", "value": "0"}},
                {"assert": {"expression": "entry.resource.id", "operator": "in", "value": "a,${v}"}},
                {"assert": {"expression": "link.exists()", "warningOnly": true}},
                {"assert": {"direction": "request", "requestMethod": "get"}},
                {"assert": {"path": "$.entry[0].resource.meta.versionId", "value": "1"}},
                {"assert": {"path": "$.entry[?@.search]", "operator": "notEmpty"}}
            ]}]
        }));
        let e = &ops(&c)[0]["expect"];
        assert_eq!(e["status"], 200);
        assert_eq!(e["resource_type"], "Bundle");
        assert_eq!(e["headers"]["ETag"], json!({"exists": true}));
        assert_eq!(
            e["fhirpath"][0],
            json!({"expression": "total", "greater_than": "0"})
        );
        assert_eq!(e["fhirpath"][1]["in"], json!(["a", "{{v}}"]));
        assert_eq!(
            e["warn"]["fhirpath"][0],
            json!({"expression": "link.exists()"})
        );
        assert_eq!(e["request_method"], "GET");
        assert_eq!(
            e["fhirpath"][2],
            json!({"expression": "entry[0].resource.meta.versionId", "equals": "1"})
        );
        assert_eq!(
            e["json"][0],
            json!({"path": "$.entry[?@.search]", "exists": true})
        );
        assert_eq!(c["variables"]["v"], "x");
    }

    #[test]
    fn what_can_not_run_is_listed_by_place() {
        let read = |_: &str| -> Result<String, String> { Err("missing".into()) };
        let ts = json!({
            "resourceType": "TestScript",
            "fixture": [{"id": "f", "resource": {"reference": "f.json"}}],
            "test": [{"name": "t", "action": [
                {"assert": {"response": "okay"}},
                {"operation": {"type": {"code": "read"}, "resource": "Patient", "params": "/1", "bogus": 1}},
                {"assert": {"path": "fhir:Patient", "value": "x"}},
                {"assert": {"expression": "name.where(", "value": "x"}},
                {"assert": {"response": "okay", "operator": "greaterThan"}},
                {"assert": {"sourceId": "elsewhere", "response": "okay"}}
            ]}]
        });
        let problems = convert(&ts, &json!({}), &read).unwrap_err();
        let places: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            places,
            [
                "fixture[0].resource.reference",
                "test[0].action[0].assert",
                "test[0].action[1].operation.bogus",
                "test[0].action[2].assert.path",
                "test[0].action[3].assert.expression",
                "test[0].action[4].assert.operator",
                "test[0].action[5].assert.sourceId",
            ]
        );
    }
}

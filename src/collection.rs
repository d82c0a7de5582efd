//! The native collection and environment formats: the serde model (which is also the source of
//! `fhircheck schema`), and loading with positioned errors. Validation into a runnable plan is `plan.rs`.

use std::fmt;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// A collection file, as written by hand.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "fhircheck collection")]
pub struct Collection {
    /// Optional link to this schema, for editors (`fhircheck schema > collection.schema.json`).
    #[serde(rename = "$schema", default)]
    pub schema: Option<String>,
    /// What this collection checks, shown in reports.
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The FHIR base URL; relative request URLs are joined to it. Templates allowed, e.g. `{{fhir_url}}`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Default variable values. The environment file and `--var` override them.
    #[serde(default)]
    pub variables: IndexMap<String, VarDef>,
    /// Named ways to obtain a token; requests name one in `auth`.
    #[serde(default)]
    pub auth: IndexMap<String, AuthProfile>,
    /// The profile requests use when they do not name one. Defaults to the only profile, if
    /// there is exactly one; otherwise requests are anonymous unless they say.
    #[serde(default)]
    pub default_auth: Option<String>,
    /// The FHIR version to ask for (`4.0`, `4.3`, `5.0`; templates allowed): requests without
    /// their own Accept header send `application/fhir+json; fhirVersion=…`. Empty: none asked.
    #[serde(default)]
    pub fhir_version: Option<String>,
    /// Requests and folders, run in order.
    pub requests: Vec<Item>,
}

/// An environment file: variable values for one target (one FHIR service and its client).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "fhircheck environment")]
pub struct Environment {
    #[serde(rename = "$schema", default)]
    pub schema: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub variables: IndexMap<String, VarDef>,
}

/// A variable: a plain value, or an object that can mark it secret.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "a string, number or boolean, or an object such as {\"value\": \"…\", \"secret\": true}"
)]
pub enum VarDef {
    Text(String),
    Number(serde_json::Number),
    Bool(bool),
    Full(VarSpec),
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VarSpec {
    /// The value; may refer to other variables or to `{{$env.NAME}}`.
    pub value: String,
    /// Mask this value as `***` in every output.
    #[serde(default)]
    pub secret: bool,
    #[serde(default)]
    pub description: Option<String>,
}

impl VarDef {
    pub fn text(&self) -> String {
        match self {
            VarDef::Text(s) => s.clone(),
            VarDef::Number(n) => n.to_string(),
            VarDef::Bool(b) => b.to_string(),
            VarDef::Full(spec) => spec.value.clone(),
        }
    }

    pub fn secret(&self) -> bool {
        matches!(self, VarDef::Full(VarSpec { secret: true, .. }))
    }
}

/// The kind of an auth profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    /// Microsoft Entra ID client credentials (v1 `resource` or v2 `scope`).
    Entra,
    /// Any OAuth2 token endpoint, client credentials grant.
    Oauth2,
    /// A token you already have, from a (secret) variable.
    Bearer,
    /// An Azure managed identity: the VM metadata service, or App Service's
    /// `IDENTITY_ENDPOINT`/`IDENTITY_HEADER`.
    #[serde(rename = "managed_identity")]
    ManagedIdentity,
    /// The signed-in Azure CLI: `az account get-access-token --resource …`.
    #[serde(rename = "azure_cli")]
    AzureCli,
    /// SMART Backend Services: `private_key_jwt` with an RS384 or ES384 key.
    Smart,
    /// No `Authorization` header.
    None,
}

impl fmt::Display for AuthKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthKind::Entra => "entra",
            AuthKind::Oauth2 => "oauth2",
            AuthKind::Bearer => "bearer",
            AuthKind::ManagedIdentity => "managed_identity",
            AuthKind::AzureCli => "azure_cli",
            AuthKind::Smart => "smart",
            AuthKind::None => "none",
        })
    }
}

/// How the client secret travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum ClientAuth {
    /// In the form body (`client_secret_post`), the default.
    #[serde(rename = "post", alias = "client_secret_post")]
    Post,
    /// As HTTP Basic (`client_secret_basic`).
    #[serde(rename = "basic", alias = "client_secret_basic")]
    Basic,
}

/// A named way to get a token. Fields take `{{variables}}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthProfile {
    #[serde(rename = "type")]
    pub kind: AuthKind,
    /// entra: directory (tenant) id or domain. Default: `AZURE_TENANT_ID`.
    #[serde(default)]
    pub tenant: Option<String>,
    /// entra, oauth2: the application (client) id. Default for entra: `AZURE_CLIENT_ID`.
    #[serde(default)]
    pub client_id: Option<String>,
    /// entra, oauth2: the client secret's value. Default for entra: `AZURE_CLIENT_SECRET`.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// entra: a PEM file with the certificate (and its private key, unless `private_key` is
    /// given), or a PKCS#12 (.pfx/.p12) file, used instead of a secret. Default:
    /// `AZURE_CLIENT_CERTIFICATE_PATH`.
    #[serde(default)]
    pub certificate: Option<String>,
    /// entra: the password of a PKCS#12 `certificate` (use a secret variable). Default:
    /// `AZURE_CLIENT_CERTIFICATE_PASSWORD`, else none.
    #[serde(default)]
    pub certificate_password: Option<String>,
    /// entra: a PEM file with the certificate's private key, when it is not in `certificate`.
    /// smart: the RS384 (RSA) or ES384 (P-384) private key: a PEM file, a private JWK, or a JWKS
    /// (the key whose `kid` is `key_id`).
    #[serde(default)]
    pub private_key: Option<String>,
    /// entra: the assertion's signing algorithm, `RS256` (default, as the Azure SDKs send) or `PS256`.
    /// smart: `RS384` or `ES384` (default: by the key's type).
    #[serde(default)]
    pub signing_alg: Option<String>,
    /// entra: the certificate thumbprint header, `sha256` (`x5t#S256`, default) or `sha1` (legacy `x5t`).
    #[serde(default)]
    pub x5t: Option<String>,
    /// entra: a file holding an external token to exchange (workload identity federation), read
    /// afresh for every token request. Default: `AZURE_FEDERATED_TOKEN_FILE`; in GitHub Actions
    /// with `permissions: id-token: write`, the job's OIDC token.
    #[serde(default)]
    pub federated_token_file: Option<String>,
    /// entra: with no secret, certificate or federated token, try managed identity and then the
    /// Azure CLI, as the Azure SDKs' `DefaultAzureCredential` does. The built-in smoke collection
    /// sets it.
    #[serde(default)]
    pub default_azure_credential: Option<bool>,
    /// entra: `global`, `usgov`, `china`, or a base URL. Default: `AZURE_AUTHORITY_HOST`, else global.
    #[serde(default)]
    pub authority_host: Option<String>,
    /// entra: `v1` or `v2` (default).
    #[serde(default)]
    pub version: Option<String>,
    /// entra, oauth2: the resource (audience) the token is for. entra default: the collection's `base_url`.
    #[serde(default)]
    pub resource: Option<String>,
    /// entra v2, oauth2: the scope. entra v2 default: `<resource>/.default`.
    #[serde(default)]
    pub scope: Option<String>,
    /// oauth2: the `audience` form parameter some issuers want.
    #[serde(default)]
    pub audience: Option<String>,
    /// oauth2: the token endpoint URL. smart: default from `[base_url]/.well-known/smart-configuration`.
    #[serde(default)]
    pub token_url: Option<String>,
    /// entra, oauth2: `post` (default) or `basic`.
    #[serde(default)]
    pub client_auth: Option<ClientAuth>,
    /// oauth2: more form parameters for the token request.
    #[serde(default)]
    pub extra_params: IndexMap<String, String>,
    /// bearer: the token, usually `{{some_secret_variable}}`.
    #[serde(default)]
    pub token: Option<String>,
    /// smart: the key id (`kid`) the server knows the public key by.
    #[serde(default)]
    pub key_id: Option<String>,
    /// smart: a JWKS URL to put in the assertion header (`jku`).
    #[serde(default)]
    pub jku: Option<String>,
    /// managed_identity: a user-assigned identity by object (principal) id.
    #[serde(default)]
    pub object_id: Option<String>,
    /// managed_identity: a user-assigned identity by Azure resource id.
    #[serde(default)]
    pub msi_res_id: Option<String>,
}

/// A request, or a folder of requests when `requests` is present.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Run only when this template renders to a true value (anything but "", "false", "0",
    /// "no", "off"). For example `{{write_enabled}}`.
    #[serde(default)]
    pub when: Option<String>,
    /// Folder: the requests inside it.
    #[serde(default)]
    pub requests: Option<Vec<Item>>,
    /// HTTP method, default GET.
    #[serde(default)]
    pub method: Option<String>,
    /// Relative to `base_url`, or absolute.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    #[serde(default)]
    pub query: IndexMap<String, String>,
    #[serde(default)]
    pub body: Option<Body>,
    /// An auth profile name, or `none` for an anonymous request.
    #[serde(default)]
    pub auth: Option<String>,
    /// Values to keep for later requests, by variable name.
    #[serde(default)]
    pub capture: IndexMap<String, Capture>,
    #[serde(default)]
    pub expect: Option<Expect>,
    /// Runs even when the run stops early (`--bail`, a token failure), e.g. to delete what an
    /// earlier request created.
    #[serde(default)]
    pub cleanup: bool,
    /// Follow the searchset's `next` links, up to this many pages in all; expectations and
    /// captures then see one Bundle holding the entries of every page.
    #[serde(default)]
    pub follow_next: Option<u32>,
    /// Conditional create: sent as `If-None-Exist` (a search, e.g. `identifier=urn:x|42`), so
    /// the server creates the resource only when nothing matches.
    #[serde(default)]
    pub if_none_exist: Option<String>,
    /// Conditional update: sends `If-Match` with the ETag of the last answer from this URL
    /// (a read before the update), so the update fails with 412 if someone changed it since.
    #[serde(default)]
    pub if_match_last: bool,
    /// `$validate` the body against this profile URL (POST `[type]/$validate?profile=…`):
    /// every error or fatal issue of the OperationOutcome is a failed check, warnings are
    /// warnings.
    #[serde(default)]
    pub validate_profile: Option<String>,
}

/// Exactly one of `json`, `form` or `text`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Body {
    /// A JSON value, sent as `application/fhir+json` unless a Content-Type header says otherwise.
    #[serde(default)]
    pub json: Option<serde_json::Value>,
    /// Form fields, sent as `application/x-www-form-urlencoded`.
    #[serde(default)]
    pub form: Option<IndexMap<String, String>>,
    /// Raw text; give `content_type`.
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
}

/// Exactly one of `json` or `header`; `regex` optionally picks its first group.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Capture {
    /// A JSONPath (RFC 9535) into the response body, e.g. `$.id`.
    #[serde(default)]
    pub json: Option<String>,
    /// A response header name, e.g. `Location`.
    #[serde(default)]
    pub header: Option<String>,
    /// A regular expression; the first group (or the whole match) is kept.
    #[serde(default)]
    pub regex: Option<String>,
    /// A FHIRPath expression on the response's resource, e.g. `Bundle.entry.first().resource.id`;
    /// the first item of its result is kept.
    #[serde(default)]
    pub fhirpath: Option<String>,
    /// Mask the captured value in every output.
    #[serde(default)]
    pub secret: bool,
    /// When the response has no such value, leave the variable unset instead of failing.
    #[serde(default)]
    pub optional: bool,
}

/// What the response must look like.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub status: Option<StatusExpect>,
    /// Header name to a value it must equal, or to a check.
    #[serde(default)]
    pub headers: IndexMap<String, HeaderExpect>,
    /// JSONPath assertions on the body.
    #[serde(default)]
    pub json: Vec<JsonAssert>,
    /// The body is a FHIR resource of this type.
    #[serde(default)]
    pub resource_type: Option<String>,
    /// The body is not an OperationOutcome with an error or fatal issue.
    #[serde(default)]
    pub no_error_outcome: bool,
    /// The body is a Bundle (of `type`, e.g. searchset) with at least `min_entries` entries.
    #[serde(default)]
    pub bundle: Option<BundleExpect>,
    /// The response takes at most this long.
    #[serde(default)]
    pub max_duration_ms: Option<u64>,
    /// FHIRPath checks on the response's resource: an expression that must be true, or whose
    /// result is compared with a value.
    #[serde(default)]
    pub fhirpath: Vec<FhirPathAssert>,
    /// The body holds at least every element of this JSON (a TestScript `minimumId`).
    #[serde(default)]
    pub minimum: Option<serde_json::Value>,
    /// The request was sent with this method.
    #[serde(default)]
    pub request_method: Option<String>,
    /// The request was sent to a URL that contains this text.
    #[serde(default)]
    pub request_url: Option<String>,
    /// Expectations whose failure is a warning, not a failure: the run still passes.
    #[serde(default)]
    pub warn: Option<Box<Expect>>,
}

/// A FHIRPath expression and what its result must be. With no comparison the expression must
/// evaluate to `true`. `%name` in the expression is the variable `name`; compared values may
/// hold `{{templates}}`. Results compare as text (`1` equals `"1"`); `greater_than` and
/// `less_than` compare numbers, dates and times in their order.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FhirPathAssert {
    /// e.g. `Bundle.entry.where(resource.id = %id).exists()`.
    pub expression: String,
    /// What the report calls this check; the expression by default.
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub equals: Option<serde_json::Value>,
    #[serde(default)]
    pub not_equals: Option<serde_json::Value>,
    /// The result is one of these.
    #[serde(default, rename = "in")]
    pub one_of: Option<Vec<serde_json::Value>>,
    /// The result is none of these.
    #[serde(default, rename = "not_in")]
    pub none_of: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    pub greater_than: Option<serde_json::Value>,
    #[serde(default)]
    pub less_than: Option<serde_json::Value>,
    /// `true`: the result is empty; `false`: it is not.
    #[serde(default)]
    pub empty: Option<bool>,
    /// The result (as text) contains this.
    #[serde(default)]
    pub contains: Option<serde_json::Value>,
    #[serde(default)]
    pub not_contains: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "a status code such as 200, a list such as [200, 201], or a class such as \"2xx\""
)]
pub enum StatusExpect {
    Code(u16),
    List(Vec<u16>),
    Class(String),
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "a value the header must equal, or an object with one of equals, contains, matches, exists"
)]
pub enum HeaderExpect {
    Equals(String),
    Check(HeaderCheck),
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeaderCheck {
    #[serde(default)]
    pub equals: Option<String>,
    #[serde(default)]
    pub contains: Option<String>,
    /// A regular expression.
    #[serde(default)]
    pub matches: Option<String>,
    #[serde(default)]
    pub exists: Option<bool>,
    #[serde(default)]
    pub not_equals: Option<String>,
    #[serde(default)]
    pub not_contains: Option<String>,
    /// The value is one of these.
    #[serde(default, rename = "in")]
    pub one_of: Option<Vec<String>>,
    /// The value is none of these.
    #[serde(default, rename = "not_in")]
    pub none_of: Option<Vec<String>>,
}

/// A JSONPath and one or more predicates on what it selects.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonAssert {
    /// RFC 9535 JSONPath, e.g. `$.fhirVersion` or `$.entry[*].resource.id`.
    pub path: String,
    #[serde(default)]
    pub equals: Option<serde_json::Value>,
    #[serde(default)]
    pub not_equals: Option<serde_json::Value>,
    #[serde(default)]
    pub less_than: Option<f64>,
    #[serde(default)]
    pub greater_than: Option<f64>,
    /// A substring of a string value, or an element of an array.
    #[serde(default)]
    pub contains: Option<serde_json::Value>,
    /// A regular expression the (string) value must match.
    #[serde(default)]
    pub matches: Option<String>,
    /// `true`: the path selects something; `false`: it selects nothing.
    #[serde(default)]
    pub exists: Option<bool>,
    /// How many nodes the path selects (the length, when it selects one array).
    #[serde(default)]
    pub count: Option<usize>,
    /// string, number, integer, boolean, array, object or null.
    #[serde(default, rename = "type")]
    pub kind: Option<JsonType>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
    Array,
    Object,
    Null,
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            JsonType::String => "string",
            JsonType::Number => "number",
            JsonType::Integer => "integer",
            JsonType::Boolean => "boolean",
            JsonType::Array => "array",
            JsonType::Object => "object",
            JsonType::Null => "null",
        };
        f.write_str(s)
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleExpect {
    /// searchset, transaction-response, batch-response, history, …
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub min_entries: Option<usize>,
}

// ---------------------------------------------------------------------------------------------
// Loading

/// A collection or environment file that could not be read, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: PathBuf,
    /// 1-based; 0 when the problem has no single position.
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: Option<String>,
    /// The offending source line, for a caret display.
    pub source_line: Option<String>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.column,
                self.message
            )?;
        } else {
            write!(f, "{}: {}", self.path.display(), self.message)?;
        }
        if let Some(src) = &self.source_line {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            let caret_at = self.column.saturating_sub(1).min(src.chars().count());
            let shown: String = src.chars().take(160).collect();
            write!(
                f,
                "\n{pad} |\n{num} | {shown}\n{pad} | {}^",
                " ".repeat(caret_at)
            )?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  = help: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// Which document a file holds, judged from its top-level keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Native,
    Postman,
    PostmanEnvironment,
    /// Postman's format before v2: `requests` beside `order` or `folders`.
    PostmanV1,
}

pub fn sniff(text: &str) -> Format {
    #[derive(Deserialize)]
    struct Probe {
        info: Option<serde_json::Value>,
        item: Option<serde_json::Value>,
        values: Option<serde_json::Value>,
        order: Option<serde_json::Value>,
        folders: Option<serde_json::Value>,
    }
    match serde_json::from_str::<Probe>(text) {
        Ok(Probe { info: Some(_), .. }) | Ok(Probe { item: Some(_), .. }) => Format::Postman,
        Ok(Probe { order: Some(_), .. })
        | Ok(Probe {
            folders: Some(_), ..
        }) => Format::PostmanV1,
        Ok(Probe {
            values: Some(serde_json::Value::Array(_)),
            ..
        }) => Format::PostmanEnvironment,
        _ => Format::Native,
    }
}

/// Reads a collection, environment or data file. A UTF-8 byte-order mark is dropped, and every
/// value the file gives a secret-named key (or marks `"secret": true`, or `"type": "secret"`) is
/// registered with the redactor before anything from the file can be printed, errors included.
pub fn read(path: &Path) -> Result<String, LoadError> {
    let text = read_raw(path)?;
    register_file_secrets(&text);
    Ok(text)
}

/// Registers the values a JSON text gives secret-named keys, whether or not the text parses.
pub fn register_file_secrets(text: &str) {
    static PATTERNS: std::sync::OnceLock<[regex::Regex; 4]> = std::sync::OnceLock::new();
    const STR: &str = r#""((?:[^"\\]|\\.)*)""#;
    let patterns = PATTERNS.get_or_init(|| {
        [
            // "client_secret": "…"
            format!(r#"{STR}\s*:\s*{STR}"#),
            // {"value": "…", "secret": true}
            format!(r#""value"\s*:\s*{STR}\s*,\s*"secret"\s*:\s*true"#),
            // {"secret": true, "value": "…"}
            format!(r#""secret"\s*:\s*true\s*,\s*"value"\s*:\s*{STR}"#),
            // Postman: {"key": "clientSecret", "value": "…"} and {"value": "…", "type": "secret"}
            format!(
                r#""key"\s*:\s*{STR}\s*,\s*"value"\s*:\s*{STR}(\s*,\s*"type"\s*:\s*"secret")?"#
            ),
        ]
        .map(|p| regex::Regex::new(&p).expect("a valid pattern"))
    });
    // A template names where the secret comes from; it is not the secret.
    let add = |s: &str| {
        let value =
            serde_json::from_str::<String>(&format!("\"{s}\"")).unwrap_or_else(|_| s.to_string());
        if !value.contains("{{") {
            crate::secret::redactor().add(&value);
        }
    };
    for c in patterns[0].captures_iter(text) {
        if crate::vars::is_secret_name(&c[1]) {
            add(&c[2]);
        }
    }
    for p in &patterns[1..3] {
        for c in p.captures_iter(text) {
            add(&c[1]);
        }
    }
    for c in patterns[3].captures_iter(text) {
        if crate::vars::is_secret_name(&c[1]) || c.get(3).is_some() {
            add(&c[2]);
        }
    }
}

fn read_raw(path: &Path) -> Result<String, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError {
        path: path.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read the file: {e}"),
        hint: (e.kind() == std::io::ErrorKind::NotFound)
            .then(|| "check the path; it is relative to the current directory".to_string()),
        source_line: None,
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Parses `text` as `T`, turning serde's error into a [`LoadError`] with position and hint.
pub fn parse<T: for<'de> Deserialize<'de>>(path: &Path, text: &str) -> Result<T, LoadError> {
    // Syntax first: a typo near the end must not be reported as a wrong field near the start.
    serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| positioned(path, text, &e))?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    value.map_err(|e| positioned(path, text, &e))
}

fn positioned(path: &Path, text: &str, e: &serde_json::Error) -> LoadError {
    let full = e.to_string();
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full.clone(),
    };
    let (mut line, byte_column) = (e.line(), e.column());
    let source_line = text.lines().nth(line.saturating_sub(1)).map(str::to_string);
    // serde counts bytes; people count characters.
    let mut column = source_line
        .as_deref()
        .map_or(byte_column, |src| char_column(src, byte_column));
    let mut hint = None;
    let mut message = message;
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((field, expected)) = rest.split_once('`') {
            let choices: Vec<&str> = expected
                .split('`')
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, s)| s)
                .collect();
            hint = match did_you_mean(field, &choices) {
                Some(best) => Some(format!("did you mean `{best}`?")),
                None if !choices.is_empty() => Some(format!(
                    "the fields allowed here are {}",
                    choices
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                None => None,
            };
            // Point the caret at the key itself, not just past it.
            if let Some(src) = &source_line {
                let quoted = format!("\"{field}\"");
                if let Some(i) = src.find(&quoted) {
                    column = src[..i].chars().count() + 1;
                }
            }
            message = format!("unknown field `{field}`");
        }
    } else if e.is_syntax() || e.is_eof() {
        hint = Some("the file is not valid JSON here: look for a missing comma, quote or bracket just before this point".to_string());
        if e.is_eof() {
            line = text.lines().count().max(1);
            column = text.lines().last().map_or(1, |l| l.chars().count() + 1);
        }
    } else if message.starts_with("missing field") {
        hint = Some("add the field to the object that ends here".to_string());
    }
    let source_line = text.lines().nth(line.saturating_sub(1)).map(str::to_string);
    LoadError {
        path: path.to_path_buf(),
        line,
        column,
        message,
        hint,
        source_line,
    }
}

/// The 1-based character column of the 1-based byte column `byte_column` in `line`.
fn char_column(line: &str, byte_column: usize) -> usize {
    let mut at = byte_column.saturating_sub(1).min(line.len());
    while !line.is_char_boundary(at) {
        at -= 1;
    }
    line[..at].chars().count() + 1
}

pub use crate::text::closest as did_you_mean;

/// Loads a native collection file.
pub fn load_collection(path: &Path) -> Result<Collection, LoadError> {
    let text = read(path)?;
    load_collection_str(path, &text)
}

pub fn load_collection_str(path: &Path, text: &str) -> Result<Collection, LoadError> {
    match sniff(text) {
        Format::Postman => {
            return Err(LoadError {
                path: path.to_path_buf(),
                line: 0,
                column: 0,
                message: "this is a Postman collection, which this version of fhircheck does not run yet".into(),
                hint: Some("write the requests in fhircheck's format (`fhircheck schema` describes it; collections/azure-fhir-smoke.json is an example)".into()),
                source_line: None,
            })
        }
        Format::PostmanEnvironment => {
            return Err(LoadError {
                path: path.to_path_buf(),
                line: 0,
                column: 0,
                message: "this looks like a Postman environment, not a collection".into(),
                hint: Some("pass environments with -e; collections come as the positional argument".into()),
                source_line: None,
            })
        }
        Format::PostmanV1 => {
            return Err(LoadError {
                path: path.to_path_buf(),
                line: 0,
                column: 0,
                message: "this is a Postman Collection v1 file, a format Postman itself no longer runs".into(),
                hint: Some("open it in Postman and export it again as Collection v2.1 (… > Export > Collection v2.1)".into()),
                source_line: None,
            })
        }
        Format::Native => {}
    }
    parse(path, text)
}

/// Loads an environment file.
pub fn load_environment(path: &Path) -> Result<Environment, LoadError> {
    let text = read(path)?;
    parse(path, &text)
}

/// The JSON Schema of the collection format.
pub fn collection_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Collection);
    serde_json::to_value(schema).unwrap_or_default()
}

/// The JSON Schema of the environment format.
pub fn environment_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Environment);
    serde_json::to_value(schema).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Collection, LoadError> {
        load_collection_str(Path::new("c.json"), text)
    }

    #[test]
    fn typo_names_position_and_suggestion() {
        let text = "{\n  \"name\": \"x\",\n  \"requests\": [\n    {\"name\": \"a\", \"url\": \"metadata\",\n     \"expect\": {\"stauts\": 200}}\n  ]\n}\n";
        let e = load(text).unwrap_err();
        assert_eq!((e.line, e.column), (5, 17));
        assert_eq!(e.message, "unknown field `stauts`");
        assert_eq!(e.hint.as_deref(), Some("did you mean `status`?"));
        let shown = e.to_string();
        assert!(
            shown.starts_with("c.json:5:17: unknown field `stauts`"),
            "{shown}"
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = load("{\n \"name\": \"x\"\n \"requests\": []\n}").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.hint.unwrap().contains("missing comma"));
    }

    #[test]
    fn did_you_mean_only_for_near_misses() {
        assert_eq!(
            did_you_mean("stauts", &["status", "headers"]),
            Some("status")
        );
        assert_eq!(did_you_mean("zzzzzz", &["status", "headers"]), None);
    }

    #[test]
    fn postman_files_are_recognised() {
        let e = load(r#"{"info":{"name":"x","schema":"https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},"item":[]}"#).unwrap_err();
        assert!(e.message.contains("Postman collection"));
    }
}

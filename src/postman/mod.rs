//! Postman collections: the model, the script engine, the runner and the importer.

mod auth;
pub mod csv;
pub use auth::{unsupported as unsupported_auth, SUPPORTED as SUPPORTED_AUTH};
pub mod environment;
pub mod model;
pub mod runner;
pub mod script;

/// An environment as Postman writes one, secret values masked: an exported file is an
/// artifact, and artifacts are where secrets leak.
pub fn export_environment(env: &serde_json::Map<String, serde_json::Value>) -> String {
    export_scope(env, "environment", false)
}

/// A variable's value as an export writes it: `***` for a secret unless `reveal`, other values
/// as they are (typed) with any secret inside them masked.
fn exported_value(
    key: &str,
    v: &serde_json::Value,
    secret: bool,
    reveal: bool,
) -> serde_json::Value {
    if reveal {
        return v.clone();
    }
    if secret || crate::vars::is_secret_name(key) {
        return serde_json::Value::String(crate::secret::MASK.to_string());
    }
    match v {
        serde_json::Value::String(s) => {
            serde_json::Value::String(crate::secret::redact(s).into_owned())
        }
        other => other.clone(),
    }
}

/// Variables as a Postman environment or globals file (`scope`: `environment` or `globals`);
/// secret values as `***` unless `reveal` (`--export-secrets`).
pub fn export_scope(
    env: &serde_json::Map<String, serde_json::Value>,
    scope: &str,
    reveal: bool,
) -> String {
    let values: Vec<serde_json::Value> = env
        .iter()
        .map(|(k, v)| {
            let secret = crate::vars::is_secret_name(k);
            serde_json::json!({
                "key": k,
                "value": exported_value(k, &serde_json::Value::String(model::text(v)), secret, reveal),
                "type": if secret { "secret" } else { "default" },
                "enabled": true,
            })
        })
        .collect();
    let doc = serde_json::json!({"name": "exported by fhircheck", "values": values, "_postman_variable_scope": scope});
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// The collection as it was read (Newman's `--export-collection`, which writes the collection
/// it loaded: what scripts set with `pm.collectionVariables` is not written back, in Newman 6
/// as here), secret variable values as `***` unless `reveal`.
pub fn export_collection(source: &str, reveal: bool) -> Result<String, String> {
    use serde_json::Value;
    let mut doc: Value = serde_json::from_str(source.trim_start_matches('\u{feff}'))
        .map_err(|e| format!("the collection no longer reads as JSON: {e}"))?;
    if let Some(Value::Array(vars)) = doc.get_mut("variable") {
        for entry in vars.iter_mut() {
            let key = entry
                .get("key")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let secret = entry.get("type").and_then(Value::as_str) == Some("secret");
            if let Some(v) = entry.get("value").cloned() {
                entry["value"] = exported_value(&key, &v, secret, reveal);
            }
        }
    }
    Ok(serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n")
}

pub mod import;

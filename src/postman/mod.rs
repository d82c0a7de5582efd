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
    export_scope(env, "environment")
}

/// Variables as a Postman environment or globals file (`scope`: `environment` or `globals`).
pub fn export_scope(env: &serde_json::Map<String, serde_json::Value>, scope: &str) -> String {
    let values: Vec<serde_json::Value> = env
        .iter()
        .map(|(k, v)| {
            let text = model::text(v);
            let secret = crate::vars::is_secret_name(k);
            serde_json::json!({
                "key": k,
                "value": if secret { crate::secret::MASK.to_string() } else { crate::secret::redact(&text).into_owned() },
                "type": if secret { "secret" } else { "default" },
                "enabled": true,
            })
        })
        .collect();
    let doc = serde_json::json!({"name": "exported by fhircheck", "values": values, "_postman_variable_scope": scope});
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
pub mod import;

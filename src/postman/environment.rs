//! Postman environment files, read into fhircheck's environment model.

use std::path::Path;

use serde::Deserialize;

use crate::collection::{parse, Environment, LoadError, VarDef, VarSpec};

/// A Postman environment (`{name, values:[{key, value, type, enabled}]}`): its enabled values
/// become variables, `type: secret` ones secret.
pub fn parse_environment(path: &Path, text: &str) -> Result<Environment, LoadError> {
    #[derive(Deserialize)]
    struct PmEnv {
        name: Option<String>,
        values: Vec<PmValue>,
    }
    #[derive(Deserialize)]
    struct PmValue {
        key: String,
        #[serde(default)]
        value: serde_json::Value,
        #[serde(default, rename = "type")]
        kind: Option<String>,
        #[serde(default = "yes")]
        enabled: bool,
    }
    fn yes() -> bool {
        true
    }
    let env: PmEnv = parse(path, text)?;
    let variables = env
        .values
        .into_iter()
        .filter(|v| v.enabled)
        .map(|v| {
            let value = match v.value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            let secret = v.kind.as_deref() == Some("secret");
            (
                v.key,
                VarDef::Full(VarSpec {
                    value,
                    secret,
                    description: None,
                }),
            )
        })
        .collect();
    Ok(Environment {
        schema: None,
        name: env.name,
        description: None,
        variables,
    })
}

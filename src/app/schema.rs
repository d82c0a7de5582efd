//! `fhircheck schema`: the JSON Schemas of the collection, environment and report formats.

use super::{out, Outcome};
use crate::cli::{SchemaArgs, SchemaKind};
use crate::exit::ExitCode;

pub(super) fn schema(a: SchemaArgs) -> Outcome {
    let v = match a.kind {
        SchemaKind::Collection => crate::collection::collection_schema(),
        SchemaKind::Environment => crate::collection::environment_schema(),
        SchemaKind::Report => crate::reporters::json::schema(),
    };
    out(&format!(
        "{}\n",
        serde_json::to_string_pretty(&v).unwrap_or_default()
    ));
    Ok(ExitCode::Success)
}

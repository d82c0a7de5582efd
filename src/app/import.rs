//! `fhircheck import postman`: a Postman collection converted to the native format.

use std::path::PathBuf;

use super::{out, setup, CliError, Outcome};
use crate::cli::{ImportPostmanArgs, ImportTestscriptArgs};
use crate::collection;
use crate::exit::ExitCode;
use crate::secret::redact_for;

pub(super) fn import_postman(a: ImportPostmanArgs) -> Outcome {
    let usage = |e: String| CliError::Usage(e);
    let text = collection::read(&a.collection).map_err(|e| usage(e.to_string()))?;
    if collection::sniff(&text) != collection::Format::Postman {
        return Err(usage(format!(
            "{}: this is not a Postman collection (no `info` and `item`)",
            a.collection.display()
        )));
    }
    let c: crate::postman::model::Collection =
        collection::parse(&a.collection, &text).map_err(|e| usage(e.to_string()))?;
    let env = setup::load_env_file(a.env.as_deref())?;
    let converted = crate::postman::import::convert(&c, env.as_ref());
    let json = serde_json::to_string_pretty(&converted.collection).unwrap_or_default() + "\n";
    // The result must be a valid collection; anything else is a bug in the importer.
    let shown = a
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("(output)"));
    collection::load_collection_str(&shown, &json)
        .map_err(|e| e.to_string())
        .and_then(|c| {
            crate::plan::plan(c).map_err(|p| setup::problems_text(&shown, &p))
        })
        .map_err(|e| {
            CliError::Runtime(format!("the converted collection does not validate; this is a bug in fhircheck's importer:\n{e}"))
        })?;
    match &a.output {
        Some(p) => {
            crate::reporters::write_atomic(p, &json)
                .map_err(|e| usage(format!("cannot write {}: {e}", p.display())))?;
            let mut msg = format!(
                "converted {} requests from {} to {}\n",
                converted.requests,
                a.collection.display(),
                p.display()
            );
            if !converted.notes.is_empty() {
                msg.push_str(&format!(
                    "{} things were not translated or changed shape:\n",
                    converted.notes.len()
                ));
                for n in &converted.notes {
                    msg.push_str(&format!("  {}: {}\n", n.item, n.text));
                }
            }
            eprint!("{}", redact_for("errors", &msg));
        }
        None => {
            out(&json);
            for n in &converted.notes {
                eprintln!("note: {}: {}", n.item, redact_for("errors", &n.text));
            }
        }
    }
    Ok(ExitCode::Success)
}

/// `fhircheck import testscript`: the native collection `run` would make of a TestScript.
pub(super) fn import_testscript(a: ImportTestscriptArgs) -> Outcome {
    let usage = |e: String| CliError::Usage(e);
    let text = collection::read(&a.testscript).map_err(|e| usage(e.to_string()))?;
    if !crate::testscript::is_testscript(&text) {
        return Err(usage(format!(
            "{}: this is not a TestScript (its resourceType is not \"TestScript\")",
            a.testscript.display()
        )));
    }
    let json = setup::testscript_collection(&a.testscript, &text)?;
    match &a.output {
        Some(p) => {
            crate::reporters::write_atomic(p, &json)
                .map_err(|e| usage(format!("cannot write {}: {e}", p.display())))?;
            eprint!(
                "{}",
                redact_for(
                    "errors",
                    &format!("converted {} to {}\n", a.testscript.display(), p.display())
                )
            );
        }
        None => out(&json),
    }
    Ok(ExitCode::Success)
}

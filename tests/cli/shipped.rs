//! Everything in collections/ loads and validates; the schemas there are current.

use crate::{fhircheck, root, snap};

#[test]
fn every_shipped_file_is_valid() {
    let mut seen = 0;
    for entry in std::fs::read_dir(root().join("collections")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".schema.json") {
            continue;
        }
        if name.contains(".env.") {
            fhircheck::collection::load_environment(&path).unwrap_or_else(|e| panic!("{e}"));
        } else {
            let c = fhircheck::collection::load_collection(&path).unwrap_or_else(|e| panic!("{e}"));
            fhircheck::plan::plan(c).unwrap_or_else(|p| panic!("{name}: {p:?}"));
        }
        seen += 1;
    }
    assert!(seen >= 2);
}

#[test]
fn shipped_schemas_match_the_code() {
    for (kind, file) in [
        ("collection", "collection.schema.json"),
        ("environment", "environment.schema.json"),
    ] {
        let ran = fhircheck(&["schema", kind]);
        assert_eq!(ran.code, 0);
        let shipped = std::fs::read_to_string(root().join("collections").join(file)).unwrap();
        assert_eq!(
            ran.stdout, shipped,
            "collections/{file} is stale: run `cargo run -- schema {kind} > collections/{file}`"
        );
    }
    let ran = fhircheck(&["schema"]);
    let v: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(v["title"], "fhircheck collection");
    assert_eq!(v["additionalProperties"], false);
    snap!(
        "schema_collection_top_level",
        serde_json::to_string_pretty(
            &v["properties"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>()
        )
        .unwrap()
    );
}

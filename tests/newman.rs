//! Postman collections under Newman and under fhircheck, side by side (`cargo test --test newman`).
//!
//! Every collection in `fixtures/postman/` runs under Newman 6.2.2 (installed by `.ci/run` in
//! `tests/newman/` from its lock file) and under fhircheck, each against a fresh sandbox of the
//! same scenario, with the same environment, data and iteration count. The runs are compared
//! request by request: name, method, path and query, status, each test's name and verdict; and
//! the variables each run exports. Every difference must be listed, with its reason, in
//! `fixtures/postman/newman-differences.json`, and every listed difference must still happen.
//! The agreement figure is written to `target/test-artifacts/newman-agreement.txt`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

mod common;

use common::{fixture, root, Target};

/// One collection and how it is run (the same arguments for both tools).
struct Case {
    file: &'static str,
    scenario: &'static str,
    args: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        file: "azure-sample-legacy.postman_collection.json",
        scenario: "healthy",
        args: &[],
    },
    Case {
        file: "azure-sample-legacy.postman_collection.json",
        scenario: "no-role",
        args: &[],
    },
    Case {
        file: "pm-scripts.postman_collection.json",
        scenario: "healthy",
        args: &["-d", "fixtures/postman/families.csv"],
    },
    Case {
        file: "v20-basic.postman_collection.json",
        scenario: "healthy",
        args: &[],
    },
    Case {
        file: "broken-scripts.postman_collection.json",
        scenario: "healthy",
        args: &["--timeout-script", "500"],
    },
    Case {
        file: "request-oauth2-token.postman_collection.json",
        scenario: "healthy",
        args: &[],
    },
    Case {
        file: "control-flow.postman_collection.json",
        scenario: "healthy",
        args: &[],
    },
    Case {
        file: "bodies.postman_collection.json",
        scenario: "healthy",
        args: &[],
    },
    Case {
        file: "chai.postman_collection.json",
        scenario: "healthy",
        args: &[],
    },
    Case {
        file: "libraries.postman_collection.json",
        scenario: "healthy",
        args: &[],
    },
    Case {
        file: "every-resource-type.postman_collection.json",
        scenario: "healthy",
        args: &[],
    },
    Case {
        file: "send-request-token.postman_collection.json",
        scenario: "healthy",
        args: &[],
    },
    Case {
        file: "signed-auth.postman_collection.json",
        scenario: "healthy",
        args: &[],
    },
    Case {
        file: "crud-search.postman_collection.json",
        scenario: "healthy",
        args: &["-n", "2"],
    },
];

/// One request as either runner saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    name: String,
    method: String,
    /// Path and query, ids replaced by `{id}`.
    target: String,
    status: Option<u64>,
    tests: Vec<(String, bool)>,
}

/// Random ids differ between two sandboxes: a UUID or a long hex or digit run becomes `{id}`,
/// and so does an AWS signing time (`20261130T145040Z`). A credential in a query (a signature,
/// an OAuth 1.0 token, an AWS session token, a JWT) is written `***` by fhircheck: both sides become
/// `{credential}`.
fn normal(s: &str) -> String {
    let sig = regex::Regex::new(
        r"(X-Amz-Signature|X-Amz-Security-Token|oauth_signature|oauth_token|access_token)=[^&]*",
    )
    .unwrap();
    let s = &sig.replace_all(s, "$1={credential}");
    let re = regex::Regex::new(
        r"\b\d{8}T\d{6}Z\b|127\.0\.0\.1:\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\b[0-9a-f]{16,}\b|\b\d{10,}\b",
    )
    .unwrap();
    re.replace_all(s, "{id}").into_owned()
}

fn newman() -> PathBuf {
    root().join("tests/newman/node_modules/newman/bin/newman.js")
}

/// The sandbox's values in the variable names the corpus uses.
fn environment(t: &Target, dir: &Path) -> PathBuf {
    let ep = &t.sandbox.endpoints;
    let values: Vec<Value> = [
        ("tenantId", ep.client.tenant_id.as_str(), false),
        ("clientId", ep.client.client_id.as_str(), false),
        ("clientSecret", ep.client.client_secret.as_str(), true),
        ("resource", ep.client.resource.as_str(), false),
        ("fhirurl", ep.fhir_url.as_str(), false),
        ("authority", ep.authority_host.as_str(), false),
        ("bearerToken", "", false),
    ]
    .iter()
    .map(|(k, v, secret)| json!({"key": k, "value": v, "enabled": true, "type": if *secret { "secret" } else { "default" }}))
    .collect();
    let path = dir.join("sandbox.postman_environment.json");
    std::fs::write(
        &path,
        json!({"name": "sandbox", "values": values}).to_string(),
    )
    .unwrap();
    path
}

/// The collection with Entra's global host pointed at the sandbox: the same input for both
/// runners, since Newman has no `--authority-host`.
fn localised(t: &Target, file: &str, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(fixture(&format!("postman/{file}"))).unwrap();
    let mut j: Value = serde_json::from_str(&text).unwrap();
    walk(&mut j, &t.sandbox.endpoints.authority_host);
    let path = dir.join(file);
    std::fs::write(&path, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    path
}

/// Newman builds a URL from its parts (host, path) rather than `raw`: a URL of Entra's global
/// host becomes its `raw` text, pointed at the sandbox.
fn walk(v: &mut Value, to: &str) {
    const ENTRA: &str = "https://login.microsoftonline.com";
    match v {
        Value::Object(o) => {
            let raw = match o.get("url") {
                Some(Value::String(r)) => Some(r.clone()),
                Some(u) => u.get("raw").and_then(Value::as_str).map(str::to_string),
                None => None,
            };
            if let Some(r) = raw.filter(|r| r.starts_with(ENTRA)) {
                o.insert("url".into(), Value::String(r.replacen(ENTRA, to, 1)));
            }
            o.values_mut().for_each(|x| walk(x, to));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| walk(x, to)),
        _ => {}
    }
}

fn newman_run(case: &Case) -> (Vec<Seen>, Value) {
    let t = Target::start(case.scenario);
    let dir = tempfile::tempdir().unwrap();
    let (env, coll) = (
        environment(&t, dir.path()),
        localised(&t, case.file, dir.path()),
    );
    let (report, exported) = (dir.path().join("newman.json"), dir.path().join("env.json"));
    let out = Command::new("node")
        .arg(newman())
        .args(["run", coll.to_str().unwrap(), "-e", env.to_str().unwrap()])
        .args([
            "--reporters",
            "json",
            "--reporter-json-export",
            report.to_str().unwrap(),
        ])
        .args(["--export-environment", exported.to_str().unwrap()])
        .args([
            "--export-collection",
            dir.path().join("collection-out.json").to_str().unwrap(),
        ])
        .args(case.args)
        .current_dir(root())
        .output()
        .expect("node runs");
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap_or_else(|_| {
        panic!(
            "newman wrote no report: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    }))
    .unwrap();
    // A pm.sendRequest shows in Newman's report as one more execution of the item, sharing its
    // `cursor.httpRequestId`: of those, the one with the most assertions, then with an answer,
    // stands for the item (its own request).
    let all: Vec<&Value> = j["run"]["executions"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let id = |e: &Value| e["cursor"]["httpRequestId"].as_str().map(str::to_string);
    let rank = |e: &Value| {
        (
            e["assertions"].as_array().map_or(0, Vec::len),
            e.get("response").is_some(),
        )
    };
    let mut chosen: Vec<&Value> = Vec::new();
    for e in &all {
        match chosen
            .iter_mut()
            .find(|c| id(c).is_some() && id(c) == id(e))
        {
            Some(c) if rank(e) > rank(c) => *c = e,
            Some(_) => {}
            None => chosen.push(e),
        }
    }
    let seen = chosen
        .into_iter()
        .map(|e| Seen {
            name: e["item"]["name"].as_str().unwrap_or("").into(),
            method: e["request"]["method"].as_str().unwrap_or("").into(),
            target: normal(&newman_target(&e["request"]["url"])),
            status: e["response"]["code"].as_u64(),
            tests: e["assertions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| {
                    (
                        a["assertion"].as_str().unwrap_or("").to_string(),
                        a.get("error").is_none(),
                    )
                })
                .collect(),
        })
        .collect();
    (
        seen,
        exported_values(&exported, &dir.path().join("collection-out.json")),
    )
}

/// Newman's URL object as `/path?query`.
fn newman_target(u: &Value) -> String {
    let path: Vec<&str> = u["path"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let query: Vec<String> = u["query"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|q| q["disabled"] != true)
        .map(|q| match q["value"].as_str() {
            Some(v) => format!("{}={v}", q["key"].as_str().unwrap_or("")),
            None => q["key"].as_str().unwrap_or("").to_string(),
        })
        .collect();
    let mut s = format!("/{}", path.join("/"));
    if !query.is_empty() {
        s.push('?');
        s.push_str(&query.join("&"));
    }
    s
}

fn fhircheck_run(case: &Case) -> (Vec<Seen>, Value) {
    let t = Target::start(case.scenario);
    let dir = tempfile::tempdir().unwrap();
    let (env, coll) = (
        environment(&t, dir.path()),
        localised(&t, case.file, dir.path()),
    );
    let (report, exported) = (
        dir.path().join("fhircheck.json"),
        dir.path().join("env.json"),
    );
    let mut args = vec![
        "run".to_string(),
        coll.display().to_string(),
        "-e".into(),
        env.display().to_string(),
        "-r".into(),
        "json".into(),
        "--reporter-json-export".into(),
        report.display().to_string(),
        "--export-environment".into(),
        exported.display().to_string(),
        "--export-collection".into(),
        dir.path().join("collection-out.json").display().to_string(),
    ];
    args.extend(case.args.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let ran = common::fhircheck(&args);
    let j: Value = serde_json::from_str(
        &std::fs::read_to_string(&report)
            .unwrap_or_else(|_| panic!("fhircheck wrote no report: {}", ran.stderr)),
    )
    .unwrap();
    let seen = j["collections"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["steps"].as_array().cloned().unwrap_or_default())
        .filter(|s| s["type"] == "request" && s["outcome"] != "skipped")
        .map(|s| {
            let url = s["url"].as_str().unwrap_or("");
            let target = url
                .splitn(4, '/')
                .nth(3)
                .map_or("/".into(), |p| format!("/{p}"));
            Seen {
                name: s["name"].as_str().unwrap_or("").into(),
                method: s["method"].as_str().unwrap_or("").into(),
                target: normal(&target),
                status: s["http_status"].as_u64(),
                tests: s["assertions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| {
                        (
                            a["name"].as_str().unwrap_or("").to_string(),
                            a["passed"] == true,
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    (
        seen,
        exported_values(&exported, &dir.path().join("collection-out.json")),
    )
}

/// The exported environment as key → value, ids normalised. fhircheck writes secret values as
/// `***` (a deliberate difference): those keys are left out of the comparison on both sides.
/// The exported environment's variables, and the exported collection's as `collection:NAME`.
fn exported_values(environment: &Path, collection: &Path) -> Value {
    let read = |p: &Path| -> Value {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null)
    };
    let (env, coll) = (read(environment), read(collection));
    let mut out = serde_json::Map::new();
    let entries = env["values"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| ("", v))
        .chain(
            coll["variable"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| ("collection:", v)),
        );
    for (prefix, v) in entries {
        let key = format!("{prefix}{}", v["key"].as_str().unwrap_or(""));
        let value = match &v["value"] {
            Value::String(s) => normal(s),
            other => normal(&other.to_string()),
        };
        out.insert(key, Value::String(value));
    }
    Value::Object(out)
}

/// A difference, as the list names it.
fn key(collection: &str, scenario: &str, request: &str, what: &str) -> String {
    format!("{collection} [{scenario}] {request}: {what}")
}

/// Every difference between the two runs of `case`, and the counts (requests, tests) agreeing.
fn compare(
    case: &Case,
    n: &[Seen],
    f: &[Seen],
    nv: &Value,
    fv: &Value,
) -> (Vec<String>, [usize; 4]) {
    let mut diffs = Vec::new();
    let mut counts = [0usize; 4]; // requests agreeing, requests, tests agreeing, tests
    let k = |request: &str, what: &str| key(case.file, case.scenario, request, what);
    for i in 0..n.len().max(f.len()) {
        counts[1] += 1;
        match (n.get(i), f.get(i)) {
            (Some(a), Some(b)) => {
                let mut same = true;
                if (&a.name, &a.method, &a.target) != (&b.name, &b.method, &b.target) {
                    diffs.push(k(
                        &a.name,
                        &format!(
                            "request {} {} {} vs {} {} {}",
                            a.name, a.method, a.target, b.name, b.method, b.target
                        ),
                    ));
                    same = false;
                }
                if a.status != b.status {
                    diffs.push(k(
                        &a.name,
                        &format!("status {:?} vs {:?}", a.status, b.status),
                    ));
                    same = false;
                }
                let names: BTreeSet<&String> =
                    a.tests.iter().chain(&b.tests).map(|(t, _)| t).collect();
                for t in names {
                    counts[3] += 1;
                    let (x, y) = (
                        a.tests.iter().find(|(n, _)| n == t),
                        b.tests.iter().find(|(n, _)| n == t),
                    );
                    if x.map(|v| v.1) == y.map(|v| v.1) {
                        counts[2] += 1;
                    } else {
                        diffs.push(k(
                            &a.name,
                            &format!("test `{t}` {:?} vs {:?}", x.map(|v| v.1), y.map(|v| v.1)),
                        ));
                        same = false;
                    }
                }
                counts[0] += usize::from(same);
            }
            (Some(a), None) => diffs.push(k(&a.name, "sent by newman only")),
            (None, Some(b)) => diffs.push(k(&b.name, "sent by fhircheck only")),
            (None, None) => {}
        }
    }
    let masked = |v: &Value| v.as_str() == Some("***");
    for (name, value) in nv.as_object().into_iter().flatten() {
        let theirs = fv.get(name);
        if theirs.is_some_and(masked) {
            continue;
        }
        if theirs != Some(value) {
            diffs.push(k(
                "(environment)",
                &format!("variable `{name}` {value} vs {theirs:?}"),
            ));
        }
    }
    for name in fv.as_object().into_iter().flatten().map(|(k, _)| k) {
        if nv.get(name).is_none() {
            diffs.push(k(
                "(environment)",
                &format!("variable `{name}` exported by fhircheck only"),
            ));
        }
    }
    (diffs, counts)
}

#[test]
fn postman_collections_run_as_newman_runs_them() {
    assert!(
        newman().exists(),
        "Newman is not installed: run `npm ci` in tests/newman (.ci/run does)"
    );
    let listed: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("postman/newman-differences.json")).unwrap(),
    )
    .unwrap();
    // Each entry's `pattern` is a regular expression over the difference's text.
    let accepted: Vec<(regex::Regex, String)> = listed["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let p = d["pattern"].as_str().unwrap();
            (
                regex::Regex::new(p).unwrap_or_else(|e| panic!("{p}: {e}")),
                d["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut seen_diffs = Vec::new();
    let mut total = [0usize; 4];
    let mut lines = Vec::new();
    // `NEWMAN_ONLY=file` runs one collection (while working on it); listed differences of the
    // others are then not expected to happen.
    let only = std::env::var("NEWMAN_ONLY").ok();
    for case in CASES
        .iter()
        .filter(|c| only.as_deref().is_none_or(|o| c.file == o))
    {
        let (n, nv) = newman_run(case);
        let (f, fv) = fhircheck_run(case);
        assert!(!n.is_empty(), "{}: newman sent nothing", case.file);
        let (diffs, counts) = compare(case, &n, &f, &nv, &fv);
        lines.push(format!(
            "{} [{}]: requests {}/{}, tests {}/{}",
            case.file, case.scenario, counts[0], counts[1], counts[2], counts[3]
        ));
        for i in 0..4 {
            total[i] += counts[i];
        }
        seen_diffs.extend(diffs);
    }
    let unlisted: Vec<&String> = seen_diffs
        .iter()
        .filter(|d| !accepted.iter().any(|(a, _)| a.is_match(d)))
        .collect();
    let stale: Vec<String> = accepted
        .iter()
        .filter(|(a, _)| !seen_diffs.iter().any(|d| a.is_match(d)))
        .map(|(a, reason)| format!("{a} ({reason})"))
        .collect();
    let accepted_seen = seen_diffs.len() - unlisted.len();
    for d in seen_diffs.iter().filter(|d| !unlisted.contains(d)) {
        lines.push(format!("  accepted: {d}"));
    }
    lines.push(format!(
        "all: requests {}/{} agree, tests {}/{} agree; {} difference(s) accepted under {} listed reason(s)",
        total[0], total[1], total[2], total[3], accepted_seen, accepted.len()
    ));
    let summary = lines.join("\n");
    let artifacts = root().join("target/test-artifacts");
    let _ = std::fs::create_dir_all(&artifacts);
    let _ = std::fs::write(
        artifacts.join("newman-agreement.txt"),
        format!("{summary}\n"),
    );
    eprintln!("{summary}");
    assert!(
        unlisted.is_empty(),
        "differences from Newman that fixtures/postman/newman-differences.json does not list:\n{}",
        unlisted
            .iter()
            .map(|d| format!("  {d}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        stale.is_empty() || only.is_some(),
        "listed differences that no longer happen (remove them):\n{}",
        stale
            .iter()
            .map(|d| format!("  {d}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

//! The picture in ARCHITECTURE.md stays true: every module of `src/` has a layer there, no
//! module imports a module of a higher layer, and no two modules import each other, directly
//! or through others. Test code (`#[cfg(test)]` modules) may reach anywhere and is not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The top-level module a file under `src/` belongs to (`auth/smart.rs` → `auth`).
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "main" | "lib")).then(|| name.to_string())
}

/// The product code of a file: comments and the `#[cfg(test)]` module at its end left out.
fn product_code(text: &str) -> String {
    let code = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    code.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crate modules a piece of code names: `crate::x::…` and `crate::{x, y::…}`.
fn imports(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name = part.trim().split("::").next().unwrap_or("").trim();
                if !name.is_empty() && name != "self" {
                    out.insert(name.to_string());
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

fn collect(dir: &Path, root: &Path, graph: &mut Graph) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(&path, root, graph);
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let rel = path.strip_prefix(root).expect("under src/");
        let Some(module) = module_of(rel) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).expect("a source file");
        let deps = graph.entry(module.clone()).or_default();
        for dep in imports(&product_code(&text)) {
            if dep != module {
                deps.insert(dep);
            }
        }
    }
}

/// The layer of each module, from the table under "## Layers" in ARCHITECTURE.md:
/// `| 3 | `collection` | … |`.
fn layers(markdown: &str) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    let Some(start) = markdown.find("## Layers") else {
        return out;
    };
    for line in markdown[start..].lines().skip(1) {
        if line.starts_with("## ") {
            break;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(layer) = cells.get(1).and_then(|c| c.parse::<u32>().ok()) else {
            continue;
        };
        for name in cells.get(2).unwrap_or(&"").split(',') {
            let name = name.trim().trim_matches('`');
            if !name.is_empty() {
                out.insert(name.to_string(), layer);
            }
        }
    }
    out
}

/// A module on a cycle, with the cycle, if there is one.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut c = path[i..].to_vec();
            c.push(node.to_string());
            return Some(c);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for dep in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(dep, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut Vec::new(), &mut done))
}

/// Everything that breaks the picture, one line each.
fn violations(graph: &Graph, layers: &BTreeMap<String, u32>) -> Vec<String> {
    let mut out = Vec::new();
    for (module, deps) in graph {
        let Some(own) = layers.get(module) else {
            out.push(format!("`{module}` has no layer in ARCHITECTURE.md"));
            continue;
        };
        for dep in deps {
            match layers.get(dep) {
                Some(l) if l > own => out.push(format!(
                    "upward import: `{module}` (layer {own}) uses `{dep}` (layer {l})"
                )),
                _ => {}
            }
        }
    }
    if let Some(c) = cycle(graph) {
        out.push(format!("import cycle: {}", c.join(" → ")));
    }
    out
}

#[test]
fn the_code_follows_the_layer_order_in_architecture_md() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut graph = Graph::new();
    collect(&root.join("src"), &root.join("src"), &mut graph);
    assert!(graph.len() > 10, "src/ was read: {graph:?}");
    let md = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let layers = layers(&md);
    assert!(!layers.is_empty(), "ARCHITECTURE.md has a layer table");
    let v = violations(&graph, &layers);
    assert!(v.is_empty(), "{}", v.join("\n"));
}

fn graph(edges: &[(&str, &str)]) -> Graph {
    let mut g = Graph::new();
    for (a, b) in edges {
        g.entry(a.to_string()).or_default().insert(b.to_string());
        g.entry(b.to_string()).or_default();
    }
    g
}

#[test]
fn an_upward_import_a_cycle_and_an_unlisted_module_are_caught() {
    let md = "## Layers\n| layer | modules |\n|---|---|\n| 1 | `clock`, `secret` |\n| 2 | `http` |\n\n## Next\n| 9 | `ignored` |\n";
    let layers = layers(md);
    assert_eq!(layers.len(), 3);
    assert!(violations(&graph(&[("http", "clock")]), &layers).is_empty());
    let up = violations(&graph(&[("clock", "http")]), &layers);
    assert_eq!(
        up,
        vec!["upward import: `clock` (layer 1) uses `http` (layer 2)"]
    );
    let cyc = violations(&graph(&[("clock", "secret"), ("secret", "clock")]), &layers);
    assert_eq!(cyc, vec!["import cycle: clock → secret → clock"]);
    let unlisted = violations(&graph(&[("report", "clock")]), &layers);
    assert_eq!(unlisted, vec!["`report` has no layer in ARCHITECTURE.md"]);
}

#[test]
fn imports_are_read_from_paths_and_groups_but_not_comments_or_tests() {
    let code = "use crate::{auth::Token, clock, self};\n// crate::report is only named here\nfn f() { crate::http::send(); }\n#[cfg(test)]\nmod tests { use crate::app; }\n";
    let found = imports(&product_code(code));
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        vec!["auth", "clock", "http"]
    );
}

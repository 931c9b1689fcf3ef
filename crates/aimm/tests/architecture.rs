//! The architecture of DESIGN.md, checked: the closed loops build without a network stack, a
//! database driver or the simulator, and no two sibling modules of any crate (top-level, or
//! inside a module such as a loop's folder) import each other in a cycle (a cycle means two
//! modules are one module in two files). Paths through a parent's re-exports are not followed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every package `cargo tree` lists among `package`'s normal (non-dev, non-build) dependencies.
fn normal_dependencies(package: &str) -> BTreeSet<String> {
    let out = Command::new(env!("CARGO"))
        .current_dir(workspace())
        .args(["tree", "-p", package, "-e", "normal", "--prefix", "none"])
        .args(["--format", "{p}", "--locked", "--offline"])
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_loops_build_without_transports_drivers_or_the_simulator() {
    let deps = normal_dependencies("aimm-loops");
    let forbidden = [
        "tokio",
        "hyper",
        "axum",
        "rumqttc",
        "prost",
        "postgres",
        "aimm-connect",
        "aimm-sim",
    ];
    let found: Vec<_> = forbidden.iter().filter(|f| deps.contains(**f)).collect();
    assert!(found.is_empty(), "aimm-loops depends on {found:?}");
    let ours: BTreeSet<_> = deps.iter().filter(|d| d.starts_with("aimm-")).collect();
    let allowed = ["aimm-loops", "aimm-model", "aimm-store", "aimm-ledger"];
    assert!(
        ours.iter().all(|d| allowed.contains(&d.as_str())),
        "aimm-loops depends on {ours:?}; DESIGN.md allows {allowed:?}"
    );
}

/// The module path of a source file: `src/lib.rs` is `[]`, `src/a.rs` and `src/a/mod.rs` are
/// `[a]`, `src/a/b.rs` is `[a, b]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.strip_suffix(".rs").unwrap_or(&last).to_string();
    // `mod.rs` names its folder; `lib.rs`/`main.rs` at the top are the root.
    let root = parts.is_empty() && matches!(stem.as_str(), "lib" | "main");
    if stem != "mod" && !root {
        parts.push(stem);
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `::`-separated paths following each `prefix` in `text` (`crate::feed::x` → `feed::x`).
fn paths_after<'a>(text: &'a str, prefix: &'a str) -> impl Iterator<Item = Vec<&'a str>> + 'a {
    text.match_indices(prefix).filter_map(move |(i, _)| {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return None;
        }
        let rest = &text[i + prefix.len()..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let path: Vec<&str> = rest[..end].split("::").filter(|s| !s.is_empty()).collect();
        (!path.is_empty()).then_some(path)
    })
}

/// Edges between sibling modules of `src` (at any depth): `a → b` when code in `a` (or below it)
/// names `b` (or something below it) by a `crate::` or `super::` path.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_path(src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = module_path(src, file);
        // `super::` in `a/b.rs` (module a::b) is `a`; in `a/mod.rs` (module a) it is the root.
        let parent: Vec<String> = from[..from.len().saturating_sub(1)].to_vec();
        // Code only: a doc link to another module is not an import.
        let text: String = std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let absolute =
            paths_after(&text, "crate::").map(|p| p.iter().map(|s| s.to_string()).collect());
        let relative = paths_after(&text, "super::").map(|p| {
            parent
                .iter()
                .cloned()
                .chain(p.iter().map(|s| s.to_string()))
                .collect::<Vec<_>>()
        });
        for path in absolute.chain(relative) {
            // The longest prefix of the path that is a module.
            let Some(to) = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains(p))
            else {
                continue;
            };
            // Reduce to the two children of the common ancestor: an edge between siblings.
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common < from.len() && common < to.len() {
                graph
                    .entry(from[..=common].join("::"))
                    .or_default()
                    .insert(to[..=common].join("::"));
            }
        }
    }
    graph
}

/// A cycle in `graph`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
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
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_an_import_cycle_among_sibling_modules() {
    let crates = workspace().join("crates");
    let mut checked = 0;
    for entry in std::fs::read_dir(&crates).unwrap() {
        let src = entry.unwrap().path().join("src");
        if !src.is_dir() {
            continue;
        }
        let graph = module_graph(&src);
        if let Some(cycle) = find_cycle(&graph) {
            panic!("{}: import cycle {}", src.display(), cycle.join(" → "));
        }
        checked += 1;
    }
    assert!(
        checked >= 8,
        "only {checked} crates found under {}",
        crates.display()
    );
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        graph.entry(a.into()).or_default().insert(b.into());
    }
    let cycle = find_cycle(&graph).expect("a → b → c → a");
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4);
    graph.get_mut("c").unwrap().remove("a");
    assert_eq!(find_cycle(&graph), None);
}

#[test]
fn module_paths_and_sibling_edges_are_read_as_rustc_reads_them() {
    let src = Path::new("/x/src");
    let path = |f: &str| module_path(src, &src.join(f));
    assert_eq!(path("lib.rs"), Vec::<String>::new());
    assert_eq!(path("main.rs"), Vec::<String>::new());
    assert_eq!(path("feed.rs"), ["feed"]);
    assert_eq!(path("feed/mod.rs"), ["feed"]);
    assert_eq!(path("feed/runner.rs"), ["feed", "runner"]);
    let graph = module_graph(&workspace().join("crates/aimm-loops/src"));
    assert!(graph["wear::runner"].contains("wear::policy"), "{graph:?}");
    assert!(graph["wear"].contains("guard"), "{graph:?}");
}

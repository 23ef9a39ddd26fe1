//! ARCHITECTURE.md's dependency rules, checked against the manifests: the crate graph in
//! its bird's eye view must be each crate's `[dependencies]` exactly (an arrow added or
//! removed in one place and not the other fails), every crate of the workspace must be in
//! it, and no crate may reach, through anything it depends on, a crate its row of the
//! code map's table forbids. Plain files only (`Cargo.toml`, `Cargo.lock`): `cargo
//! metadata` would resolve every platform's crates, which needs the registry.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every workspace member: its package name and its manifest's `[dependencies]`.
fn members() -> BTreeMap<String, BTreeSet<String>> {
    let workspace: toml::Table = toml::from_str(&read(&root().join("Cargo.toml"))).unwrap();
    let members = workspace["workspace"]["members"]
        .as_array()
        .expect("members");
    let mut out = BTreeMap::new();
    for member in members {
        let pattern = member.as_str().expect("a path");
        let dirs: Vec<PathBuf> = match pattern.strip_suffix("/*") {
            Some(parent) => std::fs::read_dir(root().join(parent))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.join("Cargo.toml").exists())
                .collect(),
            None => vec![root().join(pattern)],
        };
        for dir in dirs {
            let manifest: toml::Table = toml::from_str(&read(&dir.join("Cargo.toml"))).unwrap();
            let name = manifest["package"]["name"].as_str().unwrap().to_string();
            let deps = manifest
                .get("dependencies")
                .and_then(|d| d.as_table())
                .map(|d| d.keys().cloned().collect())
                .unwrap_or_default();
            out.insert(name, deps);
        }
    }
    out
}

/// Cargo.lock's packages and what each depends on (every feature the workspace enables,
/// every platform: a superset of what any one build links, which is what a rule needs).
fn lock() -> BTreeMap<String, BTreeSet<String>> {
    let lock: toml::Table = toml::from_str(&read(&root().join("Cargo.lock"))).unwrap();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for package in lock["package"].as_array().unwrap() {
        let name = package["name"].as_str().unwrap().to_string();
        let deps = package
            .get("dependencies")
            .and_then(|d| d.as_array())
            .into_iter()
            .flatten()
            // "name" or "name version" when two versions are locked
            .map(|d| d.as_str().unwrap().split(' ').next().unwrap().to_string());
        out.entry(name).or_default().extend(deps);
    }
    out
}

/// The code block of ARCHITECTURE.md that starts with `crate graph`: `name ──► a, b` lines,
/// the targets without their `shipgate-` prefix.
fn graph(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let start = text
        .find("crate graph")
        .expect("ARCHITECTURE.md has the crate graph");
    let block = &text[start..text[start..].find("```").map(|i| start + i).unwrap()];
    let mut out = BTreeMap::new();
    for line in block.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let (name, deps) = line
            .split_once("──►")
            .unwrap_or_else(|| panic!("crate graph line without an arrow: {line}"));
        let deps = deps
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| match d {
                "shipgate" => d.to_string(),
                _ => format!("shipgate-{d}"),
            })
            .collect();
        let previous = out.insert(name.trim().to_string(), deps);
        assert!(
            previous.is_none(),
            "{} is in the crate graph twice",
            name.trim()
        );
    }
    out
}

/// The code map's table: each crate and the names it must not reach (`name*`: a prefix).
fn forbidden(text: &str) -> BTreeMap<String, Vec<String>> {
    let start = text
        .find("| crate | must not depend on |")
        .expect("ARCHITECTURE.md has the table of forbidden dependencies");
    let mut out = BTreeMap::new();
    for line in text[start..].lines().skip(2) {
        let Some(row) = line.strip_prefix('|') else {
            break;
        };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let name = cells[0].trim_matches('`').to_string();
        let names = cells[1]
            .split(',')
            .filter_map(|c| c.split('`').nth(1))
            .map(str::to_string)
            .collect();
        out.insert(name, names);
    }
    out
}

fn architecture() -> String {
    read(&root().join("ARCHITECTURE.md"))
}

#[test]
fn the_crate_graph_is_every_members_dependencies() {
    let members = members();
    let graph = graph(&architecture());
    let mut wrong = Vec::new();
    for (name, deps) in &members {
        let internal: BTreeSet<String> = deps
            .iter()
            .filter(|d| members.contains_key(*d))
            .cloned()
            .collect();
        match graph.get(name) {
            None => wrong.push(format!("{name} is not in the crate graph")),
            Some(drawn) if *drawn != internal => wrong.push(format!(
                "{name}: the graph says {drawn:?}, Cargo.toml has {internal:?}"
            )),
            Some(_) => {}
        }
    }
    for name in graph.keys().filter(|n| !members.contains_key(*n)) {
        wrong.push(format!(
            "the crate graph names {name}, which is not a member"
        ));
    }
    assert!(
        wrong.is_empty(),
        "ARCHITECTURE.md's crate graph is out of date:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_crate_reaches_what_the_code_map_forbids() {
    let members = members();
    let lock = lock();
    let rules = forbidden(&architecture());
    let library_members: Vec<&String> = members.keys().filter(|n| *n != "xtask").collect();
    for name in library_members {
        assert!(
            rules.contains_key(name),
            "the code map's table has no row for {name}"
        );
    }
    let mut wrong = Vec::new();
    for (name, names) in &rules {
        assert!(
            members.contains_key(name),
            "the table names {name}, which is not a member"
        );
        // Members by their manifests (the lock lists their dev-dependencies too), the rest
        // by the lock.
        let mut seen = BTreeSet::new();
        let mut path: BTreeMap<String, String> = BTreeMap::new();
        let mut todo: Vec<String> = members[name].iter().cloned().collect();
        for d in &todo {
            path.insert(d.clone(), name.clone());
        }
        while let Some(next) = todo.pop() {
            if !seen.insert(next.clone()) {
                continue;
            }
            let deps = members
                .get(&next)
                .or_else(|| lock.get(&next))
                .cloned()
                .unwrap_or_default();
            for d in deps {
                path.entry(d.clone()).or_insert_with(|| next.clone());
                todo.push(d);
            }
        }
        for reached in &seen {
            let banned = names.iter().any(|rule| match rule.strip_suffix('*') {
                Some(prefix) => reached.starts_with(prefix) && reached != name,
                None => reached == rule,
            });
            if banned {
                let mut chain = vec![reached.clone()];
                while let Some(parent) = path.get(chain.last().unwrap()) {
                    chain.push(parent.clone());
                    if parent == name {
                        break;
                    }
                }
                chain.reverse();
                wrong.push(format!("{name} reaches {reached}: {}", chain.join(" → ")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "dependencies the code map forbids:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_rules_catch_a_forbidden_path_and_a_missing_arrow() {
    // The parsers on a made-up map: a broken rule must not read as "nothing to check".
    let text = "crate graph\n\na ──► b\nshipgate-b ──►\n```\n\n| crate | must not depend on |\n|---|---|\n| `a` | `shipgate-c`, `aws-*` |\n\nafter";
    let graph = graph(text);
    assert_eq!(graph["a"], BTreeSet::from(["shipgate-b".to_string()]));
    assert_eq!(graph["shipgate-b"], BTreeSet::new());
    let rules = forbidden(text);
    assert_eq!(
        rules["a"],
        vec!["shipgate-c".to_string(), "aws-*".to_string()]
    );
    assert_eq!(rules.len(), 1);
}

/// `path` if it is a `.rs` file, or every `.rs` file under it, in name order.
fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for entry in entries {
            rust_files(&entry, out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// A crate's top-level modules (`src/x.rs` or `src/x/`) and the text of each, without
/// comment lines and without its `#[cfg(test)] mod tests` (tests may use anything).
fn modules(src: &Path) -> BTreeMap<String, String> {
    fn text_of(path: &Path, out: &mut String) {
        let mut files = Vec::new();
        rust_files(path, &mut files);
        for path in &files {
            let text = read(path);
            let text = match text.find("#[cfg(test)]\nmod tests") {
                Some(i) => &text[..i],
                None => &text,
            };
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_str().unwrap().to_string();
        let name = match file.strip_suffix(".rs") {
            Some("lib" | "main") => continue,
            Some(stem) => stem.to_string(),
            None if path.is_dir() => file,
            None => continue,
        };
        text_of(&path, out.entry(name).or_default());
    }
    out
}

/// What the crate root re-exports from its modules (`pub use m::{A, B};` in `lib.rs`):
/// `crate::A` is a use of `m` as much as `crate::m::A` is.
fn reexports(lib: &str, names: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (i, _) in lib.match_indices("pub use ") {
        let rest = &lib[i + "pub use ".len()..];
        let statement = &rest[..rest.find(';').unwrap_or(rest.len())];
        let Some((module, items)) = statement.split_once("::") else {
            continue;
        };
        if !names.contains(module.trim()) {
            continue;
        }
        for item in items.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if !item.is_empty() && item != "self" && item != "as" {
                out.insert(item.to_string(), module.trim().to_string());
            }
        }
    }
    out
}

/// The modules `text` names as `crate::m` or inside `crate::{…}`, or through a root
/// re-export (`crate::Item`).
fn uses(text: &str, names: &BTreeSet<String>, root: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let group = match rest.strip_prefix('{') {
            Some(inner) => &inner[..inner.find('}').unwrap_or(inner.len())],
            None => rest,
        };
        let words = group.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
        let words: Vec<&str> = if rest.starts_with('{') {
            words.collect()
        } else {
            words.take(1).collect()
        };
        for word in words {
            if names.contains(word) {
                out.insert(word.to_string());
            } else if let Some(module) = root.get(word) {
                out.insert(module.clone());
            }
        }
    }
    out
}

/// The circles of a graph: its strongly connected components of more than one node.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Kosaraju: finish order on the graph, then components on the reversed one.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        seen: &mut BTreeSet<String>,
        out: &mut Vec<String>,
    ) {
        if !seen.insert(n.to_string()) {
            return;
        }
        for m in g.get(n).into_iter().flatten() {
            visit(m, g, seen, out);
        }
        out.push(n.to_string());
    }
    let mut order = Vec::new();
    let mut seen = BTreeSet::new();
    for n in graph.keys() {
        visit(n, graph, &mut seen, &mut order);
    }
    let mut reversed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (n, ms) in graph {
        for m in ms {
            reversed.entry(m.clone()).or_default().insert(n.clone());
        }
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for n in order.iter().rev() {
        let mut component = Vec::new();
        visit(n, &reversed, &mut seen, &mut component);
        if component.len() > 1 {
            component.sort();
            out.push(component);
        }
    }
    out
}

#[test]
fn no_crate_has_a_circle_of_modules() {
    let mut wrong = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path().join("src"))
        .collect();
    dirs.push(root().join("xtask/src"));
    for src in dirs {
        let modules = modules(&src);
        let names: BTreeSet<String> = modules.keys().cloned().collect();
        let lib = ["lib.rs", "main.rs"]
            .iter()
            .map(|f| src.join(f))
            .find(|p| p.exists())
            .map(|p| read(&p))
            .unwrap_or_default();
        let root = reexports(&lib, &names);
        let graph: BTreeMap<String, BTreeSet<String>> = modules
            .iter()
            .map(|(name, text)| {
                let mut used = uses(text, &names, &root);
                used.remove(name);
                (name.clone(), used)
            })
            .collect();
        for circle in circles(&graph) {
            wrong.push(format!("{}: {}", src.display(), circle.join(", ")));
        }
    }
    assert!(
        wrong.is_empty(),
        "modules that use each other in a circle:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn a_circle_of_modules_is_found() {
    let names: BTreeSet<String> = ["a", "b", "c", "d"].map(String::from).into();
    assert_eq!(
        uses(
            "use crate::{a, b::X, Y};\nfn f() { crate::c::g() }",
            &names,
            &reexports("pub use d::{Y, Z as W};", &names)
        ),
        ["a", "b", "c", "d"].map(String::from).into()
    );
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(n, ms)| (n.to_string(), ms.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        circles(&graph),
        vec![["a", "b", "c"].map(String::from).to_vec()]
    );
}

/// The workspace denies `unsafe_code`; the one exception is mapping pack files.
#[test]
fn unsafe_code_is_allowed_only_where_pack_files_are_mapped() {
    let workspace = read(&root().join("Cargo.toml"));
    assert!(
        workspace.contains("unsafe_code = \"deny\""),
        "the workspace denies unsafe_code"
    );
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "tests"] {
        rust_files(&root().join(dir), &mut files);
    }
    let allowed = root().join("crates/shipgate-git/src/pack.rs");
    let needle = ["allow(", "unsafe_code)"].concat();
    let mut found = Vec::new();
    for file in &files {
        let count = read(file).matches(&needle).count();
        if count > 0 {
            found.push((
                file.strip_prefix(root()).unwrap().display().to_string(),
                count,
            ));
        }
    }
    assert_eq!(
        found,
        vec![(
            allowed.strip_prefix(root()).unwrap().display().to_string(),
            1
        )],
        "unsafe code is allowed in one place only"
    );
}

//! The layouts: which files of a directory make one configuration set, how each file is
//! read, and which of their documents make an environment's configuration, in the order they
//! are layered (later wins). Pure: file names and parsed documents in, plans out.
//!
//! - `overlays`: `base.<ext>` then `<name>.<ext>` (TOML, YAML read as YAML 1.2, or JSON;
//!   overlays in the base's format).
//! - `helm`: `values.yaml` then `values-<name>.yaml`, read as go-yaml v2 reads them; a null in
//!   an overlay removes the key, as `helm install -f` does.
//! - `spring`: Spring Boot 2.4+'s order. The environment's profiles (its name, or `names`'
//!   comma-separated list), then `spring.profiles.include`, each followed depth-first by its
//!   `spring.profiles.group` members, make the active list. The documents of
//!   `application.yml` come first, in file order, each where its
//!   `spring.config.activate.on-profile` expression (`prod`, `!dev`, `eu & prod`, `a | b`, a
//!   list) holds; then `application-<profile>.yml` for each active profile, later profiles
//!   winning. Dotted keys (`spring.datasource.url: …`) are nested as Spring binds them,
//!   `"[a.b]"` keys kept whole. `on-cloud-platform` documents apply for `kubernetes` only.

use shipgate_doc::{Dialect, Document, FileId, Format, Node, Span, Table, Value};

use crate::settings::{EnvironmentsSettings, Layout};

/// A file's part in a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Read for every environment.
    Base,
    /// Read for the environment (or Spring profile) of this name.
    Overlay(String),
}

/// The base files a layout looks for, in order of preference.
pub fn base_files(layout: Layout) -> &'static [&'static str] {
    match layout {
        Layout::Overlays => &["base.toml", "base.yaml", "base.yml", "base.json"],
        Layout::Spring => &["application.yml", "application.yaml"],
        Layout::Helm => &["values.yaml", "values.yml"],
    }
}

/// How a file of `layout` is read.
pub fn format(layout: Layout, file_name: &str) -> Format {
    let dialect = match layout {
        Layout::Overlays => Dialect::Yaml12,
        Layout::Spring => Dialect::Spring,
        Layout::Helm => Dialect::Helm,
    };
    match Format::of_path(file_name) {
        Some(Format::Yaml(_)) => Format::Yaml(dialect),
        Some(f) => f,
        None => Format::Toml,
    }
}

fn family(name: &str) -> Option<&'static str> {
    match Format::of_path(name)? {
        Format::Toml => Some("toml"),
        Format::Yaml(_) => Some("yaml"),
        Format::Json => Some("json"),
    }
}

fn stem(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(s, _)| s)
}

/// The files of a directory (names, sorted) that make a set of `layout`, with their roles,
/// the base first; `None` when the directory has no base file. `schema` is the set's schema
/// file name when it sits in the same directory (never an overlay).
pub fn members(
    layout: Layout,
    names: &[String],
    schema: Option<&str>,
) -> Option<Vec<(Role, String)>> {
    let has = |n: &str| names.iter().any(|x| x == n);
    let mut out = Vec::new();
    match layout {
        Layout::Overlays => {
            let base = base_files(layout).iter().find(|b| has(b))?;
            let fam = family(base);
            out.push((Role::Base, base.to_string()));
            for n in names {
                let is_schema =
                    Some(n.as_str()) == schema || n == "schema.json" || n.ends_with(".schema.json");
                if family(n) == fam && stem(n) != "base" && !is_schema && !n.starts_with('.') {
                    out.push((Role::Overlay(stem(n).to_string()), n.clone()));
                }
            }
        }
        Layout::Spring | Layout::Helm => {
            let prefix = if layout == Layout::Spring {
                "application-"
            } else {
                "values-"
            };
            let bases: Vec<&str> = base_files(layout)
                .iter()
                .copied()
                .filter(|b| has(b))
                .collect();
            if bases.is_empty() {
                return None;
            }
            out.extend(bases.iter().map(|b| (Role::Base, b.to_string())));
            for n in names {
                if family(n) == Some("yaml")
                    && let Some(name) = stem(n).strip_prefix(prefix)
                    && !name.is_empty()
                {
                    out.push((Role::Overlay(name.to_string()), n.clone()));
                }
            }
        }
    }
    Some(out)
}

/// What makes one environment's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvPlan {
    /// (file, document) in layering order.
    pub documents: Vec<(FileId, usize)>,
    /// Every file read for it (a file that did not parse leaves the environment unmerged).
    pub files: Vec<FileId>,
    /// The file that stands for the environment (its overlay, else the base).
    pub primary: FileId,
    /// Spring: the active profiles, in order.
    pub profiles: Vec<String>,
    /// Spring and Helm: the file the environment's own values would be in, when it has none
    /// (Spring: no profile file, no document activated by a profile): it runs on the base
    /// alone and what its deployment sets.
    pub lacks: Option<String>,
}

/// Why an environment has no plan: which file it lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub expected: String,
}

/// The plan of `env`. `files` are the set's roles (in FileId order) and `docs` each file's
/// documents (`None`: the file did not parse).
pub fn plan(
    layout: Layout,
    settings: &EnvironmentsSettings,
    env: &str,
    roles: &[Role],
    docs: &[Option<Vec<Document>>],
    dir: &str,
    base_name: &str,
) -> Result<EnvPlan, Missing> {
    let name = settings.file_name(env);
    let all_docs = |id: usize| -> Vec<(FileId, usize)> {
        let n = docs.get(id).and_then(|d| d.as_ref()).map_or(0, Vec::len);
        (0..n).map(|d| (FileId(id as u32), d)).collect()
    };
    let bases: Vec<usize> = roles
        .iter()
        .enumerate()
        .filter(|(_, r)| **r == Role::Base)
        .map(|(i, _)| i)
        .collect();
    let overlay_of = |n: &str| {
        roles
            .iter()
            .position(|r| *r == Role::Overlay(n.to_string()))
    };
    if layout != Layout::Spring {
        let ext = base_name.rsplit_once('.').map_or("toml", |(_, e)| e);
        let expected = match layout {
            Layout::Helm => format!("{dir}/values-{name}.{ext}"),
            _ => format!("{dir}/{name}.{ext}"),
        };
        let Some(overlay) = overlay_of(&name) else {
            if layout == Layout::Helm {
                // A chart runs on values.yaml alone: said, not refused.
                return Ok(EnvPlan {
                    documents: bases.iter().flat_map(|&b| all_docs(b)).collect(),
                    files: bases.iter().map(|&b| FileId(b as u32)).collect(),
                    primary: FileId(bases.first().copied().unwrap_or(0) as u32),
                    profiles: Vec::new(),
                    lacks: Some(expected),
                });
            }
            return Err(Missing { expected });
        };
        let mut documents: Vec<(FileId, usize)> = bases.iter().flat_map(|&b| all_docs(b)).collect();
        documents.extend(all_docs(overlay));
        let mut files: Vec<FileId> = bases.iter().map(|&b| FileId(b as u32)).collect();
        files.push(FileId(overlay as u32));
        return Ok(EnvPlan {
            documents,
            files,
            primary: FileId(overlay as u32),
            profiles: Vec::new(),
            lacks: None,
        });
    }
    // Spring: groups and includes from the base files' unconditional documents.
    let doc = |(f, d): (FileId, usize)| docs[f.0 as usize].as_ref().map(|v| &v[d].root);
    let base_docs: Vec<(FileId, usize)> = bases.iter().flat_map(|&b| all_docs(b)).collect();
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    let mut include = Vec::new();
    for &id in &base_docs {
        let Some(root) = doc(id) else { continue };
        if activation(root).is_some() {
            continue;
        }
        if let Some(Value::Table(g)) =
            lookup(root, &["spring", "profiles", "group"]).map(|n| &n.value)
        {
            for (k, v) in g {
                groups.retain(|(name, _)| name != k);
                groups.push((k.clone(), list(v)));
            }
        }
        if let Some(v) = lookup(root, &["spring", "profiles", "include"]) {
            include.extend(list(v));
        }
    }
    let mut requested: Vec<String> = name.split(',').map(|s| s.trim().to_string()).collect();
    requested.extend(include);
    let active = expand(&requested, &groups);
    let holds = |root: &Node| match activation(root) {
        None => true,
        Some(Activation { profiles, platform }) => {
            platform.is_none_or(|p| p.eq_ignore_ascii_case("kubernetes"))
                && profiles.is_none_or(|exprs| exprs.iter().any(|e| e.eval(&active)))
        }
    };
    let mut documents: Vec<(FileId, usize)> = Vec::new();
    let mut own = false;
    for &id in &base_docs {
        if let Some(root) = doc(id)
            && holds(root)
        {
            own |= activation(root)
                .and_then(|a| a.profiles)
                .is_some_and(|exprs| exprs.iter().any(|e| e.names(&active)));
            documents.push(id);
        }
    }
    let mut primary = None;
    let mut files: Vec<FileId> = bases.iter().map(|&b| FileId(b as u32)).collect();
    for p in &active {
        if let Some(o) = overlay_of(p) {
            primary.get_or_insert(FileId(o as u32));
            files.push(FileId(o as u32));
            own = true;
            for id in all_docs(o) {
                if doc(id).is_some_and(holds) {
                    documents.push(id);
                }
            }
        }
    }
    let ext = base_name.rsplit_once('.').map_or("yml", |(_, e)| e);
    let lacks = (!own).then(|| format!("{dir}/application-{}.{ext}", requested[0]));
    Ok(EnvPlan {
        lacks,
        documents,
        files,
        primary: primary.unwrap_or(FileId(bases.first().copied().unwrap_or(0) as u32)),
        profiles: active,
    })
}

/// `profiles` each followed depth-first by its group's members, each once (Spring Boot's
/// `Profiles.expandProfiles`).
fn expand(profiles: &[String], groups: &[(String, Vec<String>)]) -> Vec<String> {
    let mut stack: Vec<String> = profiles.iter().rev().cloned().collect();
    let mut out: Vec<String> = Vec::new();
    while let Some(p) = stack.pop() {
        if out.contains(&p) {
            continue;
        }
        if let Some((_, members)) = groups.iter().find(|(g, _)| *g == p) {
            stack.extend(members.iter().rev().cloned());
        }
        out.push(p);
    }
    out
}

fn lookup<'n>(root: &'n Node, path: &[&str]) -> Option<&'n Node> {
    path.iter().try_fold(root, |n, k| n.as_table()?.get(*k))
}

/// A comma-separated string or a list, as Spring reads a String[].
fn list(node: &Node) -> Vec<String> {
    match &node.value {
        Value::String(s) => s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        Value::Array(items) => items.iter().flat_map(list).collect(),
        Value::Null => Vec::new(),
        other => vec![scalar_text(other)],
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) | Value::Datetime(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => b.to_string(),
        _ => String::new(),
    }
}

/// When a Spring document applies.
struct Activation {
    profiles: Option<Vec<ProfileExpr>>,
    platform: Option<String>,
}

/// The document's `spring.config.activate` (or the pre-2.4 `spring.profiles` string).
fn activation(root: &Node) -> Option<Activation> {
    let on_profile = lookup(root, &["spring", "config", "activate", "on-profile"])
        .or_else(|| lookup(root, &["spring", "profiles"]).filter(|n| n.as_table().is_none()));
    let platform = lookup(root, &["spring", "config", "activate", "on-cloud-platform"])
        .map(|n| scalar_text(&n.value));
    if on_profile.is_none() && platform.is_none() {
        return None;
    }
    Some(Activation {
        profiles: on_profile.map(|n| list(n).iter().map(|e| ProfileExpr::parse(e)).collect()),
        platform,
    })
}

/// The parts of a Spring document's activation that are not wrong: `Err` when an
/// expression cannot be read (the document then never applies, as Spring would refuse it).
pub fn activation_problem(root: &Node) -> Option<(Span, String)> {
    let node = lookup(root, &["spring", "config", "activate", "on-profile"])
        .or_else(|| lookup(root, &["spring", "profiles"]).filter(|n| n.as_table().is_none()))?;
    for e in list(node) {
        if let ProfileExpr::Invalid(message) = ProfileExpr::parse(&e) {
            return Some((node.span, format!("profile expression `{e}`: {message}")));
        }
    }
    None
}

/// A profile expression: `prod`, `!dev`, `a & b`, `a | b`, with parentheses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileExpr {
    Name(String),
    Not(Box<ProfileExpr>),
    All(Vec<ProfileExpr>),
    Any(Vec<ProfileExpr>),
    /// Never holds: Spring refuses such an expression.
    Invalid(String),
}

impl ProfileExpr {
    pub fn parse(text: &str) -> ProfileExpr {
        let tokens = tokens(text);
        let mut at = 0;
        match parse_expr(&tokens, &mut at) {
            Ok(e) if at == tokens.len() => e,
            Ok(_) => ProfileExpr::Invalid("unexpected text after the expression".into()),
            Err(m) => ProfileExpr::Invalid(m),
        }
    }

    /// Whether the expression names one of `active` other than through `!`: a document it
    /// activates is that profile's own.
    pub fn names(&self, active: &[String]) -> bool {
        match self {
            ProfileExpr::Name(n) => active.iter().any(|a| a == n),
            ProfileExpr::All(v) | ProfileExpr::Any(v) => v.iter().any(|e| e.names(active)),
            ProfileExpr::Not(_) | ProfileExpr::Invalid(_) => false,
        }
    }

    pub fn eval(&self, active: &[String]) -> bool {
        match self {
            ProfileExpr::Name(n) => active.iter().any(|a| a == n),
            ProfileExpr::Not(e) => !e.eval(active),
            ProfileExpr::All(v) => v.iter().all(|e| e.eval(active)),
            ProfileExpr::Any(v) => v.iter().any(|e| e.eval(active)),
            ProfileExpr::Invalid(_) => false,
        }
    }
}

fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if matches!(c, '!' | '&' | '|' | '(' | ')') || c.is_whitespace() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            if !c.is_whitespace() {
                out.push(c.to_string());
            }
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

fn parse_expr(t: &[String], at: &mut usize) -> Result<ProfileExpr, String> {
    let first = parse_term(t, at)?;
    let Some(op) = t.get(*at).filter(|o| *o == "&" || *o == "|").cloned() else {
        return Ok(first);
    };
    let mut parts = vec![first];
    while t.get(*at).is_some_and(|o| *o == "&" || *o == "|") {
        if t[*at] != op {
            return Err("`&` and `|` mixed without parentheses".into());
        }
        *at += 1;
        parts.push(parse_term(t, at)?);
    }
    Ok(if op == "&" {
        ProfileExpr::All(parts)
    } else {
        ProfileExpr::Any(parts)
    })
}

fn parse_term(t: &[String], at: &mut usize) -> Result<ProfileExpr, String> {
    let token = t.get(*at).ok_or("an expression that ends too early")?;
    *at += 1;
    match token.as_str() {
        "!" => Ok(ProfileExpr::Not(Box::new(parse_term(t, at)?))),
        "(" => {
            let e = parse_expr(t, at)?;
            if t.get(*at).map(String::as_str) != Some(")") {
                return Err("`(` without `)`".into());
            }
            *at += 1;
            Ok(e)
        }
        "&" | "|" | ")" => Err(format!("unexpected `{token}`")),
        name => Ok(ProfileExpr::Name(name.to_string())),
    }
}

/// Spring binds `a.b.c: x` as `a: {b: {c: x}}`; `"[a.b]": x` is the key `a.b`. The keys of
/// every table of `node` are nested that way. A key set twice through both spellings in one
/// table is reported: the later one wins, as in Spring.
pub fn nest_dotted_keys(node: &mut Node, twice: &mut Vec<(Span, String)>) {
    match &mut node.value {
        Value::Array(items) => items.iter_mut().for_each(|i| nest_dotted_keys(i, twice)),
        Value::Table(table) => {
            let old = std::mem::take(table);
            // Keys in the order written, so "later wins" means what it says.
            let mut entries: Vec<(String, Node)> = old.into_iter().collect();
            entries.sort_by_key(|(_, n)| n.key.start);
            for (key, mut child) in entries {
                nest_dotted_keys(&mut child, twice);
                let parts = split_key(&key);
                insert_path(table, &parts, child, node_key(&parts), twice);
            }
        }
        _ => {}
    }
}

fn node_key(parts: &[String]) -> String {
    parts.join(".")
}

fn split_key(key: &str) -> Vec<String> {
    if let Some(inner) = key.strip_prefix('[').and_then(|k| k.strip_suffix(']')) {
        return vec![inner.to_string()];
    }
    let mut out = Vec::new();
    let mut rest = key;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[')
            && let Some(close) = inner.find(']')
        {
            out.push(inner[..close].to_string());
            rest = inner[close + 1..].trim_start_matches('.');
            continue;
        }
        match rest.find(['.', '[']) {
            Some(i) => {
                if i > 0 {
                    out.push(rest[..i].to_string());
                }
                rest = rest[i..].strip_prefix('.').unwrap_or(&rest[i..]);
            }
            None => {
                out.push(rest.to_string());
                break;
            }
        }
    }
    if out.is_empty() {
        out.push(key.to_string());
    }
    out
}

fn insert_path(
    table: &mut Table,
    parts: &[String],
    child: Node,
    full: String,
    twice: &mut Vec<(Span, String)>,
) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    if rest.is_empty() {
        match table.get_mut(first) {
            Some(existing) if existing.as_table().is_some() && child.as_table().is_some() => {
                if let (Value::Table(into), Value::Table(from)) = (&mut existing.value, child.value)
                {
                    for (k, v) in from {
                        let full = format!("{full}.{k}");
                        insert_path(into, std::slice::from_ref(&k), v, full, twice);
                    }
                }
            }
            // A null is Spring's empty text: it sets nothing that a table would lose.
            Some(existing) if existing.as_table().is_some() && child.value == Value::Null => {}
            Some(existing) if existing.value == Value::Null => {
                table.insert(first.clone(), child);
            }
            Some(_) => {
                twice.push((child.key, full));
                table.insert(first.clone(), child);
            }
            None => {
                table.insert(first.clone(), child);
            }
        }
        return;
    }
    let entry = table.entry(first.clone()).or_insert_with(|| Node {
        value: Value::Table(Table::new()),
        file: child.file,
        key: child.key,
        span: child.span,
    });
    if entry.as_table().is_none() {
        if entry.value != Value::Null {
            twice.push((child.key, full.clone()));
        }
        entry.value = Value::Table(Table::new());
    }
    if let Value::Table(t) = &mut entry.value {
        insert_path(t, rest, child, full, twice);
    }
}

/// The Spring document without its activation keys (they say when it applies, not what the
/// application sees).
pub fn strip_activation(root: &mut Node) {
    if let Some(Value::Table(spring)) = root.as_table_mut_value("spring") {
        if let Some(Value::Table(config)) = spring.get_mut("config").map(|n| &mut n.value) {
            config.remove("activate");
            if config.is_empty() {
                spring.remove("config");
            }
        }
        if spring
            .get("profiles")
            .is_some_and(|p| p.as_table().is_none())
        {
            spring.remove("profiles");
        }
    }
}

trait TableMut {
    fn as_table_mut_value(&mut self, key: &str) -> Option<&mut Value>;
}

impl TableMut for Node {
    fn as_table_mut_value(&mut self, key: &str) -> Option<&mut Value> {
        match &mut self.value {
            Value::Table(t) => t.get_mut(key).map(|n| &mut n.value),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn sorted(list: &[&str]) -> Vec<String> {
        let mut v = names(list);
        v.sort();
        v
    }

    #[test]
    fn members_of_each_layout() {
        let files = sorted(&[
            "base.yaml",
            "dev.yaml",
            "prod.yml",
            "schema.json",
            "notes.toml",
        ]);
        let m = members(Layout::Overlays, &files, None).expect("a set");
        assert_eq!(
            m,
            [
                (Role::Base, "base.yaml".into()),
                (Role::Overlay("dev".into()), "dev.yaml".into()),
                (Role::Overlay("prod".into()), "prod.yml".into())
            ]
        );
        let files = sorted(&[
            "application.yml",
            "application-prod.yml",
            "application-dev.yaml",
            "logback.xml",
            "application.properties",
        ]);
        let m = members(Layout::Spring, &files, None).expect("a set");
        assert_eq!(m.len(), 3);
        assert_eq!(
            m[1],
            (Role::Overlay("dev".into()), "application-dev.yaml".into())
        );
        let files = sorted(&[
            "values.yaml",
            "values-production.yaml",
            "values.schema.json",
            "Chart.yaml",
        ]);
        let m = members(Layout::Helm, &files, None).expect("a set");
        assert_eq!(
            m[1],
            (
                Role::Overlay("production".into()),
                "values-production.yaml".into()
            )
        );
        assert!(members(Layout::Spring, &names(&["values.yaml"]), None).is_none());
    }

    #[test]
    fn profile_expressions() {
        let active = names(&["prod", "eu"]);
        for (e, want) in [
            ("prod", true),
            ("!dev", true),
            ("!prod", false),
            ("prod & eu", true),
            ("prod & us", false),
            ("dev | eu", true),
            ("(dev | prod) & !us", true),
            ("prod & eu | dev", false),
            ("(", false),
        ] {
            assert_eq!(ProfileExpr::parse(e).eval(&active), want, "{e}");
        }
        assert!(matches!(
            ProfileExpr::parse("a & b | c"),
            ProfileExpr::Invalid(_)
        ));
    }

    #[test]
    fn groups_expand_depth_first_each_once() {
        let groups = vec![
            ("production".to_string(), names(&["proddb", "prodmq"])),
            ("proddb".to_string(), names(&["pg", "production"])),
        ];
        assert_eq!(
            expand(&names(&["production", "msk"]), &groups),
            ["production", "proddb", "pg", "prodmq", "msk"]
        );
    }

    #[test]
    fn dotted_keys_nest_and_brackets_keep_dots() {
        let text = "spring.datasource.url: a\nspring:\n  datasource:\n    username: u\n\"[app.kubernetes.io/name]\": shop\nlogging.level.org.example: DEBUG\n";
        let mut root = shipgate_doc::yaml::parse(text, FileId(0), Dialect::Spring)
            .expect("valid")
            .documents
            .remove(0)
            .root;
        let mut twice = Vec::new();
        nest_dotted_keys(&mut root, &mut twice);
        let get = |p: &str| shipgate_doc::node::get(&root, p).map(|n| n.value.clone());
        assert_eq!(
            get("spring.datasource.url"),
            Some(Value::String("a".into()))
        );
        assert_eq!(
            get("spring.datasource.username"),
            Some(Value::String("u".into()))
        );
        assert_eq!(
            get("logging.level.org.example"),
            Some(Value::String("DEBUG".into()))
        );
        assert!(
            root.as_table()
                .expect("table")
                .contains_key("app.kubernetes.io/name")
        );
        assert!(twice.is_empty());
        let mut dup = shipgate_doc::yaml::parse("a.b: 1\na:\n  b: 2\n", FileId(0), Dialect::Spring)
            .expect("valid")
            .documents
            .remove(0)
            .root;
        nest_dotted_keys(&mut dup, &mut twice);
        assert_eq!(twice.len(), 1);
        assert_eq!(
            shipgate_doc::node::get(&dup, "a.b").map(|n| n.value.clone()),
            Some(Value::Integer(2))
        );
    }
}

//! Checking one configuration set (a base and its overlays, in any layout): parse, layer,
//! schema, rules, then place every finding at file:line:col. Pure: texts in, diagnostics out.

use std::collections::HashMap;

use shipgate_doc::{Document, Format, ProblemKind};

pub use crate::finding::Finding;

use crate::diagnostic::{self, Diagnostic, Rule, Severity};
use crate::layout::{self, Role};
use crate::rules::{self, Merged};
use crate::schema::{Reading, Schema};
use crate::secrets::Redactor;
use crate::settings::{EnvironmentsSettings, Layout};
use crate::source::{LineIndex, Span};
use crate::tree::{FileId, Node, Value};

/// One file of a set, as the loader found it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path shown in diagnostics (relative to the repository, `/`-separated).
    pub name: String,
    pub content: Content,
}

/// A file's text, or why there is none.
#[derive(Debug, Clone)]
pub enum Content {
    Text(String),
    /// Unreadable, too large, not UTF-8: the diagnostic already says where.
    Unusable(Diagnostic),
}

/// A directory's configuration: its base file(s) first, then the overlays, each with its
/// role; a file's index in `files` is its [`FileId`].
#[derive(Debug, Clone)]
pub struct ConfigSet {
    /// The directory, as shown (relative to the repository).
    pub dir: String,
    pub layout: Layout,
    pub files: Vec<(Role, SourceFile)>,
}

impl ConfigSet {
    /// An `overlays` set: `base` and one overlay per (name, file).
    pub fn overlays(dir: &str, base: SourceFile, overlays: Vec<(String, SourceFile)>) -> ConfigSet {
        let mut files = vec![(Role::Base, base)];
        files.extend(overlays.into_iter().map(|(n, f)| (Role::Overlay(n), f)));
        ConfigSet {
            dir: dir.to_string(),
            layout: Layout::Overlays,
            files,
        }
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize].1
    }

    /// The (first) base file.
    pub fn base(&self) -> &SourceFile {
        self.file(FileId(0))
    }

    /// The file of the overlay called `name`, if the set has one.
    pub fn overlay_mut(&mut self, name: &str) -> Option<&mut SourceFile> {
        self.files
            .iter_mut()
            .find(|(r, _)| *r == Role::Overlay(name.to_string()))
            .map(|(_, f)| f)
    }

    /// Names of every file of the set, base first.
    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|(_, f)| f.name.as_str())
    }

    fn format(&self, id: FileId) -> Format {
        layout::format(self.layout, &self.file(id).name)
    }
}

/// The outcome of checking one set.
#[derive(Debug, Default)]
pub struct SetReport {
    pub diagnostics: Vec<Diagnostic>,
    /// Every secret value seen, to redact from any output.
    pub redactor: Redactor,
    /// Each environment's files, as its layout reads them (base first).
    pub files: Vec<(String, Vec<String>)>,
}

/// Parsed files and merged environments of a set (what `show` and `check` share).
pub struct Layered {
    pub merged: Vec<Merged>,
    /// Each environment's files (base first), merged or not.
    pub files: Vec<(String, Vec<FileId>)>,
    findings: Vec<Finding>,
    diagnostics: Vec<Diagnostic>,
    /// Each file's documents as read (Spring: dotted keys nested), `None` when unusable.
    trees: Vec<Option<Vec<Document>>>,
}

fn syntax_rule(format: Format) -> Rule {
    match format {
        Format::Toml => Rule::TomlSyntax,
        Format::Yaml(_) => Rule::YamlSyntax,
        Format::Json => Rule::JsonSyntax,
    }
}

/// Parses every file and layers each environment of `order`.
pub fn layer(set: &ConfigSet, settings: &EnvironmentsSettings) -> Layered {
    let mut findings = Vec::new();
    let mut diagnostics = Vec::new();
    let trees: Vec<Option<Vec<Document>>> = (0..set.files.len())
        .map(|i| {
            let id = FileId(i as u32);
            let Content::Text(text) = &set.file(id).content else {
                if let Content::Unusable(d) = &set.file(id).content {
                    diagnostics.push(d.clone());
                }
                return None;
            };
            read(set, id, text, &mut findings)
        })
        .collect();
    if set.layout == Layout::Overlays {
        for (i, (role, file)) in set.files.iter().enumerate() {
            let Role::Overlay(name) = role else { continue };
            let known = settings.order.contains(name) || settings.names.values().any(|n| n == name);
            if !known {
                findings.push(Finding::at(
                    FileId(i as u32),
                    Span::default(),
                    Rule::UnknownEnvironment,
                    format!(
                        "`{}` is an overlay for `{name}`, which is not in [environments] order ({})",
                        file.name,
                        settings.order.join(", ")
                    ),
                    Some(format!(
                        "add `{name}` to [environments] order in shipgate.toml, or rename the file"
                    )),
                ));
            }
        }
    }
    let roles: Vec<Role> = set.files.iter().map(|(r, _)| r.clone()).collect();
    let base_name = set
        .base()
        .name
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut merged = Vec::new();
    let mut files = Vec::new();
    for env in &settings.order {
        let plan = match layout::plan(
            set.layout, settings, env, &roles, &trees, &set.dir, &base_name,
        ) {
            Ok(plan) => plan,
            Err(missing) => {
                let expected = &missing.expected;
                diagnostics.push(Diagnostic {
                    environments: vec![env.clone()],
                    ..Diagnostic::at_file_start(
                        &set.base().name,
                        Rule::MissingOverlay,
                        format!("environment `{env}` has no overlay: {expected} is missing"),
                        Some(format!("create {expected} (it may be empty), or remove `{env}` from [environments] order")),
                    )
                });
                files.push((env.clone(), vec![FileId(0)]));
                continue;
            }
        };
        files.push((env.clone(), plan.files.clone()));
        if let Some(expected) = &plan.lacks {
            // A 12-factor service may run on application.yml (a chart on values.yaml) and
            // its deployment's environment alone; say so, in case a name is wrong.
            let own = if set.layout == Layout::Spring {
                format!(
                    " (profiles {}): no {expected} and no document activated by its profiles",
                    plan.profiles.join(", ")
                )
            } else {
                format!(": no {expected}")
            };
            diagnostics.push(Diagnostic {
                severity: Severity::Warning,
                environments: vec![env.clone()],
                ..Diagnostic::at_file_start(
                    &set.base().name,
                    Rule::MissingOverlay,
                    format!(
                        "environment `{env}` has no configuration of its own{own}; it runs on {} alone",
                        set.base().name
                    ),
                    Some(format!("create {expected}, or map `{env}` to its name in the files with [environments] names")),
                )
            });
        }
        // Every file of the plan must have parsed, or there is nothing sound to check.
        let usable = plan.files.iter().all(|f| trees[f.0 as usize].is_some());
        if !usable {
            continue;
        }
        let mut root = Node::new(Value::Table(Default::default()), FileId(0), Span::default());
        for (f, d) in &plan.documents {
            if let Some(docs) = &trees[f.0 as usize] {
                let nulls = match set.layout {
                    Layout::Helm => shipgate_doc::node::Nulls::Remove,
                    Layout::Spring => shipgate_doc::node::Nulls::Empty,
                    Layout::Overlays => shipgate_doc::node::Nulls::Keep,
                };
                let doc = &docs[*d].root;
                // Merging copies what it takes; only Spring's documents need a copy of
                // their own first, without their activation keys.
                if set.layout == Layout::Spring {
                    let mut doc = doc.clone();
                    layout::strip_activation(&mut doc);
                    shipgate_doc::node::merge_into(&mut root, &doc, nulls);
                } else {
                    shipgate_doc::node::merge_into(&mut root, doc, nulls);
                }
            }
        }
        merged.push(Merged {
            env: env.clone(),
            overlay: plan.primary,
            root,
        });
    }
    Layered {
        merged,
        files,
        findings,
        diagnostics,
        trees,
    }
}

/// One file's documents, with its syntax errors and doubtful places as findings.
fn read(
    set: &ConfigSet,
    id: FileId,
    text: &str,
    findings: &mut Vec<Finding>,
) -> Option<Vec<Document>> {
    let format = set.format(id);
    let parsed = match shipgate_doc::parse(text, format, id) {
        Ok(p) => p,
        Err(errors) => {
            findings.extend(errors.into_iter().map(|e| {
                Finding::at(
                    id,
                    e.span,
                    syntax_rule(format),
                    format!("invalid {}: {}", format.name(), e.message),
                    None,
                )
            }));
            return None;
        }
    };
    for p in parsed.problems {
        let f = match p.kind {
            ProblemKind::DuplicateKey => {
                Finding::at(id, p.span, Rule::DuplicateKey, p.message, Some(p.hint))
            }
            ProblemKind::Ambiguous => {
                Finding::at(id, p.span, Rule::YamlAmbiguous, p.message, Some(p.hint)).warning()
            }
        };
        findings.push(f);
    }
    let mut docs = parsed.documents;
    for doc in &mut docs {
        match doc.root.value {
            Value::Table(_) => {}
            Value::Null => doc.root.value = Value::Table(Default::default()),
            _ => {
                findings.push(Finding::at(
                    id,
                    doc.root.span,
                    syntax_rule(format),
                    format!(
                        "the top level of {} must be a mapping of keys, not {}",
                        set.file(id).name,
                        doc.root.type_name()
                    ),
                    Some("write `key: value` pairs at the top level".into()),
                ));
                return None;
            }
        }
        if set.layout == Layout::Spring {
            let mut twice = Vec::new();
            layout::nest_dotted_keys(&mut doc.root, &mut twice);
            for (span, key) in twice {
                findings.push(
                    Finding::at(
                        id,
                        span,
                        Rule::DuplicateKey,
                        format!("`{key}` is set twice in this document (dotted and nested); Spring takes the later one"),
                        Some("keep one of them".into()),
                    )
                    .warning(),
                );
            }
            if let Some((span, message)) = layout::activation_problem(&doc.root) {
                findings.push(Finding::at(
                    id,
                    span,
                    Rule::Profiles,
                    message,
                    Some("Spring refuses `&` and `|` mixed without parentheses; the document never applies".into()),
                ));
            }
        }
    }
    Some(docs)
}

/// Checks one set: syntax, layering, schema (when given), secrets, ordering, parity, SLOs.
/// Every problem is reported, each once, at the place that caused it.
pub fn check(
    set: &ConfigSet,
    schema: Option<&Schema>,
    settings: &EnvironmentsSettings,
) -> SetReport {
    let Layered {
        merged,
        files,
        mut findings,
        mut diagnostics,
        trees,
    } = layer(set, settings);
    let mut redactor = Redactor::default();
    for (i, docs) in trees.iter().enumerate() {
        let (Some(docs), Content::Text(text)) = (docs, &set.file(FileId(i as u32)).content) else {
            continue;
        };
        for doc in docs {
            rules::secrets(
                &doc.root,
                text,
                &settings.secrets.allow,
                &mut findings,
                &mut |s| redactor.add(s),
            );
        }
    }
    // The configuration's own names are no secret (see `Redactor::keep`); they matter only
    // where there is a secret to redact.
    if !redactor.is_empty() {
        for env in &settings.order {
            redactor.keep(env);
            redactor.keep(&settings.file_name(env));
        }
        for name in set.file_names() {
            redactor.keep(name);
            redactor.keep(name.rsplit('/').next().unwrap_or(name));
        }
        for docs in trees.iter().flatten() {
            for doc in docs {
                keep_keys(&doc.root, "", &mut redactor);
            }
        }
    }
    if let Some(schema) = schema {
        let reading = if set.layout == Layout::Spring {
            Reading::Spring
        } else {
            Reading::AsWritten
        };
        let base = set
            .base()
            .name
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        for env in &merged {
            for p in schema.check(&env.root, reading, &base) {
                let span = if p.at_key { p.node.key } else { p.node.span };
                findings.push(Finding {
                    env: Some(env.env.clone()),
                    ..Finding::at(p.node.file, span, Rule::Schema, p.message, p.hint)
                });
            }
        }
    }
    let file_of = |env: &str| env_file_name(set, settings, env);
    rules::ordering(&merged, settings, &mut findings);
    rules::parity(&merged, settings, &file_of, &mut findings);
    rules::slo(&merged, settings, &mut findings);
    diagnostics.extend(place(set, findings));
    for d in &mut diagnostics {
        redact(d, &redactor);
    }
    diagnostic::sort(&mut diagnostics);
    let files = files
        .into_iter()
        .map(|(env, ids)| {
            (
                env,
                ids.into_iter()
                    .map(|id| set.file(id).name.clone())
                    .collect(),
            )
        })
        .collect();
    SetReport {
        diagnostics,
        redactor,
        files,
    }
}

/// Every key and key path below `node` kept by the redactor.
fn keep_keys(node: &Node, prefix: &str, redactor: &mut Redactor) {
    match &node.value {
        Value::Table(t) => {
            for (k, child) in t {
                let path = crate::tree::join(prefix, k);
                redactor.keep(k);
                redactor.keep(&path);
                keep_keys(child, &path, redactor);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| keep_keys(i, prefix, redactor)),
        _ => {}
    }
}

/// The file an environment's own values go in, as hints name it (`prod.toml`,
/// `values-production.yaml`, `application-production.yml`).
pub fn env_file_name(set: &ConfigSet, settings: &EnvironmentsSettings, env: &str) -> String {
    let name = settings.file_name(env);
    let first = name.split(',').next().unwrap_or(&name).to_string();
    let ext = set
        .base()
        .name
        .rsplit_once('.')
        .map_or("toml", |(_, e)| e)
        .to_string();
    match set.layout {
        Layout::Overlays => format!("{first}.{ext}"),
        Layout::Helm => format!("values-{first}.{ext}"),
        Layout::Spring => format!("application-{first}.{ext}"),
    }
}

/// Removes every secret from a diagnostic's text.
pub fn redact(d: &mut Diagnostic, redactor: &Redactor) {
    if redactor.is_empty() {
        return;
    }
    d.message = redactor.redact(&d.message);
    d.hint = d.hint.as_deref().map(|h| redactor.redact(h));
    d.source_line = d.source_line.as_deref().map(|l| redactor.redact(l));
}

/// Merges findings that are the same problem in several environments (an inherited value
/// is wrong everywhere: one diagnostic, "in dev, staging, prod"), then turns spans into
/// lines and columns.
fn place(set: &ConfigSet, findings: Vec<Finding>) -> Vec<Diagnostic> {
    let mut grouped: Vec<(Finding, Vec<String>)> = Vec::new();
    let mut seen: HashMap<(FileId, u32, u32, Rule, String), usize> = HashMap::new();
    for f in findings {
        let key = (f.file, f.span.start, f.span.end, f.rule, f.message.clone());
        match seen.get(&key) {
            Some(&i) => {
                grouped[i].0.concerns.extend(f.concerns);
                grouped[i].1.extend(f.env);
            }
            None => {
                seen.insert(key, grouped.len());
                let envs = f.env.iter().cloned().collect();
                grouped.push((f, envs));
            }
        }
    }
    let mut indexes: HashMap<FileId, LineIndex> = HashMap::new();
    grouped
        .into_iter()
        .map(|(f, envs)| {
            let file = set.file(f.file);
            let text = match &file.content {
                Content::Text(t) => t.as_str(),
                Content::Unusable(_) => "",
            };
            let index = indexes
                .entry(f.file)
                .or_insert_with(|| LineIndex::new(text));
            let (line, column) = index.line_col(text, f.span.start as usize);
            let (end_line, end_column) = index.line_col(text, f.span.end as usize);
            let message = if envs.is_empty() {
                f.message
            } else {
                format!("{} (in {})", f.message, envs.join(", "))
            };
            let mut environments = f.concerns;
            environments.extend(envs);
            environments.sort();
            environments.dedup();
            Diagnostic {
                file: file.name.clone(),
                line,
                column,
                end_line,
                end_column,
                rule: f.rule,
                severity: f.severity,
                message,
                hint: f.hint,
                source_line: Some(crate::schema::truncate(index.line_text(text, line), 400)),
                environments,
            }
        })
        .collect()
}

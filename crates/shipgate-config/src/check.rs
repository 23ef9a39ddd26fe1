//! Checking one configuration set (base.toml and its overlays): parse, layer, schema, rules,
//! then place every finding at file:line:col. Pure: texts in, diagnostics out.

use std::collections::HashMap;

use crate::diagnostic::{self, Diagnostic, Rule, Severity};
use crate::rules::{self, Merged};
use crate::schema::Schema;
use crate::secrets::Redactor;
use crate::settings::EnvironmentsSettings;
use crate::source::{LineIndex, Span};
use crate::tree::{self, FileId, Node};

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

/// A directory's configuration: base.toml and every other `*.toml` beside it, each an
/// overlay named by its file stem.
#[derive(Debug, Clone)]
pub struct ConfigSet {
    /// The directory, as shown (relative to the repository).
    pub dir: String,
    pub base: SourceFile,
    /// (environment, file).
    pub overlays: Vec<(String, SourceFile)>,
}

impl ConfigSet {
    fn file(&self, id: FileId) -> &SourceFile {
        match id.0 {
            0 => &self.base,
            i => &self.overlays[i as usize - 1].1,
        }
    }

    fn file_count(&self) -> usize {
        self.overlays.len() + 1
    }

    /// Names of every file of the set, base first.
    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.base.name.as_str())
            .chain(self.overlays.iter().map(|(_, f)| f.name.as_str()))
    }
}

/// A problem found in a set, before it is placed at a line and column.
#[derive(Debug, Clone)]
pub struct Finding {
    pub file: FileId,
    pub span: Span,
    pub rule: Rule,
    pub message: String,
    pub hint: Option<String>,
    /// The environment whose merged configuration shows it (schema problems).
    pub env: Option<String>,
}

impl Finding {
    /// At a node's value.
    pub fn value(node: &Node, rule: Rule, message: String, hint: Option<String>) -> Finding {
        Finding {
            file: node.file,
            span: node.span,
            rule,
            message,
            hint,
            env: None,
        }
    }

    /// At a node's key.
    pub fn key(node: &Node, rule: Rule, message: String, hint: Option<String>) -> Finding {
        Finding {
            file: node.file,
            span: node.key,
            rule,
            message,
            hint,
            env: None,
        }
    }
}

/// The outcome of checking one set.
#[derive(Debug, Default)]
pub struct SetReport {
    pub diagnostics: Vec<Diagnostic>,
    /// Every secret value seen, to redact from any output.
    pub redactor: Redactor,
}

/// Parsed files and merged environments of a set (what `show` and `check` share).
pub struct Layered {
    pub merged: Vec<Merged>,
    findings: Vec<Finding>,
    diagnostics: Vec<Diagnostic>,
    trees: Vec<Option<Node>>,
}

/// Parses every file and layers each environment of `order`.
pub fn layer(set: &ConfigSet, settings: &EnvironmentsSettings) -> Layered {
    let mut findings = Vec::new();
    let mut diagnostics = Vec::new();
    let trees: Vec<Option<Node>> = (0..set.file_count())
        .map(|i| {
            let id = FileId(i as u32);
            match &set.file(id).content {
                Content::Unusable(d) => {
                    diagnostics.push(d.clone());
                    None
                }
                Content::Text(text) => match tree::parse(text, id) {
                    Ok(node) => Some(node),
                    Err(errors) => {
                        findings.extend(errors.into_iter().map(|(message, span)| Finding {
                            file: id,
                            span,
                            rule: Rule::TomlSyntax,
                            message: format!("invalid TOML: {message}"),
                            hint: None,
                            env: None,
                        }));
                        None
                    }
                },
            }
        })
        .collect();
    for (i, (env, file)) in set.overlays.iter().enumerate() {
        if !settings.order.contains(env) {
            findings.push(Finding {
                file: FileId(i as u32 + 1),
                span: Span::default(),
                rule: Rule::UnknownEnvironment,
                message: format!(
                    "`{}` is an overlay for `{env}`, which is not in [environments] order ({})",
                    file.name,
                    settings.order.join(", ")
                ),
                hint: Some(format!(
                    "add `{env}` to [environments] order in shipgate.toml, or rename the file"
                )),
                env: None,
            });
        }
    }
    let mut merged = Vec::new();
    for env in &settings.order {
        let Some(index) = set.overlays.iter().position(|(e, _)| e == env) else {
            let expected = format!("{}/{env}.toml", set.dir);
            diagnostics.push(Diagnostic::at_file_start(
                &set.base.name,
                Rule::MissingOverlay,
                format!("environment `{env}` has no overlay: {expected} is missing"),
                Some(format!("create {expected} (it may be empty), or remove `{env}` from [environments] order")),
            ));
            continue;
        };
        let overlay = FileId(index as u32 + 1);
        if let (Some(base), Some(over)) = (&trees[0], &trees[overlay.0 as usize]) {
            merged.push(Merged {
                env: env.clone(),
                overlay,
                root: tree::merge(base, over),
            });
        }
    }
    Layered {
        merged,
        findings,
        diagnostics,
        trees,
    }
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
        mut findings,
        mut diagnostics,
        trees,
    } = layer(set, settings);
    let mut redactor = Redactor::default();
    for (i, root) in trees.iter().enumerate() {
        let (Some(root), Content::Text(text)) = (root, &set.file(FileId(i as u32)).content) else {
            continue;
        };
        rules::secrets(
            root,
            text,
            &settings.secrets.allow,
            &mut findings,
            &mut |s| redactor.add(s),
        );
    }
    if let Some(schema) = schema {
        for env in &merged {
            for p in schema.check(&env.root) {
                let span = if p.at_key { p.node.key } else { p.node.span };
                findings.push(Finding {
                    file: p.node.file,
                    span,
                    rule: Rule::Schema,
                    message: p.message,
                    hint: p.hint,
                    env: Some(env.env.clone()),
                });
            }
        }
    }
    rules::ordering(&merged, settings, &mut findings);
    rules::parity(&merged, settings, &mut findings);
    rules::slo(&merged, settings, &mut findings);
    diagnostics.extend(place(set, findings));
    for d in &mut diagnostics {
        redact(d, &redactor);
    }
    diagnostic::sort(&mut diagnostics);
    SetReport {
        diagnostics,
        redactor,
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
            Some(&i) => grouped[i].1.extend(f.env),
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
            Diagnostic {
                file: file.name.clone(),
                line,
                column,
                end_line,
                end_column,
                rule: f.rule,
                severity: Severity::Error,
                message,
                hint: f.hint,
                source_line: Some(crate::schema::truncate(index.line_text(text, line), 400)),
            }
        })
        .collect()
}

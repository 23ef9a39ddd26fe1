//! Environment configuration: a base layered with each environment's files (TOML, YAML or
//! JSON overlays; Spring Boot's application.yml and profiles; Helm's values files), checked
//! against a JSON Schema and built-in cross-environment rules, every problem reported at the
//! file:line:col of the value that caused it.
//!
//! The core ([`check::check`], [`render`], [`show`]) is pure: file texts in, diagnostics
//! and text out. [`load`] is the only module that touches the filesystem.

pub mod check;
pub mod diagnostic;
pub mod finding;
pub mod layout;
pub mod load;
pub mod placeholder;
pub mod render;
pub mod rules;
pub mod schema;
pub mod secrets;
pub mod settings;
pub mod show;
pub mod source;
pub mod tree;

pub use check::{ConfigSet, Content, SourceFile};
pub use diagnostic::{Diagnostic, Rule, Severity};
pub use load::{LoadError, LoadRequest, Workspace};
pub use render::Format;
pub use schema::Schema;
pub use secrets::Redactor;
pub use settings::{EnvironmentsSettings, Layout};

shipgate_stdx::hints!(LoadError, settings::SettingsProblem);

/// The outcome of validating every set of a workspace.
#[derive(Debug, Default)]
pub struct Report {
    /// Sorted by file, line, column; secrets redacted.
    pub diagnostics: Vec<Diagnostic>,
    /// Every file checked (configuration and schema files).
    pub files: Vec<String>,
    /// How many configuration sets (services) were checked.
    pub sets: usize,
    /// Directories of the sets that have no schema (schema checks skipped there).
    pub without_schema: Vec<String>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Checks every set of a loaded workspace, in parallel (pure: no I/O).
pub fn check_workspace(workspace: &Workspace, settings: &EnvironmentsSettings) -> Report {
    let mut diagnostics: Vec<Diagnostic> = workspace
        .schemas
        .iter()
        .filter_map(|s| s.as_ref().err().map(|d| (**d).clone()))
        .collect();
    let reports = shipgate_stdx::par::map(&workspace.sets, |(set, schema)| {
        let schema = schema
            .and_then(|i| workspace.schemas.get(i))
            .and_then(|s| s.as_ref().ok());
        check::check(set, schema, settings)
    });
    for report in reports {
        diagnostics.extend(report.diagnostics);
    }
    diagnostic::sort(&mut diagnostics);
    let mut files: Vec<String> = workspace
        .sets
        .iter()
        .flat_map(|(set, _)| set.file_names().map(String::from))
        .collect();
    for schema in &workspace.schemas {
        match schema {
            Ok(s) => files.push(s.name.clone()),
            Err(d) => files.push(d.file.clone()),
        }
    }
    let without_schema = workspace
        .sets
        .iter()
        .filter(|(_, schema)| schema.is_none())
        .map(|(set, _)| set.dir.clone())
        .collect();
    Report {
        diagnostics,
        files,
        sets: workspace.sets.len(),
        without_schema,
    }
}

/// Loads and checks: `shipgate config validate` in one call.
pub fn validate(request: &LoadRequest<'_>) -> Result<Report, LoadError> {
    let workspace = load::load(request)?;
    Ok(check_workspace(&workspace, request.settings))
}

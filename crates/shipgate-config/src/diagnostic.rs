//! Diagnostics: one problem, at the file:line:col of the value that caused it, with its rule.

use std::fmt;

use serde::Serialize;

/// How bad a problem is. Errors make `validate` answer "no" (exit code 1).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Every rule a diagnostic can come from. The id is stable: CI annotations, SARIF rule ids
/// and JUnit failure types use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// A file could not be read (permissions, a symlink loop, a directory in its place).
    ReadError,
    /// A file is larger than `max-file-size`.
    FileTooLarge,
    /// A file is not valid UTF-8.
    Encoding,
    /// TOML syntax.
    TomlSyntax,
    /// YAML syntax (and YAML that is not a mapping of keys at the top).
    YamlSyntax,
    /// JSON syntax.
    JsonSyntax,
    /// A key set twice in one mapping.
    DuplicateKey,
    /// A plain YAML scalar that YAML 1.1 and YAML 1.2 readers read differently.
    YamlAmbiguous,
    /// A Spring profile expression that cannot be read.
    Profiles,
    /// An environment in the order list has no overlay file.
    MissingOverlay,
    /// An overlay file names an environment that is not in the order list.
    UnknownEnvironment,
    /// The schema file itself is not valid JSON or not a valid JSON Schema.
    SchemaInvalid,
    /// The merged configuration does not match the JSON Schema.
    Schema,
    /// A value that must not decrease (or increase) along the environment order does.
    Ordering,
    /// A key set in one environment is missing in the next.
    Parity,
    /// A literal credential where a secret reference is required.
    SecretLiteral,
    /// The platform's service-level objectives for production.
    Slo,
    /// shipgate.toml's `[canary]`: what `canary run` would refuse (or warn of) before it
    /// moves traffic.
    CanarySettings,
}

impl Rule {
    pub const ALL: [Rule; 18] = [
        Rule::ReadError,
        Rule::FileTooLarge,
        Rule::Encoding,
        Rule::TomlSyntax,
        Rule::YamlSyntax,
        Rule::JsonSyntax,
        Rule::DuplicateKey,
        Rule::YamlAmbiguous,
        Rule::Profiles,
        Rule::MissingOverlay,
        Rule::UnknownEnvironment,
        Rule::SchemaInvalid,
        Rule::Schema,
        Rule::Ordering,
        Rule::Parity,
        Rule::SecretLiteral,
        Rule::Slo,
        Rule::CanarySettings,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Rule::ReadError => "read-error",
            Rule::FileTooLarge => "file-too-large",
            Rule::Encoding => "encoding",
            Rule::TomlSyntax => "toml-syntax",
            Rule::YamlSyntax => "yaml-syntax",
            Rule::JsonSyntax => "json-syntax",
            Rule::DuplicateKey => "duplicate-key",
            Rule::YamlAmbiguous => "yaml-ambiguous",
            Rule::Profiles => "profiles",
            Rule::MissingOverlay => "missing-overlay",
            Rule::UnknownEnvironment => "unknown-environment",
            Rule::SchemaInvalid => "schema-invalid",
            Rule::Schema => "schema",
            Rule::Ordering => "ordering",
            Rule::Parity => "parity",
            Rule::SecretLiteral => "secret-literal",
            Rule::Slo => "slo",
            Rule::CanarySettings => "canary-settings",
        }
    }

    /// One line saying what the rule checks (SARIF `shortDescription`).
    pub fn description(self) -> &'static str {
        match self {
            Rule::ReadError => "Every configuration file can be read",
            Rule::FileTooLarge => "Configuration files stay under the size limit",
            Rule::Encoding => "Configuration files are UTF-8",
            Rule::TomlSyntax => "Configuration files are valid TOML",
            Rule::YamlSyntax => "YAML configuration files parse, with a mapping of keys at the top",
            Rule::JsonSyntax => "JSON configuration files are valid JSON",
            Rule::DuplicateKey => "No key is set twice in one mapping",
            Rule::YamlAmbiguous => {
                "Plain YAML values read the same to YAML 1.1 and YAML 1.2 readers"
            }
            Rule::Profiles => "Spring profile expressions can be read",
            Rule::MissingOverlay => "Every environment in the order list has an overlay file",
            Rule::UnknownEnvironment => "Every overlay file names an environment of the order list",
            Rule::SchemaInvalid => "The schema file is a valid JSON Schema",
            Rule::Schema => "The merged configuration of each environment matches the JSON Schema",
            Rule::Ordering => {
                "Declared values do not decrease (or increase) along the environment order"
            }
            Rule::Parity => {
                "Keys set in one environment are set in the next, except allowed differences"
            }
            Rule::SecretLiteral => "Credentials are secret references, never literals",
            Rule::Slo => "Production meets the platform's service-level objectives",
            Rule::CanarySettings => {
                "shipgate.toml's [canary] holds nothing `canary run` would refuse: known placeholders, no quoted command values, each metric's queries, one actuator"
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// In JSON, a rule is its id: one of [`Rule::ALL`]'s, each with its description.
impl schemars::JsonSchema for Rule {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Rule".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let ids: Vec<serde_json::Value> = Rule::ALL
            .iter()
            .map(|r| serde_json::json!({"const": r.id(), "description": r.description()}))
            .collect();
        schemars::json_schema!({
            "description": "The rule's stable id.",
            "type": "string",
            "oneOf": ids,
        })
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

/// One problem at one place. Lines and columns are 1-based; columns count characters.
/// `message`, `hint` and `source_line` never hold a secret value (see [`crate::Redactor`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Diagnostic {
    /// The file, relative to the repository root, `/`-separated.
    pub file: String,
    /// Where the problem starts: its line.
    pub line: u32,
    /// Its column.
    pub column: u32,
    /// Where it ends: its line.
    pub end_line: u32,
    /// Its column.
    pub end_column: u32,
    /// The rule that found it.
    pub rule: Rule,
    /// `error` (fails validation) or `warning`.
    pub severity: Severity,
    /// What is wrong, in one line.
    pub message: String,
    /// What to do about it, when there is something to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The text of line `line`, for carets in human output.
    #[serde(skip)]
    pub source_line: Option<String>,
    /// The environments it is about, when it is about some and not about the file as
    /// every environment reads it (a schema problem in prod's merged configuration, a parity
    /// gap in prod, a missing overlay): what a promotion's configuration gate asks.
    #[serde(skip)]
    pub environments: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic at the start of a file (for problems with the file as a whole).
    pub fn at_file_start(
        file: &str,
        rule: Rule,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        Diagnostic {
            file: file.to_string(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            rule,
            severity: Severity::Error,
            message: message.into(),
            hint,
            source_line: None,
            environments: Vec::new(),
        }
    }
}

/// Errors first would hide order; this sorts by place, then rule, then message.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.rule, &a.message)
            .cmp(&(&b.file, b.line, b.column, b.rule, &b.message))
    });
}

/// Counts of errors and warnings.
pub fn counts(diagnostics: &[Diagnostic]) -> (usize, usize) {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (errors, diagnostics.len() - errors)
}

//! TOML, YAML and JSON read into one tree whose every node knows the file and the byte spans
//! of its key and value ([`node`]), key paths that point into it ([`path`]), and edits of one
//! value that keep every other byte of the file ([`edit`]). Pure: texts in, trees and texts
//! out.
//!
//! YAML scalars are read as the file's consumer reads them ([`Dialect`]): YAML 1.2 by
//! default, YAML 1.1 as Spring Boot's SnakeYAML or Helm's go-yaml v2 read it.

pub mod edit;
pub mod json;
pub mod node;
pub mod path;
pub mod scalar;
pub mod toml;
pub mod yaml;

pub use edit::{EditError, Located};
pub use node::{FileId, Node, Span, Table, Value};
pub use path::{KeyPath, PathError};
pub use scalar::Dialect;
pub use yaml::Document;

shipgate_stdx::hints!(EditError);

/// A syntax error at a span of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
}

/// Something wrong or doubtful in a file that still parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub span: Span,
    pub message: String,
    pub hint: String,
}

/// What kind of problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// A key set twice in one mapping (an error: Spring Boot refuses such files).
    DuplicateKey,
    /// A plain YAML scalar that YAML 1.1 and 1.2 readers read differently (a warning).
    Ambiguous,
}

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Yaml(Dialect),
    Json,
}

impl Format {
    /// By extension: `.toml`, `.yaml`/`.yml` (read as YAML 1.2) and `.json`.
    pub fn of_path(path: &str) -> Option<Format> {
        let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "toml" => Some(Format::Toml),
            "yaml" | "yml" => Some(Format::Yaml(Dialect::Yaml12)),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// `TOML`, `YAML` or `JSON`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Toml => "TOML",
            Format::Yaml(_) => "YAML",
            Format::Json => "JSON",
        }
    }
}

/// A parsed file: its documents (one for TOML and JSON) and what is doubtful in it.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub documents: Vec<Document>,
    pub problems: Vec<Problem>,
}

/// Parses a file in `format`; every node says it came from `file`.
pub fn parse(text: &str, format: Format, file: FileId) -> Result<Parsed, Vec<SyntaxError>> {
    let whole = Span::new(0..text.len());
    match format {
        Format::Toml => toml::parse(text, file).map(|root| Parsed {
            documents: vec![Document { root, span: whole }],
            problems: Vec::new(),
        }),
        Format::Json => json::parse(text, file).map(|(root, problems)| Parsed {
            documents: vec![Document { root, span: whole }],
            problems,
        }),
        Format::Yaml(dialect) => yaml::parse(text, file, dialect).map(|p| Parsed {
            documents: p.documents,
            problems: p.problems,
        }),
    }
}

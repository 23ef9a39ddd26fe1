//! The configuration tree with provenance is shipgate-doc's: every node remembers its file
//! and the spans of its key and value. `parse` reads one TOML file, for callers that only
//! have TOML.

pub use shipgate_doc::node::{FileId, Node, Table, Value, get, join, leaves, merge, to_json};

use crate::source::Span;

/// Parses one TOML file. On syntax errors: every error the parser recovered from, as
/// (message, span).
pub fn parse(text: &str, file: FileId) -> Result<Node, Vec<(String, Span)>> {
    shipgate_doc::toml::parse(text, file)
        .map_err(|errors| errors.into_iter().map(|e| (e.message, e.span)).collect())
}

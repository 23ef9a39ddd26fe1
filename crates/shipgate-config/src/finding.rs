//! A problem the checks found, before it is placed at a line and column: what both the
//! rules and the set's check produce, below both.

use crate::diagnostic::{Rule, Severity};
use crate::source::Span;
use crate::tree::{FileId, Node};

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
    /// The environments it is about without saying so in its message (ordering, parity,
    /// SLOs): see [`Diagnostic::environments`].
    pub concerns: Vec<String>,
    pub severity: Severity,
}

impl Finding {
    /// An error at `span` of `file`.
    pub fn at(
        file: FileId,
        span: Span,
        rule: Rule,
        message: String,
        hint: Option<String>,
    ) -> Finding {
        Finding {
            file,
            span,
            rule,
            message,
            hint,
            env: None,
            concerns: Vec::new(),
            severity: Severity::Error,
        }
    }

    /// The same finding, about `env`.
    pub fn about(mut self, env: &str) -> Finding {
        self.concerns.push(env.to_string());
        self
    }

    /// At a node's value.
    pub fn value(node: &Node, rule: Rule, message: String, hint: Option<String>) -> Finding {
        Finding::at(node.file, node.span, rule, message, hint)
    }

    /// At a node's key.
    pub fn key(node: &Node, rule: Rule, message: String, hint: Option<String>) -> Finding {
        Finding::at(node.file, node.key, rule, message, hint)
    }

    pub(crate) fn warning(mut self) -> Finding {
        self.severity = Severity::Warning;
        self
    }
}

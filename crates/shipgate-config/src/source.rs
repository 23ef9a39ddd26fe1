//! Byte spans in source texts, and turning them into 1-based line and column.

pub use shipgate_doc::Span;
pub use shipgate_stdx::text::LineIndex;

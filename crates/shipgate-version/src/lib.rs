//! From Conventional Commits to the next semantic version, and the edits that write it into
//! manifests. Everything here is pure: messages and file texts in, versions and texts out.

pub mod bump;
pub mod commit;
pub mod files;
pub mod manifest;
pub mod revert;

pub use bump::{Bump, BumpRules, NextVersion, next_version};
pub use commit::{ConventionalCommit, Message, parse_message};

shipgate_stdx::hints!(bump::NextVersionError, files::FileError);

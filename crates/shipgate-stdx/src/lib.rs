//! Small helpers that several shipgate crates need, each written once (after
//! rust-analyzer's `stdx`). Only the standard library and two pure crates (`semver`,
//! `strsim`): a pure core may depend on this crate without gaining an I/O dependency.
//!
//! | module | what |
//! |---|---|
//! | [`fs`] | atomic writes: a temp file in the same directory, fsync, rename |
//! | [`text`] | line:col of a byte offset, did-you-mean |
//! | [`num`] | numbers for people |
//! | [`shell`] | POSIX shell quoting |
//! | [`names`] | what a version and an environment name may be, checked where they enter |

pub mod fs;
pub mod names;
pub mod num;
pub mod shell;
pub mod text;

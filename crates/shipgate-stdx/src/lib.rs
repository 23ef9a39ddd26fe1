//! Small helpers that several shipgate crates need, each written once (after
//! rust-analyzer's `stdx`). Only the standard library and pure crates (`semver`, `thiserror`,
//! `strsim`, `serde`): a pure core may depend on this crate without gaining an I/O dependency.
//!
//! | module | what |
//! |---|---|
//! | [`alarms`] | the alarms that stop a canary or a promotion, one setting for both |
//! | [`duration`] | `90s`, `2m`, `1h30m` durations in settings and output |
//! | [`fs`] | atomic writes: a temp file in the same directory, fsync, rename |
//! | [`hint`] | the hint an error carries as data, found in an error chain |
//! | [`text`] | line:col of a byte offset, did-you-mean |
//! | [`num`] | numbers for people |
//! | [`shell`] | POSIX shell quoting |
//! | [`names`] | what a version and an environment name may be, checked where they enter |
//! | [`par`] | work spread over the machine's cores, in the items' order |

pub mod alarms;
pub mod duration;
pub mod fs;
pub mod hint;
pub mod names;
pub mod num;
pub mod par;
pub mod shell;
pub mod text;

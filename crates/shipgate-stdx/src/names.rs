//! What a version and an environment name may be. Both come from outside (flags, workflow
//! inputs, recordings, configuration) and end up in commands, queries, file names and
//! refs, so they are checked where they enter and refused when they could be read as
//! syntax there.

use std::fmt;

/// A value that is not a valid version or environment name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName {
    /// `version` or `environment name`.
    pub what: &'static str,
    /// The value, with control characters escaped so it prints on one line.
    pub value: String,
    /// What is allowed.
    pub rule: &'static str,
}

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a valid {}: {}",
            self.value, self.what, self.rule
        )
    }
}

impl std::error::Error for InvalidName {}

/// The rule for versions, in words.
pub const VERSION_RULE: &str = "a version is a SemVer (1.4.0, 1.4.0-rc.1+b5) or an image tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})";

/// The rule for environment names, in words.
pub const ENV_RULE: &str =
    "an environment name is 1 to 63 of [A-Za-z0-9_-], starting with a letter, digit or `_`";

fn invalid(what: &'static str, value: &str, rule: &'static str) -> InvalidName {
    InvalidName {
        what,
        value: value.escape_debug().take(200).collect(),
        rule,
    }
}

/// `[A-Za-z0-9_][A-Za-z0-9_-]{0,max-1}`, and `.` among the rest when `dots`.
fn is_tag_like(value: &str, max: usize, dots: bool) -> bool {
    let mut bytes = value.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    value.len() <= max
        && (first.is_ascii_alphanumeric() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || dots && b == b'.')
}

/// Checks a version: a SemVer (`1.4.0`, `1.4.0-rc.1+build.5`) or an image tag
/// (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`, as OCI registries allow).
pub fn check_version(value: &str) -> Result<(), InvalidName> {
    if is_tag_like(value, 128, true) || semver::Version::parse(value).is_ok() && value.len() <= 128
    {
        Ok(())
    } else {
        Err(invalid("version", value, VERSION_RULE))
    }
}

/// Checks an environment name: 1 to 63 of `[A-Za-z0-9_-]`, not starting with `-` (so
/// never a path component like `..`, never an option, never a `/`).
pub fn check_env(value: &str) -> Result<(), InvalidName> {
    if is_tag_like(value, 63, false) {
        Ok(())
    } else {
        Err(invalid("environment name", value, ENV_RULE))
    }
}

/// The rule for pod-template hashes and the like, in words.
pub const HASH_RULE: &str = "a pod selector value is 1 to 63 of [A-Za-z0-9_-], starting with a letter, digit or `_` (a rollouts-pod-template-hash, or a name part like `canary`)";

/// Checks a pod-template hash (Argo Rollouts' `rollouts-pod-template-hash`, Kubernetes'
/// `pod-template-hash`) or a name part that picks the canary's or the stable's pods: the
/// same shape as an environment name, so it is safe in PromQL, a URL and a file name.
pub fn check_hash(value: &str) -> Result<(), InvalidName> {
    if is_tag_like(value, 63, false) {
        Ok(())
    } else {
        Err(invalid("pod-template hash", value, HASH_RULE))
    }
}

/// A value that passed [`check_hash`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PodHash(String);

impl PodHash {
    /// Checks `value` ([`check_hash`]).
    pub fn parse(value: &str) -> Result<Self, InvalidName> {
        check_hash(value).map(|()| Self(value.to_string()))
    }

    /// The value as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A version that passed [`check_version`]: safe as a shell word, a PromQL string, a file
/// name or a ref component.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(String);

impl Version {
    /// Checks `value` ([`check_version`]).
    pub fn parse(value: &str) -> Result<Self, InvalidName> {
        check_version(value).map(|()| Self(value.to_string()))
    }

    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An environment name that passed [`check_env`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvName(String);

impl EnvName {
    /// Checks `value` ([`check_env`]).
    pub fn parse(value: &str) -> Result<Self, InvalidName> {
        check_env(value).map(|()| Self(value.to_string()))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The rule for reasons, in words.
pub const REASON_RULE: &str =
    "a reason is 1 to 2000 characters of text with something besides spaces, and no NUL";

/// Checks a reason (`--reason`): recorded in ledger entries and shown in notifications, so
/// it has to say something and fit in a commit message; it is data everywhere (JSON in the
/// ledger, escaped in Markdown and chat), so any other text is allowed, newlines included.
pub fn check_reason(value: &str) -> Result<(), InvalidName> {
    if !value.trim().is_empty() && value.chars().count() <= 2000 && !value.contains('\0') {
        Ok(())
    } else {
        Err(invalid("reason", value, REASON_RULE))
    }
}

/// A reason that passed [`check_reason`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reason(String);

impl Reason {
    /// Checks `value` ([`check_reason`]).
    pub fn parse(value: &str) -> Result<Self, InvalidName> {
        check_reason(value).map(|()| Self(value.to_string()))
    }

    /// The reason as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! text_like {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::ops::Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}
text_like!(Version);
text_like!(EnvName);
text_like!(PodHash);
text_like!(Reason);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_semver_or_image_tags() {
        for ok in [
            "1.4.0",
            "1.4.0-rc.1",
            "1.4.0-rc.1+build.5",
            "v1.4.0",
            "sha-3f2a9c1",
            "latest",
            "2026.12.01_1",
            "_x",
            &"a".repeat(128),
        ] {
            assert_eq!(check_version(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "1.4.0;touch /tmp/x",
            "$(id)",
            "`id`",
            "1.4.0 x",
            "1.4.0\n",
            "'1.4.0'",
            "\"1\"",
            "-rf",
            ".hidden",
            "a/b",
            "../x",
            &"a".repeat(129),
        ] {
            assert!(check_version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pod_hashes_are_short_tags() {
        for ok in ["5d8c9f7b6", "canary", "primary", "7f9c-x"] {
            assert_eq!(check_hash(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a\"}", "x|y", ".*", "a b", &"a".repeat(64)] {
            assert!(check_hash(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn environment_names_are_short_tags() {
        for ok in ["dev", "staging", "prod", "eu-west-1", "qa_2", "PROD", "_x"] {
            assert_eq!(check_env(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "..",
            "-x",
            ".x",
            "a.b",
            "a b",
            "a/b",
            "prod;rm",
            "$(x)",
            &"a".repeat(64),
        ] {
            assert!(check_env(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reasons_say_something_and_fit_a_commit() {
        for ok in [
            "p95 over 2 s",
            "line one\nline two",
            "\"} or vector(1) #",
            "$(id)",
        ] {
            assert_eq!(check_reason(ok), Ok(()), "{ok}");
        }
        for bad in ["", "   ", "\n\t", "a\0b", &"x".repeat(2001)] {
            assert!(check_reason(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Reason::parse("incident 42").expect("valid"), "incident 42");
    }

    #[test]
    fn the_newtypes_hold_only_checked_values() {
        assert_eq!(
            Version::parse("1.4.0").map(|v| v.to_string()),
            Ok("1.4.0".into())
        );
        assert!(Version::parse("1.4.0;id").is_err());
        assert_eq!(EnvName::parse("prod").expect("valid"), "prod");
        assert!(EnvName::parse("../prod").is_err());
    }

    #[test]
    fn the_error_names_the_value_on_one_line() {
        let err = check_version("1.4.0\n;id").expect_err("invalid");
        assert_eq!(
            err.to_string(),
            format!("`1.4.0\\n;id` is not a valid version: {VERSION_RULE}")
        );
    }
}

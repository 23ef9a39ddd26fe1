//! Bump rules and the next version: which commits bump what, Cargo's below-1.0 rule, and
//! the prerelease lifecycle (`1.4.0-rc.1`, `rc.2`, then `1.4.0`).

use semver::{BuildMetadata, Prerelease, Version};
use serde::{Deserialize, Serialize};

use crate::commit::Message;

/// How much a set of commits moves the version.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    None,
    Patch,
    Minor,
    Major,
}

impl Bump {
    pub fn as_str(self) -> &'static str {
        match self {
            Bump::None => "none",
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        }
    }
}

impl std::fmt::Display for Bump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which commit types bump what. Breaking changes always bump major.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BumpRules {
    #[serde(default = "default_minor")]
    pub minor_types: Vec<String>,
    #[serde(default = "default_patch")]
    pub patch_types: Vec<String>,
}

fn default_minor() -> Vec<String> {
    vec!["feat".into()]
}

fn default_patch() -> Vec<String> {
    vec!["fix".into(), "perf".into()]
}

impl Default for BumpRules {
    fn default() -> Self {
        BumpRules {
            minor_types: default_minor(),
            patch_types: default_patch(),
        }
    }
}

impl BumpRules {
    /// The bump one commit message asks for.
    pub fn bump_of(&self, message: &Message) -> Bump {
        let Some(c) = message.conventional() else {
            return Bump::None;
        };
        if c.breaking {
            Bump::Major
        } else if self
            .minor_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&c.kind))
        {
            Bump::Minor
        } else if self
            .patch_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&c.kind))
        {
            Bump::Patch
        } else {
            Bump::None
        }
    }
}

/// Applies a bump to a stable version. Below 1.0.0 a breaking change bumps minor and a
/// feature bumps patch (Cargo's rule). `Bump::None` returns the version unchanged.
pub fn apply(version: &Version, bump: Bump) -> Version {
    let bump = below_one(version, bump);
    let (major, minor, patch) = (version.major, version.minor, version.patch);
    let (major, minor, patch) = match bump {
        Bump::None => (major, minor, patch),
        Bump::Patch => (major, minor, patch + 1),
        Bump::Minor => (major, minor + 1, 0),
        Bump::Major => (major + 1, 0, 0),
    };
    Version::new(major, minor, patch)
}

/// The bump Cargo's rule makes of `bump` on `version`: below 1.0.0 a breaking change bumps
/// minor and a feature bumps patch.
fn below_one(version: &Version, bump: Bump) -> Bump {
    match (version.major, bump) {
        (0, Bump::Major) => Bump::Minor,
        (0, Bump::Minor) => Bump::Patch,
        (_, b) => b,
    }
}

/// Applies a bump to the base. A prerelease base (a manifest's `1.3.0-SNAPSHOT` or
/// `2.0.0-beta.1` with no release tag yet) is the version being prepared: its release is
/// its core version when that already holds the bump (`1.3.0-SNAPSHOT` + feat = `1.3.0`,
/// as Maven's release plugin and npm's `semver.inc` have it), else the bump of its core
/// (`1.3.1-SNAPSHOT` + feat = `1.4.0`).
fn apply_to_base(base: &Version, bump: Bump) -> Version {
    if base.pre.is_empty() {
        return apply(base, bump);
    }
    let stable = core(base);
    let held = match below_one(&stable, bump) {
        Bump::None | Bump::Patch => true,
        Bump::Minor => stable.patch == 0,
        Bump::Major => stable.minor == 0 && stable.patch == 0,
    };
    if held { stable } else { apply(&stable, bump) }
}

/// Everything the next version depends on.
#[derive(Debug, Clone)]
pub struct NextVersion<'a> {
    /// The last stable release, or the manifest's version when there is no release tag.
    pub base: &'a Version,
    /// The newest release reachable from HEAD, prereleases included (None: no tag).
    pub latest: Option<&'a Version>,
    /// The bump of the commits since `base`.
    pub bump: Bump,
    /// Commits since `latest` (prerelease or stable).
    pub commits_since_latest: usize,
    /// `Some("rc")` for a prerelease.
    pub pre: Option<&'a str>,
    /// Every version that has a tag already (to number prereleases).
    pub existing: &'a [Version],
    /// The version a release file says is being developed: the core of its
    /// `X.Y.Z-SNAPSHOT` (Maven's and Gradle's development versions). A release is at least
    /// it, whatever the commits ask for; it makes no release by itself.
    pub developing: Option<&'a Version>,
}

/// Why no next version can be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NextVersionError {
    #[error(
        "prerelease label `{0}` is not valid semver (use letters, digits and hyphens, e.g. `rc`)"
    )]
    BadLabel(String),
    #[error("{next} would not be greater than the current version {current}")]
    NotGreater { current: Version, next: Version },
}

impl NextVersionError {
    /// What to do about it, when there is something to say (shown after the message).
    pub fn hint(&self) -> Option<String> {
        match self {
            NextVersionError::BadLabel(_) => None,
            NextVersionError::NotGreater { .. } => {
                Some("use a label that sorts after the current one, or --version".into())
            }
        }
    }
}

/// The next version, or `None` when there is nothing to release.
pub fn next_version(input: &NextVersion<'_>) -> Result<Option<Version>, NextVersionError> {
    // The label is checked first, whether a release is due or not: a bad one is an error
    // today, not on the day something is released.
    if let Some(label) = input.pre {
        check_label(label)?;
    }
    let pending_core = input.latest.filter(|l| !l.pre.is_empty()).map(core);
    let mut target = (input.bump != Bump::None).then(|| {
        let bumped = apply_to_base(input.base, input.bump);
        match input.developing.map(core) {
            Some(developing) if developing > bumped => developing,
            _ => bumped,
        }
    });
    if let Some(pending) = pending_core.filter(|p| p > input.base) {
        // A prerelease of `pending` is out: the stable release (or the next rc) is at least it.
        target = Some(target.map_or(pending.clone(), |t| t.max(pending)));
    }
    let Some(target) = target else {
        return Ok(None);
    };
    let next = match input.pre {
        None => target,
        Some(label) => {
            if input.latest.is_some_and(|l| !l.pre.is_empty()) && input.commits_since_latest == 0 {
                return Ok(None);
            }
            let number = input
                .existing
                .iter()
                .filter(|v| core(v) == target)
                .filter_map(|v| prerelease_number(v, label))
                .max()
                .map_or(1, |n| n + 1);
            let pre = Prerelease::new(&format!("{label}.{number}"))
                .map_err(|_| NextVersionError::BadLabel(label.to_string()))?;
            Version { pre, ..target }
        }
    };
    if let Some(current) = input.latest
        && next <= *current
    {
        if input.pre.is_none() && next == *current {
            return Ok(None);
        }
        return Err(NextVersionError::NotGreater {
            current: current.clone(),
            next,
        });
    }
    Ok(Some(next))
}

/// Checks a prerelease label (`rc`, `beta`): what `X.Y.Z-label.N` takes.
pub fn check_label(label: &str) -> Result<(), NextVersionError> {
    let ok = !label.is_empty()
        && !label.starts_with('.')
        && !label.contains("..")
        && Prerelease::new(&format!("{label}.1")).is_ok();
    if ok {
        Ok(())
    } else {
        Err(NextVersionError::BadLabel(
            label.escape_debug().take(100).collect(),
        ))
    }
}

/// The version without prerelease or build metadata.
pub fn core(v: &Version) -> Version {
    Version {
        pre: Prerelease::EMPTY,
        build: BuildMetadata::EMPTY,
        ..v.clone()
    }
}

/// Whether `v` is a development version, `X.Y.Z-SNAPSHOT` (Maven's and Gradle's; the
/// label in any case, as Maven reads it).
pub fn is_snapshot(v: &Version) -> bool {
    v.pre.as_str().eq_ignore_ascii_case("SNAPSHOT")
}

/// The development version after releasing `released`, as Maven's release plugin prepares
/// it: the next patch after a stable release (`1.3.0` → `1.3.1-SNAPSHOT`), the same core
/// after a prerelease, which is still on the way to it (`1.3.0-rc.1` → `1.3.0-SNAPSHOT`).
pub fn next_snapshot(released: &Version) -> Version {
    let core = if released.pre.is_empty() {
        Version::new(released.major, released.minor, released.patch + 1)
    } else {
        core(released)
    };
    Version {
        pre: Prerelease::new("SNAPSHOT").unwrap_or_else(|e| unreachable!("a fixed label: {e}")),
        ..core
    }
}

/// `N` of `X.Y.Z-label.N`.
fn prerelease_number(v: &Version, label: &str) -> Option<u64> {
    let rest = v.pre.as_str().strip_prefix(label)?.strip_prefix('.')?;
    rest.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("test version")
    }

    fn check(
        base: &str,
        latest: Option<&str>,
        bump: Bump,
        since: usize,
        pre: Option<&str>,
        existing: &[&str],
        expected: Option<&str>,
    ) {
        let base = v(base);
        let latest = latest.map(v);
        let existing: Vec<Version> = existing.iter().map(|s| v(s)).collect();
        let got = next_version(&NextVersion {
            base: &base,
            latest: latest.as_ref(),
            bump,
            commits_since_latest: since,
            pre,
            existing: &existing,
            developing: None,
        })
        .expect("no error");
        assert_eq!(got.map(|v| v.to_string()).as_deref(), expected);
    }

    #[test]
    fn a_prerelease_manifest_version_is_released_at_its_core() {
        // No tag yet: the manifest's `-SNAPSHOT` (Maven) or `-beta.1` is being prepared.
        for (base, bump, pre, expected) in [
            ("1.3.0-SNAPSHOT", Bump::Minor, None, Some("1.3.0")),
            ("1.3.0-SNAPSHOT", Bump::Patch, None, Some("1.3.0")),
            ("1.3.0-SNAPSHOT", Bump::Major, None, Some("2.0.0")),
            ("1.3.1-SNAPSHOT", Bump::Minor, None, Some("1.4.0")),
            ("2.0.0-beta.1", Bump::Major, None, Some("2.0.0")),
            ("0.4.0-SNAPSHOT", Bump::Minor, None, Some("0.4.0")),
            ("1.3.0-SNAPSHOT", Bump::None, None, None),
            (
                "1.3.0-SNAPSHOT",
                Bump::Minor,
                Some("rc"),
                Some("1.3.0-rc.1"),
            ),
        ] {
            check(base, None, bump, 1, pre, &[], expected);
        }
    }

    /// `next_version` with a release file developing `developing` (a `-SNAPSHOT`).
    fn developing(
        base: &str,
        latest: Option<&str>,
        bump: Bump,
        pre: Option<&str>,
        developing: &str,
    ) -> Option<String> {
        let (base, latest, developing) = (v(base), latest.map(v), v(developing));
        next_version(&NextVersion {
            base: &base,
            latest: latest.as_ref(),
            bump,
            commits_since_latest: 1,
            pre,
            existing: &[],
            developing: Some(&developing),
        })
        .expect("no error")
        .map(|v| v.to_string())
    }

    #[test]
    fn a_snapshot_in_a_file_is_the_version_being_developed() {
        for (base, latest, bump, pre, file, expected) in [
            // tag v1.2.0, the file develops 1.3.0: a feature releases it, so does a fix
            (
                "1.2.0",
                Some("1.2.0"),
                Bump::Minor,
                None,
                "1.3.0-SNAPSHOT",
                Some("1.3.0"),
            ),
            (
                "1.2.0",
                Some("1.2.0"),
                Bump::Patch,
                None,
                "1.3.0-SNAPSHOT",
                Some("1.3.0"),
            ),
            // the commits ask for more than the file says: the commits win
            (
                "1.2.0",
                Some("1.2.0"),
                Bump::Major,
                None,
                "1.3.0-SNAPSHOT",
                Some("2.0.0"),
            ),
            (
                "1.3.0",
                Some("1.3.0"),
                Bump::Minor,
                None,
                "1.3.1-SNAPSHOT",
                Some("1.4.0"),
            ),
            (
                "1.3.0",
                Some("1.3.0"),
                Bump::Patch,
                None,
                "1.3.1-SNAPSHOT",
                Some("1.3.1"),
            ),
            // a stale snapshot (at or below the release) changes nothing
            (
                "1.3.0",
                Some("1.3.0"),
                Bump::Patch,
                None,
                "1.3.0-SNAPSHOT",
                Some("1.3.1"),
            ),
            (
                "1.3.0",
                Some("1.3.0"),
                Bump::Patch,
                None,
                "0.0.1-SNAPSHOT",
                Some("1.3.1"),
            ),
            // no releasable commit: no release, whatever the file says
            (
                "1.2.0",
                Some("1.2.0"),
                Bump::None,
                None,
                "1.3.0-SNAPSHOT",
                None,
            ),
            // a prerelease of the developed version
            (
                "1.2.0",
                Some("1.2.0"),
                Bump::Patch,
                Some("rc"),
                "1.3.0-SNAPSHOT",
                Some("1.3.0-rc.1"),
            ),
            // no tag: the same as the manifest's own -SNAPSHOT
            (
                "1.3.0-SNAPSHOT",
                None,
                Bump::Patch,
                None,
                "1.3.0-SNAPSHOT",
                Some("1.3.0"),
            ),
            // below 1.0 the feature is a patch, the file still says 0.4.0
            (
                "0.3.0",
                Some("0.3.0"),
                Bump::Minor,
                None,
                "0.4.0-SNAPSHOT",
                Some("0.4.0"),
            ),
        ] {
            assert_eq!(
                developing(base, latest, bump, pre, file).as_deref(),
                expected,
                "{base} {latest:?} {bump} {pre:?} {file}"
            );
        }
    }

    #[test]
    fn the_next_development_version() {
        for (released, expected) in [
            ("1.3.0", "1.3.1-SNAPSHOT"),
            ("0.4.2", "0.4.3-SNAPSHOT"),
            ("1.3.0-rc.1", "1.3.0-SNAPSHOT"),
        ] {
            let next = next_snapshot(&v(released));
            assert_eq!(next.to_string(), expected);
            assert!(is_snapshot(&next));
        }
        assert!(is_snapshot(&v("1.0.0-snapshot")));
        assert!(!is_snapshot(&v("1.0.0-SNAPSHOT.1")));
        assert!(!is_snapshot(&v("1.0.0")));
    }

    #[test]
    fn stable_bumps() {
        check(
            "1.3.0",
            Some("1.3.0"),
            Bump::Minor,
            3,
            None,
            &[],
            Some("1.4.0"),
        );
        check(
            "1.3.0",
            Some("1.3.0"),
            Bump::Patch,
            3,
            None,
            &[],
            Some("1.3.1"),
        );
        check(
            "1.3.2",
            Some("1.3.2"),
            Bump::Major,
            3,
            None,
            &[],
            Some("2.0.0"),
        );
        check("1.3.0", Some("1.3.0"), Bump::None, 3, None, &[], None);
    }

    #[test]
    fn below_one_is_cargo_rule() {
        check(
            "0.3.1",
            Some("0.3.1"),
            Bump::Major,
            1,
            None,
            &[],
            Some("0.4.0"),
        );
        check(
            "0.3.1",
            Some("0.3.1"),
            Bump::Minor,
            1,
            None,
            &[],
            Some("0.3.2"),
        );
        check(
            "0.3.1",
            Some("0.3.1"),
            Bump::Patch,
            1,
            None,
            &[],
            Some("0.3.2"),
        );
    }

    #[test]
    fn no_tag_bumps_the_manifest_version() {
        check("0.1.0", None, Bump::Minor, 5, None, &[], Some("0.1.1"));
    }

    #[test]
    fn prerelease_lifecycle() {
        check(
            "1.3.0",
            Some("1.3.0"),
            Bump::Minor,
            2,
            Some("rc"),
            &["1.3.0"],
            Some("1.4.0-rc.1"),
        );
        check(
            "1.3.0",
            Some("1.4.0-rc.1"),
            Bump::Minor,
            1,
            Some("rc"),
            &["1.3.0", "1.4.0-rc.1"],
            Some("1.4.0-rc.2"),
        );
        // no new commits since rc.1: nothing to do
        check(
            "1.3.0",
            Some("1.4.0-rc.1"),
            Bump::Minor,
            0,
            Some("rc"),
            &["1.4.0-rc.1"],
            None,
        );
        // stable after rcs, even with no new commits
        check(
            "1.3.0",
            Some("1.4.0-rc.2"),
            Bump::Minor,
            0,
            None,
            &["1.4.0-rc.1", "1.4.0-rc.2"],
            Some("1.4.0"),
        );
        // a breaking change during the rc phase moves the target
        check(
            "1.3.0",
            Some("1.4.0-rc.2"),
            Bump::Major,
            1,
            Some("rc"),
            &["1.4.0-rc.2"],
            Some("2.0.0-rc.1"),
        );
        // an rc of a bigger version made by --version is not undercut
        check(
            "1.3.0",
            Some("2.0.0-rc.1"),
            Bump::Patch,
            1,
            None,
            &["2.0.0-rc.1"],
            Some("2.0.0"),
        );
    }

    #[test]
    fn a_bad_label_is_an_error_even_when_nothing_is_due() {
        let latest = v("1.2.0");
        for label in ["rc;rm", "", "a b", "rc..1", ".rc"] {
            let input = NextVersion {
                base: &latest,
                latest: Some(&latest),
                bump: Bump::None,
                commits_since_latest: 0,
                pre: Some(label),
                existing: &[],
                developing: None,
            };
            assert!(
                matches!(next_version(&input), Err(NextVersionError::BadLabel(_))),
                "{label:?}"
            );
        }
        assert_eq!(check_label("rc"), Ok(()));
        assert_eq!(check_label("beta-2"), Ok(()));
    }

    #[test]
    fn label_going_backwards_is_an_error() {
        let base = v("1.3.0");
        let latest = v("1.4.0-beta.1");
        let err = next_version(&NextVersion {
            base: &base,
            latest: Some(&latest),
            bump: Bump::Minor,
            commits_since_latest: 1,
            pre: Some("alpha"),
            existing: &[],
            developing: None,
        });
        assert!(matches!(err, Err(NextVersionError::NotGreater { .. })));
        let err = err.expect_err("not greater");
        assert_eq!(
            err.to_string(),
            "1.4.0-alpha.1 would not be greater than the current version 1.4.0-beta.1"
        );
        assert_eq!(
            err.hint().as_deref(),
            Some("use a label that sorts after the current one, or --version")
        );
    }

    fn arb_version() -> impl Strategy<Value = Version> {
        (0u64..4, 0u64..4, 0u64..4).prop_map(|(a, b, c)| Version::new(a, b, c))
    }

    fn arb_bump() -> impl Strategy<Value = Bump> {
        prop_oneof![
            Just(Bump::None),
            Just(Bump::Patch),
            Just(Bump::Minor),
            Just(Bump::Major)
        ]
    }

    proptest! {
        #[test]
        fn next_is_always_greater_than_current(
            base in arb_version(),
            bump in arb_bump(),
            pending in proptest::option::of((arb_bump(), 1u64..4)),
            since in 0usize..3,
            pre in proptest::option::of(Just("rc")),
        ) {
            // latest: the base itself, or an rc of a bumped version above it
            let latest = match pending {
                Some((b, n)) if b != Bump::None => Version { pre: Prerelease::new(&format!("rc.{n}")).expect("valid"), ..apply(&base, b) },
                _ => base.clone(),
            };
            let existing = vec![base.clone(), latest.clone()];
            let input = NextVersion { base: &base, latest: Some(&latest), bump, commits_since_latest: since, pre, existing: &existing, developing: None };
            if let Ok(Some(next)) = next_version(&input) {
                prop_assert!(next > latest, "{next} <= {latest}");
                prop_assert!(next > base);
            }
        }

        #[test]
        fn apply_never_goes_down(base in arb_version(), bump in arb_bump()) {
            let next = apply(&base, bump);
            prop_assert!(next >= base);
            prop_assert_eq!(next == base, bump == Bump::None);
        }
    }
}

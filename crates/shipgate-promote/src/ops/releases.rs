//! What was released: a version's tag and commit (else the released versions nearest to
//! it), and the commits a promotion brings into an environment for the first time.

use semver::Version;
use shipgate_git::Oid;

use super::{Context, OpError};
use crate::entry::{Changes, MAX_CHANGE_TIMES};

impl Context<'_> {
    /// The release of `version`: its tag and commit; else the nearest released versions.
    pub(super) fn released(
        &self,
        version: &str,
        package: Option<&str>,
    ) -> Result<(String, Oid), OpError> {
        shipgate_stdx::names::check_version(version)?;
        let all = shipgate_release::released(self.repo, self.release, package)?;
        if let Some((_, tag, commit)) = all.iter().find(|(v, _, _)| v.to_string() == version) {
            return Ok((tag.clone(), *commit));
        }
        let format = match package {
            Some(p) => self.release.crate_tag_format.replace("{crate}", p),
            None => self.release.tag_format.clone(),
        };
        let versions: Vec<&Version> = all.iter().map(|(v, _, _)| v).collect();
        Err(OpError::NotReleased {
            version: version.to_string(),
            tag: format.replace("{version}", version),
            nearest: nearest(versions, version),
        })
    }
}

/// The three released versions nearest to `version`, `all` in release order: when it is a
/// version, the release just below it and the one just above first, then outwards; else
/// the newest.
fn nearest(mut all: Vec<&Version>, version: &str) -> Vec<String> {
    match Version::parse(version) {
        Ok(wanted) => {
            let below = all.iter().filter(|v| ***v < wanted).count();
            let mut ranked: Vec<(usize, &Version)> = all
                .into_iter()
                .enumerate()
                .map(|(i, v)| (if i < below { below - 1 - i } else { i - below }, v))
                .collect();
            ranked.sort_by_key(|(distance, _)| *distance);
            all = ranked.into_iter().map(|(_, v)| v).collect();
        }
        Err(_) => all.reverse(),
    }
    all.into_iter().take(3).map(ToString::to_string).collect()
}

/// The commits `tag_commit` brings into `env` for the first time: those not in the
/// highest version promoted there or, for a first promotion, not in the release before it
/// (for a stable version the stable release before it, whose rcs it gathers, as its
/// changelog section does). A first promotion of the first release has no release before
/// it: its commits are counted but carry no times, so they stay out of the lead time; they
/// are the whole history before releases began, whose age says nothing about delivery.
pub(super) fn changes(
    ctx: &Context<'_>,
    highest: Option<&str>,
    version: &str,
    tag_commit: Oid,
    package: Option<&str>,
) -> Result<Changes, OpError> {
    let all = shipgate_release::released(ctx.repo, ctx.release, package)?;
    let lower = lower_bound(&all, highest, version);
    let commits = ctx
        .repo
        .range(tag_commit, &lower.into_iter().collect::<Vec<_>>())?;
    let mut times: Vec<i64> = match lower {
        Some(_) => commits.iter().map(|c| c.time).collect(),
        None => Vec::new(),
    };
    times.truncate(MAX_CHANGE_TIMES);
    Ok(Changes {
        count: commits.len() as u64,
        commit_times: times,
    })
}

/// The commit whose history a promotion of `version` does not bring (`all`: the releases in
/// order, with their commits): that of `highest` (the highest version promoted there), else
/// that of the release before `version` (a stable one for a stable version); none for the
/// first release.
fn lower_bound(
    all: &[(Version, String, Oid)],
    highest: Option<&str>,
    version: &str,
) -> Option<Oid> {
    let promoted_before = highest.and_then(|h| {
        all.iter()
            .find(|(v, _, _)| v.to_string() == h)
            .map(|(_, _, c)| *c)
    });
    let release_before = || {
        let wanted = Version::parse(version).ok()?;
        all.iter()
            .filter(|(v, _, _)| *v < wanted && (v.pre.is_empty() || !wanted.pre.is_empty()))
            .map(|(_, _, c)| *c)
            .next_back()
    };
    promoted_before.or_else(release_before)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(all: &[&str]) -> Vec<Version> {
        all.iter()
            .map(|v| Version::parse(v).expect("version"))
            .collect()
    }

    fn check_nearest(all: &[&str], version: &str, expected: &[&str]) {
        let all = versions(all);
        assert_eq!(
            nearest(all.iter().collect(), version),
            expected,
            "{version}"
        );
    }

    #[test]
    fn nearest_is_the_release_below_then_above_then_outwards() {
        let all = ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "2.0.0"];
        check_nearest(&all, "1.2.5", &["1.2.0", "1.3.0", "1.1.0"]);
        check_nearest(&all, "0.1.0", &["1.0.0", "1.1.0", "1.2.0"]);
        check_nearest(&all, "9.0.0", &["2.0.0", "1.3.0", "1.2.0"]);
        check_nearest(&all[..1], "1.0.1", &["1.0.0"]);
        check_nearest(&[], "1.0.0", &[]);
    }

    #[test]
    fn nearest_to_what_is_no_version_is_the_newest() {
        check_nearest(
            &["1.0.0", "1.1.0", "1.2.0", "1.3.0"],
            "latest",
            &["1.3.0", "1.2.0", "1.1.0"],
        );
    }

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).expect("oid")
    }

    fn releases(all: &[&str]) -> Vec<(Version, String, Oid)> {
        versions(all)
            .into_iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), format!("v{v}"), oid(i as u8 + 1)))
            .collect()
    }

    #[test]
    fn lower_bound_is_the_highest_promoted_else_the_release_before() {
        let all = releases(&["1.0.0", "1.1.0-rc.1", "1.1.0", "1.2.0-rc.1"]);
        // The highest version promoted there.
        assert_eq!(lower_bound(&all, Some("1.0.0"), "1.2.0-rc.1"), Some(oid(1)));
        // A first promotion: the stable release before a stable version (its rcs included).
        assert_eq!(lower_bound(&all, None, "1.1.0"), Some(oid(1)));
        // A pre-release counts the pre-releases before it.
        assert_eq!(lower_bound(&all, None, "1.2.0-rc.1"), Some(oid(3)));
        assert_eq!(lower_bound(&all, None, "1.1.0-rc.1"), Some(oid(1)));
        // A highest version that is no release: the release before.
        assert_eq!(lower_bound(&all, Some("0.9.0"), "1.1.0"), Some(oid(1)));
        // The first release has none.
        assert_eq!(lower_bound(&all, None, "1.0.0"), None);
        assert_eq!(lower_bound(&all, None, "not-a-version"), None);
    }
}

//! The release tags a repository already has: how they are written (`v1.2.0` or `1.2.0`)
//! and which is the newest reachable from HEAD, so that init writes the `tag-format` the
//! repository uses and the first release continues from its last one.

use semver::Version;
use shipgate_git::{GitError, Oid, Repo};

/// The format of the repository's releases, from its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    /// `v{version}` or `{version}`.
    pub format: &'static str,
    /// The newest release tag reachable from HEAD, and its version.
    pub newest: String,
    pub version: Version,
    /// How many tags are written each way (reachable or not).
    pub with_v: usize,
    pub without_v: usize,
}

impl Scheme {
    /// Why this format, for init's output.
    pub fn why(&self) -> String {
        let counts = match (self.without_v, self.with_v) {
            (n, 0) => format!("all {n} release tags are written without a `v`"),
            (0, n) => format!("all {n} release tags are written with a `v`"),
            (without, with) => {
                format!("{without} release tags are written without a `v`, {with} with one")
            }
        };
        format!(
            "{} is the newest release tag reachable from HEAD; {counts}",
            self.newest
        )
    }
}

/// A tag that reads as a release: its name's format and version.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub name: String,
    pub format: &'static str,
    pub version: Version,
    pub commit: Oid,
    /// The tagged commit's time, seconds since the epoch.
    pub time: i64,
}

/// `name`'s format and version when it is `v<semver>` or `<semver>`, else None.
pub fn release(name: &str) -> Option<(&'static str, Version)> {
    let (format, rest) = match name.strip_prefix('v') {
        Some(rest) => ("v{version}", rest),
        None => ("{version}", name),
    };
    if !rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Version::parse(rest).ok().map(|v| (format, v))
}

/// The scheme of `candidates`: the format of the newest one (by its commit's time, then its
/// version) that `reachable` says HEAD reaches; None when HEAD reaches none.
pub fn choose(
    mut candidates: Vec<Candidate>,
    mut reachable: impl FnMut(Oid) -> Result<bool, GitError>,
) -> Result<Option<Scheme>, GitError> {
    let with_v = candidates
        .iter()
        .filter(|c| c.format == "v{version}")
        .count();
    let without_v = candidates.len() - with_v;
    candidates.sort_by(|a, b| (b.time, &b.version).cmp(&(a.time, &a.version)));
    for c in candidates {
        if reachable(c.commit)? {
            return Ok(Some(Scheme {
                format: c.format,
                newest: c.name,
                version: c.version,
                with_v,
                without_v,
            }));
        }
    }
    Ok(None)
}

/// The scheme of `repo`'s tags; None without a commit or a release tag reachable from HEAD.
/// A tag whose commit a shallow clone lacks is left out: init advises, it does not fail.
pub fn scheme(repo: &Repo) -> Result<Option<Scheme>, GitError> {
    let head = match repo.head() {
        Ok(head) => head,
        Err(GitError::NoCommits { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut candidates = Vec::new();
    for tag in repo.tags()? {
        let Some((format, version)) = release(&tag.name) else {
            continue;
        };
        let Ok(commit) = repo.commit(tag.commit) else {
            continue;
        };
        candidates.push(Candidate {
            time: commit.time,
            name: tag.name,
            format,
            version,
            commit: tag.commit,
        });
    }
    choose(candidates, |commit| {
        Ok(repo.is_ancestor(commit, head).unwrap_or(false))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).expect("20 bytes are an object id")
    }

    fn candidate(name: &str, n: u8, time: i64) -> Candidate {
        let (format, version) = release(name).expect("a release tag");
        Candidate {
            name: name.into(),
            format,
            version,
            commit: oid(n),
            time,
        }
    }

    #[test]
    fn names_that_read_as_releases() {
        assert_eq!(release("6.14.1").map(|r| r.0), Some("{version}"));
        assert_eq!(release("v2026.15.2").map(|r| r.0), Some("v{version}"));
        assert_eq!(release("v1.0.0-rc.1").map(|r| r.0), Some("v{version}"));
        for other in ["latest", "v1.0", "api-v1.0.0", "vv1.0.0", "release-1.0.0"] {
            assert!(release(other).is_none(), "{other}");
        }
    }

    #[test]
    fn the_newest_reachable_tag_decides() {
        // podinfo: old v-tags, then unprefixed ones up to 6.14.1
        let podinfo = vec![
            candidate("v1.8.0", 1, 100),
            candidate("v0.4.0", 2, 50),
            candidate("6.14.1", 3, 900),
            candidate("6.14.0", 4, 800),
        ];
        let s = choose(podinfo, |_| Ok(true))
            .expect("ok")
            .expect("a scheme");
        assert_eq!((s.format, s.newest.as_str()), ("{version}", "6.14.1"));
        assert_eq!(
            s.why(),
            "6.14.1 is the newest release tag reachable from HEAD; 2 release tags are written without a `v`, 2 with one"
        );
        // a newer tag on a branch HEAD does not reach does not count
        let branches = vec![candidate("v9.0.0", 1, 900), candidate("1.2.0", 2, 100)];
        let s = choose(branches, |c| Ok(c == oid(2)))
            .expect("ok")
            .expect("a scheme");
        assert_eq!((s.format, s.newest.as_str()), ("{version}", "1.2.0"));
        // cognigy: v2026.15.2, although v4.99.0 sorts above it as text
        let cognigy = vec![
            candidate("v4.99.0", 1, 100),
            candidate("v2026.15.2", 2, 200),
        ];
        let s = choose(cognigy, |_| Ok(true))
            .expect("ok")
            .expect("a scheme");
        assert_eq!(s.newest, "v2026.15.2");
        // nothing reachable: no scheme
        let none = choose(vec![candidate("v1.0.0", 1, 1)], |_| Ok(false)).expect("ok");
        assert_eq!(none, None);
    }
}

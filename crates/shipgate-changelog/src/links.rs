//! Web addresses: a git remote turned into the repository's page, and the PR, issue,
//! commit and compare links built from it.

/// The web page of a repository from its git remote URL: `git@github.com:o/r.git`,
/// `ssh://git@github.com/o/r`, `https://token@github.com/o/r.git` all give
/// `https://github.com/o/r`. Credentials are dropped. `None` for local paths and anything
/// that is not `host/owner/repo`.
pub fn web_url(remote: &str) -> Option<String> {
    let remote = remote.trim();
    let (host, path) = if let Some(rest) = remote
        .strip_prefix("https://")
        .or_else(|| remote.strip_prefix("http://"))
    {
        rest.split_once('/')?
    } else if let Some(rest) = remote
        .strip_prefix("ssh://")
        .or_else(|| remote.strip_prefix("git://"))
    {
        rest.split_once('/')?
    } else if let Some((user_host, path)) = remote.split_once(':') {
        // scp-like `git@host:owner/repo`; a Windows drive letter or a plain path is not one
        if user_host.len() < 2 || user_host.contains('/') || path.starts_with('/') {
            return None;
        }
        (user_host, path)
    } else {
        return None;
    };
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    // ssh ports are not the web port
    let host = if remote.starts_with("ssh://") || remote.starts_with("git://") {
        host.split(':').next().unwrap_or(host)
    } else {
        host
    };
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path).trim_matches('/');
    if host.is_empty()
        || path.split('/').filter(|p| !p.is_empty()).count() < 2
        || host.chars().any(char::is_whitespace)
    {
        return None;
    }
    let scheme = if remote.starts_with("http://") {
        "http"
    } else {
        "https"
    };
    Some(format!("{scheme}://{host}/{path}"))
}

pub(crate) fn pull(remote: &str, number: u64) -> String {
    format!("{remote}/pull/{number}")
}

pub(crate) fn issue(remote: &str, number: u64) -> String {
    format!("{remote}/issues/{number}")
}

pub(crate) fn commit(remote: &str, id: &str) -> String {
    format!("{remote}/commit/{id}")
}

/// `compare/PREV...TAG`, or the tag's page for a first release, or `compare/PREV...HEAD`
/// for unreleased changes.
pub(crate) fn compare(remote: &str, previous: Option<&str>, tag: Option<&str>) -> Option<String> {
    match (previous, tag) {
        (Some(p), Some(t)) => Some(format!("{remote}/compare/{p}...{t}")),
        (None, Some(t)) => Some(format!("{remote}/releases/tag/{t}")),
        (Some(p), None) => Some(format!("{remote}/compare/{p}...HEAD")),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(remote: &str, expected: Option<&str>) {
        assert_eq!(web_url(remote).as_deref(), expected, "{remote}");
    }

    #[test]
    fn remotes_become_web_pages() {
        check(
            "git@github.com:shipgate/shipgate.git",
            Some("https://github.com/shipgate/shipgate"),
        );
        check(
            "https://github.com/shipgate/shipgate.git",
            Some("https://github.com/shipgate/shipgate"),
        );
        check(
            "https://github.com/shipgate/shipgate/",
            Some("https://github.com/shipgate/shipgate"),
        );
        check(
            "ssh://git@github.com:22/shipgate/shipgate",
            Some("https://github.com/shipgate/shipgate"),
        );
        check(
            "https://x-access-token:ghs_secret@github.com/o/r.git",
            Some("https://github.com/o/r"),
        );
        check(
            "http://localhost:8080/o/r",
            Some("http://localhost:8080/o/r"),
        );
        check(
            "https://gitlab.example.com/group/sub/r.git",
            Some("https://gitlab.example.com/group/sub/r"),
        );
    }

    #[test]
    fn local_paths_have_no_page() {
        check("/srv/git/repo.git", None);
        check("../repo", None);
        check("C:\\repo", None);
        check("file:///srv/git/repo", None);
        check("", None);
        check("https://github.com/only-owner", None);
    }

    #[test]
    fn compare_links() {
        let r = "https://github.com/o/r";
        assert_eq!(
            compare(r, Some("v1.0.0"), Some("v1.1.0")).as_deref(),
            Some("https://github.com/o/r/compare/v1.0.0...v1.1.0")
        );
        assert_eq!(
            compare(r, None, Some("v1.0.0")).as_deref(),
            Some("https://github.com/o/r/releases/tag/v1.0.0")
        );
        assert_eq!(
            compare(r, Some("v1.1.0"), None).as_deref(),
            Some("https://github.com/o/r/compare/v1.1.0...HEAD")
        );
        assert_eq!(compare(r, None, None), None);
    }
}

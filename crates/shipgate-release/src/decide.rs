//! The release's pure decisions, over plain data (commits as history gives them, names,
//! bumps): which commits count and what they bump, and which crates a per-crate release
//! makes at which version. No repository, no files: `plan` feeds them and is tested end to
//! end; these are tested here on data.

use std::collections::BTreeMap;

use semver::Version;
use shipgate_git::CommitInfo;
use shipgate_version::{Bump, BumpRules, Message, parse_message, revert};

/// The commits of a range, parsed once, with reverts cancelled.
#[derive(Debug)]
pub(crate) struct Classified<'a> {
    /// What the changelog lists: not merges, not cancelled by a revert.
    pub kept: Vec<&'a CommitInfo>,
    /// Their messages parsed, in the same order (the changelog section reuses them).
    pub kept_messages: Vec<Message>,
    pub bump: Bump,
    /// Commits considered (merges excluded).
    pub total: usize,
    pub conventional: usize,
    pub non_conventional: Vec<&'a CommitInfo>,
    /// Commits cancelled by a revert in the range (the reverts included).
    pub reverted: usize,
}

/// Classifies the commits `include` accepts (merge commits never count: the commits they
/// bring in do).
pub(crate) fn classify<'a>(
    commits: &'a [CommitInfo],
    rules: &BumpRules,
    include: &dyn Fn(&CommitInfo) -> bool,
) -> Classified<'a> {
    let commits: Vec<&CommitInfo> = commits
        .iter()
        .filter(|c| c.parents.len() <= 1 && include(c))
        .collect();
    // Parsed once, here: the changelog section reuses these. (Not spread over the cores: a
    // thousand messages take about 0.4 ms on one, less than a thread costs this process.)
    let parsed: Vec<Message> = commits.iter().map(|c| parse_message(&c.message)).collect();
    let cancelled = revert::cancelled(commits.iter().map(|c| (c.id, c.message.as_str())));
    let mut out = Classified {
        kept: Vec::with_capacity(commits.len()),
        kept_messages: Vec::with_capacity(commits.len()),
        bump: Bump::None,
        total: commits.len(),
        conventional: 0,
        non_conventional: Vec::new(),
        reverted: cancelled.iter().filter(|c| **c).count(),
    };
    for ((c, p), cancelled) in commits.iter().zip(parsed).zip(cancelled) {
        if p.conventional().is_some() {
            out.conventional += 1;
        } else {
            out.non_conventional.push(c);
        }
        if cancelled {
            continue;
        }
        out.bump = out.bump.max(rules.bump_of(&p));
        out.kept.push(c);
        out.kept_messages.push(p);
    }
    out
}

/// One crate of a per-crate release, as the propagation sees it.
#[derive(Debug, Clone)]
pub(crate) struct CrateBump<'a> {
    pub name: &'a str,
    /// What its own commits ask for.
    pub bump: Bump,
    /// The workspace crates it depends on by path (any dependency kind).
    pub deps: &'a [String],
}

/// The crates a per-crate release makes: each crate's own bump, and at least a patch for a
/// crate whose dependency is released, until nothing changes. `next(k, bump)` is crate
/// `k`'s next version for that bump (`None`: nothing to release; it owns prereleases and
/// the below-1.0 rule). Returns every crate's final bump and the released versions by name.
pub(crate) fn propagate<E>(
    crates: &[CrateBump<'_>],
    mut next: impl FnMut(usize, Bump) -> Result<Option<Version>, E>,
) -> Result<(Vec<Bump>, BTreeMap<String, Version>), E> {
    let mut bumps: Vec<Bump> = crates.iter().map(|c| c.bump).collect();
    let mut versions: BTreeMap<String, Version> = BTreeMap::new();
    loop {
        let mut changed = false;
        for (k, c) in crates.iter().enumerate() {
            if let Some(v) = next(k, bumps[k])?
                && versions.get(c.name) != Some(&v)
            {
                versions.insert(c.name.to_string(), v);
                changed = true;
            }
        }
        for (k, c) in crates.iter().enumerate() {
            if bumps[k] == Bump::None && c.deps.iter().any(|d| versions.contains_key(d)) {
                bumps[k] = Bump::Patch;
                changed = true;
            }
        }
        if !changed {
            return Ok((bumps, versions));
        }
    }
}

/// A workspace member, as the per-crate selection sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member<'a> {
    pub name: &'a str,
    /// Why Cargo would not publish it (`publish = false`, …), or `None`.
    pub unpublished: Option<&'static str>,
}

/// Which members a per-crate release considers.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Selection {
    /// Indices of the members that get version lines.
    pub released: Vec<usize>,
    /// Indices of the members left out, with why.
    pub left_out: Vec<(usize, &'static str)>,
}

/// Members Cargo would not publish are left out, as `cargo publish --workspace` and
/// release-plz leave them, unless `include` names them; their dependents are not released
/// through them (they have no version line). `Err(name)`: `include` names no member.
pub(crate) fn select<'a>(
    members: &[Member<'_>],
    include: &'a [String],
) -> Result<Selection, &'a str> {
    if let Some(unknown) = include
        .iter()
        .find(|n| !members.iter().any(|m| m.name == n.as_str()))
    {
        return Err(unknown);
    }
    let mut out = Selection {
        released: Vec::new(),
        left_out: Vec::new(),
    };
    for (k, m) in members.iter().enumerate() {
        match m.unpublished {
            Some(reason) if !include.iter().any(|n| n == m.name) => out.left_out.push((k, reason)),
            _ => out.released.push(k),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipgate_git::Oid;

    fn commit(n: u8, message: &str, parents: usize) -> CommitInfo {
        let id = |b: u8| Oid::from_bytes(&[b; 20]).expect("20 bytes are an object id");
        CommitInfo {
            id: id(n),
            parents: (0..parents).map(|p| id(200 + p as u8)).collect(),
            message: message.to_string(),
            author_name: "Ada".into(),
            author_email: "ada@example.com".into(),
            time: 1_700_000_000 + i64::from(n),
            offset_minutes: 0,
        }
    }

    fn revert_of(n: u8) -> String {
        let id = Oid::from_bytes(&[n; 20]).expect("20 bytes are an object id");
        format!("Revert \"x\"\n\nThis reverts commit {id}.")
    }

    #[test]
    fn classify_counts_bumps_and_keeps_what_the_changelog_lists() {
        let commits = vec![
            commit(5, "Merge branch 'topic'", 2),
            commit(4, &revert_of(3), 1),
            commit(3, "feat!: risky", 1),
            commit(2, "Update README", 1),
            commit(1, "fix: small", 1),
        ];
        let c = classify(&commits, &BumpRules::default(), &|_| true);
        assert_eq!(c.total, 4, "the merge does not count");
        assert_eq!((c.conventional, c.non_conventional.len()), (2, 2));
        assert_eq!(c.reverted, 2);
        assert_eq!(
            c.bump,
            Bump::Patch,
            "the reverted breaking change does not bump"
        );
        let kept: Vec<&str> = c.kept.iter().map(|c| c.message.as_str()).collect();
        assert_eq!(kept, vec!["Update README", "fix: small"]);
        // The section reuses the parses: one per kept commit, in the same order.
        let parsed: Vec<Message> = kept.iter().map(|m| parse_message(m)).collect();
        assert_eq!(c.kept_messages, parsed);
    }

    #[test]
    fn classify_honours_the_filter_and_the_rules() {
        let commits = vec![commit(2, "docs: guide", 1), commit(1, "feat: x", 1)];
        let only_docs = classify(&commits, &BumpRules::default(), &|c| {
            c.message.starts_with("docs")
        });
        assert_eq!((only_docs.total, only_docs.bump), (1, Bump::None));
        let rules = BumpRules {
            minor_types: vec![],
            patch_types: vec!["DOCS".into()],
        };
        assert_eq!(classify(&commits, &rules, &|_| true).bump, Bump::Patch);
    }

    /// Versions by name from a propagation where each crate's next version is 1.0.0 bumped.
    fn run(crates: &[CrateBump<'_>]) -> (Vec<Bump>, Vec<(String, String)>) {
        let base = Version::new(1, 0, 0);
        let (bumps, versions) = propagate(crates, |_, bump| {
            Ok::<_, ()>((bump != Bump::None).then(|| shipgate_version::bump::apply(&base, bump)))
        })
        .expect("no error");
        let versions = versions
            .into_iter()
            .map(|(n, v)| (n, v.to_string()))
            .collect();
        (bumps, versions)
    }

    #[test]
    fn dependents_of_a_released_crate_get_a_patch_transitively() {
        let none: &[String] = &[];
        let on_core = ["core".to_string()];
        let on_api = ["api".to_string()];
        let crates = [
            CrateBump {
                name: "app",
                bump: Bump::None,
                deps: &on_api,
            },
            CrateBump {
                name: "api",
                bump: Bump::None,
                deps: &on_core,
            },
            CrateBump {
                name: "core",
                bump: Bump::Minor,
                deps: none,
            },
            CrateBump {
                name: "other",
                bump: Bump::None,
                deps: none,
            },
        ];
        let (bumps, versions) = run(&crates);
        assert_eq!(
            bumps,
            vec![Bump::Patch, Bump::Patch, Bump::Minor, Bump::None]
        );
        assert_eq!(
            versions,
            vec![
                ("api".to_string(), "1.0.1".to_string()),
                ("app".to_string(), "1.0.1".to_string()),
                ("core".to_string(), "1.1.0".to_string()),
            ]
        );
    }

    #[test]
    fn an_own_bump_is_not_lowered_by_propagation_and_cycles_end() {
        let on_b = ["b".to_string()];
        let on_a = ["a".to_string()];
        let crates = [
            CrateBump {
                name: "a",
                bump: Bump::Major,
                deps: &on_b,
            },
            CrateBump {
                name: "b",
                bump: Bump::None,
                deps: &on_a,
            },
        ];
        let (bumps, versions) = run(&crates);
        assert_eq!(bumps, vec![Bump::Major, Bump::Patch]);
        assert_eq!(versions.len(), 2);
    }

    #[test]
    fn unpublished_members_are_left_out_unless_named() {
        let members = [
            Member {
                name: "core",
                unpublished: None,
            },
            Member {
                name: "fake_package",
                unpublished: Some("publish = false"),
            },
            Member {
                name: "tool",
                unpublished: Some("publish = []"),
            },
        ];
        assert_eq!(
            select(&members, &[]),
            Ok(Selection {
                released: vec![0],
                left_out: vec![(1, "publish = false"), (2, "publish = []")],
            })
        );
        let named = ["tool".to_string(), "core".to_string()];
        assert_eq!(
            select(&members, &named),
            Ok(Selection {
                released: vec![0, 2],
                left_out: vec![(1, "publish = false")],
            }),
            "naming a published member changes nothing"
        );
        let typo = ["tol".to_string()];
        assert_eq!(select(&members, &typo), Err("tol"));
    }

    #[test]
    fn a_left_out_dependent_is_not_released_with_its_dependency() {
        // propagation runs over the released members only: `fake_package` depends on
        // `core` but has no line, so only `app` follows `core`
        let members = [
            Member {
                name: "core",
                unpublished: None,
            },
            Member {
                name: "fake_package",
                unpublished: Some("publish = false"),
            },
            Member {
                name: "app",
                unpublished: None,
            },
        ];
        let selection = select(&members, &[]).expect("known names");
        let none: &[String] = &[];
        let on_core = ["core".to_string()];
        let deps = [none, &on_core[..], &on_core[..]];
        let own = [Bump::Minor, Bump::None, Bump::None];
        let crates: Vec<CrateBump<'_>> = selection
            .released
            .iter()
            .map(|k| CrateBump {
                name: members[*k].name,
                bump: own[*k],
                deps: deps[*k],
            })
            .collect();
        let (_, versions) = run(&crates);
        let names: Vec<&str> = versions.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["app", "core"]);
    }

    #[test]
    fn a_next_version_error_stops_the_propagation() {
        let none: &[String] = &[];
        let crates = [CrateBump {
            name: "a",
            bump: Bump::Minor,
            deps: none,
        }];
        assert_eq!(
            propagate(&crates, |_, _| Err("bad label")),
            Err("bad label")
        );
    }
}

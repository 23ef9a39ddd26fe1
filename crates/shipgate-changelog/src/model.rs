//! The release notes model: releases → sections → entries, built from commits and the
//! `[changelog]` rules. These structs are also the templates' context (`--context`).
//!
//! Building never fails: a commit that no rule places is left out, an empty or huge message
//! is just text.

use std::collections::HashSet;
use std::hash::BuildHasher;

use serde::{Deserialize, Serialize};
use shipgate_version::{Message, parse_message, revert};

use crate::links;
use crate::settings::{ChangelogSettings, CommitParser, Subject};

/// The Keep a Changelog introduction of a new file.
pub const HEADER: &str = "# Changelog\n\nAll notable changes to this project are documented in this file.\n\nThe format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),\nand this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).\n";

/// One commit as history gives it. Messages are already lossy UTF-8.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CommitInput {
    pub id: String,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    /// The author's GitHub login, when enrichment found it.
    pub author_login: Option<String>,
    /// The pull request that brought the commit, when enrichment found it (a `(#N)` at the
    /// end of the subject is found without it).
    pub pr: Option<u64>,
    /// `parse_message(&message)`, when the caller parsed it already (the release plan
    /// parses every message to decide the bump): used as is unless `[[changelog.preprocessors]]`
    /// rewrite the message first. It must be the parse of `message`.
    #[serde(skip)]
    pub parsed: Option<Message>,
}

/// One release to describe: its commits, newest first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReleaseInput {
    /// `None`: unreleased changes.
    pub version: Option<String>,
    pub tag: Option<String>,
    /// The tag the commits are counted from (for a stable release after release
    /// candidates, the last stable tag or the last candidate's: both work).
    pub previous_tag: Option<String>,
    /// `YYYY-MM-DD`.
    pub date: Option<String>,
    pub commits: Vec<CommitInput>,
    /// The git remote or web URL of the repository; `[changelog] remote-url` wins.
    pub remote_url: Option<String>,
    /// Authors whose first contribution is in this release (from GitHub enrichment).
    pub new_contributors: Vec<Contributor>,
}

/// Several releases, newest first, for a whole document.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChangelogInput {
    pub releases: Vec<ReleaseInput>,
    /// The git remote or web URL of the repository; `[changelog] remote-url` wins.
    pub remote_url: Option<String>,
}

/// A first-time contributor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contributor {
    pub login: String,
    /// Their first pull request.
    pub first_pr: Option<u64>,
}

/// The whole document's context.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Changelog {
    /// The text above the releases.
    pub header: String,
    /// `https://host/owner/repo` when known.
    pub remote_url: Option<String>,
    /// Newest first; the first is always the unreleased one (maybe without sections).
    pub releases: Vec<Release>,
    /// Link reference definitions for the bottom (`[1.4.0]: compare URL`).
    pub links: Vec<LinkDefinition>,
}

/// `[label]: url` at the bottom of a Keep a Changelog document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LinkDefinition {
    /// The label: a version, or `Unreleased`.
    pub label: String,
    /// Its compare (or tag) page.
    pub url: String,
}

/// One release in the notes.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Release {
    /// `None`: unreleased changes.
    pub version: Option<String>,
    /// The version, or `Unreleased`.
    pub title: String,
    /// The release date, `YYYY-MM-DD` (`null`: unreleased).
    pub date: Option<String>,
    /// The release tag (`null`: unreleased).
    pub tag: Option<String>,
    /// The tag the commits are counted from (`null`: none before).
    pub previous_tag: Option<String>,
    /// `compare/PREV...TAG` (or the tag's page for a first release) when the remote is known.
    pub compare_url: Option<String>,
    /// The version has a prerelease part (`1.4.0-rc.1`).
    pub prerelease: bool,
    /// `https://host/owner/repo` when known.
    pub remote_url: Option<String>,
    /// Breaking changes first, then Keep a Changelog's order, then custom sections. Only
    /// sections with entries.
    pub sections: Vec<Section>,
    /// Authors whose first contribution is in this release (from GitHub enrichment).
    pub new_contributors: Vec<NewContributor>,
    /// Prerelease versions gathered into this stable release (whether or not their own
    /// sections are kept).
    pub gathered: Vec<String>,
    /// Commits considered (before skip rules).
    pub commit_count: usize,
}

/// A titled group of entries.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Section {
    /// The section's heading: `Added`, `Fixed`, … or a custom one.
    pub title: String,
    /// The breaking changes section.
    pub breaking: bool,
    /// Its changes.
    pub entries: Vec<Entry>,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Entry {
    /// The Conventional Commits type; `None` for a commit that is not conventional.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The Conventional Commits scope, when there is one.
    pub scope: Option<String>,
    /// The subject after the type and scope, without a trailing `(#N)`.
    pub description: String,
    /// The message's body, below the subject (`null`: none).
    pub body: Option<String>,
    /// A breaking change (`!` or a `BREAKING CHANGE:` footer).
    pub breaking: bool,
    /// The `BREAKING CHANGE:` footer's text when it says more than the description.
    pub breaking_note: Option<String>,
    /// The commit's full id.
    pub id: String,
    /// The first 7 characters of the id.
    pub short_id: String,
    /// The commit's page when the remote is known.
    pub commit_url: Option<String>,
    /// The pull request that brought it, from enrichment or a `(#N)` at the end of the
    /// subject.
    pub pr: Option<u64>,
    /// The pull request's page when the remote is known.
    pub pr_url: Option<String>,
    /// The author's name.
    pub author: String,
    /// The author's email.
    pub author_email: String,
    /// The author's GitHub login, when enrichment found it.
    pub author_login: Option<String>,
    /// Issues named in the subject or in `Closes`/`Fixes`/`Refs`… footers.
    pub issues: Vec<IssueRef>,
    /// The PR then the issues as Markdown: `[#12](…/pull/12), [#3](…/issues/3)`, or
    /// `#12, #3` without a remote.
    pub links: String,
}

/// An issue number and its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct IssueRef {
    /// The issue's number.
    pub number: u64,
    /// Its page when the remote is known.
    pub url: Option<String>,
}

/// A first-time contributor with links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct NewContributor {
    /// Their GitHub login.
    pub login: String,
    /// Their first pull request.
    pub first_pr: Option<u64>,
    /// Its page when the remote is known.
    pub first_pr_url: Option<String>,
}

/// The title of the breaking changes section.
pub const BREAKING_TITLE: &str = "⚠ Breaking changes";

/// Keep a Changelog sections in their fixed order.
pub const SECTION_ORDER: &[&str] = &[
    "Added",
    "Fixed",
    "Performance",
    "Changed",
    "Security",
    "Deprecated",
    "Removed",
];

/// The built-in type → section mapping, tried after `[[changelog.parsers]]`.
const DEFAULT_TYPES: &[(&str, &str)] = &[
    ("feat", "Added"),
    ("fix", "Fixed"),
    ("perf", "Performance"),
    ("refactor", "Changed"),
    ("change", "Changed"),
    ("security", "Security"),
    ("deprecate", "Deprecated"),
    ("remove", "Removed"),
];

const ISSUE_FOOTERS: &[&str] = &[
    "closes",
    "close",
    "closed",
    "fixes",
    "fix",
    "fixed",
    "resolves",
    "resolve",
    "resolved",
    "refs",
    "ref",
    "references",
    "see",
];

/// The rules of one run, with section titles numbered once.
struct Rules<'a> {
    settings: &'a ChangelogSettings,
    parsers: Vec<CommitParser>,
    remote: Option<String>,
}

impl<'a> Rules<'a> {
    fn new(settings: &'a ChangelogSettings, remote: Option<&str>) -> Self {
        let mut parsers: Vec<CommitParser> = settings
            .skip
            .iter()
            .cloned()
            .map(CommitParser::from)
            .collect();
        parsers.extend(settings.parsers.iter().cloned());
        let remote = settings
            .remote_url
            .as_deref()
            .or(remote)
            .and_then(links::web_url);
        Rules {
            settings,
            parsers,
            remote,
        }
    }

    /// The section order: breaking, Keep a Changelog's, then custom ones by first mention.
    fn section_rank(&self, title: &str) -> usize {
        if title == BREAKING_TITLE {
            return 0;
        }
        if let Some(i) = SECTION_ORDER.iter().position(|t| *t == title) {
            return 1 + i;
        }
        let custom = self
            .settings
            .parsers
            .iter()
            .filter_map(|p| p.section.as_deref())
            .filter(|t| !SECTION_ORDER.contains(t));
        let mut seen: Vec<&str> = Vec::new();
        for t in custom {
            if !seen.contains(&t) {
                seen.push(t);
            }
        }
        1 + SECTION_ORDER.len() + seen.iter().position(|t| *t == title).unwrap_or(seen.len())
    }

    /// Places one commit: `None` when it is left out.
    fn classify(&self, commit: &CommitInput) -> Option<(String, Entry)> {
        let mut message = std::borrow::Cow::Borrowed(commit.message.as_str());
        for p in &self.settings.preprocessors {
            if let std::borrow::Cow::Owned(s) =
                p.pattern.0.replace_all(&message, p.replace.as_str())
            {
                message = std::borrow::Cow::Owned(s);
            }
        }
        let parsed = match &commit.parsed {
            Some(p) if self.settings.preprocessors.is_empty() => p.clone(),
            _ => parse_message(&message),
        };
        let (kind, scope, subject, body, breaking, breaking_footer, footers) = match parsed {
            Message::Conventional(c) => (
                Some(c.kind),
                c.scope,
                c.description,
                c.body,
                c.breaking,
                c.breaking_description,
                c.footers,
            ),
            Message::Other { summary } => (None, None, summary, None, false, None, Vec::new()),
        };
        let (description, subject_pr) = split_pr(&subject);
        // release commits never describe a change
        if kind.as_deref() == Some("chore") && scope.as_deref() == Some("release") {
            return None;
        }
        let login = commit.author_login.as_deref().unwrap_or("");
        let who = Subject {
            kind: kind.as_deref(),
            scope: scope.as_deref(),
            message: description,
            authors: [&commit.author_name, &commit.author_email, login],
        };
        let chosen = self.parsers.iter().find(|p| p.matches(&who));
        if chosen.is_some_and(|p| p.skip) {
            return None;
        }
        let section = chosen.and_then(|p| p.section.clone()).or_else(|| {
            let k = kind.as_deref()?;
            DEFAULT_TYPES
                .iter()
                .find(|(t, _)| *t == k)
                .map(|(_, s)| (*s).to_string())
        });
        let title = if breaking {
            BREAKING_TITLE.to_string()
        } else {
            section?
        };

        let pr = subject_pr.or(commit.pr);
        let mut issue_numbers: Vec<u64> = Vec::new();
        hash_numbers(description, &mut issue_numbers);
        for (token, value) in &footers {
            if ISSUE_FOOTERS.iter().any(|t| token.eq_ignore_ascii_case(t)) {
                // `Closes #33` is a footer whose separator is ` #`: the value starts with the number
                let lead: String = value
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .take(19)
                    .collect();
                if let Ok(n) = lead.parse() {
                    issue_numbers.push(n);
                }
                hash_numbers(value, &mut issue_numbers);
            }
        }
        let mut seen = HashSet::new();
        issue_numbers.retain(|n| Some(*n) != pr && seen.insert(*n));
        let remote = self.remote.as_deref();
        let issues: Vec<IssueRef> = issue_numbers
            .into_iter()
            .map(|number| IssueRef {
                number,
                url: remote.map(|r| links::issue(r, number)),
            })
            .collect();
        let pr_url = pr.and_then(|n| remote.map(|r| links::pull(r, n)));
        let mut link_list: Vec<String> = Vec::new();
        if let Some(n) = pr {
            link_list.push(match &pr_url {
                Some(u) => format!("[#{n}]({u})"),
                None => format!("#{n}"),
            });
        }
        for i in &issues {
            link_list.push(match &i.url {
                Some(u) => format!("[#{}]({u})", i.number),
                None => format!("#{}", i.number),
            });
        }
        let description = if description.is_empty() {
            "(no description)".to_string()
        } else {
            description.to_string()
        };
        let breaking_note =
            breaking_footer.filter(|n| breaking && !n.trim().is_empty() && n.trim() != description);
        let entry = Entry {
            kind,
            scope,
            description,
            body,
            breaking,
            breaking_note,
            short_id: commit.id.chars().take(7).collect(),
            commit_url: remote
                .filter(|_| !commit.id.is_empty())
                .map(|r| links::commit(r, &commit.id)),
            id: commit.id.clone(),
            pr,
            pr_url,
            author: commit.author_name.clone(),
            author_email: commit.author_email.clone(),
            author_login: commit.author_login.clone(),
            issues,
            links: link_list.join(", "),
        };
        Some((title, entry))
    }

    fn release(
        &self,
        input: &ReleaseInput,
        commits: &[&CommitInput],
        gathered: Vec<String>,
    ) -> Release {
        let kept = cancel_reverts(commits);
        let mut sections: Vec<Section> = Vec::new();
        // Hashes of what an entry says, only compared with each other in this run: foldhash,
        // not SipHash.
        let text_hash = foldhash::quality::FixedState::default();
        let mut seen_text: foldhash::HashSet<u64> =
            foldhash::HashSet::with_capacity_and_hasher(kept.len(), Default::default());
        for commit in kept {
            let Some((title, entry)) = self.classify(commit) else {
                continue;
            };
            // the same change cherry-picked twice is listed once
            if !seen_text.insert(text_hash.hash_one((&title, &entry.scope, &entry.description))) {
                continue;
            }
            match sections.iter_mut().find(|s| s.title == title) {
                Some(s) => s.entries.push(entry),
                None => sections.push(Section {
                    breaking: title == BREAKING_TITLE,
                    title,
                    entries: vec![entry],
                }),
            }
        }
        sections.sort_by_key(|s| self.section_rank(&s.title));
        let remote = self.remote.as_deref();
        Release {
            title: input
                .version
                .clone()
                .unwrap_or_else(|| "Unreleased".to_string()),
            version: input.version.clone(),
            date: input.date.clone(),
            tag: input.tag.clone(),
            previous_tag: input.previous_tag.clone(),
            compare_url: remote.and_then(|r| {
                links::compare(r, input.previous_tag.as_deref(), input.tag.as_deref())
            }),
            prerelease: input.version.as_deref().is_some_and(is_prerelease),
            remote_url: self.remote.clone(),
            sections,
            new_contributors: input
                .new_contributors
                .iter()
                .map(|c| NewContributor {
                    login: c.login.clone(),
                    first_pr: c.first_pr,
                    first_pr_url: c.first_pr.and_then(|n| remote.map(|r| links::pull(r, n))),
                })
                .collect(),
            gathered,
            commit_count: commits.len(),
        }
    }
}

/// `1.4.0-rc.1` (or `v1.4.0-rc.1`) is a prerelease; `1.4.0` and `1.4.0+build` are not.
pub fn is_prerelease(version: &str) -> bool {
    let v = version.trim().trim_start_matches('v');
    let core = v.split('+').next().unwrap_or(v);
    core.contains('-')
}

/// Splits a trailing `(#123)` off a subject.
fn split_pr(subject: &str) -> (&str, Option<u64>) {
    let trimmed = subject.trim_end();
    if let Some(inner) = trimmed.strip_suffix(')')
        && let Some(open) = inner.rfind("(#")
    {
        let digits = &inner[open + 2..];
        if !digits.is_empty()
            && digits.len() <= 19
            && digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(n) = digits.parse()
        {
            return (inner[..open].trim_end(), Some(n));
        }
    }
    (trimmed, None)
}

/// Every `#123` in `text` that is not part of a word (`a#1`) or a Markdown link label.
fn hash_numbers(text: &str, out: &mut Vec<u64>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(off) = bytes[i..].iter().position(|&b| b == b'#') {
        let at = i + off;
        let start = at + 1;
        let end = start
            + bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
        let before_ok =
            at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'&');
        let after_ok = end == bytes.len() || !bytes[end].is_ascii_alphanumeric();
        if end > start
            && end - start <= 19
            && before_ok
            && after_ok
            && let Ok(n) = text[start..end].parse()
        {
            out.push(n);
        }
        i = end.max(start);
    }
}

/// Drops what the revert rule cancels (`shipgate_version::revert`, the rule the bump uses).
fn cancel_reverts<'c>(commits: &[&'c CommitInput]) -> Vec<&'c CommitInput> {
    let cancelled = revert::cancelled(commits.iter().map(|c| (c.id.as_str(), c.message.as_str())));
    commits
        .iter()
        .zip(cancelled)
        .filter(|(_, cancelled)| !cancelled)
        .map(|(c, _)| *c)
        .collect()
}

/// Builds one release's notes. For a stable release after release candidates, pass every
/// commit since the last stable release: repeated ids and repeated changes are listed once.
pub fn build_release(input: &ReleaseInput, settings: &ChangelogSettings) -> Release {
    let rules = Rules::new(settings, input.remote_url.as_deref());
    let commits = dedup(input.commits.iter());
    rules.release(input, &commits, Vec::new())
}

fn dedup<'c>(commits: impl Iterator<Item = &'c CommitInput>) -> Vec<&'c CommitInput> {
    let mut seen: foldhash::HashSet<&str> = foldhash::HashSet::default();
    commits
        .filter(|c| c.id.is_empty() || seen.insert(c.id.as_str()))
        .collect()
}

/// One release to build: its index in the input, its commits, the prereleases it gathers.
type Plan<'c> = (usize, Vec<&'c CommitInput>, Vec<String>);

/// Builds the whole document's model from releases given newest first.
///
/// Each prerelease keeps its own section; a stable release gathers the changes of the
/// prereleases since the previous stable release (each change once), and with
/// `fold-prereleases = true` those prereleases' sections are dropped. The first release of
/// the result is always the unreleased one, empty when there is nothing unreleased.
pub fn build_changelog(input: &ChangelogInput, settings: &ChangelogSettings) -> Changelog {
    let remote = input
        .remote_url
        .as_deref()
        .or_else(|| input.releases.iter().find_map(|r| r.remote_url.as_deref()));
    let rules = Rules::new(settings, remote);
    let n = input.releases.len();
    let mut folded = vec![false; n];
    let mut releases = Vec::with_capacity(n + 1);
    if input.releases.first().is_none_or(|r| r.version.is_some()) {
        let unreleased = ReleaseInput {
            previous_tag: input.releases.first().and_then(|r| r.tag.clone()),
            ..Default::default()
        };
        releases.push(rules.release(&unreleased, &[], Vec::new()));
    }
    // plan sequentially (cheap), then build the releases on every core: they are independent
    let mut plans: Vec<Plan<'_>> = Vec::with_capacity(n);
    for (i, r) in input.releases.iter().enumerate() {
        if folded[i] {
            continue;
        }
        let stable = r.version.as_deref().is_some_and(|v| !is_prerelease(v));
        let mut commits: Vec<&CommitInput> = r.commits.iter().collect();
        let mut gathered = Vec::new();
        if stable {
            for (j, older) in input.releases.iter().enumerate().skip(i + 1) {
                let Some(v) = older.version.as_deref().filter(|v| is_prerelease(v)) else {
                    break;
                };
                commits.extend(older.commits.iter());
                gathered.push(v.to_string());
                if settings.fold_prereleases {
                    folded[j] = true;
                }
            }
        }
        plans.push((i, dedup(commits.into_iter()), gathered));
    }
    let build = |(i, commits, gathered): Plan<'_>| {
        let r = &input.releases[i];
        let stable = r.version.as_deref().is_some_and(|v| !is_prerelease(v));
        let mut release = rules.release(r, &commits, gathered);
        if stable && settings.fold_prereleases && !release.gathered.is_empty() {
            // the compare link spans the whole cycle: from the last stable release
            let last_stable = input
                .releases
                .iter()
                .skip(i + 1)
                .find(|o| o.version.as_deref().is_some_and(|v| !is_prerelease(v)));
            release.previous_tag = last_stable.and_then(|o| o.tag.clone());
            release.compare_url = rules.remote.as_deref().and_then(|rm| {
                links::compare(rm, release.previous_tag.as_deref(), release.tag.as_deref())
            });
        }
        release
    };
    let total: usize = plans.iter().map(|p| p.1.len()).sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads < 2 || total < 20_000 {
        releases.extend(plans.into_iter().map(build));
    } else {
        // contiguous chunks of about equal commit counts keep the order
        let per = total.div_ceil(threads);
        let mut chunks: Vec<Vec<Plan<'_>>> = vec![Vec::new()];
        let mut in_chunk = 0;
        for plan in plans {
            if in_chunk >= per {
                chunks.push(Vec::new());
                in_chunk = 0;
            }
            in_chunk += plan.1.len();
            if let Some(c) = chunks.last_mut() {
                c.push(plan);
            }
        }
        let build = &build;
        let built: Vec<Vec<Release>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|chunk| scope.spawn(move || chunk.into_iter().map(build).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        releases.extend(built.into_iter().flatten());
    }
    let links = releases
        .iter()
        .filter_map(|r| {
            r.compare_url.as_ref().map(|u| LinkDefinition {
                label: r.title.clone(),
                url: u.clone(),
            })
        })
        .collect();
    Changelog {
        header: settings
            .header
            .clone()
            .unwrap_or_else(|| HEADER.to_string()),
        remote_url: rules.remote.clone(),
        releases,
        links,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Pattern;

    pub(crate) fn commit(id: &str, message: &str) -> CommitInput {
        CommitInput {
            id: id.to_string(),
            message: message.to_string(),
            author_name: "Ada".to_string(),
            author_email: "ada@example.com".to_string(),
            ..Default::default()
        }
    }

    fn titles(r: &Release) -> Vec<(&str, Vec<&str>)> {
        r.sections
            .iter()
            .map(|s| {
                (
                    s.title.as_str(),
                    s.entries.iter().map(|e| e.description.as_str()).collect(),
                )
            })
            .collect()
    }

    fn release(messages: &[&str]) -> ReleaseInput {
        ReleaseInput {
            version: Some("1.4.0".into()),
            tag: Some("v1.4.0".into()),
            previous_tag: Some("v1.3.0".into()),
            commits: messages
                .iter()
                .enumerate()
                .map(|(i, m)| commit(&format!("{i:040x}"), m))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn sections_follow_keep_a_changelog_order_with_breaking_first() {
        let r = build_release(
            &release(&[
                "fix: b",
                "docs: not listed",
                "perf: c",
                "feat(api)!: d",
                "feat: a",
                "Update README",
                "refactor: e",
            ]),
            &ChangelogSettings::default(),
        );
        assert_eq!(
            titles(&r),
            vec![
                (BREAKING_TITLE, vec!["d"]),
                ("Added", vec!["a"]),
                ("Fixed", vec!["b"]),
                ("Performance", vec!["c"]),
                ("Changed", vec!["e"])
            ]
        );
        assert_eq!(r.commit_count, 7);
    }

    #[test]
    fn pr_numbers_issues_and_links() {
        let mut input = release(&["fix(cli): handle #3 and x#4 (#12)\n\nCloses: #5, #3\nRefs #12"]);
        input.remote_url = Some("git@github.com:o/r.git".into());
        let r = build_release(&input, &ChangelogSettings::default());
        let e = &r.sections[0].entries[0];
        assert_eq!(e.description, "handle #3 and x#4");
        assert_eq!(e.pr, Some(12));
        assert_eq!(e.pr_url.as_deref(), Some("https://github.com/o/r/pull/12"));
        assert_eq!(
            e.issues.iter().map(|i| i.number).collect::<Vec<_>>(),
            vec![3, 5]
        );
        assert_eq!(
            e.links,
            "[#12](https://github.com/o/r/pull/12), [#3](https://github.com/o/r/issues/3), [#5](https://github.com/o/r/issues/5)"
        );
        assert_eq!(
            r.compare_url.as_deref(),
            Some("https://github.com/o/r/compare/v1.3.0...v1.4.0")
        );
        let without = build_release(&release(&["fix: x (#7)"]), &ChangelogSettings::default());
        assert_eq!(without.sections[0].entries[0].links, "#7");
        assert_eq!(without.compare_url, None);
    }

    #[test]
    fn enrichment_fills_missing_pr_but_subject_wins() {
        let mut input = release(&["fix: a", "fix: b (#9)"]);
        input.commits[0].pr = Some(4);
        input.commits[1].pr = Some(8);
        let r = build_release(&input, &ChangelogSettings::default());
        assert_eq!(
            r.sections[0]
                .entries
                .iter()
                .map(|e| e.pr)
                .collect::<Vec<_>>(),
            vec![Some(4), Some(9)]
        );
    }

    #[test]
    fn parsers_skip_rules_and_preprocessors() {
        let settings = ChangelogSettings {
            parsers: vec![
                CommitParser {
                    kind: Some("docs".into()),
                    section: Some("Documentation".into()),
                    ..Default::default()
                },
                CommitParser {
                    message: Some(Pattern::new("^WIP").expect("re")),
                    skip: true,
                    ..Default::default()
                },
                CommitParser {
                    message: Some(Pattern::new("(?i)^add").expect("re")),
                    section: Some("Added".into()),
                    ..Default::default()
                },
            ],
            skip: vec![crate::settings::SkipRule {
                author: Some(Pattern::new(r"\[bot\]$").expect("re")),
                ..Default::default()
            }],
            preprocessors: vec![crate::settings::Preprocessor {
                pattern: Pattern::new(r"JIRA-(\d+)").expect("re"),
                replace: "[JIRA-$1](https://jira/JIRA-$1)".into(),
            }],
            ..Default::default()
        };
        let mut input = release(&[
            "docs: guide",
            "feat: WIP thing",
            "Add login page JIRA-7",
            "fix: deps",
            "chore(release): v1.3.0",
        ]);
        input.commits[3].author_name = "dependabot[bot]".into();
        let r = build_release(&input, &settings);
        assert_eq!(
            titles(&r),
            vec![
                (
                    "Added",
                    vec!["Add login page [JIRA-7](https://jira/JIRA-7)"]
                ),
                ("Documentation", vec!["guide"])
            ]
        );
    }

    #[test]
    fn a_message_the_caller_parsed_is_used_unless_preprocessors_rewrite_it() {
        let mut input = release(&[
            "feat(api): add search",
            "fix: a bug\n\nBREAKING CHANGE: moved",
            "Update README",
        ]);
        let plain = build_release(&input, &ChangelogSettings::default());
        for c in &mut input.commits {
            c.parsed = Some(parse_message(&c.message));
        }
        assert_eq!(build_release(&input, &ChangelogSettings::default()), plain);
        // The caller's parse is what the section shows (here one that differs on purpose)...
        input.commits[2].parsed = Some(parse_message("perf: faster README"));
        let r = build_release(&input, &ChangelogSettings::default());
        assert!(titles(&r).contains(&("Performance", vec!["faster README"])));
        // ...unless a preprocessor rewrites the message: then it is parsed again.
        let settings = ChangelogSettings {
            preprocessors: vec![crate::settings::Preprocessor {
                pattern: Pattern::new("^feat").expect("re"),
                replace: "fix".into(),
            }],
            ..Default::default()
        };
        let r = build_release(&input, &settings);
        assert!(
            !titles(&r)
                .iter()
                .any(|(t, _)| *t == "Added" || *t == "Performance")
        );
        assert!(
            titles(&r)
                .iter()
                .any(|(t, e)| *t == "Fixed" && e.contains(&"add search"))
        );
    }

    #[test]
    fn breaking_notes_only_when_they_add_something() {
        let r = build_release(
            &release(&["feat!: drop v1", "fix: x\n\nBREAKING CHANGE: config moved"]),
            &ChangelogSettings::default(),
        );
        let e = &r.sections[0].entries;
        assert_eq!(e[0].breaking_note, None);
        assert_eq!(e[1].breaking_note.as_deref(), Some("config moved"));
    }

    #[test]
    fn reverts_cancel_within_a_release() {
        let mut input = release(&["feat: kept", "feat: gone"]);
        let gone = input.commits[1].id.clone();
        input.commits.insert(
            0,
            commit(
                "ffff",
                &format!("Revert \"feat: gone\"\n\nThis reverts commit {gone}."),
            ),
        );
        let r = build_release(&input, &ChangelogSettings::default());
        assert_eq!(titles(&r), vec![("Added", vec!["kept"])]);
    }

    #[test]
    fn a_reverted_revert_is_listed_and_a_double_revert_is_not() {
        // the rule is shipgate_version::revert's; here only that the notes use it
        let mut input = release(&["feat: back again"]);
        let feat = input.commits[0].id.clone();
        input.commits.insert(
            0,
            commit(
                &"a".repeat(40),
                &format!("Revert \"feat\"\n\nThis reverts commit {feat}."),
            ),
        );
        let undo = input.commits[0].id.clone();
        input.commits.insert(
            0,
            commit(
                &"b".repeat(40),
                &format!("Reapply \"feat\"\n\nThis reverts commit {undo}."),
            ),
        );
        let r = build_release(&input, &ChangelogSettings::default());
        assert_eq!(titles(&r), vec![("Added", vec!["back again"])]);

        let mut input = release(&["feat: gone"]);
        let gone = input.commits[0].id.clone();
        for (n, subject) in [('c', "fix: revert gone"), ('d', "fix: revert gone again")] {
            input.commits.insert(
                0,
                commit(
                    &n.to_string().repeat(40),
                    &format!("{subject}\n\nThis reverts commit {gone}."),
                ),
            );
        }
        let r = build_release(&input, &ChangelogSettings::default());
        assert_eq!(titles(&r), Vec::<(&str, Vec<&str>)>::new());
    }

    #[test]
    fn bad_input_never_panics() {
        let huge = format!("fix: big\n\n{}", "é #1 (#2) ".repeat(100_000));
        let r = build_release(
            &release(&[
                "",
                "   ",
                "feat: ",
                "fix: \u{FFFD}\u{FFFD} (#",
                &huge,
                "feat: (#99999999999999999999999)",
            ]),
            &ChangelogSettings::default(),
        );
        let all: Vec<&str> = r
            .sections
            .iter()
            .flat_map(|s| s.entries.iter().map(|e| e.description.as_str()))
            .collect();
        assert!(all.contains(&"big"));
        assert!(all.contains(&"\u{FFFD}\u{FFFD} (#"));
    }

    #[test]
    fn split_pr_cases() {
        assert_eq!(split_pr("a (#12)"), ("a", Some(12)));
        assert_eq!(split_pr("a (#12) "), ("a", Some(12)));
        assert_eq!(split_pr("a (#x)"), ("a (#x)", None));
        assert_eq!(split_pr("(#)"), ("(#)", None));
        assert_eq!(split_pr("é(#1)"), ("é", Some(1)));
    }

    fn rc_history() -> ChangelogInput {
        let mk = |v: &str, prev: Option<&str>, msgs: &[(&str, &str)]| ReleaseInput {
            version: Some(v.into()),
            tag: Some(format!("v{v}")),
            previous_tag: prev.map(|p| format!("v{p}")),
            date: Some("2026-11-26".into()),
            commits: msgs.iter().map(|(id, m)| commit(id, m)).collect(),
            ..Default::default()
        };
        ChangelogInput {
            releases: vec![
                mk("1.4.0", Some("1.4.0-rc.2"), &[("c3", "fix: final")]),
                mk("1.4.0-rc.2", Some("1.4.0-rc.1"), &[("c2", "fix: second")]),
                mk(
                    "1.4.0-rc.1",
                    Some("1.3.0"),
                    &[("c1", "feat: first"), ("c0", "feat: first")],
                ),
                mk("1.3.0", None, &[("b0", "feat: old")]),
            ],
            remote_url: Some("https://github.com/o/r".into()),
        }
    }

    #[test]
    fn stable_release_gathers_candidates_once() {
        let doc = build_changelog(&rc_history(), &ChangelogSettings::default());
        let versions: Vec<&str> = doc.releases.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(
            versions,
            vec!["Unreleased", "1.4.0", "1.4.0-rc.2", "1.4.0-rc.1", "1.3.0"]
        );
        assert_eq!(
            titles(&doc.releases[1]),
            vec![("Added", vec!["first"]), ("Fixed", vec!["final", "second"])]
        );
        assert_eq!(doc.releases[1].gathered, vec!["1.4.0-rc.2", "1.4.0-rc.1"]);
        assert_eq!(titles(&doc.releases[3]), vec![("Added", vec!["first"])]);
        assert!(doc.releases[2].prerelease);
        assert_eq!(
            doc.releases[0].compare_url.as_deref(),
            Some("https://github.com/o/r/compare/v1.4.0...HEAD")
        );
    }

    #[test]
    fn folded_candidates_disappear() {
        let settings = ChangelogSettings {
            fold_prereleases: true,
            ..Default::default()
        };
        let doc = build_changelog(&rc_history(), &settings);
        let versions: Vec<&str> = doc.releases.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(versions, vec!["Unreleased", "1.4.0", "1.3.0"]);
        assert_eq!(
            doc.releases[1].compare_url.as_deref(),
            Some("https://github.com/o/r/compare/v1.3.0...v1.4.0")
        );
        assert_eq!(
            doc.links
                .iter()
                .map(|l| l.label.as_str())
                .collect::<Vec<_>>(),
            vec!["Unreleased", "1.4.0", "1.3.0"]
        );
    }

    #[test]
    fn prerelease_detection() {
        assert!(is_prerelease("1.4.0-rc.1"));
        assert!(is_prerelease("v2.0.0-beta"));
        assert!(!is_prerelease("1.4.0"));
        assert!(!is_prerelease("1.4.0+build-5"));
    }
}

//! Parsing commit messages as Conventional Commits 1.0: the one parser that versions and
//! changelogs share.

use serde::Serialize;

/// A commit message that follows Conventional Commits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConventionalCommit {
    /// The type, lower-cased (`feat`, `fix`, …).
    #[serde(rename = "type")]
    pub kind: String,
    pub scope: Option<String>,
    pub description: String,
    pub body: Option<String>,
    /// `!` after the type/scope, or a `BREAKING CHANGE:` / `BREAKING-CHANGE:` footer.
    pub breaking: bool,
    /// The footer's text, or the description when only `!` marked it.
    pub breaking_description: Option<String>,
    /// Footers in order, as (token, value).
    pub footers: Vec<(String, String)>,
}

/// A parsed commit message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "style", rename_all = "kebab-case")]
pub enum Message {
    Conventional(ConventionalCommit),
    /// Anything else; `summary` is the first line.
    Other {
        summary: String,
    },
}

impl Message {
    pub fn conventional(&self) -> Option<&ConventionalCommit> {
        match self {
            Message::Conventional(c) => Some(c),
            Message::Other { .. } => None,
        }
    }

    /// The first line a reader sees.
    pub fn summary(&self) -> &str {
        match self {
            Message::Conventional(c) => &c.description,
            Message::Other { summary } => summary,
        }
    }
}

/// Parses one commit message. Never fails: what is not conventional is `Message::Other`.
pub fn parse_message(message: &str) -> Message {
    let normalized;
    let text = if message.contains('\r') {
        normalized = message.replace("\r\n", "\n");
        normalized.as_str()
    } else {
        message
    };
    let text = text.trim();
    // The first line is the header and what follows is the body, blank line or not (as
    // conventional-changelog reads it); the parser wants the blank line, so it gets one.
    let separated;
    let text = match text.split_once('\n') {
        Some((header, rest)) if !rest.starts_with('\n') && !rest.trim().is_empty() => {
            separated = format!("{header}\n\n{rest}");
            separated.as_str()
        }
        _ => text,
    };
    match git_conventional::Commit::parse(text) {
        Ok(c) => Message::Conventional(ConventionalCommit {
            kind: c.type_().as_str().to_ascii_lowercase(),
            scope: c.scope().map(|s| s.as_str().to_string()),
            description: c.description().trim().to_string(),
            body: c
                .body()
                .map(|b| b.trim().to_string())
                .filter(|b| !b.is_empty()),
            breaking: c.breaking(),
            breaking_description: c.breaking_description().map(str::to_string),
            footers: c
                .footers()
                .iter()
                .map(|f| (f.token().as_str().to_string(), f.value().trim().to_string()))
                .collect(),
        }),
        Err(_) => Message::Other {
            summary: text.lines().next().unwrap_or_default().trim().to_string(),
        },
    }
}

/// The commit ids a message says it reverts: git's `This reverts commit <sha>.` line, or a
/// `Refs: <sha>` footer of a `revert:` commit.
pub fn reverted_ids(message: &str, parsed: &Message) -> Vec<String> {
    let mut ids = Vec::new();
    for line in message.lines() {
        if let Some(rest) = line.trim().strip_prefix("This reverts commit ") {
            let sha: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
            if sha.len() >= 7 {
                ids.push(sha.to_ascii_lowercase());
            }
        }
    }
    if let Some(c) = parsed.conventional().filter(|c| c.kind == "revert") {
        for (token, value) in &c.footers {
            if token.eq_ignore_ascii_case("refs") {
                for word in value.split([',', ' ']) {
                    let word = word.trim();
                    if word.len() >= 7 && word.chars().all(|ch| ch.is_ascii_hexdigit()) {
                        ids.push(word.to_ascii_lowercase());
                    }
                }
            }
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_type_scope_and_breaking_footer() {
        let m = parse_message(
            "feat(api)!: drop v1\n\nbody text\n\nBREAKING CHANGE: v1 is gone\nRefs: #12\n",
        );
        let c = m.conventional().expect("conventional");
        assert_eq!(c.kind, "feat");
        assert_eq!(c.scope.as_deref(), Some("api"));
        assert!(c.breaking);
        assert_eq!(c.body.as_deref(), Some("body text"));
        assert_eq!(c.footers.len(), 2);
    }

    #[test]
    fn upper_case_types_are_normalised() {
        assert_eq!(
            parse_message("FIX: x")
                .conventional()
                .map(|c| c.kind.as_str()),
            Some("fix")
        );
    }

    #[test]
    fn breaking_change_hyphen_footer_counts() {
        assert!(
            parse_message("fix: a\n\nBREAKING-CHANGE: b")
                .conventional()
                .is_some_and(|c| c.breaking)
        );
    }

    #[test]
    fn other_messages_keep_their_first_line() {
        assert_eq!(
            parse_message("Update README\n\nmore").summary(),
            "Update README"
        );
        assert_eq!(parse_message("").summary(), "");
    }

    #[test]
    fn a_body_right_under_the_header_is_the_body() {
        let m = parse_message("fix(post): revert to exec\n`git-node` is nice, but it breaks\n");
        let c = m
            .conventional()
            .expect("the first line is a conventional header");
        assert_eq!(c.kind, "fix");
        assert_eq!(c.scope.as_deref(), Some("post"));
        assert_eq!(c.description, "revert to exec");
        assert_eq!(c.body.as_deref(), Some("`git-node` is nice, but it breaks"));
        assert!(!c.breaking);
    }

    #[test]
    fn footers_right_under_the_header_still_count() {
        let m = parse_message("feat: new api\nBREAKING CHANGE: the old one is gone\r\n");
        let c = m.conventional().expect("conventional");
        assert!(c.breaking);
        assert_eq!(
            c.breaking_description.as_deref(),
            Some("the old one is gone")
        );
        let m = parse_message("feat: x\nmore body\n\nRefs: #12");
        let c = m.conventional().expect("conventional");
        assert_eq!(c.body.as_deref(), Some("more body"));
        assert_eq!(c.footers, vec![("Refs".to_string(), "#12".to_string())]);
    }

    #[test]
    fn a_non_conventional_header_stays_other_with_or_without_the_blank_line() {
        assert_eq!(
            parse_message("Update README\nmore words"),
            Message::Other {
                summary: "Update README".into()
            }
        );
    }

    #[test]
    fn crlf_messages_parse() {
        assert!(
            parse_message("feat: x\r\n\r\nBREAKING CHANGE: y\r\n")
                .conventional()
                .is_some_and(|c| c.breaking)
        );
    }

    #[test]
    fn finds_reverted_ids_both_ways() {
        let msg =
            "Revert \"feat: x\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.\n";
        assert_eq!(
            reverted_ids(msg, &parse_message(msg)),
            vec!["0123456789abcdef0123456789abcdef01234567"]
        );
        let msg = "revert: feat x\n\nRefs: 0123456abc\n";
        assert_eq!(reverted_ids(msg, &parse_message(msg)), vec!["0123456abc"]);
    }
}

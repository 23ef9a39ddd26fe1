//! Ledger entries: what happened, to which version in which environment, who, when, on what
//! evidence. Each entry is the message of one commit on the ledger ref: a one-line summary
//! for `git log`, a blank line, a marker line, then the entry as JSON. Commits are
//! immutable and the ref only moves forward, so the entries are append-only; an entry of the
//! wrong shape is an error at its commit, line and column, never rewritten.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The ref the ledger lives on (local and remote).
pub const LEDGER_REF: &str = "refs/shipgate/ledger";

/// The line before an entry's JSON in its commit message; the number is the entry format.
pub const MARKER: &str = "shipgate-ledger-entry: 1";

/// What an entry records.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A version became the desired one of an environment.
    Promotion,
    /// An environment went back to an earlier version (explicit, or after a failed canary).
    Rollback,
    /// Someone approved a version for an environment.
    Approval,
    /// A verification's result for a version in an environment (a canary verdict, or
    /// `shipgate verify`).
    Verification,
    /// An emergency freeze of an environment.
    Freeze,
    /// The end of an emergency freeze.
    Unfreeze,
    /// A version may not be promoted anywhere (written with every rollback).
    Block,
    /// A blocked version may be promoted again.
    Unblock,
}

impl Kind {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Promotion => "promotion",
            Kind::Rollback => "rollback",
            Kind::Approval => "approval",
            Kind::Verification => "verification",
            Kind::Freeze => "freeze",
            Kind::Unfreeze => "unfreeze",
            Kind::Block => "block",
            Kind::Unblock => "unblock",
        }
    }
}

/// A verification's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum VerifyResult {
    /// It works.
    Pass,
    /// It does not.
    Fail,
}

/// Where a verification came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// `shipgate canary run`'s verdict.
    Canary,
    /// `shipgate verify` (smoke tests, a load test, a manual check).
    Verify,
}

/// One gate of a promotion, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// `previous-environment`, `soak`, `version-order`, `blocked`, `configuration`,
    /// `freeze`, `approvals` or `lock`.
    pub name: String,
    /// Whether it lets the promotion through.
    pub passed: bool,
    /// The evidence, in words.
    pub detail: String,
}

/// What a canary decided, as a verification's evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CanarySummary {
    /// `pass` or `fail`.
    pub verdict: VerifyResult,
    /// Seconds from the start of the run to the decision.
    pub decided_at_s: f64,
    /// The metric that decided (the failing one, or none on a pass).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// The judge's rule, in words.
    pub rule: String,
    /// The version the canary was judged against.
    pub baseline_version: String,
}

/// The commits a promotion brought into its environment for the first time: their count
/// and their commit times (Unix seconds, at most [`MAX_CHANGE_TIMES`] of the newest), for
/// the lead time of changes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Changes {
    /// How many commits.
    pub count: u64,
    /// Their commit times.
    pub commit_times: Vec<i64>,
}

/// At most this many commit times are kept per promotion.
pub const MAX_CHANGE_TIMES: usize = 5_000;

/// One entry. Which fields a kind needs is checked by [`Entry::check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// What it records.
    pub kind: Kind,
    /// The environment (every kind but `block` of no environment and `unblock`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The version it is about (every kind but `freeze` and `unfreeze`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A promotion's or a rollback's previous version in the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Who: `GITHUB_ACTOR`, else the git identity's e-mail.
    pub by: String,
    /// When it was written.
    #[schemars(with = "String")]
    pub at: Timestamp,
    /// Why (rollbacks, freezes, unblocks, freeze overrides).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A promotion's gates, every one, with their evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<Gate>,
    /// The commit on the branch that changed the environment's file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The CI run that wrote it (`GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_url: Option<String>,
    /// A verification's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<VerifyResult>,
    /// A verification's evidence (a URL or text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Where a verification came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// A canary's verdict, for verifications by a canary and the rollbacks after them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanarySummary>,
    /// A rollback: when it was asked for (the failing verdict, or the command's start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub requested_at: Option<Timestamp>,
    /// A promotion: the commits it brought into the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
}

/// An entry that cannot be read, at its commit and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ledger entry {commit}: line {line}, column {column}: {message}")]
pub struct EntryError {
    /// The commit (full id).
    pub commit: String,
    /// Line in the commit message, 1-based.
    pub line: usize,
    /// Column, 1-based.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl Entry {
    /// A new entry of `kind` by `by` at `at`, every other field empty.
    pub fn new(kind: Kind, by: &str, at: Timestamp) -> Self {
        Self {
            kind,
            environment: None,
            version: None,
            from: None,
            by: by.to_string(),
            at,
            reason: None,
            gates: Vec::new(),
            commit: None,
            run_url: None,
            result: None,
            evidence: None,
            source: None,
            canary: None,
            requested_at: None,
            changes: None,
        }
    }

    /// What the kind needs, present: an environment (but for block/unblock, where it is
    /// optional), a version (but for freeze/unfreeze), a result for a verification, a reason
    /// for a rollback, a freeze and an unblock. Returns what is missing.
    pub fn check(&self) -> Result<(), String> {
        let env_needed = !matches!(self.kind, Kind::Block | Kind::Unblock);
        let version_needed = !matches!(self.kind, Kind::Freeze | Kind::Unfreeze);
        let mut missing = Vec::new();
        if env_needed && self.environment.is_none() {
            missing.push("environment");
        }
        if version_needed && self.version.is_none() {
            missing.push("version");
        }
        if self.kind == Kind::Verification && self.result.is_none() {
            missing.push("result");
        }
        if matches!(self.kind, Kind::Rollback | Kind::Freeze | Kind::Unblock)
            && self.reason.is_none()
        {
            missing.push("reason");
        }
        if self.by.trim().is_empty() {
            missing.push("by");
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "a {} entry needs {}",
                self.kind.as_str(),
                missing.join(", ")
            ))
        }
    }

    /// The commit message: a summary line, a blank line, [`MARKER`], the JSON.
    pub fn to_message(&self) -> String {
        // A Entry holds strings, numbers, booleans and timestamps only: it always serializes.
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{}\n\n{MARKER}\n{json}\n", self.summary())
    }

    /// One line for people and `git log --oneline`: `promotion 1.4.0 to prod by alice`.
    pub fn summary(&self) -> String {
        let v = self.version.as_deref().unwrap_or("-");
        let env = self.environment.as_deref().unwrap_or("every environment");
        let line = match self.kind {
            Kind::Promotion => format!("promotion {v} to {env}"),
            Kind::Rollback => format!(
                "rollback of {env} from {} to {v}",
                self.from.as_deref().unwrap_or("-")
            ),
            Kind::Approval => format!("approval of {v} for {env}"),
            Kind::Verification => format!(
                "verification of {v} in {env}: {}",
                match self.result {
                    Some(VerifyResult::Pass) => "pass",
                    Some(VerifyResult::Fail) => "fail",
                    None => "-",
                }
            ),
            Kind::Freeze => format!("freeze of {env}"),
            Kind::Unfreeze => format!("unfreeze of {env}"),
            Kind::Block => format!("block of {v}"),
            Kind::Unblock => format!("unblock of {v}"),
        };
        // Outside text stays on one line: control characters become spaces.
        format!("{line} by {}", self.by)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    }

    /// Reads the entry of commit `commit` from its message; checks its shape.
    pub fn from_message(commit: &str, message: &str) -> Result<Self, EntryError> {
        let Some(marker) = message.find(&format!("\n{MARKER}\n")) else {
            return Err(EntryError {
                commit: commit.to_string(),
                line: 1,
                column: 1,
                message: format!("not a ledger entry: no `{MARKER}` line"),
            });
        };
        let start = marker + MARKER.len() + 2;
        let json = &message[start..];
        let located = |json_line: usize, json_column: usize, text: String| {
            let (marker_line, _) = shipgate_stdx::text::line_col(message, start);
            EntryError {
                commit: commit.to_string(),
                line: marker_line + json_line.saturating_sub(1),
                column: json_column.max(1),
                message: text,
            }
        };
        let entry: Entry = serde_json::from_str(json.trim_end()).map_err(|e| {
            let text = e.to_string();
            let text = match text.rfind(" at line ") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            located(e.line(), e.column(), text)
        })?;
        entry.check().map_err(|m| located(1, 1, m))?;
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> Timestamp {
        t.parse().expect("timestamp")
    }

    fn promotion() -> Entry {
        Entry {
            environment: Some("prod".into()),
            version: Some("1.4.0".into()),
            from: Some("1.3.2".into()),
            gates: vec![Gate {
                name: "soak".into(),
                passed: true,
                detail: "verified in staging 3h ago".into(),
            }],
            commit: Some("a".repeat(40)),
            changes: Some(Changes {
                count: 2,
                commit_times: vec![1, 2],
            }),
            ..Entry::new(Kind::Promotion, "alice", at("2026-12-01T10:00:00Z"))
        }
    }

    #[test]
    fn an_entry_round_trips_through_its_commit_message() {
        let e = promotion();
        let message = e.to_message();
        assert!(
            message.starts_with("promotion 1.4.0 to prod by alice\n\nshipgate-ledger-entry: 1\n{"),
            "{message}"
        );
        assert_eq!(Entry::from_message("c0ffee", &message), Ok(e));
    }

    #[test]
    fn json_has_the_contract_s_field_names() {
        let v: serde_json::Value = serde_json::to_value(promotion()).expect("serializes");
        for key in [
            "kind",
            "environment",
            "version",
            "from",
            "by",
            "at",
            "gates",
        ] {
            assert!(v.get(key).is_some(), "{key} in {v}");
        }
        assert_eq!(v["at"], "2026-12-01T10:00:00Z");
        assert_eq!(v["kind"], "promotion");
    }

    #[test]
    fn a_bad_entry_is_an_error_at_its_line_and_column() {
        let message = "promotion by x\n\nshipgate-ledger-entry: 1\n{\"kind\":\"promotion\",\"by\":\"x\",\"at\":\"yesterday\"}\n";
        let err = Entry::from_message("abc", message).expect_err("bad time");
        assert_eq!((err.commit.as_str(), err.line), ("abc", 4));
        assert!(err.column > 1, "{err}");
        assert!(
            err.to_string()
                .starts_with("ledger entry abc: line 4, column"),
            "{err}"
        );

        let missing = "x\n\nshipgate-ledger-entry: 1\n{\"kind\":\"rollback\",\"by\":\"x\",\"at\":\"2026-12-01T10:00:00Z\",\"environment\":\"prod\"}\n";
        let err = Entry::from_message("abc", missing).expect_err("missing fields");
        assert_eq!(err.message, "a rollback entry needs version, reason");

        let unknown = "x\n\nshipgate-ledger-entry: 1\n{\"kind\":\"approval\",\"by\":\"x\",\"at\":\"2026-12-01T10:00:00Z\",\"environment\":\"prod\",\"version\":\"1\",\"extra\":1}\n";
        let err = Entry::from_message("abc", unknown).expect_err("unknown field");
        assert!(err.message.contains("unknown field `extra`"), "{err}");

        let err = Entry::from_message("abc", "just a commit\n").expect_err("no marker");
        assert!(
            err.message.contains("no `shipgate-ledger-entry: 1` line"),
            "{err}"
        );
    }

    #[test]
    fn the_summary_stays_on_one_line_whatever_the_actor() {
        let e = Entry {
            environment: Some("prod".into()),
            version: Some("1.4.0".into()),
            ..Entry::new(
                Kind::Approval,
                "mallory\n\nshipgate-ledger-entry: 1",
                at("2026-12-01T10:00:00Z"),
            )
        };
        let message = e.to_message();
        assert_eq!(
            message.lines().next(),
            Some("approval of 1.4.0 for prod by mallory  shipgate-ledger-entry: 1")
        );
        assert_eq!(Entry::from_message("c", &message), Ok(e));
    }
}

//! What the ledger's entries add up to, kept beside them in the ledger's tree so that no
//! command has to read the whole ledger: `state.json` (what runs where, since when, freezes,
//! blocked versions), one `versions/<shard>/<version>.json` per version (where it was
//! promoted, verified, approved, rolled back) and one `metrics/<env>/<YYYY-MM>.json` per
//! environment and month (each promotion's lead times and whether it failed, each restore).
//!
//! Every piece is derived: [`Indexes::apply`] folds one entry in, so the indexes can always
//! be rebuilt from the entries alone (and are checked against them when new entries arrive
//! from the remote). Pure: the I/O loads the pieces an entry [`Indexes::needs`] and writes
//! back the ones it touched.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::entry::{Entry, Kind, Source, VerifyResult};

/// The format of the index files: 2 added the canaries' verdicts to the month records
/// (`canaries`) and when they began (`canaries_since`).
pub const INDEX_FORMAT: u32 = 2;

/// How many passing versions each environment remembers, newest last (for `rollback`'s
/// default target).
pub const PASSED_KEPT: usize = 20;

/// `state.json`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerState {
    /// [`INDEX_FORMAT`].
    pub format: u32,
    /// Entries folded in.
    pub entries: u64,
    /// The newest entry's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_at: Option<Timestamp>,
    /// The oldest entry's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_at: Option<Timestamp>,
    /// Since when the month records hold the canaries' verdicts: the first entry folded in
    /// with index format 2 or later (a ledger begun before holds none of its older ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canaries_since: Option<Timestamp>,
    /// Per environment.
    pub environments: BTreeMap<String, EnvState>,
    /// Versions that may not be promoted, by version.
    pub blocked: BTreeMap<String, Blocked>,
}

/// What runs in one environment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvState {
    /// The version that runs (the last promotion's or rollback's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Since when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// Who put it there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The commit that changed the environment's file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The last rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_rollback: Option<RollbackInfo>,
    /// The emergency freeze, while there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze: Option<FreezeInfo>,
    /// The versions whose latest verification here passed, oldest first, at most
    /// [`PASSED_KEPT`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passed: Vec<String>,
    /// The promotion of the running version in the metrics, until a failure is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_promotion: Option<PromotionRef>,
    /// The highest version ever promoted here (the lower end of the next promotion's
    /// changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highest: Option<String>,
}

/// A rollback, as `status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackInfo {
    /// The version rolled back from.
    pub from: String,
    /// The version rolled back to.
    pub to: String,
    /// When.
    #[schemars(with = "String")]
    pub at: Timestamp,
    /// Who (or the canary's runner).
    pub by: String,
    /// Why.
    pub reason: String,
}

/// An emergency freeze.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreezeInfo {
    /// Since when.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// Why.
    pub reason: String,
}

/// A blocked version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Blocked {
    /// Where it was rolled back, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Since when.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// Why.
    pub reason: String,
}

/// Where a promotion's metrics record is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionRef {
    /// `YYYY-MM`.
    pub month: String,
    /// Index in that month's promotions.
    pub index: usize,
    /// The version promoted.
    pub version: String,
}

/// `versions/<shard>/<version>.json`: one version's history, per environment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionFacts {
    /// The version.
    pub version: String,
    /// Per environment.
    pub environments: BTreeMap<String, VersionEnv>,
}

/// One version in one environment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionEnv {
    /// Every promotion into the environment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promoted: Vec<Timestamp>,
    /// The latest verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerificationFact>,
    /// Every approval (the promoter's own included; the gate leaves it out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<ApprovalFact>,
    /// Every rollback away from it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rolled_back: Vec<Timestamp>,
}

/// A verification, as the gates read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationFact {
    /// Pass or fail.
    pub result: VerifyResult,
    /// When.
    #[schemars(with = "String")]
    pub at: Timestamp,
    /// Who (the canary's runner, or the person or tool that ran `verify`).
    pub by: String,
    /// A canary's verdict or `shipgate verify`.
    pub source: Source,
    /// The evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// An approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalFact {
    /// Who approved.
    pub by: String,
    /// When.
    pub at: Timestamp,
}

/// `metrics/<env>/<YYYY-MM>.json`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthMetrics {
    /// Promotions into the environment that month, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promotions: Vec<PromotionMetric>,
    /// Rollbacks in the environment that month.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restores: Vec<RestoreMetric>,
    /// Canary verdicts recorded in the environment that month.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canaries: Vec<CanaryMetric>,
}

/// One canary's verdict, for its outcome and its time to decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanaryMetric {
    /// When the verdict was recorded (Unix seconds).
    pub at: i64,
    /// Whether the canary passed.
    pub passed: bool,
    /// Seconds from the start of the run to the decision.
    pub decided_s: f64,
}

/// One promotion, for the delivery metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionMetric {
    /// When (Unix seconds).
    pub at: i64,
    /// The version.
    pub version: String,
    /// Each new commit's time from commit to this promotion, in seconds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lead_s: Vec<i64>,
    /// Whether a rollback or a failed verification followed it.
    #[serde(default)]
    pub failed: bool,
}

/// One rollback, for time to restore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreMetric {
    /// When traffic was restored (the rollback entry, Unix seconds).
    pub at: i64,
    /// From the failing verdict or the rollback request to the rollback entry.
    pub seconds: i64,
}

/// The pieces of the indexes an entry reads or writes besides `state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Needs {
    /// Version files.
    pub versions: BTreeSet<String>,
    /// `(environment, YYYY-MM)` metrics files.
    pub months: BTreeSet<(String, String)>,
}

/// The indexes, or the part of them that is loaded.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Indexes {
    /// `state.json`.
    pub state: LedgerState,
    /// Loaded (or new) version files.
    pub versions: BTreeMap<String, VersionFacts>,
    /// Loaded (or new) metrics files.
    pub months: BTreeMap<(String, String), MonthMetrics>,
}

/// `YYYY-MM` of a time, in UTC.
pub fn month_of(at: Timestamp) -> String {
    let date = at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    format!("{:04}-{:02}", date.year(), date.month())
}

/// The shard directory of a version's file: two hex digits of its FNV-1a hash, so that no
/// tree holds more than a few hundred entries however many versions there are.
pub fn shard(version: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in version.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:02x}", h >> 56)
}

/// The path of a version's file in the ledger's tree.
pub fn version_path(version: &str) -> String {
    format!("versions/{}/{version}.json", shard(version))
}

/// The path of a metrics file in the ledger's tree.
pub fn month_path(env: &str, month: &str) -> String {
    format!("metrics/{env}/{month}.json")
}

/// The path of the state in the ledger's tree.
pub const STATE_PATH: &str = "state.json";

fn higher(a: Option<&str>, b: &str) -> String {
    match (a.map(semver::Version::parse), semver::Version::parse(b)) {
        (Some(Ok(a_v)), Ok(b_v)) if a_v > b_v => a.unwrap_or(b).to_string(),
        (Some(Ok(_)), Ok(_)) | (None, _) => b.to_string(),
        (Some(_), _) => a.unwrap_or(b).to_string(),
    }
}

impl Indexes {
    /// The files `entry` reads or writes besides the state.
    pub fn needs(&self, entry: &Entry) -> Needs {
        let mut needs = Needs::default();
        if let Some(v) = &entry.version {
            needs.versions.insert(v.clone());
        }
        if let Some(from) = &entry.from {
            needs.versions.insert(from.clone());
        }
        let Some(env) = &entry.environment else {
            return needs;
        };
        let current = self
            .state
            .environments
            .get(env)
            .and_then(|e| e.current_promotion.as_ref());
        match entry.kind {
            Kind::Promotion | Kind::Rollback => {
                needs.months.insert((env.clone(), month_of(entry.at)));
                if let Some(p) = current {
                    needs.months.insert((env.clone(), p.month.clone()));
                }
            }
            Kind::Verification => {
                if let Some(p) = current {
                    needs.months.insert((env.clone(), p.month.clone()));
                }
            }
            _ => {}
        }
        if entry.canary.is_some() {
            needs.months.insert((env.clone(), month_of(entry.at)));
        }
        needs
    }

    fn version(&mut self, v: &str) -> &mut VersionFacts {
        self.versions
            .entry(v.to_string())
            .or_insert_with(|| VersionFacts {
                version: v.to_string(),
                environments: BTreeMap::new(),
            })
    }

    fn month(&mut self, env: &str, month: &str) -> &mut MonthMetrics {
        self.months
            .entry((env.to_string(), month.to_string()))
            .or_default()
    }

    /// Marks the running promotion of `env` failed when it is `version`'s (a rollback away
    /// from it, or its failed verification, makes it a change failure once).
    fn mark_failed(&mut self, env: &str, version: &str) {
        let Some(p) = self
            .state
            .environments
            .get(env)
            .and_then(|e| e.current_promotion.clone())
        else {
            return;
        };
        if p.version != version {
            return;
        }
        if let Some(m) = self.month(env, &p.month).promotions.get_mut(p.index) {
            m.failed = true;
        }
    }

    /// Folds one (checked) entry into the indexes. The pieces [`Indexes::needs`] names must
    /// be loaded first; a piece that is not there is started empty.
    pub fn apply(&mut self, e: &Entry) {
        self.state.format = INDEX_FORMAT;
        self.state.entries += 1;
        self.state.newest_at = Some(self.state.newest_at.map_or(e.at, |n| n.max(e.at)));
        self.state.oldest_at = Some(self.state.oldest_at.map_or(e.at, |o| o.min(e.at)));
        self.state.canaries_since.get_or_insert(e.at);
        // A canary's verdict is one verification (a failed one's rollback carries the same
        // summary: not counted twice).
        if let (Some(c), Some(env), Kind::Verification) =
            (&e.canary, e.environment.as_deref(), e.kind)
        {
            self.month(env, &month_of(e.at))
                .canaries
                .push(CanaryMetric {
                    at: e.at.as_second(),
                    passed: c.verdict == VerifyResult::Pass,
                    decided_s: c.decided_at_s,
                });
        }
        let env = e.environment.clone();
        let version = e.version.clone();
        match (e.kind, env.as_deref(), version.as_deref()) {
            (Kind::Promotion, Some(env), Some(v)) => self.promotion(e, env, v),
            (Kind::Rollback, Some(env), Some(v)) => self.rollback(e, env, v),
            (Kind::Approval, Some(env), Some(v)) => {
                self.version(v)
                    .environments
                    .entry(env.to_string())
                    .or_default()
                    .approvals
                    .push(ApprovalFact {
                        by: e.by.clone(),
                        at: e.at,
                    });
            }
            (Kind::Verification, Some(env), Some(v)) => self.verification(e, env, v),
            (Kind::Freeze, Some(env), _) => {
                self.state
                    .environments
                    .entry(env.to_string())
                    .or_default()
                    .freeze = Some(FreezeInfo {
                    at: e.at,
                    by: e.by.clone(),
                    reason: e.reason.clone().unwrap_or_default(),
                });
            }
            (Kind::Unfreeze, Some(env), _) => {
                if let Some(s) = self.state.environments.get_mut(env) {
                    s.freeze = None;
                }
            }
            (Kind::Block, _, Some(v)) => {
                self.state.blocked.insert(
                    v.to_string(),
                    Blocked {
                        environment: env.clone(),
                        at: e.at,
                        by: e.by.clone(),
                        reason: e.reason.clone().unwrap_or_default(),
                    },
                );
            }
            (Kind::Unblock, _, Some(v)) => {
                self.state.blocked.remove(v);
            }
            // Checked entries always have what their kind needs.
            _ => {}
        }
    }

    fn promotion(&mut self, e: &Entry, env: &str, v: &str) {
        let month = month_of(e.at);
        let lead_s = e
            .changes
            .as_ref()
            .map(|c| {
                c.commit_times
                    .iter()
                    .map(|t| (e.at.as_second() - t).max(0))
                    .collect()
            })
            .unwrap_or_default();
        let promotions = &mut self.month(env, &month).promotions;
        promotions.push(PromotionMetric {
            at: e.at.as_second(),
            version: v.to_string(),
            lead_s,
            failed: false,
        });
        let index = promotions.len() - 1;
        self.version(v)
            .environments
            .entry(env.to_string())
            .or_default()
            .promoted
            .push(e.at);
        let s = self.state.environments.entry(env.to_string()).or_default();
        s.highest = Some(higher(s.highest.as_deref(), v));
        s.version = Some(v.to_string());
        s.since = Some(e.at);
        s.by = Some(e.by.clone());
        s.commit = e.commit.clone();
        s.current_promotion = Some(PromotionRef {
            month,
            index,
            version: v.to_string(),
        });
    }

    fn rollback(&mut self, e: &Entry, env: &str, to: &str) {
        let from = e.from.clone().unwrap_or_default();
        self.mark_failed(env, &from);
        let requested = e.requested_at.unwrap_or(e.at);
        self.month(env, &month_of(e.at))
            .restores
            .push(RestoreMetric {
                at: e.at.as_second(),
                seconds: (e.at.as_second() - requested.as_second()).max(0),
            });
        if !from.is_empty() {
            self.version(&from)
                .environments
                .entry(env.to_string())
                .or_default()
                .rolled_back
                .push(e.at);
        }
        let s = self.state.environments.entry(env.to_string()).or_default();
        s.version = Some(to.to_string());
        s.since = Some(e.at);
        s.by = Some(e.by.clone());
        s.commit = e.commit.clone();
        s.current_promotion = None;
        s.passed.retain(|p| *p != from);
        s.last_rollback = Some(RollbackInfo {
            from,
            to: to.to_string(),
            at: e.at,
            by: e.by.clone(),
            reason: e.reason.clone().unwrap_or_default(),
        });
    }

    fn verification(&mut self, e: &Entry, env: &str, v: &str) {
        let result = e.result.unwrap_or(VerifyResult::Fail);
        self.version(v)
            .environments
            .entry(env.to_string())
            .or_default()
            .verification = Some(VerificationFact {
            result,
            at: e.at,
            by: e.by.clone(),
            source: e.source.unwrap_or(Source::Verify),
            evidence: e.evidence.clone(),
        });
        let s = self.state.environments.entry(env.to_string()).or_default();
        s.passed.retain(|p| p != v);
        match result {
            VerifyResult::Pass => {
                s.passed.push(v.to_string());
                if s.passed.len() > PASSED_KEPT {
                    s.passed.remove(0);
                }
            }
            VerifyResult::Fail => self.mark_failed(env, v),
        }
    }

    /// Every entry folded into empty indexes: what the ledger's tree must hold.
    pub fn rebuild<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Self {
        let mut indexes = Indexes::default();
        for e in entries {
            indexes.apply(e);
        }
        indexes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Changes;

    fn at(t: &str) -> Timestamp {
        t.parse().expect("timestamp")
    }

    fn entry(kind: Kind, env: Option<&str>, version: Option<&str>, t: &str) -> Entry {
        Entry {
            environment: env.map(String::from),
            version: version.map(String::from),
            ..Entry::new(kind, "alice", at(t))
        }
    }

    #[test]
    fn promotions_rollbacks_and_verifications_add_up() {
        let mut p1 = entry(
            Kind::Promotion,
            Some("prod"),
            Some("1.3.0"),
            "2026-11-01T10:00:00Z",
        );
        p1.changes = Some(Changes {
            count: 1,
            commit_times: vec![at("2026-11-01T09:00:00Z").as_second()],
        });
        let v1 = Entry {
            result: Some(VerifyResult::Pass),
            source: Some(Source::Canary),
            ..entry(
                Kind::Verification,
                Some("prod"),
                Some("1.3.0"),
                "2026-11-01T10:30:00Z",
            )
        };
        let p2 = Entry {
            from: Some("1.3.0".into()),
            ..entry(
                Kind::Promotion,
                Some("prod"),
                Some("1.4.0"),
                "2026-12-01T10:00:00Z",
            )
        };
        let f2 = Entry {
            result: Some(VerifyResult::Fail),
            source: Some(Source::Canary),
            ..entry(
                Kind::Verification,
                Some("prod"),
                Some("1.4.0"),
                "2026-12-01T10:05:00Z",
            )
        };
        let r2 = Entry {
            from: Some("1.4.0".into()),
            reason: Some("canary failed".into()),
            requested_at: Some(at("2026-12-01T10:05:00Z")),
            ..entry(
                Kind::Rollback,
                Some("prod"),
                Some("1.3.0"),
                "2026-12-01T10:05:20Z",
            )
        };
        let b2 = Entry {
            reason: Some("rolled back".into()),
            ..entry(
                Kind::Block,
                Some("prod"),
                Some("1.4.0"),
                "2026-12-01T10:05:20Z",
            )
        };
        let all = [p1, v1, p2, f2, r2, b2];
        let ix = Indexes::rebuild(&all);
        let prod = &ix.state.environments["prod"];
        assert_eq!(prod.version.as_deref(), Some("1.3.0"));
        assert_eq!(prod.highest.as_deref(), Some("1.4.0"));
        assert_eq!(prod.passed, ["1.3.0"]);
        assert_eq!(
            prod.last_rollback.as_ref().map(|r| r.from.as_str()),
            Some("1.4.0")
        );
        assert_eq!(prod.current_promotion, None);
        assert!(ix.state.blocked.contains_key("1.4.0"));
        assert_eq!(ix.state.entries, 6);
        let nov = &ix.months[&("prod".to_string(), "2026-11".to_string())];
        assert_eq!(nov.promotions[0].lead_s, [3600]);
        assert!(!nov.promotions[0].failed);
        let dec = &ix.months[&("prod".to_string(), "2026-12".to_string())];
        assert!(
            dec.promotions[0].failed,
            "failed once, by the verdict and the rollback"
        );
        assert_eq!(dec.restores[0].seconds, 20);
        let facts = &ix.versions["1.4.0"].environments["prod"];
        assert_eq!(facts.rolled_back.len(), 1);
        assert_eq!(
            facts.verification.as_ref().map(|v| v.result),
            Some(VerifyResult::Fail)
        );
    }

    #[test]
    fn applying_in_pieces_gives_what_a_rebuild_gives() {
        let entries = [
            entry(
                Kind::Promotion,
                Some("dev"),
                Some("1.0.0"),
                "2026-11-30T23:59:00Z",
            ),
            // A canary's verdict a month after the promotion it judges: its record goes
            // in its own month.
            Entry {
                result: Some(VerifyResult::Pass),
                source: Some(Source::Canary),
                canary: Some(canary(VerifyResult::Pass, 300.0)),
                ..entry(
                    Kind::Verification,
                    Some("dev"),
                    Some("1.0.0"),
                    "2026-12-01T00:01:00Z",
                )
            },
            entry(
                Kind::Approval,
                Some("prod"),
                Some("1.0.0"),
                "2026-12-01T00:02:00Z",
            ),
            Entry {
                reason: Some("incident".into()),
                ..entry(Kind::Freeze, Some("prod"), None, "2026-12-01T00:03:00Z")
            },
            entry(Kind::Unfreeze, Some("prod"), None, "2026-12-01T00:04:00Z"),
        ];
        let whole = Indexes::rebuild(&entries);
        // As the ledger does it: load only what each entry needs from the stored pieces.
        let mut stored = Indexes::default();
        for e in &entries {
            let needs = stored.needs(e);
            let mut part = Indexes {
                state: stored.state.clone(),
                versions: needs
                    .versions
                    .iter()
                    .filter_map(|v| stored.versions.get(v).map(|f| (v.clone(), f.clone())))
                    .collect(),
                months: needs
                    .months
                    .iter()
                    .filter_map(|k| stored.months.get(k).map(|m| (k.clone(), m.clone())))
                    .collect(),
            };
            part.apply(e);
            stored.state = part.state;
            stored.versions.extend(part.versions);
            stored.months.extend(part.months);
        }
        assert_eq!(stored, whole);
        assert_eq!(whole.state.environments["prod"].freeze, None);
        assert_eq!(
            whole.months[&("dev".to_string(), "2026-12".to_string())].canaries,
            [CanaryMetric {
                at: at("2026-12-01T00:01:00Z").as_second(),
                passed: true,
                decided_s: 300.0
            }]
        );
        assert_eq!(whole.state.canaries_since, Some(at("2026-11-30T23:59:00Z")));
        assert_eq!(month_of(at("2026-11-30T23:59:00Z")), "2026-11");
    }

    fn canary(verdict: VerifyResult, decided_at_s: f64) -> crate::entry::CanarySummary {
        crate::entry::CanarySummary {
            verdict,
            decided_at_s,
            metric: None,
            rule: "r".into(),
            baseline_version: "0.9.0".into(),
        }
    }

    #[test]
    fn a_ledger_of_index_format_1_counts_canaries_from_its_next_entry() {
        let mut indexes = Indexes::default();
        indexes.state.format = 1;
        indexes.state.entries = 40;
        indexes.state.oldest_at = Some(at("2025-01-01T00:00:00Z"));
        let failed = Entry {
            result: Some(VerifyResult::Fail),
            source: Some(Source::Canary),
            canary: Some(canary(VerifyResult::Fail, 70.0)),
            ..entry(
                Kind::Verification,
                Some("prod"),
                Some("1.1.0"),
                "2026-12-01T10:00:00Z",
            )
        };
        let rollback = Entry {
            from: Some("1.1.0".into()),
            reason: Some("canary failed".into()),
            canary: failed.canary.clone(),
            ..entry(
                Kind::Rollback,
                Some("prod"),
                Some("1.0.0"),
                "2026-12-01T10:00:01Z",
            )
        };
        indexes.apply(&failed);
        indexes.apply(&rollback);
        assert_eq!(indexes.state.format, INDEX_FORMAT);
        assert_eq!(indexes.state.canaries_since, Some(failed.at));
        let month = &indexes.months[&("prod".to_string(), "2026-12".to_string())];
        assert_eq!(
            month.canaries.len(),
            1,
            "the rollback does not count it again"
        );
        assert!(!month.canaries[0].passed);
        // Later entries keep the first time.
        indexes.apply(&entry(
            Kind::Approval,
            Some("prod"),
            Some("1.2.0"),
            "2026-12-02T10:00:00Z",
        ));
        assert_eq!(indexes.state.canaries_since, Some(failed.at));
        // A month file of format 1 still reads.
        let old: MonthMetrics =
            serde_json::from_str("{\"promotions\":[],\"restores\":[]}").expect("reads");
        assert!(old.canaries.is_empty());
    }

    #[test]
    fn shards_are_stable_and_spread() {
        assert_eq!(shard("1.4.0"), shard("1.4.0"));
        let shards: BTreeSet<String> = (0..1000).map(|i| shard(&format!("1.{i}.0"))).collect();
        assert!(shards.len() > 200, "{}", shards.len());
        assert!(version_path("1.4.0").starts_with("versions/"));
        assert!(version_path("1.4.0").ends_with("/1.4.0.json"));
    }
}

//! `review`: the facts of a post-incident review of a rollout that was rolled back, from
//! the ledger (and a canary's recording when there is one). [`build`] is pure: entries and
//! an optional recording in, a [`Review`] out, every field from data and every gap named in
//! [`Review::unknowns`]; [`review`] reads the ledger after a fetch and calls it.

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;
use shipgate_judge::record::{Recording, replay};
use shipgate_judge::sample::Side;
use shipgate_promote::entry::{CanarySummary, Entry, Kind, Source, VerifyResult};
use shipgate_stdx::names::{EnvName, Version};

use crate::context::Pipeline;
use crate::error::{PipelineError, ReviewError};

/// Which rollback of the environment to review.
#[derive(Debug, Clone, PartialEq)]
pub enum Select {
    /// The newest.
    Newest,
    /// The newest rollback from this version.
    Version(Version),
    /// The newest at or before this time.
    Before(Timestamp),
}

impl Select {
    /// In words, for errors: `rollback from 1.5.0`.
    pub fn describe(&self) -> String {
        match self {
            Select::Newest => "rollback".into(),
            Select::Version(v) => format!("rollback from {v}"),
            Select::Before(t) => format!("rollback at or before {t}"),
        }
    }
}

/// One line of the timeline: a ledger entry of the version in the environment.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Moment {
    /// When it was written.
    #[schemars(with = "String")]
    pub at: Timestamp,
    /// `promotion`, `verification`, `rollback`, `block`, `unblock`, `approval`.
    pub kind: &'static str,
    /// Who.
    pub by: String,
    /// A verification's result (`pass`, `fail`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<VerifyResult>,
    /// A verification's source (`canary`, `verify`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// A verification's evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// A canary's verdict, for a canary's verification and the rollback after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanarySummary>,
    /// Why (rollbacks, unblocks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A promotion's or rollback's previous version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The version the entry is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl Moment {
    fn of(e: &Entry) -> Self {
        Moment {
            at: e.at,
            kind: e.kind.as_str(),
            by: e.by.clone(),
            result: e.result,
            source: e.source,
            evidence: e.evidence.clone(),
            canary: e.canary.clone(),
            reason: e.reason.clone(),
            from: e.from.clone(),
            version: e.version.clone(),
        }
    }
}

/// A span between two moments of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Span {
    /// Its start.
    #[schemars(with = "String")]
    pub from: Timestamp,
    /// Its end.
    #[schemars(with = "String")]
    pub to: Timestamp,
    /// Seconds between them.
    pub seconds: i64,
}

impl Span {
    fn new(from: Timestamp, to: Timestamp) -> Self {
        Span {
            from,
            to,
            seconds: to.as_second() - from.as_second(),
        }
    }
}

/// One metric of the recording: the values over the run and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MetricEvidence {
    /// The metric's name.
    pub name: String,
    /// `counts`, `latency` or `gauge`.
    pub kind: &'static str,
    /// The judge's verdict on it.
    pub verdict: &'static str,
    /// The canary's value over the run (error rate, latency at the quantile in s, gauge).
    pub canary: Option<f64>,
    /// The baseline's value, the same way.
    pub baseline: Option<f64>,
    /// The rule that decided, in words.
    pub rule: String,
}

/// A `counts` metric's totals over the whole recording and the errors the canary served
/// beyond the baseline's error share: an estimate.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ExcessErrors {
    /// The metric.
    pub metric: String,
    /// Requests the canary served.
    pub canary_requests: f64,
    /// Errors among them.
    pub canary_errors: f64,
    /// Requests the baseline served.
    pub baseline_requests: f64,
    /// Errors among them.
    pub baseline_errors: f64,
    /// `baseline_errors / baseline_requests` (None without baseline requests).
    pub baseline_error_share: Option<f64>,
    /// `canary_errors - canary_requests × baseline_error_share` (None without the share).
    pub excess_errors: Option<f64>,
}

/// What the recording says.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Evidence {
    /// The judge's verdict on the recording (`fail`, `pass`, `continue`: inconclusive).
    pub verdict: &'static str,
    /// Its rule, in words.
    pub rule: String,
    /// Seconds from the run's start to a `fail`.
    pub decided_at_s: Option<f64>,
    /// Intervals recorded.
    pub intervals: usize,
    /// Seconds from the run's start to its last interval.
    pub duration_s: f64,
    /// When the run started, as the recording says.
    pub started_at: Option<String>,
    /// Per metric.
    pub metrics: Vec<MetricEvidence>,
    /// Requests the canary served while it ran (the largest total of a `counts` metric).
    pub canary_requests: Option<f64>,
    /// Per `counts` metric.
    pub excess_errors: Vec<ExcessErrors>,
}

/// The facts of a review.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Review {
    /// The environment.
    pub environment: String,
    /// The version rolled back.
    pub version: String,
    /// The version the rollback restored.
    pub restored: String,
    /// The rollback entry's time.
    #[schemars(with = "String")]
    pub rolled_back_at: Timestamp,
    /// The promotion of the version before the rollback, when the ledger has it.
    #[schemars(with = "Option<String>")]
    pub promoted_at: Option<Timestamp>,
    /// The ledger's entries for the version in the environment, oldest first.
    pub timeline: Vec<Moment>,
    /// The failing verdict: the canary's verdict that the rollback names, else the latest
    /// failed verification of the version there since its promotion.
    #[schemars(with = "Option<String>")]
    pub failed_at: Option<Timestamp>,
    /// Promotion → failing verdict.
    pub time_to_detect: Option<Span>,
    /// Failing verdict → rollback.
    pub time_to_restore: Option<Span>,
    /// The environment's recovery time objective, seconds.
    pub rto_s: u64,
    /// Whether the time to restore was within it (None: the time is unknown).
    pub within_rto: Option<bool>,
    /// The metric that decided the canary's verdict, when one did.
    pub deciding_metric: Option<String>,
    /// The recording's evidence, when one was given.
    pub evidence: Option<Evidence>,
    /// What could not be known, in words.
    pub unknowns: Vec<String>,
}

/// The review of the rollback `select` picks among `entries` (oldest first) of `env`,
/// with `rto` and, when given, the canary's `recording`.
pub fn build(
    entries: &[Entry],
    env: &str,
    select: &Select,
    rto: Duration,
    recording: Option<&Recording>,
) -> Result<Review, ReviewError> {
    let here = |e: &Entry| e.environment.as_deref() == Some(env);
    let rollbacks: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == Kind::Rollback && here(e) && e.from.is_some())
        .map(|(i, _)| i)
        .collect();
    let picked = rollbacks.iter().rev().copied().find(|&i| {
        let e = &entries[i];
        match select {
            Select::Newest => true,
            Select::Version(v) => e.from.as_deref() == Some(v.as_str()),
            Select::Before(t) => e.at <= *t,
        }
    });
    let Some(r) = picked else {
        return Err(ReviewError::NoRollback {
            env: env.to_string(),
            what: select.describe(),
            rollbacks: rollbacks
                .iter()
                .rev()
                .take(5)
                .map(|&i| {
                    let e = &entries[i];
                    format!("from {} at {}", e.from.as_deref().unwrap_or("-"), e.at)
                })
                .collect(),
        });
    };
    let rollback = &entries[r];
    let version = rollback.from.clone().unwrap_or_default();
    let restored = rollback.version.clone().unwrap_or_default();
    let of_version = |e: &Entry| e.version.as_deref() == Some(version.as_str());
    let promotion = entries[..r]
        .iter()
        .rposition(|e| e.kind == Kind::Promotion && here(e) && of_version(e));
    let start = promotion.unwrap_or(r);
    let mut timeline = Vec::new();
    for e in &entries[start..=r] {
        let kept = matches!(
            e.kind,
            Kind::Promotion | Kind::Verification | Kind::Rollback | Kind::Approval
        ) && here(e)
            && (of_version(e) || std::ptr::eq(e, rollback));
        if kept {
            timeline.push(Moment::of(e));
        }
    }
    // The block written with the rollback, and the unblock that lifted it, if any.
    let mut blocked = false;
    for e in &entries[r + 1..] {
        let ours = of_version(e) && (e.environment.is_none() || here(e));
        match e.kind {
            Kind::Block if ours && !blocked => {
                blocked = true;
                timeline.push(Moment::of(e));
            }
            Kind::Unblock if ours => {
                timeline.push(Moment::of(e));
                break;
            }
            _ => {}
        }
    }
    let mut unknowns = Vec::new();
    let promoted_at = promotion.map(|i| entries[i].at);
    if promoted_at.is_none() {
        unknowns.push(format!(
            "no promotion of {version} into {env} in the ledger before the rollback: time to detect unknown"
        ));
    }
    let failed = entries[start..r].iter().rev().find(|e| {
        e.kind == Kind::Verification
            && here(e)
            && of_version(e)
            && e.result == Some(VerifyResult::Fail)
    });
    let canary_verdict = rollback
        .canary
        .as_ref()
        .filter(|c| c.verdict == VerifyResult::Fail)
        .and(rollback.requested_at);
    // As `metrics` times a restore: the canary's failing verdict, else the latest failed
    // verification since the promotion (never the rollback's own request).
    let failed_at = canary_verdict.or(failed.map(|e| e.at));
    let deciding_metric = failed
        .and_then(|e| e.canary.as_ref())
        .or(rollback.canary.as_ref())
        .and_then(|c| c.metric.clone());
    if failed_at.is_none() {
        unknowns.push(format!(
            "no failing verdict or failed verification of {version} in {env} before the rollback: time to detect and time to restore unknown"
        ));
    }
    // A span whose end is recorded before its start is not known: a replayed canary places
    // its verdict at the recording's seconds after the start, its entries when it ran.
    let mut ordered = |what: &str, from: &str, to: &str, span: Span| {
        if span.seconds >= 0 {
            return Some(span);
        }
        unknowns.push(format!(
            "the {to} ({}) is recorded before the {from} ({}): {what} unknown",
            span.to, span.from
        ));
        None
    };
    let time_to_detect = match (promoted_at, failed_at) {
        (Some(p), Some(f)) => ordered(
            "time to detect",
            "promotion",
            "failing verdict",
            Span::new(p, f),
        ),
        _ => None,
    };
    let time_to_restore = failed_at.and_then(|f| {
        ordered(
            "time to restore",
            "failing verdict",
            "rollback entry",
            Span::new(f, rollback.at),
        )
    });
    let rto_s = rto.as_secs();
    let within_rto = time_to_restore
        .as_ref()
        .map(|s| s.seconds <= i64::try_from(rto_s).unwrap_or(i64::MAX));
    let evidence = match recording {
        None => {
            unknowns.push("no recording given: per-metric evidence and impact unknown".into());
            None
        }
        Some(rec) => {
            for (field, recorded, ledger) in [
                ("env", rec.env.as_deref(), env),
                ("version", rec.version.as_deref(), version.as_str()),
            ] {
                if let Some(recorded) = recorded.filter(|r| *r != ledger) {
                    return Err(ReviewError::OtherRecording {
                        field,
                        recorded: recorded.to_string(),
                        ledger: ledger.to_string(),
                    });
                }
            }
            let ev = evidence(rec)?;
            if ev.canary_requests.is_none() {
                unknowns.push(
                    "the recording has no `counts` metric: requests served and excess errors unknown"
                        .into(),
                );
            }
            Some(ev)
        }
    };
    Ok(Review {
        environment: env.to_string(),
        version,
        restored,
        rolled_back_at: rollback.at,
        promoted_at,
        timeline,
        failed_at,
        time_to_detect,
        time_to_restore,
        rto_s,
        within_rto,
        deciding_metric,
        evidence,
        unknowns,
    })
}

/// The judge replayed over the recording, and the `counts` metrics' totals.
pub fn evidence(rec: &Recording) -> Result<Evidence, ReviewError> {
    let outcome = replay(&rec.settings, &rec.intervals).map_err(|problems| {
        ReviewError::Settings(
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let metrics = outcome
        .report
        .as_ref()
        .map(|r| {
            r.metrics
                .iter()
                .map(|m| MetricEvidence {
                    name: m.name.clone(),
                    kind: m.kind.as_str(),
                    verdict: m.verdict.as_str(),
                    canary: m.canary,
                    baseline: m.baseline,
                    rule: m.rule.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut totals: std::collections::BTreeMap<&str, [f64; 4]> = Default::default();
    for interval in &rec.intervals {
        for (name, sample) in &interval.metrics {
            let counts = |side: &Option<Side>| match side {
                Some(Side::Counts(c)) if c.requests.0.is_finite() && c.errors.0.is_finite() => {
                    Some((c.requests.0, c.errors.0))
                }
                _ => None,
            };
            let (canary, baseline) = (counts(&sample.canary), counts(&sample.baseline));
            if canary.is_none() && baseline.is_none() {
                continue;
            }
            let t = totals.entry(name.as_str()).or_default();
            if let Some((n, e)) = canary {
                t[0] += n;
                t[1] += e;
            }
            if let Some((n, e)) = baseline {
                t[2] += n;
                t[3] += e;
            }
        }
    }
    let excess_errors: Vec<ExcessErrors> = totals
        .into_iter()
        .map(|(name, [cn, ce, bn, be])| {
            let share = (bn > 0.0).then(|| be / bn);
            ExcessErrors {
                metric: name.to_string(),
                canary_requests: cn,
                canary_errors: ce,
                baseline_requests: bn,
                baseline_errors: be,
                baseline_error_share: share,
                excess_errors: share.map(|s| ce - cn * s),
            }
        })
        .collect();
    let canary_requests = excess_errors
        .iter()
        .map(|x| x.canary_requests)
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
    Ok(Evidence {
        verdict: outcome.verdict.as_str(),
        rule: outcome.rule,
        decided_at_s: outcome.decided_at.map(|d| d.t),
        intervals: rec.intervals.len(),
        duration_s: rec.intervals.last().map_or(0.0, |i| i.t),
        started_at: rec.started_at.clone(),
        metrics,
        canary_requests,
        excess_errors,
    })
}

/// What `review` is asked.
#[derive(Debug, Clone)]
pub struct ReviewRequest {
    /// The environment.
    pub env: EnvName,
    /// Which of its rollbacks.
    pub select: Select,
    /// The canary's recording, read and checked.
    pub recording: Option<Recording>,
}

/// The review of a rollback, from the ledger after a fetch (no events).
pub fn review(p: &Pipeline, req: &ReviewRequest) -> Result<Review, PipelineError> {
    let env = req.env.as_str();
    let mut history = crate::views::history(p, Some(&req.env), None)?;
    history.entries.reverse();
    let entries: Vec<Entry> = history.entries.into_iter().map(|h| h.entry).collect();
    let rto = p.promote.for_env(env).rto();
    Ok(build(
        &entries,
        env,
        &req.select,
        rto,
        req.recording.as_ref(),
    )?)
}

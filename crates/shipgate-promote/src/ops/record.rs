//! The commands that only write entries: `approve`, `verify`, `freeze`, `unfreeze`,
//! `unblock`, and a canary's pass as `canary run` records it.

use serde::Serialize;

use super::{Context, OnSkew, OpError, with_retries};
use crate::entry::{CanarySummary, Entry, Kind, Source, VerifyResult};
use crate::ledger::{Ledger, Published};

/// What a command that only writes entries did.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Recorded {
    /// The entries written.
    pub entries: Vec<Entry>,
    /// The ledger's new tip.
    pub ledger_commit: String,
    /// Whether they are on the remote.
    pub pushed: bool,
    /// The branch commit the first entry's environment runs at (a deployment to mark).
    #[serde(skip)]
    pub commit: Option<String>,
    /// Attempts.
    pub attempts: u32,
    /// Notes.
    pub notes: Vec<String>,
    /// Warnings: a clock behind the ledger.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Writes the entries `make` builds on the ledger as just fetched, again on a lost race.
fn record(
    ctx: &Context<'_>,
    push: bool,
    on_skew: OnSkew,
    make: &dyn Fn(&Ledger<'_>) -> Result<Vec<Entry>, OpError>,
) -> Result<Recorded, OpError> {
    let (mut done, warnings) = with_retries(ctx, on_skew, |ledger, attempt| {
        let entries = make(ledger)?;
        let tip = ledger.build(ledger.tip, &entries, None)?;
        let pushed = match ledger.publish(tip, None, push)? {
            Published::Moved { refs } => return Ok(Err(refs)),
            p => p == Published::Pushed,
        };
        let commit = entries
            .first()
            .and_then(|e| e.environment.as_deref())
            .and_then(|env| ledger.state.environments.get(env))
            .and_then(|e| e.commit.clone());
        Ok(Ok(Recorded {
            entries,
            ledger_commit: tip.to_string(),
            pushed,
            commit,
            attempts: attempt,
            notes: std::mem::take(&mut ledger.notes),
            warnings: Vec::new(),
        }))
    })?;
    done.warnings = warnings;
    Ok(done)
}

/// `shipgate approve VERSION --env ENV`: recorded even for the later promoter, whose own
/// approval never counts for their promotion.
pub fn approve(
    ctx: &Context<'_>,
    version: &str,
    env: &str,
    push: bool,
) -> Result<Recorded, OpError> {
    ctx.check_env(env)?;
    ctx.released(version, None)?;
    record(ctx, push, OnSkew::Refuse, &|_| {
        Ok(vec![ctx.entry(Kind::Approval, Some(env), Some(version))])
    })
}

/// `shipgate verify VERSION --env ENV --result pass|fail [--evidence …]`.
pub fn verify(
    ctx: &Context<'_>,
    version: &str,
    env: &str,
    result: VerifyResult,
    evidence: Option<&str>,
    push: bool,
) -> Result<Recorded, OpError> {
    ctx.check_env(env)?;
    ctx.released(version, None)?;
    record(ctx, push, OnSkew::Refuse, &|_| {
        let mut e = ctx.entry(Kind::Verification, Some(env), Some(version));
        e.result = Some(result);
        e.source = Some(Source::Verify);
        e.evidence = evidence.map(String::from);
        Ok(vec![e])
    })
}

/// `shipgate freeze --env ENV --reason TEXT`.
pub fn freeze(ctx: &Context<'_>, env: &str, reason: &str, push: bool) -> Result<Recorded, OpError> {
    ctx.check_env(env)?;
    record(ctx, push, OnSkew::Record("freeze"), &|_| {
        let mut e = ctx.entry(Kind::Freeze, Some(env), None);
        e.reason = Some(reason.to_string());
        Ok(vec![e])
    })
}

/// `shipgate unfreeze --env ENV`.
pub fn unfreeze(ctx: &Context<'_>, env: &str, push: bool) -> Result<Recorded, OpError> {
    ctx.check_env(env)?;
    record(ctx, push, OnSkew::Refuse, &|ledger| {
        let frozen = ledger
            .state
            .environments
            .get(env)
            .is_some_and(|e| e.freeze.is_some());
        if !frozen {
            return Err(OpError::NotFrozen(env.to_string()));
        }
        Ok(vec![ctx.entry(Kind::Unfreeze, Some(env), None)])
    })
}

/// `shipgate unblock VERSION --reason TEXT`.
pub fn unblock(
    ctx: &Context<'_>,
    version: &str,
    reason: &str,
    push: bool,
) -> Result<Recorded, OpError> {
    shipgate_stdx::names::check_version(version)?;
    record(ctx, push, OnSkew::Refuse, &|ledger| {
        if !ledger.state.blocked.contains_key(version) {
            return Err(OpError::NotBlocked(version.to_string()));
        }
        let mut e = ctx.entry(Kind::Unblock, None, Some(version));
        e.reason = Some(reason.to_string());
        Ok(vec![e])
    })
}

/// A canary's verdict for (version, env), as `canary run` records it when it passed.
pub fn record_canary_pass(
    ctx: &Context<'_>,
    version: &str,
    env: &str,
    summary: CanarySummary,
) -> Result<Recorded, OpError> {
    record(ctx, ctx.remote().is_some(), OnSkew::Refuse, &|_| {
        let mut e = ctx.entry(Kind::Verification, Some(env), Some(version));
        e.result = Some(VerifyResult::Pass);
        e.source = Some(Source::Canary);
        e.evidence = Some(summary.rule.clone());
        e.canary = Some(summary.clone());
        Ok(vec![e])
    })
}

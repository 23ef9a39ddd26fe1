//! `status`, `history` and `metrics`: what the ledger says, read after a fetch of the
//! remote's. They decide nothing and emit no event.

use jiff::Timestamp;
use shipgate_promote::ops::{self, History, Metrics, Status};
use shipgate_stdx::names::EnvName;

use crate::context::Pipeline;
use crate::error::PipelineError;

/// What runs where, since when, who put it there, on what evidence; holds, freezes, blocks.
pub fn status(p: &Pipeline, env: Option<&EnvName>) -> Result<Status, PipelineError> {
    Ok(ops::status(&p.context(), env.map(EnvName::as_str), true)?)
}

/// The ledger's entries, newest first (`limit`: at most that many).
pub fn history(
    p: &Pipeline,
    env: Option<&EnvName>,
    limit: Option<usize>,
) -> Result<History, PipelineError> {
    Ok(ops::history(
        &p.context(),
        env.map(EnvName::as_str),
        limit,
        true,
    )?)
}

/// The delivery metrics per environment since `since` (default: the ledger's start), with
/// rework counted `rework_window` back from each promotion.
pub fn metrics(
    p: &Pipeline,
    env: Option<&EnvName>,
    since: Option<Timestamp>,
    rework_window: std::time::Duration,
) -> Result<Metrics, PipelineError> {
    Ok(ops::metrics(
        &p.context(),
        env.map(EnvName::as_str),
        since,
        i64::try_from(rework_window.as_secs()).unwrap_or(i64::MAX),
        true,
    )?)
}

/// Every entry and every environment's month records, after a fetch (the status page).
pub fn journal(p: &Pipeline) -> Result<ops::Journal, PipelineError> {
    Ok(ops::journal(&p.context(), true)?)
}

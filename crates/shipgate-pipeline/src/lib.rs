//! Each command's workflow, between the command line and the libraries: typed requests in
//! (names checked once, where the binary builds them), typed outcomes back, and every
//! decision an [`event::Event`] to listeners (the Actions step summary, GitHub deployments,
//! notifications). The binary parses, builds requests, calls and prints; the libraries
//! below know nothing of one another's workflows.
//!
//! | module | job |
//! |---|---|
//! | [`event`] | the events, their stamp, the listeners and the bus that delivers to them with a time limit |
//! | [`context`] | [`Pipeline`]: the repository, the settings, who, when, which run |
//! | [`store`] | the ledger port ([`store::Store`]) and the git ledger behind it |
//! | [`alarms`] | the promotion `alarms` gate's edge: the providers asked with checked names |
//! | [`promotion`] | promote, rollback, approve, verify, freeze, unfreeze, unblock |
//! | [`release`] | `release`: the plan, or the release made, then its events |
//! | [`canary`] | `canary run` around the rollout: versions from the ledger, the hold, the verdict's entry |
//! | [`views`] | `status`, `history`, `metrics`: the ledger read after a fetch |
//! | [`review`] | `review`: a rollback's timeline, times against the RTO, a recording's evidence |
//! | [`github`] | the `github-deployments` listener |
//! | [`error`] | [`PipelineError`], with its hint as data |

pub mod alarms;
pub mod canary;
pub mod context;
pub mod error;
pub mod event;
pub mod github;
pub mod promotion;
pub mod release;
pub mod review;
pub mod store;
pub mod views;

pub use context::{Caller, Pipeline, Stamp};
pub use error::PipelineError;
pub use event::{Bus, Delivered, Event, Heard, Listener, Record};

#[cfg(test)]
mod tests;

shipgate_stdx::hints!(PipelineError);

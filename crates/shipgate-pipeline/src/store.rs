//! The ledger as the workflows see it: one trait, [`Store`], with the git ledger of
//! `shipgate-promote` behind it ([`GitStore`]) and, in the tests, an in-memory one. What
//! a workflow decides (which names reach which query, what is recorded when, which event
//! follows) is tested against the trait; how entries become commits is
//! `shipgate-promote`'s, tested on real repositories.

use jiff::Timestamp;
use shipgate_promote::VerifyResult;
use shipgate_promote::entry::{CanarySummary, Entry};
use shipgate_promote::lock::{self, Hold, LockState, Taken};
use shipgate_promote::ops::{
    self, Context, OpError, PromoteOutcome, PromoteRequest, Recorded, RollBackTraffic,
    RollbackOutcome, RollbackRequest,
};

/// What the workflows need of the ledger, the environments' files and the holds.
pub trait Store {
    /// Whether the ledger is shared through a remote (entries are pushed, holds taken there).
    fn shared(&self) -> bool;
    /// The time of the entries written from now on: a canary's verdict and rollback are
    /// recorded when they happen, not when the run began. Never earlier than before.
    fn advance_clock(&mut self, now: Timestamp);
    /// A promotion: gates, files, entry (`ops::promote`).
    fn promote(
        &mut self,
        req: &PromoteRequest,
        stale: &mut RollBackTraffic<'_>,
    ) -> Result<PromoteOutcome, OpError>;
    /// A rollback: the environment's files back, the rollback and block entries.
    fn rollback(
        &mut self,
        req: &RollbackRequest,
        stale: &mut RollBackTraffic<'_>,
    ) -> Result<RollbackOutcome, OpError>;
    /// An approval entry.
    fn approve(&mut self, version: &str, env: &str, push: bool) -> Result<Recorded, OpError>;
    /// A verification entry.
    fn verify(
        &mut self,
        version: &str,
        env: &str,
        result: VerifyResult,
        evidence: Option<&str>,
        push: bool,
    ) -> Result<Recorded, OpError>;
    /// A freeze entry.
    fn freeze(&mut self, env: &str, reason: &str, push: bool) -> Result<Recorded, OpError>;
    /// An unfreeze entry.
    fn unfreeze(&mut self, env: &str, push: bool) -> Result<Recorded, OpError>;
    /// An unblock entry.
    fn unblock(&mut self, version: &str, reason: &str, push: bool) -> Result<Recorded, OpError>;
    /// A canary's passing verification entry.
    fn record_canary_pass(
        &mut self,
        version: &str,
        env: &str,
        summary: CanarySummary,
    ) -> Result<Recorded, OpError>;
    /// The environment's latest promotion or rollback.
    fn latest_move(&mut self, env: &str) -> Result<Option<Entry>, OpError>;
    /// A stale hold of `env` cleared: its traffic back through `stale`, then its entry.
    fn clear_stale_hold(
        &mut self,
        env: &str,
        stale: &mut RollBackTraffic<'_>,
    ) -> Result<Vec<String>, OpError>;
    /// `env`'s hold, as last read.
    fn read_hold(&mut self, env: &str) -> Result<LockState, OpError>;
    /// Takes `hold.environment`'s hold, which must be free.
    fn take_hold(&mut self, hold: &Hold) -> Result<Taken, OpError>;
    /// Renews the hold whose commit is `ours`.
    fn renew_hold(&mut self, ours: shipgate_git::Oid, hold: &Hold) -> Result<Taken, OpError>;
    /// Lets go of `env`'s hold if it is still `ours`.
    fn release_hold(&mut self, env: &str, ours: shipgate_git::Oid) -> Result<bool, OpError>;
}

/// The ledger in git, through `shipgate_promote::ops`.
pub struct GitStore<'a> {
    ctx: Context<'a>,
}

impl<'a> GitStore<'a> {
    /// The store of `ctx`'s repository.
    pub fn new(ctx: Context<'a>) -> Self {
        GitStore { ctx }
    }

    fn remote(&self) -> Option<&str> {
        self.ctx.remote()
    }
}

impl Store for GitStore<'_> {
    fn shared(&self) -> bool {
        self.remote().is_some()
    }

    fn advance_clock(&mut self, now: Timestamp) {
        self.ctx.now = self.ctx.now.max(now);
    }

    fn promote(
        &mut self,
        req: &PromoteRequest,
        stale: &mut RollBackTraffic<'_>,
    ) -> Result<PromoteOutcome, OpError> {
        ops::promote(&self.ctx, req, stale)
    }

    fn rollback(
        &mut self,
        req: &RollbackRequest,
        stale: &mut RollBackTraffic<'_>,
    ) -> Result<RollbackOutcome, OpError> {
        ops::rollback(&self.ctx, req, stale)
    }

    fn approve(&mut self, version: &str, env: &str, push: bool) -> Result<Recorded, OpError> {
        ops::approve(&self.ctx, version, env, push)
    }

    fn verify(
        &mut self,
        version: &str,
        env: &str,
        result: VerifyResult,
        evidence: Option<&str>,
        push: bool,
    ) -> Result<Recorded, OpError> {
        ops::verify(&self.ctx, version, env, result, evidence, push)
    }

    fn freeze(&mut self, env: &str, reason: &str, push: bool) -> Result<Recorded, OpError> {
        ops::freeze(&self.ctx, env, reason, push)
    }

    fn unfreeze(&mut self, env: &str, push: bool) -> Result<Recorded, OpError> {
        ops::unfreeze(&self.ctx, env, push)
    }

    fn unblock(&mut self, version: &str, reason: &str, push: bool) -> Result<Recorded, OpError> {
        ops::unblock(&self.ctx, version, reason, push)
    }

    fn record_canary_pass(
        &mut self,
        version: &str,
        env: &str,
        summary: CanarySummary,
    ) -> Result<Recorded, OpError> {
        ops::record_canary_pass(&self.ctx, version, env, summary)
    }

    fn latest_move(&mut self, env: &str) -> Result<Option<Entry>, OpError> {
        let fetch = self.shared();
        ops::latest_move(&self.ctx, env, fetch)
    }

    fn clear_stale_hold(
        &mut self,
        env: &str,
        stale: &mut RollBackTraffic<'_>,
    ) -> Result<Vec<String>, OpError> {
        let push = self.shared();
        ops::clear_stale_hold(&self.ctx, env, push, stale)
    }

    fn read_hold(&mut self, env: &str) -> Result<LockState, OpError> {
        Ok(lock::read(
            self.ctx.repo,
            self.remote(),
            env,
            self.ctx.now,
            self.ctx.settings.lock_timeout.0,
        )?)
    }

    fn take_hold(&mut self, hold: &Hold) -> Result<Taken, OpError> {
        Ok(lock::take(self.ctx.repo, self.remote(), hold)?)
    }

    fn renew_hold(&mut self, ours: shipgate_git::Oid, hold: &Hold) -> Result<Taken, OpError> {
        Ok(lock::renew(self.ctx.repo, self.remote(), ours, hold)?)
    }

    fn release_hold(&mut self, env: &str, ours: shipgate_git::Oid) -> Result<bool, OpError> {
        Ok(lock::release(self.ctx.repo, self.remote(), env, ours)?)
    }
}

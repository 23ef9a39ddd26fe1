//! `shipgate release`: the plan (a dry run), or the release made (files, commit, tags,
//! push, GitHub release) through `shipgate-release`; then one `released` event per tag the
//! run made, once the tag exists (and, with `push`, is on the remote).

use shipgate_release::{Outcome, Plan, ReleaseRequest};

use crate::context::Stamp;
use crate::error::PipelineError;
use crate::event::{Bus, Event};
use crate::promotion::{LISTENER_LIMIT, Told};

/// What a release would do; writes nothing.
pub fn plan(req: &ReleaseRequest) -> Result<Plan, PipelineError> {
    Ok(shipgate_release::plan(req)?)
}

/// The events of a release that tagged `outcome.tagged`: one `Released` per tag.
pub fn released(outcome: &Outcome) -> Vec<Event> {
    events(&outcome.plan, &outcome.tagged, outcome.pushed, &|tag| {
        outcome
            .github
            .iter()
            .find(|g| g.tag == tag)
            .map(|g| g.url.clone())
    })
}

/// The events a release of `plan` would emit (what a dry run says it would tell).
pub fn rehearsed(plan: &Plan) -> Vec<Event> {
    events(plan, &plan.tags, false, &|_| None)
}

fn events(
    plan: &Plan,
    tags: &[String],
    pushed: bool,
    url: &dyn Fn(&str) -> Option<String>,
) -> Vec<Event> {
    tags.iter()
        .map(|tag| {
            let package = plan
                .packages
                .iter()
                .find(|p| p.tag.as_deref() == Some(tag.as_str()));
            let (version, previous, commits) = match package {
                Some(p) => (
                    p.next.as_ref().map(ToString::to_string),
                    p.current.as_ref().map(ToString::to_string),
                    p.commits,
                ),
                None => (
                    plan.next.as_ref().map(ToString::to_string),
                    plan.previous_tag.clone(),
                    plan.commits,
                ),
            };
            Event::Released {
                version: version.unwrap_or_else(|| tag.clone()),
                tag: tag.clone(),
                previous,
                commits,
                pushed,
                url: url(tag),
            }
        })
        .collect()
}

pub fn release(
    req: &ReleaseRequest,
    stamp: &Stamp,
    mut bus: Bus,
) -> Result<Told<Outcome>, PipelineError> {
    let outcome = match shipgate_release::run(req) {
        Ok(outcome) => outcome,
        Err(e) => {
            bus.finish(LISTENER_LIMIT);
            return Err(e.into());
        }
    };
    for event in released(&outcome) {
        bus.emit(stamp.record(event));
    }
    Ok(Told {
        delivered: bus.finish(LISTENER_LIMIT),
        outcome,
    })
}

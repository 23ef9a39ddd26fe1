//! The rollout's steps as a pure state machine: given the time since the start and the
//! judge's latest report, what the runner does next (wait, move traffic, promote, roll back
//! or pause). No clock and no actuator here; the runner owns both.

use std::time::Duration;

use serde::Serialize;

use crate::judge::{Report, Verdict};
use crate::settings::{OnInconclusive, RolloutSettings};

/// What the runner must do after a judgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum Action {
    /// Keep the current weight and judge again after the interval.
    Wait,
    /// Move the canary's traffic share to `weight` percent.
    SetWeight {
        /// Percent of traffic.
        weight: u8,
    },
    /// The canary takes all traffic: the rollout is complete.
    Promote,
    /// Send all traffic back to the baseline.
    Rollback {
        /// Why.
        reason: String,
    },
    /// Stop with the current weight for a human to decide (`on-inconclusive = "pause"`).
    Pause {
        /// Why.
        reason: String,
    },
}

/// Where a rollout stands.
#[derive(Debug, Clone)]
pub struct Rollout {
    weights: Vec<u8>,
    holds: Vec<Option<Duration>>,
    max_duration: Duration,
    on_inconclusive: OnInconclusive,
    step: usize,
    step_started: Duration,
    done: bool,
}

impl Rollout {
    /// A rollout at its first step; the runner starts by setting [`Rollout::first_weight`].
    pub fn new(settings: &RolloutSettings) -> Self {
        let steps = settings.steps.as_slice();
        Self {
            weights: steps.iter().map(|s| s.weight).collect(),
            holds: steps.iter().map(|s| s.hold.map(|h| h.0)).collect(),
            max_duration: settings.max_duration.0,
            on_inconclusive: settings.on_inconclusive,
            step: 0,
            step_started: Duration::ZERO,
            done: false,
        }
    }

    /// The weight to set before the first judgement.
    pub fn first_weight(&self) -> u8 {
        self.weights.first().copied().unwrap_or(100)
    }

    /// The current step (0-based) and its weight.
    pub fn step(&self) -> (usize, u8) {
        (
            self.step,
            self.weights.get(self.step).copied().unwrap_or(100),
        )
    }

    /// Whether a final action (promote, rollback, pause) was given.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The next action after a judgement made `elapsed` after the start.
    pub fn next(&mut self, elapsed: Duration, report: &Report) -> Action {
        if self.done {
            return Action::Wait;
        }
        if report.verdict == Verdict::Fail {
            self.done = true;
            return Action::Rollback {
                reason: report.rule.clone(),
            };
        }
        let hold = self
            .holds
            .get(self.step)
            .copied()
            .flatten()
            .unwrap_or(Duration::ZERO);
        let held = elapsed.saturating_sub(self.step_started) >= hold;
        if held && report.verdict == Verdict::Pass {
            let last = self.weights.len() - 1;
            if self.step >= last {
                self.done = true;
                return Action::Promote;
            }
            self.step += 1;
            self.step_started = elapsed;
            if self.step == last && self.holds[last].is_none_or(|h| h.is_zero()) {
                self.done = true;
                return Action::Promote;
            }
            return Action::SetWeight {
                weight: self.weights[self.step],
            };
        }
        if elapsed >= self.max_duration {
            self.done = true;
            let reason = format!(
                "inconclusive after {} s (max-duration): {}",
                self.max_duration.as_secs(),
                report.rule
            );
            return match self.on_inconclusive {
                OnInconclusive::Rollback => Action::Rollback { reason },
                OnInconclusive::Pause => Action::Pause { reason },
            };
        }
        Action::Wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{HumanDuration, Step, Steps};

    fn settings(steps: &[(u8, Option<u64>)], max: u64, on: OnInconclusive) -> RolloutSettings {
        let steps = steps
            .iter()
            .map(|(weight, hold)| Step {
                weight: *weight,
                hold: hold.map(|s| HumanDuration(Duration::from_secs(s))),
            })
            .collect();
        RolloutSettings {
            steps: Steps::new(steps).expect("valid steps"),
            max_duration: HumanDuration(Duration::from_secs(max)),
            on_inconclusive: on,
            ..RolloutSettings::default()
        }
    }

    fn report(verdict: Verdict) -> Report {
        Report {
            intervals: 1,
            verdict,
            rule: format!("rule {}", verdict.as_str()),
            metrics: Vec::new(),
        }
    }

    /// Judges every 10 s with `verdict_at(t)` until a final action; returns (t, action) for
    /// every action that is not Wait.
    fn drive(
        settings: &RolloutSettings,
        verdict_at: impl Fn(u64) -> Verdict,
    ) -> Vec<(u64, Action)> {
        let mut r = Rollout::new(settings);
        let mut actions = Vec::new();
        let mut t = 0;
        while !r.is_done() && t < 10_000 {
            t += 10;
            let a = r.next(Duration::from_secs(t), &report(verdict_at(t)));
            if a != Action::Wait {
                actions.push((t, a));
            }
        }
        actions
    }

    #[test]
    fn a_passing_canary_moves_at_each_hold_and_is_promoted() {
        let s = settings(
            &[(5, Some(60)), (25, Some(120)), (100, None)],
            600,
            OnInconclusive::Rollback,
        );
        assert_eq!(Rollout::new(&s).first_weight(), 5);
        let actions = drive(&s, |_| Verdict::Pass);
        assert_eq!(
            actions,
            vec![
                (60, Action::SetWeight { weight: 25 }),
                (180, Action::Promote)
            ]
        );
    }

    #[test]
    fn a_hold_ends_only_on_a_pass() {
        let s = settings(
            &[(10, Some(30)), (100, None)],
            600,
            OnInconclusive::Rollback,
        );
        let actions = drive(&s, |t| {
            if t < 100 {
                Verdict::Continue
            } else {
                Verdict::Pass
            }
        });
        assert_eq!(actions, vec![(100, Action::Promote)]);
    }

    #[test]
    fn a_failure_rolls_back_at_once() {
        let s = settings(&[(10, Some(300)), (100, None)], 600, OnInconclusive::Pause);
        let actions = drive(&s, |t| {
            if t >= 40 {
                Verdict::Fail
            } else {
                Verdict::Continue
            }
        });
        assert_eq!(
            actions,
            vec![(
                40,
                Action::Rollback {
                    reason: "rule fail".into()
                }
            )]
        );
    }

    #[test]
    fn undecided_at_max_duration_follows_on_inconclusive() {
        let s = settings(
            &[(10, Some(30)), (100, None)],
            120,
            OnInconclusive::Rollback,
        );
        let actions = drive(&s, |_| Verdict::Continue);
        assert_eq!(actions.len(), 1);
        assert!(
            matches!(&actions[0], (120, Action::Rollback { reason }) if reason.starts_with("inconclusive after 120 s"))
        );
        let s = settings(&[(10, Some(30)), (100, None)], 120, OnInconclusive::Pause);
        assert!(matches!(
            drive(&s, |_| Verdict::Continue).as_slice(),
            [(120, Action::Pause { .. })]
        ));
    }

    #[test]
    fn a_held_last_step_is_judged_before_promotion() {
        let s = settings(
            &[(50, Some(20)), (100, Some(30))],
            600,
            OnInconclusive::Rollback,
        );
        let actions = drive(&s, |_| Verdict::Pass);
        assert_eq!(
            actions,
            vec![
                (20, Action::SetWeight { weight: 100 }),
                (50, Action::Promote)
            ]
        );
    }
}

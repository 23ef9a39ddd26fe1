//! The `argo-rollouts` actuator: an Argo Rollout driven step by step through the
//! `kubectl argo rollouts` plugin, each command an argument vector (no shell).
//!
//! The plugin cannot set a weight: its `set` command has one subcommand, `image`
//! (argoproj/argo-rollouts `pkg/kubectl-argo-rollouts/cmd/set/set.go` adds only
//! `NewCmdSetImage`). What it has, and what this actuator runs:
//!
//! - `promote NAME`: a Rollout paused at a canary step goes on to its next step
//!   (`cmd/promote/promote.go`: clears the pause conditions, or moves `currentStepIndex`
//!   one step when it is not paused); so "set weight N" is "promote one step", from the
//!   `pause: {}` before the `setWeight: N` to the one after it;
//! - `promote NAME --full`: skips the remaining steps, pauses and analyses (the same file,
//!   `promoteFullPatch`): the canary becomes the stable version;
//! - `abort NAME`: back to the stable ReplicaSet, all traffic on it (`cmd/abort/abort.go`,
//!   `{"status":{"abort":true}}`);
//! - and `kubectl get rollouts.argoproj.io NAME --output=json` to read the Rollout's steps
//!   and where it stands (`status.currentStepIndex`, `status.pauseConditions`,
//!   `status.abort`, `status.currentPodHash` vs `status.stableRS`: the field names of
//!   `pkg/apis/rollouts/v1alpha1/types.go`).
//!
//! The namespace and the context go as `--namespace=…` and `--context=…` after the
//! plugin's arguments: kubectl hands everything after `argo rollouts` to the plugin, whose
//! root command adds kubectl's own flags (`options.AddKubectlFlags`).
//!
//! The Rollout's steps must be shipgate's: every weight but the last (100) as a
//! `setWeight`, each followed by an indefinite `pause: {}` (a pause with a duration would
//! move on by itself, while shipgate's holds time the steps), optionally after a first
//! `pause: {}` at weight 0 so that no traffic reaches the canary before shipgate's first
//! step. Before the first move the actuator reads the Rollout and refuses any other shape;
//! before and after each `promote` it waits (up to `step-timeout`) for the Rollout to stand
//! paused at the step it should be at, so a `promote` is never spent on a Rollout that is
//! still on its way (the plugin would then move it one step further than shipgate thinks).

use std::process::Command;
use std::time::{Duration, Instant};

use shipgate_judge::HumanDuration;

use crate::traffic::{ActuatorError, ActuatorVars, Traffic, failure_message, retrying};

pub use shipgate_canary_settings::argo_rollouts::{ArgoRolloutsActuator, KubeContext, KubeName};

/// The pauses of a Rollout's steps: where it waits for shipgate, and at which weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The index of a `pause: {}` before any `setWeight` (the canary at 0 %), if any.
    pub start: Option<usize>,
    /// For each weight shipgate judges, in order: the weight and the index of the
    /// `pause: {}` that follows its `setWeight`.
    pub pauses: Vec<(u8, usize)>,
}

/// Reads a Rollout's `spec.strategy.canary.steps` into its pauses, refusing what shipgate
/// cannot drive step by step, and checks that its weights are `weights` (shipgate's steps
/// without the final 100).
pub fn plan(rollout: &serde_json::Value, weights: &[u8]) -> Result<Plan, String> {
    let Some(steps) = rollout
        .pointer("/spec/strategy/canary/steps")
        .and_then(|s| s.as_array())
    else {
        return Err("the Rollout has no spec.strategy.canary.steps: shipgate drives a canary Rollout's steps (setWeight, then pause: {})".into());
    };
    let mut plan = Plan {
        start: None,
        pauses: Vec::new(),
    };
    // The weight a setWeight set that no pause has followed yet.
    let mut pending: Option<(u8, usize)> = None;
    for (i, step) in steps.iter().enumerate() {
        let Some(object) = step.as_object() else {
            return Err(format!("steps[{i}] is not an object"));
        };
        if let Some(w) = object.get("setWeight") {
            let Some(w) = w.as_u64().and_then(|w| u8::try_from(w).ok()) else {
                return Err(format!("steps[{i}]: setWeight {w} is not a percentage"));
            };
            if let Some((before, at)) = pending {
                return Err(format!(
                    "steps[{i}]: setWeight {w} follows setWeight {before} (steps[{at}]) without a pause: {{}} between them, so the Rollout would pass {before} % without shipgate judging it"
                ));
            }
            pending = Some((w, i));
        } else if let Some(pause) = object.get("pause") {
            if pause.get("duration").is_some_and(|d| !d.is_null()) {
                return Err(format!(
                    "steps[{i}]: a pause with a duration ({}) moves on by itself; shipgate's holds time the steps: write pause: {{}}",
                    pause["duration"]
                ));
            }
            match pending.take() {
                Some((w, _)) => plan.pauses.push((w, i)),
                None if plan.start.is_none() && plan.pauses.is_empty() => plan.start = Some(i),
                None => {
                    return Err(format!(
                        "steps[{i}]: a second pause: {{}} with no setWeight before it; each pause must follow a setWeight"
                    ));
                }
            }
        } else if ["setCanaryScale", "setHeaderRoute", "setMirrorRoute"]
            .iter()
            .any(|k| object.contains_key(*k))
        {
            // Moves no traffic and passes at once.
        } else {
            let kind = object.keys().next().map_or("an empty step", |k| k.as_str());
            return Err(format!(
                "steps[{i}]: `{kind}` steps are not shipgate's to drive: the Rollout's steps must be setWeight and pause: {{}} (setCanaryScale, setHeaderRoute and setMirrorRoute may be among them)"
            ));
        }
    }
    if let Some((w, at)) = pending {
        return Err(format!(
            "steps[{at}]: setWeight {w} is not followed by a pause: {{}}; shipgate promotes the Rollout past its last pause itself"
        ));
    }
    let theirs: Vec<u8> = plan.pauses.iter().map(|(w, _)| *w).collect();
    if theirs != weights {
        return Err(format!(
            "the Rollout's setWeights are {theirs:?}, shipgate's steps before 100 are {weights:?}: they must be the same"
        ));
    }
    Ok(plan)
}

/// Where a Rollout stands, from its `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Paused at this step index.
    PausedAt(usize),
    /// On its way (not paused), at this step index (`None`: no index yet).
    Moving(Option<usize>),
    /// Aborted.
    Aborted,
    /// No update in progress: its current pods are its stable ones.
    Idle,
}

/// Where `rollout` stands.
pub fn standing(rollout: &serde_json::Value) -> Standing {
    let status = &rollout["status"];
    if status["abort"].as_bool() == Some(true) {
        return Standing::Aborted;
    }
    let current = status["currentPodHash"].as_str();
    if current.is_some() && current == status["stableRS"].as_str() {
        return Standing::Idle;
    }
    let index = status["currentStepIndex"]
        .as_u64()
        .and_then(|i| usize::try_from(i).ok());
    let paused = status["pauseConditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|p| p["reason"].as_str() == Some("CanaryPauseStep"))
    });
    match index {
        Some(i) if paused => Standing::PausedAt(i),
        i => Standing::Moving(i),
    }
}

/// The Argo Rollouts actuator with its rendered names, as the runner's `Traffic`.
pub struct ArgoRolloutsTraffic {
    rollout: String,
    /// `--namespace=…` and `--context=…`, as given.
    flags: Vec<String>,
    /// shipgate's weights before the final 100.
    weights: Vec<u8>,
    step_timeout: Duration,
    poll: Duration,
    rollback_attempts: u32,
    /// The Rollout's pauses, read before the first move.
    plan: Option<Plan>,
}

impl ArgoRolloutsTraffic {
    /// The actuator for a rollout of `weights` (shipgate's steps) in `vars.env`; an error
    /// when a rendered name is not a Kubernetes name.
    pub fn new(
        config: &ArgoRolloutsActuator,
        vars: &ActuatorVars,
        weights: &[u8],
    ) -> Result<Self, String> {
        let rollout = config.rollout.render(&vars.env, false)?;
        let mut flags = Vec::new();
        if let Some(ns) = &config.namespace {
            flags.push(format!("--namespace={}", ns.render(&vars.env, true)?));
        }
        if let Some(context) = &config.context {
            flags.push(format!("--context={}", context.render(&vars.env)));
        }
        Ok(Self {
            rollout,
            flags,
            weights: weights.iter().copied().filter(|w| *w < 100).collect(),
            step_timeout: config.step_timeout.0,
            poll: Duration::from_secs(1),
            rollback_attempts: config.rollback_attempts.max(1),
            plan: None,
        })
    }

    /// `kubectl argo rollouts ACTION NAME [extra] [flags]`.
    fn plugin(&self, action: &str, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = ["argo", "rollouts", action, self.rollout.as_str()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(self.flags.iter().cloned());
        args
    }

    /// `kubectl get rollouts.argoproj.io NAME [flags] --output=json`.
    fn get_args(&self) -> Vec<String> {
        let mut args: Vec<String> = vec!["get".into(), "rollouts.argoproj.io".into()];
        args.push(self.rollout.clone());
        args.extend(self.flags.iter().cloned());
        args.push("--output=json".into());
        args
    }

    /// The Rollout as kubectl prints it.
    fn read(&self, action: &'static str) -> Result<serde_json::Value, ActuatorError> {
        let args = self.get_args();
        let stdout = kubectl(action, &args, 1)?;
        serde_json::from_slice(&stdout).map_err(|e| ActuatorError {
            action,
            command: display(&args),
            attempts: 1,
            message: format!("kubectl printed no Rollout as JSON: {e}"),
        })
    }

    /// The Rollout's pauses, read and checked once, before the first move.
    fn plan(&mut self, action: &'static str) -> Result<Plan, ActuatorError> {
        if let Some(plan) = &self.plan {
            return Ok(plan.clone());
        }
        let rollout = self.read(action)?;
        let plan = plan(&rollout, &self.weights).map_err(|message| ActuatorError {
            action,
            command: display(&self.get_args()),
            attempts: 1,
            message: format!("Rollout `{}`: {message}", self.rollout),
        })?;
        self.plan = Some(plan.clone());
        Ok(plan)
    }

    /// Waits until the Rollout stands paused at step `index` (`weight` % on the canary).
    fn wait_paused_at(
        &self,
        action: &'static str,
        index: usize,
        weight: u8,
    ) -> Result<(), ActuatorError> {
        let deadline = Instant::now() + self.step_timeout;
        let fail = |message: String| ActuatorError {
            action,
            command: display(&self.get_args()),
            attempts: 1,
            message: format!("Rollout `{}`: {message}", self.rollout),
        };
        loop {
            let standing = standing(&self.read(action)?);
            match standing {
                Standing::PausedAt(i) if i == index => return Ok(()),
                Standing::PausedAt(i) if i > index => {
                    return Err(fail(format!(
                        "paused at steps[{i}], past steps[{index}] (weight {weight} %) where shipgate expects it: something else promoted it"
                    )));
                }
                Standing::Aborted => {
                    return Err(fail("it was aborted".into()));
                }
                _ => {}
            }
            if Instant::now() >= deadline {
                let now = match standing {
                    Standing::PausedAt(i) => format!("paused at steps[{i}]"),
                    Standing::Moving(Some(i)) => format!("at steps[{i}], not paused"),
                    Standing::Moving(None) => "at no step yet".into(),
                    Standing::Idle => "not updating: its current pods are its stable ones (was the new version deployed?)".into(),
                    Standing::Aborted => "aborted".into(),
                };
                return Err(fail(format!(
                    "not paused at steps[{index}] (weight {weight} %) within {}: {now}",
                    HumanDuration(self.step_timeout)
                )));
            }
            std::thread::sleep(self.poll);
        }
    }
}

impl Traffic for ArgoRolloutsTraffic {
    /// "Set weight N": from the pause before `setWeight: N` (none for a Rollout that sets
    /// its first weight by itself), `promote` one step, then wait for the pause after it.
    fn set_weight(&mut self, weight: u8) -> Result<(), ActuatorError> {
        let plan = self.plan("set-weight")?;
        let Some(at) = plan.pauses.iter().position(|(w, _)| *w == weight) else {
            return Err(ActuatorError {
                action: "set-weight",
                command: display(&self.plugin("promote", &[])),
                attempts: 1,
                message: format!(
                    "Rollout `{}` has no setWeight {weight} followed by a pause",
                    self.rollout
                ),
            });
        };
        let before = match at {
            0 => plan.start.map(|i| (i, 0)),
            _ => Some((plan.pauses[at - 1].1, plan.pauses[at - 1].0)),
        };
        if let Some((index, w)) = before {
            self.wait_paused_at("set-weight", index, w)?;
            kubectl("set-weight", &self.plugin("promote", &[]), 1)?;
        }
        self.wait_paused_at("set-weight", plan.pauses[at].1, weight)
    }

    fn promote(&mut self) -> Result<(), ActuatorError> {
        kubectl("promote", &self.plugin("promote", &["--full"]), 1).map(drop)
    }

    fn rollback(&mut self) -> Result<(), ActuatorError> {
        kubectl(
            "rollback",
            &self.plugin("abort", &[]),
            self.rollback_attempts,
        )
        .map(drop)
    }
}

/// `kubectl ARGS…`, up to `attempts` times until it exits 0; its stdout.
fn kubectl(action: &'static str, args: &[String], attempts: u32) -> Result<Vec<u8>, ActuatorError> {
    retrying(action, &display(args), attempts, || {
        match Command::new("kubectl").args(args).output() {
            Ok(out) if out.status.success() => Ok(out.stdout),
            Ok(out) => Err(failure_message(&out)),
            Err(e) => Err(format!("cannot start kubectl: {e}")),
        }
    })
}

/// The command as a person would type it, each argument shell-quoted when it needs it.
fn display(args: &[String]) -> String {
    let mut out = String::from("kubectl");
    for a in args {
        out.push(' ');
        if a.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.=/:@".contains(&b))
        {
            out.push_str(a);
        } else {
            out.push_str(&shipgate_stdx::shell::quote(a));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn steps(s: serde_json::Value) -> serde_json::Value {
        json!({"spec": {"strategy": {"canary": {"steps": s}}}})
    }

    #[test]
    fn a_rollout_of_set_weights_and_indefinite_pauses_is_planned() {
        let with_start = steps(json!([
            {"pause": {}}, {"setWeight": 5}, {"pause": {}}, {"setCanaryScale": {"matchTrafficWeight": true}},
            {"setWeight": 25}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}
        ]));
        assert_eq!(
            plan(&with_start, &[5, 25, 50]),
            Ok(Plan {
                start: Some(0),
                pauses: vec![(5, 2), (25, 5), (50, 7)]
            })
        );
        let without =
            steps(json!([{"setWeight": 10}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}]));
        assert_eq!(
            plan(&without, &[10, 50]),
            Ok(Plan {
                start: None,
                pauses: vec![(10, 1), (50, 3)]
            })
        );
    }

    #[test]
    fn a_rollout_shipgate_cannot_drive_is_refused_with_the_reason() {
        for (s, weights, needle) in [
            (
                json!([{"setWeight": 10}, {"pause": {}}]),
                vec![10, 50],
                "setWeights are [10], shipgate's steps before 100 are [10, 50]",
            ),
            (
                json!([{"setWeight": 10}, {"pause": {"duration": "5m"}}]),
                vec![10],
                "a pause with a duration (\"5m\") moves on by itself",
            ),
            (
                json!([{"setWeight": 10}, {"setWeight": 20}, {"pause": {}}]),
                vec![10, 20],
                "without a pause: {} between them",
            ),
            (
                json!([{"setWeight": 10}, {"pause": {}}, {"setWeight": 20}]),
                vec![10, 20],
                "not followed by a pause",
            ),
            (
                json!([{"setWeight": 10}, {"pause": {}}, {"analysis": {"templates": []}}]),
                vec![10],
                "`analysis` steps are not shipgate's",
            ),
            (
                json!([{"setWeight": 10}, {"pause": {}}, {"pause": {}}]),
                vec![10],
                "a second pause",
            ),
        ] {
            let err = plan(&steps(s), &weights).expect_err(needle);
            assert!(err.contains(needle), "{err}");
        }
        let blue_green = json!({"spec": {"strategy": {"blueGreen": {}}}});
        assert!(
            plan(&blue_green, &[10])
                .expect_err("no steps")
                .contains("no spec.strategy.canary.steps")
        );
    }

    #[test]
    fn where_a_rollout_stands_is_read_from_its_status() {
        let status = |s: serde_json::Value| json!({"status": s});
        assert_eq!(
            standing(&status(
                json!({"currentStepIndex": 2, "currentPodHash": "b", "stableRS": "a",
                "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "x"}]})
            )),
            Standing::PausedAt(2)
        );
        assert_eq!(
            standing(&status(
                json!({"currentStepIndex": 1, "currentPodHash": "b", "stableRS": "a"})
            )),
            Standing::Moving(Some(1))
        );
        assert_eq!(
            standing(&status(
                json!({"currentStepIndex": 4, "currentPodHash": "a", "stableRS": "a"})
            )),
            Standing::Idle
        );
        assert_eq!(standing(&status(json!({"abort": true}))), Standing::Aborted);
    }

    #[test]
    fn names_are_checked_when_parsed_and_when_rendered() {
        for ok in ["storefront", "shop-{{env}}", "a.b-c", "{{ env }}-shop"] {
            assert!(KubeName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Shop",
            "shop;id",
            "$(id)",
            "shop {{env}}",
            "a/b",
            "shop-{{version}}",
            "-n",
        ] {
            assert!(KubeName::parse(bad).is_err(), "{bad}");
        }
        let ns = KubeName::parse("shop-{{env}}").expect("valid");
        assert_eq!(ns.render("prod", true).as_deref(), Ok("shop-prod"));
        let err = ns.render("Prod_1", true).expect_err("capitals");
        assert!(
            err.contains(
                "`shop-Prod_1` (from `shop-{{env}}` in Prod_1) is not a Kubernetes namespace"
            ),
            "{err}"
        );
        let dotted = KubeName::parse("a.b").expect("valid");
        assert!(dotted.render("prod", true).is_err());
        assert_eq!(dotted.render("prod", false).as_deref(), Ok("a.b"));
        assert!(KubeContext::parse("arn:aws:eks:eu-west-1:1:cluster/{{env}}").is_ok());
        assert!(KubeContext::parse("prod cluster").is_err());
    }

    #[test]
    fn commands_are_argument_vectors_with_the_namespace_after_the_plugin_s_arguments() {
        let config = ArgoRolloutsActuator {
            rollout: KubeName::parse("storefront").expect("name"),
            namespace: KubeName::parse("shop-{{env}}").ok(),
            context: KubeContext::parse("{{env}}-cluster").ok(),
            step_timeout: HumanDuration(Duration::from_secs(300)),
            rollback_attempts: 3,
        };
        let vars = ActuatorVars {
            env: "prod".into(),
            ..ActuatorVars::default()
        };
        let t = ArgoRolloutsTraffic::new(&config, &vars, &[5, 25, 100]).expect("names");
        assert_eq!(t.weights, [5, 25]);
        assert_eq!(
            display(&t.plugin("promote", &["--full"])),
            "kubectl argo rollouts promote storefront --full --namespace=shop-prod --context=prod-cluster"
        );
        assert_eq!(
            display(&t.get_args()),
            "kubectl get rollouts.argoproj.io storefront --namespace=shop-prod --context=prod-cluster --output=json"
        );
    }
}

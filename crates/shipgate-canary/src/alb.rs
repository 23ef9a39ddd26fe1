//! The `alb` actuator: an AWS Application Load Balancer's weighted target groups. A
//! listener's default actions (`ModifyListener`) or one of its rules (`ModifyRule`) forward
//! to two target groups, the baseline's and the canary's; each step writes their weights
//! (`100 − weight` and `weight`), a promotion 0 and 100, a rollback 100 and 0.
//!
//! Every write reads the actions first (`DescribeListeners` / `DescribeRules`) and changes
//! only the `forward` action's target groups, so an authentication action before it and
//! the forward's stickiness settings stay as they were. The forward must already name the
//! two target groups, or one of them (a listener that sends everything to the baseline):
//! one that forwards anywhere else is refused before anything is written.
//!
//! The calls go through the AWS SDK on the one AWS session ([`crate::aws`]): the standard
//! credential chain, the region (default: the listener's or the rule's ARN's), an endpoint
//! override. IAM: `elasticloadbalancing:DescribeListeners` and `ModifyListener`, or
//! `DescribeRules` and `ModifyRule`.

use std::fmt;

use aws_sdk_elasticloadbalancingv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, TargetGroupTuple,
};

use crate::aws::{AwsSession, AwsSettings, AwsSetupError};
use crate::traffic::{ActuatorError, Traffic, retrying};

pub use shipgate_canary_settings::alb::{AlbActuator, ElbArn};

/// The listener's or the rule's ARN of `alb` (validation makes sure there is exactly one).
fn target(alb: &AlbActuator) -> Target<'_> {
    match (&alb.listener_arn, &alb.rule_arn) {
        (_, Some(rule)) => Target::Rule(rule),
        (Some(listener), None) => Target::Listener(listener),
        (None, None) => Target::Listener(&alb.canary_target_group),
    }
}

/// The AWS session's settings of `alb`: the region defaults to the listener's or rule's.
fn aws_settings(alb: &AlbActuator) -> AwsSettings {
    let region = alb.region.clone().or_else(|| {
        alb.listener_arn
            .as_ref()
            .or(alb.rule_arn.as_ref())
            .map(|a| a.region().to_string())
    });
    AwsSettings {
        region,
        endpoint_url: alb.endpoint_url.clone(),
        profile: alb.profile.clone(),
        timeout: alb.timeout.0,
        retries: alb.retries,
    }
}

/// What the weights are written on.
#[derive(Debug, Clone, Copy)]
enum Target<'a> {
    Listener(&'a ElbArn),
    Rule(&'a ElbArn),
}

/// The IAM actions the ALB actuator's calls need.
pub const IAM_ACTIONS: &str = "elasticloadbalancing:DescribeListeners and elasticloadbalancing:ModifyListener (listener-arn), or elasticloadbalancing:DescribeRules and elasticloadbalancing:ModifyRule (rule-arn)";

/// The ALB actuator with its client, as the runner's `Traffic`.
pub struct AlbTraffic {
    config: AlbActuator,
    session: AwsSession,
    client: aws_sdk_elasticloadbalancingv2::Client,
}

impl fmt::Debug for AlbTraffic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlbTraffic")
            .field("target", &target(&self.config))
            .finish_non_exhaustive()
    }
}

impl AlbTraffic {
    /// The actuator for `config`: the AWS session is set up, nothing is sent yet.
    pub fn new(config: &AlbActuator) -> Result<Self, AwsSetupError> {
        let session = AwsSession::load(&aws_settings(config))?;
        let client = aws_sdk_elasticloadbalancingv2::Client::new(session.config());
        Ok(Self {
            config: config.clone(),
            session,
            client,
        })
    }

    /// What a failed call ran, for its error.
    fn command(&self, verb: &str) -> String {
        match target(&self.config) {
            Target::Listener(arn) => format!("{verb}Listener {arn}"),
            Target::Rule(arn) => format!("{verb}Rule {arn}"),
        }
    }

    /// The listener's default actions or the rule's actions.
    fn actions(&self) -> Result<Vec<Action>, String> {
        match target(&self.config) {
            Target::Listener(arn) => {
                let out = self
                    .session
                    .block_on(
                        self.client
                            .describe_listeners()
                            .listener_arns(arn.as_str())
                            .send(),
                    )
                    .map_err(|e| error(&e))?;
                let listener = out.listeners().first().ok_or("no such listener")?;
                Ok(listener.default_actions().to_vec())
            }
            Target::Rule(arn) => {
                let out = self
                    .session
                    .block_on(self.client.describe_rules().rule_arns(arn.as_str()).send())
                    .map_err(|e| error(&e))?;
                let rule = out.rules().first().ok_or("no such rule")?;
                Ok(rule.actions().to_vec())
            }
        }
    }

    /// Writes `actions` back.
    fn write(&self, actions: Vec<Action>) -> Result<(), String> {
        match target(&self.config) {
            Target::Listener(arn) => self
                .session
                .block_on(
                    self.client
                        .modify_listener()
                        .listener_arn(arn.as_str())
                        .set_default_actions(Some(actions))
                        .send(),
                )
                .map(drop)
                .map_err(|e| error(&e)),
            Target::Rule(arn) => self
                .session
                .block_on(
                    self.client
                        .modify_rule()
                        .rule_arn(arn.as_str())
                        .set_actions(Some(actions))
                        .send(),
                )
                .map(drop)
                .map_err(|e| error(&e)),
        }
    }

    /// Reads the actions, sets the forward's weights (`weight` on the canary), writes them.
    fn set(&self, action: &'static str, weight: u8, attempts: u32) -> Result<(), ActuatorError> {
        let command = format!(
            "{} (canary {weight}, baseline {})",
            self.command("Modify"),
            100 - weight
        );
        retrying(action, &command, attempts, || {
            let actions = self.actions()?;
            let actions = weighted(
                actions,
                self.config.canary_target_group.as_str(),
                self.config.baseline_target_group.as_str(),
                weight,
            )?;
            self.write(actions)
        })
    }
}

/// An SDK error in words: AWS's code and message when AWS answered, else the transport's
/// error with its causes (`dispatch failure: … connection refused`).
fn error<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    match e {
        SdkError::ServiceError(service) => {
            let err = service.err();
            format!(
                "{}: {}",
                err.code().unwrap_or("error"),
                err.message().unwrap_or_default()
            )
        }
        _ => crate::aws::error_text(e),
    }
}

/// `actions` with the one `forward` action sending `weight` % to `canary` and the rest to
/// `baseline`; refused when there is no forward, more than one, or one that sends traffic
/// to another target group.
pub fn weighted(
    mut actions: Vec<Action>,
    canary: &str,
    baseline: &str,
    weight: u8,
) -> Result<Vec<Action>, String> {
    let forwards: Vec<usize> = actions
        .iter()
        .enumerate()
        .filter(|(_, a)| a.r#type() == Some(&ActionTypeEnum::Forward))
        .map(|(i, _)| i)
        .collect();
    let [at] = forwards[..] else {
        return Err(format!(
            "{} forward actions where one is needed (forwarding to {baseline} and {canary})",
            forwards.len()
        ));
    };
    let forward = &mut actions[at];
    let mut named: Vec<String> = forward
        .forward_config()
        .map(|c| {
            c.target_groups()
                .iter()
                .filter_map(|t| t.target_group_arn().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    named.extend(forward.target_group_arn().map(str::to_string));
    if let Some(other) = named.iter().find(|a| *a != canary && *a != baseline) {
        return Err(format!(
            "its forward action also sends traffic to {other}, which is neither the canary's nor the baseline's target group"
        ));
    }
    let stickiness = forward
        .forward_config()
        .and_then(|c| c.target_group_stickiness_config())
        .cloned();
    let config = ForwardActionConfig::builder()
        .target_groups(
            TargetGroupTuple::builder()
                .target_group_arn(baseline)
                .weight(i32::from(100 - weight.min(100)))
                .build(),
        )
        .target_groups(
            TargetGroupTuple::builder()
                .target_group_arn(canary)
                .weight(i32::from(weight.min(100)))
                .build(),
        )
        .set_target_group_stickiness_config(stickiness)
        .build();
    forward.target_group_arn = None;
    forward.forward_config = Some(config);
    Ok(actions)
}

impl Traffic for AlbTraffic {
    fn set_weight(&mut self, weight: u8) -> Result<(), ActuatorError> {
        self.set("set-weight", weight, 1)
    }
    fn promote(&mut self) -> Result<(), ActuatorError> {
        self.set("promote", 100, 1)
    }
    fn rollback(&mut self) -> Result<(), ActuatorError> {
        self.set("rollback", 0, self.config.rollback_attempts.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::TargetGroupStickinessConfig;
    use shipgate_judge::HumanDuration;
    use std::time::Duration;

    const TG_CANARY: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-canary/73e2d6bc24d8a067";
    const TG_BASE: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-base/2f1c9e0b8a7d6c54";
    const LISTENER: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2";

    fn weights(actions: &[Action]) -> Vec<(String, i32)> {
        actions
            .iter()
            .filter_map(|a| a.forward_config())
            .flat_map(|c| c.target_groups())
            .map(|t| {
                (
                    t.target_group_arn().unwrap_or_default().to_string(),
                    t.weight().unwrap_or(-1),
                )
            })
            .collect()
    }

    #[test]
    fn a_forward_to_the_baseline_becomes_a_weighted_forward_and_keeps_its_neighbours() {
        let auth = Action::builder()
            .r#type(ActionTypeEnum::AuthenticateOidc)
            .order(1)
            .build();
        let forward = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .order(2)
            .target_group_arn(TG_BASE)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(
                        TargetGroupTuple::builder()
                            .target_group_arn(TG_BASE)
                            .weight(1)
                            .build(),
                    )
                    .target_group_stickiness_config(
                        TargetGroupStickinessConfig::builder()
                            .enabled(true)
                            .duration_seconds(60)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let out = weighted(vec![auth.clone(), forward], TG_CANARY, TG_BASE, 25).expect("weighted");
        assert_eq!(out[0], auth);
        assert_eq!(out[1].target_group_arn(), None);
        assert_eq!(out[1].order(), Some(2));
        assert_eq!(
            weights(&out),
            [(TG_BASE.to_string(), 75), (TG_CANARY.to_string(), 25)]
        );
        let stickiness = out[1]
            .forward_config()
            .and_then(|c| c.target_group_stickiness_config())
            .expect("kept");
        assert_eq!(
            (stickiness.enabled(), stickiness.duration_seconds()),
            (Some(true), Some(60))
        );
    }

    #[test]
    fn a_forward_elsewhere_or_none_is_refused() {
        let elsewhere = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(
                "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/other/1",
            )
            .build();
        let err = weighted(vec![elsewhere], TG_CANARY, TG_BASE, 5).expect_err("elsewhere");
        assert!(
            err.contains("targetgroup/other/1, which is neither"),
            "{err}"
        );
        let fixed = Action::builder()
            .r#type(ActionTypeEnum::FixedResponse)
            .build();
        let err = weighted(vec![fixed], TG_CANARY, TG_BASE, 5).expect_err("none");
        assert!(err.starts_with("0 forward actions"), "{err}");
    }

    #[test]
    fn arns_are_checked_when_parsed_and_by_kind() {
        assert!(ElbArn::parse(LISTENER).is_ok());
        for bad in [
            "",
            "arn:aws:s3:::bucket",
            "arn:aws:elasticloadbalancing:eu-west-1:1234:listener/x",
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/x y",
            "$(id)",
        ] {
            assert!(ElbArn::parse(bad).is_err(), "{bad}");
        }
        let arn = |s: &str| ElbArn::parse(s).expect("arn");
        assert_eq!(
            (arn(LISTENER).region(), arn(LISTENER).resource()),
            ("eu-west-1", "listener")
        );
        let alb = AlbActuator {
            listener_arn: Some(arn(TG_BASE)),
            rule_arn: None,
            canary_target_group: arn(TG_CANARY),
            baseline_target_group: arn(TG_CANARY),
            region: None,
            endpoint_url: Some("localhost:5000".into()),
            profile: None,
            timeout: HumanDuration(Duration::from_secs(10)),
            retries: 3,
            rollback_attempts: 3,
        };
        let keys: Vec<&str> = alb.problems().iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                "alb.listener-arn",
                "alb.canary-target-group",
                "alb.endpoint-url"
            ]
        );
        let ok = AlbActuator {
            listener_arn: Some(arn(LISTENER)),
            baseline_target_group: arn(TG_BASE),
            endpoint_url: None,
            ..alb
        };
        assert_eq!(ok.problems(), []);
        assert_eq!(aws_settings(&ok).region.as_deref(), Some("eu-west-1"));
    }
}

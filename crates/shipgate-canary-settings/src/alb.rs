//! `[canary.alb]`: an AWS Application Load Balancer's listener (or rule) and the canary's
//! and the baseline's target groups, with the checks of their ARNs. The actuator that
//! writes the weights is `shipgate-canary`'s `alb`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use shipgate_judge::HumanDuration;

/// `[canary.alb]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AlbActuator {
    /// The listener whose default actions forward to the two target groups (or
    /// `rule-arn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_arn: Option<ElbArn>,
    /// The listener rule whose actions forward to the two target groups (or
    /// `listener-arn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_arn: Option<ElbArn>,
    /// The canary's target group.
    pub canary_target_group: ElbArn,
    /// The baseline's (stable) target group.
    pub baseline_target_group: ElbArn,
    /// The region (default: the listener's or the rule's ARN's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Another endpoint (a VPC endpoint, a test server); default: `AWS_ENDPOINT_URL`, then
    /// AWS's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    /// The shared profile (default: `AWS_PROFILE`, then `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Per-attempt timeout (default 10s).
    #[serde(default = "default_timeout")]
    pub timeout: HumanDuration,
    /// Retries after throttling or a transient error, with backoff (default 3).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Attempts for a rollback before giving up loudly (default 3).
    #[serde(default = "default_attempts")]
    pub rollback_attempts: u32,
}

fn default_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(10))
}
fn default_retries() -> u32 {
    3
}
fn default_attempts() -> u32 {
    3
}

/// An Elastic Load Balancing ARN, `arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:…`,
/// checked when parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElbArn(String);

impl ElbArn {
    /// Checks `text`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "elasticloadbalancing"
            && crate::aws::is_region(parts[3])
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && !parts[5].is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./:".contains(&b));
        if ok {
            Ok(Self(text.to_string()))
        } else {
            Err(format!(
                "`{}` is not an Elastic Load Balancing ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/…, listener-rule/… or targetgroup/…)",
                text.escape_debug()
            ))
        }
    }

    /// The ARN.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its region.
    pub fn region(&self) -> &str {
        self.0.split(':').nth(3).unwrap_or_default()
    }

    /// Its resource type: `listener`, `listener-rule`, `targetgroup`, `loadbalancer`.
    pub fn resource(&self) -> &str {
        self.0
            .splitn(6, ':')
            .nth(5)
            .and_then(|r| r.split('/').next())
            .unwrap_or_default()
    }
}

impl<'de> Deserialize<'de> for ElbArn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ElbArn::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for ElbArn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl fmt::Display for ElbArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl schemars::JsonSchema for ElbArn {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ElbArn".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_./:-]+$",
            "description": "An Elastic Load Balancing ARN: arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/…, listener-rule/… or targetgroup/…",
        })
    }
}

impl AlbActuator {
    /// Problems the types cannot see, as (key, message): exactly one of `listener-arn` and
    /// `rule-arn`, each ARN of its kind, two different target groups, an http(s) endpoint,
    /// a region, at least one rollback attempt.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        match (&self.listener_arn, &self.rule_arn) {
            (None, None) => problems.push((
                "alb",
                "needs listener-arn (the listener's default actions) or rule-arn (one of its rules)".to_string(),
            )),
            (Some(_), Some(_)) => problems.push((
                "alb.rule-arn",
                "set listener-arn or rule-arn, not both".to_string(),
            )),
            _ => {}
        }
        let kinds = [
            ("alb.listener-arn", self.listener_arn.as_ref(), "listener"),
            ("alb.rule-arn", self.rule_arn.as_ref(), "listener-rule"),
            (
                "alb.canary-target-group",
                Some(&self.canary_target_group),
                "targetgroup",
            ),
            (
                "alb.baseline-target-group",
                Some(&self.baseline_target_group),
                "targetgroup",
            ),
        ];
        for (key, arn, kind) in kinds {
            if let Some(arn) = arn.filter(|a| a.resource() != kind) {
                problems.push((key, format!("`{arn}` is not a {kind} ARN (…:{kind}/…)")));
            }
        }
        if self.canary_target_group == self.baseline_target_group {
            problems.push((
                "alb.canary-target-group",
                "the canary's and the baseline's target groups are the same".to_string(),
            ));
        }
        if let Some(r) = self.region.as_deref().filter(|r| !crate::aws::is_region(r)) {
            problems.push((
                "alb.region",
                format!("`{r}` is not an AWS region (like eu-west-1)"),
            ));
        }
        if let Some(u) = self
            .endpoint_url
            .as_deref()
            .filter(|u| !(u.starts_with("http://") || u.starts_with("https://")))
        {
            problems.push((
                "alb.endpoint-url",
                format!("`{u}` is not an http:// or https:// URL"),
            ));
        }
        if self.rollback_attempts == 0 {
            problems.push(("alb.rollback-attempts", "must be at least 1".to_string()));
        }
        problems
    }
}

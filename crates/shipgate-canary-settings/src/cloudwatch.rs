//! `[canary.cloudwatch]`: the region, endpoint and profile of CloudWatch, how late its data
//! may arrive, and the queries (`[canary.cloudwatch.queries.<ID>]`, metric stats or metric
//! math) that `[[canary.metrics]]` name by ID; with the checks of their shapes. The client
//! is `shipgate-canary`'s `cloudwatch`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shipgate_judge::HumanDuration;
use shipgate_judge::settings::check_template;

/// `[canary.cloudwatch]`: where CloudWatch is and the queries the metrics name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CloudWatchConfig {
    /// The region (default: `AWS_REGION`, then the shared profile's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Another endpoint (a VPC endpoint, a test server); default: `AWS_ENDPOINT_URL`, then
    /// AWS's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    /// The shared profile (default: `AWS_PROFILE`, then `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// How late CloudWatch's data may still arrive: a period is judged only once it ended
    /// this long ago (default 2m).
    #[serde(default = "default_delay")]
    pub delay: HumanDuration,
    /// The metrics' resolution: 60s (standard, the default) or 1s, 5s, 10s, 30s for
    /// high-resolution metrics. The canary's `interval` must be a multiple of it.
    #[serde(default = "default_resolution")]
    pub resolution: HumanDuration,
    /// Per-attempt timeout (default 10s).
    #[serde(default = "default_timeout")]
    pub timeout: HumanDuration,
    /// Retries after throttling or a transient error, with backoff (default 3).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// The queries, by ID (`[a-z][A-Za-z0-9_]*`, as metric math names them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub queries: BTreeMap<String, CloudWatchQuery>,
}

/// `[canary.cloudwatch.queries.<ID>]`: a metric and a statistic, or a metric-math
/// expression over other IDs. Every text may use the query placeholders (`{{version}}`,
/// `{{env}}`…); each is filled in on its own, so a value is always data.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CloudWatchQuery {
    /// The namespace, e.g. `AWS/ApplicationELB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The metric's name, e.g. `RequestCount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    /// The dimensions, name = value, e.g. `{ TargetGroup = "targetgroup/shop-canary/…" }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
    /// A statistic (`Sum`, `Average`, `Maximum`, `Minimum`, `SampleCount`) or an extended
    /// one (`p95`, `p99.9`, `tm90`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat: Option<String>,
    /// A metric-math expression over other queries' IDs, e.g. `100 * errors / requests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

impl Default for CloudWatchConfig {
    fn default() -> Self {
        Self {
            region: None,
            endpoint_url: None,
            profile: None,
            delay: default_delay(),
            resolution: default_resolution(),
            timeout: default_timeout(),
            retries: default_retries(),
            queries: BTreeMap::new(),
        }
    }
}

fn default_delay() -> HumanDuration {
    HumanDuration(Duration::from_secs(120))
}
fn default_resolution() -> HumanDuration {
    HumanDuration(Duration::from_secs(60))
}
fn default_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(10))
}
fn default_retries() -> u32 {
    3
}

/// Whether `id` can name a query in metric math: `[a-z][A-Za-z0-9_]*`, at most 255.
pub fn is_query_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && id.len() <= 255
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `seconds` is a period CloudWatch accepts: 1, 5, 10, 30 or a multiple of 60.
pub fn is_period(seconds: u64) -> bool {
    matches!(seconds, 1 | 5 | 10 | 30) || seconds > 0 && seconds.is_multiple_of(60)
}

/// The IDs an expression names that are queries of `known`.
pub fn references<'a>(
    expression: &'a str,
    known: &BTreeMap<String, CloudWatchQuery>,
) -> Vec<&'a str> {
    expression
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| known.contains_key(*w))
        .collect()
}

impl CloudWatchConfig {
    /// The problems of this section, keyed below `[canary]` (`cloudwatch.queries.<ID>…`);
    /// `interval` is the canary's.
    pub fn problems(&self, interval: Duration) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut push = |key: String, message: String| problems.push((key, message));
        if let Some(r) = self.region.as_deref().filter(|r| !crate::aws::is_region(r)) {
            push(
                "cloudwatch.region".into(),
                format!("`{r}` is not an AWS region (like eu-west-1)"),
            );
        }
        if let Some(u) = self
            .endpoint_url
            .as_deref()
            .filter(|u| !(u.starts_with("http://") || u.starts_with("https://")))
        {
            push(
                "cloudwatch.endpoint-url".into(),
                format!("`{u}` is not an http:// or https:// URL"),
            );
        }
        let resolution = self.resolution.0.as_secs();
        if !matches!(resolution, 1 | 5 | 10 | 30 | 60) || self.resolution.0.subsec_nanos() != 0 {
            push(
                "cloudwatch.resolution".into(),
                format!(
                    "{} is not a CloudWatch resolution: 60s (standard) or 1s, 5s, 10s, 30s (high resolution)",
                    self.resolution
                ),
            );
        } else if interval.subsec_nanos() != 0
            || !interval.as_secs().is_multiple_of(resolution)
            || !is_period(interval.as_secs())
        {
            push(
                "interval".into(),
                format!(
                    "{} is not a CloudWatch period that is a multiple of the resolution {}: each interval is one period (1s, 5s, 10s, 30s or a multiple of 1m)",
                    HumanDuration(interval),
                    self.resolution
                ),
            );
        }
        for (id, q) in &self.queries {
            let key = |k: &str| format!("cloudwatch.queries.{id}{k}");
            if !is_query_id(id) {
                push(
                    key(""),
                    "a query ID is a lower-case letter, then letters, digits or `_` (metric math's rule)".into(),
                );
            }
            match (&q.expression, &q.namespace, &q.metric_name, &q.stat) {
                (Some(e), None, None, None) if q.dimensions.is_empty() => {
                    if references(e, &self.queries).contains(&id.as_str()) {
                        push(key(".expression"), "refers to itself".into());
                    }
                }
                (Some(_), ..) => push(
                    key(".expression"),
                    "an expression query has no namespace, metric-name, dimensions or stat".into(),
                ),
                (None, Some(_), Some(_), Some(_)) => {}
                (None, ..) => push(
                    key(""),
                    "give namespace, metric-name and stat (a metric), or expression (metric math)"
                        .into(),
                ),
            }
            let texts = [&q.namespace, &q.metric_name, &q.stat, &q.expression]
                .into_iter()
                .flatten()
                .chain(q.dimensions.keys())
                .chain(q.dimensions.values());
            for t in texts {
                if let Err(e) = check_template(t) {
                    push(key(""), e.to_string());
                }
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> CloudWatchConfig {
        toml::from_str(text).expect("parses")
    }

    const ALB: &str = r#"
region = "eu-west-1"
[queries.canary_5xx]
namespace = "AWS/ApplicationELB"
metric-name = "HTTPCode_Target_5XX_Count"
dimensions = { LoadBalancer = "app/shop/1", TargetGroup = "targetgroup/shop-{{env}}-canary/2" }
stat = "Sum"
[queries.canary_requests]
namespace = "AWS/ApplicationELB"
metric-name = "RequestCount"
dimensions = { LoadBalancer = "app/shop/1", TargetGroup = "targetgroup/shop-{{env}}-canary/2" }
stat = "Sum"
[queries.canary_rate]
expression = "100 * canary_5xx / canary_requests"
"#;

    #[test]
    fn queries_parse_with_defaults_and_validate() {
        let c = config(ALB);
        assert_eq!(c.delay.0, Duration::from_secs(120));
        assert_eq!(c.resolution.0, Duration::from_secs(60));
        assert_eq!(c.retries, 3);
        assert_eq!(c.problems(Duration::from_secs(60)), Vec::new());
        assert_eq!(
            references("100 * canary_5xx / canary_requests", &c.queries),
            ["canary_5xx", "canary_requests"]
        );
    }

    #[test]
    fn bad_sections_are_named_by_key() {
        let c = config(ALB);
        let keys = |c: &CloudWatchConfig, interval: u64| {
            c.problems(Duration::from_secs(interval))
                .into_iter()
                .map(|(k, _)| k)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys(&c, 30),
            ["interval"],
            "30s is finer than the resolution"
        );
        assert_eq!(keys(&c, 90), ["interval"], "not a multiple of a minute");
        let mut high = c.clone();
        high.resolution = HumanDuration(Duration::from_secs(1));
        assert_eq!(keys(&high, 5), Vec::<String>::new());
        assert_eq!(keys(&high, 3), ["interval"], "3s is no CloudWatch period");
        let mut bad = c.clone();
        bad.region = Some("Ireland".into());
        bad.queries.insert(
            "Bad-ID".into(),
            CloudWatchQuery {
                expression: Some("1".into()),
                ..CloudWatchQuery::default()
            },
        );
        bad.queries.insert(
            "half".into(),
            CloudWatchQuery {
                namespace: Some("AWS/EC2".into()),
                stat: Some("{{verison}}".into()),
                ..CloudWatchQuery::default()
            },
        );
        assert_eq!(
            keys(&bad, 60),
            [
                "cloudwatch.region",
                "cloudwatch.queries.Bad-ID",
                "cloudwatch.queries.half",
                "cloudwatch.queries.half"
            ]
        );
        assert!(
            toml::from_str::<CloudWatchConfig>("[queries.x]\nmetric = \"m\"\n").is_err(),
            "unknown keys are refused"
        );
    }

    #[test]
    fn ids_and_periods_follow_cloudwatch() {
        assert!(is_query_id("canary_5xx") && is_query_id("m1"));
        assert!(!is_query_id("5xx") && !is_query_id("Canary") && !is_query_id("a-b"));
        for ok in [1, 5, 10, 30, 60, 120, 300] {
            assert!(is_period(ok), "{ok}");
        }
        for bad in [0, 2, 15, 45, 90] {
            assert!(!is_period(bad), "{bad}");
        }
    }
}

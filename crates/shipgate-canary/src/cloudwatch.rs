//! The CloudWatch provider: `GetMetricData` with metric-stat queries (namespace, metric
//! name, dimensions, a statistic such as `Sum` or an extended one such as `p95`) and
//! metric-math expressions, named in `[canary.cloudwatch.queries.<ID>]` and referenced by
//! their ID from `[[canary.metrics]]`; and `DescribeAlarms` for the alarm gates. Through the
//! official SDK on the session of [`crate::aws`]; no request is signed by hand.
//!
//! Every interval is one CloudWatch period: the canary's `interval` is the query's period,
//! and the window judged is the last one that ended at least `delay` ago (CloudWatch
//! publishes a minute's data late), so an incomplete period is never judged. A window with
//! no datapoint is no data, never a zero; each window is judged once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatch::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, StateValue};
use serde::Serialize;
use shipgate_judge::settings::render;

use crate::aws::{AwsSession, AwsSettings};
use crate::provider::ProviderError;
use crate::sampling::Metrics;

pub use shipgate_canary_settings::cloudwatch::{
    CloudWatchConfig, CloudWatchQuery, is_period, is_query_id, references,
};

/// One alarm as CloudWatch reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlarmState {
    /// The alarm's name.
    pub name: String,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
    /// CloudWatch's reason for the state.
    pub reason: String,
}

/// A CloudWatch client on an AWS session, with the run's placeholder values.
pub struct CloudWatch {
    session: AwsSession,
    client: aws_sdk_cloudwatch::Client,
    config: CloudWatchConfig,
    vars: Vec<(String, String)>,
    interval: Duration,
    /// The end (Unix seconds) of the last window each query answered for.
    answered: Mutex<BTreeMap<String, i64>>,
}

impl std::fmt::Debug for CloudWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudWatch")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// The AWS session settings of `[canary.cloudwatch]`.
pub fn aws_settings(config: &CloudWatchConfig) -> AwsSettings {
    AwsSettings {
        region: config.region.clone(),
        endpoint_url: config.endpoint_url.clone(),
        profile: config.profile.clone(),
        timeout: config.timeout.0,
        retries: config.retries,
    }
}

/// Placeholder values, owned.
pub(crate) fn owned(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The IAM actions shipgate's CloudWatch calls need.
pub use crate::aws::CLOUDWATCH_IAM_ACTIONS as IAM_ACTIONS;

impl CloudWatch {
    /// A client for `config`; `vars` fill the queries' placeholders, `interval` is the
    /// canary's (each window's length and the queries' period).
    pub fn new(
        config: &CloudWatchConfig,
        vars: &[(&str, &str)],
        interval: Duration,
    ) -> Result<Self, ProviderError> {
        let session = AwsSession::load(&aws_settings(config)).map_err(ProviderError::AwsSetup)?;
        let client = aws_sdk_cloudwatch::Client::new(session.config());
        Ok(Self {
            session,
            client,
            config: config.clone(),
            vars: owned(vars),
            interval,
            answered: Mutex::new(BTreeMap::new()),
        })
    }

    fn render(&self, template: &str) -> String {
        let vars: Vec<(&str, &str)> = self
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        render(template, &vars)
    }

    /// Where CloudWatch is, for messages.
    fn endpoint(&self) -> String {
        self.config
            .endpoint_url
            .clone()
            .or_else(|| self.session.config().endpoint_url().map(str::to_string))
            .unwrap_or_else(|| format!("monitoring.{}.amazonaws.com", self.session.region()))
    }

    /// The request's queries for `id`: its own (returned) and those it refers to.
    fn queries(&self, id: &str, period: i32) -> Result<Vec<MetricDataQuery>, ProviderError> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut todo = vec![(id.to_string(), true)];
        while let Some((qid, returned)) = todo.pop() {
            if !seen.insert(qid.clone()) {
                continue;
            }
            let Some(q) = self.config.queries.get(&qid) else {
                return Err(ProviderError::Query {
                    query: id.into(),
                    message: format!(
                        "no [canary.cloudwatch.queries.{qid}]; known: {}",
                        self.config
                            .queries
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            };
            let mut query = MetricDataQuery::builder()
                .id(qid.clone())
                .return_data(returned);
            if let Some(e) = &q.expression {
                let rendered = self.render(e);
                for r in references(e, &self.config.queries) {
                    todo.push((r.to_string(), false));
                }
                query = query.expression(rendered);
            } else {
                let mut metric = Metric::builder()
                    .namespace(self.render(q.namespace.as_deref().unwrap_or_default()))
                    .metric_name(self.render(q.metric_name.as_deref().unwrap_or_default()));
                for (name, value) in &q.dimensions {
                    metric = metric.dimensions(
                        Dimension::builder()
                            .name(self.render(name))
                            .value(self.render(value))
                            .build(),
                    );
                }
                query = query.metric_stat(
                    MetricStat::builder()
                        .metric(metric.build())
                        .period(period)
                        .stat(self.render(q.stat.as_deref().unwrap_or_default()))
                        .build(),
                );
            }
            out.push(query.build());
        }
        Ok(out)
    }

    /// The last window `[start, end)` of one interval that ended `delay` ago, aligned to the
    /// interval, in Unix seconds.
    fn window(&self) -> (i64, i64) {
        let step = self.interval.as_secs().max(1) as i64;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_sub(self.config.delay.0)
            .as_secs() as i64;
        let end = now - now.rem_euclid(step);
        (end - step, end)
    }

    /// The value of query `id` over `[start, end)`: None when CloudWatch has no datapoint.
    fn fetch(&self, id: &str, start: i64, end: i64) -> Result<Option<f64>, ProviderError> {
        let queries = self.queries(id, (end - start) as i32)?;
        let what = format!("query `{id}`");
        let call = self
            .client
            .get_metric_data()
            .set_metric_data_queries(Some(queries))
            .start_time(aws_smithy_types::DateTime::from_secs(start))
            .end_time(aws_smithy_types::DateTime::from_secs(end));
        let out = self
            .session
            .block_on(call.send())
            .map_err(|e| self.error(e, &what, "cloudwatch:GetMetricData"))?;
        if let Some(m) = out.messages().first() {
            return Err(ProviderError::Query {
                query: id.into(),
                message: format!(
                    "{}: {}",
                    m.code().unwrap_or("error"),
                    m.value().unwrap_or_default()
                ),
            });
        }
        let Some(result) = out
            .metric_data_results()
            .iter()
            .find(|r| r.id() == Some(id))
        else {
            return Ok(None);
        };
        if let Some(m) = result.messages().first() {
            return Err(ProviderError::Query {
                query: id.into(),
                message: format!(
                    "{}: {}",
                    m.code().unwrap_or("error"),
                    m.value().unwrap_or_default()
                ),
            });
        }
        let inside: Vec<f64> = result
            .timestamps()
            .iter()
            .zip(result.values())
            .filter(|(t, _)| (start..end).contains(&t.secs()))
            .map(|(_, v)| *v)
            .collect();
        match inside.as_slice() {
            [] => Ok(None),
            [v] => Ok(Some(*v)),
            more => Err(ProviderError::Shape {
                query: id.into(),
                message: format!(
                    "{} datapoints for one period of {}s",
                    more.len(),
                    end - start
                ),
            }),
        }
    }

    /// Turns an SDK error into one naming `what` and AWS's own message.
    fn error<E, R>(&self, e: SdkError<E, R>, what: &str, action: &str) -> ProviderError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let attempts = self.config.retries + 1;
        match &e {
            SdkError::ServiceError(service) => {
                let err = service.err();
                let code = err.code().unwrap_or("error").to_string();
                let message = err.message().unwrap_or_default().to_string();
                if matches!(
                    code.as_str(),
                    "AccessDenied"
                        | "AccessDeniedException"
                        | "UnauthorizedOperation"
                        | "NotAuthorized"
                ) {
                    ProviderError::AccessDenied {
                        action: action.into(),
                        what: what.into(),
                        message: format!("{code}: {message}"),
                    }
                } else if matches!(
                    code.as_str(),
                    "Throttling"
                        | "ThrottlingException"
                        | "ThrottledException"
                        | "RequestLimitExceeded"
                        | "TooManyRequestsException"
                ) {
                    ProviderError::Throttled {
                        what: what.into(),
                        attempts,
                        message: format!("{code}: {message}"),
                    }
                } else if matches!(
                    code.as_str(),
                    "InvalidClientTokenId"
                        | "UnrecognizedClientException"
                        | "SignatureDoesNotMatch"
                        | "ExpiredToken"
                        | "ExpiredTokenException"
                ) {
                    ProviderError::AwsCredentials {
                        message: format!("CloudWatch refused them for {what}: {code}: {message}"),
                    }
                } else {
                    ProviderError::Aws {
                        what: what.into(),
                        code,
                        message,
                    }
                }
            }
            _ => {
                let text = crate::aws::error_text(&e);
                if text.contains("credentials") || text.contains("Credentials") {
                    ProviderError::AwsCredentials { message: text }
                } else {
                    ProviderError::AwsUnreachable {
                        endpoint: self.endpoint(),
                        attempts,
                        message: text,
                    }
                }
            }
        }
    }

    /// The states of the alarms `names` and of those whose name starts with `prefix`. A
    /// name CloudWatch does not know, or a prefix no alarm has, is an error: a gate on
    /// nothing would always pass.
    pub fn alarm_states(
        &self,
        names: &[String],
        prefix: Option<&str>,
    ) -> Result<Vec<AlarmState>, ProviderError> {
        let names: Vec<String> = names.iter().map(|n| self.render(n)).collect();
        let prefix = prefix.map(|p| self.render(p));
        let mut states = Vec::new();
        for chunk in names.chunks(100) {
            states.extend(self.describe(Some(chunk), None)?);
        }
        let missing: Vec<&String> = names
            .iter()
            .filter(|n| !states.iter().any(|s| &s.name == *n))
            .collect();
        if !missing.is_empty() {
            return Err(ProviderError::NoSuchAlarm {
                what: missing
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        if let Some(p) = &prefix {
            let found = self.describe(None, Some(p))?;
            if found.is_empty() {
                return Err(ProviderError::NoSuchAlarm {
                    what: format!("any starting with `{p}`"),
                });
            }
            for s in found {
                if !states.iter().any(|k| k.name == s.name) {
                    states.push(s);
                }
            }
        }
        Ok(states)
    }

    fn describe(
        &self,
        names: Option<&[String]>,
        prefix: Option<&str>,
    ) -> Result<Vec<AlarmState>, ProviderError> {
        let what = match (names, prefix) {
            (Some(n), _) => format!("alarms {}", n.join(", ")),
            (None, Some(p)) => format!("alarms starting with `{p}`"),
            (None, None) => "alarms".into(),
        };
        let mut states = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let call = self
                .client
                .describe_alarms()
                .set_alarm_names(names.map(<[String]>::to_vec))
                .set_alarm_name_prefix(prefix.map(str::to_string))
                .set_next_token(token.take());
            let out = self
                .session
                .block_on(call.send())
                .map_err(|e| self.error(e, &what, "cloudwatch:DescribeAlarms"))?;
            let state = |v: Option<&StateValue>| {
                v.map_or("INSUFFICIENT_DATA".to_string(), |v| v.as_str().to_string())
            };
            for a in out.metric_alarms() {
                states.push(AlarmState {
                    name: a.alarm_name().unwrap_or_default().to_string(),
                    state: state(a.state_value()),
                    reason: a.state_reason().unwrap_or_default().to_string(),
                });
            }
            for a in out.composite_alarms() {
                states.push(AlarmState {
                    name: a.alarm_name().unwrap_or_default().to_string(),
                    state: state(a.state_value()),
                    reason: a.state_reason().unwrap_or_default().to_string(),
                });
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(states),
            }
        }
    }
}

impl Metrics for CloudWatch {
    fn check(&self, query: &str) -> Result<(), ProviderError> {
        let (start, end) = self.window();
        self.fetch(query, start, end).map(|_| ())
    }

    fn value(&self, query: &str) -> Result<Option<f64>, ProviderError> {
        let (start, end) = self.window();
        let last = self
            .answered
            .lock()
            .map(|m| m.get(query).copied())
            .unwrap_or_default();
        if last.is_some_and(|l| l >= end) {
            // No new complete period since the last judgement: no data, never the same
            // period twice.
            return Ok(None);
        }
        let value = self.fetch(query, start, end)?;
        if let Ok(mut m) = self.answered.lock() {
            m.insert(query.to_string(), end);
        }
        Ok(value)
    }

    fn histogram(&self, query: &str) -> Result<Option<shipgate_judge::Histogram>, ProviderError> {
        Err(ProviderError::Query {
            query: query.into(),
            message: "CloudWatch has no histograms; give a latency metric a `value` query with a percentile statistic such as p95".into(),
        })
    }
}

//! The alarm gates, AWS CodeDeploy style: CloudWatch alarms (by name or name prefix) and
//! Prometheus alerts (a query over `ALERTS{alertstate="firing"}`) are read every interval
//! of a canary; any alarm in `ALARM` or alert firing fails the canary at once. Reading is
//! I/O ([`AlarmReader`]); what a reading means is [`judge`], a function of data.

use serde::Serialize;

use crate::cloudwatch::{AlarmState, CloudWatch, owned};
use crate::provider::{Prometheus, ProviderError};

pub use shipgate_canary_settings::alarms::{AlarmsConfig, InsufficientData, problems};

/// A Prometheus alert that fires: its `alertname` and its other labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FiringAlert {
    /// `alertname`.
    pub name: String,
    /// The other labels, `k="v"` joined by commas.
    pub labels: String,
}

/// One reading of every alarm of a gate.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AlarmReading {
    /// The CloudWatch alarms, by name.
    pub cloudwatch: Vec<AlarmState>,
    /// The Prometheus alerts that fire.
    pub firing_alerts: Vec<FiringAlert>,
}

/// What a reading means.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
pub struct AlarmCheck {
    /// Alarms in `ALARM` (and `INSUFFICIENT_DATA` when it counts) and firing alerts, in words.
    pub firing: Vec<String>,
    /// Alarms in `INSUFFICIENT_DATA` that do not count, by name.
    pub insufficient_data: Vec<String>,
    /// Alarms in `OK`, by name.
    pub ok: Vec<String>,
}

impl AlarmCheck {
    /// One line: what fires, or how many are watched and which lack data.
    pub fn describe(&self) -> String {
        let mut text = if self.firing.is_empty() {
            format!("{} alarm(s) OK", self.ok.len())
        } else {
            self.firing.join("; ")
        };
        if !self.insufficient_data.is_empty() {
            text.push_str(&format!(
                ", INSUFFICIENT_DATA (not an alarm): {}",
                self.insufficient_data.join(", ")
            ));
        }
        text
    }
}

/// What `reading` means under `insufficient`: every alarm in `ALARM` and every firing alert
/// is named in `firing`.
pub fn judge(reading: &AlarmReading, insufficient: InsufficientData) -> AlarmCheck {
    let mut check = AlarmCheck::default();
    for a in &reading.cloudwatch {
        let why = if a.reason.is_empty() {
            String::new()
        } else {
            format!(" ({})", a.reason)
        };
        match (a.state.as_str(), insufficient) {
            ("OK", _) => check.ok.push(a.name.clone()),
            ("INSUFFICIENT_DATA", InsufficientData::Ok) => {
                check.insufficient_data.push(a.name.clone());
            }
            (state, _) => check
                .firing
                .push(format!("CloudWatch alarm `{}` is in {state}{why}", a.name)),
        }
    }
    for alert in &reading.firing_alerts {
        let labels = if alert.labels.is_empty() {
            String::new()
        } else {
            format!(" {{{}}}", alert.labels)
        };
        check.firing.push(format!(
            "Prometheus alert `{}`{labels} is firing",
            alert.name
        ));
    }
    check
}

/// Reads the alarms of a gate every time it is asked.
pub trait AlarmSource {
    /// One reading, judged.
    fn read(&self) -> Result<AlarmCheck, ProviderError>;
}

/// The reader of `[canary.alarms]` (or of a promotion's `alarms` gate): CloudWatch and
/// Prometheus clients with what to ask them.
pub struct AlarmReader<'a> {
    /// The gate.
    pub config: AlarmsConfig,
    /// CloudWatch, needed when the gate names CloudWatch alarms.
    pub cloudwatch: Option<&'a CloudWatch>,
    /// Prometheus, needed when the gate has a `prometheus` query.
    pub prometheus: Option<&'a Prometheus>,
    /// The placeholder values for the alert query.
    pub vars: Vec<(String, String)>,
}

impl AlarmReader<'_> {
    /// Every alarm's state now, unjudged.
    pub fn reading(&self) -> Result<AlarmReading, ProviderError> {
        let mut reading = AlarmReading::default();
        if !self.config.cloudwatch.is_empty() || self.config.cloudwatch_prefix.is_some() {
            let Some(cw) = self.cloudwatch else {
                return Err(ProviderError::NoSuchAlarm {
                    what: "CloudWatch alarms are named but [canary.cloudwatch] is not configured"
                        .into(),
                });
            };
            reading.cloudwatch = cw.alarm_states(
                &self.config.cloudwatch,
                self.config.cloudwatch_prefix.as_deref(),
            )?;
        }
        if let Some(query) = &self.config.prometheus {
            let Some(p) = self.prometheus else {
                return Err(ProviderError::Query {
                    query: query.clone(),
                    message: "a Prometheus alert query needs [canary.prometheus]".into(),
                });
            };
            let vars: Vec<(&str, &str)> = self
                .vars
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let rendered = shipgate_judge::settings::render(query, &vars);
            for s in p.instant(&rendered, None)? {
                if s.value == 0.0 {
                    continue;
                }
                let name = s
                    .labels
                    .get("alertname")
                    .cloned()
                    .unwrap_or_else(|| rendered.clone());
                let labels = s
                    .labels
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "alertname" | "__name__" | "alertstate"))
                    .map(|(k, v)| format!("{k}=\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(",");
                reading.firing_alerts.push(FiringAlert { name, labels });
            }
        }
        Ok(reading)
    }
}

impl AlarmSource for AlarmReader<'_> {
    fn read(&self) -> Result<AlarmCheck, ProviderError> {
        Ok(judge(&self.reading()?, self.config.insufficient_data))
    }
}

/// Reads and judges `gate` now with the clients `settings` (an environment's effective
/// `[canary]`) configures: `[canary.cloudwatch]` (when absent, CloudWatch as the AWS
/// chain finds it: `AWS_REGION`, `AWS_ENDPOINT_URL`…) and `[canary.prometheus]`. `env`
/// reads credentials' variables; `vars` fill the placeholders. For promotions' `alarms`
/// gate.
pub fn read_now(
    settings: &crate::config::CanarySettings,
    gate: &AlarmsConfig,
    vars: &[(&str, &str)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<AlarmCheck, ProviderError> {
    let cloudwatch = if gate.cloudwatch.is_empty() && gate.cloudwatch_prefix.is_none() {
        None
    } else {
        let config = settings.cloudwatch.clone().unwrap_or_default();
        Some(CloudWatch::new(
            &config,
            vars,
            std::time::Duration::from_secs(60),
        )?)
    };
    let prometheus = match (&gate.prometheus, &settings.prometheus) {
        (Some(_), Some(p)) => Some(Prometheus::new(p, env)?),
        _ => None,
    };
    AlarmReader {
        config: gate.clone(),
        cloudwatch: cloudwatch.as_ref(),
        prometheus: prometheus.as_ref(),
        vars: owned(vars),
    }
    .read()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(name: &str, state: &str) -> AlarmState {
        AlarmState {
            name: name.into(),
            state: state.into(),
            reason: String::new(),
        }
    }

    fn check(states: &[(&str, &str)], alerts: &[&str], policy: InsufficientData) -> AlarmCheck {
        let reading = AlarmReading {
            cloudwatch: states.iter().map(|(n, s)| alarm(n, s)).collect(),
            firing_alerts: alerts
                .iter()
                .map(|a| FiringAlert {
                    name: a.to_string(),
                    labels: "severity=\"critical\"".into(),
                })
                .collect(),
        };
        judge(&reading, policy)
    }

    #[test]
    fn an_alarm_or_a_firing_alert_fails_and_insufficient_data_is_configurable() {
        let quiet = check(
            &[("cpu", "OK"), ("mem", "INSUFFICIENT_DATA")],
            &[],
            InsufficientData::Ok,
        );
        assert!(quiet.firing.is_empty());
        assert_eq!(
            quiet.describe(),
            "1 alarm(s) OK, INSUFFICIENT_DATA (not an alarm): mem"
        );
        let strict = check(
            &[("mem", "INSUFFICIENT_DATA")],
            &[],
            InsufficientData::Alarm,
        );
        assert_eq!(
            strict.firing,
            ["CloudWatch alarm `mem` is in INSUFFICIENT_DATA"]
        );
        let fire = check(
            &[("cpu", "ALARM")],
            &["HighErrorRate"],
            InsufficientData::Ok,
        );
        assert_eq!(
            fire.describe(),
            "CloudWatch alarm `cpu` is in ALARM; Prometheus alert `HighErrorRate` {severity=\"critical\"} is firing"
        );
    }

    #[test]
    fn a_gate_on_nothing_is_refused() {
        let empty = AlarmsConfig::default();
        assert_eq!(problems(&empty, "alarms").len(), 1);
        let typo = AlarmsConfig {
            cloudwatch: vec!["shop-{{evn}}-cpu".into()],
            ..AlarmsConfig::default()
        };
        assert!(
            problems(&typo, "alarms")[0]
                .1
                .contains("did you mean `{{env}}`")
        );
    }
}

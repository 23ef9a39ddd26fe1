//! The promotion `alarms` gate's edge: reads the target environment's alarms (CloudWatch
//! alarms, Prometheus alerts) through `shipgate-canary`'s providers and hands the gate, which
//! is pure, what they said as a fact.

use shipgate_canary::alarms::{problems, read_now};
use shipgate_promote::{AlarmFact, PromoteSettings};
use shipgate_stdx::names::{EnvName, Version};

/// The alarms of promotions into `env` now: not configured, read, or unreadable (which the
/// gate refuses). `env` and `version` are typed, so only checked names reach the queries
/// they are rendered into.
pub fn fact(
    canary: &shipgate_canary::CanarySettings,
    promote: &PromoteSettings,
    env: &EnvName,
    version: &Version,
) -> AlarmFact {
    let (env, version) = (env.as_str(), version.as_str());
    let Some(config) = promote.for_env(env).alarms else {
        return AlarmFact::NotConfigured;
    };
    let problems = problems(&config, &format!("promote.env.{env}.alarms"));
    if let Some((key, message)) = problems.first() {
        return AlarmFact::Unreadable(format!("{key}: {message}"));
    }
    let settings = canary.clients_for_env(env);
    let vars = [("env", env), ("version", version)];
    match read_now(&settings, &config, &vars, &|name| std::env::var(name).ok()) {
        Ok(check) => AlarmFact::Read {
            watched: check.describe(),
            firing: check.firing,
        },
        Err(e) => AlarmFact::Unreadable(match e.hint() {
            Some(h) => format!("{e} ({h})"),
            None => e.to_string(),
        }),
    }
}

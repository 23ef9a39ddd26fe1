//! The promotion `alarms` gate's edge: reads the target environment's alarms (CloudWatch
//! alarms, Prometheus alerts) through `shipgate-canary`'s providers and hands the gate,
//! which is pure, what they said as a fact. The workflows see the [`Alarms`] port; a test
//! gives them a fake that records what it was asked.

use shipgate_canary::alarms::{problems, read_now};
use shipgate_promote::{AlarmFact, PromoteSettings};
use shipgate_stdx::names::{EnvName, Version};

/// Reads an environment's alarms for a promotion.
pub trait Alarms {
    /// The alarms of promotions of `version` into `env` now: not configured, read, or
    /// unreadable (which the gate refuses). The names are typed: only checked names reach
    /// the queries they are rendered into.
    fn fact(&self, env: &EnvName, version: &Version) -> AlarmFact;
}

/// The alarms `[promote.env.<env>] alarms` names, read through `[canary]`'s clients.
pub struct ProviderAlarms<'a> {
    pub canary: &'a shipgate_canary::CanarySettings,
    pub promote: &'a PromoteSettings,
}

impl Alarms for ProviderAlarms<'_> {
    fn fact(&self, env: &EnvName, version: &Version) -> AlarmFact {
        let (env, version) = (env.as_str(), version.as_str());
        let Some(config) = self.promote.for_env(env).alarms else {
            return AlarmFact::NotConfigured;
        };
        let problems = problems(&config, &format!("promote.env.{env}.alarms"));
        if let Some((key, message)) = problems.first() {
            return AlarmFact::Unreadable(format!("{key}: {message}"));
        }
        let settings = self.canary.clients_for_env(env);
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
}

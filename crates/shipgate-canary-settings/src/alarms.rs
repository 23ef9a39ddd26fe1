//! `[canary.alarms]`: the alarms and alerts that stop a canary at once (the type is
//! `shipgate-stdx`'s, shared with `[promote.env.<ENV>] alarms`), and the checks of a
//! section. Reading and judging them is `shipgate-canary`'s `alarms`.

pub use shipgate_stdx::alarms::{AlarmsConfig, InsufficientData};

/// The problems of an alarms section, keyed `key`.
pub fn problems(config: &AlarmsConfig, key: &str) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if config.is_empty() {
        problems.push((
            key.to_string(),
            "names no alarm: give cloudwatch = [names], cloudwatch-prefix or prometheus".into(),
        ));
    }
    let texts = config
        .cloudwatch
        .iter()
        .chain(&config.cloudwatch_prefix)
        .chain(&config.prometheus);
    for t in texts {
        if t.trim().is_empty() {
            problems.push((key.to_string(), "an empty alarm name or query".into()));
        } else if let Err(e) = shipgate_judge::settings::check_template(t) {
            problems.push((key.to_string(), e.to_string()));
        }
    }
    problems
}

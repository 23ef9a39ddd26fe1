//! Recordings: the JSON file `canary run --record FILE` writes (the settings and every
//! interval's measurements) and the offline replay of the judge over it.

use serde::{Deserialize, Serialize};

use crate::judge::{Judge, Report, Verdict};
use crate::sample::Observation;
use crate::settings::{ConfigProblem, Gates, OnInconclusive};

/// The `format` value of the current recording format. Version 2 added per-pod
/// measurements (`by_pod`, optional); version 1 files are still read.
pub const FORMAT: &str = "shipgate-canary-recording/2";

/// Earlier formats this version reads.
pub const READS: [&str; 2] = ["shipgate-canary-recording/1", FORMAT];

/// A recorded canary run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    /// Always [`FORMAT`].
    pub format: String,
    /// The environment, e.g. `prod`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// The canary's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The baseline's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_version: Option<String>,
    /// When the run started (RFC 3339), for people; the judge ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// The gates the run used (the judge's and the rollout's part of `[canary]`; the
    /// provider and the actuator are not recorded).
    pub settings: Gates,
    /// Every judged interval, in order.
    pub intervals: Vec<RecordedInterval>,
}

/// One judged interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedInterval {
    /// Seconds since the start of the run at the end of the interval.
    pub t: f64,
    /// The canary's traffic weight (percent) during the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u8>,
    /// Measurements by metric name.
    pub metrics: Observation,
}

/// Why a recording could not be read; `line` and `column` are 1-based.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct RecordingError {
    /// Line of the problem.
    pub line: usize,
    /// Column of the problem.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl Recording {
    /// Parses and checks a recording (format tag, times increasing).
    pub fn from_json(text: &str) -> Result<Self, RecordingError> {
        let recording: Recording = serde_json::from_str(text).map_err(|e| {
            let message = match e.classify() {
                serde_json::error::Category::Eof => {
                    format!("the file ends too early (truncated?): {e}")
                }
                _ => e.to_string(),
            };
            // serde_json appends " at line L column C"; keep the message short.
            let message = match message.rfind(" at line ") {
                Some(i) => message[..i].to_string(),
                None => message,
            };
            RecordingError {
                line: e.line(),
                column: e.column().max(1),
                message,
            }
        })?;
        let at = |needle: &str| shipgate_stdx::text::line_col(text, text.find(needle).unwrap_or(0));
        // Versions and the environment reach commands, queries and file names on replay:
        // checked here, where they enter from the file.
        for (key, value, check) in [
            (
                "env",
                &recording.env,
                shipgate_stdx::names::check_env as fn(&str) -> _,
            ),
            (
                "version",
                &recording.version,
                shipgate_stdx::names::check_version,
            ),
            (
                "baseline_version",
                &recording.baseline_version,
                shipgate_stdx::names::check_version,
            ),
        ] {
            if let Some(Err(e)) = value.as_deref().map(check) {
                let (line, column) = at(&format!("\"{key}\""));
                return Err(RecordingError {
                    line,
                    column,
                    message: format!("{key}: {e}"),
                });
            }
        }
        if !READS.contains(&recording.format.as_str()) {
            let (line, column) = at("\"format\"");
            return Err(RecordingError {
                line,
                column,
                message: format!(
                    "format `{}` is not one of `{}`",
                    recording.format,
                    READS.join("`, `")
                ),
            });
        }
        for (i, w) in recording.intervals.windows(2).enumerate() {
            if w[1].t.partial_cmp(&w[0].t) != Some(std::cmp::Ordering::Greater) {
                let (line, column) = at("\"intervals\"");
                return Err(RecordingError {
                    line,
                    column,
                    message: format!(
                        "intervals[{}].t = {} does not come after {}",
                        i + 1,
                        w[1].t,
                        w[0].t
                    ),
                });
            }
        }
        Ok(recording)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        // A Recording holds only strings, numbers (non-finite ones as strings) and maps with
        // string keys, which always serialize.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// When the judge decided, in a replay.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DecisionPoint {
    /// 1-based index of the interval.
    pub interval: u64,
    /// Its time, seconds since the start.
    pub t: f64,
}

/// What the judge decides on a recording.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ReplayOutcome {
    /// `fail` at the first failing interval; otherwise the verdict after the last interval
    /// (`continue` there means inconclusive: never a pass).
    pub verdict: Verdict,
    /// In words.
    pub rule: String,
    /// Where a `fail` was decided.
    pub decided_at: Option<DecisionPoint>,
    /// Intervals judged.
    pub intervals_judged: u64,
    /// The overall verdict after each judged interval.
    pub timeline: Vec<(f64, Verdict)>,
    /// The judge's last report, with the evidence.
    pub report: Option<Report>,
}

/// Runs the judge over recorded intervals with `settings` (the recorded ones, or others to
/// tune the gates), stopping at the first `fail`.
pub fn replay(
    settings: &Gates,
    intervals: &[RecordedInterval],
) -> Result<ReplayOutcome, Vec<ConfigProblem>> {
    let mut judge = Judge::new(&settings.judge)?;
    let mut timeline = Vec::with_capacity(intervals.len());
    let mut last = None;
    for (i, interval) in intervals.iter().enumerate() {
        let report = judge.observe(&interval.metrics);
        timeline.push((interval.t, report.verdict));
        if report.verdict == Verdict::Fail {
            return Ok(ReplayOutcome {
                verdict: Verdict::Fail,
                rule: report.rule.clone(),
                decided_at: Some(DecisionPoint {
                    interval: i as u64 + 1,
                    t: interval.t,
                }),
                intervals_judged: i as u64 + 1,
                timeline,
                report: Some(report),
            });
        }
        last = Some(report);
    }
    let (verdict, rule) = match &last {
        None => (
            Verdict::Continue,
            "inconclusive: the recording has no intervals".to_string(),
        ),
        Some(r) if r.verdict == Verdict::Continue => {
            let action = match settings.rollout.on_inconclusive {
                OnInconclusive::Rollback => "rollback",
                OnInconclusive::Pause => "pause",
            };
            (
                Verdict::Continue,
                format!(
                    "inconclusive at the end of the recording ({}); on-inconclusive = {action}",
                    r.rule
                ),
            )
        }
        Some(r) => (r.verdict, r.rule.clone()),
    };
    Ok(ReplayOutcome {
        verdict,
        rule,
        decided_at: None,
        intervals_judged: intervals.len() as u64,
        timeline,
        report: last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recording(errors: &[f64]) -> Recording {
        crate::testing::error_rate(errors, None, &vec![10; errors.len()])
    }

    #[test]
    fn hostile_versions_and_environments_are_refused_at_their_line() {
        for (key, value) in [
            ("version", "1.4.0;touch /tmp/x"),
            ("baseline_version", "$(id)"),
            ("version", "`id`"),
            ("env", "prod\nrm -rf"),
            ("env", "../../etc"),
            ("baseline_version", "a b"),
        ] {
            let mut r = recording(&[0.01]);
            match key {
                "env" => r.env = Some(value.into()),
                "version" => r.version = Some(value.into()),
                _ => r.baseline_version = Some(value.into()),
            }
            let text = r.to_json();
            let err = Recording::from_json(&text).expect_err(value);
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with(&format!("\"{key}\"")))
                .expect("key present")
                + 1;
            assert_eq!(err.line, line, "{key} {value:?}: {err}");
            assert!(err.message.starts_with(&format!("{key}: `")), "{err}");
            assert!(err.message.contains("is not a valid"), "{err}");
        }
    }

    #[test]
    fn recordings_round_trip() {
        let r = recording(&[5.0, 6.0]);
        assert_eq!(Recording::from_json(&r.to_json()), Ok(r));
    }

    #[test]
    fn a_truncated_file_names_the_position() {
        let json = recording(&[5.0, 6.0]).to_json();
        let cut = &json[..json.len() / 2];
        let err = Recording::from_json(cut).expect_err("truncated");
        assert!(err.message.starts_with("the file ends too early"), "{err}");
        assert_eq!(err.line, cut.lines().count());
        let err = Recording::from_json("{\"format\": 3}").expect_err("bad type");
        assert_eq!((err.line, err.column), (1, 12), "{err}");
    }

    #[test]
    fn the_format_and_the_times_are_checked() {
        let mut r = recording(&[5.0]);
        r.format = "other/1".into();
        let err = Recording::from_json(&r.to_json()).expect_err("format");
        assert_eq!(err.line, 2);
        assert!(err.message.contains(
            "is not one of `shipgate-canary-recording/1`, `shipgate-canary-recording/2`"
        ));
        let mut r = recording(&[5.0, 5.0]);
        r.intervals[1].t = 10.0;
        let err = Recording::from_json(&r.to_json()).expect_err("times");
        assert!(
            err.message
                .contains("intervals[1].t = 10 does not come after 10"),
            "{err}"
        );
    }

    #[test]
    fn replay_stops_at_the_first_failure() {
        let r = recording(&[10.0; 30]);
        let out = replay(&r.settings, &r.intervals).expect("valid");
        assert_eq!(out.verdict, Verdict::Fail);
        let at = out.decided_at.expect("decided");
        assert_eq!(out.intervals_judged, at.interval);
        assert_eq!(at.t, 10.0 * at.interval as f64);
        assert_eq!(out.timeline.len() as u64, at.interval);
    }

    #[test]
    fn replay_passes_a_healthy_run_and_calls_a_short_one_inconclusive() {
        let r = recording(&[5.0; 10]);
        let out = replay(&r.settings, &r.intervals).expect("valid");
        assert_eq!((out.verdict, out.decided_at), (Verdict::Pass, None));
        let r = recording(&[5.0]);
        let out = replay(&r.settings, &r.intervals).expect("valid");
        assert_eq!(out.verdict, Verdict::Continue);
        assert!(
            out.rule
                .starts_with("inconclusive at the end of the recording"),
            "{}",
            out.rule
        );
        assert!(
            out.rule.ends_with("on-inconclusive = rollback"),
            "{}",
            out.rule
        );
        let out = replay(&r.settings, &[]).expect("valid");
        assert_eq!(out.verdict, Verdict::Continue);
    }
}

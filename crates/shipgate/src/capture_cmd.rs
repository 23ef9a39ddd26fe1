//! `shipgate canary capture --env ENV --canary-version V --baseline-version B --from TIME
//! --to TIME --out FILE`: a recording of a past window through
//! `shipgate_canary::capture_with_settings` (Prometheus range queries), for `shipgate
//! canary judge FILE`; exit 0 written, 2 could not run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use shipgate_canary::{RunRequest, Window, capture_with_settings, coverage};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::actions::errln;
use crate::cli::{Global, hinted};

/// `canary capture --json`: the recording written, and how much of it has data.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Captured {
    /// The recording written (`--out`).
    pub file: String,
    /// The window's start, RFC 3339.
    pub from: String,
    /// Its end, RFC 3339.
    pub to: String,
    /// The interval the window is cut into (`[canary] interval`).
    pub interval: String,
    /// How many intervals the recording holds.
    pub intervals: usize,
    /// Per metric of `[canary]`: the intervals with data, and with errors.
    pub metrics: Vec<shipgate_canary::Coverage>,
}

#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// The environment (fills `{{env}}` in queries)
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The canary's version (fills `{{version}}`)
    #[arg(long, value_name = "VERSION")]
    pub canary_version: String,
    /// The baseline's version (fills `{{baseline_version}}`)
    #[arg(long, value_name = "VERSION")]
    pub baseline_version: String,
    /// Start of the window: RFC 3339 (2026-11-27T03:00:00Z) or Unix seconds
    #[arg(long, value_name = "TIME")]
    pub from: String,
    /// End of the window: RFC 3339, Unix seconds, or `now`
    #[arg(long, value_name = "TIME")]
    pub to: String,
    /// Where to write the recording (replaced atomically)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Unix seconds from `text`: RFC 3339, Unix seconds, or (when `now` is given) `now`.
pub(crate) fn parse_time(flag: &str, text: &str, now: Option<f64>) -> anyhow::Result<f64> {
    if let (Some(now), "now") = (now, text) {
        return Ok(now);
    }
    if let Ok(seconds) = text.parse::<f64>()
        && seconds.is_finite()
        && seconds >= 0.0
    {
        return Ok(seconds);
    }
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at.unix_timestamp_nanos() as f64 / 1e9);
    }
    let now_too = if now.is_some() { ", or `now`" } else { "" };
    Err(hinted(
        format!("{flag} `{text}` is not a time"),
        format!("write RFC 3339 like 2026-11-27T03:00:00Z, or Unix seconds{now_too}"),
    ))
}

/// `seconds` (Unix) in RFC 3339, UTC.
fn rfc3339(seconds: f64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos((seconds * 1e9) as i128)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("{seconds}"))
}

pub fn run(global: &Global, args: &CaptureArgs) -> anyhow::Result<ExitCode> {
    let now = OffsetDateTime::now_utc().unix_timestamp_nanos() as f64 / 1e9;
    let from = parse_time("--from", &args.from, None)?;
    let to = parse_time("--to", &args.to, Some(now))?;
    if from >= to {
        return Err(hinted(
            format!("--from {} is not before --to {}", args.from, args.to),
            "the window runs from --from to --to",
        ));
    }
    // A second of slack for clocks that disagree a little.
    if to > now + 1.0 {
        return Err(hinted(
            format!(
                "--to {} ({}) is in the future: its intervals would have no data yet",
                args.to,
                rfc3339(to)
            ),
            "use --to now",
        ));
    }
    let settings = global
        .settings()?
        .canary
        .for_env(&args.env)
        .map_err(shipgate_canary::RunError::Settings)?;
    let request = RunRequest::new(&args.env, &args.canary_version, &args.baseline_version)
        .map_err(|e| {
            hinted(
                e.to_string(),
                "--env takes a name from [environments] order, --canary-version and --baseline-version versions as released",
            )
        })?;
    let mut recording = capture_with_settings(&settings, &request, Window { from, to }, &|name| {
        std::env::var(name).ok()
    })?;
    recording.started_at = Some(rfc3339(from));
    shipgate_stdx::fs::write_atomic(&args.out, recording.to_json().as_bytes())
        .with_context(|| format!("cannot write {}", args.out.display()))?;

    let covered = coverage(&settings.gates, &recording);
    let intervals = recording.intervals.len();
    let per_metric: Vec<String> = covered
        .iter()
        .map(|c| {
            let errors = match c.errors {
                0 => String::new(),
                n => format!(", {n} with errors"),
            };
            format!("{} {}/{intervals} with data{errors}", c.metric, c.with_data)
        })
        .collect();
    errln!(
        "captured {intervals} intervals of {} ({} to {}) into {}: {}",
        settings.gates.rollout.interval,
        rfc3339(from),
        rfc3339(from + settings.gates.rollout.interval.secs() * intervals as f64),
        args.out.display(),
        per_metric.join("; ")
    );
    if covered.iter().all(|c| c.with_data == 0) {
        errln!("hint: no metric has data in this window; check the versions, --env and the times");
    }
    if global.json {
        let out = Captured {
            file: args.out.display().to_string(),
            from: rfc3339(from),
            to: rfc3339(to),
            interval: settings.gates.rollout.interval.to_string(),
            intervals,
            metrics: covered,
        };
        crate::actions::outln!(
            "{}",
            crate::actions::json(&crate::actions::sorted_json(&out)?)
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc_3339_unix_seconds_or_now() {
        assert_eq!(
            parse_time("--from", "2026-11-27T03:00:00Z", None).ok(),
            Some(1_795_748_400.0)
        );
        assert_eq!(
            parse_time("--from", "2026-11-27T04:00:00+01:00", None).ok(),
            Some(1_795_748_400.0)
        );
        assert_eq!(
            parse_time("--from", "1795748400", None).ok(),
            Some(1_795_748_400.0)
        );
        assert_eq!(parse_time("--to", "now", Some(5.0)).ok(), Some(5.0));
        let err = parse_time("--from", "now", None).expect_err("no now for --from");
        assert_eq!(err.to_string(), "--from `now` is not a time");
        assert_eq!(
            crate::cli::hint_of(&err).as_deref(),
            Some("write RFC 3339 like 2026-11-27T03:00:00Z, or Unix seconds")
        );
        assert!(parse_time("--to", "yesterday", Some(5.0)).is_err());
        assert!(parse_time("--to", "-5", Some(5.0)).is_err());
        assert_eq!(rfc3339(1_795_748_400.0), "2026-11-27T03:00:00Z");
    }
}

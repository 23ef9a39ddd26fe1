//! What a canary run leaves behind besides its exit code: the Markdown summary for
//! `$GITHUB_STEP_SUMMARY`, the recording and the SVG charts, and the progress shown while it
//! runs (a live bar on a terminal, one line per judgement in CI, printed by the caller).

use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::chart::{Marker, charts};
use shipgate_judge::{Gates, MetricKind, MetricReport, Recording, RolloutSettings, Verdict};

use crate::config::CanarySettings;
use crate::runner::{
    Judgement, RunError, RunOutcome, RunRequest, RunResult, Source, run_with_settings,
};

use shipgate_stdx::num::human as num;

/// A metric's value in its unit: error rates in percent, latencies in seconds.
pub fn value(kind: MetricKind, v: Option<f64>) -> String {
    match (kind, v) {
        (_, None) => "-".into(),
        (MetricKind::Counts, Some(v)) => format!("{} %", num(Some(v * 100.0))),
        (MetricKind::Latency, Some(v)) => format!("{} s", num(Some(v))),
        (MetricKind::Gauge, v) => num(v),
    }
}

/// Where a run's artifacts go; each is optional.
#[derive(Debug, Clone, Default)]
pub struct Artifacts {
    /// `--record FILE`: the recording.
    pub record: Option<PathBuf>,
    /// `--charts DIR`: one SVG per metric.
    pub charts: Option<PathBuf>,
    /// `$GITHUB_STEP_SUMMARY`: the Markdown summary is appended to it.
    pub step_summary: Option<PathBuf>,
}

/// Why an artifact could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// Writing a file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Drawing a chart failed.
    #[error(transparent)]
    Chart(#[from] crate::chart::ChartError),
}

impl ArtifactError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            ArtifactError::Write { .. } => {
                Some("check that the directory exists and is writable".into())
            }
            ArtifactError::Chart(_) => None,
        }
    }
}

/// What the finished run was, for the artifacts.
#[derive(Debug, Clone, Copy)]
pub struct Finished<'a> {
    /// The request.
    pub request: &'a RunRequest,
    /// Whether it was a replay (simulated clock).
    pub replay: bool,
    /// The result: an outcome, or the error that ended it.
    pub result: Result<&'a RunOutcome, &'a RunError>,
}

impl Finished<'_> {
    fn recording(&self) -> Option<&Recording> {
        match self.result {
            Ok(outcome) => Some(&outcome.recording),
            Err(e) => e.recording(),
        }
    }

    fn marker(&self) -> Option<Marker> {
        match self.result {
            Ok(outcome) => Some(Marker {
                t: outcome.decided_at_s,
                label: match outcome.result {
                    RunResult::Promoted => "promoted",
                    RunResult::RolledBack { .. } => "rolled back",
                    RunResult::Paused { .. } => "paused",
                }
                .into(),
            }),
            Err(e) => e
                .recording()
                .and_then(|r| r.intervals.last())
                .map(|i| Marker {
                    t: i.t,
                    label: "actuator failed".into(),
                }),
        }
    }
}

/// Writes the artifacts of a finished (or failed) run: the recording and the charts through
/// `write` (the caller's atomic write), the Markdown summary appended to the step summary
/// file. Returns the files written. A run that ended before any traffic moved has no
/// recording and no charts; its summary still says why it could not run.
pub fn write_artifacts(
    artifacts: &Artifacts,
    finished: &Finished<'_>,
    write: &dyn Fn(&Path, &[u8]) -> std::io::Result<()>,
) -> Result<Vec<PathBuf>, ArtifactError> {
    let mut written = Vec::new();
    let put = |path: PathBuf, bytes: &[u8], written: &mut Vec<PathBuf>| {
        write(&path, bytes).map_err(|source| ArtifactError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
        Ok::<_, ArtifactError>(())
    };
    if let (Some(path), Some(recording)) = (&artifacts.record, finished.recording()) {
        put(path.clone(), recording.to_json().as_bytes(), &mut written)?;
    }
    let mut chart_files = Vec::new();
    if let (Some(dir), Some(recording)) = (&artifacts.charts, finished.recording()) {
        chart_files = write_charts(dir, recording, finished.marker().as_ref(), write)?;
        written.extend(chart_files.iter().cloned());
    }
    if let Some(path) = &artifacts.step_summary {
        let text = markdown(finished, &chart_files);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
            .map_err(|source| ArtifactError::Write {
                path: path.clone(),
                source,
            })?;
        written.push(path.clone());
    }
    Ok(written)
}

/// Draws `recording`'s charts ([`charts`]) into `dir` (created if needed) through `write`;
/// returns the files written.
pub fn write_charts(
    dir: &Path,
    recording: &Recording,
    decision: Option<&Marker>,
    write: &dyn Fn(&Path, &[u8]) -> std::io::Result<()>,
) -> Result<Vec<PathBuf>, ArtifactError> {
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ArtifactError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(failed(dir))?;
    let mut files = Vec::new();
    for chart in charts(recording, decision)? {
        let path = dir.join(&chart.file_name);
        write(&path, chart.svg.as_bytes()).map_err(failed(&path))?;
        files.push(path);
    }
    Ok(files)
}

/// Where [`run_reported`] reports besides its result: the binary decides how these are
/// printed (stderr, and in CI as it must be there), so this crate prints nothing itself.
#[derive(Clone, Copy)]
pub struct Reporter<'a> {
    /// A plain progress line, one per judgement, when no live bar is drawn.
    pub line: &'a dyn Fn(&str),
    /// An artifact that could not be written: a loud warning, not a different exit.
    pub artifact_failed: &'a dyn Fn(&ArtifactError),
}

/// `canary run` as the binary runs it: progress while the rollout runs
/// ([`run_with_settings`]; `after_each` sees every judgement too, e.g. to renew a hold),
/// then the artifacts (the step summary only when `artifacts.step_summary` names a file:
/// the caller decides whether there is one). An artifact that cannot be written goes to
/// `report.artifact_failed`, not into the result: the traffic decision has been carried out
/// either way and the exit code must say which.
pub fn run_reported(
    settings: &CanarySettings,
    request: &RunRequest,
    source: Source<'_>,
    artifacts: &Artifacts,
    write: &dyn Fn(&Path, &[u8]) -> std::io::Result<()>,
    after_each: &mut dyn FnMut(&Judgement<'_>),
    report: Reporter<'_>,
) -> Result<RunOutcome, RunError> {
    let (stop, handlers) = stop_on_signals();
    let mut progress = Progress::new(&settings.gates.rollout, live_terminal());
    let result = run_with_settings(
        settings,
        request,
        source,
        &|name| std::env::var(name).ok(),
        &mut |j| {
            if let Some(line) = progress.show(j) {
                (report.line)(&line);
            }
            after_each(j);
        },
        Some(stop),
    );
    progress.finish();
    for id in handlers {
        signal_hook::low_level::unregister(id);
    }
    let finished = Finished {
        request,
        replay: matches!(source, Source::Replay(_)),
        result: result.as_ref(),
    };
    if let Err(e) = write_artifacts(artifacts, &finished, write) {
        (report.artifact_failed)(&e);
    }
    result
}

/// Unregisters the handlers [`stop_on_signals`] returned.
pub fn unregister(handlers: Vec<signal_hook::SigId>) {
    for id in handlers {
        signal_hook::low_level::unregister(id);
    }
}

/// SIGINT, SIGTERM and SIGHUP (a cancelled CI job, Ctrl-C) set the returned flag, which the
/// runner turns into a rollback before exiting; a second signal exits at once. Returns the
/// handlers to unregister after the run.
pub fn stop_on_signals() -> (crate::runner::StopFlag, Vec<signal_hook::SigId>) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let stop = crate::runner::StopFlag::default();
    let twice = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut ids = Vec::new();
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        // Registration fails only for forbidden signals; these three are allowed.
        let registered = [
            signal_hook::flag::register_conditional_shutdown(signal, 1, twice.clone()),
            signal_hook::flag::register(signal, twice.clone()),
            signal_hook::flag::register_usize(signal, stop.clone(), signal as usize),
        ];
        ids.extend(registered.into_iter().flatten());
    }
    (stop, ids)
}

/// Escapes text for a Markdown table cell: one line, no column break, no code span and no
/// HTML (a `<` that could open a tag or a comment becomes `&lt;`; `<=` stays as it reads).
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' => out.push_str("\\|"),
            '`' => out.push_str("\\`"),
            '\r' | '\n' => out.push(' '),
            '<' if chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')) =>
            {
                out.push_str("&lt;");
            }
            c => out.push(c),
        }
    }
    out
}

/// The Markdown summary of a run: result, versions, a table of the metrics with their
/// evidence, the steps walked, every sequential test, and the chart files.
pub fn markdown(finished: &Finished<'_>, chart_files: &[PathBuf]) -> String {
    let req = finished.request;
    let mut out = String::new();
    let replay = if finished.replay { " (replay)" } else { "" };
    let headline = match finished.result {
        Ok(outcome) => match &outcome.result {
            RunResult::Promoted => "promoted".to_string(),
            RunResult::RolledBack { .. } => "ROLLED BACK".to_string(),
            RunResult::Paused { .. } => "paused".to_string(),
        },
        Err(_) => "could not complete".to_string(),
    };
    let _ = writeln!(
        out,
        "### Canary `{}` in {}{replay}: {headline}\n",
        req.version, req.env
    );
    let _ = writeln!(
        out,
        "Canary `{}` against baseline `{}`.",
        req.version, req.baseline_version
    );
    match finished.result {
        Ok(outcome) => {
            let _ = write!(
                out,
                "Decided after {:.0} s: {}.",
                outcome.decided_at_s,
                outcome.result.describe()
            );
            if let Some(ms) = outcome.rollback_started_ms {
                let _ = write!(
                    out,
                    " The rollback started {ms:.1} ms after the failing verdict."
                );
            }
            if let Some(alarms) = &outcome.alarms {
                let _ = write!(out, " Alarms: {}.", cell(&alarms.describe()));
            }
            out.push_str("\n\n");
        }
        Err(e) => {
            let first = e.to_string();
            let _ = writeln!(out, "**Error:** {}\n", cell(&first));
        }
    }
    if let Ok(RunOutcome {
        report: Some(report),
        ..
    }) = finished.result
    {
        let _ = writeln!(
            out,
            "| metric | verdict | canary | baseline | threshold | effect (CI) | requests canary / baseline | rule |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
        for m in &report.metrics {
            let _ = writeln!(out, "{}", metric_row(m));
        }
        out.push('\n');
    }
    if let Some(recording) = finished.recording() {
        steps_table(&mut out, recording, &recording.settings);
    }
    if let Ok(RunOutcome {
        report: Some(report),
        ..
    }) = finished.result
    {
        let _ = writeln!(
            out,
            "<details><summary>Sequential tests (anytime-valid; a test rejects when its e-value reaches its bar)</summary>\n"
        );
        let _ = writeln!(out, "| metric | test | e-value | bar | state |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for m in &report.metrics {
            for t in &m.tests {
                let state = match (t.active, t.rejected) {
                    (false, _) => "not started",
                    (true, true) => "**rejected**",
                    (true, false) => "holds",
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {state} |",
                    cell(&m.name),
                    cell(&t.name),
                    num(Some(t.e_value)),
                    num(Some(t.bar))
                );
            }
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    if !chart_files.is_empty() {
        let names: Vec<String> = chart_files
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect();
        let _ = writeln!(
            out,
            "Charts (canary against baseline, steps and decision): {}\n",
            names.join(", ")
        );
    }
    out
}

fn metric_row(m: &MetricReport) -> String {
    let verdict = match m.verdict {
        Verdict::Fail => "**fail**",
        Verdict::Pass => "pass",
        Verdict::Continue => "continue",
    };
    let critical = if m.critical { "" } else { " (not critical)" };
    let effect = match &m.effect {
        Some(e) => format!(
            "{} {} [{}, {}] ({} %)",
            cell(&e.measure),
            e.estimate.map_or("unbounded".into(), |v| num(Some(v))),
            num(e.lower),
            e.upper.map_or("unbounded".into(), |v| num(Some(v))),
            num(Some(e.confidence * 100.0))
        ),
        None => "-".into(),
    };
    format!(
        "| {} ({}){critical} | {verdict} | {} | {} | {} | {effect} | {} / {} | {} |",
        cell(&m.name),
        m.kind.as_str(),
        value(m.kind, m.canary),
        value(m.kind, m.baseline),
        value(m.kind, m.threshold),
        num(Some(m.canary_requests)),
        num(Some(m.baseline_requests)),
        cell(&m.rule)
    )
}

/// The steps as they were walked: weight, first and last judged interval.
fn steps_table(out: &mut String, recording: &Recording, settings: &Gates) {
    let mut walked: Vec<(u8, f64, f64, usize)> = Vec::new();
    for i in &recording.intervals {
        let Some(weight) = i.weight else { continue };
        match walked.last_mut() {
            Some(last) if last.0 == weight => {
                last.2 = i.t;
                last.3 += 1;
            }
            _ => walked.push((weight, i.t, i.t, 1)),
        }
    }
    if walked.is_empty() {
        return;
    }
    let planned: Vec<String> = settings
        .rollout
        .steps
        .as_slice()
        .iter()
        .map(|s| format!("{} %", s.weight))
        .collect();
    let _ = writeln!(out, "Steps planned: {}.\n", planned.join(" → "));
    let _ = writeln!(out, "| weight | judged from | to | intervals |");
    let _ = writeln!(out, "|---|---|---|---|");
    for (weight, from, to, n) in walked {
        let _ = writeln!(out, "| {weight} % | {from:.0} s | {to:.0} s | {n} |");
    }
    out.push('\n');
}

/// Whether progress should be a live bar: stderr is a terminal and this is not CI.
pub fn live_terminal() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none()
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// Progress on stderr while a canary runs: a live bar on a terminal (elapsed against the
/// maximum duration, the step, the latest verdict and rule; step changes and failures kept
/// as lines above it), else one plain line per judgement.
pub struct Progress {
    bar: Option<ProgressBar>,
    step: Option<usize>,
}

impl Progress {
    /// A bar when `live` (see [`live_terminal`]), else plain lines.
    pub fn new(settings: &RolloutSettings, live: bool) -> Self {
        let target = if live {
            Some(ProgressDrawTarget::stderr())
        } else {
            None
        };
        Self::with_target(settings, target)
    }

    /// A bar drawn to `target` (tests draw to a hidden or in-memory target); None = lines.
    pub fn with_target(settings: &RolloutSettings, target: Option<ProgressDrawTarget>) -> Self {
        let bar = target.map(|target| {
            let bar = ProgressBar::with_draw_target(
                Some(settings.max_duration.0.as_secs().max(1)),
                target,
            );
            // The template is a constant; a bad one is a bug caught by the tests.
            if let Ok(style) = ProgressStyle::with_template(
                "canary {spinner} [{elapsed_precise}] [{bar:30}] {pos}/{len} s  {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Self { bar, step: None }
    }

    /// Shows one judgement on the bar; without a bar, returns the plain line to print.
    pub fn show(&mut self, j: &Judgement<'_>) -> Option<String> {
        let Some(bar) = &self.bar else {
            return Some(j.to_string());
        };
        let (step, weight, steps) = j.step;
        if self.step != Some(step) {
            bar.println(format!(
                "canary: step {}/{steps}: weight {weight}%",
                step + 1
            ));
            self.step = Some(step);
        }
        if j.report.verdict == Verdict::Fail {
            bar.println(j.to_string());
        }
        bar.set_position(j.t as u64);
        bar.set_message(format!(
            "step {}/{steps} {weight}%: {}: {}",
            step + 1,
            j.report.verdict.as_str(),
            j.report.rule
        ));
        None
    }

    /// Clears the bar (the caller prints the result).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipgate_judge::{Effect, Report, TestReport};

    fn request() -> RunRequest {
        RunRequest::new("prod", "1.4.0", "1.3.2").expect("valid")
    }

    fn metric(verdict: Verdict) -> MetricReport {
        MetricReport {
            name: "error-rate".into(),
            kind: MetricKind::Counts,
            critical: true,
            verdict,
            rule: "ratio vs baseline > 1.1 | e = 120 >= 100".into(),
            canary: Some(0.0102),
            baseline: Some(0.0049),
            threshold: Some(0.001),
            tolerance: 0.1,
            effect: Some(Effect {
                measure: "error-rate ratio canary/baseline".into(),
                estimate: Some(2.08),
                lower: Some(1.3),
                upper: None,
                confidence: 0.99,
            }),
            canary_requests: 4000.0,
            baseline_requests: 36000.0,
            intervals: 4,
            inconclusive_intervals: 0,
            tests: vec![TestReport {
                name: "ratio vs baseline <= 1.1".into(),
                e_value: 120.0,
                bar: 100.0,
                alpha: 0.01,
                rejected: true,
                active: true,
            }],
        }
    }

    fn recording(weights: &[u8]) -> Recording {
        shipgate_judge::testing::error_rate(&vec![10.0; weights.len()], Some(0.001), weights)
    }

    fn outcome(result: RunResult, weights: &[u8]) -> RunOutcome {
        RunOutcome {
            result,
            decided_at_s: 10.0 * weights.len() as f64,
            rollback_started_ms: None,
            alarms: None,
            report: Some(Report {
                intervals: weights.len() as u64,
                verdict: Verdict::Fail,
                rule: "error-rate failed".into(),
                metrics: vec![metric(Verdict::Fail)],
            }),
            recording: recording(weights),
        }
    }

    #[test]
    fn cells_hold_text_not_markup() {
        assert_eq!(
            cell("a | b `c` <img src=x> <= 1\r\n</td>"),
            "a \\| b \\`c\\` &lt;img src=x> <= 1  &lt;/td>"
        );
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(None), "-");
        assert_eq!(num(Some(0.0)), "0");
        assert_eq!(num(Some(2.08333)), "2.0833");
        assert_eq!(num(Some(0.0001)), "1.000e-4");
        assert_eq!(value(MetricKind::Counts, Some(0.0102)), "1.02 %");
        assert_eq!(value(MetricKind::Latency, Some(1.5)), "1.5 s");
        assert_eq!(value(MetricKind::Gauge, Some(3.0)), "3");
    }

    #[test]
    fn the_summary_has_the_result_the_evidence_and_the_steps() {
        let req = request();
        let outcome = outcome(
            RunResult::RolledBack {
                reason: "error-rate failed".into(),
            },
            &[5, 5, 25, 25],
        );
        let text = markdown(
            &Finished {
                request: &req,
                replay: false,
                result: Ok(&outcome),
            },
            &[PathBuf::from("charts/error-rate.svg")],
        );
        assert!(
            text.starts_with("### Canary `1.4.0` in prod: ROLLED BACK\n"),
            "{text}"
        );
        assert!(
            text.contains("Decided after 40 s: rolled back: error-rate failed."),
            "{text}"
        );
        assert!(
            text.contains(
                "| error-rate (counts) | **fail** | 1.02 % | 0.49 % | 0.1 % | error-rate ratio canary/baseline 2.08 [1.3, unbounded] (99 %) | 4000 / 36000 | ratio vs baseline > 1.1 \\| e = 120 >= 100 |"
            ),
            "{text}"
        );
        assert!(text.contains("| 5 % | 10 s | 20 s | 2 |"), "{text}");
        assert!(text.contains("| 25 % | 30 s | 40 s | 2 |"), "{text}");
        assert!(
            text.contains("| error-rate | ratio vs baseline <= 1.1 | 120 | 100 | **rejected** |"),
            "{text}"
        );
        assert!(text.contains("`charts/error-rate.svg`"), "{text}");
    }

    /// Every artifact into `dir` (`run.json`, `charts/`, `summary.md`).
    fn write_all(
        dir: &Path,
        result: Result<&RunOutcome, &RunError>,
        replay: bool,
    ) -> Result<Vec<PathBuf>, ArtifactError> {
        let artifacts = Artifacts {
            record: Some(dir.join("run.json")),
            charts: Some(dir.join("charts")),
            step_summary: Some(dir.join("summary.md")),
        };
        let request = request();
        let finished = Finished {
            request: &request,
            replay,
            result,
        };
        write_artifacts(&artifacts, &finished, &|p, b| std::fs::write(p, b))
    }

    #[test]
    fn artifacts_are_written_and_the_summary_is_appended() {
        let dir = tempfile::tempdir().expect("temp dir");
        let summary = dir.path().join("summary.md");
        std::fs::write(&summary, "earlier step\n").expect("write");
        let outcome = outcome(RunResult::Promoted, &[5, 25, 100]);
        let written = write_all(dir.path(), Ok(&outcome), true).expect("written");
        assert_eq!(
            written,
            vec![
                dir.path().join("run.json"),
                dir.path().join("charts").join("error-rate.svg"),
                summary.clone()
            ]
        );
        let recorded = crate::load_recording(&dir.path().join("run.json")).expect("loads");
        assert_eq!(recorded, outcome.recording);
        let text = std::fs::read_to_string(&summary).expect("read");
        assert!(
            text.starts_with("earlier step\n### Canary `1.4.0` in prod (replay): promoted"),
            "{text}"
        );
        let svg = std::fs::read_to_string(dir.path().join("charts").join("error-rate.svg"))
            .expect("chart");
        assert!(svg.contains("promoted"), "the decision is marked");
    }

    #[test]
    fn a_run_that_never_moved_traffic_still_summarizes_why() {
        let dir = tempfile::tempdir().expect("temp dir");
        let summary = dir.path().join("summary.md");
        let error = RunError::NoPrometheus;
        let written = write_all(dir.path(), Err(&error), false).expect("written");
        assert_eq!(written, vec![summary.clone()], "no recording, no charts");
        let text = std::fs::read_to_string(&summary).expect("read");
        assert!(text.contains("could not complete"), "{text}");
        assert!(
            text.contains("**Error:** no [canary.prometheus] in the configuration"),
            "{text}"
        );
    }

    #[test]
    fn an_unwritable_artifact_is_an_error_naming_the_file() {
        let req = request();
        let outcome = outcome(RunResult::Promoted, &[5, 100]);
        let artifacts = Artifacts {
            record: Some(PathBuf::from("/nonexistent/dir/run.json")),
            ..Artifacts::default()
        };
        let err = write_artifacts(
            &artifacts,
            &Finished {
                request: &req,
                replay: false,
                result: Ok(&outcome),
            },
            &|p, b| std::fs::write(p, b),
        )
        .expect_err("cannot write");
        assert!(
            err.to_string()
                .starts_with("cannot write /nonexistent/dir/run.json:"),
            "{err}"
        );
    }

    #[test]
    fn the_bar_follows_the_judgements() {
        let settings = RolloutSettings::default();
        let mut progress = Progress::with_target(&settings, Some(ProgressDrawTarget::hidden()));
        let report = Report {
            intervals: 3,
            verdict: Verdict::Continue,
            rule: "waiting for 1000 requests".into(),
            metrics: vec![],
        };
        let plain = progress.show(&Judgement {
            t: 90.0,
            step: (1, 25, 4),
            report: &report,
        });
        let bar = progress.bar.as_ref().expect("a bar");
        assert_eq!(bar.position(), 90);
        assert_eq!(bar.length(), Some(30 * 60));
        assert_eq!(
            bar.message(),
            "step 2/4 25%: continue: waiting for 1000 requests"
        );
        assert_eq!(progress.step, Some(1));
        assert_eq!(plain, None, "the bar shows it");
        progress.finish();
        assert!(progress.bar.as_ref().is_some_and(ProgressBar::is_finished));
        let mut lines = Progress::with_target(&settings, None);
        assert_eq!(
            lines
                .show(&Judgement {
                    t: 90.0,
                    step: (1, 25, 4),
                    report: &report,
                })
                .as_deref(),
            Some("canary: t=90s step 2/4 weight 25%: continue: waiting for 1000 requests")
        );
    }
}

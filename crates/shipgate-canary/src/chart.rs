//! SVG charts of a recording, one per metric: canary against baseline over time, of the
//! quantity the judge looks at, with the threshold, the step boundaries and the decision.
//!
//! Text is drawn as SVG `<text>` elements (plotters without fonts estimates text sizes
//! only roughly), so the viewer's sans-serif font renders it. The output depends only on
//! the recording and the marker: the same input gives the same bytes.

use std::collections::BTreeSet;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use shipgate_judge::{MetricConfig, MetricKind, Recording, Side, histogram_quantile};

/// A vertical line on every chart: the decision point.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// Seconds since the start of the run.
    pub t: f64,
    /// What was decided, e.g. `rolled back`, `promoted`, `paused`.
    pub label: String,
}

/// One metric's chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The metric's name.
    pub metric: String,
    /// A file name for the chart: the name sanitized to `[a-z0-9-_]`, plus `.svg`; distinct
    /// among the charts of one recording.
    pub file_name: String,
    /// The SVG document.
    pub svg: String,
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// plotters failed while drawing.
    #[error("cannot draw the chart of metric `{metric}`: {source}")]
    Draw {
        /// The metric whose chart failed.
        metric: String,
        /// plotters' error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// One chart per metric of `recording.settings.metrics`, in that order, with `decision`
/// drawn as a vertical line on each.
pub fn charts(recording: &Recording, decision: Option<&Marker>) -> Result<Vec<Chart>, ChartError> {
    let metrics = &recording.settings.judge.metrics;
    let names = file_names(metrics.iter().map(|m| m.name.as_str()));
    let steps = step_boundaries(recording);
    metrics
        .iter()
        .zip(names)
        .map(|(metric, file_name)| {
            let data = series(recording, metric);
            let svg =
                draw(recording, metric, &data, &steps, decision).map_err(|e| ChartError::Draw {
                    metric: metric.name.clone(),
                    source: Box::new(e),
                })?;
            Ok(Chart {
                metric: metric.name.clone(),
                file_name,
                svg,
            })
        })
        .collect()
}

const SIZE: (u32, u32) = (800, 400);
const CANARY: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const BASELINE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const THRESHOLD: RGBColor = RGBColor(0x55, 0x55, 0x55);
const STEP: RGBColor = RGBColor(0x99, 0x99, 0x99);
const DECISION: RGBColor = RGBColor(0x00, 0x00, 0x00);
const FONT: &str = "sans-serif";
/// plotters writes `font-size = size / 1.24`: 15 gives 12 px text.
const TEXT: u32 = 15;

/// One interval of a metric: its end time and each side's value (None: a gap).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    t: f64,
    canary: Option<f64>,
    baseline: Option<f64>,
}

/// The metric's values per interval in the chart's unit (error rate in %, latency at the
/// metric's quantile in seconds, gauge value). Missing, malformed or non-finite
/// measurements and provider errors are gaps; without a configured baseline the baseline
/// is all gaps.
fn series(recording: &Recording, metric: &MetricConfig) -> Vec<Point> {
    recording
        .intervals
        .iter()
        .map(|interval| {
            let sample = interval
                .metrics
                .get(&metric.name)
                .filter(|s| s.error.is_none());
            let value = |side: Option<&Side>| side.and_then(|s| value(metric, s));
            Point {
                t: interval.t,
                canary: value(sample.and_then(|s| s.canary.as_ref())),
                baseline: if metric.baseline.is_some() {
                    value(sample.and_then(|s| s.baseline.as_ref()))
                } else {
                    None
                },
            }
        })
        .collect()
}

/// One side's value in the chart's unit, if usable.
fn value(metric: &MetricConfig, side: &Side) -> Option<f64> {
    let v = match metric.kind {
        MetricKind::Counts => {
            let c = side.counts("").ok()?;
            if c.n <= 0.0 {
                return None;
            }
            100.0 * c.x / c.n
        }
        MetricKind::Latency if metric.judged_as() == MetricKind::Gauge => side.gauge("").ok()?,
        MetricKind::Latency => {
            let h = side.histogram("").ok()?;
            histogram_quantile(&h.les, &h.cum, metric.quantile)?
        }
        MetricKind::Gauge => side.gauge("").ok()?,
    };
    v.is_finite().then_some(v)
}

/// The threshold in the chart's unit.
fn threshold(metric: &MetricConfig) -> Option<f64> {
    let t = metric.threshold?;
    let t = match metric.kind {
        MetricKind::Counts => 100.0 * t,
        MetricKind::Latency | MetricKind::Gauge => t,
    };
    t.is_finite().then_some(t)
}

/// The y axis' description, with the unit.
fn y_description(metric: &MetricConfig) -> String {
    match metric.kind {
        MetricKind::Counts => "error rate (%)".into(),
        MetricKind::Latency => format!("p{} latency (s)", fmt_num(100.0 * metric.quantile)),
        MetricKind::Gauge => "value".into(),
    }
}

/// How a value in the chart's unit reads in the legend.
fn with_unit(metric: &MetricConfig, v: f64) -> String {
    match metric.kind {
        MetricKind::Counts => format!("{}%", fmt_num(v)),
        MetricKind::Latency => format!("{} s", fmt_num(v)),
        MetricKind::Gauge => fmt_num(v),
    }
}

/// Four significant digits, without trailing zeros.
fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (3 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Consecutive points with a value, as line pieces.
fn pieces(points: &[Point], side: impl Fn(&Point) -> Option<f64>) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for p in points {
        match side(p) {
            Some(v) => current.push((p.t, v)),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Where the traffic weight changes, and the new weight: at the end of the last interval
/// at the old weight. The first known weight is labelled at the start.
fn step_boundaries(recording: &Recording) -> Vec<(f64, u8)> {
    let mut out = Vec::new();
    let mut previous: Option<(f64, Option<u8>)> = None;
    for interval in &recording.intervals {
        match (previous, interval.weight) {
            (None, Some(w)) => out.push((0.0, w)),
            (Some((t, before)), Some(w)) if before != Some(w) => out.push((t, w)),
            _ => {}
        }
        previous = Some((interval.t, interval.weight));
    }
    out
}

/// `<metric> — canary <version> vs baseline <baseline_version> (<env>)`, with what the
/// recording has.
fn title(recording: &Recording, metric: &MetricConfig) -> String {
    let mut title = format!("{} — canary", metric.name);
    if let Some(v) = &recording.version {
        title.push_str(&format!(" {v}"));
    }
    if metric.baseline.is_some() {
        title.push_str(" vs baseline");
        if let Some(v) = &recording.baseline_version {
            title.push_str(&format!(" {v}"));
        }
    }
    if let Some(env) = &recording.env {
        title.push_str(&format!(" ({env})"));
    }
    title
}

/// Legend labels for the two series.
fn side_labels(recording: &Recording) -> (String, String) {
    let label = |who: &str, v: &Option<String>| match v {
        Some(v) => format!("{who} {v}"),
        None => who.to_string(),
    };
    (
        label("canary", &recording.version),
        label("baseline", &recording.baseline_version),
    )
}

/// The metric names sanitized to `[a-z0-9-_]` plus `.svg`, made distinct with `-2`, `-3`…
fn file_names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut used = BTreeSet::new();
    names
        .map(|name| {
            let base = sanitize(name);
            let mut candidate = base.clone();
            let mut n = 2;
            while !used.insert(candidate.clone()) {
                candidate = format!("{base}-{n}");
                n += 1;
            }
            format!("{candidate}.svg")
        })
        .collect()
}

fn sanitize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let out = out.trim_matches('-');
    if out.is_empty() {
        "metric".into()
    } else {
        out.into()
    }
}

type DrawResult<T> = Result<T, DrawingAreaErrorKind<std::io::Error>>;
type Plot<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn draw(
    recording: &Recording,
    metric: &MetricConfig,
    points: &[Point],
    steps: &[(f64, u8)],
    decision: Option<&Marker>,
) -> DrawResult<String> {
    let canary = pieces(points, |p| p.canary);
    let baseline = pieces(points, |p| p.baseline);
    let threshold = threshold(metric);
    let decision = decision.filter(|d| d.t.is_finite());

    let x_end = points
        .iter()
        .map(|p| p.t)
        .chain(decision.map(|d| d.t))
        .fold(0.0_f64, f64::max);
    let x_end = if x_end > 0.0 { x_end * 1.03 } else { 60.0 };
    let values = canary.iter().chain(&baseline).flatten().map(|(_, v)| *v);
    let (lo, hi) = values
        .chain(threshold)
        .fold((0.0_f64, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let hi = if hi > lo { hi } else { lo + 1.0 };
    let span = hi - lo;
    // Room at the top for the step and decision labels.
    let (y_lo, y_hi) = (
        if lo < 0.0 { lo - 0.05 * span } else { lo },
        hi + 0.3 * span,
    );

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let area = root.titled(&title(recording, metric), (FONT, 22))?;
        let (legend_area, plot_area) = area.split_vertically(26);
        let mut chart = ChartBuilder::on(&plot_area)
            .margin(10)
            .margin_top(4)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..x_end, y_lo..y_hi)?;
        let format_label = |v: &f64| fmt_num(*v);
        let y_desc = y_description(metric);
        chart
            .configure_mesh()
            .bold_line_style(RGBColor(0xDD, 0xDD, 0xDD))
            .light_line_style(RGBColor(0xF2, 0xF2, 0xF2))
            .x_desc("time since start (s)")
            .y_desc(y_desc.as_str())
            .x_label_formatter(&format_label)
            .y_label_formatter(&format_label)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, TEXT))
            .draw()?;

        let label_style = |color: RGBColor, right: bool| {
            let h = if right { HPos::Right } else { HPos::Left };
            (FONT, TEXT)
                .into_font()
                .color(&color)
                .pos(Pos::new(h, VPos::Top))
        };
        // Labels near the right edge go to the left of their line.
        let right = |x: f64| x > 0.85 * x_end;
        for (x, weight) in steps {
            if *x > 0.0 {
                chart.draw_series(DashedLineSeries::new(
                    [(*x, y_lo), (*x, y_hi)],
                    3,
                    3,
                    STEP.stroke_width(1),
                ))?;
            }
            let dx = if right(*x) { -4 } else { 4 };
            chart.plotting_area().draw(
                &(EmptyElement::at((*x, y_hi))
                    + Text::new(format!("{weight}%"), (dx, 4), label_style(STEP, right(*x)))),
            )?;
        }
        if let Some(th) = threshold {
            chart.draw_series(DashedLineSeries::new(
                [(0.0, th), (x_end, th)],
                10,
                5,
                THRESHOLD.stroke_width(1),
            ))?;
        }
        // Lines first, then markers, the baseline's on top: where the two coincide, the
        // baseline's dashes and hollow triangles still show over the canary's.
        for piece in canary.iter().filter(|p| p.len() > 1) {
            chart.draw_series(LineSeries::new(
                piece.iter().copied(),
                CANARY.stroke_width(2),
            ))?;
        }
        for piece in baseline.iter().filter(|p| p.len() > 1) {
            chart.draw_series(DashedLineSeries::new(
                piece.iter().copied(),
                6,
                4,
                BASELINE.stroke_width(2),
            ))?;
        }
        chart.draw_series(
            canary
                .iter()
                .flatten()
                .map(|p| Circle::new(*p, 3, CANARY.filled())),
        )?;
        chart.draw_series(
            baseline
                .iter()
                .flatten()
                .map(|p| EmptyElement::at(*p) + triangle()),
        )?;
        if let Some(d) = decision {
            // The line stops below the row of step labels, so it never crosses one.
            let height = f64::from(chart.plotting_area().dim_in_pixel().1.max(1));
            let top = y_hi - (y_hi - y_lo) * 20.0 / height;
            chart.draw_series(LineSeries::new(
                [(d.t, y_lo), (d.t, top)],
                DECISION.stroke_width(2),
            ))?;
            let dx = if right(d.t) { -5 } else { 5 };
            chart.plotting_area().draw(
                &(EmptyElement::at((d.t, y_hi))
                    + Text::new(d.label.clone(), (dx, 24), label_style(DECISION, right(d.t)))),
            )?;
        }
        if canary.is_empty() && baseline.is_empty() {
            no_data(&chart, x_end, (y_lo + y_hi) / 2.0)?;
        }
        let (canary_label, baseline_label) = side_labels(recording);
        let mut entries = vec![(Entry::Canary, canary_label)];
        if metric.baseline.is_some() {
            entries.push((Entry::Baseline, baseline_label));
        }
        if let Some(th) = threshold {
            entries.push((
                Entry::Threshold,
                format!("threshold {}", with_unit(metric, th)),
            ));
        }
        if steps.iter().any(|(x, _)| *x > 0.0) {
            entries.push((Entry::Step, "traffic weight change".into()));
        }
        if decision.is_some() {
            entries.push((Entry::Decision, "decision".into()));
        }
        legend(&legend_area, &entries)?;
        root.present()?;
    }
    Ok(svg)
}

/// The baseline's marker: a hollow triangle around its point (plotters' `TriangleMarker`
/// is always filled and would hide a canary point at the same place).
fn triangle() -> PathElement<(i32, i32)> {
    PathElement::new(
        [(0, -6), (5, 3), (-5, 3), (0, -6)],
        BASELINE.stroke_width(2),
    )
}

fn no_data(chart: &Plot, x_end: f64, y_mid: f64) -> DrawResult<()> {
    let style = (FONT, 22)
        .into_font()
        .color(&STEP)
        .pos(Pos::new(HPos::Center, VPos::Center));
    chart
        .plotting_area()
        .draw(&Text::new("no data", (x_end / 2.0, y_mid), style))
}

#[derive(Debug, Clone, Copy)]
enum Entry {
    Canary,
    Baseline,
    Threshold,
    Step,
    Decision,
}

/// One row under the title: each entry's line and marker, then its label.
fn legend(area: &DrawingArea<SVGBackend, Shift>, entries: &[(Entry, String)]) -> DrawResult<()> {
    let y = 13;
    let mut x = 74;
    for (entry, label) in entries {
        let (l, r) = (x, x + 28);
        match entry {
            Entry::Canary => {
                area.draw(&PathElement::new([(l, y), (r, y)], CANARY.stroke_width(2)))?;
                area.draw(&Circle::new((x + 14, y), 3, CANARY.filled()))?;
            }
            Entry::Baseline => {
                area.draw(&DashedPathElement::new(
                    [(l, y), (r, y)],
                    6,
                    4,
                    BASELINE.stroke_width(2),
                ))?;
                area.draw(&(EmptyElement::at((x + 14, y)) + triangle()))?;
            }
            Entry::Threshold => {
                area.draw(&DashedPathElement::new(
                    [(l, y), (r, y)],
                    10,
                    5,
                    THRESHOLD.stroke_width(1),
                ))?;
            }
            Entry::Step => {
                area.draw(&DashedPathElement::new(
                    [(x + 14, y - 8), (x + 14, y + 8)],
                    3,
                    3,
                    STEP.stroke_width(1),
                ))?;
            }
            Entry::Decision => {
                area.draw(&PathElement::new(
                    [(x + 14, y - 8), (x + 14, y + 8)],
                    DECISION.stroke_width(2),
                ))?;
            }
        }
        let style = (FONT, TEXT)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let (width, _) = area.estimate_text_size(label, &style)?;
        area.draw(&Text::new(label.clone(), (r + 6, y), style))?;
        x = r + 6 + width as i32 + 22;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipgate_judge::testing::{counts, error_rate, metric, recording};
    use shipgate_judge::{Histogram, MetricSample, Num, Observation};

    fn one(recording: &Recording, decision: Option<&Marker>) -> String {
        let mut charts = charts(recording, decision).expect("draws");
        assert_eq!(charts.len(), 1);
        charts.remove(0).svg
    }

    /// The trimmed contents of every `<text>` element.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let body = &t[t.find('>')? + 1..];
                Some(body[..body.find("</text>")?].trim().to_string())
            })
            .collect()
    }

    /// The `<polyline>` elements stroked with `color`.
    fn polylines(svg: &str, color: RGBColor) -> usize {
        let stroke = format!("stroke=\"#{:02X}{:02X}{:02X}\"", color.0, color.1, color.2);
        svg.lines()
            .filter(|l| l.starts_with("<polyline") && l.contains(&stroke))
            .count()
    }

    fn well_formed(svg: &str) {
        let svg = svg.trim();
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn one_chart_per_metric_in_settings_order_with_distinct_file_names() {
        let metrics = vec![
            metric("Error Rate", MetricKind::Counts, None),
            metric("latency", MetricKind::Latency, Some(2.0)),
            metric("error-rate", MetricKind::Counts, None),
            metric("mem/rss €", MetricKind::Gauge, None),
        ];
        let r = recording(metrics, vec![Observation::new()], &[10]);
        let charts = charts(&r, None).expect("draws");
        let names: Vec<_> = charts.iter().map(|c| c.metric.as_str()).collect();
        assert_eq!(names, ["Error Rate", "latency", "error-rate", "mem/rss €"]);
        let files: Vec<_> = charts.iter().map(|c| c.file_name.as_str()).collect();
        assert_eq!(
            files,
            [
                "error-rate.svg",
                "latency.svg",
                "error-rate-2.svg",
                "mem-rss.svg"
            ]
        );
        for c in &charts {
            well_formed(&c.svg);
        }
        assert_eq!(sanitize("€€"), "metric");
        assert_eq!(sanitize("p99_latency (ms)"), "p99_latency-ms");
    }

    #[test]
    fn a_gap_breaks_the_canary_line() {
        // The legend draws one canary line too.
        let whole = one(&error_rate(&[5.0, 6.0, 7.0, 8.0, 9.0], None, &[]), None);
        assert_eq!(polylines(&whole, CANARY), 2);
        let broken = one(
            &error_rate(&[5.0, 6.0, f64::NAN, 8.0, 9.0], None, &[]),
            None,
        );
        assert_eq!(polylines(&broken, CANARY), 3);
        // Five markers, then four: the gap is not drawn as zero.
        let circles = |svg: &str| svg.lines().filter(|l| l.starts_with("<circle")).count();
        assert_eq!(circles(&whole) - circles(&broken), 1);
        well_formed(&broken);
    }

    #[test]
    fn provider_errors_and_inf_are_gaps() {
        let mut r = error_rate(&[5.0, 6.0, 7.0, 8.0, 9.0], None, &[]);
        if let Some(s) = r.intervals[1].metrics.get_mut("error-rate") {
            s.error = Some("timeout".into());
        }
        if let Some(s) = r.intervals[3].metrics.get_mut("error-rate") {
            s.canary = counts(f64::INFINITY, 1.0);
        }
        let points = series(&r, &r.settings.judge.metrics[0]);
        let canary: Vec<_> = points.iter().map(|p| p.canary).collect();
        assert_eq!(canary, [Some(0.5), None, Some(0.7), None, Some(0.9)]);
        let baseline: Vec<_> = points.iter().map(|p| p.baseline).collect();
        assert_eq!(baseline, [Some(0.5), None, Some(0.5), Some(0.5), Some(0.5)]);
    }

    #[test]
    fn steps_and_the_decision_are_labelled() {
        let r = error_rate(&[5.0; 6], None, &[10, 10, 25, 25, 50, 50]);
        assert_eq!(step_boundaries(&r), [(0.0, 10), (20.0, 25), (40.0, 50)]);
        let marker = Marker {
            t: 55.0,
            label: "rolled back".into(),
        };
        let svg = one(&r, Some(&marker));
        let labels = texts(&svg);
        for label in ["10%", "25%", "50%", "rolled back"] {
            assert!(labels.iter().any(|t| t == label), "{label} in {labels:?}");
        }
        assert_eq!(
            labels[0],
            "error-rate — canary 1.4.0 vs baseline 1.3.2 (prod)"
        );
        for label in ["canary 1.4.0", "baseline 1.3.2", "error rate (%)"] {
            assert!(labels.iter().any(|t| t == label), "{label} in {labels:?}");
        }
        assert!(polylines(&svg, STEP) > 0);
        let without = one(&r, None);
        assert!(!texts(&without).iter().any(|t| t == "rolled back"));
    }

    #[test]
    fn the_threshold_line_is_drawn_only_when_set() {
        let with = one(&error_rate(&[5.0; 3], Some(0.001), &[]), None);
        assert!(polylines(&with, THRESHOLD) > 0);
        assert!(texts(&with).iter().any(|t| t == "threshold 0.1%"));
        let without = one(&error_rate(&[5.0; 3], None, &[]), None);
        assert_eq!(polylines(&without, THRESHOLD), 0);
        assert!(!texts(&without).iter().any(|t| t.starts_with("threshold")));
    }

    #[test]
    fn latency_is_the_quantile_of_each_interval() {
        let hist = |cum: [f64; 4]| {
            Some(Side::Histogram(Histogram {
                buckets: [0.1, 0.5, 1.0, f64::INFINITY]
                    .into_iter()
                    .zip(cum)
                    .map(|(le, c)| (Num(le), Num(c)))
                    .collect(),
            }))
        };
        let sample = |canary, baseline| {
            Observation::from([(
                "latency".to_string(),
                MetricSample {
                    canary,
                    baseline,
                    error: None,
                    by_pod: None,
                },
            )])
        };
        let mut m = metric("latency", MetricKind::Latency, Some(2.0));
        m.quantile = 0.95;
        let r = recording(
            vec![m],
            vec![
                // p95: rank 95 of 100 lies in (0.5, 1] holding 90..100: 0.5 + 0.5 * 5/10.
                // Baseline rank 9.5 of 10 in (0.1, 0.5] holding 8..10: 0.1 + 0.4 * 1.5/2.
                sample(
                    hist([50.0, 90.0, 100.0, 100.0]),
                    hist([8.0, 10.0, 10.0, 10.0]),
                ),
                // Rank 95 in the +Inf bucket: the highest finite bound, as Prometheus.
                // An empty histogram has no quantile.
                sample(hist([0.0, 0.0, 90.0, 100.0]), hist([0.0; 4])),
            ],
            &[],
        );
        let points = series(&r, &r.settings.judge.metrics[0]);
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-12);
        assert!(close(points[0].canary, 0.75), "{points:?}");
        assert!(close(points[0].baseline, 0.4), "{points:?}");
        assert_eq!(points[1].canary, Some(1.0));
        assert_eq!(points[1].baseline, None);
        let svg = one(&r, None);
        assert!(texts(&svg).iter().any(|t| t == "p95 latency (s)"));
        assert!(texts(&svg).iter().any(|t| t == "threshold 2 s"));
    }

    #[test]
    fn a_metric_without_data_says_so() {
        let metrics = vec![
            metric("error-rate", MetricKind::Counts, None),
            metric("cpu", MetricKind::Gauge, None),
        ];
        let samples = vec![Observation::from([(
            "error-rate".to_string(),
            MetricSample {
                canary: counts(100.0, 1.0),
                baseline: counts(100.0, 1.0),
                error: None,
                by_pod: None,
            },
        )])];
        let r = recording(metrics, samples, &[10]);
        let charts = charts(&r, None).expect("draws");
        assert!(!texts(&charts[0].svg).iter().any(|t| t == "no data"));
        assert!(texts(&charts[1].svg).iter().any(|t| t == "no data"));
        well_formed(&charts[1].svg);
        let empty = recording(vec![metric("cpu", MetricKind::Gauge, None)], vec![], &[]);
        let svg = one(&empty, None);
        assert!(texts(&svg).iter().any(|t| t == "no data"));
        well_formed(&svg);
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        let r = error_rate(&[5.0, f64::NAN, 7.0], Some(0.02), &[10, 50, 50]);
        let marker = Marker {
            t: 30.0,
            label: "promoted".into(),
        };
        assert_eq!(
            charts(&r, Some(&marker)).expect("draws"),
            charts(&r, Some(&marker)).expect("draws")
        );
    }

    #[test]
    fn numbers_read_short() {
        assert_eq!(fmt_num(0.1), "0.1");
        assert_eq!(fmt_num(0.001 * 100.0), "0.1");
        assert_eq!(fmt_num(95.0), "95");
        assert_eq!(fmt_num(99.9), "99.9");
        assert_eq!(fmt_num(1234.56), "1235");
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(-2.5), "-2.5");
    }
}

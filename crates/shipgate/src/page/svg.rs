//! Bar charts of a measure by month, as inline SVG: drawn from numbers only (the labels are
//! months and numbers this module formats), styled by the site's stylesheet, with a title
//! for screen readers; the page puts the same numbers in a table beside them.

use std::fmt::Write as _;

use super::html::Esc;

const WIDTH: f64 = 420.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// A bar chart of `values` (one per label; None: no data that month, drawn as a gap with
/// "no data"), its y axis in `unit`, `title` for people.
pub fn bars(
    id: &str,
    title: &str,
    unit: &str,
    labels: &[String],
    values: &[Option<f64>],
) -> String {
    let max = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let top = nice_ceiling(max);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = labels.len().max(1);
    let slot = plot_w / n as f64;
    let bar = (slot * 0.7).max(1.0);
    let mut s = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"{id}\">{}</title>",
        Esc(title),
        id = Esc(id),
    );
    // Grid lines and y labels at 0, ½ and the top.
    for k in 0..=2 {
        let v = top * f64::from(k) / 2.0;
        let y = TOP + plot_h - plot_h * f64::from(k) / 2.0;
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/><text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            Esc(&format_value(v, unit))
        );
    }
    // One label in every few months, about 64 units apart, so that they do not overlap.
    let every = ((64.0 / slot).ceil() as usize).max(1);
    for (i, (label, value)) in labels.iter().zip(values).enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        match value.filter(|v| v.is_finite()) {
            Some(v) => {
                let h = if top > 0.0 { plot_h * v / top } else { 0.0 };
                let _ = write!(
                    s,
                    "<rect class=\"bar\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\"><title>{}: {}</title></rect>",
                    TOP + plot_h - h,
                    Esc(label),
                    Esc(&format_value(v, unit))
                );
            }
            None => {
                let _ = write!(
                    s,
                    "<text class=\"nodata\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">–</text>",
                    x + bar / 2.0,
                    TOP + plot_h - 4.0
                );
            }
        }
        if i % every == 0 {
            let _ = write!(
                s,
                "<text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x + bar / 2.0,
                HEIGHT - BOTTOM + 18.0,
                Esc(label)
            );
        }
    }
    let _ = write!(
        s,
        "<line class=\"axisline\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/></svg>",
        WIDTH - RIGHT,
        y = TOP + plot_h
    );
    s
}

/// 1, 2 or 5 times a power of ten, at least `v` (1 for nothing).
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= v {
            return m * p;
        }
    }
    10.0 * p
}

/// `12`, `3.5 h`, `40 %`.
pub fn format_value(v: f64, unit: &str) -> String {
    let number = if v == v.trunc() || v.abs() >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    };
    if unit.is_empty() {
        number
    } else {
        format!("{number} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_top_is_a_round_number_above_the_highest_bar() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(12.0), 20.0);
        assert_eq!(nice_ceiling(0.03), 0.05);
        assert_eq!(nice_ceiling(500.0), 500.0);
    }

    #[test]
    fn one_bar_per_month_with_data_and_a_gap_without() {
        let labels = vec!["2026-10".to_string(), "2026-11".into(), "2026-12".into()];
        let svg = bars(
            "c1",
            "Deployments <per month>",
            "",
            &labels,
            &[Some(3.0), None, Some(6.0)],
        );
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 2);
        assert_eq!(svg.matches("class=\"nodata\"").count(), 1);
        assert!(svg.contains("<title id=\"c1\">Deployments &lt;per month&gt;</title>"));
        assert!(svg.contains("<title>2026-12: 6</title>"));
        // The highest bar fills the plot (top 10 → 6 is 60 %).
        // plot height 144: 60 % is 86.4.
        assert!(svg.contains("height=\"86.4\""), "{svg}");
    }

    #[test]
    fn values_read_with_their_unit() {
        assert_eq!(format_value(3.0, ""), "3");
        assert_eq!(format_value(2.24, "h"), "2.2 h");
        assert_eq!(format_value(12.6, "%"), "13 %");
    }
}

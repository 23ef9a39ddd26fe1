//! The four DORA keys per environment, from the ledger alone: deployment frequency, lead
//! time for changes (each commit's time to its first promotion into the environment),
//! change failure rate (promotions followed by a rollback or a failed verification, over
//! promotions) and time to restore (from the failing verdict or the rollback request to the
//! rollback entry). Pure: the per-month records of `state` in, numbers out.

use serde::Serialize;

use crate::state::MonthMetrics;

/// One environment's delivery metrics over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvMetrics {
    /// The environment.
    pub name: String,
    /// Promotions in the window.
    pub deployments: u64,
    /// Promotions per day of the window.
    pub deployments_per_day: f64,
    /// Commits whose first promotion into the environment fell in the window.
    pub changes: u64,
    /// Their median lead time, seconds (none without changes).
    pub lead_time_median_s: Option<f64>,
    /// Their 90th percentile lead time, seconds (nearest rank).
    pub lead_time_p90_s: Option<f64>,
    /// Promotions in the window that failed.
    pub failed_deployments: u64,
    /// Failed over all promotions (none without promotions).
    pub change_failure_rate: Option<f64>,
    /// Rollbacks in the window.
    pub restores: u64,
    /// Their median time to restore, seconds (none without rollbacks).
    pub time_to_restore_median_s: Option<f64>,
}

/// The median of `values` (sorted in place): the middle one, or the mean of the two middle.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// The `q` quantile of `values` (sorted in place) by nearest rank: the smallest value with
/// at least `q` of the values at or below it.
pub fn nearest_rank(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = (q * values.len() as f64).ceil().max(1.0) as usize;
    values.get(rank - 1).copied()
}

/// `name`'s metrics over `[since, now]` (Unix seconds) from its month records.
pub fn compute<'a>(
    name: &str,
    months: impl IntoIterator<Item = &'a MonthMetrics>,
    since: i64,
    now: i64,
) -> EnvMetrics {
    let (mut deployments, mut failed) = (0u64, 0u64);
    let mut leads: Vec<f64> = Vec::new();
    let mut restores: Vec<f64> = Vec::new();
    for m in months {
        for p in m.promotions.iter().filter(|p| p.at >= since && p.at <= now) {
            deployments += 1;
            failed += u64::from(p.failed);
            leads.extend(p.lead_s.iter().map(|s| *s as f64));
        }
        restores.extend(
            m.restores
                .iter()
                .filter(|r| r.at >= since && r.at <= now)
                .map(|r| r.seconds as f64),
        );
    }
    let days = ((now - since) as f64 / 86_400.0).max(1.0 / 24.0);
    EnvMetrics {
        name: name.to_string(),
        deployments,
        deployments_per_day: deployments as f64 / days,
        changes: leads.len() as u64,
        lead_time_median_s: median(&mut leads),
        lead_time_p90_s: nearest_rank(&mut leads, 0.9),
        failed_deployments: failed,
        change_failure_rate: (deployments > 0).then(|| failed as f64 / deployments as f64),
        restores: restores.len() as u64,
        time_to_restore_median_s: median(&mut restores),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{PromotionMetric, RestoreMetric};

    const DAY: i64 = 86_400;

    fn promotion(at: i64, lead_s: &[i64], failed: bool) -> PromotionMetric {
        PromotionMetric {
            at,
            version: "x".into(),
            lead_s: lead_s.to_vec(),
            failed,
        }
    }

    #[test]
    fn known_answers_on_a_constructed_month() {
        let m = MonthMetrics {
            promotions: vec![
                promotion(DAY, &[60, 120], false),
                promotion(2 * DAY, &[30], true),
                promotion(3 * DAY, &[600, 3600, 7200], false),
                promotion(9 * DAY, &[10], false),
            ],
            restores: vec![
                RestoreMetric {
                    at: 2 * DAY + 100,
                    seconds: 40,
                },
                RestoreMetric {
                    at: 8 * DAY,
                    seconds: 100,
                },
            ],
        };
        let all = compute("prod", [&m], 0, 10 * DAY);
        assert_eq!(all.deployments, 4);
        assert!((all.deployments_per_day - 0.4).abs() < 1e-9);
        assert_eq!(all.changes, 7);
        // 10, 30, 60, 120, 600, 3600, 7200
        assert_eq!(all.lead_time_median_s, Some(120.0));
        assert_eq!(all.lead_time_p90_s, Some(7200.0));
        assert_eq!(all.change_failure_rate, Some(0.25));
        assert_eq!(all.time_to_restore_median_s, Some(70.0));
        // The window from day 2 leaves the first promotion out.
        let window = compute("prod", [&m], 2 * DAY, 10 * DAY);
        assert_eq!(window.deployments, 3);
        assert_eq!(window.change_failure_rate, Some(1.0 / 3.0));
        assert_eq!(window.lead_time_median_s, Some(600.0));
        let empty = compute("dev", [], 0, DAY);
        assert_eq!(
            (
                empty.deployments,
                empty.lead_time_median_s,
                empty.change_failure_rate
            ),
            (0, None, None)
        );
    }

    #[test]
    fn quantiles() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(nearest_rank(&mut [1.0; 10], 0.9), Some(1.0));
        let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(nearest_rank(&mut v, 0.9), Some(9.0));
        assert_eq!(nearest_rank(&mut [], 0.9), None);
    }
}

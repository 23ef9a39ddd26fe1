//! Numbers for people.

/// `-` for none, scientific notation for the very small and the very large, else at most
/// four decimals: `0.0012`, `1.5`, `3.000e-5`, `1.234e7`.
pub fn human(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) => format!("{v:.3e}"),
        Some(v) => format!("{}", (v * 1e4).round() / 1e4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        for (v, want) in [
            (None, "-"),
            (Some(0.0), "0"),
            (Some(1.5), "1.5"),
            (Some(0.00123), "0.0012"),
            (Some(0.00003), "3.000e-5"),
            (Some(12_340_000.0), "1.234e7"),
            (Some(-2.25), "-2.25"),
            (Some(f64::NAN), "NaN"),
        ] {
            assert_eq!(human(v), want, "{v:?}");
        }
    }
}

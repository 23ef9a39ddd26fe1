//! Durations written for people: `90s`, `2m`, `1h30m`, `500ms`, in settings and output.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Text that is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a duration; write e.g. \"30s\", \"2m\", \"1h30m\"")]
pub struct InvalidDuration(pub String);

/// A duration written like `90s`, `2m`, `1h30m` or `500ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// Parses `7d`, `1h30m`, `2m`, `45s`, `500ms` (units d, h, m, s, ms; at least one part).
    pub fn parse(text: &str) -> Result<Self, InvalidDuration> {
        let bad = || InvalidDuration(text.to_string());
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(bad());
        }
        let mut total = Duration::ZERO;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
            if digits == 0 {
                return Err(bad());
            }
            let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let part = match &rest[..unit_len] {
                "d" => Duration::from_secs(n.saturating_mul(86_400)),
                "h" => Duration::from_secs(n.saturating_mul(3600)),
                "m" => Duration::from_secs(n.saturating_mul(60)),
                "s" => Duration::from_secs(n),
                "ms" => Duration::from_millis(n),
                _ => return Err(bad()),
            };
            total = total.saturating_add(part);
            rest = &rest[unit_len..];
        }
        Ok(Self(total))
    }

    /// Seconds, with fractions.
    pub fn secs(self) -> f64 {
        self.0.as_secs_f64()
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        if !ms.is_multiple_of(1000) {
            return write!(f, "{ms}ms");
        }
        let s = ms / 1000;
        let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if s > 0 {
            write!(f, "{s}s")?;
        }
        Ok(())
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        HumanDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The schema of what [`HumanDuration::parse`] accepts: one or more `<digits><unit>`
/// parts, units `d`, `h`, `m`, `s`, `ms`.
impl schemars::JsonSchema for HumanDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": r"^\s*(?:[0-9]+(?:ms|d|h|m|s))+\s*$",
            "description": "A duration: `90s`, `2m`, `1h30m`, `7d`, `500ms` (units d, h, m, s, ms).",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print() {
        for (text, secs) in [
            ("90s", 90.0),
            ("2m", 120.0),
            ("1h30m", 5400.0),
            ("500ms", 0.5),
            ("1m5s", 65.0),
            ("7d", 604_800.0),
            ("1d12h", 129_600.0),
        ] {
            assert_eq!(
                HumanDuration::parse(text).map(|d| d.secs()),
                Ok(secs),
                "{text}"
            );
        }
        for bad in ["", "5", "m", "5x", "1.5m", "-1s"] {
            assert!(HumanDuration::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            HumanDuration(Duration::from_secs(5400)).to_string(),
            "1h30m"
        );
        assert_eq!(
            HumanDuration(Duration::from_millis(1500)).to_string(),
            "1500ms"
        );
    }
}

//! Freeze windows: when promotions into an environment are refused. Weekly windows in a
//! time zone (`Fri 16:00` to `Mon 08:00`, may wrap the week), whole days in a time zone, and
//! absolute spans. Time zones are IANA names from the tz database bundled into the binary
//! (jiff's `tzdb-bundle-always`): nothing is read from the host, and DST is the database's.
//! Pure: the time to check is given.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// A window in which promotions are refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(into = "RawWindow")]
pub enum FreezeWindow {
    /// Every week from `from` to `to`, local time in `zone`; wraps the week when `to` comes
    /// before `from` (`Fri 16:00` to `Mon 08:00`).
    Weekly {
        /// Start, inclusive.
        from: WeekTime,
        /// End, exclusive.
        to: WeekTime,
        /// Where the times are local.
        zone: Zone,
    },
    /// One whole day, local time in `zone`.
    Day {
        /// The day.
        date: Date,
        /// Where the day is.
        zone: Zone,
    },
    /// From `start` (inclusive) to `end` (exclusive), absolute times.
    Span {
        /// Start.
        start: Timestamp,
        /// End.
        end: Timestamp,
    },
}

/// A weekday and a time of day, to the minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekTime {
    /// The day.
    pub weekday: Weekday,
    /// Minutes after midnight, 0..1440.
    pub minute: u16,
}

/// An IANA time zone, by name.
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Zone {
    /// The zone named `name` in the bundled tz database.
    pub fn get(name: &str) -> Result<Self, FreezeError> {
        match TimeZone::get(name) {
            Ok(tz) => Ok(Self {
                name: name.to_string(),
                tz,
            }),
            Err(_) => {
                let names: Vec<String> = jiff::tz::db()
                    .available()
                    .map(|n| n.as_str().to_string())
                    .collect();
                let suggestion =
                    shipgate_stdx::text::closest(name, names.iter().map(String::as_str))
                        .map(String::from);
                Err(FreezeError::UnknownZone {
                    name: name.to_string(),
                    suggestion,
                })
            }
        }
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A freeze window that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FreezeError {
    /// Not an IANA time zone name.
    #[error("unknown time zone `{name}`{}; use an IANA name like \"Europe/Berlin\"", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownZone {
        /// The name given.
        name: String,
        /// The closest known name.
        suggestion: Option<String>,
    },
    /// Not `DAY HH:MM`.
    #[error("`{text}` is not a weekday and a time like \"Fri 16:00\"{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    BadWeekTime {
        /// The text given.
        text: String,
        /// The closest weekday, when the day was misspelt.
        suggestion: Option<String>,
    },
    /// Not `YYYY-MM-DD`.
    #[error("`{0}` is not a date like \"2026-12-24\"")]
    BadDate(String),
    /// Not RFC 3339 with an offset.
    #[error("`{0}` is not a time like \"2026-12-20T00:00:00+01:00\" (RFC 3339, with its offset)")]
    BadTimestamp(String),
    /// An end not after its start.
    #[error("the window ends ({end}) before or when it starts ({start})")]
    EndBeforeStart {
        /// The start as written.
        start: String,
        /// The end as written.
        end: String,
    },
    /// A weekly or day window without its time zone.
    #[error("a weekly or day window needs its time zone, e.g. time-zone = \"Europe/Berlin\"")]
    MissingZone,
    /// The keys of no one kind of window, or of several.
    #[error(
        "a freeze window is {{ from, to, time-zone }} (weekly), {{ date, time-zone }} (a day) or {{ start, end }}; this one has {0}"
    )]
    Shape(String),
}

/// A window as written in shipgate.toml.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawWindow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end: Option<String>,
}

const WEEKDAYS: [(&str, &str, Weekday); 7] = [
    ("mon", "monday", Weekday::Monday),
    ("tue", "tuesday", Weekday::Tuesday),
    ("wed", "wednesday", Weekday::Wednesday),
    ("thu", "thursday", Weekday::Thursday),
    ("fri", "friday", Weekday::Friday),
    ("sat", "saturday", Weekday::Saturday),
    ("sun", "sunday", Weekday::Sunday),
];

impl WeekTime {
    /// Parses `Fri 16:00` (the day as `Fri` or `Friday`, any case; the time 00:00 to 23:59).
    pub fn parse(text: &str) -> Result<Self, FreezeError> {
        let bad = |suggestion: Option<String>| FreezeError::BadWeekTime {
            text: text.to_string(),
            suggestion,
        };
        let mut parts = text.split_whitespace();
        let (Some(day), Some(time), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad(None));
        };
        let lower = day.to_ascii_lowercase();
        let Some(weekday) = WEEKDAYS
            .iter()
            .find(|(short, long, _)| lower == *short || lower == *long)
            .map(|(_, _, w)| *w)
        else {
            let names = WEEKDAYS.iter().flat_map(|(s, l, _)| [*s, *l]);
            let suggestion = shipgate_stdx::text::closest(&lower, names).map(|s| {
                let mut c = s.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            });
            return Err(bad(suggestion));
        };
        let (h, m) = time.split_once(':').ok_or_else(|| bad(None))?;
        let (Ok(h), Ok(m)) = (h.parse::<u16>(), m.parse::<u16>()) else {
            return Err(bad(None));
        };
        if h > 23 || m > 59 || time.len() != 5 {
            return Err(bad(None));
        }
        Ok(Self {
            weekday,
            minute: h * 60 + m,
        })
    }

    /// Minutes since Monday 00:00.
    fn of_week(self) -> u32 {
        u32::from(self.weekday.to_monday_zero_offset() as u8) * 1440 + u32::from(self.minute)
    }
}

impl fmt::Display for WeekTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = WEEKDAYS
            .iter()
            .find(|(_, _, w)| *w == self.weekday)
            .map_or("?", |(s, _, _)| s);
        let mut c = day.chars();
        let day: String = c
            .next()
            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default();
        write!(f, "{day} {:02}:{:02}", self.minute / 60, self.minute % 60)
    }
}

impl TryFrom<RawWindow> for FreezeWindow {
    type Error = FreezeError;

    fn try_from(raw: RawWindow) -> Result<Self, FreezeError> {
        let zone = || {
            raw.time_zone
                .as_deref()
                .map(Zone::get)
                .transpose()?
                .ok_or(FreezeError::MissingZone)
        };
        let keys: Vec<&str> = [
            ("from", raw.from.is_some()),
            ("to", raw.to.is_some()),
            ("date", raw.date.is_some()),
            ("time-zone", raw.time_zone.is_some()),
            ("start", raw.start.is_some()),
            ("end", raw.end.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        let shape = || {
            FreezeError::Shape(if keys.is_empty() {
                "no keys".into()
            } else {
                keys.join(", ")
            })
        };
        match (&raw.from, &raw.to, &raw.date, &raw.start, &raw.end) {
            (Some(from), Some(to), None, None, None) => {
                let (from, to) = (WeekTime::parse(from)?, WeekTime::parse(to)?);
                if from == to {
                    return Err(FreezeError::EndBeforeStart {
                        start: from.to_string(),
                        end: to.to_string(),
                    });
                }
                Ok(FreezeWindow::Weekly {
                    from,
                    to,
                    zone: zone()?,
                })
            }
            (None, None, Some(date), None, None) => Ok(FreezeWindow::Day {
                date: date
                    .parse::<Date>()
                    .map_err(|_| FreezeError::BadDate(date.clone()))?,
                zone: zone()?,
            }),
            (None, None, None, Some(start_text), Some(end_text)) if raw.time_zone.is_none() => {
                let parse = |t: &String| {
                    t.parse::<Timestamp>()
                        .map_err(|_| FreezeError::BadTimestamp(t.clone()))
                };
                let (start, end) = (parse(start_text)?, parse(end_text)?);
                if end <= start {
                    return Err(FreezeError::EndBeforeStart {
                        start: start_text.clone(),
                        end: end_text.clone(),
                    });
                }
                Ok(FreezeWindow::Span { start, end })
            }
            _ => Err(shape()),
        }
    }
}

/// The three shapes [`FreezeWindow`]'s deserializer accepts, each with exactly its keys.
impl schemars::JsonSchema for FreezeWindow {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FreezeWindow".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let week_time = schemars::json_schema!({
            "type": "string",
            "pattern": "^(?:[Mm][Oo][Nn](?:[Dd][Aa][Yy])?|[Tt][Uu][Ee](?:[Ss][Dd][Aa][Yy])?|[Ww][Ee][Dd](?:[Nn][Ee][Ss][Dd][Aa][Yy])?|[Tt][Hh][Uu](?:[Rr][Ss][Dd][Aa][Yy])?|[Ff][Rr][Ii](?:[Dd][Aa][Yy])?|[Ss][Aa][Tt](?:[Uu][Rr][Dd][Aa][Yy])?|[Ss][Uu][Nn](?:[Dd][Aa][Yy])?)\\s+(?:[01][0-9]|2[0-3]):[0-5][0-9]$",
            "description": "A weekday and a time of day, e.g. `Fri 16:00`.",
        });
        let zone = schemars::json_schema!({
            "type": "string",
            "minLength": 1,
            "description": "An IANA time zone, e.g. `Europe/Berlin`.",
        });
        let timestamp = schemars::json_schema!({
            "type": "string",
            "description": "An RFC 3339 time with its offset, e.g. `2026-12-24T00:00:00Z`.",
        });
        schemars::json_schema!({
            "description": "A window in which promotions are refused: weekly { from, to, time-zone }, a day { date, time-zone }, or a span { start, end }.",
            "oneOf": [
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["from", "to", "time-zone"],
                    "properties": { "from": week_time, "to": week_time, "time-zone": zone },
                    "examples": [{ "from": "Fri 16:00", "to": "Mon 08:00", "time-zone": "Europe/Berlin" }],
                },
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["date", "time-zone"],
                    "properties": {
                        "date": { "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" },
                        "time-zone": zone,
                    },
                    "examples": [{ "date": "2026-12-24", "time-zone": "Europe/Berlin" }],
                },
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["start", "end"],
                    "properties": { "start": timestamp, "end": timestamp },
                    "examples": [{ "start": "2026-11-27T00:00:00Z", "end": "2026-11-30T08:00:00Z" }],
                },
            ],
        })
    }
}

impl<'de> Deserialize<'de> for FreezeWindow {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Checked inside the visitor, not after it (as `try_from` would): a deserializer
        // that knows where each value is written (toml's) then reports a bad window at the
        // window, not at the array it is in.
        struct Window;
        impl<'de> serde::de::Visitor<'de> for Window {
            type Value = FreezeWindow;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a freeze window")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<FreezeWindow, A::Error> {
                let raw =
                    RawWindow::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                FreezeWindow::try_from(raw).map_err(serde::de::Error::custom)
            }
        }
        deserializer.deserialize_map(Window)
    }
}

impl From<FreezeWindow> for RawWindow {
    fn from(w: FreezeWindow) -> Self {
        match w {
            FreezeWindow::Weekly { from, to, zone } => RawWindow {
                from: Some(from.to_string()),
                to: Some(to.to_string()),
                time_zone: Some(zone.name),
                ..RawWindow::default()
            },
            FreezeWindow::Day { date, zone } => RawWindow {
                date: Some(date.to_string()),
                time_zone: Some(zone.name),
                ..RawWindow::default()
            },
            FreezeWindow::Span { start, end } => RawWindow {
                start: Some(start.to_string()),
                end: Some(end.to_string()),
                ..RawWindow::default()
            },
        }
    }
}

impl FreezeWindow {
    /// Whether `at` falls inside the window.
    pub fn contains(&self, at: Timestamp) -> bool {
        match self {
            FreezeWindow::Weekly { from, to, zone } => {
                let local = at.to_zoned_datetime(zone.tz.clone());
                let now = WeekTime {
                    weekday: local.weekday(),
                    minute: u16::from(local.hour() as u8) * 60 + u16::from(local.minute() as u8),
                }
                .of_week();
                let (f, t) = (from.of_week(), to.of_week());
                if f < t {
                    f <= now && now < t
                } else {
                    now >= f || now < t
                }
            }
            FreezeWindow::Day { date, zone } => {
                at.to_zoned_datetime(zone.tz.clone()).date() == *date
            }
            FreezeWindow::Span { start, end } => *start <= at && at < *end,
        }
    }
}

impl fmt::Display for FreezeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FreezeWindow::Weekly { from, to, zone } => {
                write!(f, "every {from} to {to} ({})", zone.name)
            }
            FreezeWindow::Day { date, zone } => write!(f, "{date} ({})", zone.name),
            FreezeWindow::Span { start, end } => write!(f, "{start} to {end}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(toml_text: &str) -> Result<FreezeWindow, String> {
        #[derive(Deserialize)]
        struct W {
            w: FreezeWindow,
        }
        toml::from_str::<W>(&format!("w = {toml_text}"))
            .map(|w| w.w)
            .map_err(|e| e.to_string())
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("a timestamp")
    }

    /// `(time, inside?)` pairs for one window.
    fn check(w: &FreezeWindow, cases: &[(&str, bool)]) {
        for (t, inside) in cases {
            assert_eq!(w.contains(at(t)), *inside, "{w} at {t}");
        }
    }

    #[test]
    fn a_weekend_freeze_wraps_the_week_in_local_time() {
        let w = window(r#"{ from = "Fri 16:00", to = "Mon 08:00", time-zone = "Europe/Berlin" }"#)
            .expect("valid");
        check(
            &w,
            &[
                // Friday 4 December 2026, Berlin is UTC+1 in winter.
                ("2026-12-04T14:59:00Z", false),
                ("2026-12-04T15:00:00Z", true),
                ("2026-12-06T12:00:00Z", true),
                ("2026-12-07T06:59:00Z", true),
                ("2026-12-07T07:00:00Z", false),
                ("2026-12-09T12:00:00Z", false),
            ],
        );
    }

    #[test]
    fn dst_moves_the_utc_instant_not_the_local_time() {
        let w = window(r#"{ from = "Fri 16:00", to = "Mon 08:00", time-zone = "Europe/Berlin" }"#)
            .expect("valid");
        // Summer time ends on Sunday 25 October 2026: Friday the 23rd is UTC+2, Monday the
        // 26th is UTC+1. The freeze starts at 14:00Z and ends at 07:00Z.
        check(
            &w,
            &[
                ("2026-10-23T13:59:00Z", false),
                ("2026-10-23T14:00:00Z", true),
                ("2026-10-25T01:30:00Z", true),
                ("2026-10-26T06:59:00Z", true),
                ("2026-10-26T07:00:00Z", false),
            ],
        );
        // Summer time starts on Sunday 29 March 2026: Friday the 27th is UTC+1 (15:00Z),
        // Monday the 30th is UTC+2 (06:00Z).
        check(
            &w,
            &[
                ("2026-03-27T14:59:00Z", false),
                ("2026-03-27T15:00:00Z", true),
                ("2026-03-30T05:59:00Z", true),
                ("2026-03-30T06:00:00Z", false),
            ],
        );
    }

    #[test]
    fn a_day_and_a_span() {
        let day = window(r#"{ date = "2026-12-24", time-zone = "Europe/Berlin" }"#).expect("valid");
        check(
            &day,
            &[
                ("2026-12-23T22:59:59Z", false),
                ("2026-12-23T23:00:00Z", true),
                ("2026-12-24T22:59:59Z", true),
                ("2026-12-24T23:00:00Z", false),
            ],
        );
        let span =
            window(r#"{ start = "2026-12-20T00:00:00+01:00", end = "2027-01-04T08:00:00+01:00" }"#)
                .expect("valid");
        check(
            &span,
            &[
                ("2026-12-19T22:59:59Z", false),
                ("2026-12-19T23:00:00Z", true),
                ("2027-01-04T06:59:59Z", true),
                ("2027-01-04T07:00:00Z", false),
            ],
        );
    }

    #[test]
    fn bad_windows_say_what_is_wrong() {
        for (text, needle) in [
            (
                r#"{ from = "Fri 16:00", to = "Mon 08:00", time-zone = "Europe/Berln" }"#,
                "unknown time zone `Europe/Berln` (did you mean `Europe/Berlin`?)",
            ),
            (
                r#"{ from = "Fir 16:00", to = "Mon 08:00", time-zone = "UTC" }"#,
                "`Fir 16:00` is not a weekday and a time like \"Fri 16:00\" (did you mean `Fri`?)",
            ),
            (
                r#"{ from = "Fri 25:00", to = "Mon 08:00", time-zone = "UTC" }"#,
                "is not a weekday and a time",
            ),
            (
                r#"{ from = "Fri 16:00", to = "Fri 16:00", time-zone = "UTC" }"#,
                "ends (Fri 16:00) before or when it starts",
            ),
            (
                r#"{ start = "2027-01-04T08:00:00+01:00", end = "2026-12-20T00:00:00+01:00" }"#,
                "ends (2026-12-20T00:00:00+01:00) before or when it starts",
            ),
            (
                r#"{ date = "2026-13-01", time-zone = "UTC" }"#,
                "is not a date",
            ),
            (r#"{ date = "2026-12-24" }"#, "needs its time zone"),
            (
                r#"{ start = "2026-12-20T00:00:00+01:00" }"#,
                "this one has start",
            ),
            (
                r#"{ from = "Fri 16:00", date = "2026-12-24", time-zone = "UTC" }"#,
                "this one has from, date, time-zone",
            ),
            (
                r#"{ start = "yesterday", end = "2026-12-20T00:00:00+01:00" }"#,
                "`yesterday` is not a time",
            ),
            (r#"{ form = "Fri 16:00" }"#, "unknown field `form`"),
        ] {
            let err = window(text).expect_err(text);
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn a_bad_window_is_reported_where_it_is_written() {
        #[derive(Debug, Deserialize)]
        struct W {
            #[allow(dead_code)]
            w: Vec<FreezeWindow>,
        }
        let bad = r#"{ date = "2026-12-24", time-zone = "Mars/Olympus" }"#;
        let text =
            format!("w = [\n  {{ date = \"2026-12-24\", time-zone = \"UTC\" }},\n  {bad},\n]\n");
        let err = toml::from_str::<W>(&text).expect_err("an unknown zone");
        assert!(
            err.message().contains("unknown time zone `Mars/Olympus`"),
            "{err}"
        );
        assert_eq!(err.span().map(|s| s.start), text.find(bad), "{err}");
    }

    #[test]
    fn windows_print_as_written() {
        let w =
            window(r#"{ from = "friday 16:00", to = "Mon 08:00", time-zone = "Europe/Berlin" }"#)
                .expect("valid");
        assert_eq!(
            w.to_string(),
            "every Fri 16:00 to Mon 08:00 (Europe/Berlin)"
        );
    }
}

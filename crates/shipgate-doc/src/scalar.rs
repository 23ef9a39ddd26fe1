//! What a plain YAML scalar means, as each reader of the platform's files reads it. YAML 1.2's
//! core schema knows `true`/`false`, `null`/`~`, decimal, `0o` and `0x` integers and floats;
//! YAML 1.1 readers also take `yes`/`no`/`on`/`off` as booleans, `0777` as octal and `1:30`
//! as base 60 (90). Which rule applies is the [`Dialect`] of the file's consumer.

use crate::node::Value;

/// Whose reading of YAML applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// YAML 1.2's core schema: Kustomize (kyaml), Argo CD, and any reader the layout does not
    /// name.
    #[default]
    Yaml12,
    /// YAML 1.1 as SnakeYAML reads it for Spring Boot: `yes|no|on|off` (any case form YAML
    /// 1.1 lists) are booleans, `0777` octal, `1:30` base 60, `0b1010` binary; timestamps stay
    /// text (Spring Boot's loader turns their resolution off).
    Spring,
    /// YAML 1.1 as go-yaml v2 reads it for Helm (through sigs.k8s.io/yaml): Spring's rules,
    /// `y`/`n` are booleans too, and there is no base 60 (`1:30` is text).
    Helm,
}

impl Dialect {
    /// The reader's name, for messages.
    pub fn reader(self) -> &'static str {
        match self {
            Dialect::Yaml12 => "YAML 1.2",
            Dialect::Spring => "Spring Boot (SnakeYAML, YAML 1.1)",
            Dialect::Helm => "Helm (go-yaml v2, YAML 1.1)",
        }
    }
}

/// The value of a plain (unquoted, untagged) scalar.
pub fn resolve_plain(text: &str, dialect: Dialect) -> Value {
    match dialect {
        Dialect::Yaml12 => resolve12(text),
        Dialect::Spring => resolve11(text, false),
        Dialect::Helm => resolve11(text, true),
    }
}

/// The value of a scalar with an explicit core tag (`!!str`, `!!int` …), or `None` when the
/// tag asks for what the text cannot be.
pub fn resolve_tagged(text: &str, suffix: &str, dialect: Dialect) -> Option<Value> {
    let plain = resolve_plain(text, dialect);
    match suffix {
        "str" => Some(Value::String(text.to_string())),
        "null" => matches!(plain, Value::Null).then_some(Value::Null),
        "bool" => matches!(plain, Value::Boolean(_)).then_some(plain),
        "int" => matches!(plain, Value::Integer(_)).then_some(plain),
        "float" => match plain {
            Value::Integer(i) => Some(Value::Float(i as f64)),
            Value::Float(_) => Some(plain),
            _ => None,
        },
        _ => Some(plain),
    }
}

fn resolve12(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Boolean(true),
        "false" | "False" | "FALSE" => return Value::Boolean(false),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let (negative, body) = sign(text);
    if let Some(f) = infinity(body) {
        return Value::Float(if negative { -f } else { f });
    }
    if !text.starts_with(['-', '+']) {
        if let Some(hex) = text.strip_prefix("0x") {
            return radix(hex, 16, false, text);
        }
        if let Some(oct) = text.strip_prefix("0o") {
            return radix(oct, 8, false, text);
        }
    }
    if !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()) {
        return integer(negative, body, 10, text);
    }
    if is_float(body, false) {
        return float(text, false);
    }
    Value::String(text.to_string())
}

fn resolve11(text: &str, go: bool) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Boolean(true);
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Boolean(false);
        }
        "y" | "Y" if go => return Value::Boolean(true),
        "n" | "N" if go => return Value::Boolean(false),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let (negative, body) = sign(text);
    if let Some(f) = infinity(body) {
        return Value::Float(if negative { -f } else { f });
    }
    let digits_ = |s: &str, ok: fn(u8) -> bool| {
        !s.is_empty() && s.bytes().all(|b| b == b'_' || ok(b)) && s.bytes().any(ok)
    };
    if let Some(bin) = body.strip_prefix("0b")
        && digits_(bin, |b| b == b'0' || b == b'1')
    {
        return signed(radix(bin, 2, true, text), negative);
    }
    if let Some(hex) = body.strip_prefix("0x")
        && digits_(hex, |b| b.is_ascii_hexdigit())
    {
        return signed(radix(hex, 16, true, text), negative);
    }
    if body.len() > 1
        && body.starts_with('0')
        && digits_(&body[1..], |b| (b'0'..=b'7').contains(&b))
    {
        return signed(radix(&body[1..], 8, true, text), negative);
    }
    if body == "0"
        || (body.starts_with(|c: char| ('1'..='9').contains(&c))
            && digits_(body, |b| b.is_ascii_digit()))
    {
        return integer(negative, &body.replace('_', ""), 10, text);
    }
    if let Some(n) = sexagesimal(body).filter(|_| !go) {
        return match n {
            Sexagesimal::Int(i) => Value::Integer(if negative { -i } else { i }),
            Sexagesimal::Float(f) => Value::Float(if negative { -f } else { f }),
        };
    }
    if is_float(body, true) {
        return float(text, true);
    }
    Value::String(text.to_string())
}

fn sign(text: &str) -> (bool, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    }
}

fn infinity(body: &str) -> Option<f64> {
    matches!(body, ".inf" | ".Inf" | ".INF").then_some(f64::INFINITY)
}

fn signed(v: Value, negative: bool) -> Value {
    match v {
        Value::Integer(i) if negative => Value::Integer(-i),
        Value::Float(f) if negative => Value::Float(-f),
        other => other,
    }
}

/// Digits in `radix` (underscores allowed when `underscores`); too large for i64 is a float.
fn radix(digits: &str, radix: u32, underscores: bool, text: &str) -> Value {
    let clean: String = if underscores {
        digits.chars().filter(|c| *c != '_').collect()
    } else {
        digits.to_string()
    };
    if clean.is_empty() || !clean.chars().all(|c| c.is_digit(radix)) {
        return Value::String(text.to_string());
    }
    match i64::from_str_radix(&clean, radix) {
        Ok(n) => Value::Integer(n),
        Err(_) => {
            Value::Float(u128::from_str_radix(&clean, radix).map_or(f64::INFINITY, |n| n as f64))
        }
    }
}

fn integer(negative: bool, digits: &str, base: u32, text: &str) -> Value {
    let signed = if negative {
        format!("-{digits}")
    } else {
        digits.to_string()
    };
    match i64::from_str_radix(&signed, base) {
        Ok(n) => Value::Integer(n),
        Err(_) => signed
            .parse::<f64>()
            .map_or_else(|_| Value::String(text.to_string()), Value::Float),
    }
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, digits with `_` when `underscores`.
fn is_float(body: &str, underscores: bool) -> bool {
    let digit = |b: u8| b.is_ascii_digit() || underscores && b == b'_';
    let bytes = body.as_bytes();
    let mut i = 0;
    let int_start = i;
    while i < bytes.len() && digit(bytes[i]) {
        i += 1;
    }
    let int_digits = bytes[int_start..i].iter().any(u8::is_ascii_digit);
    let mut frac_digits = false;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let start = i;
        while i < bytes.len() && digit(bytes[i]) {
            i += 1;
        }
        frac_digits = bytes[start..i].iter().any(u8::is_ascii_digit);
    }
    if !int_digits && !frac_digits {
        return false;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return false;
        }
    }
    i == bytes.len()
}

fn float(text: &str, underscores: bool) -> Value {
    let clean: String = if underscores {
        text.chars().filter(|c| *c != '_').collect()
    } else {
        text.to_string()
    };
    clean
        .parse::<f64>()
        .map_or_else(|_| Value::String(text.to_string()), Value::Float)
}

enum Sexagesimal {
    Int(i64),
    Float(f64),
}

/// YAML 1.1's base 60: `[1-9][0-9_]*(:[0-5]?[0-9])+` (and a float with `.` after the last
/// part).
fn sexagesimal(body: &str) -> Option<Sexagesimal> {
    if !body.contains(':') || !body.starts_with(|c: char| ('1'..='9').contains(&c)) {
        return None;
    }
    let (whole, fraction) = match body.split_once('.') {
        Some((w, f)) if f.bytes().all(|b| b.is_ascii_digit() || b == b'_') => (w, Some(f)),
        Some(_) => return None,
        None => (body, None),
    };
    let mut parts = whole.split(':');
    let first = parts.next()?;
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return None;
    }
    let mut total: i64 = first.replace('_', "").parse().ok()?;
    for part in parts {
        let ok = (1..=2).contains(&part.len())
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part.len() == 1 || part.as_bytes()[0] <= b'5');
        if !ok {
            return None;
        }
        total = total
            .checked_mul(60)?
            .checked_add(part.parse::<i64>().ok()?)?;
    }
    Some(match fraction {
        None => Sexagesimal::Int(total),
        Some(f) => {
            let f: String = f.chars().filter(|c| *c != '_').collect();
            Sexagesimal::Float(total as f64 + format!("0.{f}").parse::<f64>().unwrap_or(0.0))
        }
    })
}

/// When a plain scalar reads differently in YAML 1.1 (Spring's or Helm's reader) and YAML
/// 1.2: what the 1.1 reader that differs reads, and what 1.2 reads.
pub fn ambiguity(text: &str) -> Option<(Value, Value)> {
    let v12 = resolve12(text);
    let same = |a: &Value, b: &Value| match (a, b) {
        (Value::Float(x), Value::Float(y)) => x == y || x.is_nan() && y.is_nan(),
        (a, b) => a == b,
    };
    [resolve11(text, true), resolve11(text, false)]
        .into_iter()
        .find(|v11| !same(v11, &v12))
        .map(|v11| (v11, v12))
}

/// `value` as a reader would print it, for messages: `true`, `90`, `"on"`.
pub fn show(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::String(s) => format!("the text \"{s}\""),
        Value::Integer(i) => format!("the number {i}"),
        Value::Float(f) => format!("the number {f}"),
        Value::Boolean(b) => format!("{b}"),
        Value::Datetime(d) => d.clone(),
        Value::Array(_) => "a list".into(),
        Value::Table(_) => "a mapping".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, dialect: Dialect, want: Value) {
        let got = resolve_plain(text, dialect);
        let same = match (&got, &want) {
            (Value::Float(a), Value::Float(b)) => a == b || a.is_nan() && b.is_nan(),
            (a, b) => a == b,
        };
        assert!(same, "{text:?} in {dialect:?}: {got:?}, want {want:?}");
    }

    fn s(t: &str) -> Value {
        Value::String(t.into())
    }

    #[test]
    fn yaml_1_2_core_schema() {
        use Dialect::Yaml12 as D;
        for (text, want) in [
            ("", Value::Null),
            ("~", Value::Null),
            ("true", Value::Boolean(true)),
            ("FALSE", Value::Boolean(false)),
            ("on", s("on")),
            ("yes", s("yes")),
            ("y", s("y")),
            ("42", Value::Integer(42)),
            ("-7", Value::Integer(-7)),
            ("0o17", Value::Integer(15)),
            ("0x1F", Value::Integer(31)),
            ("010", Value::Integer(10)),
            ("1_000", s("1_000")),
            ("1.5", Value::Float(1.5)),
            ("1.10", Value::Float(1.1)),
            ("1e3", Value::Float(1000.0)),
            (".5", Value::Float(0.5)),
            ("-.inf", Value::Float(f64::NEG_INFINITY)),
            (".nan", Value::Float(f64::NAN)),
            ("1.4.0", s("1.4.0")),
            ("1:30", s("1:30")),
            ("v1", s("v1")),
            (
                "9223372036854775808",
                Value::Float(9.223_372_036_854_776e18),
            ),
        ] {
            check(text, D, want);
        }
    }

    #[test]
    fn yaml_1_1_as_spring_and_helm_read_it() {
        for d in [Dialect::Spring, Dialect::Helm] {
            for (text, want) in [
                ("on", Value::Boolean(true)),
                ("OFF", Value::Boolean(false)),
                ("yes", Value::Boolean(true)),
                ("No", Value::Boolean(false)),
                ("0777", Value::Integer(511)),
                ("0b1010", Value::Integer(10)),
                ("-0x_1F", Value::Integer(-31)),
                ("1_000", Value::Integer(1000)),
                ("1.10", Value::Float(1.1)),
                ("1.4.0", s("1.4.0")),
                ("2001-12-14", s("2001-12-14")),
                ("1:60", s("1:60")),
                ("0:30", s("0:30")),
            ] {
                check(text, d, want);
            }
        }
        check("1:30", Dialect::Spring, Value::Integer(90));
        check("190:20:30", Dialect::Spring, Value::Integer(685_230));
        check("1:30.5", Dialect::Spring, Value::Float(90.5));
        check("1:30", Dialect::Helm, s("1:30"));
        check("y", Dialect::Spring, s("y"));
        check("y", Dialect::Helm, Value::Boolean(true));
        check("N", Dialect::Helm, Value::Boolean(false));
    }

    #[test]
    fn tags_force_a_reading_or_refuse() {
        assert_eq!(
            resolve_tagged("1.10", "str", Dialect::Spring),
            Some(s("1.10"))
        );
        assert_eq!(
            resolve_tagged("7", "float", Dialect::Yaml12),
            Some(Value::Float(7.0))
        );
        assert_eq!(resolve_tagged("abc", "int", Dialect::Yaml12), None);
    }

    #[test]
    fn readings_that_differ_between_1_1_and_1_2_are_found() {
        for text in ["on", "no", "y", "0777", "1:30", "1_000", "0b1"] {
            assert!(ambiguity(text).is_some(), "{text}");
        }
        for text in ["true", "42", "1.5", "1.4.0", "hello", "", "0x1F"] {
            assert!(ambiguity(text).is_none(), "{text}");
        }
    }
}

//! Just enough JSON for version edits that keep every other byte: a parser (RFC 8259) that
//! remembers where each string value was written, so a caller splices a new value into
//! the text instead of serialising the document again.

use std::ops::Range;

/// A JSON value; strings keep the byte range of their contents (between the quotes).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Object(Vec<(String, Json)>),
    Array(Vec<Json>),
    String {
        value: String,
        span: Range<usize>,
    },
    /// A number, `true`, `false` or `null`: nothing here needs their value.
    Scalar,
}

impl Json {
    /// Every value of `key` in this object, in document order (a key written twice is
    /// found twice).
    pub(crate) fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Json> + 'a {
        let members: &[(String, Json)] = match self {
            Json::Object(members) => members,
            _ => &[],
        };
        members
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

/// Why a text is not JSON: the byte offset and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonError {
    pub offset: usize,
    pub message: String,
}

/// Parses a whole document (a UTF-8 byte order mark before it is allowed, as npm writes
/// none but editors sometimes do).
pub(crate) fn parse(text: &str) -> Result<Json, JsonError> {
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        at: start,
        depth: 0,
    };
    let value = p.value()?;
    p.space();
    if p.at < p.bytes.len() {
        return Err(p.error("the end of the document"));
    }
    Ok(value)
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 512;

struct Parser<'t> {
    text: &'t str,
    bytes: &'t [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, expected: &str) -> JsonError {
        let found = match self.text[self.at..].chars().next() {
            Some(c) => format!("`{}`", c.escape_debug()),
            None => "the end of the file".to_string(),
        };
        JsonError {
            offset: self.at,
            message: format!("expected {expected}, found {found}"),
        }
    }

    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.space();
        if self.bytes.get(self.at) == Some(&b) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Json, JsonError> {
        self.space();
        match self.bytes.get(self.at) {
            Some(b'{') => self.nested(|p| p.object()),
            Some(b'[') => self.nested(|p| p.array()),
            Some(b'"') => {
                let (value, span) = self.string()?;
                Ok(Json::String { value, span })
            }
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.error("a value")),
        }
    }

    fn nested(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<Json, JsonError>,
    ) -> Result<Json, JsonError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(JsonError {
                offset: self.at,
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        let value = f(self);
        self.depth -= 1;
        value
    }

    fn object(&mut self) -> Result<Json, JsonError> {
        self.at += 1; // {
        let mut members = Vec::new();
        if self.eat(b'}') {
            return Ok(Json::Object(members));
        }
        loop {
            self.space();
            if self.bytes.get(self.at) != Some(&b'"') {
                return Err(self.error("a key in quotes"));
            }
            let (key, _) = self.string()?;
            if !self.eat(b':') {
                return Err(self.error("`:`"));
            }
            let value = self.value()?;
            members.push((key, value));
            if self.eat(b',') {
                continue;
            }
            if self.eat(b'}') {
                return Ok(Json::Object(members));
            }
            return Err(self.error("`,` or `}`"));
        }
    }

    fn array(&mut self) -> Result<Json, JsonError> {
        self.at += 1; // [
        let mut items = Vec::new();
        if self.eat(b']') {
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value()?);
            if self.eat(b',') {
                continue;
            }
            if self.eat(b']') {
                return Ok(Json::Array(items));
            }
            return Err(self.error("`,` or `]`"));
        }
    }

    fn literal(&mut self, word: &str) -> Result<Json, JsonError> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(Json::Scalar)
        } else {
            Err(self.error(&format!("`{word}`")))
        }
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.at;
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        let digits = |p: &mut Self| {
            let from = p.at;
            while p.bytes.get(p.at).is_some_and(u8::is_ascii_digit) {
                p.at += 1;
            }
            p.at > from
        };
        if self.bytes.get(self.at) == Some(&b'0') {
            self.at += 1;
        } else if !digits(self) {
            return Err(self.error("a digit"));
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            if !digits(self) {
                return Err(self.error("a digit"));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                self.at += 1;
            }
            if !digits(self) {
                return Err(self.error("a digit"));
            }
        }
        debug_assert!(self.at > start);
        Ok(Json::Scalar)
    }

    /// A string at `"`: its decoded value and the byte range of what is between the quotes.
    fn string(&mut self) -> Result<(String, Range<usize>), JsonError> {
        self.at += 1; // "
        let start = self.at;
        let mut value = String::new();
        loop {
            let Some(c) = self.text[self.at..].chars().next() else {
                return Err(self.error("`\"` to end the string"));
            };
            match c {
                '"' => {
                    let span = start..self.at;
                    self.at += 1;
                    return Ok((value, span));
                }
                '\\' => {
                    self.at += 1;
                    value.push(self.escape()?);
                }
                c if u32::from(c) < 0x20 => {
                    return Err(self.error("a character other than a control character"));
                }
                c => {
                    value.push(c);
                    self.at += c.len_utf8();
                }
            }
        }
    }

    /// The character of an escape, after its backslash.
    fn escape(&mut self) -> Result<char, JsonError> {
        let simple = match self.bytes.get(self.at) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.at += 1;
                let high = self.hex4()?;
                if !(0xD800..0xDC00).contains(&high) {
                    return Ok(char::from_u32(high).unwrap_or('\u{fffd}'));
                }
                if !self.text[self.at..].starts_with("\\u") {
                    return Ok('\u{fffd}');
                }
                self.at += 2;
                let low = self.hex4()?;
                let code = 0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
                return Ok(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
            _ => return Err(self.error("an escape (`\\\"`, `\\\\`, `\\n`, `\\u0041`, …)")),
        };
        self.at += 1;
        Ok(simple)
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("four hexadecimal digits"))?;
        self.at += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.error("four hexadecimal digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_keep_their_span_and_decode_escapes() {
        let text = "{\"a\": [1, -2.5e3, true, null], \"b\\u00e9\": \"x\\\"y\\ud83d\\ude00\"}";
        let doc = parse(text).expect("valid");
        let Some(Json::String { value, span }) = doc.get_all("bé").next() else {
            panic!("{doc:?}");
        };
        assert_eq!(value, "x\"y😀");
        assert_eq!(&text[span.clone()], "x\\\"y\\ud83d\\ude00");
    }

    #[test]
    fn errors_say_where_and_what_was_expected() {
        for (text, offset, message) in [
            ("{\"a\": 1,}", 8, "expected a key in quotes, found `}`"),
            ("{\"a\" 1}", 5, "expected `:`, found `1`"),
            ("[1 2]", 3, "expected `,` or `]`, found `2`"),
            (
                "{\"a\": \"b",
                8,
                "expected `\"` to end the string, found the end of the file",
            ),
            ("{} x", 3, "expected the end of the document, found `x`"),
            ("01", 1, "expected the end of the document, found `1`"),
        ] {
            assert_eq!(
                parse(text),
                Err(JsonError {
                    offset,
                    message: message.to_string()
                }),
                "{text}"
            );
        }
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).is_err());
    }
}

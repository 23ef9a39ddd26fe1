//! Positions in text and suggestions for typos.

/// 1-based line and column (in characters) of a byte offset; offsets past the end clamp to
/// the end, offsets inside a character to its start. For many offsets into one text, build
/// a [`LineIndex`] once.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let (line, column) = LineIndex::new(text).line_col(text, offset);
    (line as usize, column as usize)
}

/// Line start offsets of a text, for many span -> line:col lookups on one file.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 1-based (line, column in characters) of a byte offset; offsets past the end clamp.
    pub fn line_col(&self, text: &str, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let column = text[start..offset].chars().count() + 1;
        (to_u32(line + 1), to_u32(column))
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text<'t>(&self, text: &'t str, line: u32) -> &'t str {
        let i = (line as usize).saturating_sub(1);
        let Some(&start) = self.starts.get(i) else {
            return "";
        };
        let end = self
            .starts
            .get(i + 1)
            .map_or(text.len(), |&e| e.saturating_sub(1));
        text.get(start..end.max(start))
            .unwrap_or("")
            .trim_end_matches('\r')
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The candidate close enough to `unknown` to be what was meant (Damerau-Levenshtein
/// distance at most 2, or a third of the candidate's length for long names), the closest
/// first-listed one when several are equally close.
pub fn did_you_mean<'a>(unknown: &str, candidates: &[&'a str]) -> Option<&'a str> {
    closest(unknown, candidates.iter().copied())
}

/// [`did_you_mean`] over any iterator of candidates.
pub fn closest<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(unknown, c), c))
        .filter(|(d, c)| *d <= 2.max(c.chars().count() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `text` percent-encoded for a URL's path segment or query value: every byte but the
/// unreserved ones (letters, digits, `-`, `.`, `_`, `~`) as `%XX`, so that outside text can
/// add no `/`, `?`, `&`, `#` or `=`.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_and_clamps() {
        let text = "ab\ncé\nx";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 2), (1, 3));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 4), (2, 2));
        // Inside the two bytes of `é`: its start.
        assert_eq!(line_col(text, 5), (2, 2));
        assert_eq!(line_col(text, 6), (2, 3));
        assert_eq!(line_col(text, 7), (3, 1));
        assert_eq!(line_col(text, 999), (3, 2));
        assert_eq!(line_col("", 5), (1, 1));
    }

    #[test]
    fn the_line_index_counts_characters_and_clamps() {
        let text = "ab\ncdé f\n";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 0), (1, 1));
        assert_eq!(index.line_col(text, 3), (2, 1));
        assert_eq!(index.line_col(text, 8), (2, 5));
        assert_eq!(index.line_col(text, 6), (2, 3), "inside é rounds down");
        assert_eq!(index.line_col(text, 999), (3, 1));
        assert_eq!(index.line_text(text, 2), "cdé f");
        assert_eq!(index.line_text(text, 9), "");
    }

    #[test]
    fn suggests_the_closest_near_name_only() {
        let keys = [
            "steps",
            "interval",
            "max-duration",
            "consecutive-error-limit",
        ];
        assert_eq!(closest("stpes", keys), Some("steps"));
        assert_eq!(closest("intervall", keys), Some("interval"));
        assert_eq!(
            closest("consecutive-errors-limit", keys),
            Some("consecutive-error-limit")
        );
        assert_eq!(closest("zzz", keys), None);
        assert_eq!(
            did_you_mean("prdo", &["dev", "staging", "prod"]),
            Some("prod")
        );
        assert_eq!(closest("x", []), None);
    }
}

//! Positions in text and suggestions for typos.

/// 1-based line and column (in characters) of a byte offset; offsets past the end clamp to
/// the end, offsets inside a character to its start.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
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

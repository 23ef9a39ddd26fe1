//! The pieces every page is made of: escaping (outside text is always data), safe file
//! names and anchors, times, the layout with its navigation, and paging by rows and bytes.

use std::fmt::{self, Display, Write as _};

use jiff::Timestamp;

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped, control characters dropped, so it is
/// safe in element content and in quoted attribute values.
pub struct Esc<'a>(pub &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(|c: char| {
            matches!(c, '&' | '<' | '>' | '"' | '\'') || (c.is_control() && c != '\n')
        }) {
            f.write_str(&rest[..i])?;
            let c = rest[i..].chars().next().unwrap_or(' ');
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                _ => f.write_str(" ")?,
            }
            rest = &rest[i + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

/// Outside text escaped, and cut to `max` characters (an ellipsis says so), so that no
/// entry can make a page too big.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => Esc(text).to_string(),
        Some((i, _)) => format!("{}…", Esc(&text[..i])),
    }
}

/// The most characters of one outside text shown on a page.
pub const TEXT_MAX: usize = 500;

/// A file-name part for outside text: lowercase ASCII letters, digits and `-` from it (at
/// most 32), then a hash of the whole, so that distinct texts get distinct names and no
/// text becomes a path.
pub fn slug(text: &str) -> String {
    let mut s = String::new();
    for c in text.chars() {
        if s.len() >= 32 {
            break;
        }
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    let s = s.trim_end_matches('-');
    format!(
        "{s}{}{:08x}",
        if s.is_empty() { "" } else { "-" },
        fnv(text) as u32
    )
}

fn fnv(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// An element id (and URL fragment) for a version: ASCII letters, digits, `.` and `-` kept,
/// every other byte as `_xx`; one version, one id, never two.
pub fn anchor(version: &str) -> String {
    let mut s = String::from("v-");
    for b in version.bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
            s.push(b as char);
        } else {
            let _ = write!(s, "_{b:02x}");
        }
    }
    s
}

/// `<time>` with the machine-readable instant and `2026-12-01 10:00 UTC` for people.
pub fn time(at: Timestamp) -> String {
    format!(
        "<time datetime=\"{at}\">{}</time>",
        at.strftime("%Y-%m-%d %H:%M UTC")
    )
}

/// A link for an outside URL, only when it is `https://` or `http://` (never `javascript:`
/// or a file), else the text.
pub fn url_or_text(text: &str) -> String {
    let lower = text.trim_start().to_ascii_lowercase();
    if (lower.starts_with("https://") || lower.starts_with("http://"))
        && !text.chars().any(char::is_whitespace)
    {
        format!(
            "<a href=\"{}\" rel=\"noreferrer\">{}</a>",
            Esc(text),
            clip(text, 120)
        )
    } else {
        clip(text, TEXT_MAX)
    }
}

/// The site's sections, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Status,
    History,
    Versions,
    Canaries,
    Delivery,
}

const SECTIONS: [(Section, &str, &str); 5] = [
    (Section::Status, "index.html", "Status"),
    (Section::History, "history/index.html", "History"),
    (Section::Versions, "versions/index.html", "Versions"),
    (Section::Canaries, "canaries/index.html", "Canaries"),
    (Section::Delivery, "delivery.html", "Delivery"),
];

/// What every page has around its content.
pub struct Frame<'a> {
    /// The site's name (the repository's).
    pub site: &'a str,
    /// When the site was built.
    pub generated_at: Timestamp,
    /// The ledger's tip it was built from.
    pub ledger_commit: Option<&'a str>,
}

/// A whole page: `title` (already HTML), at `depth` directories below the site's root, in
/// `section`, around `body` (already HTML, starting with its `<h1>`).
pub fn page(frame: &Frame<'_>, title: &str, depth: usize, section: Section, body: &str) -> String {
    let up = "../".repeat(depth);
    let mut nav = String::new();
    for (s, href, label) in SECTIONS {
        let current = if s == section {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(nav, "<li><a href=\"{up}{href}\"{current}>{label}</a></li>");
    }
    let tip = frame
        .ledger_commit
        .map(|c| {
            format!(
                " at ledger commit <code>{}</code>",
                Esc(&c[..c.len().min(12)])
            )
        })
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title} · {site}</title>\n<link rel=\"stylesheet\" href=\"{up}style.css\">\n</head>\n<body>\n<a class=\"skip\" href=\"#content\">Skip to content</a>\n<header>\n<p class=\"site\"><a href=\"{up}index.html\">{site}</a> <span>delivery status</span></p>\n<nav aria-label=\"Sections\"><ul>{nav}</ul></nav>\n</header>\n<main id=\"content\">\n{body}\n</main>\n<footer><p>Built by <code>shipgate page</code> on {generated}{tip}, from the ledger alone.</p></footer>\n</body>\n</html>\n",
        site = Esc(frame.site),
        generated = time(frame.generated_at),
    )
}

/// The most rows on one page of a listing.
pub const ROWS_PER_PAGE: usize = 1_000;

/// The most bytes of rows on one page, so that no page is over 1 MB with its frame.
pub const BYTES_PER_PAGE: usize = 800_000;

/// Rows cut into pages of at most [`ROWS_PER_PAGE`] rows and [`BYTES_PER_PAGE`] bytes
/// (never an empty page, but one page when there are no rows).
pub fn pages<'r>(rows: &[&'r str]) -> Vec<Vec<&'r str>> {
    let mut out: Vec<Vec<&str>> = vec![Vec::new()];
    let mut bytes = 0;
    for row in rows {
        let last = out.len() - 1;
        if !out[last].is_empty()
            && (out[last].len() >= ROWS_PER_PAGE || bytes + row.len() > BYTES_PER_PAGE)
        {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += row.len();
        let last = out.len() - 1;
        out[last].push(row);
    }
    out
}

/// The file name of page `n` (1-based) of a listing named `stem`: `stem.html`, then
/// `stem-2.html`, …
pub fn page_file(stem: &str, n: usize) -> String {
    if n <= 1 {
        format!("{stem}.html")
    } else {
        format!("{stem}-{n}.html")
    }
}

/// Links to the other pages of a listing (none when there is one page).
pub fn pager(stem: &str, n: usize, count: usize) -> String {
    if count <= 1 {
        return String::new();
    }
    let mut s = String::from("<nav class=\"pager\" aria-label=\"Pages\"><ul>");
    if n > 1 {
        let _ = write!(
            s,
            "<li><a href=\"{}\" rel=\"prev\">Newer</a></li>",
            page_file(stem, n - 1)
        );
    }
    for i in 1..=count {
        // Around the current page and the ends; the rest as a gap.
        if i == 1 || i == count || i.abs_diff(n) <= 3 {
            if i == n {
                let _ = write!(s, "<li><span aria-current=\"page\">{i}</span></li>");
            } else {
                let _ = write!(s, "<li><a href=\"{}\">{i}</a></li>", page_file(stem, i));
            }
        } else if i == 2 || i == count - 1 {
            s.push_str("<li>…</li>");
        }
    }
    if n < count {
        let _ = write!(
            s,
            "<li><a href=\"{}\" rel=\"next\">Older</a></li>",
            page_file(stem, n + 1)
        );
    }
    s.push_str("</ul></nav>");
    s
}

/// A table inside a region that scrolls sideways on a narrow screen and can be scrolled
/// with the keyboard; `head` is the `<tr>` of `<th scope="col">`s.
pub fn table(label: &str, head: &str, rows: &str) -> String {
    format!(
        "<div class=\"scroll\" role=\"region\" aria-label=\"{label}\" tabindex=\"0\"><table>\n<thead>{head}</thead>\n<tbody>\n{rows}</tbody>\n</table></div>\n",
        label = Esc(label)
    )
}

/// A `<tr>` of column headings.
pub fn head(columns: &[&str]) -> String {
    let mut s = String::from("<tr>");
    for c in columns {
        let _ = write!(s, "<th scope=\"col\">{c}</th>");
    }
    s.push_str("</tr>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_is_escaped_and_clipped() {
        assert_eq!(
            Esc("<script>alert('x')</script> & \"q\"").to_string(),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(Esc("a\u{0}b\tc").to_string(), "a b c");
        assert_eq!(clip("abcdef", 3), "abc…");
        assert_eq!(clip("a<b", 3), "a&lt;b");
        assert_eq!(clip("ééé", 2), "éé…");
    }

    #[test]
    fn slugs_are_safe_file_names_and_distinct() {
        assert_eq!(slug("prod").split('-').next(), Some("prod"));
        let evil = slug("../../etc/passwd");
        assert!(
            evil.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{evil}"
        );
        assert!(!evil.starts_with('-'), "{evil}");
        assert_ne!(slug("a b"), slug("a-b"));
        assert_ne!(slug("Alice"), slug("alice"));
        assert_eq!(slug("日本").len(), 8);
        assert!(slug(&"x".repeat(500)).len() <= 32 + 9);
    }

    #[test]
    fn anchors_are_distinct_for_distinct_versions() {
        assert_eq!(anchor("1.4.0-rc.1"), "v-1.4.0-rc.1");
        assert_eq!(anchor("1.4.0+build"), "v-1.4.0_2bbuild");
        assert_ne!(anchor("a_2b"), anchor("a+"));
        assert!(
            anchor("\"><script>")
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        );
    }

    #[test]
    fn only_web_urls_become_links() {
        assert!(url_or_text("https://ci.example.com/run/1").starts_with("<a href=\"https://"));
        assert_eq!(
            url_or_text("javascript:alert(1)"),
            "javascript:alert(1)".to_string()
        );
        assert!(!url_or_text("https://x.example/ onmouseover=alert(1)").contains("<a"));
        assert!(url_or_text("https://x.example/?a=\"b").contains("&quot;"));
    }

    #[test]
    fn pages_hold_at_most_their_rows_and_bytes() {
        let small: Vec<String> = (0..2_500).map(|i| format!("<tr>{i}</tr>")).collect();
        let rows: Vec<&str> = small.iter().map(String::as_str).collect();
        let p = pages(&rows);
        assert_eq!(
            p.iter().map(Vec::len).collect::<Vec<_>>(),
            [1_000, 1_000, 500]
        );
        let big = "x".repeat(300_000);
        let rows = vec![big.as_str(); 5];
        let p = pages(&rows);
        assert_eq!(p.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
        assert_eq!(pages(&[]).len(), 1);
    }

    #[test]
    fn the_pager_links_neighbours_and_ends() {
        assert_eq!(pager("index", 1, 1), "");
        let p = pager("index", 5, 20);
        assert!(p.contains("href=\"index-4.html\" rel=\"prev\""), "{p}");
        assert!(p.contains("href=\"index-6.html\" rel=\"next\""), "{p}");
        assert!(p.contains("href=\"index.html\">1<"), "{p}");
        assert!(p.contains("href=\"index-20.html\">20<"), "{p}");
        assert!(p.contains("<span aria-current=\"page\">5</span>"), "{p}");
        assert!(!p.contains("index-12.html"), "{p}");
    }
}

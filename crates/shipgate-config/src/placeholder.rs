//! `${NAME}` and `${NAME:default}` in values: references that Spring Boot (and the tools
//! that copied its syntax) fill in when the application starts. A placeholder is never a
//! literal secret; its default is a literal and is checked like one.

/// One `${…}` in a text: its byte range, the name, and the default after the first `:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub start: usize,
    pub end: usize,
    pub name: String,
    /// The text after `:`, itself possibly holding placeholders.
    pub default: Option<String>,
    /// The byte range of the default in the text.
    pub default_range: Option<std::ops::Range<usize>>,
}

/// Every outermost `${…}` of `text`, nested ones inside a default included in it.
pub fn find(text: &str) -> Vec<Placeholder> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'$' && bytes[i + 1] == b'{' && (i == 0 || bytes[i - 1] != b'\\') {
            let start = i;
            let mut depth = 0usize;
            let mut j = i;
            let mut colon = None;
            let mut end = None;
            while j < bytes.len() {
                if bytes[j] == b'$' && bytes.get(j + 1) == Some(&b'{') {
                    depth += 1;
                    j += 2;
                    continue;
                }
                if bytes[j] == b':' && depth == 1 && colon.is_none() {
                    colon = Some(j);
                }
                if bytes[j] == b'}' {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                j += 1;
            }
            let Some(end) = end else { break };
            let name_end = colon.unwrap_or(end);
            out.push(Placeholder {
                start,
                end: end + 1,
                name: text[start + 2..name_end].trim().to_string(),
                default: colon.map(|c| text[c + 1..end].to_string()),
                default_range: colon.map(|c| c + 1..end),
            });
            i = end + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// `text` with every placeholder replaced by its default (resolved the same way), or
/// `None` when one has none: the value is only known when the application starts.
pub fn with_defaults(text: &str) -> Option<String> {
    let found = find(text);
    if found.is_empty() {
        return Some(text.to_string());
    }
    let mut out = String::new();
    let mut at = 0;
    for p in found {
        out.push_str(&text[at..p.start]);
        out.push_str(&with_defaults(p.default.as_deref()?)?);
        at = p.end;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// The literal parts of `text`: the text outside placeholders and the defaults' literal
/// parts, each with its byte range in `text` (what a secret check must still look at).
pub fn literals(text: &str) -> Vec<(std::ops::Range<usize>, String)> {
    if text.is_empty() {
        return Vec::new();
    }
    let found = find(text);
    if found.is_empty() {
        return vec![(0..text.len(), text.to_string())];
    }
    let mut out = Vec::new();
    let mut at = 0;
    for p in &found {
        if p.start > at {
            out.push((at..p.start, text[at..p.start].to_string()));
        }
        if let (Some(d), Some(r)) = (&p.default, &p.default_range) {
            for (inner, s) in literals(d) {
                if !s.is_empty() {
                    out.push((r.start + inner.start..r.start + inner.end, s));
                }
            }
        }
        at = p.end;
    }
    if at < text.len() {
        out.push((at..text.len(), text[at..].to_string()));
    }
    out.retain(|(_, s)| !s.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_defaults_and_nesting() {
        let p = find("jdbc:postgresql://${DB_HOST:localhost}:${DB_PORT:5432}/${DB_NAME}");
        let names: Vec<(&str, Option<&str>)> = p
            .iter()
            .map(|p| (p.name.as_str(), p.default.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("DB_HOST", Some("localhost")),
                ("DB_PORT", Some("5432")),
                ("DB_NAME", None)
            ]
        );
        let nested = find("${A:${B:x}}");
        assert_eq!(nested.len(), 1);
        assert_eq!(nested[0].default.as_deref(), Some("${B:x}"));
        assert!(find("$ {A} and \\${B} and ${unclosed").is_empty());
    }

    #[test]
    fn defaults_fill_in_or_the_value_is_unknown() {
        assert_eq!(with_defaults("${PORT:8080}").as_deref(), Some("8080"));
        assert_eq!(with_defaults("${A:${B:x}}y").as_deref(), Some("xy"));
        assert_eq!(with_defaults("${REDIS_PASSWORD:}").as_deref(), Some(""));
        assert_eq!(with_defaults("${DB_PASSWORD}"), None);
        assert_eq!(with_defaults("plain").as_deref(), Some("plain"));
    }

    #[test]
    fn literal_parts_are_outside_placeholders_and_in_defaults() {
        let text = "u:${USER:admin}:${PASS}";
        let parts: Vec<String> = literals(text)
            .into_iter()
            .map(|(r, s)| {
                assert_eq!(&text[r], s);
                s
            })
            .collect();
        assert_eq!(parts, ["u:", "admin", ":"]);
        assert!(literals("${REDIS_PASSWORD:}").is_empty());
    }
}

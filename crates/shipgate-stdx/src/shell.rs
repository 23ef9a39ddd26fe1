//! POSIX shell quoting: a value that becomes exactly one word, whatever it contains.

/// `value` as one single-quoted shell word: `'1.4.0'`, `'it'\''s'`, `''` for the empty
/// string. Inside single quotes nothing is special to `sh`, and a `'` is written as
/// `'\''` (close, an escaped quote, reopen).
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_closed_escaped_and_reopened() {
        assert_eq!(quote("1.4.0"), "'1.4.0'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(touch x);`y`\n\"z\""), "'$(touch x);`y`\n\"z\"'");
    }

    #[test]
    fn sh_reads_back_exactly_the_value() {
        for value in [
            "1.4.0",
            "",
            "a b",
            "it's",
            "'",
            "''",
            "$(touch /nonexistent/x)",
            "`id`",
            "a;b|c&d",
            "line\nbreak",
            "\"dq\" \\ back",
            "*",
            "~root",
            "-n",
        ] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", quote(value)))
                .output()
                .expect("sh runs");
            assert_eq!(String::from_utf8_lossy(&out.stdout), value, "{value:?}");
        }
    }
}

//! Secret detection and redaction: keys that name credentials, values that look like
//! credentials, and the references that are allowed in their place.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;
use std::thread::LocalKey;

use regex::Regex;

/// The text every redacted secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// True for a value that points at a secret store instead of holding the secret:
/// `secret://…`, `${{ secrets.X }}`, `vault:…`.
pub fn is_reference(value: &str) -> bool {
    static GITHUB: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\$\{\{\s*secrets\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}$").expect("valid regex")
    });
    let v = value.trim();
    (v.starts_with("secret://") && v.len() > "secret://".len())
        || (v.starts_with("vault:") && v.len() > "vault:".len())
        || GITHUB.is_match(v)
}

/// True when a key's name says it holds a credential (`password`, `api_key`, `clientSecret`…).
/// Names that describe a secret without holding it (`token_ttl_seconds`, `secret_arn`,
/// `password_min_length`) are not.
pub fn key_names_credential(key: &str) -> bool {
    let words = words(key);
    const HOLDS: [&str; 9] = [
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "credential",
        "credentials",
        "apikey",
        "passphrase",
    ];
    const KEY_KINDS: [&str; 8] = [
        "api",
        "access",
        "private",
        "secret",
        "signing",
        "encryption",
        "auth",
        "master",
    ];
    const DESCRIBES: [&str; 22] = [
        "ttl", "seconds", "minutes", "hours", "ms", "enabled", "path", "file", "name", "id", "url",
        "uri", "length", "size", "count", "header", "issuer", "audience", "type", "ref", "arn",
        "rotation",
    ];
    let Some(last) = words.last() else {
        return false;
    };
    if DESCRIBES.contains(&last.as_ref()) {
        return false;
    }
    let holds = words.iter().any(|w| HOLDS.contains(&w.as_ref()));
    let is_key = last == "key"
        && (words.len() == 1
            || words
                .iter()
                .rev()
                .skip(1)
                .any(|w| KEY_KINDS.contains(&w.as_ref())));
    holds || is_key
}

/// Whether `key`, in a table called `parent`, holds a credential: [`key_names_credential`],
/// except for the names Kubernetes and Helm give to references. `existingSecret…` names a
/// Secret that exists; `passwordKey`, `tokenKey` name the key of a Secret the password is
/// under; a bare `key` is a label's, a toleration's or a Secret reference's
/// (`secretKeyRef.key`), and a credential only below a name that says so (`tls.key`,
/// `signing.key`, `api.key`) or at the top.
pub fn holds_credential(parent: &str, key: &str) -> bool {
    let w = words(key);
    if w.first().is_some_and(|f| f == "existing") {
        return false;
    }
    const NAMED_BY: [&str; 9] = [
        "password",
        "passwd",
        "pwd",
        "token",
        "credential",
        "credentials",
        "passphrase",
        "username",
        "user",
    ];
    if let [.., before, last] = w.as_slice()
        && last == "key"
        && NAMED_BY.contains(&before.as_ref())
    {
        return false;
    }
    if w == ["key"] && !parent.is_empty() {
        let p = words(parent);
        const REFERS: [&str; 10] = [
            "ref",
            "selector",
            "expressions",
            "expression",
            "tolerations",
            "toleration",
            "label",
            "labels",
            "annotations",
            "name",
        ];
        const HOLDS: [&str; 14] = [
            "api",
            "private",
            "signing",
            "encryption",
            "auth",
            "master",
            "tls",
            "ssl",
            "secret",
            "jwt",
            "ssh",
            "gpg",
            "pgp",
            "license",
        ];
        return !p.iter().any(|x| REFERS.contains(&x.as_ref()))
            && p.iter().any(|x| HOLDS.contains(&x.as_ref()));
    }
    key_names_credential(key)
}

/// What a dotted key path says of the value under it, by its names alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathFacts {
    /// [`holds_credential`] of the path's last key in its parent.
    pub credential: bool,
    /// [`refers_to_secrets`]: where a Secret or one of its keys is named.
    pub refers: bool,
}

/// Distinct paths (or keys) remembered per thread before the memory starts again: far more
/// than a real tree has, few enough that a hostile one costs at most a few megabytes.
const MEMO_LIMIT: usize = 16_384;

type Memo<T> = RefCell<HashMap<Box<str>, T, foldhash::fast::RandomState>>;

/// `f(key)`, worked out once per thread for each distinct `key`: every file of a tree
/// repeats the same keys and paths, and splitting them into words for every value was a
/// quarter of `config validate`'s time (issue 24).
fn memo<T: Copy>(cache: &'static LocalKey<Memo<T>>, key: &str, f: impl FnOnce(&str) -> T) -> T {
    cache.with(|cache| {
        if let Some(known) = cache.borrow().get(key) {
            return *known;
        }
        let value = f(key);
        let mut cache = cache.borrow_mut();
        if cache.len() >= MEMO_LIMIT {
            cache.clear();
        }
        cache.insert(key.into(), value);
        value
    })
}

/// [`PathFacts`] of a dotted path (its last key in its parent, and its ancestors).
pub fn path_facts(path: &str) -> PathFacts {
    thread_local! {
        static SEEN: Memo<PathFacts> = RefCell::default();
    }
    memo(&SEEN, path, |path| {
        let mut parts = path.rsplit('.');
        let key = parts.next().unwrap_or("");
        let parent = parts.next().unwrap_or("");
        PathFacts {
            credential: holds_credential(parent, key),
            refers: refers_to_secrets(path, key),
        }
    })
}

/// Whether a key names a Kubernetes Secret object rather than holding a credential:
/// `existingSecret`, `existingSecretName`, `secretName`, `secretRef`.
pub fn names_a_secret_object(key: &str) -> bool {
    thread_local! {
        static SEEN: Memo<bool> = RefCell::default();
    }
    memo(&SEEN, key, names_a_secret_object_uncached)
}

fn names_a_secret_object_uncached(key: &str) -> bool {
    let w = words(key);
    w.first().is_some_and(|f| f == "existing")
        || matches!(w.as_slice(), [.., s, last] if s == "secret" && (last == "name" || last == "ref"))
}

/// Whether the value at dotted `path` (its own key `key`) is where Kubernetes and Helm
/// charts name a Secret or one of its keys: below a map named `…secrets` (plural) or
/// `…Ref`, or in a key named `secret`, `secretKey` (a key of a Secret, e.g. `secretKey:
/// db-password`).
pub fn refers_to_secrets(path: &str, key: &str) -> bool {
    let ancestors: Vec<&str> = path.split('.').collect();
    let below = ancestors[..ancestors.len().saturating_sub(1)]
        .iter()
        .any(|a| {
            let w = words(a);
            w.last().is_some_and(|l| l == "secrets" || l == "ref")
        });
    let w = words(key);
    below || w == ["secret"] || w == ["secret", "key"]
}

/// Whether a value reads like a name (of a Secret or of one of its keys) rather than a
/// credential: a Kubernetes name with a `-` (`vg-cognigy-login`), or several words of which
/// one is a credential word (`database_password`, `sharedSpeechCredentials`,
/// `VG_CONSOLE_API_TOKEN`). A lone word (`password`, `minioadmin`) is not.
pub fn is_reference_name(node: &crate::tree::Node) -> bool {
    let Some(v) = node.as_str() else { return false };
    let dns = v.len() <= 253
        && v.contains('-')
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !v.starts_with('-')
        && !v.ends_with('-');
    let identifier = !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    let w = words(v);
    const CREDENTIAL_WORDS: [&str; 8] = [
        "password",
        "passwd",
        "secret",
        "secrets",
        "token",
        "key",
        "credential",
        "credentials",
    ];
    let named =
        identifier && w.len() >= 2 && w.iter().any(|x| CREDENTIAL_WORDS.contains(&x.as_ref()));
    dns || named
}

/// Whether a value is PEM armour with nothing inside (a placeholder to fill in).
pub fn is_empty_pem(value: &str) -> bool {
    // Its first line is armour: most values are not, and need no list of lines.
    if !value.trim_start().starts_with("-----") {
        return false;
    }
    let lines: Vec<&str> = value
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    !lines.is_empty()
        && lines.iter().all(|l| {
            (l.starts_with("-----BEGIN ") || l.starts_with("-----END ")) && l.ends_with("-----")
        })
}

/// Whether a value looks like a random key: 32 or more hex digits, or a high-entropy word.
pub fn looks_random(value: &str) -> bool {
    let hex = value.len() >= 32
        && value.bytes().all(|b| b.is_ascii_hexdigit())
        && value.bytes().any(|b| b.is_ascii_digit())
        && value.bytes().any(|b| b.is_ascii_alphabetic());
    hex || high_entropy(value)
}

/// Lower-case words of a key: split on `_`, `-`, `.` and camelCase humps. An ASCII key's
/// words are slices of it (copied only when they have capitals): this runs for every key and
/// value of every file.
fn words(key: &str) -> Vec<Cow<'_, str>> {
    if !key.is_ascii() {
        return any_words(key).into_iter().map(Cow::Owned).collect();
    }
    fn push<'k>(out: &mut Vec<Cow<'k, str>>, word: &'k str) {
        if word.bytes().any(|b| b.is_ascii_uppercase()) {
            out.push(Cow::Owned(word.to_ascii_lowercase()));
        } else if !word.is_empty() {
            out.push(Cow::Borrowed(word));
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev_lower = false;
    for (i, c) in key.bytes().enumerate() {
        if matches!(c, b'_' | b'-' | b'.' | b' ') {
            push(&mut out, &key[start..i]);
            start = i + 1;
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && start < i {
            push(&mut out, &key[start..i]);
            start = i;
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    push(&mut out, &key[start..]);
    out
}

/// [`words`] of any text: Unicode's capitals and lower case.
fn any_words(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if c == '_' || c == '-' || c == '.' || c == ' ' {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// What a value looks like, when it looks like a credential whatever its key.
pub fn looks_like_secret(value: &str) -> Option<&'static str> {
    static AWS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b")
            .expect("valid regex")
    });
    static PRIVATE_KEY: LazyLock<Regex> = LazyLock::new(|| {
        // With content: an empty block is a placeholder, not a key.
        Regex::new(r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----\s*[A-Za-z0-9+/=]")
            .expect("valid regex")
    });
    static JWT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
            .expect("valid regex")
    });
    static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:([^/\s@]+)@").expect("valid regex")
    });
    // Each pattern's shortest match, so that short values (most of them: names, hosts,
    // sizes) skip the regexes; `high_entropy` needs 24 characters too.
    const SHORTEST: usize = 20;
    if value.len() < SHORTEST && !value.contains("://") {
        return None;
    }
    if is_reference(value) {
        return None;
    }
    if AWS.is_match(value) {
        return Some("an AWS access key id");
    }
    if value.contains("-----BEGIN ") && PRIVATE_KEY.is_match(value) {
        return Some("a private key block");
    }
    if value.contains("eyJ") && JWT.is_match(value) {
        return Some("a JSON Web Token");
    }
    // The regex starts with a class, so it has no literal to skip ahead to: `://` is.
    if value.contains("://")
        && let Some(c) = URL_PASSWORD.captures(value)
    {
        let password = c.get(1).map_or("", |m| m.as_str());
        if !(password.starts_with("${") || password.starts_with('$') || is_reference(password)) {
            return Some("a URL with a password in it");
        }
    }
    if value
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .any(high_entropy)
    {
        return Some("a high-entropy string (an API key or token)");
    }
    None
}

/// A long run of base64/hex-like characters, mixing cases and digits, with high Shannon
/// entropy. Hex digests (one case) and words do not qualify.
fn high_entropy(word: &str) -> bool {
    if word.len() < 24 || word.len() > 4096 {
        return false;
    }
    let charset = word
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+/=_-".contains(&b));
    let mixed = word.bytes().any(|b| b.is_ascii_uppercase())
        && word.bytes().any(|b| b.is_ascii_lowercase())
        && word.bytes().any(|b| b.is_ascii_digit());
    charset && mixed && shannon_entropy(word) >= 4.2
}

/// Bits per character.
fn shannon_entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| c as f64 / n)
        .map(|p| -p * p.log2())
        .sum()
}

/// Replaces every known secret in a text. Built from the secrets found in a run, applied to
/// every message, hint and source line before output.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
    /// The configuration's own names (keys, environments, files): a secret whose text is
    /// one of them (a password that is the word `password`) is kept where that text stands
    /// as the whole word, so a message keeps the key it is about. The name is no secret: it
    /// is written in the file as a key.
    names: std::collections::BTreeSet<String>,
}

impl Redactor {
    /// Remembers a secret: the value, its JSON-escaped form and (for multi-line values) each
    /// line, so no rendering of it survives. Texts shorter than 3 characters are not
    /// substituted in running text (they would mangle numbers and words).
    pub fn add(&mut self, secret: &str) {
        let escaped = serde_json::to_string(secret).unwrap_or_default();
        let escaped = escaped
            .strip_prefix('"')
            .and_then(|e| e.strip_suffix('"'))
            .unwrap_or("")
            .to_string();
        let lines = secret.lines().map(str::trim).map(String::from);
        for s in [secret.to_string(), escaped].into_iter().chain(lines) {
            if s.chars().count() >= 3 && !self.secrets.contains(&s) {
                self.secrets.push(s);
            }
        }
    }

    pub fn extend(&mut self, other: Redactor) {
        for s in other.secrets {
            if !self.secrets.contains(&s) {
                self.secrets.push(s);
            }
        }
        self.names.extend(other.names);
    }

    /// Remembers one of the configuration's own names (see the field's doc).
    pub fn keep(&mut self, name: &str) {
        if !name.is_empty() {
            self.names.insert(name.to_string());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The text with every secret replaced by [`REDACTED`]; longest secrets first.
    pub fn redact(&self, text: &str) -> String {
        if self.secrets.is_empty() {
            return text.to_string();
        }
        let mut order: Vec<&String> = self.secrets.iter().collect();
        order.sort_by_key(|s| std::cmp::Reverse(s.len()));
        // Every occurrence, longest secrets first, none overlapping another.
        let mut found: Vec<std::ops::Range<usize>> = Vec::new();
        for s in order {
            for (at, _) in text.match_indices(s.as_str()) {
                let range = at..at + s.len();
                if !found
                    .iter()
                    .any(|r| r.start < range.end && range.start < r.end)
                {
                    found.push(range);
                }
            }
        }
        found.sort_by_key(|r| r.start);
        let name_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/');
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for r in found {
            // The word the occurrence stands in: a name of the configuration's own keeps it.
            let start = text[..r.start]
                .char_indices()
                .rev()
                .take_while(|(_, c)| name_char(*c))
                .last()
                .map_or(r.start, |(i, _)| i);
            let end = r.end
                + text[r.end..]
                    .char_indices()
                    .find(|(_, c)| !name_char(*c))
                    .map_or(text.len() - r.end, |(i, _)| i);
            let inside = text[r.clone()].chars().all(name_char);
            let word = text[start..end].trim_end_matches('.');
            // A word after `:`, `=` or `@` (spaces aside), in quotes, or before `@`, is a
            // value (`key: pw`, `key = "pw"`, `user:pw@host`): redacted whatever it is.
            let valued = matches!(
                text[..start].trim_end().chars().next_back(),
                Some(':' | '@' | '=' | '"' | '\'')
            ) || text[end..].starts_with('@');
            out.push_str(&text[at..r.start]);
            if inside && !valued && self.names.contains(word) {
                out.push_str(&text[r.clone()]);
            } else {
                out.push_str(REDACTED);
            }
            at = r.end;
        }
        out.push_str(&text[at..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ascii_keys_words_are_as_unicodes_rule_splits_them() {
        for key in [
            "password",
            "db_password",
            "clientSecret",
            "AUTH_TOKEN",
            "private-key",
            "existingSecretName",
            "spring.datasource.password",
            "HTTPServer2Key",
            "a__b--c..d  e",
            "_leading",
            "trailing-",
            "x1Y2z",
            "",
            "Ünïcode_Kéy",
        ] {
            let fast: Vec<String> = words(key).into_iter().map(Cow::into_owned).collect();
            assert_eq!(fast, any_words(key), "{key}");
        }
    }

    #[test]
    fn credential_key_names() {
        for key in [
            "password",
            "db_password",
            "clientSecret",
            "api_key",
            "apiKey",
            "AUTH_TOKEN",
            "private-key",
            "key",
        ] {
            assert!(key_names_credential(key), "{key}");
        }
        for key in [
            "token_ttl_seconds",
            "secret_arn",
            "password_min_length",
            "keyspace",
            "cache_key_prefix",
            "monkey",
            "host",
        ] {
            assert!(!key_names_credential(key), "{key}");
        }
    }

    #[test]
    fn a_secret_that_is_also_a_name_is_kept_where_it_stands_as_the_name() {
        let mut r = Redactor::default();
        r.add("password");
        r.add("hunter2-hunter2");
        for name in [
            "password",
            "prod",
            "spring.datasource.password",
            "key-store-password",
        ] {
            r.keep(name);
        }
        assert_eq!(
            r.redact("`spring.datasource.password` holds password and hunter2-hunter2; key-store-password."),
            "`spring.datasource.password` holds password and [redacted]; key-store-password."
        );
        // Kept only inside a word that is a name, never in a value that is not.
        assert_eq!(
            r.redact("trust-store-password: x"),
            "trust-store-[redacted]: x"
        );
        assert_eq!(
            r.redact("key-store-password: password # the default"),
            "key-store-password: [redacted] # the default"
        );
        assert_eq!(
            r.redact("url = \"pg://u:password@db\""),
            "url = \"pg://u:[redacted]@db\""
        );
        let mut r = Redactor::default();
        r.add("password");
        assert_eq!(r.redact("a password"), "a [redacted]");
    }

    #[test]
    fn names_of_secrets_and_random_keys() {
        let node = |v: &str| {
            crate::tree::Node::new(
                crate::tree::Value::String(v.into()),
                crate::tree::FileId(0),
                Default::default(),
            )
        };
        for name in [
            "vg-cognigy-login",
            "database_password",
            "sharedSpeechCredentials",
            "VG_CONSOLE_API_TOKEN",
        ] {
            assert!(is_reference_name(&node(name)), "{name}");
        }
        for value in ["password", "minioadmin", "hunter2", "Hunter2-Secret!"] {
            assert!(!is_reference_name(&node(value)), "{value}");
        }
        assert!(names_a_secret_object("existingSecret") && names_a_secret_object("secretName"));
        assert!(!names_a_secret_object("secretKey"));
        assert!(refers_to_secrets(
            "namespace_secrets.rds.SPRING_DATASOURCE_PASSWORD",
            "SPRING_DATASOURCE_PASSWORD"
        ));
        assert!(refers_to_secrets("login.secretKey", "secretKey"));
        assert!(!refers_to_secrets("db.password", "password"));
        assert!(looks_random("e48612ba1fd46fa7089fe9f5085d8d164b53ffb2"));
        assert!(!looks_random("deadbeef"));
        assert_eq!(
            looks_like_secret("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----"),
            None
        );
    }

    #[test]
    fn kubernetes_and_helm_references_are_not_credentials() {
        for (parent, key) in [
            ("auth", "existingSecret"),
            ("bridge", "existingSecretKey"),
            ("emailNotification", "smtpPasswordKey"),
            ("secretKeyRef", "key"),
            ("adminPassSecretRef", "key"),
            ("matchExpressions", "key"),
            ("tolerations", "key"),
        ] {
            assert!(!holds_credential(parent, key), "{parent}.{key}");
        }
        for (parent, key) in [
            ("tls", "key"),
            ("jwt", "key"),
            ("", "key"),
            ("db", "password"),
            ("s3", "secretKey"),
            ("stripe", "apiKey"),
        ] {
            assert!(holds_credential(parent, key), "{parent}.{key}");
        }
    }

    #[test]
    fn references_are_not_literals() {
        for v in [
            "secret://prod/db/password",
            "${{ secrets.DB_PASSWORD }}",
            "vault:kv/data/db#password",
        ] {
            assert!(is_reference(v), "{v}");
            assert_eq!(looks_like_secret(v), None);
        }
        for v in ["secret://", "hunter2", "${{ env.X }}"] {
            assert!(!is_reference(v), "{v}");
        }
    }

    #[test]
    fn values_that_look_like_secrets() {
        let cases = [
            ("AKIAIOSFODNN7EXAMPLE", Some("an AWS access key id")),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
                Some("a private key block"),
            ),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                Some("a JSON Web Token"),
            ),
            (
                "postgres://app:s3cr3t@db:5432/shop",
                Some("a URL with a password in it"),
            ),
            ("postgres://app:${DB_PASSWORD}@db:5432/shop", None),
            (
                "sk_live_4eC39HqLyjWDarjtT1zdp7dcQ9xKz",
                Some("a high-entropy string (an API key or token)"),
            ),
            (
                "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                None,
            ),
            (
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/checkout",
                None,
            ),
            ("a perfectly ordinary sentence about deployments", None),
        ];
        for (value, expected) in cases {
            assert_eq!(looks_like_secret(value), expected, "{value}");
        }
    }

    #[test]
    fn redactor_replaces_every_form() {
        let mut r = Redactor::default();
        r.add("hunter2");
        r.add("line one\n\"quoted\"");
        r.add("ab");
        assert_eq!(
            r.redact("password = \"hunter2\""),
            "password = \"[redacted]\""
        );
        assert_eq!(
            r.redact(r#"value "line one\n\"quoted\"" bad"#),
            "value \"[redacted]\" bad"
        );
        assert_eq!(r.redact("ab stays"), "ab stays");
    }
}

//! Loads `shipgate.toml`, the pipeline's own configuration: every section typed by the
//! crate that owns it, unknown keys reported at their line with a did-you-mean.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The whole of shipgate.toml. An absent default file means all defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// `[release]`: versioning, tags, manifests, commit and push.
    #[serde(default)]
    pub release: shipgate_release::ReleaseSettings,
    /// `[changelog]`: sections, skip rules, templates.
    #[serde(default)]
    pub changelog: shipgate_changelog::ChangelogSettings,
    /// `[environments]`: the environments' order, directory, schema and rule declarations.
    #[serde(default)]
    pub environments: shipgate_config::EnvironmentsSettings,
    /// `[canary]`: rollout steps, judging, failure policy and metrics.
    #[serde(default)]
    pub canary: shipgate_canary::CanarySettings,
    /// `[promote]`: the version key, the branch, each environment's gates. Absent: no
    /// promotion is configured (`canary run` records nothing); the promotion commands use
    /// the defaults.
    #[serde(default)]
    pub promote: Option<shipgate_promote::PromoteSettings>,
    /// Where the settings came from (None: defaults, no file).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// Why shipgate.toml could not be loaded. The message is what went wrong; the hint
/// ([`SettingsError::hint`]) is data, not part of the message.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        /// What to do about it, when there is something to say ([`SettingsError::hint`]).
        hint: Option<String>,
    },
}

impl SettingsError {
    /// What to do about it, when there is something to say: shown on a line of its own
    /// after the message.
    pub fn hint(&self) -> Option<String> {
        match self {
            SettingsError::Read { .. } => {
                Some("pass --config FILE, or remove the flag to use the defaults".into())
            }
            SettingsError::Invalid { hint, .. } => hint.clone(),
        }
    }
}

/// The default settings file of a repository.
pub fn default_path(repo: &Path) -> PathBuf {
    repo.join("shipgate.toml")
}

/// Loads `explicit` (must exist) or `<repo>/shipgate.toml` (may be absent).
pub fn load(repo: &Path, explicit: Option<&Path>) -> Result<Settings, SettingsError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => default_path(repo),
    };
    let text = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
            return Ok(Settings::default());
        }
        Err(source) => return Err(SettingsError::Read { path, source }),
    };
    let text = String::from_utf8(text).map_err(|e| {
        let (line, column) = line_col(
            &String::from_utf8_lossy(e.as_bytes()),
            e.utf8_error().valid_up_to(),
        );
        SettingsError::Invalid {
            path: path.clone(),
            line,
            column,
            message: "the file is not valid UTF-8".into(),
            hint: Some("save it as UTF-8".into()),
        }
    })?;
    let mut settings = parse(&text).map_err(|e| e.into_error(&path))?;
    settings.source = Some(path);
    Ok(settings)
}

/// A parse problem before the file name is known.
#[derive(Debug)]
pub struct ParseProblem {
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl ParseProblem {
    fn into_error(self, path: &Path) -> SettingsError {
        SettingsError::Invalid {
            path: path.to_path_buf(),
            line: self.line,
            column: self.column,
            message: self.message,
            hint: self.hint,
        }
    }
}

/// Parses settings text (pure).
pub fn parse(text: &str) -> Result<Settings, ParseProblem> {
    let settings = toml::from_str::<Settings>(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        let message = e.message().trim().to_string();
        let hint = unknown_field_hint(&message);
        ParseProblem {
            line,
            column,
            message,
            hint,
        }
    })?;
    check_canary_envs(text, &settings)?;
    check_promote(text, &settings)?;
    check_remote(text, &settings)?;
    Ok(settings)
}

/// Just the names of `[canary.env.<ENV>]`, with where they are written.
#[derive(Default, Deserialize)]
struct CanaryEnvNames {
    #[serde(default)]
    canary: CanaryEnvs,
}

#[derive(Default, Deserialize)]
struct CanaryEnvs {
    #[serde(default)]
    env: BTreeMap<toml::Spanned<String>, serde::de::IgnoredAny>,
}

/// With `[environments] order` set, every `[canary.env.<ENV>]` must name one of its
/// environments; the first one that does not is reported where it is written.
fn check_canary_envs(text: &str, settings: &Settings) -> Result<(), ParseProblem> {
    let order = &settings.environments.order;
    if order.is_empty() {
        return Ok(());
    }
    let spans: BTreeMap<String, usize> = toml::from_str::<CanaryEnvNames>(text)
        .map(|n| n.canary.env)
        .unwrap_or_default()
        .into_keys()
        .map(|k| (k.get_ref().clone(), k.span().start))
        .collect();
    let unknown = settings
        .canary
        .env
        .keys()
        .filter(|name| !order.contains(name))
        .map(|name| (spans.get(name).copied(), name))
        .min_by_key(|(at, _)| at.unwrap_or(usize::MAX));
    let Some((at, name)) = unknown else {
        return Ok(());
    };
    let (line, column) = at.map_or((1, 1), |at| line_col(text, at));
    let known: Vec<&str> = order.iter().map(String::as_str).collect();
    let hint = match shipgate_stdx::text::did_you_mean(name, &known) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("known environments: {}", known.join(", ")),
    };
    Err(ParseProblem {
        line,
        column,
        message: format!("[canary.env.{name}] names an unknown environment"),
        hint: Some(hint),
    })
}

/// `[promote]`'s problems ([`shipgate_promote::PromoteSettings::problems`]: environments not
/// in `[environments] order`, a version key that is not a dotted key…), the first one
/// reported at its section's line.
fn check_promote(text: &str, settings: &Settings) -> Result<(), ParseProblem> {
    let Some(promote) = &settings.promote else {
        return Ok(());
    };
    let Some(problem) = promote
        .problems(&settings.environments.order)
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let section = problem
        .key
        .strip_prefix("env.")
        .map(|rest| rest.split('.').next().unwrap_or(rest))
        .map(|env| format!("[promote.env.{env}"));
    let at = section
        .as_deref()
        .and_then(|s| text.find(s))
        .or_else(|| text.find("[promote]"))
        .unwrap_or(0);
    let (line, column) = line_col(text, at);
    Err(ParseProblem {
        line,
        column,
        message: format!("promote.{}: {}", problem.key, problem.message),
        hint: problem.hint,
    })
}

/// `[release] remote` reaches `git push` and `git fetch` as an argument: a name that could
/// be read as an option (`--upload-pack=…`) or a path trick is refused where it is written.
fn check_remote(text: &str, settings: &Settings) -> Result<(), ParseProblem> {
    let remote = &settings.release.remote;
    let ok = !remote.is_empty()
        && !remote.starts_with('-')
        && !remote.contains("..")
        && remote
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if ok {
        return Ok(());
    }
    let at = text
        .find("remote")
        .filter(|_| text.contains("[release]"))
        .unwrap_or(0);
    let (line, column) = line_col(text, at);
    Err(ParseProblem {
        line,
        column,
        message: format!(
            "[release] remote: `{}` is not a git remote name",
            remote.escape_debug()
        ),
        hint: Some("name a remote of `git remote`, e.g. remote = \"origin\"".into()),
    })
}

/// For serde's "unknown field `x`, expected one of `a`, `b`": the closest expected name.
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, expected) = rest.split_once('`')?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    match shipgate_stdx::text::did_you_mean(unknown, &candidates) {
        Some(name) => Some(format!("did you mean `{name}`?")),
        None if !candidates.is_empty() => {
            Some(format!("known keys here: {}", candidates.join(", ")))
        }
        None => None,
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub use shipgate_stdx::text::line_col;

#[cfg(test)]
mod tests {
    use super::*;

    fn check_err(text: &str, line: usize, needle: &str, hint: Option<&str>) {
        let err = parse(text).expect_err("must fail");
        assert_eq!(err.line, line, "{err:?}");
        assert!(err.message.contains(needle), "{err:?}");
        assert_eq!(err.hint.as_deref(), hint, "{err:?}");
    }

    #[test]
    fn empty_file_gives_defaults() {
        let s = parse("").expect("parses");
        assert_eq!(s.release.tag_format, "v{version}");
    }

    #[test]
    fn unknown_key_names_it_with_a_did_you_mean() {
        check_err(
            "[release]\ntag-format = \"v{version}\"\nstrikt = true\n",
            3,
            "strikt",
            Some("did you mean `strict`?"),
        );
    }

    #[test]
    fn unknown_section_is_reported() {
        check_err("[relase]\n", 1, "relase", Some("did you mean `release`?"));
    }

    #[test]
    fn the_hint_is_data_not_part_of_the_message() {
        let err = parse("[relase]\n")
            .expect_err("must fail")
            .into_error(Path::new("shipgate.toml"));
        let message = err.to_string();
        assert!(message.starts_with("shipgate.toml:1:2: "), "{message}");
        assert!(!message.contains("hint"), "{message}");
        assert_eq!(err.hint().as_deref(), Some("did you mean `release`?"));
        let err = load(
            Path::new("."),
            Some(Path::new("/nonexistent/shipgate.toml")),
        )
        .expect_err("no such file");
        assert!(!err.to_string().contains("hint"), "{err}");
        assert_eq!(
            err.hint().as_deref(),
            Some("pass --config FILE, or remove the flag to use the defaults")
        );
    }

    #[test]
    fn wrong_type_points_at_the_value() {
        let err = parse("[release]\nstrict = \"yes\"\n").expect_err("must fail");
        assert_eq!((err.line, err.column), (2, 10));
    }

    #[test]
    fn canary_section_is_typed_and_checked_at_its_line() {
        let s = parse("[canary]\ninterval = \"10s\"\n").expect("parses");
        assert_eq!(s.canary.gates.rollout.interval.secs(), 10.0);
        check_err(
            "[canary]\nsteps = [{ weight = 50, hold = \"1m\" }, { weight = 5, hold = \"1m\" }, { weight = 100 }]\n",
            2,
            "steps must increase",
            None,
        );
    }

    /// A base `[canary]` and overrides for staging and prod.
    const OVERRIDES: &str = r#"[environments]
order = ["dev", "staging", "prod"]

[canary]
interval = "10s"

[canary.env.staging]
steps = [{ weight = 50, hold = "1m" }, { weight = 100 }]

[canary.env.prod.prometheus]
url = "http://prometheus.prod:9090"

[[canary.env.prod.metrics]]
name = "errors"
kind = "counts"
canary = { errors = "e", requests = "r" }
threshold = 0.01
"#;

    #[test]
    fn canary_overrides_apply_to_their_environment_only() {
        let s = parse(OVERRIDES).expect("parses");
        s.canary.validate().expect("valid");
        let staging = s.canary.for_env("staging").expect("valid");
        assert_eq!(staging.gates.rollout.steps.as_slice().len(), 2);
        assert_eq!(staging.gates.judge.metrics, s.canary.gates.judge.metrics);
        assert_eq!(staging.gates.rollout.interval.secs(), 10.0);
        let prod = s.canary.for_env("prod").expect("valid");
        assert_eq!(prod.gates.rollout.steps, s.canary.gates.rollout.steps);
        assert_eq!(prod.gates.judge.metrics.len(), 1);
        assert_eq!(
            prod.prometheus.map(|p| p.url).as_deref(),
            Some("http://prometheus.prod:9090")
        );
        let dev = s.canary.for_env("dev").expect("valid");
        assert_eq!(
            (
                dev.gates.rollout.steps,
                dev.gates.judge.metrics,
                dev.prometheus
            ),
            (
                s.canary.gates.rollout.steps.clone(),
                s.canary.gates.judge.metrics.clone(),
                None
            )
        );
        assert!(dev.env.is_empty());
    }

    #[test]
    fn an_unknown_key_in_a_canary_override_has_a_did_you_mean() {
        check_err(
            "[canary.env.prod]\nalpha = 0.001\nintervall = \"5s\"\n",
            3,
            "unknown field `intervall`",
            Some("did you mean `interval`?"),
        );
        check_err(
            "[canary]\n\n[[canary.env.prod.metrics]]\nname = \"x\"\nkind = \"gauge\"\ncanary = { value = \"v\" }\nthresold = 1\n",
            7,
            "unknown field `thresold`",
            Some("did you mean `threshold`?"),
        );
    }

    #[test]
    fn a_canary_override_for_an_unknown_environment_is_reported_at_its_header() {
        let err = parse("[canary]\ninterval = \"10s\"\n\n[canary.env.qa]\nalpha = 0.001\n")
            .expect_err("must fail");
        assert_eq!((err.line, err.column), (4, 13), "{err:?}");
        assert_eq!(err.message, "[canary.env.qa] names an unknown environment");
        assert_eq!(
            err.hint.as_deref(),
            Some("known environments: dev, staging, prod")
        );
        check_err(
            "[canary.env.prod]\nalpha = 0.001\n\n[[canary.env.prdo.metrics]]\nname = \"x\"\nkind = \"gauge\"\ncanary = { value = \"v\" }\nthreshold = 1\n",
            4,
            "[canary.env.prdo] names an unknown environment",
            Some("did you mean `prod`?"),
        );
        check_err(
            "[environments]\norder = [\"test\", \"live\"]\n\n[canary]\nenv.prod.alpha = 0.001\n",
            5,
            "[canary.env.prod] names an unknown environment",
            Some("known environments: test, live"),
        );
        check_err(
            "[canary.env.qa]\nalpha = 0.001\n\n[[canary.env.qa.metrics]]\nname = \"x\"\nkind = \"gauge\"\ncanary = { value = \"v\" }\nthreshold = 1\n",
            1,
            "[canary.env.qa]",
            Some("known environments: dev, staging, prod"),
        );
        let s = parse("[environments]\norder = []\n\n[canary.env.anything]\nalpha = 0.001\n")
            .expect("no order: any name");
        assert!(s.canary.env.contains_key("anything"));
    }

    #[test]
    fn a_remote_that_git_would_read_as_an_option_is_refused() {
        check_err(
            "[release]\nremote = \"--upload-pack=touch /tmp/x\"\n",
            2,
            "[release] remote: `--upload-pack=touch /tmp/x` is not a git remote name",
            Some("name a remote of `git remote`, e.g. remote = \"origin\""),
        );
        assert!(parse("[release]\nremote = \"upstream\"\n").is_ok());
    }

    #[test]
    fn promote_problems_are_reported_at_their_section() {
        check_err(
            "[environments]\norder = [\"dev\", \"prod\"]\n\n[promote]\nversion-key = \"service.image.tag\"\n\n[promote.env.prdo]\napprovals = 1\n",
            7,
            "promote.env.prdo: `prdo` is not in [environments] order (dev, prod)",
            Some("did you mean `prod`?"),
        );
        check_err(
            "[promote]\nbranch = \"-x\"\n",
            1,
            "promote.branch: `-x` is not a branch name",
            None,
        );
        check_err(
            "[promote.env.prod]\nsoak = \"2 hours\"\n",
            2,
            "not a duration",
            None,
        );
        let s = parse("[promote]\nversion-key = \"service.image.tag\"\n").expect("valid");
        assert_eq!(
            s.promote.map(|p| p.version_key).as_deref(),
            Some("service.image.tag")
        );
        assert!(parse("").expect("empty").promote.is_none());
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncdé f", 8), (2, 5));
    }
}

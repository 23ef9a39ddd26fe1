//! What a command would refuse (or warn of) in settings that parsed, found without running
//! it and reported at the `line:col` of the key that holds it: `config validate` lists
//! these beside the environments' diagnostics, so CI finds what only `canary run` found.
//! The checks themselves are the owners' (`CanarySettings::validate`, `::warnings`);
//! this module only says where each problem is written.

use shipgate_doc::path::{KeyPath, Step};
use shipgate_doc::{FileId, Node, Value};
use shipgate_judge::ConfigProblem;
use shipgate_stdx::text::LineIndex;

use crate::Settings;

/// How much a [`Finding`] matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The command refuses to run (`config validate` answers no).
    Error,
    /// The command runs, but should be told (it prints the same as a `warning:`).
    Warning,
}

/// One problem of settings that parsed, at the place of the key that holds it. Lines and
/// columns are 1-based, columns in characters; the end is the end of the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// The dotted key from the file's top, e.g. `canary.metrics[0].canary.errors`.
    pub key: String,
    /// Where the key is written; when it is not (a default), the nearest key above it.
    pub line: usize,
    /// The column of `line` where the key starts.
    pub column: usize,
    /// The line where the key ends.
    pub end_line: usize,
    /// The column just after the key.
    pub end_column: usize,
    /// What is wrong, the key first (`canary.metrics[0].canary.errors: …`).
    pub message: String,
    /// What to do about it, when there is something to say.
    pub hint: Option<String>,
    /// The text of `line`, for carets.
    pub source_line: String,
}

impl Settings {
    /// Every problem `canary run` would refuse these settings for, and every warning it
    /// would print, in any environment ([`shipgate_canary_settings::CanarySettings::validate`] and
    /// [`shipgate_canary_settings::CanarySettings::warnings`]), each at its place in
    /// [`Settings::text`]. None when the file has no `[canary]` table (nothing was
    /// checked): the defaults are valid, and a repository that does not use the canary is
    /// not told about it.
    pub fn findings(&self) -> Option<Vec<Finding>> {
        let root = self.tree()?;
        if root.as_table().is_none_or(|t| !t.contains_key("canary")) {
            return None;
        }
        let errors = self.canary.validate().err().unwrap_or_default();
        let warnings = self.canary.warnings();
        let lines = LineIndex::new(&self.text);
        let found = errors
            .into_iter()
            .map(|p| (Severity::Error, p))
            .chain(warnings.into_iter().map(|p| (Severity::Warning, p)))
            .map(|(severity, p)| self.canary_finding(&root, &lines, severity, p))
            .collect();
        Some(found)
    }

    /// `problem` (keyed below `[canary]`, as the canary's checks key them) as a [`Finding`]
    /// at its place in the file: for `canary run`'s own warnings and refusals.
    pub fn canary_finding_at(&self, severity: Severity, problem: ConfigProblem) -> Finding {
        let root = self.tree().unwrap_or_else(|| {
            Node::new(
                Value::Table(Default::default()),
                FileId(0),
                Default::default(),
            )
        });
        self.canary_finding(&root, &LineIndex::new(&self.text), severity, problem)
    }

    fn canary_finding(
        &self,
        root: &Node,
        lines: &LineIndex,
        severity: Severity,
        problem: ConfigProblem,
    ) -> Finding {
        let key = format!("canary.{}", problem.key);
        let (node, _) = nearest(root, &key);
        let mut message = problem.to_string();
        // A metric of the defaults: the file writes no list of metrics.
        if problem.key.starts_with("metrics[") && !nearest(root, "canary.metrics").1 {
            message.push_str(" (a default metric: [canary] writes no [[canary.metrics]])");
        }
        let span = node.map(|n| n.key).unwrap_or_default();
        let (line, column) = lines.line_col(&self.text, span.start as usize);
        let (end_line, end_column) = lines.line_col(&self.text, span.end as usize);
        Finding {
            severity,
            key,
            line: line as usize,
            column: column as usize,
            end_line: end_line as usize,
            end_column: end_column as usize,
            message,
            hint: problem.hint,
            source_line: lines.line_text(&self.text, line).to_string(),
        }
    }

    /// The file's tree with spans; None without a text or when it does not parse (it did,
    /// or these settings would not exist).
    fn tree(&self) -> Option<Node> {
        if self.text.is_empty() {
            return None;
        }
        shipgate_doc::toml::parse(&self.text, FileId(0)).ok()
    }
}

/// The deepest node of `root` along `key` (`a.b[0].c`), and whether it is the key's own
/// (the key is written). A key that is no key path (an environment name with a dot) stops
/// at its first step.
fn nearest<'n>(root: &'n Node, key: &str) -> (Option<&'n Node>, bool) {
    let Ok(path) = KeyPath::parse(key) else {
        let first = key.split(['.', '[']).next().unwrap_or(key);
        return (root.as_table().and_then(|t| t.get(first)), false);
    };
    let mut found = None;
    let mut current = root;
    for step in path.steps() {
        let next = match (step, &current.value) {
            (Step::Key(k), Value::Table(t)) => t.get(k),
            (Step::Index(i), Value::Array(items)) => items.get(*i),
            _ => None,
        };
        let Some(next) = next else {
            return (found, false);
        };
        current = next;
        found = Some(next);
    }
    (found, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, column, end column, severity, message) of each finding of `text`.
    fn places(text: &str) -> Vec<(usize, usize, usize, Severity, String)> {
        crate::parse(text)
            .expect("parses")
            .findings()
            .into_iter()
            .flatten()
            .map(|f| (f.line, f.column, f.end_column, f.severity, f.message))
            .collect()
    }

    const METRIC: &str = r#"[canary]
interval = "10s"

[canary.command]
set-weight = "kubectl argo rollouts set weight shop \"{{weight}}\""
promote = "kubectl argo rollouts promote shop --full"
rollback = "kubectl argo rollouts abort shop"

[[canary.metrics]]
name = "error-rate"
kind = "counts"
pod-label = "pod"
canary = { errors = 'sum by (pod) (increase(e{v="{{versoin}}"}[{{interval}}]))', requests = 'sum by (pod) (increase(r{v="{{version}}"}[{{interval}}]))' }
threshold = 0.001
"#;

    #[test]
    fn each_problem_is_at_the_key_that_holds_it() {
        let found = places(METRIC);
        assert_eq!(found.len(), 2, "{found:#?}");
        let (line, column, end, severity, message) = &found[0];
        assert_eq!(
            (*line, *column, *end, *severity),
            (13, 12, 18, Severity::Error)
        );
        assert!(
            message.starts_with("canary.metrics[0].canary.errors: unknown placeholder `{{versoin}}`; did you mean `{{version}}`?"),
            "{message}"
        );
        let (line, column, end, severity, message) = &found[1];
        assert_eq!(
            (*line, *column, *end, *severity),
            (5, 1, 11, Severity::Error)
        );
        assert!(
            message.starts_with("canary.command.set-weight: `{{weight}}` is inside quotes"),
            "{message}"
        );
        let finding = &crate::parse(METRIC)
            .expect("parses")
            .findings()
            .expect("checked")[1];
        assert_eq!(finding.key, "canary.command.set-weight");
        assert_eq!(finding.source_line, METRIC.lines().nth(4).expect("line 5"));
    }

    #[test]
    fn a_metric_without_a_pod_label_is_a_warning_at_its_entry() {
        let text = METRIC
            .replace("pod-label = \"pod\"\n", "")
            .replace("{{versoin}}", "{{version}}")
            .replace("\\\"{{weight}}\\\"", "{{weight}}")
            .replace("sum by (pod) ", "sum");
        let found = places(&text);
        assert_eq!(found.len(), 1, "{found:#?}");
        let (line, column, _, severity, message) = &found[0];
        assert_eq!((*line, *column, *severity), (9, 1, Severity::Warning));
        assert!(
            message
                .starts_with("canary.metrics[0].pod-label: metric `error-rate` has no pod-label"),
            "{message}"
        );
        assert!(!message.contains("default"), "{message}");
        let hint = crate::parse(&text)
            .expect("parses")
            .findings()
            .expect("checked")[0]
            .hint
            .clone();
        assert!(hint.is_some_and(|h| h.starts_with("set pod-label = \"pod\"")));
    }

    #[test]
    fn the_default_metrics_are_warned_of_at_the_canary_table() {
        let found = places("[release]\n\n[canary]\ninterval = \"10s\"\n");
        assert_eq!(
            found.iter().map(|f| (f.0, f.1, f.3)).collect::<Vec<_>>(),
            [(3, 2, Severity::Warning), (3, 2, Severity::Warning)]
        );
        assert!(
            found[0]
                .4
                .ends_with("(a default metric: [canary] writes no [[canary.metrics]])"),
            "{found:?}"
        );
    }

    #[test]
    fn an_override_is_found_at_its_own_keys() {
        let text = format!("{METRIC}\n[canary.env.prod]\nalpha = 0.9\n",)
            .replace("{{versoin}}", "{{version}}")
            .replace("\\\"{{weight}}\\\"", "{{weight}}");
        let found = places(&text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!((found[0].0, found[0].1), (17, 1));
        assert_eq!(found[0].4, "canary.env.prod.alpha: 0.9 is not in (0, 0.5]");
    }

    #[test]
    fn without_a_canary_table_nothing_is_found() {
        for text in ["[release]\ntag-format = \"v{version}\"\n", ""] {
            assert_eq!(crate::parse(text).expect("parses").findings(), None);
        }
        assert_eq!(crate::Settings::default().findings(), None);
        assert_eq!(
            crate::parse("[canary]\n[[canary.metrics]]\nname = \"g\"\nkind = \"gauge\"\ncanary = { value = \"v\" }\nthreshold = 1\n")
                .expect("parses")
                .findings(),
            Some(vec![])
        );
    }
}

//! The configuration gate's evidence: the environment's configuration at the branch with
//! the promotion's files as they will be, checked as `shipgate config validate` checks it,
//! and the promotion's other files read back.

use shipgate_config::check::SetReport;
use shipgate_config::{ConfigSet, Diagnostic, Layout, Schema, Severity};
use shipgate_git::{Oid, TreeFile};

use super::files::FileEdit;
use super::{Context, OpError};
use crate::targets::{self, Place};

/// The configuration of `env` at `base` with the promotion's files as they will be:
/// `Ok(what was checked)` or the errors that concern `env`, each at its file and line.
pub(super) fn check_configuration(
    ctx: &Context<'_>,
    base: Oid,
    env: &str,
    edits: &[FileEdit],
    summary: String,
) -> Result<Result<String, Vec<String>>, OpError> {
    let dir = ctx.dir();
    let texts = with_edits(&ctx.repo.files_in(base, &dir)?, &dir, edits);
    let Some(set) = shipgate_config::load::assemble(&dir, ctx.environments.layout, texts) else {
        return Ok(read_back(edits, &summary, &dir));
    };
    let (schema_path, schema) = schema(ctx, base, &dir)?;
    let schema = match schema {
        Ok(schema) => schema,
        Err(problem) => return Ok(Err(vec![problem])),
    };
    let report = shipgate_config::check::check(&set, schema.as_ref(), ctx.environments);
    let mut problems = concerning(&report, env, &schema_path, edits);
    problems.extend(target_problems(edits, Some(&set)));
    Ok(if problems.is_empty() {
        Ok(format!(
            "{summary}{}",
            if schema.is_some() {
                " (schema and rules)"
            } else {
                " (rules; no schema)"
            }
        ))
    } else {
        Err(problems)
    })
}

/// The files of `dir` (`name` → text) with the promotion's edits in place.
fn with_edits(files: &[TreeFile], dir: &str, edits: &[FileEdit]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|f| {
            let path = targets::in_dir(dir, &f.name);
            let text = match edits.iter().find(|e| e.file == path) {
                Some(e) => e.new.clone(),
                None => String::from_utf8_lossy(&f.bytes).into_owned(),
            };
            (f.name.clone(), text)
        })
        .collect()
}

/// Without a configuration set to validate: the places themselves were read back after the
/// edit (each gives exactly the new value, every other value unchanged), so what is left to
/// find is a key set twice.
fn read_back(edits: &[FileEdit], summary: &str, dir: &str) -> Result<String, Vec<String>> {
    let problems = target_problems(edits, None);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(format!(
        "{summary} (read back; no configuration in {dir} to validate)"
    ))
}

/// The schema of the configuration in `dir` at `base`: its path (`[environments] schema`,
/// else a Helm chart's values.schema.json when there is one, else schema.json) and, when
/// the file is there, the schema, or why it does not compile (at its file and line).
fn schema(
    ctx: &Context<'_>,
    base: Oid,
    dir: &str,
) -> Result<(String, Result<Option<Schema>, String>), OpError> {
    let helm_schema = targets::in_dir(dir, "values.schema.json");
    let path = match &ctx.environments.schema {
        Some(p) => {
            let p = p.to_string_lossy().replace('\\', "/");
            p.strip_prefix("./").unwrap_or(&p).to_string()
        }
        None if ctx.environments.layout == Layout::Helm
            && ctx.repo.file_at(base, &helm_schema)?.is_some() =>
        {
            helm_schema
        }
        None => targets::in_dir(dir, "schema.json"),
    };
    let schema = match ctx.repo.file_at(base, &path)? {
        Some(bytes) => match Schema::compile(&path, &String::from_utf8_lossy(&bytes)) {
            Ok(s) => Ok(Some(s)),
            Err(d) => Err(format!("{}:{}:{}: {}", d.file, d.line, d.column, d.message)),
        },
        None => Ok(None),
    };
    Ok((path, schema))
}

/// The errors of `report` that concern `env`, in words: an error about it (its merged
/// configuration, its parity, its missing file), or one about no environment in particular
/// in a file it reads (a syntax error, a secret), in the schema or in a file the promotion
/// edits; never one about another environment alone.
fn concerning(report: &SetReport, env: &str, schema_path: &str, edits: &[FileEdit]) -> Vec<String> {
    let reads: Vec<&str> = report
        .files
        .iter()
        .find(|(e, _)| e == env)
        .map(|(_, f)| f.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let concerns = |d: &Diagnostic| {
        if d.severity != Severity::Error {
            return false;
        }
        if d.environments.is_empty() {
            reads.contains(&d.file.as_str())
                || d.file == schema_path
                || edits.iter().any(|e| e.file == d.file)
        } else {
            d.environments.iter().any(|e| e == env)
        }
    };
    report
        .diagnostics
        .iter()
        .filter(|d| concerns(d))
        .map(|d| {
            format!(
                "{}:{}:{}: {} [{}]",
                d.file,
                d.line,
                d.column,
                d.message,
                d.rule.id()
            )
        })
        .collect()
}

/// What a promotion's places will say, for the configuration gate's evidence:
/// `environments/prod.toml validates with service.image.tag = "1.4.0"`, and the other
/// places after it.
pub(super) fn places_summary(places: &[Place], version: &str) -> String {
    let mut out = String::new();
    for (i, p) in places.iter().enumerate() {
        if i == 0 {
            out.push_str(&format!(
                "{} validates with {} = \"{}\"",
                p.file,
                p.key,
                p.value(version)
            ));
        } else {
            out.push_str(&format!(
                "; {} {} = \"{}\"",
                p.file,
                p.key,
                p.value(version)
            ));
        }
    }
    out
}

/// What is wrong in the promotion's files that are not configuration files (a key set twice
/// in a kustomization.yaml, which its reader would refuse or read either way), as the
/// configuration gate reports problems.
fn target_problems(edits: &[FileEdit], set: Option<&ConfigSet>) -> Vec<String> {
    let mut out = Vec::new();
    for e in edits {
        if set.is_some_and(|set| set.file_names().any(|n| n == e.file)) {
            continue;
        }
        let Some(format) = shipgate_doc::Format::of_path(&e.file) else {
            continue;
        };
        if let Ok(parsed) = shipgate_doc::parse(&e.new, format, shipgate_doc::FileId(0)) {
            for p in parsed.problems {
                if p.kind == shipgate_doc::ProblemKind::DuplicateKey {
                    let (line, column) =
                        shipgate_stdx::text::line_col(&e.new, p.span.start as usize);
                    out.push(format!(
                        "{}:{line}:{column}: {} [duplicate-key]",
                        e.file, p.message
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipgate_config::{Redactor, Rule};

    fn place(file: &str, key: &str, template: &str) -> Place {
        Place {
            file: file.into(),
            key: key.into(),
            template: template.into(),
            shorthand: false,
        }
    }

    fn edit(file: &str, new: &str) -> FileEdit {
        FileEdit {
            file: file.into(),
            old: String::new(),
            new: new.into(),
        }
    }

    #[test]
    fn the_summary_names_every_place_with_its_value() {
        assert_eq!(places_summary(&[], "1.4.0"), "");
        let places = [
            place("environments/prod.toml", "service.image.tag", "{{version}}"),
            place(
                "deploy/prod/kustomization.yaml",
                "images[name=app].newTag",
                "v{{version}}",
            ),
            place(
                "charts/values.yaml",
                "image",
                "ghcr.io/acme/app:{{version}}",
            ),
        ];
        assert_eq!(
            places_summary(&places[..1], "1.4.0"),
            r#"environments/prod.toml validates with service.image.tag = "1.4.0""#
        );
        assert_eq!(
            places_summary(&places, "1.4.0"),
            r#"environments/prod.toml validates with service.image.tag = "1.4.0"; deploy/prod/kustomization.yaml images[name=app].newTag = "v1.4.0"; charts/values.yaml image = "ghcr.io/acme/app:1.4.0""#
        );
    }

    const TWICE: &str = "images:\n  - name: app\n    newTag: 1.4.0\n    newTag: 1.3.0\n";

    #[test]
    fn a_key_set_twice_in_a_target_is_a_problem_at_its_line() {
        let edits = [
            edit("deploy/kustomization.yaml", TWICE),
            edit(
                "deploy/other.yaml",
                "images:\n  - name: app\n    newTag: 1.4.0\n",
            ),
            // Not a format the targets know: not read.
            edit("deploy/notes.txt", "a: 1\na: 2\n"),
        ];
        assert_eq!(
            target_problems(&edits, None),
            [
                "deploy/kustomization.yaml:4:5: `newTag` is set twice in this mapping (first on \
              line 3); readers disagree on which one counts [duplicate-key]"
            ]
        );
    }

    #[test]
    fn without_configuration_the_places_are_read_back() {
        let summary = r#"deploy/kustomization.yaml images[name=app].newTag = "1.4.0""#;
        let clean = [edit(
            "deploy/kustomization.yaml",
            "images:\n  - newTag: 1.4.0\n",
        )];
        assert_eq!(
            read_back(&clean, summary, "deploy"),
            Ok(format!(
                "{summary} (read back; no configuration in deploy to validate)"
            ))
        );
        let twice = [edit("deploy/kustomization.yaml", TWICE)];
        let problems = read_back(&twice, summary, "deploy").expect_err("a key set twice");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].ends_with("[duplicate-key]"), "{problems:?}");
    }

    #[test]
    fn the_configuration_is_read_with_the_edits_in_place() {
        let files = [
            TreeFile {
                name: "base.toml".into(),
                bytes: b"version = \"1.3.0\"\n".to_vec(),
            },
            TreeFile {
                name: "prod.toml".into(),
                bytes: b"version = \"1.3.0\"\n".to_vec(),
            },
        ];
        let edits = [
            edit("environments/prod.toml", "version = \"1.4.0\"\n"),
            // Same name, another directory: not this one.
            edit("base.toml", "version = \"9.9.9\"\n"),
        ];
        assert_eq!(
            with_edits(&files, "environments", &edits),
            [
                ("base.toml".to_string(), "version = \"1.3.0\"\n".to_string()),
                ("prod.toml".to_string(), "version = \"1.4.0\"\n".to_string()),
            ]
        );
    }

    fn diagnostic(file: &str, rule: Rule, environments: &[&str]) -> Diagnostic {
        let mut d = Diagnostic::at_file_start(file, rule, format!("wrong in {file}"), None);
        d.line = 3;
        d.column = 7;
        d.environments = environments.iter().map(|e| e.to_string()).collect();
        d
    }

    #[test]
    fn only_errors_that_concern_the_environment_count() {
        let mut warning = diagnostic("environments/prod.toml", Rule::Parity, &["prod"]);
        warning.severity = Severity::Warning;
        let report = SetReport {
            diagnostics: vec![
                // In a file prod reads, about no environment in particular.
                diagnostic("environments/base.toml", Rule::TomlSyntax, &[]),
                // In a file only staging reads.
                diagnostic("environments/staging.toml", Rule::TomlSyntax, &[]),
                // About staging alone, in a file prod reads too.
                diagnostic("environments/base.toml", Rule::Parity, &["staging"]),
                // About prod.
                diagnostic("environments/prod.toml", Rule::Parity, &["staging", "prod"]),
                warning,
                // In the schema.
                diagnostic("environments/schema.json", Rule::TomlSyntax, &[]),
                // In a file the promotion edits.
                diagnostic("deploy/kustomization.yaml", Rule::TomlSyntax, &[]),
            ],
            redactor: Redactor::default(),
            files: vec![
                (
                    "staging".into(),
                    vec![
                        "environments/base.toml".into(),
                        "environments/staging.toml".into(),
                    ],
                ),
                (
                    "prod".into(),
                    vec![
                        "environments/base.toml".into(),
                        "environments/prod.toml".into(),
                    ],
                ),
            ],
        };
        let edits = [edit("deploy/kustomization.yaml", "")];
        assert_eq!(
            concerning(&report, "prod", "environments/schema.json", &edits),
            [
                "environments/base.toml:3:7: wrong in environments/base.toml [toml-syntax]",
                "environments/prod.toml:3:7: wrong in environments/prod.toml [parity]",
                "environments/schema.json:3:7: wrong in environments/schema.json [toml-syntax]",
                "deploy/kustomization.yaml:3:7: wrong in deploy/kustomization.yaml [toml-syntax]",
            ]
        );
        // An environment that reads no file: only what is about it, the schema, the edits.
        assert_eq!(
            concerning(&report, "dev", "environments/schema.json", &[]),
            ["environments/schema.json:3:7: wrong in environments/schema.json [toml-syntax]"]
        );
    }
}

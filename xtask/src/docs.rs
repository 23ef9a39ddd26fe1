//! `cargo xtask docs`: the site in `docs/` (mdBook). Regenerates the reference pages from
//! the code (the `shipgate.toml` reference from the schema, the CLI reference from clap, the
//! `--json` shapes from the output types, the schema file itself), then builds the book.
//! The tests below hold the committed pages to what would be generated, and every page's
//! examples, command lines and links to the code and to each other, without mdBook.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use shipgate::cli::hinted;

/// The mdBook the site is built with (`cargo install` when absent; the Pages workflow too).
pub const MDBOOK_VERSION: &str = "0.5.4";

/// Every generated file of the site: path relative to the repository root, contents.
pub fn generated() -> Vec<(PathBuf, String)> {
    vec![
        (
            PathBuf::from("docs/src/reference/config.md"),
            crate::docs_config::page(),
        ),
        (
            PathBuf::from("docs/src/reference/cli.md"),
            crate::docs_cli::page(),
        ),
        (
            PathBuf::from("docs/src/reference/json.md"),
            crate::docs_json::page(),
        ),
        (
            PathBuf::from("docs/src/shipgate.schema.json"),
            shipgate_settings::json_schema_text(),
        ),
    ]
}

fn mdbook() -> anyhow::Result<PathBuf> {
    let found = Command::new("mdbook")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!(
            "$ cargo install mdbook --version {MDBOOK_VERSION} --locked --no-default-features --features search"
        );
        let status = Command::new("cargo")
            .args([
                "install",
                "mdbook",
                "--version",
                MDBOOK_VERSION,
                "--locked",
                "--no-default-features",
                "--features",
                "search",
            ])
            .status()
            .context("cannot run cargo install")?;
        if !status.success() {
            return Err(hinted(
                "cannot install mdbook",
                format!("install mdbook {MDBOOK_VERSION} by hand and put it on PATH"),
            ));
        }
    }
    Ok(PathBuf::from("mdbook"))
}

/// Writes every generated page, then builds the book into `docs/book`.
pub fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    if let Some(other) = args.first() {
        bail!("`cargo xtask docs` takes no argument (got `{other}`)");
    }
    let root = crate::root();
    for (path, text) in generated() {
        let full = root.join(&path);
        if std::fs::read_to_string(&full).ok().as_deref() != Some(text.as_str()) {
            if let Some(dir) = full.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            shipgate_stdx::fs::write_atomic(&full, text.as_bytes())
                .with_context(|| format!("cannot write {}", full.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    let mdbook = mdbook()?;
    eprintln!("$ mdbook build docs");
    let status = Command::new(&mdbook)
        .args(["build", "docs"])
        .current_dir(&root)
        .status()
        .context("cannot run mdbook")?;
    if !status.success() {
        bail!("`mdbook build docs` failed ({status})");
    }
    eprintln!("the site is in {}", root.join("docs/book").display());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::docs_check::*;

    /// The site's pages (`docs/src/**/*.md`) and README.md, relative to `root`.
    pub fn pages(root: &Path) -> anyhow::Result<Vec<crate::docs_check::Page>> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.is_dir() {
                    walk(&path, out)?;
                } else if path.extension().is_some_and(|e| e == "md") {
                    out.push(path);
                }
            }
            Ok(())
        }
        let mut files = vec![root.join("README.md")];
        walk(&root.join("docs/src"), &mut files).context("cannot read docs/src")?;
        files.sort();
        files
            .into_iter()
            .map(|f| {
                let text = std::fs::read_to_string(&f)
                    .with_context(|| format!("cannot read {}", f.display()))?;
                let path = f.strip_prefix(root).unwrap_or(&f).to_path_buf();
                Ok(crate::docs_check::Page { path, text })
            })
            .collect()
    }

    fn site() -> Vec<Page> {
        pages(&crate::root()).expect("the pages")
    }

    fn validator() -> jsonschema::Validator {
        jsonschema::options()
            .should_validate_formats(true)
            .build(&shipgate_settings::json_schema().to_value())
            .expect("the schema compiles")
    }

    fn sections() -> Vec<String> {
        shipgate_settings::json_schema()
            .to_value()
            .get("properties")
            .and_then(|p| p.as_object())
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_committed_pages_are_the_generated_ones() {
        let root = crate::root();
        let stale: Vec<String> = generated()
            .into_iter()
            .filter(|(path, text)| {
                std::fs::read_to_string(root.join(path)).ok().as_deref() != Some(text.as_str())
            })
            .map(|(path, _)| path.display().to_string())
            .collect();
        assert!(
            stale.is_empty(),
            "stale generated pages: {stale:?}; run `cargo xtask docs` and commit them"
        );
    }

    #[test]
    fn every_shipgate_toml_example_is_accepted_by_the_schema_and_shipgate() {
        let validator = validator();
        let sections = sections();
        let mut checked = 0;
        let mut problems = Vec::new();
        for page in site() {
            for block in blocks(&page.text).into_iter().filter(|b| b.lang == "toml") {
                if !is_shipgate_toml(&block.text, &sections) {
                    continue;
                }
                checked += 1;
                for p in toml_problems(&validator, &block.text) {
                    problems.push(format!("{}:{}: {p}", page.path.display(), block.line));
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(checked >= 100, "only {checked} examples found");
        eprintln!("{checked} shipgate.toml examples checked");
    }

    #[test]
    fn every_command_line_names_commands_and_flags_that_exist() {
        let mut checked = 0;
        let mut problems = Vec::new();
        for page in site() {
            for (line, command) in command_lines(&page.text) {
                checked += 1;
                for p in command_problems(&command) {
                    problems.push(format!(
                        "{}:{line}: {command}\n    {p}",
                        page.path.display()
                    ));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        assert!(checked >= 20, "only {checked} command lines found");
        eprintln!("{checked} command lines checked");
    }

    #[test]
    fn every_link_and_anchor_resolves() {
        let root = crate::root();
        let problems = link_problems(&site(), |p| root.join(p).exists());
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn every_page_is_in_the_summary_and_every_summary_entry_is_a_page() {
        let root = crate::root();
        let summary = std::fs::read_to_string(root.join("docs/src/SUMMARY.md")).expect("SUMMARY");
        let listed: Vec<PathBuf> = links(&summary)
            .into_iter()
            .map(|(_, l)| PathBuf::from("docs/src").join(l))
            .collect();
        for page in site() {
            let p = &page.path;
            if p.starts_with("docs/src") && !p.ends_with("SUMMARY.md") {
                assert!(listed.contains(p), "{} is not in SUMMARY.md", p.display());
            }
        }
        for l in listed {
            assert!(root.join(&l).exists(), "SUMMARY.md names {}", l.display());
        }
    }

    #[test]
    fn every_json_field_says_what_it_is() {
        let missing = crate::docs_json::undescribed();
        assert!(
            missing.is_empty(),
            "--json fields without a doc comment: {missing:#?}"
        );
    }

    #[test]
    fn every_key_of_the_reference_has_an_example() {
        let missing: Vec<String> = crate::docs_config::keys()
            .into_iter()
            .filter(|k| !k.is_table && k.example.is_none())
            .map(|k| k.path)
            .collect();
        assert!(missing.is_empty(), "keys without an example: {missing:#?}");
    }

    #[test]
    fn every_command_has_its_exit_codes_and_no_other_is_named() {
        let paths = crate::docs_cli::command_paths();
        for (path, leaf) in &paths {
            if *leaf {
                assert!(
                    crate::docs_cli::EXIT_CODES
                        .iter()
                        .any(|(p, _, _)| p == path),
                    "`shipgate {path}` has no entry in docs_cli::EXIT_CODES"
                );
            }
        }
        for (p, _, _) in crate::docs_cli::EXIT_CODES {
            assert!(
                paths.iter().any(|(path, leaf)| path == p && *leaf),
                "docs_cli::EXIT_CODES names `shipgate {p}`, which is no command"
            );
        }
    }

    // The checks themselves find what they are for.

    #[test]
    fn a_bad_example_is_found() {
        let v = validator();
        assert_eq!(
            toml_problems(&v, "[release]\nmode = \"unified\"\n"),
            Vec::<String>::new()
        );
        assert!(!toml_problems(&v, "[release]\nmod = \"unified\"\n").is_empty());
        assert!(!toml_problems(&v, "[release]\nmode = \"each\"\n").is_empty());
        assert!(!toml_problems(&v, "[release\n").is_empty());
        let sections = sections();
        assert!(is_shipgate_toml("[canary]\nalpha = 0.01\n", &sections));
        assert!(!is_shipgate_toml("[package]\nname = \"x\"\n", &sections));
    }

    #[test]
    fn a_command_or_flag_that_does_not_exist_is_found() {
        for good in [
            "shipgate release --dry-run",
            "shipgate --json config show prod --provenance",
            "shipgate release [--dry-run] [--json] [--pre LABEL]",
            "shipgate promote 1.4.0 --to prod --push",
            "cargo xtask release --dry-run",
            "cargo xtask test",
            "cargo xtask validate [--format F]",
            "cargo xtask bench judge --json",
        ] {
            assert_eq!(command_problems(good), Vec::<String>::new(), "{good}");
        }
        for bad in [
            "shipgate release --dry-runn",
            "shipgate relase",
            "shipgate config validate --format yaml",
            "shipgate canary run --env prod --replay x.json --charts",
            "cargo xtask tset",
            "cargo xtask validate --fromat github",
            "cargo xtask bench judge --jsn",
        ] {
            assert!(!command_problems(bad).is_empty(), "{bad} passes");
        }
        let page = "```console\n$ shipgate release --dry-run # fine\n$ shipgate promote --too prod\n```\n\nand `shipgate statuz`.\n";
        let lines = command_lines(page);
        assert_eq!(lines.len(), 3, "{lines:?}");
        let bad: Vec<_> = lines
            .iter()
            .filter(|(_, c)| !command_problems(c).is_empty())
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(bad, vec![3, 6]);
    }

    #[test]
    fn a_broken_link_or_anchor_is_found() {
        let pages = vec![
            Page {
                path: "docs/src/a.md".into(),
                text: "# A page\n\n## Two words\n\n[ok](b.md#b) [ok](#two-words) [ok](#a-page)\n[no](c.md) [no](b.md#nope) [no](#two)\n".into(),
            },
            Page {
                path: "docs/src/b.md".into(),
                text: "# B\n".into(),
            },
            Page {
                path: "README.md".into(),
                text: format!("[ok]({SITE}a.html#two-words) [no]({SITE}x.html) [ok](https://example.com/x)\n"),
            },
        ];
        let problems = link_problems(&pages, |_| false);
        assert_eq!(problems.len(), 4, "{problems:#?}");
    }

    #[test]
    fn anchors_are_mdbooks() {
        let a = anchors("# `release.mode`\n## The model\n## The model\n## Custom {#own}\n");
        for id in ["releasemode", "the-model", "the-model-1", "own"] {
            assert!(a.contains(id), "{id} in {a:?}");
        }
    }
}

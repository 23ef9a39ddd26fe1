//! `cargo xtask validate [--format F]`: `shipgate config validate` on this repository's
//! environments, through the same library call (`shipgate_config::validate`).

use std::process::ExitCode;

use anyhow::{Context, bail};
use shipgate_config::{Format, LoadRequest, render};

pub fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let mut format = if std::env::var_os("GITHUB_ACTIONS").is_some() {
        Format::Github
    } else {
        Format::Human
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--format" => {
                let name = it
                    .next()
                    .context("--format needs human|json|github|sarif|junit")?;
                format = Format::parse(name).with_context(|| {
                    format!("unknown format `{name}`\nhint: human, json, github, sarif or junit")
                })?;
            }
            other => bail!(
                "unknown argument `{other}`\nhint: cargo xtask validate [--format human|json|github|sarif|junit]"
            ),
        }
    }
    let root = crate::root();
    let settings = shipgate_settings::load(&root, None)?;
    let request = LoadRequest {
        repo: &root,
        paths: vec![root.join(&settings.environments.directory)],
        settings: &settings.environments,
    };
    let report = shipgate_config::validate(&request)?;
    print!(
        "{}",
        render::render(format, &report.diagnostics, &report.files, false)
    );
    let (errors, warnings) = shipgate_config::diagnostic::counts(&report.diagnostics);
    eprintln!(
        "{errors} error(s), {warnings} warning(s) in {} files",
        report.files.len()
    );
    Ok(if report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

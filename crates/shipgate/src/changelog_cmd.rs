//! `shipgate changelog`: render the whole history, the unreleased changes or a range.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use shipgate_changelog::{Template, TemplateSource, build_changelog, render_model};
use shipgate_release::{ChangelogRequest, Span};

use crate::cli::{Global, Hinted, hinted};

#[derive(Debug, Args)]
pub struct ChangelogArgs {
    /// Only the changes since the newest release
    #[arg(long, conflicts_with = "range")]
    pub unreleased: bool,
    /// Only the commits reachable from B and not from A
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,
    /// Write to FILE (atomically) instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// One crate of the workspace: its tags (crate-tag-format) and the commits touching it
    #[arg(long, value_name = "NAME")]
    pub package: Option<String>,
    /// Print the template context as JSON instead of rendering it
    #[arg(long)]
    pub context: bool,
    /// `keep-a-changelog`, `github-release`, or a handlebars file (default: [changelog] template)
    #[arg(long, value_name = "NAME|FILE")]
    pub template: Option<String>,
}

pub fn run(global: &Global, args: &ChangelogArgs) -> anyhow::Result<ExitCode> {
    let settings = global.settings()?;
    let span = match (&args.range, args.unreleased) {
        (Some(range), _) => {
            let Some((from, to)) = range.split_once("..") else {
                return Err(hinted(
                    format!("--range {range} is not A..B"),
                    "e.g. --range v1.2.0..v1.3.0",
                ));
            };
            let to = if to.is_empty() { "HEAD" } else { to };
            Span::Range {
                from: from.to_string(),
                to: to.to_string(),
            }
        }
        (None, true) => Span::Unreleased,
        (None, false) => Span::All,
    };
    let remote = settings.release.remote.clone();
    let mut input = shipgate_release::collect_changelog(&ChangelogRequest {
        repo: global.repo.clone(),
        settings: settings.release,
        span,
        package: args.package.clone(),
    })?;
    for warning in shipgate_release::enrich_from_github(&global.repo, &remote, &mut input) {
        crate::actions::warning(&warning, None);
    }
    let model = build_changelog(&input, &settings.changelog);
    let text = if args.context {
        serde_json::to_string_pretty(&model)? + "\n"
    } else {
        let name = args
            .template
            .clone()
            .or_else(|| settings.changelog.template.clone())
            .unwrap_or_else(|| "keep-a-changelog".into());
        let source = match TemplateSource::builtin(&name) {
            Some(source) => source,
            None => {
                let path = global.repo.join(&name);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    Hinted::new(
                        format!("cannot read template {}", path.display()),
                        "give keep-a-changelog, github-release or a handlebars file",
                    )
                    .because(e)
                })?;
                TemplateSource::Custom {
                    name: name.clone(),
                    text,
                }
            }
        };
        let template = Template::new(&source)?;
        render_model(&model, &template)?
    };
    match &args.output {
        Some(path) => shipgate_stdx::fs::write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None if args.context => crate::actions::out(&crate::actions::json(&text)),
        None => crate::actions::out(&text),
    }
    Ok(ExitCode::SUCCESS)
}

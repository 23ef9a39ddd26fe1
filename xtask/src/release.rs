//! `cargo xtask release`: `shipgate release` on this workspace, through the same library
//! calls (`shipgate_release::plan` / `run`).

use std::process::ExitCode;

use anyhow::{Context, bail};
use shipgate_release::ReleaseRequest;

pub fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let root = crate::root();
    let settings = shipgate_settings::load(&root, None)?;
    let mut req = ReleaseRequest {
        repo: root,
        settings: settings.release,
        changelog: settings.changelog,
        pre: None,
        version: None,
        push: false,
        github_release: false,
        allow_dirty: false,
        date: shipgate_release::release_date()?,
    };
    let (mut dry_run, mut json) = (false, false);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--dry-run" => dry_run = true,
            "--json" => json = true,
            "--push" => req.push = true,
            "--github-release" => req.github_release = true,
            "--allow-dirty" => req.allow_dirty = true,
            "--pre" => req.pre = Some(it.next().context("--pre needs a LABEL")?.clone()),
            "--version" => {
                let v = it.next().context("--version needs X.Y.Z")?;
                req.version = Some(
                    semver::Version::parse(v)
                        .with_context(|| format!("--version {v} is not a semantic version"))?,
                );
            }
            other => bail!(
                "unknown argument `{other}`\nhint: cargo xtask release [--dry-run] [--json] [--pre LABEL] [--version X.Y.Z] [--push] [--allow-dirty]"
            ),
        }
    }
    let (plan, done) = if dry_run {
        (shipgate_release::plan(&req)?, None)
    } else {
        let outcome = shipgate_release::run(&req)?;
        (outcome.plan.clone(), Some(outcome))
    };
    for w in &plan.warnings {
        eprintln!("warning: {w}");
    }
    if json {
        let value = match &done {
            Some(outcome) => serde_json::to_value(outcome)?,
            None => {
                let mut v = serde_json::to_value(&plan)?;
                v["dry_run"] = true.into();
                v
            }
        };
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{plan}");
        match &done {
            None => println!("dry run: nothing was written"),
            Some(o) => {
                if !o.tagged.is_empty() {
                    println!("tagged     {}", o.tagged.join(", "));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

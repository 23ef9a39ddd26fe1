//! `shipgate release`: arguments to a `ReleaseRequest`, then the plan or the run, printed.

use std::process::ExitCode;

use clap::Args;
use shipgate_release::{ReleaseError, ReleaseRequest};

use crate::cli::Global;

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// Show what would be released and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Make a prerelease with this label: 1.4.0-rc.1, then rc.2, …
    #[arg(long, value_name = "LABEL")]
    pub pre: Option<String>,
    /// Release this version instead of the computed one (must be greater than the current)
    #[arg(long, value_name = "X.Y.Z")]
    pub version: Option<semver::Version>,
    /// Push the release commit and tag(s) to the remote
    #[arg(long)]
    pub push: bool,
    /// Create or update the GitHub release of the new tag (GITHUB_TOKEN, GITHUB_API_URL)
    #[arg(long)]
    pub github_release: bool,
    /// Release even when tracked files have uncommitted changes (they stay out of the commit)
    #[arg(long)]
    pub allow_dirty: bool,
}

/// Builds the request from the arguments and the settings.
pub fn request(global: &Global, args: &ReleaseArgs) -> anyhow::Result<ReleaseRequest> {
    let settings = global.settings()?;
    Ok(ReleaseRequest {
        repo: global.repo.clone(),
        settings: settings.release,
        changelog: settings.changelog,
        pre: args.pre.clone(),
        version: args.version.clone(),
        push: args.push,
        github_release: args.github_release,
        allow_dirty: args.allow_dirty,
        date: shipgate_release::release_date()?,
    })
}

pub fn run(global: &Global, args: &ReleaseArgs) -> anyhow::Result<ExitCode> {
    match release(global, args) {
        // A history that breaks `strict = true` is a "no", not a failure to run.
        Err(err)
            if matches!(
                err.downcast_ref::<ReleaseError>(),
                Some(ReleaseError::Strict { .. })
            ) =>
        {
            crate::cli::report_error(&err);
            Ok(ExitCode::from(crate::cli::EXIT_NO))
        }
        other => other,
    }
}

fn release(global: &Global, args: &ReleaseArgs) -> anyhow::Result<ExitCode> {
    let req = request(global, args)?;
    if args.dry_run {
        let plan = shipgate_release::plan(&req)?;
        warn(&plan.warnings);
        if global.json {
            let mut value = serde_json::to_value(&plan)?;
            value["dry_run"] = true.into();
            println!("{}", serde_json::to_string_pretty(&value)?);
        } else {
            print!("{plan}");
            println!("dry run: nothing was written");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let outcome = shipgate_release::run(&req)?;
    warn(&outcome.plan.warnings);
    if global.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print!("{}", outcome.plan);
        if let Some(commit) = &outcome.commit {
            println!(
                "committed  {} {}",
                &commit[..commit.len().min(10)],
                outcome.plan.message
            );
        }
        if !outcome.tagged.is_empty() {
            println!("tagged     {}", outcome.tagged.join(", "));
        }
        for g in &outcome.github {
            for w in &g.warnings {
                eprintln!("warning: {w}");
            }
            println!("github     {} release {} {}", g.action, g.tag, g.url);
        }
        if outcome.pushed {
            println!("pushed     to {}", req.settings.remote);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

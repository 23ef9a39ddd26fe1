//! `shipgate release`: arguments to a `ReleaseRequest`, then the plan or the run, printed.

use std::process::ExitCode;

use clap::Args;
use shipgate_pipeline::{Bus, PipelineError, Stamp};
use shipgate_release::{Plan, ReleaseError, ReleaseRequest};

use crate::actions::{self, outln, outp};
use crate::cli::Global;

/// `release --dry-run --json`: the plan, and that nothing was written.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct DryRun<'a> {
    /// What the release would do.
    #[serde(flatten)]
    pub plan: &'a Plan,
    /// Always `true`: nothing was written.
    pub dry_run: bool,
}

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
pub fn request(
    global: &Global,
    args: &ReleaseArgs,
    settings: &shipgate_settings::Settings,
) -> anyhow::Result<ReleaseRequest> {
    Ok(ReleaseRequest {
        repo: global.repo.clone(),
        settings: settings.release.clone(),
        changelog: settings.changelog.clone(),
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
                err.downcast_ref::<PipelineError>(),
                Some(PipelineError::Release(ReleaseError::Strict { .. }))
            ) =>
        {
            crate::cli::report_error(&err);
            Ok(ExitCode::from(crate::cli::EXIT_NO))
        }
        other => other,
    }
}

fn release(global: &Global, args: &ReleaseArgs) -> anyhow::Result<ExitCode> {
    let settings = global.settings()?;
    let req = request(global, args, &settings)?;
    if args.dry_run {
        let plan = shipgate_pipeline::release::plan(&req)?;
        warn(&plan.warnings);
        if !settings.notify.is_empty() {
            // what the release would tell its channels
            let caller = crate::pipeline_io::caller()?;
            let stamp = Stamp {
                who: caller.actor.unwrap_or_default(),
                now: caller.now,
                run_url: caller.run_url,
            };
            let mut bus = Bus::new();
            crate::pipeline_io::notifiers(
                &mut bus,
                &settings,
                global,
                None,
                crate::pipeline_io::Notify::DryRun,
            )?;
            for event in shipgate_pipeline::release::rehearsed(&plan) {
                bus.emit(stamp.record(event));
            }
            bus.finish(std::time::Duration::ZERO);
        }
        if global.json {
            let out = DryRun {
                plan: &plan,
                dry_run: true,
            };
            outln!("{}", actions::json(&actions::sorted_json(&out)?));
        } else {
            print_plan(&plan);
            outln!("dry run: nothing was written");
        }
        to_actions(&plan, true, false);
        return Ok(ExitCode::SUCCESS);
    }
    let stamp = Stamp {
        who: std::env::var("GITHUB_ACTOR").unwrap_or_default(),
        now: jiff::Timestamp::now(),
        run_url: crate::pipeline_io::run_url(),
    };
    let mut bus = Bus::new();
    if !settings.notify.is_empty() {
        let git_dir = shipgate_git::open(&global.repo)
            .ok()
            .map(|r| r.git_dir().to_path_buf());
        crate::pipeline_io::notifiers(
            &mut bus,
            &settings,
            global,
            git_dir.as_deref(),
            crate::pipeline_io::Notify::Strict,
        )?;
    }
    let told = shipgate_pipeline::release::release(&req, &stamp, bus)?;
    crate::pipeline_io::delivered(&told.delivered);
    let outcome = told.outcome;
    warn(&outcome.plan.warnings);
    if global.json {
        outln!(
            "{}",
            actions::json(&serde_json::to_string_pretty(&outcome)?)
        );
    } else {
        print_plan(&outcome.plan);
        if let Some(commit) = &outcome.commit {
            outln!(
                "committed  {} {}",
                &commit[..commit.len().min(10)],
                outcome.plan.message
            );
        }
        if !outcome.tagged.is_empty() {
            outln!("tagged     {}", outcome.tagged.join(", "));
        }
        if let (Some(commit), Some(snapshot)) =
            (&outcome.snapshot_commit, &outcome.plan.next_snapshot)
        {
            outln!(
                "committed  {} {}",
                &commit[..commit.len().min(10)],
                snapshot.message
            );
        }
        for g in &outcome.github {
            warn(&g.warnings);
            outln!("github     {} release {} {}", g.action, g.tag, g.url);
        }
        if outcome.pushed {
            outln!("pushed     to {}", req.settings.remote);
        }
    }
    to_actions(&outcome.plan, false, !outcome.tagged.is_empty());
    Ok(ExitCode::SUCCESS)
}

fn warn(warnings: &[String]) {
    for w in warnings {
        actions::warning(w, None);
    }
}

/// The plan for people; in the Actions log its release notes fold into a group.
fn print_plan(plan: &Plan) {
    let Some(notes) = plan.changelog.as_deref().filter(|_| actions::active()) else {
        outp!("{plan}");
        return;
    };
    let head = Plan {
        changelog: None,
        ..plan.clone()
    };
    outp!("{head}");
    outln!();
    let _group = actions::Group::stdout(&format!("release notes {}", plan.tags.join(", ")));
    outp!("{notes}");
    if !notes.ends_with('\n') {
        outln!();
    }
}

/// In GitHub Actions: the outputs and the step summary of a release (or of its dry run).
fn to_actions(plan: &Plan, dry_run: bool, released: bool) {
    if !actions::active() {
        return;
    }
    actions::set_outputs(&outputs(plan, dry_run, released));
    actions::summary(&summary(plan, dry_run, released));
}

fn or_empty(v: Option<&semver::Version>) -> String {
    v.map(ToString::to_string).unwrap_or_default()
}

/// `current`, `next`, `version` (= next; empty with nothing to release), `tag`, `bump`,
/// `released`, `dry-run`.
fn outputs(plan: &Plan, dry_run: bool, released: bool) -> Vec<(&'static str, String)> {
    let tag = plan.tag.clone().unwrap_or_else(|| plan.tags.join(" "));
    vec![
        ("current", or_empty(plan.current.as_ref())),
        ("next", or_empty(plan.next.as_ref())),
        (
            "version",
            if plan.releases() {
                or_empty(plan.next.as_ref())
            } else {
                String::new()
            },
        ),
        ("tag", if plan.releases() { tag } else { String::new() }),
        ("bump", plan.bump.as_str().to_string()),
        ("released", actions::flag(released)),
        ("dry-run", actions::flag(dry_run)),
    ]
}

/// The step summary: the plan as a table, then the release notes (Markdown made from
/// commit messages: no HTML or table can come from them, see [`actions::md_document`]).
fn summary(plan: &Plan, dry_run: bool, released: bool) -> String {
    use std::fmt::Write as _;
    let md = actions::md;
    let mut out = String::new();
    let what = match (plan.releases(), dry_run, released) {
        (false, _, _) => "nothing to release".to_string(),
        (true, true, _) => format!("{} (dry run: nothing was written)", plan.tags.join(", ")),
        (true, false, true) => format!("{} released", plan.tags.join(", ")),
        (true, false, false) => format!("{} not released", plan.tags.join(", ")),
    };
    let _ = writeln!(out, "### shipgate release: {}\n", md(&what));
    let version =
        |v: Option<&semver::Version>| v.map_or("none".to_string(), |v| md(&v.to_string()));
    let previous = plan
        .previous_tag
        .as_deref()
        .map(|t| format!(" ({})", md(t)))
        .unwrap_or_default();
    let mut rows = vec![
        vec![
            "current".into(),
            format!("{}{previous}", version(plan.current.as_ref())),
        ],
        vec!["next".into(), version(plan.next.as_ref())],
        vec!["bump".into(), plan.bump.as_str().into()],
        vec![
            "tag".into(),
            if plan.releases() {
                md(&plan.tags.join(", "))
            } else {
                "none".into()
            },
        ],
        vec![
            "commits".into(),
            format!(
                "{} considered: {} conventional, {} other, {} reverted",
                plan.commits, plan.conventional, plan.non_conventional, plan.reverted
            ),
        ],
        vec!["dry run".into(), if dry_run { "yes" } else { "no" }.into()],
    ];
    if plan.mode == "per-crate" {
        rows.extend(plan.packages.iter().map(|p| {
            vec![
                md(&p.name),
                format!(
                    "{} → {}",
                    version(p.current.as_ref()),
                    version(p.next.as_ref())
                ),
            ]
        }));
    }
    out.push_str(&actions::md_table(&["", ""], &rows));
    if let Some(notes) = &plan.changelog {
        let _ = writeln!(out, "#### Release notes\n");
        out.push_str(&actions::md_document(notes));
        if !notes.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

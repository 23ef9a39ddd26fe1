//! `shipgate init`: sets up a repository for the whole pipeline (shipgate.toml and its
//! schema, an environments/ skeleton, the ci/release/deploy workflows) from the manifests
//! it finds. Never overwrites a file: a release or deploy workflow of the repository's own
//! is named with how to replace it, and `--replace-workflows` moves it aside first. Every
//! write is atomic, so a run killed halfway is finished by the next one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::cli::{Global, hinted};
use crate::init::{Inputs, check_directory, current_branch, detect, files};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Print what would be written, write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Replace a release.yml or deploy.yml that does not run shipgate; yours is kept beside
    /// it as <file>.orig
    #[arg(long)]
    pub replace_workflows: bool,
}

/// The workflows whose job shipgate does: one that does not run shipgate competes with it.
const OWN_WORKFLOWS: [&str; 2] = [
    ".github/workflows/release.yml",
    ".github/workflows/deploy.yml",
];

/// A workflow of the repository's own, in the place of one of shipgate's (`OWN_WORKFLOWS`):
/// it does not mention shipgate at all.
fn foreign_workflow(root: &Path, rel: &Path) -> bool {
    OWN_WORKFLOWS.iter().any(|w| Path::new(w) == rel)
        && std::fs::read_to_string(root.join(rel)).is_ok_and(|text| !text.contains("shipgate"))
}

/// Where a replaced workflow is kept: `<file>.orig`, which Actions does not run.
fn backup_of(rel: &Path) -> PathBuf {
    let mut name = rel.as_os_str().to_owned();
    name.push(".orig");
    PathBuf::from(name)
}

pub fn run(global: &Global, args: &InitArgs) -> anyhow::Result<ExitCode> {
    let root = global.repo.as_path();
    if !root.is_dir() {
        return Err(hinted(
            format!("{} is not a directory", root.display()),
            "pass --repo PATH, the repository's root",
        ));
    }
    // A shipgate.toml already there is kept, and says where the environments go.
    let existing = shipgate_settings::default_path(root);
    let environments = if existing.exists() {
        shipgate_settings::load(root, None)
            .context("cannot read the shipgate.toml that init would keep")?
            .environments
    } else {
        shipgate_config::EnvironmentsSettings::default()
    };
    let directory = check_directory(root, &environments.directory).map_err(|e| {
        hinted(
            e.to_string(),
            "set [environments] directory to a path inside the repository, e.g. \"environments\"",
        )
    })?;
    let manifests = detect(root);
    let branch = current_branch(root);
    let planned = files(&Inputs {
        manifests: &manifests,
        directory: &directory,
        order: &environments.order,
        branch: &branch,
    });

    let mut written = Vec::new();
    let mut kept = Vec::new();
    let mut replaced = Vec::new();
    let mut warnings: Vec<String> = manifests.iter().filter_map(|m| m.note.clone()).collect();
    for file in &planned {
        let path = root.join(&file.path);
        if path.symlink_metadata().is_ok() {
            if !foreign_workflow(root, &file.path) {
                kept.push(shown(&file.path));
                continue;
            }
            let backup = backup_of(&file.path);
            if !args.replace_workflows {
                kept.push(shown(&file.path));
                warnings.push(format!(
                    "{} is the repository's own and does not run shipgate, so init kept it and shipgate's is not there: run `shipgate init --replace-workflows` to put shipgate's in its place (yours is kept as {}), or move it aside yourself (`git mv {0} {1}`) and run `shipgate init` again",
                    shown(&file.path),
                    shown(&backup)
                ));
                continue;
            }
            if root.join(&backup).symlink_metadata().is_ok() {
                return Err(hinted(
                    format!(
                        "cannot replace {}: {} exists already",
                        shown(&file.path),
                        shown(&backup)
                    ),
                    "move or remove the old backup, then run `shipgate init --replace-workflows` again",
                ));
            }
            if !args.dry_run {
                std::fs::rename(&path, root.join(&backup)).with_context(|| {
                    format!("cannot move {} to {}", path.display(), shown(&backup))
                })?;
            }
            replaced.push((shown(&file.path), shown(&backup)));
        }
        if !args.dry_run {
            write_new(root, &file.path, &file.contents)?;
        }
        written.push(shown(&file.path));
    }

    let detected: Vec<&str> = manifests.iter().map(|m| m.path).collect();
    if global.json {
        let replaced: Vec<serde_json::Value> = replaced
            .iter()
            .map(|(path, backup)| serde_json::json!({ "path": path, "backup": backup }))
            .collect();
        let out = serde_json::json!({
            "detected": detected,
            "written": written,
            "kept": kept,
            "replaced": replaced,
            "warnings": warnings,
            "dry_run": args.dry_run,
        });
        crate::actions::outln!(
            "{}",
            crate::actions::json(&serde_json::to_string_pretty(&out)?)
        );
    } else {
        for m in &manifests {
            match &m.version {
                Some(v) => crate::actions::outln!("detected   {} ({v})", m.path),
                None => crate::actions::outln!("detected   {}", m.path),
            }
        }
        let verb = if args.dry_run { "would write" } else { "wrote" };
        for path in &written {
            crate::actions::outln!("{verb:<10} {path}");
        }
        for (path, backup) in &replaced {
            let was = if args.dry_run { "would be" } else { "is now" };
            crate::actions::outln!("replaced   {path} (yours {was} {backup})");
        }
        for path in &kept {
            crate::actions::outln!("kept       {path} (it exists)");
        }
    }
    for w in &warnings {
        crate::actions::warning(w, None);
    }
    if !global.json {
        if args.dry_run {
            eprintln!("dry run: nothing was written");
        } else if !written.is_empty() {
            eprintln!(
                "next: `shipgate config validate` and `shipgate release --dry-run`, then commit the files"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A relative path as shown and reported: `/`-separated.
fn shown(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Writes `rel` under `root` atomically, its directories made first, each checked to stay
/// inside the repository (no link out of it).
fn write_new(root: &Path, rel: &Path, contents: &str) -> anyhow::Result<()> {
    let parent = rel.parent().unwrap_or(Path::new(""));
    if !parent.as_os_str().is_empty() {
        check_directory(root, parent).map_err(|e| {
            hinted(
                e.to_string(),
                "remove the link that leads out of the repository",
            )
        })?;
        std::fs::create_dir_all(root.join(parent))
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let path: PathBuf = root.join(rel);
    shipgate_stdx::fs::write_atomic(&path, contents.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

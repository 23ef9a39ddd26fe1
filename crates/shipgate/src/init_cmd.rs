//! `shipgate init`: sets up a repository for the whole pipeline (shipgate.toml and its
//! schema, an environments/ skeleton unless the repository configures its environments
//! already, the ci/release/deploy workflows) from the manifests, configuration and release
//! tags it finds. Never overwrites a file: a release or deploy workflow of the repository's own
//! is named with how to replace it, and `--replace-workflows` moves it aside first. Every
//! write is atomic, so a run killed halfway is finished by the next one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::cli::{Global, hinted};
use crate::init::{
    Environments, Inputs, Manifest, check_directory, current_branch, detect, files, tags,
};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Print what would be written, write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Replace a release.yml or deploy.yml that does not run shipgate; yours is kept beside
    /// it as <file>.orig
    #[arg(long)]
    pub replace_workflows: bool,
    /// Write Argo Rollouts manifests to deploy/shipgate/: AnalysisTemplates (Job and Web)
    /// that ask shipgate's judge, a Rollout of the Deployment, and `canary serve`
    #[arg(long)]
    pub argo_rollouts: bool,
    /// Write Flagger manifests to deploy/shipgate/: a Canary whose webhooks ask shipgate's
    /// judge, a MetricTemplate, and `canary serve`
    #[arg(long)]
    pub flagger: bool,
    /// Write a Grafana dashboard of the delivery metrics (`shipgate metrics --format
    /// prometheus`) with shipgate's annotations to grafana/shipgate-delivery.json
    #[arg(long)]
    pub grafana: bool,
    /// The Kubernetes namespace of the service, for those manifests (default: its name)
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
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

/// What `--argo-rollouts` / `--flagger` write for: the namespace (checked: it reaches
/// manifests and URLs), the environment the analysis names, Prometheus's address.
fn engines(
    args: &InitArgs,
    manifests: &[crate::init::Manifest],
    environments: &Environments,
    kept: Option<&shipgate_settings::Settings>,
) -> anyhow::Result<crate::init::Engines> {
    let name = manifests
        .iter()
        .find_map(|m| m.name.clone())
        .unwrap_or_else(|| "app".to_string());
    let namespace = args.namespace.clone().unwrap_or_else(|| name.clone());
    let dns = !namespace.is_empty()
        && namespace.len() <= 63
        && namespace
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !namespace.starts_with('-')
        && !namespace.ends_with('-');
    if !dns {
        return Err(hinted(
            format!(
                "--namespace `{}` is not a Kubernetes namespace name",
                namespace.escape_debug()
            ),
            "use 1 to 63 lower-case letters, digits and `-`",
        ));
    }
    let order = match environments {
        Environments::Skeleton { order, .. } => order.clone(),
        Environments::Found(found) => found.order.clone(),
        Environments::Kept { .. } => kept
            .map(|k| k.environments.order.clone())
            .unwrap_or_default(),
    };
    let prometheus = kept
        .and_then(|k| k.canary.prometheus.as_ref().map(|p| p.url.clone()))
        .unwrap_or_else(|| "http://prometheus.monitoring.svc.cluster.local:9090".to_string());
    Ok(crate::init::Engines {
        argo_rollouts: args.argo_rollouts,
        flagger: args.flagger,
        namespace,
        env: order.last().cloned().unwrap_or_else(|| "prod".to_string()),
        prometheus,
    })
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
    let kept_toml = if existing.exists() {
        Some(
            shipgate_settings::load(root, None)
                .context("cannot read the shipgate.toml that init would keep")?,
        )
    } else {
        None
    };
    let outside = |e: crate::init::OutsideRepo| {
        hinted(
            e.to_string(),
            "set [environments] directory to a path inside the repository, e.g. \"environments\"",
        )
    };
    let environments = match &kept_toml {
        Some(settings) => {
            Environments::from_settings(root, &settings.environments).map_err(outside)?
        }
        None => match crate::init::environments::detect(root) {
            Some(found) => Environments::Found(found),
            None => {
                Environments::from_settings(root, &shipgate_config::EnvironmentsSettings::default())
                    .map_err(outside)?
            }
        },
    };
    let (scheme, shallow) = match shipgate_git::open(root) {
        Ok(repo) => (
            tags::scheme(&repo).context("cannot read the repository's tags")?,
            repo.is_shallow(),
        ),
        Err(_) => (None, false),
    };
    let manifests = detect(root);
    let branch = current_branch(root);
    let engines = engines(args, &manifests, &environments, kept_toml.as_ref())?;
    let planned = files(&Inputs {
        manifests: &manifests,
        environments: &environments,
        tags: scheme.as_ref(),
        branch: &branch,
        engines: &engines,
        grafana: args.grafana,
    });

    let mut written = Vec::new();
    let mut kept = Vec::new();
    let mut replaced = Vec::new();
    let mut warnings: Vec<String> = manifests.iter().filter_map(|m| m.note.clone()).collect();
    let tag_format = match (&kept_toml, &scheme) {
        (Some(settings), scheme) => {
            let format = settings.release.tag_format.clone();
            // Only a format the tags could have been read as: one of the project's own
            // (`app-v{version}`) was chosen on purpose.
            let plain = ["v{version}", "{version}"].contains(&format.as_str());
            if let Some(s) = scheme.as_ref().filter(|s| plain && s.format != format) {
                warnings.push(format!(
                    "shipgate.toml's tag-format is `{format}`, but {}: set [release] tag-format = \"{}\" if those are this project's releases",
                    s.why(),
                    s.format
                ));
            }
            (format, "kept shipgate.toml's".to_string())
        }
        (None, Some(s)) => (s.format.to_string(), s.why()),
        (None, None) => (
            "v{version}".to_string(),
            "no release tag reachable from HEAD yet".to_string(),
        ),
    };
    if shallow && kept_toml.is_none() {
        warnings.push(format!(
            "this is a shallow clone: tag-format \"{}\" was chosen from the tags it has; check it against the repository's release tags (`git fetch --unshallow --tags`, then `git tag --sort=-creatordate`)",
            tag_format.0
        ));
    }
    if let Some(s) = scheme.as_ref().filter(|s| s.format == tag_format.0) {
        warnings.extend(manifests.iter().filter_map(|m| off_the_tags(m, s)));
    }
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

    let detected: Vec<&str> = manifests.iter().map(|m| m.path.as_str()).collect();
    if global.json {
        let out = Initialized {
            detected: detected.iter().map(|d| d.to_string()).collect(),
            environments: environments_json(&environments),
            tag_format: TagFormat {
                format: tag_format.0.clone(),
                why: tag_format.1.clone(),
            },
            written: written.clone(),
            kept: kept.clone(),
            replaced: replaced
                .iter()
                .map(|(path, backup)| Replaced {
                    path: path.clone(),
                    backup: backup.clone(),
                })
                .collect(),
            warnings: warnings.clone(),
            dry_run: args.dry_run,
        };
        crate::actions::outln!(
            "{}",
            crate::actions::json(&crate::actions::sorted_json(&out)?)
        );
    } else {
        for m in &manifests {
            match &m.version {
                Some(v) => crate::actions::outln!("detected   {} ({v})", m.path),
                None => crate::actions::outln!("detected   {}", m.path),
            }
        }
        crate::actions::outln!("{}", environments_line(&environments, kept_toml.is_some()));
        if kept_toml.is_none() {
            crate::actions::outln!("tag format {}: {}", tag_format.0, tag_format.1);
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
        // A dry run says so where its answer is, on stdout, as every command's dry run does.
        if args.dry_run {
            crate::actions::outln!("dry run: nothing was written");
        } else if !written.is_empty() {
            crate::actions::errln!(
                "next: `shipgate config validate` and `shipgate release --dry-run`, then commit the files"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What init did about the environments, for people.
fn environments_line(environments: &Environments, kept: bool) -> String {
    match environments {
        Environments::Found(found) => {
            let what = match found.layout {
                shipgate_config::Layout::Spring => "Spring Boot configuration",
                _ => "Helm chart values",
            };
            let mut line = format!(
                "detected   {}/ ({what}: layout = \"{}\", environments {})",
                found.directory,
                found.layout.as_str(),
                found.order.join(", ")
            );
            if let Some(from) = &found.also_from {
                line.push_str(&format!(", some from {from}"));
            }
            if !found.not_environments.is_empty() {
                line.push_str(&format!(
                    "; not environments: {}",
                    found.not_environments.join(", ")
                ));
            }
            line
        }
        Environments::Kept { layout, directory } => format!(
            "kept       [environments] layout = \"{}\" in {} (shipgate.toml): the files are the repository's own, no skeleton is written",
            layout.as_str(),
            shown(directory)
        ),
        Environments::Skeleton { directory, .. } if !kept => format!(
            "skeleton   {}/ (no Spring Boot application-<env>.yml and no Helm chart with values-<env>.yaml found)",
            shown(directory)
        ),
        Environments::Skeleton { directory, .. } => format!(
            "skeleton   {}/ ([environments] of shipgate.toml)",
            shown(directory)
        ),
    }
}

/// `init --json`: what init found, and what it wrote.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Initialized {
    /// The manifests found, by path (`Cargo.toml`, `pom.xml`, `package.json`, …).
    pub detected: Vec<String>,
    /// Where the environments' configuration is, and how init knows.
    pub environments: InitEnvironments,
    /// The `[release] tag-format` written (or kept), and why.
    pub tag_format: TagFormat,
    /// The files written (with `--dry-run`: that would be written).
    pub written: Vec<String>,
    /// The files that exist and were kept as they are.
    pub kept: Vec<String>,
    /// The workflows of the repository's own moved aside (`--replace-workflows`).
    pub replaced: Vec<Replaced>,
    /// What the user should know: notes on manifests, tags, a shallow clone.
    pub warnings: Vec<String>,
    /// Whether this was a dry run (nothing was written).
    pub dry_run: bool,
}

/// Where the environments' configuration is, by `from`.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
#[serde(tag = "from")]
pub enum InitEnvironments {
    /// The repository's own configuration, detected (Spring Boot profiles, Helm values
    /// files): shipgate.toml points at it, nothing is written beside it.
    #[serde(rename = "detected")]
    Detected {
        /// `spring` or `helm`.
        layout: &'static str,
        /// Its directory, relative to the root (`.` for the root).
        directory: String,
        /// The environments, in promotion order, by shipgate's names.
        order: Vec<String>,
        /// An environment's name in the files where it differs (`prod` → `production`).
        names: std::collections::BTreeMap<String, String>,
        /// Profiles or values files whose names are not environments (`tls`).
        not_environments: Vec<String>,
    },
    /// A kept shipgate.toml's `[environments]` (`layout` `spring` or `helm`): the files are
    /// the repository's own, nothing is written beside them.
    #[serde(rename = "shipgate.toml")]
    Kept {
        /// The layout shipgate.toml names.
        layout: &'static str,
        /// Its directory.
        directory: String,
    },
    /// None found: the TOML skeleton written (a base file and one overlay per environment).
    #[serde(rename = "skeleton")]
    Skeleton {
        /// Always `overlays`.
        layout: &'static str,
        /// Its directory.
        directory: String,
        /// The environments, in promotion order.
        order: Vec<String>,
    },
}

/// `[release] tag-format`, and why.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct TagFormat {
    /// `v{version}`, `{version}`, or shipgate.toml's own.
    pub format: String,
    /// Why: the newest release tag and how the others are written, or none yet.
    pub why: String,
}

/// A workflow of the repository's own, moved aside.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Replaced {
    /// The workflow, now shipgate's.
    pub path: String,
    /// Where the repository's own is now (`<file>.orig`).
    pub backup: String,
}

/// What init did about the environments, for `--json`.
fn environments_json(environments: &Environments) -> InitEnvironments {
    match environments {
        Environments::Found(found) => InitEnvironments::Detected {
            layout: found.layout.as_str(),
            directory: found.directory.clone(),
            order: found.order.clone(),
            names: found.names.clone(),
            not_environments: found.not_environments.clone(),
        },
        Environments::Kept { layout, directory } => InitEnvironments::Kept {
            layout: layout.as_str(),
            directory: shown(directory),
        },
        Environments::Skeleton { directory, order } => InitEnvironments::Skeleton {
            layout: "overlays",
            directory: shown(directory),
            order: order.clone(),
        },
    }
}

/// A warning when a manifest's version does not follow the newest release tag: the next
/// release continues from the tag (a manifest below it is moved up, with a warning; one
/// above it stops the release), which is wrong when the tags are another project's (a
/// generator's versions).
fn off_the_tags(m: &Manifest, scheme: &tags::Scheme) -> Option<String> {
    use shipgate_version::bump::{core, is_snapshot};
    let version = m
        .version
        .as_ref()
        .filter(|_| m.entry.is_some() || m.native)?;
    let tag = &scheme.version;
    if version == tag || (is_snapshot(version) && core(version) > *tag) {
        return None;
    }
    let what = if core(version) > *tag || version > tag {
        format!(
            "a release would move it down, so it stops: if {version} is released, tag it (`git tag {}`)",
            scheme
                .format
                .replace("{version}", &core(version).to_string())
        )
    } else {
        format!(
            "the next release continues from {} and sets {} to the version after it",
            scheme.newest, m.path
        )
    };
    Some(format!(
        "{} holds {version}, but the newest release tag is {}: {what}; if those tags are not this project's releases, set [release] tag-format to a format of its own (e.g. \"app-v{{version}}\")",
        m.path, scheme.newest
    ))
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

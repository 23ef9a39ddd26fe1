//! `cargo xtask test` and `cargo xtask ci`: exactly what CI runs, installing what the tests
//! need on a fresh machine when it is absent.

use std::path::Path;
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use shipgate::cli::hinted;

/// How to get a tool that is absent.
enum Source {
    /// Debian packages, separated by spaces.
    Apt(&'static str),
    Pip(&'static str),
}

fn have(cmd: &str) -> bool {
    // The name is an argument of the script, never part of it.
    Command::new("sh")
        .arg("-c")
        .arg("command -v \"$1\" >/dev/null 2>&1")
        .arg("sh")
        .arg(cmd)
        .status()
        .is_ok_and(|s| s.success())
}

fn sh(program: &str, args: &[&str]) -> anyhow::Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(crate::root())
        .status()
        .with_context(|| format!("cannot run {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Installs `cmd` when absent.
fn ensure(cmd: &str, source: Source) -> anyhow::Result<()> {
    if have(cmd) {
        return Ok(());
    }
    match source {
        Source::Apt(packages) => {
            sh("apt-get", &["update", "-qq"])?;
            let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
            args.extend(packages.split_whitespace());
            sh("apt-get", &args)?;
        }
        Source::Pip(package) => sh("python3", &["-m", "pip", "install", "--quiet", package])?,
    }
    if !have(cmd) {
        return Err(hinted(
            format!("{cmd} is still missing after installing it"),
            "install it by hand and put it on PATH",
        ));
    }
    Ok(())
}

/// What the test suite needs on the machine.
fn ensure_test_tools() -> anyhow::Result<()> {
    ensure("git", Source::Apt("git"))?;
    // the deploy job's script reads `shipgate status --json` with jq
    ensure("jq", Source::Apt("jq"))?;
    // the action's tests run action/install.sh, which downloads with curl
    ensure("curl", Source::Apt("curl"))?;
    // the canary tests start a real Prometheus on a loopback port
    ensure("prometheus", Source::Apt("prometheus"))?;
    // the changelog tests compare entries with git-cliff's keepachangelog example
    ensure("git-cliff", Source::Pip("git-cliff"))?;
    // the CloudWatch tests run the AWS SDK against moto's standalone server
    ensure("moto_server", Source::Pip("moto[server]"))?;
    // the status page's tests open it in a real headless Chromium, with fonts to draw it
    ensure("chromium", Source::Apt("chromium fonts-liberation"))?;
    // the e-mail tests send through aiosmtpd (its console script tells it is installed)
    ensure("aiosmtpd", Source::Pip("aiosmtpd"))?;
    Ok(())
}

pub fn test() -> anyhow::Result<ExitCode> {
    ensure_test_tools()?;
    sh("cargo", &["test", "--workspace", "--locked"])?;
    Ok(ExitCode::SUCCESS)
}

/// The `.yml` files directly in `dir` (relative to the workspace root), sorted; none when
/// the directory is absent.
fn yaml_files(dir: &str) -> anyhow::Result<Vec<String>> {
    let dir = crate::root().join(dir);
    let mut files = Vec::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    for entry in
        std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            files.push(path.to_string_lossy().into_owned());
        }
    }
    files.sort();
    Ok(files)
}

/// Every workflow (this repository's and the ones `shipgate init` writes) against GitHub's
/// workflow schema, the action against the action schema, and all of them through zizmor:
/// no finding of medium severity or above.
fn workflows() -> anyhow::Result<()> {
    ensure("check-jsonschema", Source::Pip("check-jsonschema"))?;
    let root = crate::root();
    let mut workflows = yaml_files(".github/workflows")?;
    workflows.extend(yaml_files("crates/shipgate/src/init/workflows")?);
    let mut args = vec!["--builtin-schema", "vendor.github-workflows"];
    args.extend(workflows.iter().map(String::as_str));
    sh("check-jsonschema", &args)?;
    let action = root.join("action.yml");
    let action = action.to_string_lossy();
    if Path::new(action.as_ref()).exists() {
        sh(
            "check-jsonschema",
            &["--builtin-schema", "vendor.github-actions", &action],
        )?;
    }
    ensure("zizmor", Source::Pip("zizmor"))?;
    // zizmor collects only .github/workflows from a directory: the action and init's
    // templates are given as files.
    let mut args = vec!["--offline", "--min-severity", "medium", ".github"];
    if Path::new(action.as_ref()).exists() {
        args.push(&action);
    }
    let templates = yaml_files("crates/shipgate/src/init/workflows")?;
    args.extend(templates.iter().map(String::as_str));
    sh("zizmor", &args)?;
    Ok(())
}

pub fn ci() -> anyhow::Result<ExitCode> {
    sh("cargo", &["fmt", "--all", "--", "--check"])?;
    sh(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    test()?;
    workflows()?;
    eprintln!("ci: all checks passed");
    Ok(ExitCode::SUCCESS)
}

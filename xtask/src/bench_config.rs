//! `cargo xtask bench config [--services N] [--runs N] [--keep]`: `shipgate config validate` on a
//! generated tree of N services (default 1,000), each a directory with base.toml and three
//! overlays derived from this repository's `environments/`, sharing its schema.json; then
//! ajv-cli and check-jsonschema on the same merged documents against the same schema (schema
//! only, the documents merged beforehand), side by side; then this repository's own
//! `environments/`. Prints the measured times and the ratios. The same tree with mistakes
//! planted in some services (a literal password, a misspelt key, a wrong type, a syntax
//! error) checks the answer: its findings, in order, must be those shipgate reported before
//! issue 24 (their SHA-256), or the bench fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use shipgate::cli::hinted;
use shipgate_config::{EnvironmentsSettings, LoadRequest};

/// Targets from issues 4 and 24.
const TREE_BUDGET: Duration = Duration::from_millis(100);
const REPO_BUDGET: Duration = Duration::from_millis(30);
const MIN_RATIO: f64 = 10.0;
const MIN_AJV_RATIO: f64 = 5.0;

/// `config validate --format json` on the default tree (1,000 services) with the planted
/// mistakes, as shipgate reported it before issue 24: 220 findings, their SHA-256.
const FAULTY_SHA256: &str = "c960254a9b3cfcf29ce65b20b5d0172335c5d3a85c2e6c8c77e34b5fe48eb80e";

struct Options {
    services: usize,
    runs: usize,
    /// Keep the generated trees (for profiling) instead of removing them.
    keep: bool,
}

fn options(args: &[String]) -> anyhow::Result<Options> {
    let mut o = Options {
        services: 1000,
        runs: 5,
        keep: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> anyhow::Result<usize> {
            it.next()
                .and_then(|v| v.parse().ok())
                .with_context(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--services" => o.services = number("--services")?.max(1),
            "--runs" => o.runs = number("--runs")?.max(1),
            "--keep" => o.keep = true,
            other => {
                return Err(hinted(
                    format!("unknown option `{other}`"),
                    "cargo xtask bench config [--services N] [--runs N] [--keep]",
                ));
            }
        }
    }
    Ok(o)
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let o = options(args)?;
    let root = workspace_root();
    let environments = root.join("environments");
    eprintln!("building shipgate (release)…");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "-p", "shipgate"])
        .current_dir(&root)
        .status()
        .context("cannot run cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p shipgate failed");
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let shipgate = target.join("release").join("shipgate");

    let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let tree = tmp.path().join("services");
    let (files, keys) = generate(&environments, &tree, o.services, false)?;
    eprintln!(
        "generated {} services: {files} files, {keys} keys in {}",
        o.services,
        tree.display()
    );

    // 0. The answer: the same tree with planted mistakes, findings as before.
    let faulty = tmp.path().join("faulty");
    generate(&environments, &faulty.join("services"), o.services, true)?;
    let answer = findings(&shipgate, &faulty, &faulty.join("services"))?;
    // 1. The same merged documents, for the peers.
    let merged = tmp.path().join("merged");
    let documents = write_merged(tmp.path(), &tree, &merged)?;
    let schema = tree.join("schema.json");
    // 2. shipgate on the whole tree (the binary, as CI runs it), and ajv-cli on the merged
    // documents, side by side: run after run, each sees the same load.
    let ajv_ok = peer_installed("ajv");
    let (mut ours, mut ajv) = (Vec::new(), Vec::new());
    for _ in 0..o.runs {
        ours.push(time_runs(1, || validate(&shipgate, tmp.path(), &tree))?.0);
        if ajv_ok {
            ajv.push(time_runs(1, || run_ajv(&schema, &merged))?.0);
        }
    }
    ours.sort();
    ajv.sort();
    let ours = (ours[ours.len() / 2], ours[0]);
    let theirs = check_jsonschema(&schema, &documents, o.runs.min(3))?;
    // 3. This repository's environments/.
    let repo = time_runs(o.runs * 4, || validate(&shipgate, &root, &environments))?;

    println!(
        "config validation benchmark ({} services, {files} TOML files, {keys} keys)",
        o.services
    );
    println!(
        "  shipgate config validate (tree)      {:>9.1} ms  median of {} runs (min {:.1} ms; target <= {} ms)",
        ms(ours.0),
        o.runs,
        ms(ours.1),
        TREE_BUDGET.as_millis()
    );
    match ajv.get(ajv.len() / 2) {
        Some(t) => {
            let ratio = t.as_secs_f64() / ours.0.as_secs_f64();
            println!(
                "  ajv-cli ({} merged docs, schema only) {:>9.1} ms  median of {} runs, side by side",
                documents.len(),
                ms(*t),
                ajv.len()
            );
            println!(
                "  ratio: shipgate is {ratio:.1}x faster than ajv-cli (target >= {MIN_AJV_RATIO}x)"
            );
            if ratio < MIN_AJV_RATIO {
                eprintln!("warning: below the {MIN_AJV_RATIO}x target against ajv-cli");
            }
        }
        None => println!("  ajv-cli: not installed, comparison skipped (npm install -g ajv-cli)"),
    }
    match theirs {
        Some(t) => {
            let ratio = t.as_secs_f64() / ours.0.as_secs_f64();
            println!(
                "  check-jsonschema ({} merged docs)  {:>9.1} ms",
                documents.len(),
                ms(t)
            );
            println!(
                "  ratio: shipgate is {ratio:.1}x faster than check-jsonschema (target >= {MIN_RATIO}x)"
            );
            if ratio < MIN_RATIO {
                eprintln!("warning: below the {MIN_RATIO}x target");
            }
        }
        None => println!(
            "  check-jsonschema: not installed, comparison skipped (pip install check-jsonschema)"
        ),
    }
    println!(
        "  shipgate config validate (environments/) {:>6.1} ms  median of {} runs",
        ms(repo.0),
        o.runs * 4
    );
    if o.services == 1000 {
        if answer != FAULTY_SHA256 {
            bail!(
                "the findings on the tree with planted mistakes changed: sha256 {answer}, expected {FAULTY_SHA256}"
            );
        }
        println!("  answer: the planted mistakes' findings are those before issue 24, in order");
    } else {
        println!(
            "  answer: no recorded findings for {} services to compare with",
            o.services
        );
    }
    for (what, took, budget) in [
        ("tree", ours.0, TREE_BUDGET),
        ("environments/", repo.0, REPO_BUDGET),
    ] {
        if took > budget {
            eprintln!(
                "warning: {what} took {:.1} ms, over the {:.0} ms budget",
                ms(took),
                ms(budget)
            );
        }
    }
    if o.keep {
        let kept = tmp.keep();
        println!(
            "  kept: {} (the tree in services/, the planted mistakes in faulty/)",
            kept.display()
        );
    }
    Ok(())
}

/// Whether `program help` runs.
fn peer_installed(program: &str) -> bool {
    Command::new(program)
        .arg("help")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// ajv-cli (draft 2020-12, as the schema says) on every merged document at once.
fn run_ajv(schema: &Path, merged: &Path) -> anyhow::Result<()> {
    let out = Command::new("ajv")
        .args(["validate", "--spec=draft2020", "-s"])
        .arg(schema)
        .arg("-d")
        .arg(merged.join("*.json"))
        .output()
        .context("cannot run ajv")?;
    if !out.status.success() {
        bail!(
            "ajv rejected the merged documents:\n{}",
            excerpt(&out.stderr)
        );
    }
    Ok(())
}

/// `shipgate --repo REPO config validate --format json PATH`.
fn config_validate(
    shipgate: &Path,
    repo: &Path,
    path: &Path,
) -> anyhow::Result<std::process::Output> {
    Command::new(shipgate)
        .args(["--repo"])
        .arg(repo)
        .args(["config", "validate", "--format", "json"])
        .arg(path)
        .output()
        .context("cannot run shipgate")
}

/// The SHA-256 of `config validate --format json` on a tree with mistakes (exit 1).
fn findings(shipgate: &Path, repo: &Path, path: &Path) -> anyhow::Result<String> {
    let out = config_validate(shipgate, repo, path)?;
    if out.status.code() != Some(1) {
        bail!(
            "shipgate config validate should find the planted mistakes in {} (exit 1): {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(format!("{:x}", Sha256::digest(&out.stdout)))
}

/// The first 2,000 characters of a program's output, for an error.
fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(2000).collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// (median, min) wall time of `runs` runs.
fn time_runs(
    runs: usize,
    mut f: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<(Duration, Duration)> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok((times[times.len() / 2], times[0]))
}

/// Runs the binary; the generated tree and environments/ must be clean (exit 0).
fn validate(shipgate: &Path, repo: &Path, path: &Path) -> anyhow::Result<()> {
    let out = config_validate(shipgate, repo, path)?;
    if !out.status.success() {
        bail!(
            "shipgate config validate failed on {}:\n{}{}",
            path.display(),
            excerpt(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Writes `services/svc-NNNN/{base,dev,staging,prod}.toml` and `services/schema.json`:
/// this repository's environments with per-service names, hosts, replicas and versions.
/// Returns (files, keys).
/// With `faulty`, every 50th service (from the 8th) gets a literal password, a misspelt
/// required key, a wrong type and an unknown key, and every 50th from the 24th a syntax error.
fn generate(
    environments: &Path,
    tree: &Path,
    services: usize,
    faulty: bool,
) -> anyhow::Result<(usize, usize)> {
    let read = |name: &str| {
        std::fs::read_to_string(environments.join(name))
            .with_context(|| format!("cannot read environments/{name}"))
    };
    let (base, dev, staging, prod) = (
        read("base.toml")?,
        read("dev.toml")?,
        read("staging.toml")?,
        read("prod.toml")?,
    );
    std::fs::create_dir_all(tree)?;
    std::fs::copy(environments.join("schema.json"), tree.join("schema.json"))?;
    let mut keys = 0;
    for i in 0..services {
        let dir = tree.join(format!("svc-{i:04}"));
        std::fs::create_dir_all(&dir)?;
        let name = format!("svc{i:04}");
        let vary = |text: &str| {
            text.replace("storefront", &name)
                .replace(
                    "tag = \"1.4.0\"",
                    &format!("tag = \"1.{}.{}\"", i % 17, i % 5),
                )
                .replace("port = 8080", &format!("port = {}", 8000 + i % 1000))
                .replace(
                    "pool_max_size = 10",
                    &format!("pool_max_size = {}", 5 + i % 20),
                )
        };
        for (file, text) in [
            ("base.toml", &base),
            ("dev.toml", &dev),
            ("staging.toml", &staging),
            ("prod.toml", &prod),
        ] {
            let text = vary(text);
            let text = if faulty { plant(i, file, text) } else { text };
            keys += text
                .lines()
                .filter(|l| l.contains(" = ") && !l.trim_start().starts_with('#'))
                .count();
            std::fs::write(dir.join(file), text)?;
        }
    }
    Ok((services * 4, keys))
}

/// Service `i`'s `file` with the mistakes [`generate`] plants.
fn plant(i: usize, file: &str, text: String) -> String {
    match (i % 50, file) {
        (7, "base.toml") => text
            .replace(
                "password = \"secret://shop/dev/",
                &format!("password = \"hunter2-{i}/"),
            )
            .replace(
                "team = \"commerce-platform\"",
                "teem = \"commerce-platform\"",
            ),
        (7, "prod.toml") => text.replace("replicas = 3", "replicas = \"three\""),
        (7, "dev.toml") => text + "nonsense = true\n",
        (23, "staging.toml") => text + "oops = \n",
        _ => text,
    }
}

/// The merged document of every service and environment, as JSON files (what
/// check-jsonschema validates), made with the same library the binary uses.
fn write_merged(repo: &Path, tree: &Path, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let settings = EnvironmentsSettings::default();
    let request = LoadRequest {
        repo,
        paths: vec![tree.to_path_buf()],
        settings: &settings,
    };
    let workspace = shipgate_config::load::load(&request)?;
    std::fs::create_dir_all(out)?;
    let mut files = Vec::new();
    for (set, _) in &workspace.sets {
        let layered = shipgate_config::check::layer(set, &settings);
        for env in &layered.merged {
            let name = set.dir.rsplit('/').next().unwrap_or("svc");
            let path = out.join(format!("{name}.{}.json", env.env));
            std::fs::write(
                &path,
                serde_json::to_vec(&shipgate_config::tree::to_json(&env.root))?,
            )?;
            files.push(path);
        }
    }
    Ok(files)
}

/// check-jsonschema on all documents at once (best of `runs`), or None when not installed.
fn check_jsonschema(
    schema: &Path,
    documents: &[PathBuf],
    runs: usize,
) -> anyhow::Result<Option<Duration>> {
    let probe = Command::new("check-jsonschema").arg("--version").output();
    if !probe.is_ok_and(|o| o.status.success()) {
        return Ok(None);
    }
    let mut best: Option<Duration> = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = Command::new("check-jsonschema")
            .arg("--schemafile")
            .arg(schema)
            .args(documents)
            .output()
            .context("cannot run check-jsonschema")?;
        let took = start.elapsed();
        if !out.status.success() {
            bail!(
                "check-jsonschema rejected the merged documents:\n{}",
                excerpt(&out.stdout)
            );
        }
        best = Some(best.map_or(took, |b| b.min(took)));
    }
    Ok(best)
}

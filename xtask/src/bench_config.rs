//! `cargo xtask bench config [--services N] [--runs N]`: `shipgate config validate` on a
//! generated tree of N services (default 1,000), each a directory with base.toml and three
//! overlays derived from this repository's `environments/`, sharing its schema.json; then
//! check-jsonschema on the same merged documents against the same schema, side by side; then
//! this repository's own `environments/`. Prints the measured times and the ratio.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use shipgate::cli::hinted;
use shipgate_config::{EnvironmentsSettings, LoadRequest};

/// Targets from issue 4.
const TREE_BUDGET: Duration = Duration::from_secs(1);
const REPO_BUDGET: Duration = Duration::from_millis(30);
const MIN_RATIO: f64 = 10.0;

struct Options {
    services: usize,
    runs: usize,
}

fn options(args: &[String]) -> anyhow::Result<Options> {
    let mut o = Options {
        services: 1000,
        runs: 5,
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
            other => {
                return Err(hinted(
                    format!("unknown option `{other}`"),
                    "cargo xtask bench config [--services N] [--runs N]",
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
    let (files, keys) = generate(&environments, &tree, o.services)?;
    eprintln!(
        "generated {} services: {files} files, {keys} keys in {}",
        o.services,
        tree.display()
    );

    // 1. shipgate on the whole tree (the binary, as CI runs it).
    let ours = time_runs(o.runs, || validate(&shipgate, tmp.path(), &tree))?;
    // 2. The same merged documents, for check-jsonschema.
    let merged = tmp.path().join("merged");
    let documents = write_merged(tmp.path(), &tree, &merged)?;
    let theirs = check_jsonschema(&tree.join("schema.json"), &documents, o.runs.min(3))?;
    // 3. This repository's environments/.
    let repo = time_runs(o.runs * 4, || validate(&shipgate, &root, &environments))?;

    println!(
        "config validation benchmark ({} services, {files} TOML files, {keys} keys)",
        o.services
    );
    println!(
        "  shipgate config validate (tree)      {:>9.1} ms  median of {} runs (min {:.1} ms)",
        ms(ours.0),
        o.runs,
        ms(ours.1)
    );
    match theirs {
        Some(t) => {
            let ratio = t.as_secs_f64() / ours.0.as_secs_f64();
            println!(
                "  check-jsonschema ({} merged docs)  {:>9.1} ms",
                documents.len(),
                ms(t)
            );
            println!("  ratio: shipgate is {ratio:.1}x faster (target >= {MIN_RATIO}x)");
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
    Ok(())
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
    let out = Command::new(shipgate)
        .args(["--repo"])
        .arg(repo)
        .args(["config", "validate", "--format", "json"])
        .arg(path)
        .output()
        .context("cannot run shipgate")?;
    if !out.status.success() {
        bail!(
            "shipgate config validate failed on {}:\n{}{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout)
                .chars()
                .take(2000)
                .collect::<String>(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Writes `services/svc-NNNN/{base,dev,staging,prod}.toml` and `services/schema.json`:
/// this repository's environments with per-service names, hosts, replicas and versions.
/// Returns (files, keys).
fn generate(environments: &Path, tree: &Path, services: usize) -> anyhow::Result<(usize, usize)> {
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
            keys += text
                .lines()
                .filter(|l| l.contains(" = ") && !l.trim_start().starts_with('#'))
                .count();
            std::fs::write(dir.join(file), text)?;
        }
    }
    Ok((services * 4, keys))
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
                String::from_utf8_lossy(&out.stdout)
                    .chars()
                    .take(2000)
                    .collect::<String>()
            );
        }
        best = Some(best.map_or(took, |b| b.min(took)));
    }
    Ok(best)
}

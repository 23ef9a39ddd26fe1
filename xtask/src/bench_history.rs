//! `cargo xtask bench history` and `cargo xtask bench changelog` on a generated
//! 100,000-commit history with a tag every 100 commits and 1,000 commits after the last
//! tag: the next version, and the whole-history changelog, against `git log` walking the
//! same history and, with `--peer`, git-cliff (`--bumped-version`, and its default config).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use shipgate::cli::{Hinted, hinted};

struct Options {
    commits: usize,
    tail: usize,
    peer: bool,
    runs: usize,
}

fn parse(args: &[String]) -> anyhow::Result<Options> {
    let mut o = Options {
        commits: 100_000,
        tail: 1_000,
        peer: false,
        runs: 15,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> anyhow::Result<usize> {
            it.next()
                .with_context(|| format!("{name} needs a number"))?
                .parse()
                .with_context(|| format!("{name} needs a number"))
        };
        match a.as_str() {
            "--commits" => o.commits = num("--commits")?,
            "--tail" => o.tail = num("--tail")?,
            "--runs" => o.runs = num("--runs")?.max(1),
            "--peer" => o.peer = true,
            other => {
                return Err(hinted(
                    format!("unknown argument `{other}`"),
                    "bench history [--commits N] [--tail N] [--runs N] [--peer]",
                ));
            }
        }
    }
    if o.tail >= o.commits {
        bail!("--tail must be smaller than --commits");
    }
    Ok(o)
}

/// Writes the history with `git fast-import`: conventional messages, a tag every 100
/// commits up to `commits - tail`.
pub fn generate(dir: &Path, commits: usize, tail: usize) -> anyhow::Result<()> {
    let git = |args: &[&str]| -> anyhow::Result<()> {
        let ok = Command::new("git")
            .current_dir(dir)
            .args(args)
            .stdout(Stdio::null())
            .status()?
            .success();
        if !ok {
            bail!("git {args:?} failed");
        }
        Ok(())
    };
    git(&["init", "-q", "-b", "main"])?;
    let mut child = Command::new("git")
        .current_dir(dir)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()?;
    let mut w = std::io::BufWriter::new(child.stdin.take().context("fast-import stdin")?);
    let kinds = [
        "feat(api)",
        "fix",
        "chore",
        "fix(db)",
        "perf",
        "docs",
        "refactor(cart)",
        "feat",
    ];
    let manifest = "[package]\nname = \"bench\"\nversion = \"0.1.0\"\nedition = \"2024\"\n";
    let mut tags = 0usize;
    for i in 1..=commits {
        let t = 1_600_000_000 + i as u64 * 60;
        let msg = format!(
            "{}: change number {i}\n\nSome body text for change {i}.\n",
            kinds[i % kinds.len()]
        );
        writeln!(
            w,
            "commit refs/heads/main\nmark :{i}\ncommitter Bench <bench@example.com> {t} +0000\ndata {}\n{msg}",
            msg.len()
        )?;
        if i > 1 {
            writeln!(w, "from :{}", i - 1)?;
        }
        if i == 1 {
            writeln!(
                w,
                "M 644 inline Cargo.toml\ndata {}\n{manifest}",
                manifest.len()
            )?;
        }
        let body = format!("{i}\n");
        writeln!(
            w,
            "M 644 inline src/file{}.txt\ndata {}\n{body}",
            i % 50,
            body.len()
        )?;
        if i % 100 == 0 && i <= commits - tail {
            tags += 1;
            let version = format!("{}.{}.0", 1 + tags / 100, tags % 100);
            writeln!(
                w,
                "tag v{version}\nfrom :{i}\ntagger Bench <bench@example.com> {t} +0000\ndata 8\nrelease\n"
            )?;
        }
    }
    drop(w);
    if !child.wait()?.success() {
        bail!("git fast-import failed");
    }
    git(&["checkout", "-q", "main"])?;
    git(&["gc", "-q"])?;
    Ok(())
}

fn time_runs(
    runs: usize,
    mut f: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        out.push(start.elapsed());
    }
    out.sort();
    Ok(out)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Builds the release binary and generates the history; returns (binary, temp dir, repo).
fn setup(
    o: &Options,
) -> anyhow::Result<(std::path::PathBuf, tempfile::TempDir, std::path::PathBuf)> {
    let root = crate::root();
    eprintln!("building shipgate (release profile)…");
    let ok = Command::new("cargo")
        .current_dir(&root)
        .args(["build", "--release", "--quiet", "-p", "shipgate"])
        .status()?
        .success();
    if !ok {
        bail!("cargo build --release -p shipgate failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let shipgate = target.join("release/shipgate");
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("history");
    std::fs::create_dir(&dir)?;
    let start = Instant::now();
    generate(&dir, o.commits, o.tail)?;
    eprintln!(
        "generated {} commits, {} tags in {:.1} s",
        o.commits,
        (o.commits - o.tail) / 100,
        start.elapsed().as_secs_f64()
    );
    Ok((shipgate, tmp, dir))
}

/// Wall time and peak memory (KiB) of one command, through /usr/bin/time.
fn measure(dir: &Path, program: &Path, args: &[&str]) -> anyhow::Result<(Duration, u64)> {
    let start = Instant::now();
    let out = Command::new("/usr/bin/time")
        .current_dir(dir)
        .arg("-f")
        .arg("maxrss=%M")
        .arg(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Hinted::new("/usr/bin/time is missing", "apt-get install time").because(e))?;
    let elapsed = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("{} {args:?} failed: {stderr}", program.display());
    }
    let rss = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("maxrss="))
        .filter_map(|v| v.trim().parse().ok())
        .next_back()
        .unwrap_or(0);
    Ok((elapsed, rss))
}

/// `cargo xtask bench changelog`.
pub fn changelog(args: &[String]) -> anyhow::Result<()> {
    let o = parse(args)?;
    let (shipgate, _tmp, dir) = setup(&o)?;
    let mut ours = Vec::new();
    for _ in 0..o.runs.min(5) {
        ours.push(measure(&dir, &shipgate, &["changelog"])?);
    }
    ours.sort();
    let (t, rss) = ours[ours.len() / 2];
    let mut gitlog = Vec::new();
    for _ in 0..3 {
        gitlog.push(measure(
            &dir,
            Path::new("git"),
            &["log", "--format=%H%x00%B"],
        )?);
    }
    gitlog.sort();
    let (g, _) = gitlog[1];
    println!(
        "whole-history changelog, {} commits, {} tags",
        o.commits,
        (o.commits - o.tail) / 100
    );
    println!(
        "shipgate changelog: median {:.2} s, peak memory {:.0} MB (target <= 10x git log, < 500 MB)",
        t.as_secs_f64(),
        rss as f64 / 1024.0
    );
    println!(
        "git log --format=%H%x00%B: median {:.2} s; ratio shipgate / git log = {:.1}x",
        g.as_secs_f64(),
        t.as_secs_f64() / g.as_secs_f64()
    );
    if o.peer {
        let cliff = which("git-cliff")
            .ok_or_else(|| hinted("git-cliff not found", "pip install git-cliff"))?;
        let (c, crss) = measure(&dir, &cliff, &["--output", "/dev/null"])?;
        println!(
            "git-cliff (default config): {:.1} s, peak memory {:.0} MB; ratio git-cliff / shipgate = {:.0}x",
            c.as_secs_f64(),
            crss as f64 / 1024.0,
            c.as_secs_f64() / t.as_secs_f64()
        );
    }
    Ok(())
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}

/// `cargo xtask bench history`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let o = parse(args)?;
    let (shipgate, _tmp, dir) = setup(&o)?;

    let mut plan_json = String::new();
    let ours = time_runs(o.runs, || {
        let out = Command::new(&shipgate)
            .current_dir(&dir)
            .args(["release", "--dry-run", "--json"])
            .output()?;
        if !out.status.success() {
            bail!("shipgate failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        plan_json = String::from_utf8_lossy(&out.stdout).into_owned();
        Ok(())
    })?;
    let plan: serde_json::Value = serde_json::from_str(&plan_json)?;
    let gitlog = time_runs(3.min(o.runs), || {
        let out = Command::new("git")
            .current_dir(&dir)
            .args(["log", "--format=%H%x00%B"])
            .stdout(Stdio::null())
            .status()?;
        if !out.success() {
            bail!("git log failed");
        }
        Ok(())
    })?;
    println!(
        "history: {} commits, {} after the last tag",
        o.commits, o.tail
    );
    println!(
        "next version: {} -> {} ({} commits considered)",
        plan["current"], plan["next"], plan["commits"]
    );
    println!(
        "shipgate release --dry-run --json: median {:.1} ms, min {:.1} ms, max {:.1} ms over {} runs (target <= 50 ms)",
        ms(ours[ours.len() / 2]),
        ms(ours[0]),
        ms(ours[ours.len() - 1]),
        ours.len()
    );
    println!(
        "git log --format=%H%x00%B (whole history): median {:.1} ms",
        ms(gitlog[gitlog.len() / 2])
    );
    if o.peer {
        let cliff = time_runs(1, || {
            let out = Command::new("git-cliff")
                .current_dir(&dir)
                .args(["--bumped-version"])
                .output()
                .map_err(|e| {
                    Hinted::new("git-cliff not found", "pip install git-cliff").because(e)
                })?;
            if !out.status.success() {
                bail!("git-cliff failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            println!(
                "git-cliff --bumped-version: {}",
                String::from_utf8_lossy(&out.stdout).trim()
            );
            Ok(())
        })?;
        println!(
            "git-cliff --bumped-version: {:.1} s; ratio git-cliff / shipgate = {:.0}x",
            cliff[0].as_secs_f64(),
            cliff[0].as_secs_f64() / ours[ours.len() / 2].as_secs_f64()
        );
    }
    Ok(())
}

//! `cargo xtask bench history` and `cargo xtask bench changelog` on a generated
//! 100,000-commit history with a tag every 100 commits and 1,000 commits after the last
//! tag: the next version, and the whole-history changelog, against their floors from the
//! same run (`git log` reading the commits since the last tag, and the whole history) and,
//! with `--peer`, git-cliff (`--bumped-version`, and its default config). Each answer is
//! compared with the one shipgate gave before it was made faster (the next version by rule,
//! the changelog by its SHA-256), and a different answer fails the bench.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use shipgate::cli::{Hinted, hinted};

/// Targets from issue 24: the next version within 10 ms; the whole-history changelog
/// within 1.5x `git log` and 200 MB.
const NEXT_VERSION_BUDGET_MS: f64 = 10.0;
const CHANGELOG_RATIO: f64 = 1.5;
const CHANGELOG_MB: f64 = 200.0;

/// The whole-history changelog shipgate wrote for the default history (100,000 commits,
/// 1,000 after the last tag) before issue 24: its SHA-256.
const CHANGELOG_SHA256: &str = "69d4e21939ed81016ba140f9f3c4c75300e98d4ef88178c6226d69e365a5ce26";

struct Options {
    commits: usize,
    tail: usize,
    peer: bool,
    runs: usize,
    /// Keep the generated repository (for profiling) instead of removing it.
    keep: bool,
}

fn parse(args: &[String]) -> anyhow::Result<Options> {
    let mut o = Options {
        commits: 100_000,
        tail: 1_000,
        peer: false,
        runs: 15,
        keep: false,
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
            "--keep" => o.keep = true,
            other => {
                return Err(hinted(
                    format!("unknown argument `{other}`"),
                    "bench history [--commits N] [--tail N] [--runs N] [--peer] [--keep]",
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
) -> anyhow::Result<(
    std::path::PathBuf,
    Option<tempfile::TempDir>,
    std::path::PathBuf,
)> {
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
    // With --keep, nothing removes the repository: say where it is.
    let tmp = if o.keep {
        println!("kept: {}", tmp.keep().display());
        None
    } else {
        Some(tmp)
    };
    Ok((shipgate, tmp, dir))
}

/// Wall time, peak memory (KiB) and the SHA-256 of the output of one command, through
/// /usr/bin/time.
fn measure(dir: &Path, program: &Path, args: &[&str]) -> anyhow::Result<(Duration, u64, String)> {
    let start = Instant::now();
    let out = Command::new("/usr/bin/time")
        .current_dir(dir)
        .arg("-f")
        .arg("maxrss=%M")
        .arg(program)
        .args(args)
        .stdout(Stdio::piped())
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
    let digest = format!("{:x}", Sha256::digest(&out.stdout));
    Ok((elapsed, rss, digest))
}

/// The median of `xs` (sorted here).
fn median<T: Ord + Copy>(xs: &mut [T]) -> T {
    xs.sort();
    xs[xs.len() / 2]
}

/// `cargo xtask bench changelog`.
pub fn changelog(args: &[String]) -> anyhow::Result<()> {
    let o = parse(args)?;
    let (shipgate, _tmp, dir) = setup(&o)?;
    // Side by side: each run of shipgate is followed by one of git log, so both see the same
    // load from the machine's other work.
    let runs = o.runs.min(7);
    let (mut ours, mut rss, mut gitlog) = (Vec::new(), Vec::new(), Vec::new());
    let mut digests = std::collections::BTreeSet::new();
    for _ in 0..runs {
        let (t, m, digest) = measure(&dir, &shipgate, &["changelog"])?;
        ours.push(t);
        rss.push(m);
        digests.insert(digest);
        let (g, _, _) = measure(&dir, Path::new("git"), &["log", "--format=%H%x00%B"])?;
        gitlog.push(g);
    }
    let ratios: Vec<f64> = ours
        .iter()
        .zip(&gitlog)
        .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64())
        .collect();
    let mut ratio_order: Vec<usize> = (0..ratios.len()).collect();
    ratio_order.sort_by(|a, b| ratios[*a].total_cmp(&ratios[*b]));
    let ratio = ratios[ratio_order[ratio_order.len() / 2]];
    let (t, g, rss) = (median(&mut ours), median(&mut gitlog), median(&mut rss));
    let mb = rss as f64 / 1024.0;
    println!(
        "whole-history changelog, {} commits, {} tags",
        o.commits,
        (o.commits - o.tail) / 100
    );
    println!(
        "shipgate changelog: median {:.2} s of {runs}, peak memory {mb:.0} MB (target <= {CHANGELOG_MB:.0} MB)",
        t.as_secs_f64(),
    );
    println!(
        "git log --format=%H%x00%B (the floor): median {:.2} s; shipgate / git log = {ratio:.2}x (median of the {runs} side-by-side pairs; target <= {CHANGELOG_RATIO}x)",
        g.as_secs_f64(),
    );
    let default_history = o.commits == 100_000 && o.tail == 1_000;
    match (digests.len(), default_history) {
        (1, true) if digests.contains(CHANGELOG_SHA256) => {
            println!(
                "answer: byte-identical to the changelog before issue 24 (sha256 {CHANGELOG_SHA256})"
            );
        }
        (1, false) => println!(
            "answer: the same in every run (no recorded changelog for {} commits to compare with)",
            o.commits
        ),
        _ => bail!(
            "the changelog differs from the one recorded before issue 24: sha256 {digests:?}, expected {CHANGELOG_SHA256}"
        ),
    }
    if ratio > CHANGELOG_RATIO || mb > CHANGELOG_MB {
        eprintln!("warning: over a target ({ratio:.2}x git log, {mb:.0} MB)");
    }
    if o.peer {
        let cliff = which("git-cliff")
            .ok_or_else(|| hinted("git-cliff not found", "pip install git-cliff"))?;
        let (c, crss, _) = measure(&dir, &cliff, &["--output", "/dev/null"])?;
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

    // Side by side: shipgate, then the floor (git log reading the same commits since the
    // last tag), run after run.
    let since = format!("-{}", o.tail);
    let mut plan_json = String::new();
    let (mut ours, mut floor) = (Vec::new(), Vec::new());
    for _ in 0..o.runs {
        ours.extend(time_runs(1, || {
            let out = Command::new(&shipgate)
                .current_dir(&dir)
                .args(["release", "--dry-run", "--json"])
                .output()?;
            if !out.status.success() {
                bail!("shipgate failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            plan_json = String::from_utf8_lossy(&out.stdout).into_owned();
            Ok(())
        })?);
        floor.extend(time_runs(1, || {
            let out = Command::new("git")
                .current_dir(&dir)
                .args(["log", &since, "--format=%H%x00%B"])
                .stdout(Stdio::null())
                .status()?;
            if !out.success() {
                bail!("git log failed");
            }
            Ok(())
        })?);
    }
    ours.sort();
    floor.sort();
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
    // The answer shipgate always gave on this history: the last tag, and a minor bump
    // (a `feat` every 8 commits, nothing breaking).
    let tags = (o.commits - o.tail) / 100;
    let (major, minor) = (1 + tags / 100, tags % 100);
    let expected = (
        format!("{major}.{minor}.0"),
        format!("{major}.{}.0", minor + 1),
    );
    if plan["current"] != expected.0.as_str()
        || plan["next"] != expected.1.as_str()
        || plan["commits"] != o.tail
    {
        bail!(
            "the answer changed: expected {} -> {} from {} commits",
            expected.0,
            expected.1,
            o.tail
        );
    }
    println!("answer: the same as before issue 24");
    let (ours_ms, floor_ms) = (ms(ours[ours.len() / 2]), ms(floor[floor.len() / 2]));
    println!(
        "shipgate release --dry-run --json: median {ours_ms:.1} ms, min {:.1} ms, max {:.1} ms over {} runs (target <= {NEXT_VERSION_BUDGET_MS} ms)",
        ms(ours[0]),
        ms(ours[ours.len() - 1]),
        ours.len()
    );
    println!(
        "git log {since} --format=%H%x00%B (the floor: the {} commit messages since the last tag): median {floor_ms:.1} ms; shipgate / floor = {:.1}x",
        o.tail,
        ours_ms / floor_ms
    );
    println!(
        "git log --format=%H%x00%B (whole history): median {:.1} ms",
        ms(gitlog[gitlog.len() / 2])
    );
    if ours_ms > NEXT_VERSION_BUDGET_MS {
        eprintln!("warning: over the {NEXT_VERSION_BUDGET_MS} ms target");
    }
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

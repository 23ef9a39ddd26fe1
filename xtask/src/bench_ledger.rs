//! `cargo xtask bench ledger [--entries N] [--runs N]`: a generated promotion ledger of N
//! entries (default 100,000) over dev, staging and prod, written through the ledger's own
//! code; then the release binary's `status`, every gate of one promotion (`promote
//! --dry-run`), `metrics` and the status page (`page --out`) over the whole ledger, each the
//! median of `--runs` runs. Status is also timed at 1 %, 10 % and 100 % of the entries, to
//! show how its cost grows.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jiff::Timestamp;
use shipgate::cli::hinted;
use shipgate_promote::entry::{Changes, Entry, Kind, Source, VerifyResult};
use shipgate_promote::ledger::Ledger;

struct Options {
    entries: usize,
    runs: usize,
    json: bool,
}

fn parse(args: &[String]) -> anyhow::Result<Options> {
    let mut o = Options {
        entries: 100_000,
        runs: 11,
        json: false,
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
            "--entries" => o.entries = num("--entries")?.max(10),
            "--runs" => o.runs = num("--runs")?.max(1),
            "--json" => o.json = true,
            other => {
                return Err(hinted(
                    format!("unknown argument `{other}`"),
                    "bench ledger [--entries N] [--runs N] [--json]",
                ));
            }
        }
    }
    Ok(o)
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let ok = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_DATE", "@1700000000 +0000")
        .env("GIT_COMMITTER_DATE", "@1700000000 +0000")
        .status()
        .with_context(|| format!("cannot run git {args:?}"))?
        .success();
    if !ok {
        bail!("git {args:?} failed");
    }
    Ok(())
}

/// A repository with this workspace's environments/, a [promote] section like the
/// platform's, and the release tag of the version the timed promotion asks about.
fn repository(dir: &Path) -> anyhow::Result<()> {
    git(dir, &["init", "-q", "-b", "main"])?;
    git(dir, &["config", "user.name", "bench"])?;
    git(dir, &["config", "user.email", "bench@example.com"])?;
    let envs = crate::root().join("environments");
    std::fs::create_dir(dir.join("environments"))?;
    for entry in std::fs::read_dir(&envs)? {
        let path = entry?.path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, dir.join("environments").join(name))?;
        }
    }
    std::fs::write(
        dir.join("shipgate.toml"),
        "[environments]\norder = [\"dev\", \"staging\", \"prod\"]\n\n[promote]\nversion-key = \"service.image.tag\"\n\n[promote.env.dev]\nverification = \"none\"\n\n[promote.env.prod]\nsoak = \"2h\"\napprovals = 1\n\n[[promote.env.prod.freeze]]\nfrom = \"Fri 16:00\"\nto = \"Mon 08:00\"\ntime-zone = \"Europe/Berlin\"\n",
    )?;
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "-q", "-m", "feat: the storefront"])?;
    git(dir, &["tag", "-a", "v99.0.0", "-m", "v99.0.0"])?;
    Ok(())
}

/// The `i`-th entry of a plausible history: each version goes to dev, staging (verified),
/// is approved and goes to prod (verified); one in twenty is rolled back in prod.
fn entry(i: usize, start: i64) -> Entry {
    let version_n = i / 8;
    let version = format!("1.{}.{}", version_n / 100, version_n % 100);
    let previous = format!(
        "1.{}.{}",
        version_n.saturating_sub(1) / 100,
        version_n.saturating_sub(1) % 100
    );
    let at = Timestamp::from_second(start + i as i64 * 600).unwrap_or(Timestamp::UNIX_EPOCH);
    let make = |kind: Kind, env: &str| Entry {
        environment: Some(env.to_string()),
        version: Some(version.clone()),
        ..Entry::new(kind, "ci@example.com", at)
    };
    let verified = |env: &str| Entry {
        result: Some(VerifyResult::Pass),
        source: Some(Source::Canary),
        ..make(Kind::Verification, env)
    };
    let promoted = |env: &str| Entry {
        from: Some(previous.clone()),
        changes: Some(Changes {
            count: 3,
            commit_times: vec![
                at.as_second() - 7_200,
                at.as_second() - 3_600,
                at.as_second() - 600,
            ],
        }),
        ..make(Kind::Promotion, env)
    };
    match i % 8 {
        0 => promoted("dev"),
        1 => promoted("staging"),
        2 => verified("staging"),
        3 => Entry {
            by: "approver@example.com".into(),
            ..make(Kind::Approval, "prod")
        },
        4 => promoted("prod"),
        5 => verified("prod"),
        6 if version_n % 20 == 7 => Entry {
            version: Some(previous.clone()),
            from: Some(version.clone()),
            reason: Some("p95 regression".into()),
            ..make(Kind::Rollback, "prod")
        },
        _ => verified("dev"),
    }
}

/// Appends entries `from..to` to the ledger in batches.
fn grow(dir: &Path, from: usize, to: usize, start: i64) -> anyhow::Result<()> {
    let repo = shipgate_git::open(dir)?;
    const BATCH: usize = 500;
    let mut i = from;
    while i < to {
        let end = (i + BATCH).min(to);
        let entries: Vec<Entry> = (i..end).map(|n| entry(n, start)).collect();
        let ledger = Ledger::open(&repo, None, "main", false)?;
        let tip = ledger.build(ledger.tip, &entries, None)?;
        repo.set_ref(shipgate_promote::LEDGER_REF, tip, ledger.tip, "bench")?;
        i = end;
    }
    Ok(())
}

fn median(runs: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

fn shipgate(bin: &Path, dir: &Path, args: &[&str], now: &str) -> anyhow::Result<()> {
    let out = Command::new(bin)
        .arg("--repo")
        .arg(dir)
        .args(args)
        .env("SHIPGATE_NOW", now)
        .env_remove("GITHUB_TOKEN")
        .output()
        .context("cannot run shipgate")?;
    // `promote --dry-run` answers 1 when a gate refuses: still every gate evaluated.
    if !matches!(out.status.code(), Some(0 | 1)) {
        bail!(
            "shipgate {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn release_binary() -> anyhow::Result<PathBuf> {
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
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("release/shipgate"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let o = parse(args)?;
    let bin = release_binary()?;
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("ledger");
    std::fs::create_dir(&dir)?;
    repository(&dir)?;
    let start = 1_735_689_600; // 2025-01-01
    let now = Timestamp::from_second(start + o.entries as i64 * 600 + 3_600)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let checkpoints = [o.entries / 100, o.entries / 10, o.entries];
    let mut grown = 0;
    let mut status_at: Vec<(String, Duration)> = Vec::new();
    let generation = Instant::now();
    for n in checkpoints {
        grow(&dir, grown, n, start)?;
        grown = n;
        let t = median(o.runs, || shipgate(&bin, &dir, &["--json", "status"], &now))?;
        eprintln!("status with {n} entries: {:.1} ms", ms(t));
        status_at.push((format!("{n} entries"), t));
    }
    eprintln!(
        "generated {} entries in {:.1} s (through the ledger's own code)",
        o.entries,
        generation.elapsed().as_secs_f64()
    );
    // Packed, as a clone's objects are.
    git(&dir, &["gc", "-q"])?;
    let packed = median(o.runs, || shipgate(&bin, &dir, &["--json", "status"], &now))?;
    eprintln!(
        "status with {} entries, packed: {:.1} ms",
        o.entries,
        ms(packed)
    );
    status_at.push((format!("{} entries, packed", o.entries), packed));
    let gates = median(o.runs, || {
        shipgate(
            &bin,
            &dir,
            &["--json", "promote", "99.0.0", "--to", "prod", "--dry-run"],
            &now,
        )
    })?;
    let metrics = median(o.runs.min(5), || {
        shipgate(&bin, &dir, &["--json", "metrics"], &now)
    })?;
    let site = tmp.path().join("site");
    let page = median(o.runs.min(5), || {
        shipgate(
            &bin,
            &dir,
            &["page", "--out", &site.to_string_lossy()],
            &now,
        )
    })?;
    let (page_files, page_bytes, page_largest) = site_files(&site);
    let size = dir_size(&dir.join(".git"));
    if o.json {
        let report = serde_json::json!({
            "entries": o.entries,
            "status_ms": status_at.iter().map(|(n, t)| serde_json::json!({"ledger": n, "ms": ms(*t)})).collect::<Vec<_>>(),
            "gates_ms": ms(gates),
            "metrics_ms": ms(metrics),
            "page_ms": ms(page),
            "page_files": page_files,
            "page_bytes": page_bytes,
            "page_largest_file_bytes": page_largest,
            "git_dir_bytes": size,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "ledger of {} entries over dev, staging, prod ({:.1} MB of .git)",
            o.entries,
            size as f64 / 1e6
        );
        for (n, t) in &status_at {
            println!(
                "  status, {n:>7} entries        {:>7.1} ms   (target ≤ 50 ms)",
                ms(*t)
            );
        }
        println!(
            "  every gate of one promotion   {:>7.1} ms   (target ≤ 50 ms; promote --dry-run)",
            ms(gates)
        );
        println!(
            "  metrics, whole ledger         {:>7.1} ms   (target ≤ 500 ms)",
            ms(metrics)
        );
        println!(
            "  status page, whole ledger     {:>7.1} ms   (target ≤ 2,000 ms; page --out: {page_files} files, {:.1} MB, largest {:.0} kB, target ≤ 1,000 kB)",
            ms(page),
            page_bytes as f64 / 1e6,
            page_largest as f64 / 1e3
        );
    }
    Ok(())
}

/// How many files a directory holds (recursively), their bytes, and the largest one's.
fn site_files(path: &Path) -> (u64, u64, u64) {
    let Ok(entries) = std::fs::read_dir(path) else {
        return (0, 0, 0);
    };
    let mut out = (0, 0, 0);
    for e in entries.flatten() {
        match e.metadata() {
            Ok(m) if m.is_dir() => {
                let (n, b, l) = site_files(&e.path());
                out = (out.0 + n, out.1 + b, out.2.max(l));
            }
            Ok(m) => out = (out.0 + 1, out.1 + m.len(), out.2.max(m.len())),
            Err(_) => {}
        }
    }
    out
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

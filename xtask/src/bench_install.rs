//! `cargo xtask bench install [--runs N] [--peer]`: the GitHub Action's install step
//! (`action/install.sh`, run as a runner runs it) against a loopback release of this
//! checkout's shipgate, packed by `cargo xtask dist`'s own code: cold (empty tool cache) and
//! warm (cache hit), medians. `--peer` also times the source build it replaces.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use shipgate::cli::hinted;

// the action's tests' server; the bench needs no request log beyond counts
#[allow(dead_code)]
#[path = "../../tests/support/release_server.rs"]
mod release_server;

const USAGE: &str = "bench install [--runs N] [--peer]";
const VERSION: &str = "1.0.0";

struct Options {
    runs: usize,
    peer: bool,
}

fn parse(args: &[String]) -> anyhow::Result<Options> {
    let mut o = Options {
        runs: 5,
        peer: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => {
                o.runs = it
                    .next()
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or_else(|| hinted("--runs needs a number", USAGE))?
                    .max(1);
            }
            "--peer" => o.peer = true,
            other => return Err(hinted(format!("unknown argument `{other}`"), USAGE)),
        }
    }
    Ok(o)
}

/// The release binary when it was built, else the debug one; and which it is.
pub(crate) fn binary(target_dir: &Path) -> anyhow::Result<(PathBuf, &'static str)> {
    for profile in ["release", "debug"] {
        let bin = target_dir.join(profile).join("shipgate");
        if bin.is_file() {
            return Ok((bin, profile));
        }
    }
    Err(hinted(
        format!("no shipgate binary under {}", target_dir.display()),
        "cargo build --release -p shipgate (or cargo build -p shipgate) first",
    ))
}

/// The runner's RUNNER_ARCH for this Linux host.
fn runner_arch(target: &str) -> anyhow::Result<&'static str> {
    match target {
        "x86_64-unknown-linux-gnu" => Ok("X64"),
        "aarch64-unknown-linux-gnu" => Ok("ARM64"),
        other => Err(hinted(
            format!("bench install runs on Linux x86_64 or aarch64, not {other}"),
            "run it on a Linux machine, as a GitHub runner is",
        )),
    }
}

/// One run of `bash action/install.sh` with a runner's environment, timed.
fn install(
    scratch: &Path,
    cache: &Path,
    arch: &str,
    url: &str,
    run: usize,
) -> anyhow::Result<Duration> {
    let temp = scratch.join(format!("runner-temp-{run}"));
    std::fs::create_dir_all(&temp)?;
    let start = Instant::now();
    let out = Command::new("bash")
        .arg(crate::root().join("action/install.sh"))
        .current_dir(scratch)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", arch)
        .env("RUNNER_TOOL_CACHE", cache)
        .env("RUNNER_TEMP", &temp)
        .env("GITHUB_OUTPUT", scratch.join("output"))
        .env("GITHUB_PATH", scratch.join("path"))
        .env("INPUT_VERSION", VERSION)
        .env("INPUT_DOWNLOAD_URL", format!("{url}/releases"))
        .env("INPUT_VERIFY_PROVENANCE", "false")
        .output()
        .context("cannot run bash action/install.sh")?;
    let took = start.elapsed();
    if !out.status.success() {
        anyhow::bail!(
            "action/install.sh failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(took)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let o = parse(args)?;
    let root = crate::root();
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let (bin, profile) = binary(&target_dir)?;
    let target = crate::dist::host_target()?;
    let arch = runner_arch(&target)?;
    eprintln!(
        "bench install: packing the {profile} binary {}",
        bin.display()
    );

    let tmp = tempfile::tempdir()?;
    let packed = crate::dist::pack(&crate::dist::Request {
        target: target.clone(),
        binary: bin.clone(),
        out: tmp.path().join("release"),
        mtime: 0,
    })?;
    let archive = std::fs::read(&packed.archive)?;
    let name = format!("shipgate-{target}.tar.gz");
    let server = release_server::Server::start().context("cannot start the release server")?;
    let prefix = format!("/releases/download/v{VERSION}");
    server.serve(&format!("{prefix}/{name}"), archive.clone());
    server.serve(
        &format!("{prefix}/SHA256SUMS"),
        format!("{}\n", packed.sum_line).into_bytes(),
    );

    let mut cold = Vec::with_capacity(o.runs);
    for run in 0..o.runs {
        let cache = tmp.path().join(format!("cold-cache-{run}"));
        cold.push(install(tmp.path(), &cache, arch, &server.url, run)?);
    }
    let warm_cache = tmp.path().join("warm-cache");
    install(tmp.path(), &warm_cache, arch, &server.url, o.runs)?;
    let downloads = server.count(&name);
    let mut warm = Vec::with_capacity(o.runs);
    for run in 0..o.runs {
        warm.push(install(
            tmp.path(),
            &warm_cache,
            arch,
            &server.url,
            o.runs + 1 + run,
        )?);
    }
    if server.count(&name) != downloads {
        anyhow::bail!("a warm install downloaded the archive again: the cache was not used");
    }

    println!(
        "binary: {} ({profile} profile, {:.1} MB); archive {name}: {:.1} MB",
        bin.display(),
        std::fs::metadata(&bin)?.len() as f64 / 1e6,
        archive.len() as f64 / 1e6
    );
    println!("| install step | median | min | runs |");
    println!("|---|---|---|---|");
    for (case, times) in [
        ("cold (empty tool cache, downloads)", &cold),
        ("warm (cache hit, sums re-checked, unpacked afresh)", &warm),
    ] {
        let min = times.iter().min().copied().unwrap_or_default();
        println!(
            "| {case} | {:.0} ms | {:.0} ms | {} |",
            ms(median(times.clone())),
            ms(min),
            times.len()
        );
    }
    println!("target: ≤ 10 s for the install step (loopback: network time is not included)");

    if o.peer {
        let peer_target = tmp.path().join("peer-target");
        eprintln!("bench install: cargo build --release -p shipgate into a fresh target dir…");
        let start = Instant::now();
        let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args([
                "build",
                "--release",
                "--locked",
                "--quiet",
                "-p",
                "shipgate",
            ])
            .arg("--target-dir")
            .arg(&peer_target)
            .current_dir(&root)
            .status()
            .context("cannot run cargo build")?;
        if !status.success() {
            anyhow::bail!("cargo build --release -p shipgate failed ({status})");
        }
        println!(
            "| peer: cargo build --release -p shipgate from scratch | {:.0} s | | 1 |",
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

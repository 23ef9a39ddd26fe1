//! `cargo xtask dist`: the release archive `shipgate-<target>.tar.gz` (binary, licences,
//! README, completions, man pages) and its `.sha256`, byte-for-byte reproducible.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::Context as _;
use clap::CommandFactory as _;
use sha2::Digest as _;
use shipgate::cli::{Hinted, hinted};
use shipgate::completions_cmd;

const USAGE: &str = "cargo xtask dist [--target TRIPLE] [--binary FILE] [--out DIR]";

/// What to pack, and where.
#[derive(Debug, Clone)]
pub struct Request {
    /// The Rust target triple the binary is built for (names the archive).
    pub target: String,
    /// The built `shipgate` executable.
    pub binary: PathBuf,
    /// The directory the archive and its `.sha256` are written to.
    pub out: PathBuf,
    /// Every entry's modification time (seconds since the epoch).
    pub mtime: u64,
}

/// What [`pack`] wrote.
#[derive(Debug)]
pub struct Packed {
    pub archive: PathBuf,
    /// `<hex>  shipgate-<target>.tar.gz`, as `sha256sum` prints it.
    pub sum_line: String,
}

pub fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let mut target = None;
    let mut binary = None;
    let mut out = None;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let mut value = || {
            rest.next()
                .cloned()
                .ok_or_else(|| hinted(format!("{flag} needs a value"), USAGE))
        };
        match flag.as_str() {
            "--target" => target = Some(value()?),
            "--binary" => binary = Some(PathBuf::from(value()?)),
            "--out" => out = Some(PathBuf::from(value()?)),
            "-h" | "--help" => {
                println!("usage: {USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            other => return Err(hinted(format!("unknown argument `{other}`"), USAGE)),
        }
    }
    let root = crate::root();
    let known = known_targets()?;
    let target = match &target {
        Some(t) => check_target(t, &known)?,
        None => host_target()?,
    };
    let mtime = source_date_epoch()?;
    let binary = match binary {
        Some(b) => b,
        None => build(&root, args.iter().any(|a| a == "--target"), &target)?,
    };
    let out = out.unwrap_or_else(|| root.join("target/dist"));
    let packed = pack(&Request {
        target,
        binary,
        out,
        mtime,
    })?;
    eprintln!("dist: wrote {}", packed.archive.display());
    println!("{}", packed.sum_line);
    Ok(ExitCode::SUCCESS)
}

/// Packs `req.binary` with the licences, README, completions and man pages into
/// `req.out/shipgate-<target>.tar.gz`, and its sum into `….tar.gz.sha256`. Each file is
/// written whole to a temp file beside it and renamed: no half-written archive, ever.
pub fn pack(req: &Request) -> anyhow::Result<Packed> {
    let exe = std::fs::read(&req.binary).map_err(|e| {
        Hinted::new(
            format!("cannot read the binary {}", req.binary.display()),
            "build it first (cargo build --release -p shipgate), or leave --binary out to build it",
        )
        .because(e)
    })?;
    let files = contents(&req.target, exe)?;
    let gz = archive(&files, req.mtime)?;
    let name = format!("shipgate-{}.tar.gz", req.target);
    let sum_line = format!("{}  {name}", hex(&sha2::Sha256::digest(&gz)));
    std::fs::create_dir_all(&req.out)
        .with_context(|| format!("cannot create {}", req.out.display()))?;
    let archive = req.out.join(&name);
    shipgate_stdx::fs::write_atomic(&archive, &gz)
        .with_context(|| format!("cannot write {}", archive.display()))?;
    let sum_file = req.out.join(format!("{name}.sha256"));
    shipgate_stdx::fs::write_atomic(&sum_file, format!("{sum_line}\n").as_bytes())
        .with_context(|| format!("cannot write {}", sum_file.display()))?;
    Ok(Packed { archive, sum_line })
}

/// One file of the archive: its bytes and its mode.
struct File {
    bytes: Vec<u8>,
    mode: u32,
}

/// Every file of the archive by its path inside it, sorted (a `BTreeMap`).
fn contents(target: &str, exe: Vec<u8>) -> anyhow::Result<BTreeMap<String, File>> {
    let top = format!("shipgate-{target}");
    let root = crate::root();
    let mut files = BTreeMap::new();
    let exe_name = if target.contains("windows") {
        "shipgate.exe"
    } else {
        "shipgate"
    };
    files.insert(
        format!("{top}/{exe_name}"),
        File {
            bytes: exe,
            mode: 0o755,
        },
    );
    for doc in ["LICENSE-MIT", "LICENSE-APACHE", "README.md"] {
        let bytes = std::fs::read(root.join(doc))
            .with_context(|| format!("cannot read {doc} at the workspace root"))?;
        files.insert(format!("{top}/{doc}"), File { bytes, mode: 0o644 });
    }
    for shell in completions_cmd::SHELLS {
        files.insert(
            format!("{top}/completions/{}", completions_cmd::file_name(shell)),
            File {
                bytes: completions_cmd::script(shipgate::Cli::command(), shell),
                mode: 0o644,
            },
        );
    }
    for (name, bytes) in man_pages()? {
        files.insert(format!("{top}/man/{name}"), File { bytes, mode: 0o644 });
    }
    Ok(files)
}

/// `shipgate.1` and one page per subcommand, nested ones too (`shipgate-canary-run.1`).
fn man_pages() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    fn render(
        cmd: clap::Command,
        source: &str,
        pages: &mut Vec<(String, Vec<u8>)>,
    ) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            render(sub.clone(), source, pages)?;
        }
        // every page's footer names the program and its version, not the subcommand's name
        let man = clap_mangen::Man::new(cmd).source(source);
        let mut bytes = Vec::new();
        man.render(&mut bytes)?;
        pages.push((man.get_filename(), bytes));
        Ok(())
    }
    let mut cmd = shipgate::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let source = format!("shipgate {}", cmd.get_version().unwrap_or_default());
    let mut pages = Vec::new();
    render(cmd, &source, &mut pages).context("cannot render the man pages")?;
    Ok(pages)
}

/// The gzipped tar of `files` under one top directory: entries sorted, owner 0:0 with no
/// names, directories 0755, every entry's mtime `mtime`, and a gzip header with no file
/// name and no time, so the same inputs give the same bytes on any machine.
fn archive(files: &BTreeMap<String, File>, mtime: u64) -> anyhow::Result<Vec<u8>> {
    let mut entries: BTreeMap<String, Option<&File>> = BTreeMap::new();
    for (path, file) in files {
        let mut dir = Path::new(path).parent();
        while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
            entries.insert(d.to_string_lossy().into_owned(), None);
            dir = d.parent();
        }
        entries.insert(path.clone(), Some(file));
    }
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    for (path, file) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        match file {
            Some(file) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(file.mode);
                header.set_size(file.bytes.len() as u64);
                tar.append_data(&mut header, &path, file.bytes.as_slice())
            }
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                tar.append_data(&mut header, format!("{path}/"), std::io::empty())
            }
        }
        .with_context(|| format!("cannot add {path} to the archive"))?;
    }
    let mut gz = tar.into_inner().context("cannot finish the tar stream")?;
    gz.flush().context("cannot compress the archive")?;
    gz.finish().context("cannot compress the archive")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `SOURCE_DATE_EPOCH` when set, else the time of the HEAD commit.
fn source_date_epoch() -> anyhow::Result<u64> {
    if let Some(value) = std::env::var_os("SOURCE_DATE_EPOCH") {
        let value = value.to_string_lossy();
        return value.trim().parse().map_err(|_| {
            hinted(
                format!("SOURCE_DATE_EPOCH={value} is not a number of seconds"),
                "unset it to use the HEAD commit's time, or give e.g. SOURCE_DATE_EPOCH=1700000000",
            )
        });
    }
    let out = Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(crate::root())
        .output()
        .context("cannot run git")?;
    let text = String::from_utf8_lossy(&out.stdout);
    match (out.status.success(), text.trim().parse()) {
        (true, Ok(t)) => Ok(t),
        _ => Err(hinted(
            "cannot read the HEAD commit's time for the archive's timestamps",
            "set SOURCE_DATE_EPOCH (seconds since the epoch)",
        )),
    }
}

/// The triples `rustc --print target-list` knows.
fn known_targets() -> anyhow::Result<Vec<String>> {
    let out = Command::new("rustc")
        .args(["--print", "target-list"])
        .output()
        .context("cannot run rustc --print target-list")?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

/// `target`, when it is a triple rustc knows (so it is also a safe file name).
fn check_target(target: &str, known: &[String]) -> anyhow::Result<String> {
    if known.iter().any(|k| k == target) {
        return Ok(target.to_string());
    }
    let names: Vec<&str> = known.iter().map(String::as_str).collect();
    let hint = match shipgate_stdx::text::did_you_mean(target, &names) {
        Some(near) => format!("did you mean `{near}`? (rustc --print target-list names them all)"),
        None => "rustc --print target-list names them all".to_string(),
    };
    Err(hinted(format!("unknown target `{target}`"), hint))
}

/// The host's triple, from `rustc -vV`.
pub fn host_target() -> anyhow::Result<String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .context("cannot run rustc -vV")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|t| t.trim().to_string())
        .ok_or_else(|| hinted("rustc -vV names no host triple", "give --target TRIPLE"))
}

/// `cargo build --release --locked -p shipgate [--target T]`, and the binary it made.
fn build(root: &Path, explicit_target: bool, target: &str) -> anyhow::Result<PathBuf> {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.args(["build", "--release", "--locked", "-p", "shipgate"])
        .current_dir(root);
    if explicit_target {
        cmd.args(["--target", target]);
    }
    eprintln!("dist: cargo build --release --locked -p shipgate");
    let status = cmd.status().context("cannot run cargo build")?;
    if !status.success() {
        return Err(hinted(
            format!("cargo build --release of shipgate failed ({status})"),
            "fix the build, or pack a binary built elsewhere with --binary FILE",
        ));
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let dir = if explicit_target {
        target_dir.join(target).join("release")
    } else {
        target_dir.join("release")
    };
    let exe = if target.contains("windows") {
        "shipgate.exe"
    } else {
        "shipgate"
    };
    Ok(dir.join(exe))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: &str = "x86_64-unknown-linux-gnu";

    /// A stand-in for the binary: a shell script that prints a version.
    fn stub(dir: &Path) -> PathBuf {
        let path = dir.join("stub-shipgate");
        std::fs::write(&path, "#!/bin/sh\necho 'shipgate 9.8.7'\n").expect("write stub");
        path
    }

    fn request(dir: &Path, out: &str) -> Request {
        Request {
            target: TARGET.to_string(),
            binary: stub(dir),
            out: dir.join(out),
            mtime: 1_700_000_000,
        }
    }

    fn run_in(dir: &Path, program: &str, args: &[&str]) -> std::process::Output {
        let out = Command::new(program)
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    #[test]
    fn the_archive_unpacks_runs_and_its_sum_checks() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let packed = pack(&request(tmp.path(), "dist")).expect("pack");
        let name = format!("shipgate-{TARGET}.tar.gz");
        assert_eq!(packed.archive, tmp.path().join("dist").join(&name));
        assert!(packed.sum_line.ends_with(&format!("  {name}")));

        // sha256sum --check reads the .sha256 file as written
        let dist = tmp.path().join("dist");
        run_in(&dist, "sha256sum", &["--check", &format!("{name}.sha256")]);
        let sums = std::fs::read_to_string(dist.join(format!("{name}.sha256"))).expect("sums");
        assert_eq!(sums, format!("{}\n", packed.sum_line));

        // the system tar unpacks one top directory, and the binary runs from it
        let unpacked = tmp.path().join("unpacked");
        std::fs::create_dir(&unpacked).expect("mkdir");
        run_in(
            &unpacked,
            "tar",
            &["-xzf", &packed.archive.to_string_lossy()],
        );
        let top: Vec<_> = std::fs::read_dir(&unpacked)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(top, [format!("shipgate-{TARGET}").as_str()]);
        let out = run_in(&unpacked, &format!("./shipgate-{TARGET}/shipgate"), &[]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "shipgate 9.8.7\n");

        // what is inside, with modes and owners
        let listing = run_in(
            &unpacked,
            "tar",
            &[
                "--numeric-owner",
                "-tvzf",
                &packed.archive.to_string_lossy(),
            ],
        );
        let listing = String::from_utf8_lossy(&listing.stdout);
        let names: Vec<&str> = listing
            .lines()
            .filter_map(|l| l.split_whitespace().last())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "entries are sorted");
        let top = format!("shipgate-{TARGET}");
        for want in [
            "shipgate",
            "LICENSE-MIT",
            "LICENSE-APACHE",
            "README.md",
            "completions/shipgate.bash",
            "completions/_shipgate",
            "completions/shipgate.fish",
            "completions/_shipgate.ps1",
            "completions/shipgate.elv",
            "man/shipgate.1",
            "man/shipgate-release.1",
            "man/shipgate-promote.1",
            "man/shipgate-completions.1",
        ] {
            assert!(
                names.contains(&format!("{top}/{want}").as_str()),
                "{want} in\n{listing}"
            );
        }
        for line in listing.lines() {
            assert!(line.contains(" 0/0 "), "owner 0/0: {line}");
            let mode = line.split_whitespace().next().unwrap_or_default();
            let want = if line.ends_with(&format!("{top}/shipgate")) {
                "-rwxr-xr-x"
            } else if line.ends_with('/') {
                "drwxr-xr-x"
            } else {
                "-rw-r--r--"
            };
            assert_eq!(mode, want, "{line}");
        }

        // a gzip header with no file name (FLG 0) and no time (MTIME 0)
        let gz = std::fs::read(&packed.archive).expect("read");
        assert_eq!(gz[3], 0, "FLG");
        assert_eq!(&gz[4..8], &[0, 0, 0, 0], "MTIME");
    }

    #[test]
    fn packing_twice_gives_the_same_bytes() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let one = pack(&request(tmp.path(), "one")).expect("pack");
        let two = pack(&request(tmp.path(), "two")).expect("pack");
        assert_eq!(
            std::fs::read(&one.archive).expect("one"),
            std::fs::read(&two.archive).expect("two")
        );
        assert_eq!(one.sum_line, two.sum_line);
        let later = pack(&Request {
            mtime: 1_800_000_000,
            ..request(tmp.path(), "later")
        })
        .expect("pack");
        assert_ne!(one.sum_line, later.sum_line, "the mtime is in the archive");
    }

    #[test]
    fn a_missing_binary_is_refused_with_a_hint_and_nothing_written() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("dist");
        let args: Vec<String> = [
            "--binary",
            &tmp.path().join("nope").to_string_lossy(),
            "--target",
            TARGET,
            "--out",
            &out.to_string_lossy(),
        ]
        .map(String::from)
        .to_vec();
        let err = run(&args).expect_err("missing binary");
        assert!(
            err.to_string().contains("cannot read the binary"),
            "{err:#}"
        );
        assert!(shipgate::cli::hint_of(&err).is_some());
        assert!(!out.exists() || std::fs::read_dir(&out).expect("list").next().is_none());
    }

    #[test]
    fn an_unknown_target_is_refused_with_a_hint() {
        let known = vec![TARGET.to_string(), "aarch64-apple-darwin".to_string()];
        assert_eq!(check_target(TARGET, &known).expect("known"), TARGET);
        for bad in [
            "x86_64-unknown-linux-gnux",
            "../../etc",
            "x86_64-unknown-linux-gnu;rm",
        ] {
            let err = check_target(bad, &known).expect_err(bad);
            assert!(err.to_string().contains("unknown target"), "{err}");
            assert!(shipgate::cli::hint_of(&err).is_some());
        }
        let err = check_target("x86_64-unknown-linux-gnux", &known).expect_err("near");
        assert!(
            shipgate::cli::hint_of(&err).is_some_and(|h| h.contains("x86_64-unknown-linux-gnu`")),
            "{err:#}"
        );
    }
}

//! The GitHub Action's scripts (`action/install.sh`, `action/run.sh`) run exactly as a runner
//! runs them, against a release served from a loopback HTTP server: install, cache, checksum
//! and provenance refusals, hostile inputs, and `args` passed as data.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "support/release_server.rs"]
mod release_server;
use release_server::Server;

const VERSION: &str = "1.2.3";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The runner's RUNNER_ARCH and the release target for this (Linux) test host.
fn runner() -> (&'static str, &'static str) {
    match std::env::consts::ARCH {
        "x86_64" => ("X64", "x86_64-unknown-linux-gnu"),
        "aarch64" => ("ARM64", "aarch64-unknown-linux-gnu"),
        other => panic!("no release target for a {other} test host"),
    }
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The release every test serves, made once (compressing the binary is the slow part): an
/// archive of `shipgate-<target>/` holding the real binary, made with the system tar, plus a
/// file outside that directory; and a SHA256SUMS naming it and another target.
fn release() -> &'static (Vec<u8>, String) {
    static RELEASE: std::sync::OnceLock<(Vec<u8>, String)> = std::sync::OnceLock::new();
    RELEASE.get_or_init(|| {
        let (_, target) = runner();
        let tmp = tempfile::tempdir().expect("tempdir");
        let top = format!("shipgate-{target}");
        let stage = tmp.path();
        std::fs::create_dir_all(stage.join(&top).join("completions")).expect("mkdir");
        std::fs::copy(
            env!("CARGO_BIN_EXE_shipgate"),
            stage.join(&top).join("shipgate"),
        )
        .expect("copy the binary");
        for doc in ["LICENSE-MIT", "LICENSE-APACHE", "README.md"] {
            std::fs::copy(root().join(doc), stage.join(&top).join(doc)).expect("copy doc");
        }
        std::fs::write(stage.join(&top).join("completions/shipgate.bash"), "# x\n").expect("write");
        // outside the top directory: must never be unpacked
        std::fs::write(stage.join("stray.txt"), "stray\n").expect("write");
        let name = format!("{top}.tar.gz");
        run_ok(
            Command::new("tar")
                .args(["-czf", &name, &top, "stray.txt"])
                .current_dir(stage),
        );
        let archive = std::fs::read(stage.join(&name)).expect("read archive");
        let sum = run_ok(Command::new("sha256sum").arg(&name).current_dir(stage));
        let sums = format!(
            "{}  shipgate-other-target.tar.gz\n{}",
            "0".repeat(64),
            String::from_utf8_lossy(&sum.stdout)
        );
        (archive, sums)
    })
}

/// A runner's scratch space, a release of the real shipgate binary, and the server.
struct Fixture {
    tmp: tempfile::TempDir,
    server: Server,
    target: &'static str,
    arch: &'static str,
    /// The archive's bytes and the SHA256SUMS that names them.
    archive: Vec<u8>,
    sums: String,
}

impl Fixture {
    fn new() -> Fixture {
        let (arch, target) = runner();
        let (archive, sums) = release().clone();
        let tmp = tempfile::tempdir().expect("tempdir");
        for dir in ["cache", "runner-temp", "work", "bin"] {
            std::fs::create_dir_all(tmp.path().join(dir)).expect("mkdir");
        }
        let fixture = Fixture {
            tmp,
            server: Server::start().expect("start the server"),
            target,
            arch,
            archive,
            sums,
        };
        fixture.publish("/releases/download/v1.2.3");
        fixture.publish("/releases/latest/download");
        fixture
    }

    fn archive_name(&self) -> String {
        format!("shipgate-{}.tar.gz", self.target)
    }

    /// Serves the archive and SHA256SUMS under `prefix`.
    fn publish(&self, prefix: &str) {
        self.server.serve(
            &format!("{prefix}/{}", self.archive_name()),
            self.archive.clone(),
        );
        self.server.serve(
            &format!("{prefix}/SHA256SUMS"),
            self.sums.clone().into_bytes(),
        );
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `bash action/install.sh` with the runner's environment and nothing else.
    fn install(&self, env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new("bash");
        cmd.arg(root().join("action/install.sh"))
            .current_dir(self.path("work"))
            .env_clear()
            .env("PATH", self.search_path())
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", self.arch)
            .env("RUNNER_TOOL_CACHE", self.path("cache"))
            .env("RUNNER_TEMP", self.path("runner-temp"))
            .env("GITHUB_OUTPUT", self.path("output"))
            .env("GITHUB_PATH", self.path("path"))
            .env("INPUT_VERSION", VERSION)
            .env(
                "INPUT_DOWNLOAD_URL",
                format!("{}/releases", self.server.url),
            )
            .env("INPUT_VERIFY_PROVENANCE", "false");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run install.sh")
    }

    /// The stub directory first, then the test's own PATH.
    fn search_path(&self) -> String {
        format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    fn cache_dir(&self, version: &str) -> PathBuf {
        self.path("cache")
            .join("shipgate")
            .join(version)
            .join(self.target)
    }

    /// Every file under the tool cache.
    fn cached_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.path("cache"), &mut out);
        out
    }

    /// Writes an executable stub script into the directory first on PATH.
    fn stub(&self, name: &str, script: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.path("bin").join(name);
        std::fs::write(&path, script).expect("write stub");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Refused: exit 1 and a `::error` annotation on stdout naming `what`.
fn assert_refused(out: &Output, what: &str) {
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(out), stderr(out));
    let annotation = stdout(out);
    assert!(
        annotation.starts_with("::error") && annotation.contains(what),
        "want an ::error naming {what:?}, got {annotation:?} / {}",
        stderr(out)
    );
}

#[test]
fn installs_a_release_and_puts_it_on_the_path() {
    let f = Fixture::new();
    let out = f.install(&[]);
    assert!(out.status.success(), "{}", stderr(&out));

    let bin = f.cache_dir(VERSION).join(format!("shipgate-{}", f.target));
    assert_eq!(f.read("path"), format!("{}\n", bin.display()));
    let version = run_ok(Command::new(bin.join("shipgate")).arg("--version"));
    assert_eq!(
        stdout(&version),
        format!("shipgate {}\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        f.read("output"),
        format!("shipgate-version={}\n", env!("CARGO_PKG_VERSION"))
    );
    assert!(bin.join("LICENSE-MIT").is_file());
    assert!(
        !f.cache_dir(VERSION).join("stray.txt").exists(),
        "only shipgate-<target>/ is unpacked"
    );
    assert!(f.cache_dir(VERSION).join(f.archive_name()).is_file());
    assert_eq!(
        f.server.requests(),
        [
            "/releases/download/v1.2.3/SHA256SUMS".to_string(),
            format!("/releases/download/v1.2.3/{}", f.archive_name()),
        ]
    );
    // no scratch left behind
    assert_eq!(
        std::fs::read_dir(f.path("runner-temp"))
            .expect("list")
            .count(),
        0
    );
}

#[test]
fn a_v_prefixed_version_and_latest_take_their_own_paths() {
    let f = Fixture::new();
    assert!(f.install(&[("INPUT_VERSION", "v1.2.3")]).status.success());
    assert!(f.cache_dir(VERSION).join(f.archive_name()).is_file());
    let out = f.install(&[("INPUT_VERSION", "latest")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(f.server.count("/releases/latest/download/SHA256SUMS"), 1);
    assert!(f.cache_dir("latest").join(f.archive_name()).is_file());
}

#[test]
fn a_second_install_is_a_cache_hit() {
    let f = Fixture::new();
    assert!(f.install(&[]).status.success());
    std::fs::remove_file(f.path("output")).expect("rm output");
    let out = f.install(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("cache hit"), "{}", stderr(&out));
    assert_eq!(f.server.count(&f.archive_name()), 1, "downloaded once");
    assert_eq!(
        f.server.count("/SHA256SUMS"),
        2,
        "the sums are fetched each time"
    );
    assert!(f.read("output").starts_with("shipgate-version="));
}

#[test]
fn a_changed_cached_archive_is_refused() {
    let f = Fixture::new();
    assert!(f.install(&[]).status.success());
    let cached = f.cache_dir(VERSION).join(f.archive_name());
    let mut bytes = std::fs::read(&cached).expect("read");
    bytes.push(0);
    std::fs::write(&cached, bytes).expect("write");
    let out = f.install(&[]);
    assert_refused(&out, "does not match SHA256SUMS");
    assert!(!cached.exists(), "the changed archive is removed");
    assert_eq!(f.server.count(&f.archive_name()), 1, "no new download");
}

#[test]
fn a_tampered_archive_is_refused_and_nothing_is_cached() {
    let f = Fixture::new();
    let mut tampered = f.archive.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    f.server.serve(
        &format!("/releases/download/v1.2.3/{}", f.archive_name()),
        tampered,
    );
    let out = f.install(&[]);
    assert_refused(&out, "refusing to install");
    assert_eq!(f.cached_files(), Vec::<PathBuf>::new());
    assert_eq!(f.read("path"), "");
    assert_eq!(f.read("output"), "");
}

#[test]
fn sums_without_our_line_are_refused() {
    let f = Fixture::new();
    let name = f.archive_name();
    let hex = f
        .sums
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().next());
    let hex = hex.expect("our line").to_string();
    for sums in [
        format!("{}  shipgate-other-target.tar.gz\n", "0".repeat(64)),
        format!("{hex}  {name}.old\n"),
        format!("{hex}  x{name}\n"),
        format!("{hex}  {name} extra\n"),
        format!("{hex}{hex}  {name}\n"),
        String::new(),
    ] {
        f.server
            .serve("/releases/download/v1.2.3/SHA256SUMS", sums.into_bytes());
        let out = f.install(&[]);
        assert_refused(&out, "has no line for");
    }
    assert_eq!(f.server.count(&name), 0, "no archive fetched without a sum");
    assert_eq!(f.cached_files(), Vec::<PathBuf>::new());
}

#[test]
fn hostile_versions_are_refused_before_any_request() {
    let f = Fixture::new();
    for version in [
        "1.0.0;touch x",
        "../x",
        "$(touch x)",
        "1.0",
        "01.2.3",
        "1.2.3/../../x",
        "1.2.3\n::set-output name=x::y",
        "latest ",
        "v1.2.3+build",
    ] {
        let out = f.install(&[("INPUT_VERSION", version)]);
        assert_refused(&out, "is not latest or a version");
        assert_eq!(
            stdout(&out).lines().count(),
            1,
            "one annotation line: {:?}",
            stdout(&out)
        );
    }
    assert_eq!(f.server.requests(), Vec::<String>::new());
    assert!(!f.path("work/x").exists());
}

#[test]
fn hostile_download_urls_are_refused_before_any_request() {
    let f = Fixture::new();
    let port = f
        .server
        .url
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    for url in [
        "http://example.com/releases".to_string(),
        "file:///etc".to_string(),
        "ftp://127.0.0.1/releases".to_string(),
        format!("http://127.0.0.1:1@127.0.0.1:{port}/releases"),
        format!("http://user:pass@127.0.0.1:{port}/releases"),
        "https://user@github.com/shipgate/shipgate/releases".to_string(),
        "http://localhost.example.com/releases".to_string(),
        format!("http://127.0.0.1:{port}/releases?x=1"),
        format!("http://127.0.0.1:{port}/re leases"),
    ] {
        let out = f.install(&[("INPUT_DOWNLOAD_URL", url.as_str())]);
        assert_refused(&out, "must be https://");
    }
    assert_eq!(f.server.requests(), Vec::<String>::new());
}

#[test]
fn a_redirect_to_plain_http_is_not_followed() {
    let f = Fixture::new();
    f.publish("/elsewhere");
    f.server.redirect(
        "/releases/download/v1.2.3/SHA256SUMS",
        &format!("{}/elsewhere/SHA256SUMS", f.server.url),
    );
    let out = f.install(&[]);
    assert_refused(&out, "cannot download");
    assert_eq!(
        f.server.requests(),
        ["/releases/download/v1.2.3/SHA256SUMS"],
        "the http redirect is never followed"
    );
    assert_eq!(f.cached_files(), Vec::<PathBuf>::new());
}

#[test]
fn the_default_download_url_is_the_actions_own_repository() {
    let f = Fixture::new();
    f.publish("/acme/tool/releases/download/v1.2.3");
    let out = f.install(&[
        ("INPUT_DOWNLOAD_URL", ""),
        ("GITHUB_SERVER_URL", f.server.url.as_str()),
        (
            "GITHUB_ACTION_PATH",
            "/home/runner/work/_actions/acme/tool/v1",
        ),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        f.server.requests()[0],
        "/acme/tool/releases/download/v1.2.3/SHA256SUMS"
    );
}

#[test]
fn provenance_is_verified_with_gh_and_a_failure_refuses() {
    let f = Fixture::new();
    let log = f.path("gh.log");
    f.stub(
        "gh",
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"GH_TOKEN=$GH_TOKEN\" \"$@\" >> '{}'\nexit \"${{GH_EXIT:-0}}\"\n",
            log.display()
        ),
    );
    let env = [
        ("INPUT_VERIFY_PROVENANCE", "true"),
        ("INPUT_GITHUB_TOKEN", "t0ken"),
        (
            "GITHUB_ACTION_PATH",
            "/home/runner/work/_actions/acme/tool/v1",
        ),
        ("GH_EXIT", "1"),
    ];
    let out = f.install(&env);
    assert_refused(&out, "provenance");
    assert_eq!(f.cached_files(), Vec::<PathBuf>::new());

    std::fs::remove_file(&log).expect("gh was called");
    let out = f.install(&env[..3]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = std::fs::read_to_string(&log).expect("gh was called");
    let lines: Vec<&str> = calls.lines().collect();
    assert_eq!(lines[0], "GH_TOKEN=t0ken");
    assert_eq!(&lines[1..3], ["attestation", "verify"]);
    assert!(lines[3].ends_with(&f.archive_name()), "{calls}");
    assert_eq!(&lines[4..6], ["--repo", "acme/tool"]);
    assert!(f.cache_dir(VERSION).join(f.archive_name()).is_file());
}

#[test]
fn an_unsupported_runner_gets_an_annotation() {
    let f = Fixture::new();
    let out = f.install(&[("RUNNER_ARCH", "ARM")]);
    assert_refused(&out, "Linux/ARM");
    let out = f.install(&[("RUNNER_OS", "FreeBSD"), ("RUNNER_ARCH", "X64")]);
    assert_refused(&out, "FreeBSD/X64");
    assert_eq!(f.server.requests(), Vec::<String>::new());
}

/// `bash action/run.sh` with `args`, a stub `shipgate` first on PATH that prints its
/// arguments one per line and exits 3, in a non-empty working directory.
fn run_script(f: &Fixture, args: &str) -> (Output, Vec<String>) {
    f.stub(
        "shipgate",
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\nexit 3\n",
    );
    std::fs::write(f.path("work/a-file"), "").expect("write");
    let out = Command::new("bash")
        .arg(root().join("action/run.sh"))
        .current_dir(f.path("work"))
        .env_clear()
        .env("PATH", f.search_path())
        .env("GITHUB_OUTPUT", f.path("output"))
        .env("INPUT_ARGS", args)
        .output()
        .expect("run run.sh");
    let words = stdout(&out).lines().map(str::to_string).collect();
    (out, words)
}

#[test]
fn run_passes_one_line_of_args_as_words_never_as_code() {
    let f = Fixture::new();
    let args =
        "promote 1.4.0 --to prod ; $(touch x) `touch y` \"two words\" 'q' * $HOME && rm -rf z | w";
    let (out, words) = run_script(&f, args);
    assert_eq!(
        words,
        [
            "promote", "1.4.0", "--to", "prod", ";", "$(touch", "x)", "`touch", "y`", "\"two",
            "words\"", "'q'", "*", "$HOME", "&&", "rm", "-rf", "z", "|", "w"
        ]
    );
    assert_eq!(out.status.code(), Some(3), "shipgate's own exit code");
    assert_eq!(f.read("output"), "exit-code=3\n");
    assert!(!f.path("work/x").exists() && !f.path("work/y").exists());
}

#[test]
fn run_takes_one_argument_per_line() {
    let f = Fixture::new();
    let args = "canary\nrun\n--reason\nhotfix; $(touch x) *\n\n";
    let (out, words) = run_script(&f, args);
    assert_eq!(words, ["canary", "run", "--reason", "hotfix; $(touch x) *"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(f.read("output"), "exit-code=3\n");
    assert!(!f.path("work/x").exists());
}

#[test]
fn action_yml_passes_inputs_only_through_env() {
    let yml = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    for line in yml.lines().filter(|l| l.contains("${{")) {
        let t = line.trim();
        let allowed = t.starts_with("value: ${{ steps.")
            || t == "default: ${{ github.token }}"
            || (t.starts_with("INPUT_") && t.contains(": ${{ inputs."));
        assert!(allowed, "an expression outside env/outputs: {line}");
    }
    for script in ["action/install.sh", "action/run.sh"] {
        let text = std::fs::read_to_string(root().join(script)).expect("script");
        assert!(text.contains("set -euo pipefail"), "{script}");
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("eval ")),
            "{script} evaluates text"
        );
        assert!(yml.contains(&format!("\"$GITHUB_ACTION_PATH/{script}\"")));
    }
}

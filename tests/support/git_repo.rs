//! A scratch git repository for the end-to-end tests, driven through the `git` binary with
//! fixed, increasing dates, and the `shipgate` binary run inside it.

#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Repo {
    _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    clock: std::cell::Cell<i64>,
    step: i64,
}

impl Repo {
    /// A new repository on `main`; dates start at `start` (seconds) and advance by `step`
    /// with every git command.
    pub fn with_clock(start: i64, step: i64) -> Repo {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("repo");
        std::fs::create_dir(&dir).expect("mkdir");
        let repo = Repo {
            _tmp: tmp,
            dir,
            clock: std::cell::Cell::new(start),
            step,
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Release Tester"]);
        repo.git(&["config", "user.email", "tester@example.com"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo.git(&["config", "tag.gpgsign", "false"]);
        repo
    }

    pub fn new() -> Repo {
        Repo::with_clock(1_700_000_000, 60)
    }

    /// An existing checkout (e.g. a clone made by the test).
    pub fn at(dir: &Path) -> Repo {
        let tmp = tempfile::tempdir().expect("tempdir");
        Repo {
            _tmp: tmp,
            dir: dir.to_path_buf(),
            clock: std::cell::Cell::new(1_800_000_000),
            step: 60,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    pub fn git_output(&self, args: &[&str]) -> Output {
        let t = self.clock.get() + self.step;
        self.clock.set(t);
        let date = format!("@{t} +0000");
        Command::new("git")
            .current_dir(&self.dir)
            .args(args)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .expect("git runs")
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    /// This repository's `environments/` (the three overlays, base.toml and schema.json),
    /// written (not committed) as the fixture's configuration.
    pub fn write_environments(&self) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../environments");
        for f in [
            "base.toml",
            "dev.toml",
            "staging.toml",
            "prod.toml",
            "schema.json",
        ] {
            let text = std::fs::read_to_string(Path::new(dir).join(f)).expect("read");
            self.write(&format!("environments/{f}"), &text);
        }
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).expect("read")
    }

    /// Commits a change to `file` with `message`; returns the commit id.
    pub fn commit_file(&self, file: &str, message: &str) -> String {
        let p = self.path(file);
        let old = std::fs::read_to_string(&p).unwrap_or_default();
        self.write(file, &format!("{old}{message}\n"));
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Commits a change to `src.txt`.
    pub fn commit(&self, message: &str) -> String {
        self.commit_file("src.txt", message)
    }

    /// An annotated tag on HEAD.
    pub fn tag(&self, name: &str) {
        self.git(&["tag", "-a", name, "-m", name]);
    }

    pub fn tags(&self) -> Vec<String> {
        self.git(&["tag", "--list"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn log(&self) -> Vec<String> {
        self.git(&["log", "--format=%s"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn shipgate(&self, args: &[&str]) -> Output {
        shipgate_in(&self.dir, args, &[])
    }

    pub fn shipgate_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        shipgate_in(&self.dir, args, env)
    }

    /// stdout of a run that must succeed.
    pub fn stdout(&self, args: &[&str]) -> String {
        let out = self.shipgate(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Runs shipgate in `dir` with a fixed release date, no colour, no failpoint and no GitHub
/// credentials from the developer's environment; `env` is applied last.
pub fn shipgate_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    shipgate_command(dir, args, env)
        .output()
        .expect("shipgate runs")
}

/// The command `shipgate_in` runs, for a test that spawns it (and kills it) itself.
pub fn shipgate_command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shipgate"));
    cmd.current_dir(dir)
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1764115200")
        .env("NO_COLOR", "1");
    for var in [
        "SHIPGATE_FAILPOINT",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITHUB_REPOSITORY",
        "GITHUB_API_URL",
        // A test run inside GitHub Actions is not a step of its own: no annotations, and
        // no writes to the real runner's files.
        "GITHUB_ACTIONS",
        "GITHUB_OUTPUT",
        "GITHUB_STEP_SUMMARY",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// `git` in `dir`, which must succeed; its stdout, trimmed.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

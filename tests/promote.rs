//! End-to-end tests of promotion through the real `shipgate` binary: `promote`, `rollback`,
//! `approve`, `verify`, `freeze`, `unfreeze`, `unblock`, `status`, `history` and `metrics` on
//! temporary git repositories that share their ledger (`refs/shipgate/ledger`) and holds
//! (`refs/shipgate/locks/<env>`) through a bare origin, as CI runners and laptops do.
//!
//! The fixture is this repository's own `environments/` (base.toml, the three overlays and
//! schema.json) with annotated release tags v1.4.0, v1.5.0, …; every run sets `SHIPGATE_NOW`
//! and `GITHUB_ACTOR`, so gates, entries and output are the same on every machine. Nothing
//! sleeps: runs that race are started together and waited for.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

#[path = "support/git_repo.rs"]
mod git_repo;
use git_repo::{Repo, git_in as git, shipgate_command};

/// Every gate, in the order `promote` reports them.
const GATES: [&str; 8] = [
    "previous-environment",
    "soak",
    "version-order",
    "blocked",
    "configuration",
    "freeze",
    "approvals",
    "lock",
];

/// The tests' clock starts on Tuesday 1 December 2026 at 09:00 UTC.
const T0: i64 = 1_796_115_600;

/// `minutes` after [`T0`], as `SHIPGATE_NOW` and `--at` take it.
fn at(minutes: i64) -> String {
    jiff::Timestamp::from_second(T0 + minutes * 60)
        .expect("in range")
        .to_string()
}

/// Midnight before [`T0`]: the delivery metrics' clock.
const MIDNIGHT: i64 = T0 - 9 * 3600;

/// `minutes` after [`MIDNIGHT`], as `SHIPGATE_NOW` takes it.
fn after_midnight(minutes: i64) -> String {
    at(minutes - 9 * 60)
}

// ---------------------------------------------------------------------------------------
// The fixture
// ---------------------------------------------------------------------------------------

/// What shipgate.toml says besides the fixed part; `{tmp}` in `tail` is the fixture's
/// temporary directory.
#[derive(Clone, Copy)]
struct Config<'a> {
    /// More lines of `[promote]`.
    promote: &'a str,
    /// `[promote.env.dev]`.
    dev: &'a str,
    /// `[promote.env.prod]`.
    prod: &'a str,
    /// More sections.
    tail: &'a str,
    /// The releases after v1.4.0.
    releases: &'a [&'a str],
}

const CONFIG: Config<'static> = Config {
    promote: "",
    dev: "verification = \"none\"",
    prod: "soak = \"2h\"\napprovals = 1",
    tail: "",
    releases: &["1.5.0", "1.6.0"],
};

/// `[canary.command]` whose rollback writes what it was asked to `{tmp}/actuator.log`, and
/// fails while `{tmp}/actuator-down` exists. The placeholders are bare: the actuator quotes
/// their values.
const ACTUATOR: &str = "
[canary.command]
set-weight = \"true\"
promote = \"true\"
rollback = \"test ! -e {tmp}/actuator-down && echo rollback {{version}} {{baseline_version}} {{env}} >> {tmp}/actuator.log\"
rollback-attempts = 1
";

/// Staging frozen every weekend from Friday 16:00 to Monday 08:00, Berlin time.
const WEEKEND_FREEZE: &str = r#"
[[promote.env.staging.freeze]]
from = "Fri 16:00"
to = "Mon 08:00"
time-zone = "Europe/Berlin"
"#;

impl Config<'_> {
    fn text(&self, tmp: &Path) -> String {
        format!(
            "[environments]\norder = [\"dev\", \"staging\", \"prod\"]\n\n\
             [promote]\nversion-key = \"service.image.tag\"\n{}\n\
             [promote.env.dev]\n{}\n\n[promote.env.prod]\n{}\n{}",
            self.promote,
            self.dev,
            self.prod,
            self.tail.replace("{tmp}", &tmp.display().to_string())
        )
    }
}

/// The promoting clone (where the history was written, with `origin` added) and its bare
/// origin, side by side in one temporary directory.
struct Fixture {
    repo: Repo,
    tmp: PathBuf,
    origin: PathBuf,
}

impl Fixture {
    /// The environments and shipgate.toml committed, release v1.4.0 and `config.releases`
    /// tagged, shared through a bare origin.
    fn new(config: Config<'_>) -> Fixture {
        let fx = Fixture::scaffold(config, 1_764_000_000);
        fx.repo.commit("feat: the storefront's first release");
        fx.repo.tag("v1.4.0");
        for v in config.releases {
            fx.repo.commit(&format!("feat: what {v} brings"));
            fx.repo.commit(&format!("fix: what {v} mends"));
            fx.repo.tag(&format!("v{v}"));
        }
        fx.share();
        fx
    }

    /// A repository with the configuration committed, its git dates from `clock` on.
    fn scaffold(config: Config<'_>, clock: i64) -> Fixture {
        let repo = Repo::with_clock(clock, 60);
        let tmp = repo
            .dir
            .parent()
            .expect("the temporary directory")
            .to_path_buf();
        repo.write_environments();
        repo.write("shipgate.toml", &config.text(&tmp));
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-q", "-m", "chore: the storefront's environments"]);
        let origin = tmp.join("origin.git");
        Fixture { repo, tmp, origin }
    }

    /// `(message, hours, tag)`: a commit authored `hours` after `midnight` (Unix seconds),
    /// and the release it ends, if any.
    fn commit_dated(&self, midnight: i64, commits: &[(&str, i64, Option<&str>)]) {
        for (message, hours, tag) in commits {
            self.repo.write("src.txt", &format!("{message}\n"));
            self.repo.git(&["add", "-A"]);
            let date = format!("@{} +0000", midnight + hours * 3600);
            self.repo
                .git(&["commit", "-q", "-m", message, "--date", &date]);
            if let Some(v) = tag {
                self.repo.tag(&format!("v{v}"));
            }
        }
    }

    /// The bare origin, cloned from the repository, and `origin` added to it.
    fn share(&self) {
        git(&self.tmp, &["clone", "-q", "--bare", "repo", "origin.git"]);
        let origin = self.origin.display().to_string();
        self.repo.git(&["remote", "add", "origin", &origin]);
        self.repo.git(&["fetch", "-q", "origin"]);
    }

    fn dir(&self) -> &Path {
        &self.repo.dir
    }

    /// One more release, pushed: a commit and its annotated tag.
    fn release(&self, version: &str, message: &str) {
        self.repo.commit(message);
        self.repo.tag(&format!("v{version}"));
        let tag = format!("v{version}");
        self.repo.git(&["push", "-q", "origin", "main", &tag]);
    }

    /// A fresh clone of origin, with a git identity.
    fn clone(&self, name: &str) -> PathBuf {
        git(&self.tmp, &["clone", "-q", "origin.git", name]);
        let dir = self.tmp.join(name);
        git(
            &dir,
            &["config", "user.email", &format!("{name}@example.com")],
        );
        git(&dir, &["config", "user.name", name]);
        dir
    }

    /// `git -C origin.git …`.
    fn origin_git(&self, args: &[&str]) -> String {
        git(&self.origin, args)
    }

    /// The version `environments/<env>.toml` on origin's main asks for.
    fn origin_tag(&self, env: &str) -> Option<String> {
        image_tag(&self.origin_git(&["show", &format!("main:environments/{env}.toml")]))
    }

    /// The subject of origin's last commit on main.
    fn origin_subject(&self) -> String {
        self.origin_git(&["log", "-1", "--format=%s", "main"])
    }

    /// Origin's ledger, one summary per entry, oldest first (empty when it has none).
    fn origin_ledger(&self) -> Vec<String> {
        ledger_of(&self.origin)
    }

    /// Pushes a hold of `env` to origin as another runner would: `git hash-object`, `git
    /// commit-tree` and `git push`, lock.rs's `Hold` as JSON after its marker line.
    fn push_hold(&self, env: &str, version: &str, baseline: &str, started: &str, renewed: &str) {
        let hold = json!({
            "environment": env,
            "version": version,
            "baseline_version": baseline,
            "by": "ci-runner",
            "started_at": started,
            "renewed_at": renewed,
            "host": "runner-7",
            "pid": 4242,
        });
        let message =
            format!("hold of {env} for a canary of {version}\n\nshipgate-hold: 1\n{hold}\n");
        let tree = self
            .repo
            .git(&["hash-object", "-t", "tree", "-w", "/dev/null"]);
        let commit = self.repo.git(&["commit-tree", &tree, "-m", &message]);
        let dst = format!("{commit}:refs/shipgate/locks/{env}");
        self.repo.git(&["push", "-q", "origin", &dst]);
    }

    /// Whether origin has `env`'s hold.
    fn origin_holds(&self, env: &str) -> bool {
        let name = format!("refs/shipgate/locks/{env}");
        !self.origin_git(&["for-each-ref", &name]).is_empty()
    }

    /// What the actuator was asked to do, one line per rollback.
    fn actuator_log(&self) -> String {
        std::fs::read_to_string(self.tmp.join("actuator.log")).unwrap_or_default()
    }

    fn sg(&self, who: &str, now: &str, line: &str) -> Run {
        sg(self.dir(), who, now, line)
    }

    fn promote(&self, who: &str, now: &str, line: &str) -> Run {
        promote(self.dir(), who, now, line)
    }

    fn promoted(&self, who: &str, now: &str, line: &str) -> Value {
        check(&self.promote(who, now, line), &[])
    }
}

/// The ledger of the repository at `dir`, one summary per entry, oldest first.
fn ledger_of(dir: &Path) -> Vec<String> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["log", "--first-parent", "--reverse", "--format=%s"])
        .args(["refs/shipgate/ledger", "--"])
        .output()
        .expect("git runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

/// `service.image.tag` of an environment file's text.
fn image_tag(text: &str) -> Option<String> {
    let mut table = "";
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            table = line;
        } else if let (Some(v), "[service.image]") = (line.strip_prefix("tag = "), table) {
            return Some(v.trim_matches('"').to_string());
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Running shipgate
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {self:#?}"))
    }

    /// Asserts exit 0.
    #[track_caller]
    fn ok(self) -> Run {
        assert_eq!(self.code, 0, "{self:#?}");
        self
    }

    /// Asserts exit 2 with `needle` in stderr.
    #[track_caller]
    fn fails_with(self, needle: &str) -> Run {
        assert_eq!(self.code, 2, "{self:#?}");
        assert!(self.stderr.contains(needle), "`{needle}` not in {self:#?}");
        self
    }
}

/// `line` split into arguments as a shell would: words, and `'quoted text'` as one.
fn words(line: &str) -> Vec<String> {
    let (mut out, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => (quoted, any) = (!quoted, true),
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(word);
    }
    out
}

/// `shipgate LINE` in `dir` as `who` at `now`, with no CI run in the environment.
fn command(dir: &Path, who: &str, now: &str, line: &str) -> Command {
    let args = words(line);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = [("GITHUB_ACTOR", who), ("SHIPGATE_NOW", now)];
    let mut cmd = shipgate_command(dir, &args, &env);
    cmd.env_remove("GITHUB_SERVER_URL")
        .env_remove("GITHUB_RUN_ID");
    cmd
}

fn sg(dir: &Path, who: &str, now: &str, line: &str) -> Run {
    Run::from(
        command(dir, who, now, line)
            .output()
            .expect("shipgate runs"),
    )
}

/// `shipgate --json promote LINE`.
fn promote(dir: &Path, who: &str, now: &str, line: &str) -> Run {
    sg(dir, who, now, &format!("--json promote {line}"))
}

/// `history --json --limit 0` in `dir`: every entry, oldest first.
fn history(dir: &Path, now: &str) -> Vec<Value> {
    let out = sg(dir, "alice", now, "--json history --limit 0").ok();
    let mut entries = out.json()["entries"].as_array().expect("entries").clone();
    entries.reverse();
    entries
}

/// `status --json` in `dir`.
fn status(dir: &Path, now: &str) -> Value {
    sg(dir, "alice", now, "--json status").ok().json()
}

/// An entry in a few words, as the tests compare them: `kind env version by`.
fn brief(e: &Value) -> String {
    let s = |k: &str| e[k].as_str().unwrap_or("-").to_string();
    format!(
        "{} {} {} {}",
        s("kind"),
        s("environment"),
        s("version"),
        s("by")
    )
}

/// The element of the array `list` whose `name` is `name`.
fn named(list: &Value, name: &str) -> Value {
    list.as_array()
        .and_then(|l| l.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("{name} in {list:#}"))
        .clone()
}

/// Asserts a `promote --json` outcome: it has its contract's fields, every gate is
/// reported, in order, and exactly the gates of `failing` failed, each with its text in
/// its detail; exit 1 when a gate refused, else 0; promoted when it ran and all passed.
#[track_caller]
fn check(run: &Run, failing: &[(&str, &str)]) -> Value {
    let out = run.json();
    for key in [
        "version",
        "environment",
        "from",
        "promoted",
        "dry_run",
        "gates",
    ] {
        assert!(out.get(key).is_some(), "{key} in {out:#}");
    }
    let gates = out["gates"].as_array().expect("gates");
    let names: Vec<&str> = gates.iter().filter_map(|g| g["name"].as_str()).collect();
    assert_eq!(names, GATES, "{out:#}");
    for g in gates {
        let name = g["name"].as_str().unwrap_or_default();
        let detail = g["detail"].as_str().unwrap_or_default();
        match failing.iter().find(|(n, _)| *n == name) {
            Some((_, needle)) => assert!(
                g["passed"] == false && detail.contains(needle),
                "{name} should fail with `{needle}`: {g}"
            ),
            None => assert!(g["passed"] == true, "{name} should pass: {g}\n{out:#}"),
        }
    }
    assert_eq!(run.code, i32::from(!failing.is_empty()), "{run:#?}");
    let ran = out["dry_run"] == false;
    assert_eq!(out["promoted"], ran && failing.is_empty(), "{out:#}");
    out
}

/// The detail of gate `name`.
fn detail(out: &Value, name: &str) -> String {
    named(&out["gates"], name)["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `version` promoted into dev and staging by alice at `now`, pushed.
fn to_staging(dir: &Path, version: &str, now: &str) {
    for env in ["dev", "staging"] {
        check(
            &promote(dir, "alice", now, &format!("{version} --to {env} --push")),
            &[],
        );
    }
}

/// `version` through dev and staging, verified there and approved for prod by bob at
/// `now`: ready for prod two hours later (the soak).
fn ready_for_prod(dir: &Path, version: &str, now: &str) {
    to_staging(dir, version, now);
    let verify = format!("verify {version} --env staging --result pass --push");
    sg(dir, "qa-bot", now, &verify).ok();
    sg(
        dir,
        "bob",
        now,
        &format!("approve {version} --env prod --push"),
    )
    .ok();
}

/// `version` all the way into prod by alice: ready at `minutes`, promoted two hours later,
/// and verified there (so that rollbacks can go back to it).
fn ship(dir: &Path, version: &str, minutes: i64) {
    ready_for_prod(dir, version, &at(minutes));
    let later = at(minutes + 120);
    check(
        &promote(dir, "alice", &later, &format!("{version} --to prod --push")),
        &[],
    );
    let verify = format!("verify {version} --env prod --result pass --push");
    sg(dir, "qa-bot", &later, &verify).ok();
}

#[test]
fn the_helpers_split_and_redact_as_documented() {
    assert_eq!(
        words("rollback --env prod --reason 'checkout errors' --to ''"),
        [
            "rollback",
            "--env",
            "prod",
            "--reason",
            "checkout errors",
            "--to",
            ""
        ]
    );
    assert_eq!(
        redact_ids("2026-12-01T09:00:00Z  0caed9a049  promotion 1.5.0 by deadbeef00x"),
        "2026-12-01T09:00:00Z  <id>  promotion 1.5.0 by deadbeef00x"
    );
    let file = "[service]\ntag = \"x\"\n\n[service.image]\nrepository = \"r\"\ntag = \"1.5.0\"\n";
    assert_eq!(image_tag(file).as_deref(), Some("1.5.0"));
    assert_eq!(image_tag("[service]\ntag = \"1.5.0\"\n"), None);
}

// ---------------------------------------------------------------------------------------
// 1. dev → staging → prod
// ---------------------------------------------------------------------------------------

#[test]
fn a_version_goes_from_dev_through_staging_to_prod_through_its_gates() {
    let fx = Fixture::new(CONFIG);
    let dir = fx.dir();
    check(
        &fx.promote("alice", &at(0), "1.5.0 --to staging --push"),
        &[("previous-environment", "1.5.0 never ran in dev")],
    );
    assert!(fx.origin_ledger().is_empty(), "a refusal writes nothing");

    let dev = fx.promoted("alice", &at(0), "1.5.0 --to dev --push");
    assert_eq!((&dev["from"], &dev["pushed"]), (&Value::Null, &json!(true)));
    assert_eq!(fx.origin_tag("dev").as_deref(), Some("1.5.0"));
    assert_eq!(fx.origin_subject(), "chore(promote): 1.5.0 to dev");

    let staging = fx.promoted("alice", &at(1), "1.5.0 --to staging --push");
    assert!(detail(&staging, "previous-environment").contains("dev needs no verification"));
    assert_eq!(fx.origin_tag("staging").as_deref(), Some("1.5.0"));

    // Prod needs a passing verification in staging, two hours of soak after it, and an
    // approval by someone other than the promoter.
    check(
        &fx.promote("alice", &at(2), "1.5.0 --to prod --push"),
        &[
            (
                "previous-environment",
                "ran in staging but has no passing verification there",
            ),
            (
                "soak",
                "needs 2h in staging after a passing verification; it has none",
            ),
            ("approvals", "0 of 1 distinct approvers: none"),
        ],
    );
    let verify = "verify 1.5.0 --env staging --result pass --evidence 'smoke run 7' --push";
    fx.sg("qa-bot", &at(10), verify).ok();
    fx.sg("alice", &at(11), "approve 1.5.0 --env prod --push")
        .ok();
    check(
        &fx.promote("alice", &at(12), "1.5.0 --to prod --push"),
        &[
            (
                "soak",
                "soaked 2m of 2h in staging; ready at 2026-12-01T11:10:00Z",
            ),
            (
                "approvals",
                "0 of 1 distinct approvers: none (alice's own approval does not count)",
            ),
        ],
    );
    fx.sg("bob", &at(13), "approve 1.5.0 --env prod --push")
        .ok();
    check(
        &fx.promote("alice", &at(129), "1.5.0 --to prod --push"),
        &[("soak", "soaked 1h59m of 2h in staging")],
    );
    assert_eq!(
        fx.origin_tag("prod"),
        None,
        "prod's file has no tag of its own yet"
    );

    let prod = fx.promoted("alice", &at(130), "1.5.0 --to prod --push");
    assert_eq!(
        detail(&prod, "previous-environment"),
        "verified in staging: verification passed 2h ago (by qa-bot)"
    );
    assert_eq!(
        (&prod["pushed"], &prod["file"]),
        (&json!(true), &json!("environments/prod.toml"))
    );
    assert_eq!(fx.origin_tag("prod").as_deref(), Some("1.5.0"));
    assert_eq!(fx.origin_subject(), "chore(promote): 1.5.0 to prod");
    assert_eq!(prod["commit"], fx.origin_git(&["rev-parse", "main"]));
    assert_eq!(
        prod["ledger_commit"],
        fx.origin_git(&["rev-parse", "refs/shipgate/ledger"])
    );
    // The promoting clone follows: its main is origin's, its work tree clean and current.
    assert_eq!(fx.repo.git(&["status", "--porcelain"]), "");
    assert_eq!(
        fx.repo.git(&["rev-parse", "main"]),
        fx.origin_git(&["rev-parse", "main"])
    );
    assert_eq!(
        image_tag(&fx.repo.read("environments/prod.toml")).as_deref(),
        Some("1.5.0")
    );
    assert_eq!(
        fx.origin_ledger(),
        [
            "promotion 1.5.0 to dev by alice",
            "promotion 1.5.0 to staging by alice",
            "verification of 1.5.0 in staging: pass by qa-bot",
            "approval of 1.5.0 for prod by alice",
            "approval of 1.5.0 for prod by bob",
            "promotion 1.5.0 to prod by alice",
        ]
    );
    // Each promotion records every gate with its evidence.
    let last = history(dir, &at(131)).pop().expect("an entry");
    assert_eq!(last["gates"].as_array().map(Vec::len), Some(GATES.len()));
    let status = status(dir, &at(131));
    for env in ["dev", "staging", "prod"] {
        let s = named(&status["environments"], env);
        assert_eq!(
            (s["version"].as_str(), s["desired"].as_str()),
            (Some("1.5.0"), Some("1.5.0"))
        );
    }
    assert_eq!(named(&status["environments"], "prod")["since"], at(130));
}

// ---------------------------------------------------------------------------------------
// 2. Each gate refusing
// ---------------------------------------------------------------------------------------

#[test]
fn previous_environment_needs_the_version_run_and_passed_there() {
    let fx = Fixture::new(CONFIG);
    let dry = |now: &str| {
        fx.promote(
            "alice",
            now,
            &format!("1.5.0 --to prod --dry-run --at {}", at(300)),
        )
    };
    fx.promoted("alice", &at(0), "1.5.0 --to dev --push");
    fx.sg("bob", &at(0), "approve 1.5.0 --env prod --push").ok();
    let no_pass = "needs 2h in staging after a passing verification; it has none";
    check(
        &dry(&at(1)),
        &[
            ("previous-environment", "1.5.0 never ran in staging"),
            ("soak", no_pass),
        ],
    );
    fx.promoted("alice", &at(2), "1.5.0 --to staging --push");
    check(
        &dry(&at(3)),
        &[
            (
                "previous-environment",
                "ran in staging but has no passing verification there",
            ),
            ("soak", no_pass),
        ],
    );
    fx.sg(
        "qa-bot",
        &at(4),
        "verify 1.5.0 --env staging --result pass --push",
    )
    .ok();
    let passed = check(&dry(&at(5)), &[]);
    assert_eq!(
        (&passed["dry_run"], &passed["at"]),
        (&json!(true), &json!(at(300)))
    );
    let fail = "verify 1.5.0 --env staging --result fail --evidence 'checkout 500s' --push";
    fx.sg("carol", &at(6), fail).ok();
    check(
        &dry(&at(7)),
        &[
            (
                "previous-environment",
                "its latest verification in staging failed (4h54m ago, by carol)",
            ),
            ("soak", no_pass),
        ],
    );
    assert_eq!(fx.origin_tag("prod"), None, "dry runs write nothing");
}

#[test]
fn soak_counts_from_the_passing_verification() {
    let fx = Fixture::new(CONFIG);
    ready_for_prod(fx.dir(), "1.5.0", &at(0));
    let dry = |when: i64| {
        fx.promote(
            "alice",
            &at(1),
            &format!("1.5.0 --to prod --dry-run --at {}", at(when)),
        )
    };
    let early = "soaked 1h59m of 2h in staging; ready at 2026-12-01T11:00:00Z";
    check(&dry(119), &[("soak", early)]);
    let ready = check(&dry(120), &[]);
    assert_eq!(detail(&ready, "soak"), "soaked 2h in staging (needs 2h)");
    check(
        &fx.promote("alice", &at(119), "1.5.0 --to prod --push"),
        &[("soak", early)],
    );
    fx.promoted("alice", &at(120), "1.5.0 --to prod --push");
}

#[test]
fn version_order_refuses_older_and_same_versions() {
    let fx = Fixture::new(CONFIG);
    fx.promoted("alice", &at(0), "1.4.0 --to dev --push");
    fx.promoted("alice", &at(1), "1.5.0 --to dev --push");
    let before = fx.origin_ledger();
    check(
        &fx.promote("alice", &at(2), "1.4.0 --to dev --push"),
        &[(
            "version-order",
            "1.4.0 is older than 1.5.0, which runs in dev; \
             going back is `shipgate rollback --env dev --to 1.4.0 --reason …`",
        )],
    );
    let same = check(
        &fx.promote("alice", &at(2), "1.5.0 --to dev --push"),
        &[("version-order", "1.5.0 already runs in dev")],
    );
    assert_eq!(same["from"], "1.5.0");
    assert_eq!(fx.origin_ledger(), before, "refusals write nothing");
    let newer = fx.promoted("alice", &at(3), "1.6.0 --to dev --dry-run");
    assert_eq!(
        detail(&newer, "version-order"),
        "1.6.0 is newer than 1.5.0, which runs"
    );
}

#[test]
fn a_rolled_back_version_is_blocked_everywhere_until_unblocked() {
    let fx = Fixture::new(CONFIG);
    fx.promoted("alice", &at(0), "1.4.0 --to dev --push");
    fx.promoted("alice", &at(1), "1.5.0 --to dev --push");
    fx.sg(
        "alice",
        &at(2),
        "rollback --env dev --to 1.4.0 --reason 'search is down' --push",
    )
    .ok();
    let blocked = "1.5.0 is blocked since 2026-12-01T09:02:00Z (rolled back in dev) by alice: \
                   search is down; `shipgate unblock 1.5.0 --reason …` lifts it";
    check(
        &fx.promote("alice", &at(3), "1.5.0 --to dev --push"),
        &[("blocked", blocked)],
    );
    // Everywhere: it ran in dev, which is all staging asks, but it is blocked.
    check(
        &fx.promote("alice", &at(3), "1.5.0 --to staging --dry-run"),
        &[("blocked", blocked)],
    );
    assert_eq!(status(fx.dir(), &at(3))["blocked"], json!(["1.5.0"]));

    let unblock = "unblock 1.5.0 --reason 'the search index is rebuilt' --push";
    fx.sg("carol", &at(4), unblock).ok();
    fx.promoted("alice", &at(5), "1.5.0 --to dev --push");
    assert_eq!(fx.origin_tag("dev").as_deref(), Some("1.5.0"));
    fx.sg("carol", &at(6), "unblock 1.5.0 --reason again")
        .fails_with("1.5.0 is not blocked");
    let entries = history(fx.dir(), &at(6));
    let unblock = entries
        .iter()
        .find(|e| e["kind"] == "unblock")
        .expect("unblock");
    assert_eq!(
        (unblock["by"].as_str(), unblock["reason"].as_str()),
        (Some("carol"), Some("the search index is rebuilt"))
    );
}

#[test]
fn configuration_refuses_a_version_the_schema_does_not_allow() {
    let fx = Fixture::new(CONFIG);
    // The storefront's images stay on 1.x until the new cluster: a real schema constraint.
    let schema = fx.repo.read("environments/schema.json");
    let old = r#""tag": { "type": "string", "pattern": "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$" }"#;
    assert!(
        schema.contains(old),
        "the fixture's schema changed: update this test"
    );
    let new = r#""tag": { "type": "string", "pattern": "^1\\.[0-9]+\\.[0-9]+$" }"#;
    fx.repo
        .write("environments/schema.json", &schema.replace(old, new));
    fx.repo.git(&[
        "commit",
        "-q",
        "-am",
        "chore(config): storefront images stay on 1.x",
    ]);
    fx.release("2.0.0", "feat!: the new checkout API");

    let refused = check(
        &fx.promote("alice", &at(0), "2.0.0 --to dev --push"),
        &[(
            "configuration",
            "dev does not validate with 2.0.0: environments/dev.toml:",
        )],
    );
    let why = detail(&refused, "configuration");
    assert!(
        why.contains("2.0.0") && why.contains("^1\\.[0-9]+\\.[0-9]+$"),
        "{why}"
    );
    assert_eq!(fx.origin_tag("dev"), None);
    let fine = fx.promoted("alice", &at(1), "1.6.0 --to dev --push");
    assert_eq!(
        detail(&fine, "configuration"),
        "environments/dev.toml validates with service.image.tag = \"1.6.0\" (schema and rules)"
    );
}

#[test]
fn freeze_windows_and_emergency_freezes_refuse_unless_overridden() {
    let fx = Fixture::new(Config {
        tail: WEEKEND_FREEZE,
        ..CONFIG
    });
    fx.promoted("alice", &at(0), "1.5.0 --to dev --push");
    fx.promoted("alice", &at(0), "1.6.0 --to dev --push");
    let dry = |when: &str, extra: &str| {
        fx.promote(
            "alice",
            &at(1),
            &format!("1.5.0 --to staging --dry-run --at {when} {extra}"),
        )
    };
    let window = "freeze window every Fri 16:00 to Mon 08:00 (Europe/Berlin)";
    // Friday 4 December 2026: Berlin is UTC+1.
    check(&dry("2026-12-04T14:59:00Z", ""), &[]);
    let frozen = format!("frozen at 2026-12-04T15:00:00Z: {window}");
    check(&dry("2026-12-04T15:00:00Z", ""), &[("freeze", &frozen)]);
    check(&dry("2026-12-07T06:59:00Z", ""), &[("freeze", window)]);
    check(&dry("2026-12-07T07:00:00Z", ""), &[]);
    let hotfix = "--override-freeze --reason 'the payment hotfix'";
    let overridden = check(&dry("2026-12-05T12:00:00Z", hotfix), &[]);
    assert!(detail(&overridden, "freeze").ends_with("overridden by alice: the payment hotfix"));

    // An emergency freeze, now, until unfrozen.
    let freeze = "freeze --env staging --reason 'incident 42: payments down' --push";
    fx.sg("oncall", &at(5), freeze).ok();
    let emergency =
        "emergency freeze by oncall since 2026-12-01T09:05:00Z: incident 42: payments down";
    check(
        &fx.promote("alice", &at(6), "1.5.0 --to staging --push"),
        &[("freeze", emergency)],
    );
    let staging = named(&status(fx.dir(), &at(6))["environments"], "staging");
    assert_eq!(staging["frozen"], json!([emergency]));
    let fix = "1.5.0 --to staging --push --override-freeze --reason 'the fix for incident 42'";
    fx.promoted("alice", &at(7), fix);
    let entry = history(fx.dir(), &at(7)).pop().expect("the promotion");
    assert_eq!(
        (entry["kind"].as_str(), entry["reason"].as_str()),
        (Some("promotion"), Some("the fix for incident 42"))
    );
    fx.sg("oncall", &at(8), "unfreeze --env staging --push")
        .ok();
    fx.promoted("alice", &at(9), "1.6.0 --to staging --dry-run");
    fx.sg("oncall", &at(9), "unfreeze --env staging")
        .fails_with("staging is not frozen");
}

#[test]
fn a_freeze_cannot_be_overridden_where_the_environment_forbids_it() {
    let strict =
        format!("\n[promote.env.staging]\nallow-freeze-override = false\n{WEEKEND_FREEZE}");
    let fx = Fixture::new(Config {
        tail: &strict,
        ..CONFIG
    });
    fx.promoted("alice", &at(0), "1.5.0 --to dev --push");
    fx.sg(
        "oncall",
        &at(1),
        "freeze --env staging --reason 'incident 43' --push",
    )
    .ok();
    let please = "--override-freeze --reason please";
    check(
        &fx.promote(
            "alice",
            &at(2),
            &format!("1.5.0 --to staging --push {please}"),
        ),
        &[("freeze", "; staging sets allow-freeze-override = false")],
    );
    let friday = format!("1.5.0 --to staging --dry-run --at 2026-12-04T15:00:00Z {please}");
    check(
        &fx.promote("alice", &at(2), &friday),
        &[(
            "freeze",
            "freeze window every Fri 16:00 to Mon 08:00 (Europe/Berlin); emergency freeze by oncall",
        )],
    );
    assert_eq!(fx.origin_tag("staging"), None);
}

#[test]
fn approvals_are_distinct_and_never_the_promoter_s_own() {
    let fx = Fixture::new(Config {
        prod: "soak = \"2h\"\napprovals = 2",
        ..CONFIG
    });
    to_staging(fx.dir(), "1.5.0", &at(0));
    fx.sg(
        "qa-bot",
        &at(0),
        "verify 1.5.0 --env staging --result pass --push",
    )
    .ok();
    let later = at(300);
    let dry = |who: &str| {
        fx.promote(
            who,
            &at(10),
            &format!("1.5.0 --to prod --dry-run --at {later}"),
        )
    };
    let approve = |who: &str, env: &str| {
        fx.sg(who, &at(5), &format!("approve 1.5.0 --env {env} --push"))
            .ok();
    };
    check(
        &dry("alice"),
        &[("approvals", "0 of 2 distinct approvers: none")],
    );
    approve("dave", "staging"); // an approval for another environment
    approve("alice", "prod");
    let own = "(alice's own approval does not count)";
    check(
        &dry("alice"),
        &[(
            "approvals",
            &format!("0 of 2 distinct approvers: none {own}"),
        )],
    );
    approve("bob", "prod");
    approve("bob", "prod");
    check(
        &dry("alice"),
        &[(
            "approvals",
            &format!("1 of 2 distinct approvers: bob {own}"),
        )],
    );
    approve("carol", "prod");
    let passed = check(&dry("alice"), &[]);
    assert_eq!(
        detail(&passed, "approvals"),
        format!("2 of 2 distinct approvers: bob, carol {own}")
    );
    let by_bob = check(&dry("bob"), &[]);
    assert_eq!(
        detail(&by_bob, "approvals"),
        "2 of 2 distinct approvers: alice, carol (bob's own approval does not count)"
    );
    fx.promoted("alice", &later, "1.5.0 --to prod --push");
}

#[test]
fn a_fresh_hold_refuses_promotions_and_rollbacks() {
    let fx = Fixture::new(CONFIG);
    fx.promoted("alice", &at(0), "1.4.0 --to dev --push");
    fx.push_hold("dev", "1.5.0", "1.4.0", &at(1), &at(2));
    let holder = "a canary of 1.5.0 (against 1.4.0) by ci-runner since 2026-12-01T09:01:00Z, \
                  last renewed 2026-12-01T09:02:00Z";
    let held = format!("dev is held: {holder}");
    check(
        &fx.promote("alice", &at(3), "1.5.0 --to dev --push"),
        &[("lock", &held)],
    );
    fx.sg(
        "alice",
        &at(4),
        "rollback --env dev --to 1.4.0 --reason x --push",
    )
    .fails_with(&held);
    // Five minutes without renewal: still held.
    let dev = named(&status(fx.dir(), &at(7))["environments"], "dev");
    assert_eq!(
        (dev["lock"].as_str(), dev["holder"].as_str()),
        (Some("held"), Some(holder))
    );
    assert!(fx.origin_holds("dev"), "a live hold stays");
    assert_eq!(fx.origin_ledger(), ["promotion 1.4.0 to dev by alice"]);
    // Another environment is not held.
    fx.promoted("alice", &at(7), "1.4.0 --to staging --dry-run");
}

// ---------------------------------------------------------------------------------------
// 3. A freeze window across a change of daylight saving time
// ---------------------------------------------------------------------------------------

#[test]
fn a_weekly_freeze_follows_local_time_across_the_end_of_summer_time() {
    let fx = Fixture::new(Config {
        tail: WEEKEND_FREEZE,
        ..CONFIG
    });
    let now = "2026-10-20T09:00:00Z";
    fx.promoted("alice", now, "1.5.0 --to dev --push");
    // Summer time ends on Sunday 25 October 2026: Friday the 23rd is UTC+2 (16:00 is 14:00Z),
    // Friday the 30th UTC+1 (16:00 is 15:00Z); Monday the 26th 08:00 is 07:00Z.
    for (when, frozen) in [
        ("2026-10-23T13:59:00Z", false),
        ("2026-10-23T14:00:00Z", true),
        ("2026-10-23T14:59:00Z", true),
        ("2026-10-25T01:30:00Z", true),
        ("2026-10-26T06:59:00Z", true),
        ("2026-10-26T07:00:00Z", false),
        ("2026-10-30T14:00:00Z", false),
        ("2026-10-30T14:59:00Z", false),
        ("2026-10-30T15:00:00Z", true),
    ] {
        let run = fx.promote(
            "alice",
            now,
            &format!("1.5.0 --to staging --dry-run --at {when}"),
        );
        let window = [(
            "freeze",
            "freeze window every Fri 16:00 to Mon 08:00 (Europe/Berlin)",
        )];
        let failing: &[(&str, &str)] = if frozen { &window } else { &[] };
        let out = check(&run, failing);
        assert_eq!(out["at"], when);
    }
}

// ---------------------------------------------------------------------------------------
// 4. A stale hold
// ---------------------------------------------------------------------------------------

#[test]
fn a_stale_hold_is_shown_loudly_and_rolled_back_by_the_next_promotion() {
    let fx = Fixture::new(Config {
        tail: ACTUATOR,
        ..CONFIG
    });
    fx.promoted("alice", &at(0), "1.4.0 --to dev --push");
    fx.promoted("alice", &at(1), "1.5.0 --to dev --push");
    let runner = fx.clone("runner");
    // A canary of 1.5.0 in dev whose run died after its last renewal at 09:11.
    fx.push_hold("dev", "1.5.0", "1.4.0", &at(10), &at(11));
    let lock = |minutes: i64| {
        named(&status(fx.dir(), &at(minutes))["environments"], "dev")["lock"].clone()
    };
    assert_eq!(
        lock(16),
        "held",
        "five minutes without renewal is not stale yet"
    );
    assert_eq!(lock(17), "stale");
    let human = fx.sg("alice", &at(17), "status").ok().stdout;
    assert!(
        human.contains("dev: STALE HOLD: a canary of 1.5.0 (against 1.4.0) by ci-runner"),
        "{human}"
    );
    assert!(
        human.contains("the next canary run, promote or rollback for dev rolls it back"),
        "{human}"
    );

    // The actuator fails: nothing is recorded, the hold stays.
    std::fs::write(fx.tmp.join("actuator-down"), "").expect("write");
    fx.promote("alice", &at(18), "1.6.0 --to dev --push")
        .fails_with("dev was held by a canary that died")
        .fails_with("hint: fix the actuator (or move traffic back by hand), then re-run");
    assert!(fx.origin_holds("dev"));
    assert_eq!(fx.origin_ledger().len(), 2);
    std::fs::remove_file(fx.tmp.join("actuator-down")).expect("remove");

    // From a clone that has not looked at origin since the hold was taken.
    let out = check(
        &promote(&runner, "ci-runner", &at(19), "1.6.0 --to dev --push"),
        &[],
    );
    assert_eq!(
        out["from"], "1.4.0",
        "the stale canary was rolled back first"
    );
    assert_eq!(fx.actuator_log(), "rollback 1.5.0 1.4.0 dev\n");
    assert!(
        !fx.origin_holds("dev"),
        "the stale hold is released on origin"
    );
    assert_eq!(
        fx.origin_ledger()[2..],
        [
            "rollback of dev from 1.5.0 to 1.4.0 by ci-runner",
            "block of 1.5.0 by ci-runner",
            "promotion 1.6.0 to dev by ci-runner",
        ]
    );
    let rollback = history(fx.dir(), &at(20)).swap_remove(2);
    let reason = rollback["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("stale canary: a canary of 1.5.0 (against 1.4.0)"),
        "{rollback}"
    );
    assert_eq!(
        rollback["requested_at"],
        at(11),
        "restored from its last sign of life"
    );
    assert_eq!(lock(20), "free");
    assert_eq!(fx.origin_tag("dev").as_deref(), Some("1.6.0"));
}

#[test]
fn a_stale_hold_is_rolled_back_before_an_explicit_rollback() {
    let fx = Fixture::new(Config {
        tail: ACTUATOR,
        ..CONFIG
    });
    for (minutes, version) in [(0, "1.4.0"), (1, "1.5.0"), (2, "1.6.0")] {
        to_staging(fx.dir(), version, &at(minutes));
    }
    fx.push_hold("staging", "1.6.0", "1.5.0", &at(10), &at(11));
    let oncall = fx.clone("oncall");
    let rollback = "--json rollback --env staging --to 1.4.0 --reason 'bad migration' --push";
    let out = sg(&oncall, "oncall", &at(30), rollback).ok().json();
    assert_eq!(
        (out["from"].as_str(), out["to"].as_str()),
        (Some("1.5.0"), Some("1.4.0"))
    );
    assert_eq!(fx.actuator_log(), "rollback 1.6.0 1.5.0 staging\n");
    assert!(!fx.origin_holds("staging"));
    let ledger = fx.origin_ledger();
    assert_eq!(
        ledger[ledger.len() - 4..],
        [
            "rollback of staging from 1.6.0 to 1.5.0 by oncall",
            "block of 1.6.0 by oncall",
            "rollback of staging from 1.5.0 to 1.4.0 by oncall",
            "block of 1.5.0 by oncall",
        ]
    );
    assert_eq!(fx.origin_tag("staging").as_deref(), Some("1.4.0"));
}

// ---------------------------------------------------------------------------------------
// 5. Explicit rollback
// ---------------------------------------------------------------------------------------

#[test]
fn rollback_goes_to_the_last_version_that_passed_and_blocks_the_one_it_leaves() {
    let fx = Fixture::new(CONFIG);
    ship(fx.dir(), "1.4.0", 0);
    ship(fx.dir(), "1.5.0", 200);
    ready_for_prod(fx.dir(), "1.6.0", &at(400));
    fx.promoted("alice", &at(520), "1.6.0 --to prod --push");
    assert_eq!(fx.origin_tag("prod").as_deref(), Some("1.6.0"));

    // A reason is data: it stays in the ledger, out of main's history, where a line like
    // `BREAKING CHANGE:` would make the next release a major one.
    let rollback = "--json rollback --env prod --reason 'checkout errors' --push";
    let out = fx.sg("oncall", &at(530), rollback).ok().json();
    let body = fx.origin_git(&["log", "-1", "--format=%b", "main"]);
    assert!(!body.contains("checkout errors"), "{body}");
    assert_eq!(
        (
            out["from"].as_str(),
            out["to"].as_str(),
            out["blocked"].as_str(),
            out["pushed"].as_bool()
        ),
        (Some("1.6.0"), Some("1.5.0"), Some("1.6.0"), Some(true))
    );
    assert_eq!(fx.origin_tag("prod").as_deref(), Some("1.5.0"));
    assert_eq!(
        fx.origin_subject(),
        "chore(rollback): prod from 1.6.0 to 1.5.0"
    );
    let status_now = status(fx.dir(), &at(531));
    let prod = named(&status_now["environments"], "prod");
    assert_eq!(
        prod["last_rollback"],
        json!({"from": "1.6.0", "to": "1.5.0", "at": at(530), "by": "oncall", "reason": "checkout errors"})
    );
    assert_eq!(
        (prod["version"].as_str(), prod["desired"].as_str()),
        (Some("1.5.0"), Some("1.5.0"))
    );
    assert_eq!(status_now["blocked"], json!(["1.6.0"]));
    check(
        &fx.promote("alice", &at(531), "1.6.0 --to prod --dry-run"),
        &[("blocked", "1.6.0 is blocked since")],
    );

    // Explicitly further back.
    let rollback = "--json rollback --env prod --to 1.4.0 --reason '1.5.0 leaks memory' --push";
    let out = fx.sg("oncall", &at(540), rollback).ok().json();
    assert_eq!(
        (out["from"].as_str(), out["to"].as_str()),
        (Some("1.5.0"), Some("1.4.0"))
    );
    assert_eq!(fx.origin_tag("prod").as_deref(), Some("1.4.0"));
    assert_eq!(
        status(fx.dir(), &at(541))["blocked"],
        json!(["1.5.0", "1.6.0"])
    );
    // Nothing passed before 1.4.0, what runs is no target, nor what was never released.
    fx.sg("oncall", &at(542), "rollback --env prod --reason again")
        .fails_with("no version passed in prod before 1.4.0")
        .fails_with("hint: give the version: shipgate rollback --env prod --to VERSION --reason …");
    fx.sg(
        "oncall",
        &at(542),
        "rollback --env prod --to 1.4.0 --reason again",
    )
    .fails_with("1.4.0 already runs in prod");
    fx.sg(
        "oncall",
        &at(542),
        "rollback --env prod --to 1.3.0 --reason again",
    )
    .fails_with("1.3.0 was never released");
    assert_eq!(fx.repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn where_a_promotion_is_all_an_environment_asks_it_is_the_rollback_s_pass() {
    // dev has verification = "none".
    let fx = Fixture::new(Config {
        releases: &["1.5.0", "1.6.0", "1.6.1"],
        ..CONFIG
    });
    fx.promoted("alice", &at(0), "1.4.0 --to dev --push");
    fx.promoted("alice", &at(10), "1.5.0 --to dev --push");
    fx.sg(
        "qa-bot",
        &at(15),
        "verify 1.5.0 --env dev --result fail --push",
    )
    .ok();
    fx.promoted("alice", &at(20), "1.6.0 --to dev --push");
    // status claims no verification that did not happen.
    let dev = named(&status(fx.dir(), &at(21))["environments"], "dev");
    assert_eq!(
        (&dev["version"], &dev["verified"], &dev["verification"]),
        (&json!("1.6.0"), &json!(false), &Value::Null)
    );

    // The default rollback of dev at `minutes`: `from → to`.
    let roll_back = |minutes: i64| {
        let line = "--json rollback --env dev --reason 'broken images' --push";
        let out = fx.sg("oncall", &at(minutes), line).ok().json();
        let version = |key: &str| out[key].as_str().unwrap_or("-").to_string();
        format!("{} → {}", version("from"), version("to"))
    };
    // 1.5.0 failed its verification there: back to 1.4.0, promoted there before it.
    assert_eq!(roll_back(30), "1.6.0 → 1.4.0");
    assert_eq!(fx.origin_tag("dev").as_deref(), Some("1.4.0"));
    // 1.6.0 was rolled back from: after its unblock and a new promotion it is a target
    // again; 1.6.1, rolled back from, never is.
    fx.sg(
        "alice",
        &at(40),
        "unblock 1.6.0 --reason 'images fixed' --push",
    )
    .ok();
    fx.promoted("alice", &at(41), "1.6.0 --to dev --push");
    fx.promoted("alice", &at(50), "1.6.1 --to dev --push");
    assert_eq!(roll_back(60), "1.6.1 → 1.6.0");
    assert_eq!(roll_back(70), "1.6.0 → 1.4.0");
    fx.sg(
        "oncall",
        &at(80),
        "rollback --env dev --reason again --push",
    )
    .fails_with("no version passed in dev before 1.4.0");
    // staging verifies: a promotion alone is no pass there.
    fx.promoted("alice", &at(90), "1.4.0 --to staging --push");
    fx.promoted("alice", &at(100), "1.5.0 --to staging --push");
    fx.sg(
        "oncall",
        &at(110),
        "rollback --env staging --reason x --push",
    )
    .fails_with("no version passed in staging before 1.5.0");
}

// ---------------------------------------------------------------------------------------
// 6. Two promoters racing
// ---------------------------------------------------------------------------------------

#[test]
fn two_promoters_racing_lose_nothing_and_promote_once() {
    const ROUNDS: usize = 20;
    let releases: Vec<String> = (5..5 + ROUNDS).map(|m| format!("1.{m}.0")).collect();
    let names: Vec<&str> = releases.iter().map(String::as_str).collect();
    let fx = Fixture::new(Config {
        releases: &names,
        ..CONFIG
    });
    let clones = [(fx.clone("ann"), "ann"), (fx.clone("ben"), "ben")];
    // Both clones run `line`, started together, each as its own promoter.
    let race = |now: &str, line: &str| -> Vec<Run> {
        let children: Vec<_> = clones
            .iter()
            .map(|(dir, who)| {
                let mut cmd = command(dir, who, now, line);
                cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
                cmd.spawn().expect("shipgate starts")
            })
            .collect();
        children
            .into_iter()
            .map(|c| Run::from(c.wait_with_output().expect("shipgate ends")))
            .collect()
    };
    let attempts = |r: &Run| r.json()["attempts"].as_u64().unwrap_or(1);
    let (started, mut retried) = (std::time::Instant::now(), 0);
    for (round, version) in releases.iter().enumerate() {
        let now = at(round as i64);
        let runs = race(&now, &format!("--json promote {version} --to dev --push"));
        let winners = runs.iter().filter(|r| r.code == 0).count();
        assert_eq!(winners, 1, "round {round}: exactly one promotes: {runs:#?}");
        // The other's gates were evaluated again on the ledger with the winner's promotion.
        let loser = runs.iter().find(|r| r.code != 0).expect("a loser");
        check(
            loser,
            &[("version-order", &format!("{version} already runs in dev"))],
        );
        retried += runs.iter().map(|r| attempts(r) - 1).sum::<u64>();
        for r in race(&now, &format!("--json approve {version} --env prod --push")) {
            retried += attempts(&r.ok()) - 1;
        }
    }
    eprintln!(
        "{ROUNDS} rounds in {:.1?}; {retried} lost races retried",
        started.elapsed()
    );
    assert!(retried > 0, "the runs never overlapped: nothing was raced");

    let third = fx.clone("third");
    let entries: Vec<String> = history(&third, &at(ROUNDS as i64))
        .iter()
        .map(brief)
        .collect();
    let (mut got, mut expected) = (entries.clone(), Vec::new());
    for (round, version) in releases.iter().enumerate() {
        let i = round * 3;
        let promoter = entries
            .get(i)
            .and_then(|e| e.rsplit(' ').next())
            .unwrap_or("?");
        assert!(["ann", "ben"].contains(&promoter), "{entries:#?}");
        expected.push(format!("promotion dev {version} {promoter}"));
        expected.push(format!("approval prod {version} ann"));
        expected.push(format!("approval prod {version} ben"));
        // The two approvals raced: either may be first.
        if let Some(pair) = got.get_mut(i + 1..i + 3) {
            pair.sort();
        }
    }
    assert_eq!(got, expected, "every entry once, in order, none lost");
    assert_eq!(fx.origin_ledger().len(), ROUNDS * 3);
    assert_eq!(
        fx.origin_tag("dev").as_deref(),
        releases.last().map(String::as_str)
    );
}

// ---------------------------------------------------------------------------------------
// 7. Without --push
// ---------------------------------------------------------------------------------------

#[test]
fn entries_written_without_push_wait_for_the_next_push() {
    let fx = Fixture::new(CONFIG);
    fx.promoted("alice", &at(0), "1.5.0 --to dev");
    fx.sg("bob", &at(1), "approve 1.5.0 --env prod").ok();
    assert!(fx.origin_ledger().is_empty());
    assert_eq!(fx.origin_tag("dev"), None, "origin's main is untouched");
    assert_eq!(
        image_tag(&fx.repo.read("environments/dev.toml")).as_deref(),
        Some("1.5.0")
    );
    assert_eq!(status(fx.dir(), &at(2))["pending"], 2);
    let human = fx.sg("alice", &at(2), "status").ok().stdout;
    let pending = "pending: 2 ledger entries not pushed (any write with --push pushes them)";
    assert!(human.contains(pending), "{human}");
    let pushed: Vec<Value> = history(fx.dir(), &at(2))
        .iter()
        .map(|e| e["pushed"].clone())
        .collect();
    assert_eq!(pushed, [false, false]);

    // The next write with --push takes them along, and the promotion's commit on main too.
    fx.sg("carol", &at(3), "approve 1.5.0 --env prod --push")
        .ok();
    assert_eq!(
        fx.origin_ledger(),
        [
            "promotion 1.5.0 to dev by alice",
            "approval of 1.5.0 for prod by bob",
            "approval of 1.5.0 for prod by carol",
        ]
    );
    let main_says = fx.origin_tag("dev");
    assert_eq!(
        main_says.as_deref(),
        Some("1.5.0"),
        "origin's ledger never says what its main does not"
    );
    assert_eq!(status(fx.dir(), &at(4))["pending"], 0);
    assert!(
        history(fx.dir(), &at(4))
            .iter()
            .all(|e| e["pushed"] == true)
    );

    // A promotion without --push, then one with it: both land on origin's main.
    fx.promoted("alice", &at(5), "1.6.0 --to dev");
    fx.promoted("alice", &at(6), "1.6.0 --to staging --push");
    assert_eq!(
        (
            fx.origin_tag("dev").as_deref(),
            fx.origin_tag("staging").as_deref()
        ),
        (Some("1.6.0"), Some("1.6.0"))
    );
    assert_eq!(fx.origin_ledger().len(), 5);
    assert_eq!(fx.repo.git(&["status", "--porcelain"]), "");
    assert_eq!(
        fx.repo.git(&["rev-parse", "main"]),
        fx.origin_git(&["rev-parse", "main"])
    );

    // A rollback without --push, and origin's main moves on meanwhile (a merged pull
    // request): its commit cannot go along, so nothing goes.
    fx.sg("alice", &at(7), "rollback --env dev --to 1.5.0 --reason x")
        .ok();
    let other = fx.clone("other");
    std::fs::write(other.join("README.md"), "the storefront\n").expect("write");
    git(&other, &["add", "README.md"]);
    git(&other, &["commit", "-q", "-m", "docs: a README"]);
    git(&other, &["push", "-q", "origin", "main"]);
    let main = fx.origin_git(&["rev-parse", "main"]);
    fx.sg("carol", &at(8), "approve 1.6.0 --env prod --push")
        .fails_with(
            "1 ledger entry written here without --push (rollback of dev from 1.6.0 to 1.5.0 by \
         alice) changes main, and origin's ledger or main moved since",
        );
    assert_eq!(fx.origin_ledger().len(), 5);
    assert_eq!(fx.origin_git(&["rev-parse", "main"]), main);
}

// ---------------------------------------------------------------------------------------
// 8. Bad input
// ---------------------------------------------------------------------------------------

#[test]
fn unknown_environments_and_unreleased_versions_say_what_is_near() {
    let fx = Fixture::new(CONFIG);
    fx.promote("alice", &at(0), "1.5.0 --to prdo")
        .fails_with("`prdo` is not an environment of this repository (dev, staging, prod)")
        .fails_with("hint: did you mean `prod`?");
    fx.sg("alice", &at(0), "approve 1.5.0 --env stagin")
        .fails_with("hint: did you mean `staging`?");
    fx.sg("alice", &at(0), "status --env qa")
        .fails_with("hint: use a name from [environments] order");
    fx.promote("alice", &at(0), "1.7.0 --to dev")
        .fails_with("1.7.0 was never released (no tag v1.7.0)")
        .fails_with("hint: released versions nearest to it: 1.6.0, 1.5.0, 1.4.0");
    fx.sg("alice", &at(0), "verify 2.0.0 --env dev --result pass")
        .fails_with("hint: released versions nearest to it: 1.6.0, 1.5.0, 1.4.0");
    fx.sg("alice", &at(0), "approve 1.5.1 --env prod")
        .fails_with("hint: released versions nearest to it: 1.5.0, 1.6.0, 1.4.0");
    fx.promote("alice", &at(0), "'1.5.0; rm -rf ~' --to dev")
        .fails_with("hint: pass the version as released, e.g. 1.4.0");
    assert!(ledger_of(fx.dir()).is_empty(), "nothing written");
}

/// A loopback listener standing in for Prometheus: it accepts nothing by itself, so a
/// connection that any command opened waits in its backlog until [`Silent::contacted`].
struct Silent(std::net::TcpListener);

impl Silent {
    fn start() -> Silent {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.set_nonblocking(true).expect("nonblocking");
        Silent(l)
    }

    fn port(&self) -> u16 {
        self.0.local_addr().expect("addr").port()
    }

    /// Whether anyone connected (the commands have exited, so a connection is queued).
    fn contacted(&self) -> bool {
        self.0.accept().is_ok()
    }
}

#[test]
fn hostile_names_are_refused_before_any_query_is_built() {
    let prometheus = Silent::start();
    let tail = format!(
        "\n[canary.prometheus]\nurl = \"http://127.0.0.1:{}\"\nretries = 0\n",
        prometheus.port()
    );
    let dev = "verification = \"none\"\nalarms = { prometheus = 'ALERTS{alertstate=\"firing\",env=\"{{env}}\",version=\"{{version}}\"}' }";
    let fx = Fixture::new(Config {
        dev,
        tail: &tail,
        ..CONFIG
    });
    let hostile_version = "1.0.0\"} or vector(1) #";
    let hostile_env = "dev\"} or vector(1) #";
    let now = at(0);
    let env = [("GITHUB_ACTOR", "alice"), ("SHIPGATE_NOW", now.as_str())];
    let run = |args: &[&str]| {
        Run::from(
            shipgate_command(fx.dir(), args, &env)
                .output()
                .expect("runs"),
        )
    };
    for args in [
        vec!["promote", hostile_version, "--to", "dev", "--dry-run"],
        vec!["promote", hostile_version, "--to", "dev"],
        vec!["promote", "1.5.0", "--to", hostile_env, "--dry-run"],
        vec!["promote", "1.5.0", "--to", "dev\nprod"],
        vec!["promote", "1.5.0", "--to", "{{env}}"],
        vec!["rollback", "--env", hostile_env, "--reason", "r"],
        vec![
            "rollback",
            "--env",
            "dev",
            "--to",
            hostile_version,
            "--reason",
            "r",
        ],
        vec!["approve", hostile_version, "--env", "dev"],
        vec!["approve", "1.5.0", "--env", hostile_env],
        vec![
            "verify",
            hostile_version,
            "--env",
            "dev",
            "--result",
            "pass",
        ],
        vec!["verify", "1.5.0", "--env", hostile_env, "--result", "pass"],
        vec!["freeze", "--env", hostile_env, "--reason", "r"],
        vec!["unfreeze", "--env", hostile_env],
        vec!["unblock", hostile_version, "--reason", "r"],
        vec!["status", "--env", hostile_env],
        vec!["rollback", "--env", "dev", "--reason", ""],
        vec!["freeze", "--env", "dev", "--reason", " \n "],
        vec!["unblock", "1.5.0", "--reason", "\t"],
        vec![
            "promote",
            "1.5.0",
            "--to",
            "dev",
            "--override-freeze",
            "--reason",
            "",
        ],
        vec!["history", "--env", hostile_env],
        vec!["metrics", "--env", hostile_env],
        vec!["canary", "run", "--env", hostile_env],
        vec![
            "canary",
            "run",
            "--env",
            "dev",
            "--canary-version",
            hostile_version,
        ],
        vec![
            "canary",
            "run",
            "--env",
            "dev",
            "--baseline-version",
            hostile_version,
        ],
    ] {
        let out = run(&args);
        assert_eq!(out.code, 2, "{args:?}: {out:#?}");
        assert!(out.stderr.contains("is not a valid"), "{args:?}: {out:#?}");
        assert!(!prometheus.contacted(), "{args:?} sent a query: {out:#?}");
    }
    assert!(ledger_of(fx.dir()).is_empty(), "nothing written");
    // The same gate with a valid name does ask Prometheus: the listener is where it asks.
    // Its connection is closed unanswered, so the gate reads nothing and refuses.
    let mut child = shipgate_command(
        fx.dir(),
        &["promote", "1.5.0", "--to", "dev", "--dry-run"],
        &env,
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("runs");
    let asked = loop {
        if prometheus.contacted() {
            break true;
        }
        if child.try_wait().expect("wait").is_some() {
            break prometheus.contacted();
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let status = child.wait().expect("wait");
    assert!(asked, "the alarms gate never asked: {status}");
    assert_eq!(status.code(), Some(1), "an unreadable alarm refuses");
}

#[test]
fn a_ledger_entry_of_the_wrong_shape_on_origin_stops_every_command_that_fetches() {
    let fx = Fixture::new(CONFIG);
    fx.promoted("alice", &at(0), "1.5.0 --to dev --push");
    // Someone pushes a hand-made commit on top of the ledger.
    let tip = fx.repo.git(&["rev-parse", "refs/shipgate/ledger"]);
    let message = "approval of 1.5.0 for prod by mallory\n\nshipgate-ledger-entry: 1\n\
                   {\"kind\":\"approval\",\"environment\":\"prod\",\"version\":\"1.5.0\",\
                   \"by\":\"mallory\",\"at\":\"yesterday\"}\n";
    let tree = format!("{tip}^{{tree}}");
    let bad = fx
        .repo
        .git(&["commit-tree", &tree, "-p", &tip, "-m", message]);
    fx.repo.git(&[
        "push",
        "-q",
        "origin",
        &format!("{bad}:refs/shipgate/ledger"),
    ]);
    let located = format!("ledger entry {bad}: line 4, column ");
    let fresh = fx.clone("fresh");
    for line in [
        "status",
        "history",
        "metrics",
        "promote 1.6.0 --to dev --push",
        "promote 1.6.0 --to dev --dry-run",
        "rollback --env dev --to 1.4.0 --reason x --push",
        "approve 1.5.0 --env prod --push",
        "verify 1.5.0 --env dev --result pass",
        "freeze --env prod --reason x",
        "unfreeze --env prod",
        "unblock 1.5.0 --reason x",
    ] {
        for dir in [fx.dir(), fresh.as_path()] {
            sg(dir, "alice", &at(1), line)
                .fails_with(&located)
                .fails_with("hint: the ledger is written only by shipgate");
        }
    }
    assert_eq!(
        fx.origin_git(&["rev-parse", "refs/shipgate/ledger"]),
        bad,
        "nothing built on it"
    );
    assert_eq!(
        fx.repo.git(&["rev-parse", "refs/shipgate/ledger"]),
        tip,
        "nor taken in here"
    );
    assert_eq!(fx.origin_tag("dev").as_deref(), Some("1.5.0"));
}

#[test]
fn bad_freeze_windows_are_reported_at_their_line_and_column() {
    let fx = Fixture::new(CONFIG);
    let good = r#"{ from = "Fri 16:00", to = "Mon 08:00", time-zone = "Europe/Berlin" }"#;
    for (bad, message) in [
        (
            r#"{ from = "Fri 16:00", to = "Mon 08:00", time-zone = "Europe/Berln" }"#,
            "unknown time zone `Europe/Berln` (did you mean `Europe/Berlin`?)",
        ),
        (
            r#"{ from = "Fryday 16:00", to = "Mon 08:00", time-zone = "Europe/Berlin" }"#,
            "`Fryday 16:00` is not a weekday and a time like \"Fri 16:00\" (did you mean `Friday`?)",
        ),
        (
            r#"{ start = "2027-01-04T08:00:00+01:00", end = "2026-12-20T00:00:00+01:00" }"#,
            "the window ends (2026-12-20T00:00:00+01:00) before or when it starts \
             (2027-01-04T08:00:00+01:00)",
        ),
    ] {
        let prod = format!("soak = \"2h\"\napprovals = 1\nfreeze = [\n  {good},\n  {bad},\n]");
        let text = Config {
            prod: &prod,
            ..CONFIG
        }
        .text(&fx.tmp);
        fx.repo.write("shipgate.toml", &text);
        let line = text
            .lines()
            .position(|l| l.contains(bad))
            .expect("the line")
            + 1;
        let located = format!("shipgate.toml:{line}:3: {message}");
        fx.promote("alice", &at(0), "1.5.0 --to prod --dry-run")
            .fails_with(&located);
        fx.sg("alice", &at(0), "status").fails_with(&located);
    }
    assert!(ledger_of(fx.dir()).is_empty());
}

#[test]
fn a_clock_behind_the_ledger_is_refused() {
    let fx = Fixture::new(CONFIG);
    fx.promoted("alice", &at(10), "1.5.0 --to dev --push");
    // Five minutes behind the newest entry is within max-clock-skew; a second more is not.
    fx.sg("bob", &at(5), "approve 1.5.0 --env prod --push").ok();
    let behind = "2026-12-01T09:04:59Z";
    fx.sg("bob", behind, "approve 1.5.0 --env prod --push")
        .fails_with(
            "this clock (2026-12-01T09:04:59Z) is more than 5m behind the ledger's newest \
             entry (2026-12-01T09:10:00Z)",
        )
        .fails_with("hint: set the clock right (or SHIPGATE_NOW when rehearsing)");
    fx.promote("alice", behind, "1.6.0 --to dev --push")
        .fails_with("is more than 5m behind");
    assert_eq!(fx.origin_ledger().len(), 2);
}

#[test]
fn a_rehearsal_ahead_of_the_clock_never_stops_a_freeze_a_rollback_or_a_dry_run() {
    // The real clock this time, to the second; the rehearsal is six hours ahead of it.
    let clock = jiff::Timestamp::now().as_second();
    let time = |seconds: i64| {
        jiff::Timestamp::from_second(seconds)
            .expect("time")
            .to_string()
    };
    let (real, ahead) = (time(clock), time(clock + 6 * 3600));
    let fx = Fixture::new(CONFIG);
    fx.promoted("alice", &time(clock - 1800), "1.4.0 --to dev --push");
    fx.promoted("alice", &time(clock - 1200), "1.5.0 --to dev --push");
    let bob = fx.clone("bob");
    sg(&bob, "bob", &real, "status").ok();

    // Written with --push, the rehearsal says what it leaves behind.
    let rehearsal = fx.sg("alice", &ahead, "promote 1.6.0 --to dev --push").ok();
    let until = time(clock + 6 * 3600 - 300);
    assert!(
        rehearsal.stderr.contains(&format!(
            "warning: SHIPGATE_NOW ({ahead}) is more than max-clock-skew (5m) ahead of this clock"
        )) && rehearsal.stderr.contains(&format!(
            "this entry was pushed: until {until}, writes at the real time are refused on clock \
             skew (freeze, rollback and --dry-run excepted)"
        )),
        "{rehearsal:#?}"
    );
    // Ordinary writes at the real time are refused until then...
    fx.sg("bob", &real, "approve 1.6.0 --env prod --push")
        .fails_with("is more than 5m behind the ledger's newest entry");
    fx.promote("alice", &real, "1.6.0 --to staging --push")
        .fails_with("is more than 5m behind");
    // ...but a dry run, at this time or another, is answered, with a warning.
    let behind = format!(
        "warning: this clock ({real}) is more than 5m behind the ledger's newest entry ({ahead})"
    );
    for line in [
        "1.6.0 --to staging --dry-run",
        "1.6.0 --to staging --dry-run --at 2026-12-24T10:00:00Z",
    ] {
        let run = fx.promote("alice", &real, line);
        check(&run, &[]);
        assert!(
            run.stderr.contains(&behind)
                && run.stderr.contains(&format!(
                    "a dry run writes nothing and goes on; a promotion with this clock is \
                     refused until {until}"
                )),
            "{run:#?}"
        );
    }
    // An emergency freeze and a rollback are recorded at the real time, with a warning.
    let freeze = fx
        .sg(
            "oncall",
            &real,
            "freeze --env prod --reason 'incident 7' --push",
        )
        .ok();
    assert!(
        freeze.stderr.contains(&behind)
            && freeze.stderr.contains(&format!(
                "a freeze is never refused for that and is recorded at this clock's time; other \
                 writes with this clock are refused until {until}"
            )),
        "{freeze:#?}"
    );
    let rollback = "--json rollback --env dev --reason 'the rehearsal left it' --push";
    let rolled = fx.sg("oncall", &real, rollback).ok();
    assert!(rolled.stderr.contains(&behind), "{rolled:#?}");
    assert_eq!(
        (rolled.json()["from"].as_str(), rolled.json()["to"].as_str()),
        (Some("1.6.0"), Some("1.5.0"))
    );
    assert_eq!(fx.origin_tag("dev").as_deref(), Some("1.5.0"));

    // The ledger adds up: entries in the order written, each at its own time; what runs is
    // what the last move says; another clone checks every new entry's indexes as it fetches.
    let kinds: Vec<String> = history(&bob, &real)
        .iter()
        .map(|e| format!("{} {}", brief(e), e["at"].as_str().unwrap_or("-")))
        .collect();
    assert_eq!(
        kinds[2..],
        [
            format!("promotion dev 1.6.0 alice {ahead}"),
            format!("freeze prod - oncall {real}"),
            format!("rollback dev 1.5.0 oncall {real}"),
            format!("block dev 1.6.0 oncall {real}"),
        ]
    );
    let now = status(&bob, &real);
    let dev = named(&now["environments"], "dev");
    assert_eq!(
        (&dev["version"], &dev["since"], &dev["desired"]),
        (&json!("1.5.0"), &json!(real), &json!("1.5.0"))
    );
    let prod = named(&now["environments"], "prod");
    assert_eq!(
        prod["frozen"],
        json!([format!(
            "emergency freeze by oncall since {real}: incident 7"
        )])
    );
    assert_eq!(now["blocked"], json!(["1.6.0"]));
    // Metrics count each record at its own time: the rehearsal's promotion once its time
    // has come, failed; the restore from the moment it was asked for.
    let metrics = |at: &str| {
        let out = sg(&bob, "bob", at, "--json metrics --env dev").ok().json();
        let dev = &out["environments"][0];
        (
            dev["deployments"].as_u64(),
            dev["failed_deployments"].as_u64(),
            dev["restores"].as_u64(),
            dev["time_to_restore_median_s"].as_f64(),
        )
    };
    assert_eq!(metrics(&real), (Some(2), Some(0), Some(1), Some(0.0)));
    let later = time(clock + 7 * 3600);
    assert_eq!(metrics(&later), (Some(3), Some(1), Some(1), Some(0.0)));
}

#[test]
fn a_push_refused_by_the_remote_changes_nothing_anywhere() {
    use std::os::unix::fs::PermissionsExt as _;
    let fx = Fixture::new(CONFIG);
    fx.sg("bob", &at(0), "approve 1.5.0 --env prod --push").ok();
    let hook = fx.origin.join("hooks/pre-receive");
    let script = "#!/bin/sh\nwhile read old new ref; do\n  if [ \"$ref\" = refs/heads/main ]; then\n    \
                  echo 'main is protected: open a pull request' >&2\n    exit 1\n  fi\ndone\n";
    std::fs::write(&hook, script).expect("write the hook");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let refs = |d: &Path| git(d, &["for-each-ref", "--format=%(refname) %(objectname)"]);
    let (origin_before, local_before) = (refs(&fx.origin), refs(fx.dir()));
    fx.promote("alice", &at(1), "1.5.0 --to dev --push")
        .fails_with("refs/heads/main [remote rejected] (pre-receive hook declined)")
        .fails_with("main is protected: open a pull request");
    assert_eq!(refs(&fx.origin), origin_before, "origin unchanged");
    assert_eq!(
        refs(fx.dir()),
        local_before,
        "the local ledger and main unchanged"
    );
    assert_eq!(
        fx.repo.git(&["status", "--porcelain"]),
        "",
        "the work tree unchanged"
    );
    // Entries that touch no branch still go through.
    fx.sg("carol", &at(2), "approve 1.5.0 --env prod --push")
        .ok();
    assert_eq!(fx.origin_ledger().len(), 2);
}

// ---------------------------------------------------------------------------------------
// 9. status and history for people
// ---------------------------------------------------------------------------------------

/// `text` with every 10-hex-digit commit id replaced by `<id>`.
fn redact_ids(text: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.len() == 10 && word.chars().all(|c| c.is_ascii_hexdigit()) {
            out.push_str("<id>");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[test]
fn status_and_history_read_well() {
    let fx = Fixture::new(CONFIG);
    ship(fx.dir(), "1.5.0", 0);
    ready_for_prod(fx.dir(), "1.6.0", &at(200));
    fx.promoted("alice", &at(320), "1.6.0 --to prod --push");
    fx.sg(
        "oncall",
        &at(330),
        "rollback --env prod --reason 'checkout errors' --push",
    )
    .ok();
    fx.sg(
        "oncall",
        &at(331),
        "freeze --env prod --reason 'incident 42' --push",
    )
    .ok();
    fx.push_hold("staging", "1.6.0", "1.5.0", &at(300), &at(301));
    fx.sg("dave", &at(332), "approve 1.6.0 --env prod").ok();
    let now = at(333);
    insta::assert_snapshot!("status", fx.sg("alice", &now, "status").ok().stdout);
    let history = fx.sg("alice", &now, "history --limit 0").ok().stdout;
    insta::assert_snapshot!("history", redact_ids(&history));
    let prod = fx
        .sg("alice", &now, "history --env prod --limit 3")
        .ok()
        .stdout;
    insta::assert_snapshot!("history_prod", redact_ids(&prod));
}

// ---------------------------------------------------------------------------------------
// 10. Delivery metrics
// ---------------------------------------------------------------------------------------

#[test]
fn delivery_metrics_on_a_constructed_ledger_have_known_answers() {
    const H: i64 = 3600;
    // From midnight, 1 December 2026.
    const D: i64 = MIDNIGHT;
    let when = after_midnight;
    let fx = Fixture::scaffold(
        Config {
            tail: ACTUATOR,
            ..CONFIG
        },
        D - 200 * H,
    );
    // Each commit's author date, in hours from midnight, and the release it ends.
    fx.commit_dated(
        D,
        &[
            ("feat: checkout", -50, Some("1.4.0")),
            ("feat: search", -30, None),
            ("fix: search ranking", -20, Some("1.5.0")),
            ("feat: wishlist", -12, None),
            ("fix: wishlist icon", -8, None),
            ("perf: a faster cart", -7, Some("1.6.0")),
            ("fix: the cart total", 4, Some("1.6.1")),
            ("feat: gift cards", 5, Some("1.7.0")),
        ],
    );
    fx.share();
    let go = |minutes: i64, version: &str| {
        fx.promoted(
            "alice",
            &when(minutes),
            &format!("{version} --to dev --push"),
        )
    };
    // 00:00 1.5.0, the first into dev: the commits since v1.4.0 (search 30h, ranking 20h).
    go(0, "1.5.0");
    // 02:00 1.6.0: the commits since 1.5.0 (wishlist 14h, icon 10h, cart 9h). Its
    // verification fails at 02:50 and it is rolled back at 03:00: restored in 600s, counted
    // from the failure.
    go(120, "1.6.0");
    fx.sg(
        "qa-bot",
        &when(170),
        "verify 1.6.0 --env dev --result fail --push",
    )
    .ok();
    fx.sg(
        "oncall",
        &when(180),
        "rollback --env dev --to 1.5.0 --reason 'cart broken' --push",
    )
    .ok();
    // 06:00 1.6.1: the commits since 1.6.0, the highest ever in dev (cart total, 2h). Its
    // canary dies after 06:05; the next promotion rolls it back at 06:20: restored in 900s.
    go(360, "1.6.1");
    fx.push_hold("dev", "1.6.1", "1.5.0", &when(360), &when(365));
    // 06:20 1.7.0: gift cards, 1h20m.
    go(380, "1.7.0");
    assert_eq!(fx.actuator_log(), "rollback 1.6.1 1.5.0 dev\n");

    let metrics = |extra: &str| {
        fx.sg("alice", &when(48 * 60), &format!("--json metrics {extra}"))
            .ok()
            .json()
    };
    // Two days from the first entry.
    let all = metrics("");
    assert_eq!(
        (&all["since"], &all["until"]),
        (&json!(when(0)), &json!(when(48 * 60)))
    );
    // Lead times, sorted: 4800 7200 32400 36000 50400 72000 108000; the median is the
    // fourth, the 90th percentile by nearest rank the seventh (ceil(0.9 × 7)).
    assert_eq!(
        named(&all["environments"], "dev"),
        json!({
            "name": "dev",
            "deployments": 4,
            "deployments_per_day": 2.0,
            "changes": 7,
            "lead_time_median_s": 36000.0,
            "lead_time_p90_s": 108000.0,
            "failed_deployments": 2,
            "change_failure_rate": 0.5,
            "restores": 2,
            "time_to_restore_median_s": 750.0,
            // 1.6.1 came 3h after the rollback of 03:00, 1.7.0 right after the one of 06:20.
            "successful_deployments": 2,
            "deployment_success_rate": 0.5,
            "rework_deployments": 2,
            "rework_rate": 0.5,
            // No canary ran: 1.6.1's hold was taken by hand and went stale.
            "canaries": 0,
            "canaries_passed": 0,
            "canaries_failed": 0,
            "canary_pass_rate": null,
            "canary_decision_median_s": null,
            "canary_decision_p90_s": null,
        })
    );
    assert_eq!(all["rework_window_s"], 7 * 24 * H);
    assert_eq!(
        all["canaries_since"],
        json!(when(0)),
        "a ledger begun with index format 2"
    );
    for env in ["staging", "prod"] {
        let other = named(&all["environments"], env);
        assert_eq!(
            (
                other["deployments"].as_u64(),
                other["change_failure_rate"].is_null()
            ),
            (Some(0), true)
        );
    }
    // The last 45 hours, from 03:00: the promotions of 06:00 and 06:20, both restores.
    let window = metrics("--env dev --since 45h");
    assert_eq!(window["since"], when(180));
    assert_eq!(window["environments"].as_array().map(Vec::len), Some(1));
    let dev = &window["environments"][0];
    assert_eq!(dev["deployments"], 2);
    let per_day = dev["deployments_per_day"].as_f64().unwrap_or_default();
    assert!((per_day - 2.0 / (45.0 / 24.0)).abs() < 1e-9, "{dev}");
    assert_eq!(
        (
            dev["lead_time_median_s"].as_f64(),
            dev["lead_time_p90_s"].as_f64()
        ),
        (Some(6000.0), Some(7200.0))
    );
    assert_eq!(
        (
            dev["change_failure_rate"].as_f64(),
            dev["time_to_restore_median_s"].as_f64()
        ),
        (Some(0.5), Some(750.0))
    );
}

/// `promtool check metrics` on `text`: its exit code and what it said. A missing promtool
/// fails the test: the exposition must be checked by Prometheus's own parser and linter.
fn promtool_check(text: &str) -> (i32, String) {
    use std::io::Write as _;
    let promtool = std::env::var_os("PROMTOOL").unwrap_or_else(|| "/usr/bin/promtool".into());
    let mut child = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "promtool ({}) is needed to check the exposition and could not run: {e}; \
                 install it (Debian: apt-get install prometheus) or set PROMTOOL",
                promtool.to_string_lossy()
            )
        });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), said)
}

#[test]
fn metrics_exposition_counts_rework_and_success_after_a_rollback_and_passes_promtool() {
    const D: i64 = MIDNIGHT;
    let when = after_midnight;
    let fx = Fixture::scaffold(CONFIG, D - 200 * 3600);
    fx.commit_dated(
        D,
        &[
            ("feat: checkout", -50, Some("1.0.0")),
            ("feat: search", -30, Some("1.1.0")),
            ("fix: search ranking", -20, Some("1.2.0")),
            ("fix: search paging", -10, Some("1.2.1")),
            ("feat: wishlist", -5, Some("1.3.0")),
        ],
    );
    fx.share();
    let go = |minutes: i64, version: &str| {
        fx.promoted(
            "alice",
            &when(minutes),
            &format!("{version} --to dev --push"),
        )
    };
    // 00:00 1.0.0; 01:00 1.1.0, rolled back at 02:00; 03:00 1.2.0, the re-promotion (rework:
    // 1h after the rollback), whose verification fails at 03:20; 03:30 1.2.1, a fix-forward
    // (rework: 30 min after the failed 1.2.0); eight days later 1.3.0, planned.
    go(0, "1.0.0");
    go(60, "1.1.0");
    fx.sg(
        "oncall",
        &when(120),
        "rollback --env dev --to 1.0.0 --reason 'search broken' --push",
    )
    .ok();
    go(180, "1.2.0");
    fx.sg(
        "qa-bot",
        &when(200),
        "verify 1.2.0 --env dev --result fail --push",
    )
    .ok();
    go(210, "1.2.1");
    go(8 * 24 * 60, "1.3.0");

    let now = when(8 * 24 * 60 + 60);
    let exposition = |extra: &str| {
        fx.sg("alice", &now, &format!("metrics --env dev {extra}"))
            .ok()
            .stdout
    };
    let sample = |text: &str, name: &str| -> Option<f64> {
        let prefix = format!("{name}{{environment=\"dev\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map(|v| v.parse().expect("a number"))
    };
    let open = exposition("--format openmetrics");
    // Five promotions, two failed (1.1.0 rolled back, 1.2.0's verification), two rework.
    assert_eq!(sample(&open, "shipgate_deployments_total"), Some(5.0));
    assert_eq!(
        sample(&open, "shipgate_failed_deployments_total"),
        Some(2.0)
    );
    assert_eq!(
        sample(&open, "shipgate_rework_deployments_total"),
        Some(2.0)
    );
    assert_eq!(sample(&open, "shipgate_restores_total"), Some(1.0));
    assert_eq!(
        sample(&open, "shipgate_deployment_success_ratio"),
        Some(0.6)
    );
    assert_eq!(sample(&open, "shipgate_deployment_rework_ratio"), Some(0.4));
    assert_eq!(sample(&open, "shipgate_change_failure_ratio"), Some(0.4));
    assert!(
        open.contains("# TYPE shipgate_deployments counter\n"),
        "{open}"
    );
    assert!(
        open.contains("# UNIT shipgate_lead_time_median_seconds seconds\n"),
        "{open}"
    );
    assert!(
        open.contains("\nshipgate_rework_window_seconds 604800\n"),
        "{open}"
    );
    // OpenMetrics ends with `# EOF`, once.
    assert!(open.ends_with("\n# EOF\n"), "{open}");
    assert_eq!(open.matches("# EOF").count(), 1);
    // promtool reads the Prometheus text format, where a counter's family is named with
    // `_total` as its sample is: the prometheus format passes its parser and linter
    // untouched. The OpenMetrics body parses too (`# UNIT` and `# EOF` are comments there);
    // its only remarks are its counter families' OpenMetrics names.
    let prom = exposition("--format prometheus");
    assert_eq!(promtool_check(&prom), (0, String::new()), "{prom}");
    let (code, said) = promtool_check(&open);
    assert_ne!(
        code, 1,
        "promtool could not parse the OpenMetrics output: {said}\n{open}"
    );
    assert!(
        said.lines().all(|l| l.ends_with("_total no help text")),
        "{said}"
    );

    // A 30-minute window: the re-promotion 1h after the rollback is planned now; the
    // fix-forward 30 minutes after its failed version still is rework.
    let short = exposition("--format openmetrics --rework-window 30m");
    assert_eq!(
        sample(&short, "shipgate_rework_deployments_total"),
        Some(1.0)
    );
    assert_eq!(
        sample(&short, "shipgate_deployment_rework_ratio"),
        Some(0.2)
    );
    assert!(
        short.contains("\nshipgate_rework_window_seconds 1800\n"),
        "{short}"
    );

    // The same keys in the text and --json outputs.
    let json = fx.sg("alice", &now, "--json metrics --env dev").ok().json();
    let dev = &json["environments"][0];
    assert_eq!(
        (
            &dev["successful_deployments"],
            &dev["deployment_success_rate"],
            &dev["rework_deployments"],
            &dev["rework_rate"]
        ),
        (&json!(3), &json!(0.6), &json!(2), &json!(0.4))
    );
    let text = exposition("");
    assert!(
        text.contains("SUCCESS RATE") && text.contains("REWORK RATE"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.starts_with("dev "))
        .expect("dev's row");
    assert!(row.ends_with("60.0 %        40.0 %"), "{row}");
    fx.sg("alice", &now, "--json metrics --format openmetrics")
        .fails_with("--json and --format openmetrics are two outputs");
}

#[test]
fn a_first_promotion_brings_the_commits_since_the_release_before_it() {
    const H: i64 = 3600;
    // From midnight, 1 December 2026; the repository is two years old.
    const D: i64 = MIDNIGHT;
    let when = after_midnight;
    let fx = Fixture::scaffold(CONFIG, D - 17_500 * H);
    fx.commit_dated(
        D,
        &[
            ("feat: the shop's first years", -9_000, Some("1.0.0")),
            ("feat: search", -30, Some("1.1.0-rc.1")),
            ("fix: search ranking", -20, Some("1.1.0")),
        ],
    );
    fx.share();
    // 1.0.0 is the first release: its commits are the repository's whole history, counted
    // but left out of the lead time.
    fx.promoted("alice", &when(0), "1.0.0 --to dev --push");
    // 1.1.0 into dev: the commits since 1.0.0, which ran there (search 30h, ranking 20h).
    fx.promoted("alice", &when(60), "1.1.0 --to dev --push");
    // 1.1.0 is staging's first: the commits since 1.0.0, the stable release before it (its
    // rc is no release of its own here), not only those since 1.1.0-rc.1.
    fx.promoted("alice", &when(120), "1.1.0 --to staging --push");

    let changes: Vec<Value> = history(fx.dir(), &when(180))
        .iter()
        .map(|e| e["changes"].clone())
        .collect();
    assert_eq!(
        changes,
        [
            json!({"count": 2, "commit_times": []}),
            json!({"count": 2, "commit_times": [D - 20 * H, D - 30 * H]}),
            json!({"count": 2, "commit_times": [D - 20 * H, D - 30 * H]}),
        ]
    );
    let metrics = sg(fx.dir(), "alice", &when(180), "--json metrics")
        .ok()
        .json();
    let lead = |env: &str| {
        let m = named(&metrics["environments"], env);
        (
            m["deployments"].as_u64(),
            m["changes"].as_u64(),
            m["lead_time_median_s"].as_f64(),
        )
    };
    // dev: 31h and 21h at 01:00; staging: 32h and 22h at 02:00.
    assert_eq!(lead("dev"), (Some(2), Some(2), Some(26.0 * 3600.0)));
    assert_eq!(lead("staging"), (Some(1), Some(2), Some(27.0 * 3600.0)));
}

// ---------------------------------------------------------------------------------------
// Notifications: [[notify]] channels hear what the commands decided
// ---------------------------------------------------------------------------------------

use shipgate_notify::testing::{FakeServer, Reply};

/// `shipgate LINE` in `dir` as `who` at `now`, with `env` set too.
fn sg_env(dir: &Path, who: &str, now: &str, line: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = command(dir, who, now, line);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().expect("shipgate runs"))
}

/// The 1-based line of the first line of `text` that starts with `prefix`.
fn line_of(text: &str, prefix: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(prefix))
        .expect("the line is there")
        + 1
}

#[test]
fn a_promotion_tells_slack_and_its_dry_run_only_says_it_would() {
    let slack = FakeServer::slack();
    let tail = format!(
        "\n[[notify]]\nkind = \"slack\"\nurl = \"{}\"\n\n[links]\nrunbook = \"https://wiki.example.com/runbooks/failed-deployment?env={{{{env}}}}\"\n",
        slack.url("/services/T0/B0/hook")
    );
    let fx = Fixture::new(Config {
        tail: &tail,
        ..CONFIG
    });

    let dry = fx
        .sg("alice", &at(0), "promote 1.5.0 --to dev --dry-run")
        .ok();
    assert!(
        dry.stdout
            .contains("would notify slack-1 (slack): (dry run) 1.5.0 promoted to dev"),
        "{dry:#?}"
    );
    assert!(slack.requests().is_empty(), "a dry run sent something");

    fx.promoted("alice", &at(1), "1.5.0 --to dev");
    // The command waits for its channels (within their timeouts) before it exits.
    let got = slack.requests();
    assert_eq!(got.len(), 1, "{got:#?}");
    let body = got[0].json();
    assert_eq!(
        body["blocks"][0]["text"]["text"],
        "✅ 1.5.0 promoted to dev"
    );
    let text = body.to_string();
    assert!(text.contains("*By*\\nalice"), "{text}");
    assert!(text.contains("All 8 gates passed."), "{text}");
    // A runbook is for what went wrong: a promotion has none.
    assert!(!text.contains("runbooks"), "{text}");
}

#[test]
fn a_channel_whose_secret_is_not_set_stops_a_promotion_but_never_a_rollback() {
    let slack = FakeServer::slack();
    let tail = "\n[[notify]]\nkind = \"slack\"\nurl-env = \"SHIPGATE_TEST_OPS_WEBHOOK\"\n";
    let fx = Fixture::new(Config { tail, ..CONFIG });
    let hook = slack.url("/services/T0/B0/secret-path-1234");
    let with_hook = [("SHIPGATE_TEST_OPS_WEBHOOK", hook.as_str())];
    sg_env(
        fx.dir(),
        "alice",
        &at(0),
        "promote 1.4.0 --to dev",
        &with_hook,
    )
    .ok();
    sg_env(
        fx.dir(),
        "alice",
        &at(1),
        "promote 1.5.0 --to dev",
        &with_hook,
    )
    .ok();
    assert_eq!(slack.requests().len(), 2);
    let ledger = ledger_of(fx.dir());

    // Without the variable: refused before anything runs, at the key's place.
    let config = std::fs::read_to_string(fx.dir().join("shipgate.toml")).expect("read");
    let place = format!("shipgate.toml:{}:1", line_of(&config, "url-env"));
    let refused = fx
        .sg("alice", &at(2), "promote 1.6.0 --to dev")
        .fails_with(&place);
    assert!(
        refused
            .stderr
            .contains("SHIPGATE_TEST_OPS_WEBHOOK, which is not set"),
        "{refused:#?}"
    );
    assert!(
        refused
            .stderr
            .contains("hint: set SHIPGATE_TEST_OPS_WEBHOOK"),
        "{refused:#?}"
    );
    assert_eq!(
        ledger_of(fx.dir()),
        ledger,
        "a refused command wrote to the ledger"
    );

    // An emergency is not held up by a chat webhook: the rollback runs, with a warning.
    let rolled = fx
        .sg(
            "alice",
            &at(3),
            "rollback --env dev --reason 'checkout is down'",
        )
        .ok();
    assert!(
        rolled.stderr.contains(
            "SHIPGATE_TEST_OPS_WEBHOOK, which is not set: it is not told of this command"
        ),
        "{rolled:#?}"
    );
    assert!(
        ledger_of(fx.dir()).len() > ledger.len(),
        "the rollback was recorded"
    );
    // The secret never reached any output.
    for out in [
        &refused.stdout,
        &refused.stderr,
        &rolled.stdout,
        &rolled.stderr,
    ] {
        assert!(!out.contains("secret-path-1234"), "{out}");
    }
}

#[test]
fn notify_test_reaches_each_channel_and_retry_sends_what_failed_exactly_once() {
    let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let switch = down.clone();
    let hook = FakeServer::start(move |_| {
        if switch.load(std::sync::atomic::Ordering::SeqCst) {
            Reply::new(503, "maintenance")
        } else {
            Reply::new(204, "")
        }
    });
    let tail = format!(
        "\n[[notify]]\nkind = \"webhook\"\nname = \"audit\"\nurl = \"{}\"\ntimeout = \"1s\"\n",
        hook.url("/shipgate")
    );
    let fx = Fixture::new(Config {
        tail: &tail,
        ..CONFIG
    });

    let tested = fx.sg("alice", &at(0), "notify test").ok();
    assert!(
        tested.stdout.contains("sent    audit: delivered"),
        "{tested:#?}"
    );
    let first = hook.requests();
    assert_eq!(first.len(), 1);
    assert!(
        first[0].json()["message"]["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("[TEST] shipgate can reach audit")),
        "{:?}",
        first[0].body
    );

    // The channel is down during a promotion: the promotion is done, the delivery kept.
    down.store(true, std::sync::atomic::Ordering::SeqCst);
    let run = fx.promote("alice", &at(1), "1.5.0 --to dev").ok();
    assert!(
        run.stderr
            .contains("notify audit did not deliver `promoted`: answered 503: maintenance"),
        "{run:#?}"
    );
    let failed = hook.requests().len();
    assert!(failed >= 2, "retried within its timeout: {failed}");

    let still = fx.sg("alice", &at(2), "notify retry").code;
    assert_eq!(still, 1, "a delivery that still fails is exit 1");

    down.store(false, std::sync::atomic::Ordering::SeqCst);
    let retried = fx.sg("alice", &at(3), "notify retry").ok();
    assert!(
        retried.stdout.contains("sent    audit promotion of"),
        "{retried:#?}"
    );
    let all = hook.requests();
    let delivered: Vec<_> = all
        .iter()
        .filter(|r| r.json()["event"] == "promotion")
        .collect();
    let ids: std::collections::BTreeSet<_> = delivered
        .iter()
        .map(|r| r.headers["x-shipgate-delivery"].clone())
        .collect();
    assert_eq!(ids.len(), 1, "one delivery id for every attempt: {ids:?}");

    let again = fx.sg("alice", &at(4), "notify retry").ok();
    assert_eq!(again.stdout.trim(), "nothing to send again");
    assert_eq!(hook.requests().len(), all.len(), "sent twice");
}

// ---------------------------------------------------------------------------------------
// Post-incident review
// ---------------------------------------------------------------------------------------

/// `rto = "10m"` in dev and prod, and a runbook link.
const REVIEW: Config<'static> = Config {
    promote: "",
    dev: "verification = \"none\"\nrto = \"10m\"",
    prod: "soak = \"2h\"\napprovals = 1\nrto = \"10m\"",
    tail: "[links]\nrunbook = \"https://wiki.example/runbooks/{{env}}?v={{version}}\"\n",
    releases: &["1.5.0", "1.6.0"],
};

/// 1.4.0 in prod; 1.5.0 promoted there by alice at 250, failed verification by qa-bot at
/// 257, rolled back by carol at 261 (7 minutes to detect, 4 to restore), unblocked at 270;
/// 1.6.0 into dev at 300, failed at 301, rolled back at 313 (12 minutes to restore).
fn reviewed() -> Fixture {
    let fx = Fixture::new(REVIEW);
    ship(fx.dir(), "1.4.0", 0);
    ready_for_prod(fx.dir(), "1.5.0", &at(130));
    fx.promoted("alice", &at(250), "1.5.0 --to prod --push");
    let fail = "verify 1.5.0 --env prod --result fail --evidence 'checkout 500s' --push";
    fx.sg("qa-bot", &at(257), fail).ok();
    let rollback = "rollback --env prod --to 1.4.0 --reason 'checkout errors' --push";
    fx.sg("carol", &at(261), rollback).ok();
    fx.sg(
        "carol",
        &at(270),
        "unblock 1.5.0 --reason 'fixed in 1.6.0' --push",
    )
    .ok();
    fx.promoted("alice", &at(300), "1.6.0 --to dev --push");
    fx.sg(
        "qa-bot",
        &at(301),
        "verify 1.6.0 --env dev --result fail --push",
    )
    .ok();
    let rollback = "rollback --env dev --to 1.5.0 --reason 'search is down' --push";
    fx.sg("carol", &at(313), rollback).ok();
    fx
}

/// The lines of `text` that start with `- 2026-`: the timeline's.
fn timeline(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("- 2026-")).collect()
}

#[test]
fn review_drafts_a_rollback_from_the_ledger() {
    let fx = reviewed();
    let draft = fx.sg("alice", &at(320), "review --env prod").ok().stdout;
    assert!(
        draft.starts_with("# Post-incident review: 1.5.0 rolled back in prod\n"),
        "{draft}"
    );
    for needle in [
        "- Environment: prod\n",
        "- Version rolled back: 1.5.0\n",
        "- Version restored: 1.4.0\n",
        "- Runbook: <https://wiki.example/runbooks/prod?v=1.5.0>\n",
        "- Time to detect (promotion → failing verdict): 7m (2026-12-01 13:10:00 UTC → 2026-12-01 13:17:00 UTC)\n",
        "- Time to restore (failing verdict → rollback): 4m (2026-12-01 13:17:00 UTC → 2026-12-01 13:21:00 UTC)\n",
        "- Recovery time objective: 10m: within RTO (10m)\n",
        "feat: what 1.5.0 brings\n",
        "fix: what 1.5.0 mends\n",
        "- no recording given: per-metric evidence and impact unknown\n",
        "## Root cause\n\n- [ ] \n",
        "## What went well\n\n- [ ] \n",
        "## What went wrong\n\n- [ ] \n",
        "## Action items\n\n- [ ] \n",
    ] {
        assert!(draft.contains(needle), "`{needle}` not in\n{draft}");
    }
    assert!(!draft.contains("1.6.0 brings"), "{draft}");
    assert_eq!(
        timeline(&draft),
        [
            "- 2026-12-01 13:10:00 UTC: promotion of 1.5.0 into prod by alice (from 1.4.0)",
            "- 2026-12-01 13:17:00 UTC: verification of 1.5.0: FAIL, by qa-bot, evidence: checkout 500s",
            "- 2026-12-01 13:21:00 UTC: rollback of prod from 1.5.0 to 1.4.0 by carol: checkout errors",
            "- 2026-12-01 13:21:00 UTC: 1.5.0 blocked by carol: checkout errors",
            "- 2026-12-01 13:30:00 UTC: 1.5.0 unblocked by carol: fixed in 1.6.0",
        ],
        "{draft}"
    );

    // --json: the template's context, the review's data raw under `review`.
    let context = fx
        .sg("alice", &at(320), "--json review --env prod")
        .ok()
        .json();
    assert_eq!(context["rto_verdict"], "within RTO (10m)");
    assert_eq!(context["review"]["time_to_detect"]["seconds"], 420);
    assert_eq!(context["review"]["time_to_restore"]["seconds"], 240);
    assert_eq!(context["review"]["rto_s"], 600);

    // dev: 12 minutes from the failed verification to the rollback.
    let out = fx.tmp.join("dev-review.md");
    let line = format!("review --env dev --version 1.6.0 --out {}", out.display());
    let run = fx.sg("alice", &at(320), &line).ok();
    assert_eq!(run.stdout, "");
    let dev = std::fs::read_to_string(&out).expect("--out written");
    assert!(
        dev.contains("- Time to detect (promotion → failing verdict): 1m ("),
        "{dev}"
    );
    assert!(
        dev.contains("- Recovery time objective: 10m: over RTO (10m) by 2m\n"),
        "{dev}"
    );
    assert!(dev.contains("- Version restored: 1.5.0\n"), "{dev}");

    // --at picks the rollback nearest before it; a custom template gets the context.
    let template = fx.tmp.join("short.hbs");
    std::fs::write(
        &template,
        "{{environment}} {{version}}→{{restored}} {{time_to_restore.text}} {{rto_verdict}}\n",
    )
    .expect("write");
    let line = format!(
        "review --env prod --at {} --template {}",
        at(262),
        template.display()
    );
    let short = fx.sg("alice", &at(320), &line).ok().stdout;
    assert_eq!(short, "prod 1.5.0→1.4.0 4m within RTO (10m)\n");

    fx.sg("alice", &at(320), "review --env prod --version 1.6.0")
        .fails_with("error: no rollback from 1.6.0 in prod in the ledger");
    fx.sg(
        "alice",
        &at(320),
        &format!("review --env prod --at {}", at(200)),
    )
    .fails_with("hint: rollbacks there: from 1.5.0 at 2026-12-01T13:21:00Z");
    fx.sg("alice", &at(320), "review --env staging")
        .fails_with("hint: staging has no rollback to review");
}

#[test]
fn review_refuses_a_bad_name_before_anything_else() {
    let tmp = std::env::temp_dir().join("shipgate-review-no-such-repo");
    let line = format!("--repo {} review --env 'prod\"; rm'", tmp.display());
    let run = sg(&std::env::temp_dir(), "alice", &at(0), &line);
    let run = run.fails_with("is not a valid environment name");
    assert!(!run.stderr.contains("repository"), "{run:#?}");
    let line = format!(
        "--repo {} review --env prod --version '1.5.0;x'",
        tmp.display()
    );
    sg(&std::env::temp_dir(), "alice", &at(0), &line).fails_with("error: `1.5.0;x`");
}

/// A recording of 1.5.0 against 1.4.0 in prod, built with the judge's own types: three
/// intervals in which the canary served 100 requests with 10 errors and the baseline 900
/// with 9.
fn recording_of_1_5_0() -> String {
    use shipgate_judge::record::{FORMAT, RecordedInterval, Recording};
    use shipgate_judge::{Counts, MetricSample, Num, Side};
    let counts = |requests: f64, errors: f64| {
        Some(Side::Counts(Counts {
            requests: Num(requests),
            errors: Num(errors),
        }))
    };
    let intervals = (1..=3)
        .map(|i| RecordedInterval {
            t: f64::from(i) * 60.0,
            weight: Some(10),
            metrics: [(
                "error-rate".to_string(),
                MetricSample {
                    canary: counts(100.0, 10.0),
                    baseline: counts(900.0, 9.0),
                    ..MetricSample::default()
                },
            )]
            .into(),
        })
        .collect();
    Recording {
        format: FORMAT.into(),
        env: Some("prod".into()),
        version: Some("1.5.0".into()),
        baseline_version: Some("1.4.0".into()),
        started_at: Some("2026-12-01T13:11:00Z".into()),
        settings: shipgate_judge::settings::Gates::default(),
        intervals,
    }
    .to_json()
}

#[test]
fn review_with_a_recording_shows_the_evidence_and_estimates_the_impact() {
    let fx = reviewed();
    let file = fx.tmp.join("canary.json");
    std::fs::write(&file, recording_of_1_5_0()).expect("write");
    let line = format!("review --env prod --recording {}", file.display());
    let draft = fx.sg("alice", &at(320), &line).ok().stdout;
    for needle in [
        "## Canary evidence\n",
        "(intervals: 3, 3m, started 2026-12-01T13:11:00Z): fail at 60.0s into the run: ",
        "| error-rate | counts | 10.00 % | 1.00 % | fail |\n",
        "## Impact (estimate)\n",
        "Requests served by the canary while it ran (estimate): 300\n",
        "| error-rate | 300 | 30 | 1.00 % | 27 |\n",
    ] {
        assert!(draft.contains(needle), "`{needle}` not in\n{draft}");
    }
    assert!(!draft.contains("no recording given"), "{draft}");

    // A recording of another rollout is refused, not mixed in.
    let other = fx.tmp.join("other.json");
    std::fs::write(
        &other,
        recording_of_1_5_0().replace("\"1.5.0\"", "\"1.6.0\""),
    )
    .expect("write");
    let line = format!("review --env prod --recording {}", other.display());
    fx.sg("alice", &at(320), &line)
        .fails_with("the recording's version is 1.6.0, but the rollback is of 1.5.0");
}

//! End-to-end tests of the binary in GitHub Actions (`GITHUB_ACTIONS=true`): outputs
//! appended to `$GITHUB_OUTPUT`, step summaries to `$GITHUB_STEP_SUMMARY`, annotations for
//! errors (at a file and line when there is one), groups, and outside text that the runner
//! never reads as a workflow command. The log is read the way the runner reads it: stdout
//! and stderr line by line (`\n`, `\r\n` and a lone `\r` end a line), a line that trimmed
//! starts with `::` or that contains `##[` is a command, and nothing is one between
//! `::stop-commands::TOKEN` and `::TOKEN::`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

#[path = "support/git_repo.rs"]
mod git_repo;
use git_repo::{Repo, shipgate_in};
#[path = "support/outputs.rs"]
mod outputs;
use outputs::parse_outputs;

/// The fixtures of `config validate` and `canary judge`.
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");

/// A token as Actions hands it to a step.
const TOKEN: &str = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";

/// Text from outside (commit messages, reasons) that would be workflow commands if printed
/// as they are.
const HOSTILE_LINES: [&str; 4] = [
    "::error::pwned",
    "##[error]x",
    "  ::warning file=a,line=1::pwned too",
    "%0A::error::pwned again",
];

/// One run of the binary: its exit code, its log (stdout and stderr) and the two files.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    outputs: Option<String>,
    summary: Option<String>,
}

impl Run {
    fn log(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The workflow commands the runner would run, in log order.
    fn commands(&self) -> Vec<String> {
        commands(&self.stdout)
            .into_iter()
            .chain(commands(&self.stderr))
            .collect()
    }

    /// `$GITHUB_OUTPUT` as name → value.
    fn outputs(&self) -> BTreeMap<String, String> {
        parse_outputs(self.outputs.as_deref().unwrap_or_default())
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}\n--- outputs\n{:?}\n--- summary\n{:?}",
            self.code, self.stdout, self.stderr, self.outputs, self.summary
        )
    }
}

/// What the runner makes of one stream: the command lines.
fn commands(stream: &str) -> Vec<String> {
    let mut stopped: Option<String> = None;
    let mut found = Vec::new();
    for line in stream.split("\r\n").flat_map(|l| l.split(['\r', '\n'])) {
        let trimmed = line.trim();
        if let Some(token) = &stopped {
            if trimmed == format!("::{token}::") {
                stopped = None;
            }
            continue;
        }
        if let Some(token) = trimmed.strip_prefix("::stop-commands::") {
            stopped = Some(token.to_string());
            continue;
        }
        if trimmed.starts_with("::") || line.contains("##[") {
            found.push(line.to_string());
        }
    }
    found
}

/// Runs shipgate in `dir`; with `actions`, as a GitHub Actions step with its own output
/// and summary files (which are otherwise set but must stay untouched).
fn run(dir: &Path, actions: bool, args: &[&str], env: &[(&str, &str)]) -> Run {
    let files = tempfile::tempdir().expect("temp dir");
    let output = files.path().join("output");
    let summary = files.path().join("summary.md");
    let mut all: Vec<(&str, &str)> = vec![
        ("GITHUB_OUTPUT", output.to_str().expect("utf-8 path")),
        ("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf-8 path")),
        ("GITHUB_ACTIONS", if actions { "true" } else { "" }),
        ("CI", "true"),
        ("GITHUB_ACTOR", "release-bot"),
        ("SHIPGATE_NOW", "2026-12-01T09:00:00Z"),
    ];
    all.extend_from_slice(env);
    let out: Output = shipgate_in(dir, args, &all);
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        outputs: std::fs::read_to_string(&output).ok(),
        summary: std::fs::read_to_string(&summary).ok(),
    }
}

/// A crate at 1.3.0 (tag v1.3.0) with a feature and a fix since.
fn release_repo() -> Repo {
    let repo = Repo::new();
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"shop\"\nversion = \"1.3.0\"\nedition = \"2024\"\n",
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: scaffold"]);
    repo.tag("v1.3.0");
    repo.commit("feat(api): add search");
    repo.commit("fix: keep the cart <b>|</b> on reload");
    repo
}

/// The storefront's environments with `[promote]`, and releases v1.4.0 and v1.5.0.
fn promote_repo() -> Repo {
    let repo = Repo::new();
    repo.write_environments();
    repo.write(
        "shipgate.toml",
        "[environments]\norder = [\"dev\", \"staging\", \"prod\"]\n\n\
         [promote]\nversion-key = \"service.image.tag\"\n\n\
         [promote.env.dev]\nverification = \"none\"\n",
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: the storefront's environments"]);
    repo.commit("feat: the first release");
    repo.tag("v1.4.0");
    repo.commit("feat: the second release");
    repo.tag("v1.5.0");
    repo
}

/// Every command in `run`'s log is one of the binary's own: a group, its end, or an
/// annotation titled `shipgate …`.
#[track_caller]
fn only_own_commands(run: &Run) {
    for c in run.commands() {
        let own = c.starts_with("::group::")
            || c == "::endgroup::"
            || ["error", "warning", "notice"].iter().any(|level| {
                c.starts_with(&format!("::{level} "))
                    && (c.contains("title=shipgate ") || c.contains(",title=shipgate "))
            });
        assert!(own, "not the binary's own command: {c:?}\n{run:?}");
        assert!(
            !c.starts_with("::group::") || !c.contains("pwned"),
            "{c:?}\n{run:?}"
        );
    }
}

#[test]
fn a_release_dry_run_writes_outputs_a_summary_and_folds_its_notes() {
    let repo = release_repo();
    let run = run(&repo.dir, true, &["release", "--dry-run"], &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let outputs = run.outputs();
    let expected: BTreeMap<String, String> = [
        ("current", "1.3.0"),
        ("next", "1.4.0"),
        ("version", "1.4.0"),
        ("tag", "v1.4.0"),
        ("bump", "minor"),
        ("released", "false"),
        ("dry-run", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(outputs, expected, "{run:?}");
    let summary = run.summary.as_deref().expect("a summary");
    assert!(summary.contains("dry run"), "{summary}");
    for row in [
        "| current | 1.3.0 (v1.3.0) |",
        "| next | 1.4.0 |",
        "| bump | minor |",
        "| tag | v1.4.0 |",
        "| commits | 2 considered: 2 conventional, 0 other, 0 reverted |",
    ] {
        assert!(summary.contains(row), "{row}\n{summary}");
    }
    assert!(summary.contains("#### Release notes"), "{summary}");
    assert!(summary.contains("add search"), "{summary}");
    // The commit's HTML and table pipe render as text.
    assert!(
        summary.contains("keep the cart &lt;b&gt;\\|&lt;/b&gt; on reload"),
        "{summary}"
    );
    assert!(!summary.contains("<b>"), "{summary}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "::group::release notes v1.4.0")
        .unwrap_or_else(|| panic!("a group of the notes: {run:?}"));
    let end = lines
        .iter()
        .position(|l| *l == "::endgroup::")
        .expect("its end");
    assert!(start < end);
    assert!(
        lines[start..end].iter().any(|l| l.contains("add search")),
        "{run:?}"
    );
    assert!(run.stdout.contains("dry run: nothing was written"));
    only_own_commands(&run);

    // The release itself.
    let made = self::run(&repo.dir, true, &["release"], &[]);
    assert_eq!(made.code, Some(0), "{made:?}");
    let outputs = made.outputs();
    assert_eq!(outputs["released"], "true", "{made:?}");
    assert_eq!(outputs["dry-run"], "false");
    assert_eq!(outputs["version"], "1.4.0");
    assert!(
        made.summary
            .as_deref()
            .is_some_and(|s| s.starts_with("### shipgate release: v1.4.0 released")),
        "{made:?}"
    );
    only_own_commands(&made);

    // Nothing to release says so in the outputs.
    let repo = Repo::new();
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"shop\"\nversion = \"1.3.0\"\nedition = \"2024\"\n",
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: scaffold"]);
    repo.tag("v1.3.0");
    let nothing = self::run(&repo.dir, true, &["release", "--dry-run"], &[]);
    assert_eq!(nothing.code, Some(0), "{nothing:?}");
    let outputs = nothing.outputs();
    assert_eq!(outputs["version"], "", "{nothing:?}");
    assert_eq!(outputs["bump"], "none");
    assert_eq!(outputs["released"], "false");
    assert!(
        nothing
            .summary
            .as_deref()
            .is_some_and(|s| s.contains("nothing to release")),
        "{nothing:?}"
    );
}

#[test]
fn a_refused_promotion_writes_promoted_false_its_gates_and_an_error() {
    let repo = promote_repo();
    let run = run(&repo.dir, true, &["promote", "1.5.0", "--to", "prod"], &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let outputs = run.outputs();
    assert_eq!(outputs["promoted"], "false", "{run:?}");
    assert_eq!(outputs["version"], "1.5.0");
    assert_eq!(outputs["environment"], "prod");
    assert_eq!(outputs["from"], "");
    assert_eq!(outputs["dry-run"], "false");
    let summary = run.summary.as_deref().expect("a summary");
    assert!(summary.contains("| gate | passed | detail |"), "{summary}");
    for gate in [
        "previous-environment",
        "soak",
        "version-order",
        "blocked",
        "configuration",
        "freeze",
        "approvals",
        "lock",
    ] {
        assert!(
            summary
                .lines()
                .any(|l| l.starts_with(&format!("| {gate} | "))),
            "{gate}\n{summary}"
        );
    }
    assert!(
        summary.contains("| previous-environment | **no** |"),
        "{summary}"
    );
    assert!(
        summary.contains("| 1.5.0 | prod | nothing | no | no |"),
        "{summary}"
    );
    let errors: Vec<String> = run
        .commands()
        .into_iter()
        .filter(|c| c.starts_with("::error title=shipgate promote::"))
        .collect();
    assert_eq!(errors.len(), 1, "{run:?}");
    assert!(
        errors[0].contains("promotion of 1.5.0 to prod refused: previous-environment"),
        "{errors:?}"
    );
    // The text output is today's.
    assert!(run.stdout.contains("REFUSED"), "{run:?}");
    only_own_commands(&run);
}

#[test]
fn promotions_and_rollbacks_write_their_outputs_and_outside_reasons_stay_text() {
    let repo = promote_repo();
    for version in ["1.4.0", "1.5.0"] {
        let r = run(&repo.dir, true, &["promote", version, "--to", "dev"], &[]);
        assert_eq!(r.code, Some(0), "{r:?}");
        let outputs = r.outputs();
        assert_eq!(outputs["promoted"], "true", "{r:?}");
        assert_eq!(outputs["version"], version);
    }
    let reason = format!("p95 | <img src=x>\n{}", HOSTILE_LINES.join("\r\n"));
    let r = run(
        &repo.dir,
        true,
        &[
            "rollback", "--env", "dev", "--to", "1.4.0", "--reason", &reason,
        ],
        &[],
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    let outputs = r.outputs();
    assert_eq!(outputs["environment"], "dev", "{r:?}");
    assert_eq!(outputs["version"], "1.4.0");
    assert_eq!(outputs["from"], "1.5.0");
    let summary = r.summary.as_deref().expect("a summary");
    assert!(summary.contains("| dev | 1.5.0 | 1.4.0 |"), "{summary}");
    assert!(summary.contains("p95 \\| &lt;img src=x&gt;"), "{summary}");
    assert!(!summary.contains("<img"), "{summary}");
    only_own_commands(&r);
    // The reason is printed, but inert.
    let shown = r.stdout.replace('\u{200B}', "");
    assert!(shown.contains("::error::pwned"), "{r:?}");

    let h = run(&repo.dir, true, &["history"], &[]);
    assert_eq!(h.code, Some(0), "{h:?}");
    assert!(h.stdout.starts_with("::group::history: "), "{h:?}");
    assert!(h.stdout.ends_with("::endgroup::\n"), "{h:?}");
    only_own_commands(&h);

    let s = run(&repo.dir, true, &["status", "--env", "dev"], &[]);
    assert_eq!(s.code, Some(0), "{s:?}");
    assert_eq!(s.outputs()["version"], "1.4.0", "{s:?}");
}

#[test]
fn a_settings_typo_is_an_error_annotation_at_its_line() {
    let repo = release_repo();
    repo.write(
        "shipgate.toml",
        "[release]\nmode = \"unified\"\ntag-fromat = \"v{version}\"\n",
    );
    let run = run(&repo.dir, true, &["release", "--dry-run"], &[]);
    assert_eq!(run.code, Some(2), "{run:?}");
    let errors: Vec<String> = run
        .commands()
        .into_iter()
        .filter(|c| c.starts_with("::error "))
        .collect();
    assert_eq!(errors.len(), 1, "{run:?}");
    assert!(
        errors[0].starts_with("::error file=shipgate.toml,line=3,col=1,title=shipgate release::"),
        "{errors:?}"
    );
    assert!(
        errors[0].contains("%0Ahint: did you mean `tag-format`?"),
        "{errors:?}"
    );
    // The text lines are today's.
    assert!(
        run.stderr.contains("error: ")
            && run.stderr.contains("\nhint: did you mean `tag-format`?\n"),
        "{run:?}"
    );
    assert_eq!(
        run.outputs, None,
        "no outputs from a run that could not run"
    );
}

#[test]
fn outside_text_never_becomes_a_workflow_command() {
    let repo = release_repo();
    let message = format!(
        "feat: support ##[error]x and ::error::pwned\n\n{}\n\nBREAKING CHANGE: {}",
        HOSTILE_LINES.join("\n"),
        HOSTILE_LINES.join("\r\n")
    );
    repo.write("hostile.txt", "x\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", &message]);
    repo.commit("fix: a subject with a lone\rcarriage return ::error::pwned");
    for args in [
        &["release", "--dry-run"][..],
        &["--json", "release", "--dry-run"],
        &["changelog"],
        &["changelog", "--context"],
    ] {
        let r = run(&repo.dir, true, args, &[]);
        assert_eq!(r.code, Some(0), "{args:?}: {r:?}");
        only_own_commands(&r);
        assert!(
            !r.commands().iter().any(|c| c.contains("pwned")),
            "{args:?}: {r:?}"
        );
        // What is printed is the text, read back the same.
        if args[0] == "--json" || args.contains(&"--context") {
            let v: serde_json::Value =
                serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"));
            assert!(v.to_string().contains("##[error]x"), "{r:?}");
        } else {
            let shown = r.stdout.replace('\u{200B}', "");
            assert!(shown.contains("##[error]x"), "{args:?}: {r:?}");
        }
    }
    // The outputs hold the version, never the commit's text, and stay well-formed.
    let r = run(&repo.dir, true, &["release", "--dry-run"], &[]);
    assert_eq!(r.outputs()["next"], "2.0.0", "{r:?}");
    let summary = r.summary.as_deref().expect("a summary");
    assert!(!summary.contains("<b>"), "{summary}");
}

#[test]
fn a_token_never_appears_in_the_output() {
    let repo = promote_repo();
    for actions in [true, false] {
        for var in ["GITHUB_TOKEN", "GH_TOKEN"] {
            let run = run(
                &repo.dir,
                actions,
                &["promote", TOKEN, "--to", "prod"],
                &[(var, TOKEN)],
            );
            assert_eq!(run.code, Some(2), "{run:?}");
            assert!(!run.log().contains(TOKEN), "{var}: {run:?}");
            assert!(run.stderr.contains("error: "), "{run:?}");
            assert!(run.stderr.contains("***"), "{run:?}");
            if actions {
                assert!(
                    run.commands()
                        .iter()
                        .any(|c| c.starts_with("::error title=shipgate promote::")),
                    "{run:?}"
                );
            }
        }
    }
}

#[test]
fn without_github_actions_no_command_is_printed_and_no_file_is_touched() {
    let repo = release_repo();
    let release = run(&repo.dir, false, &["release", "--dry-run"], &[]);
    let promote = promote_repo();
    let refused = run(
        &promote.dir,
        false,
        &["promote", "1.5.0", "--to", "prod"],
        &[],
    );
    let typo = {
        repo.write("shipgate.toml", "[release]\ntag-fromat = \"v\"\n");
        run(&repo.dir, false, &["release", "--dry-run"], &[])
    };
    for (r, code) in [(&release, 0), (&refused, 1), (&typo, 2)] {
        assert_eq!(r.code, Some(code), "{r:?}");
        assert_eq!(r.commands(), Vec::<String>::new(), "{r:?}");
        assert!(!r.log().contains('\u{200B}'), "{r:?}");
        assert_eq!(r.outputs, None, "{r:?}");
        assert_eq!(r.summary, None, "{r:?}");
    }
    assert!(!release.stdout.contains("::group::"));
    assert!(
        typo.stderr.starts_with("error: ") && typo.stderr.contains("\nhint: did you mean"),
        "{typo:?}"
    );
}

#[test]
fn canary_judge_writes_its_verdict_and_annotates_a_failure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixture = format!("{FIXTURES}/canary/error-regression.json");
    let failed = run(dir.path(), true, &["canary", "judge", &fixture], &[]);
    assert_eq!(failed.code, Some(1), "{failed:?}");
    let outputs = failed.outputs();
    assert_eq!(outputs["verdict"], "fail", "{failed:?}");
    assert_eq!(outputs["version"], "1.4.0");
    assert_eq!(outputs["environment"], "prod");
    assert!(
        failed
            .commands()
            .iter()
            .any(|c| c.starts_with("::error title=shipgate canary judge::")),
        "{failed:?}"
    );
    only_own_commands(&failed);
    let fixture = format!("{FIXTURES}/canary/healthy.json");
    let passed = run(dir.path(), true, &["canary", "judge", &fixture], &[]);
    assert_eq!(passed.code, Some(0), "{passed:?}");
    assert_eq!(passed.outputs()["verdict"], "pass", "{passed:?}");
    assert_eq!(passed.commands(), Vec::<String>::new(), "{passed:?}");
}

#[test]
fn config_validate_annotates_each_diagnostic_and_quotes_files_inertly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config");
    std::fs::create_dir_all(config.join("bad")).expect("mkdir");
    for f in ["shipgate.toml", "schema.json"] {
        std::fs::copy(format!("{FIXTURES}/config/{f}"), config.join(f)).expect("copy");
    }
    for f in ["base.toml", "staging.toml", "prod.toml"] {
        std::fs::copy(
            format!("{FIXTURES}/config/bad/{f}"),
            config.join("bad").join(f),
        )
        .expect("copy");
    }
    // The quoted source line carries a command.
    std::fs::write(
        config.join("bad/dev.toml"),
        "[service]\nreplicas = \"two\" # ##[error]x\n\n[logging]\nlevel = \"verbose\"\n",
    )
    .expect("write");
    let r = run(&config, true, &["config", "validate", "bad"], &[]);
    assert_eq!(r.code, Some(1), "{r:?}");
    let outputs = r.outputs();
    assert_eq!(outputs["errors"], "10", "{r:?}");
    assert_eq!(outputs["warnings"], "0");
    assert!(
        r.commands().iter().any(|c| c.starts_with(
            "::error file=bad/dev.toml,line=2,col=12,title=shipgate config validate::`service.replicas` must be of type"
        )),
        "{r:?}"
    );
    assert_eq!(
        r.commands()
            .iter()
            .filter(|c| c.starts_with("::error file="))
            .count(),
        10,
        "{r:?}"
    );
    only_own_commands(&r);
    assert!(
        r.stdout.replace('\u{200B}', "").contains("# ##[error]x"),
        "the line is quoted: {r:?}"
    );
    // One folded group per file.
    assert!(
        r.stdout
            .lines()
            .any(|l| l == "::group::bad/dev.toml: 2 error(s), 0 warning(s)"),
        "{r:?}"
    );
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.starts_with("::group::"))
            .count(),
        r.stdout.lines().filter(|l| *l == "::endgroup::").count(),
    );
    // --format github prints the annotations itself, once.
    let github = run(
        &config,
        true,
        &["config", "validate", "bad", "--format", "github"],
        &[],
    );
    assert_eq!(github.code, Some(1), "{github:?}");
    assert_eq!(github.commands().len(), 10, "{github:?}");
}

#[test]
fn canary_run_writes_its_verdict_a_summary_and_folds_its_judgements() {
    let dir = tempfile::tempdir().expect("temp dir");
    let q = |metric: &str, v: &str| {
        format!("sum(increase({metric}{{version=\"{{{{{v}}}}}\"}}[{{{{interval}}}}]))")
    };
    std::fs::write(
        dir.path().join("shipgate.toml"),
        format!(
            "[canary]\nsteps = [{{ weight = 10, hold = \"1m\" }}, {{ weight = 50, hold = \"1m\" }}, {{ weight = 100 }}]\n\
             interval = \"10s\"\nmax-duration = \"10m\"\n\n\
             [canary.command]\nset-weight = \"true\"\npromote = \"true\"\nrollback = \"true\"\n\n\
             [[canary.metrics]]\nname = \"error-rate\"\nkind = \"counts\"\nthreshold = 0.02\nmin-requests = 1000\n\
             canary = {{ errors = '{}', requests = '{}' }}\nbaseline = {{ errors = '{}', requests = '{}' }}\n",
            q("http_errors_total", "version"),
            q("http_requests_total", "version"),
            q("http_errors_total", "baseline_version"),
            q("http_requests_total", "baseline_version"),
        ),
    )
    .expect("write");
    let fixture = format!("{FIXTURES}/canary/error-regression.json");
    let r = run(
        dir.path(),
        true,
        &["canary", "run", "--env", "prod", "--replay", &fixture],
        &[],
    );
    assert_eq!(r.code, Some(1), "{r:?}");
    let outputs = r.outputs();
    assert_eq!(outputs["verdict"], "rolled-back", "{r:?}");
    assert_eq!(outputs["version"], "1.4.0");
    assert_eq!(outputs["environment"], "prod");
    let summary = r.summary.as_deref().expect("the canary's summary");
    assert!(
        summary.starts_with("### Canary `1.4.0` in prod (replay): ROLLED BACK"),
        "{summary}"
    );
    let lines: Vec<&str> = r.stderr.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("::group::canary 1.4.0 in prod: judgements"))
        .unwrap_or_else(|| panic!("a group: {r:?}"));
    let end = lines
        .iter()
        .position(|l| *l == "::endgroup::")
        .expect("its end");
    assert!(
        lines[start + 1..end]
            .iter()
            .all(|l| l.starts_with("canary: t="))
            && end > start + 1,
        "{r:?}"
    );
    assert!(
        r.commands().iter().any(|c| c
            .starts_with("::error title=shipgate canary run::canary 1.4.0 in prod: rolled back")),
        "{r:?}"
    );
    only_own_commands(&r);
}

/// A reader that stops early (`shipgate changelog | head`) ends the output, not the command:
/// no panic halfway, exit 0, in Actions and out.
#[test]
fn a_reader_that_closes_early_stops_the_output_not_the_command() {
    use std::io::{Read as _, Write as _};
    let repo = Repo::new();
    // 1,500 commits through fast-import: a changelog well past a pipe's 64 KiB buffer.
    let mut stream = String::new();
    for i in 1..=1500 {
        let message = format!("feat(cart): change number {i} of the storefront's basket page\n");
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter Dev <dev@example.com> {} +0000\ndata {}\n{message}\n",
            1_700_000_000 + i,
            message.len()
        ));
    }
    let mut import = std::process::Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(&repo.dir)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("git fast-import");
    import
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("stream");
    assert!(import.wait().expect("fast-import").success());
    repo.git(&["reset", "-q", "--hard", "main"]);
    for actions in [false, true] {
        let mut cmd = git_repo::shipgate_command(&repo.dir, &["changelog"], &[]);
        if actions {
            cmd.env("GITHUB_ACTIONS", "true");
        }
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("shipgate");
        let mut first = [0u8; 16];
        let mut stdout = child.stdout.take().expect("stdout");
        stdout.read_exact(&mut first).expect("the changelog starts");
        drop(stdout);
        let out = child.wait_with_output().expect("shipgate ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(out.status.code(), Some(0), "actions={actions}: {stderr}");
    }
}

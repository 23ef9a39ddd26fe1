//! The getting-started walkthrough, run: every `$` line of the console blocks of
//! docs/src/getting-started/first-steps.md, in order, in a new directory beside which its
//! bare remote goes, with the clock and the git identity the page says. A line is split
//! into words (shell-words rules, never a shell): leading `NAME=value` words are its
//! environment, `git` runs git and `shipgate` the binary just built; a trailing `# …
//! exit N` comment is the exit code expected (0 otherwise). The lines shown under a command
//! are compared with what it printed (stdout, then stderr), a `…` line standing for any
//! lines and `…` in a line for any text.

use std::path::{Path, PathBuf};
use std::process::Command;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

const PAGE: &str = "docs/src/getting-started/first-steps.md";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One `$` line and the output shown under it.
#[derive(Debug)]
struct Step {
    line: usize,
    command: String,
    shown: Vec<String>,
}

/// The steps of the page's console blocks, in order.
fn steps(text: &str) -> Vec<Step> {
    let mut out = Vec::new();
    let mut block: Option<(usize, String)> = None;
    for (event, range) in Parser::new(text).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info)))
                if info.split_whitespace().next() == Some("console") =>
            {
                let line = text[..range.start].matches('\n').count() + 2;
                block = Some((line, String::new()));
            }
            Event::Text(t) => {
                if let Some((_, b)) = &mut block {
                    b.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some((first, b)) = block.take() {
                    for (i, l) in b.lines().enumerate() {
                        match l.strip_prefix("$ ") {
                            Some(command) => out.push(Step {
                                line: first + i,
                                command: command.to_string(),
                                shown: Vec::new(),
                            }),
                            None => match out.last_mut() {
                                Some(step) => step.shown.push(l.to_string()),
                                None => panic!("{PAGE}:{}: output before any command", first + i),
                            },
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The words of a command line, its environment, and the exit code its comment expects.
fn parse(command: &str) -> (Vec<(String, String)>, Vec<String>, i32) {
    let (line, comment) = match command.find(" #") {
        Some(i) => (&command[..i], &command[i + 2..]),
        None => (command, ""),
    };
    let code = comment
        .split_once("exit ")
        .and_then(|(_, n)| n.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let words = shlex::split(line).unwrap_or_else(|| panic!("cannot split `{line}`"));
    let mut env = Vec::new();
    let mut rest = words.into_iter().peekable();
    while let Some(w) = rest.peek() {
        match w.split_once('=') {
            Some((k, v))
                if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                env.push((k.to_string(), v.to_string()));
                rest.next();
            }
            _ => break,
        }
    }
    (env, rest.collect(), code)
}

/// Whether `line` is `pattern`, a `…` in it standing for any text.
fn line_matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split('…').collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || !line[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

/// Whether the output `lines` are the `shown` ones, a `…` line standing for any lines.
fn output_matches(shown: &[String], lines: &[&str]) -> bool {
    match shown.split_first() {
        None => lines.is_empty(),
        Some((first, rest)) if first == "…" => {
            (0..=lines.len()).any(|skip| output_matches(rest, &lines[skip..]))
        }
        Some((first, rest)) => lines
            .split_first()
            .is_some_and(|(l, more)| line_matches(first, l) && output_matches(rest, more)),
    }
}

#[test]
fn the_first_steps_page_runs_as_it_is_written() {
    let text = std::fs::read_to_string(root().join(PAGE)).expect("the page");
    let steps = steps(&text);
    assert!(steps.len() >= 15, "only {} steps in {PAGE}", steps.len());

    let tmp = tempfile::tempdir().expect("tempdir");
    // The reader's machine: a git identity in HOME, nothing from this one's.
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).expect("mkdir");
    std::fs::write(
        home.join(".gitconfig"),
        "[user]\n\tname = You\n\temail = you@example.com\n",
    )
    .expect("write");
    let shop = tmp.path().join("shop");
    std::fs::create_dir(&shop).expect("mkdir");
    // The recording the page links to, saved in the repository as it says.
    std::fs::copy(
        root().join("docs/src/getting-started/first-canary.json"),
        shop.join("first-canary.json"),
    )
    .expect("the recording");

    for step in &steps {
        let at = format!("{PAGE}:{}: `{}`", step.line, step.command);
        let (env, words, code) = parse(&step.command);
        let (program, args) = words.split_first().unwrap_or_else(|| panic!("{at}: empty"));
        let mut cmd = match program.as_str() {
            "git" => Command::new("git"),
            "shipgate" => Command::new(env!("CARGO_BIN_EXE_shipgate")),
            other => panic!("{at}: the walkthrough runs git and shipgate, not `{other}`"),
        };
        cmd.current_dir(&shop).args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("GIT_") || k.starts_with("GITHUB_") || k.starts_with("SHIPGATE_") {
                cmd.env_remove(&k);
            }
        }
        cmd.env("HOME", &home)
            .env("XDG_CONFIG_HOME", &home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("SHIPGATE_NOW", "2026-12-01T09:00:00Z")
            .env("SOURCE_DATE_EPOCH", "1796115600")
            .env("NO_COLOR", "1")
            .env_remove("GH_TOKEN");
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("{at}: cannot run: {e}"));
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.status.code(),
            Some(code),
            "{at}: exit {:?}, the page says {code}\n{printed}",
            out.status.code()
        );
        if !step.shown.is_empty() {
            let lines: Vec<&str> = printed.lines().collect();
            assert!(
                output_matches(&step.shown, &lines),
                "{at}: the page shows\n{}\nbut it printed\n{printed}",
                step.shown.join("\n")
            );
        }
    }
}

/// The matching itself: `…` lines and `…` in a line, and a difference found.
#[test]
fn shown_output_is_matched_line_by_line() {
    let shown = |s: &str| s.lines().map(String::from).collect::<Vec<_>>();
    let printed = ["a 1", "b", "c", "ledger 12ab (pushed)"];
    assert!(output_matches(
        &shown("a 1\n…\nledger … (pushed)"),
        &printed
    ));
    assert!(output_matches(&shown("…\nc\n…"), &printed));
    assert!(output_matches(&shown("a …\nb\nc\nledger …"), &printed));
    assert!(!output_matches(&shown("a 1\nb"), &printed));
    assert!(!output_matches(
        &shown("a 1\n…\nledger … (not pushed)"),
        &printed
    ));
    assert!(!output_matches(&shown("a 2\n…"), &printed));
    assert_eq!(
        parse("GITHUB_ACTOR=alice shipgate approve 0.1.1 --env prod   # exit 1"),
        (
            vec![("GITHUB_ACTOR".into(), "alice".into())],
            vec![
                "shipgate".into(),
                "approve".into(),
                "0.1.1".into(),
                "--env".into(),
                "prod".into()
            ],
            1
        )
    );
    let (_, words, code) = parse("git commit -m \"feat: the shop's page\"");
    assert_eq!((words[3].as_str(), code), ("feat: the shop's page", 0));
}

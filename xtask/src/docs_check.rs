//! What the site's pages are checked for (by the tests: `cargo xtask test` runs them),
//! offline and without mdBook: their fenced blocks
//! and command lines (read with pulldown-cmark, as mdBook reads them), the headings' anchors
//! as mdBook makes them, and each check itself (a TOML example against shipgate.toml's
//! schema and loader, a command line against the binary's clap definitions, a link
//! against the pages and their anchors).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// Where the published site lives: links to it from README.md are links to its pages.
pub const SITE: &str = "https://shipgate.github.io/shipgate/";

/// xtask's own commands (the others are the binary's, see [`xtask_as_shipgate`]).
pub const XTASK_OWN: &[&str] = &["test", "ci", "dist", "bench", "docs", "help"];

/// A Markdown file, by its path relative to the repository root.
#[derive(Debug, Clone)]
pub struct Page {
    pub path: PathBuf,
    pub text: String,
}

/// A fenced code block: its info string's first word, its first line's number, its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub lang: String,
    pub line: usize,
    pub text: String,
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The fenced code blocks of `text`.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    for (event, range) in Parser::new_ext(text, options()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let lang = info
                    .split([' ', ','])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                current = Some(Block {
                    lang,
                    line: line_of(text, range.start) + 1,
                    text: String::new(),
                });
            }
            Event::Text(t) => {
                if let Some(b) = &mut current {
                    b.text.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => out.extend(current.take()),
            _ => {}
        }
    }
    out
}

/// The inline code spans of `text`, with their lines.
fn code_spans(text: &str) -> Vec<(usize, String)> {
    Parser::new_ext(text, options())
        .into_offset_iter()
        .filter_map(|(e, r)| match e {
            Event::Code(c) => Some((line_of(text, r.start), c.to_string())),
            _ => None,
        })
        .collect()
}

/// The links of `text` (destinations), with their lines.
pub fn links(text: &str) -> Vec<(usize, String)> {
    Parser::new_ext(text, options())
        .into_offset_iter()
        .filter_map(|(e, r)| match e {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some((line_of(text, r.start), dest_url.to_string()))
            }
            _ => None,
        })
        .collect()
}

/// The anchors mdBook gives the headings of `text`: an explicit `{#id}`, or the heading's
/// text lower-cased, spaces made `-`, other punctuation dropped, a repeat numbered.
pub fn anchors(text: &str) -> HashSet<String> {
    let mut used = HashSet::new();
    let mut heading: Option<(String, Option<String>)> = None;
    for event in Parser::new_ext(text, options()) {
        match event {
            Event::Start(Tag::Heading { id, .. }) => {
                heading = Some((String::new(), id.map(|i| i.to_string())));
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((h, _)) = &mut heading {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((content, explicit)) = heading.take() {
                    let id = explicit.unwrap_or_else(|| id_from_content(&content));
                    let mut unique = id.clone();
                    let mut n = 0;
                    while !used.insert(unique.clone()) {
                        n += 1;
                        unique = format!("{id}-{n}");
                    }
                }
            }
            _ => {}
        }
    }
    used
}

fn id_from_content(content: &str) -> String {
    content
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|ch| {
            if ch.is_alphanumeric() || ch == '_' || ch == '-' {
                Some(ch)
            } else if ch.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// What is wrong with a TOML example: the schema's complaints, then the loader's.
pub fn toml_problems(validator: &jsonschema::Validator, text: &str) -> Vec<String> {
    let value: serde_json::Value = match toml::from_str(text) {
        Ok(v) => v,
        Err(e) => return vec![format!("not TOML: {e}")],
    };
    let mut problems: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("schema: {e} at {}", e.instance_path()))
        .collect();
    if problems.is_empty()
        && let Err(e) = shipgate_settings::parse(text)
    {
        problems.push(format!("shipgate: {}:{}: {}", e.line, e.column, e.message));
    }
    problems
}

/// Whether a TOML block is meant as (part of) shipgate.toml: every top-level key is one of
/// its sections. Other TOML (Cargo.toml, a Rollout's values) is left alone.
pub fn is_shipgate_toml(text: &str, sections: &[String]) -> bool {
    match toml::from_str::<toml::Table>(text) {
        Ok(t) => !t.is_empty() && t.keys().all(|k| sections.contains(k)),
        // Not TOML at all: it claims to be, so it is checked (and fails).
        Err(_) => !text.trim().is_empty(),
    }
}

/// The command lines of a page: `$ …` lines of console blocks, the lines of shell blocks,
/// `run:` lines of YAML blocks, and inline code that starts with `shipgate ` or
/// `cargo xtask `. Only those that run shipgate or cargo xtask.
pub fn command_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for block in blocks(text) {
        for (i, line) in block.text.lines().enumerate() {
            let n = block.line + i;
            let line = line.trim();
            let command = match block.lang.as_str() {
                "console" => line.strip_prefix("$ "),
                "sh" | "bash" | "shell" => Some(line),
                "yaml" | "yml" => line
                    .strip_prefix("- run: ")
                    .or_else(|| line.strip_prefix("run: ")),
                _ => None,
            };
            if let Some(c) = command {
                out.extend(commands_in(c).into_iter().map(|c| (n, c)));
            }
        }
    }
    for (n, span) in code_spans(text) {
        if span.starts_with("shipgate ") || span.starts_with("cargo xtask ") {
            out.push((n, span));
        }
    }
    out
}

/// The shipgate or cargo xtask commands of one shell line: split at `&&`, `||`, `;` and
/// `|`, a comment cut off.
fn commands_in(line: &str) -> Vec<String> {
    let line = match line.find(" #") {
        Some(i) => &line[..i],
        None => line,
    };
    line.split("&&")
        .flat_map(|p| p.split("||"))
        .flat_map(|p| p.split(';'))
        .flat_map(|p| p.split(" | "))
        .map(str::trim)
        .map(|c| c.trim_start_matches("$(").trim_start_matches('('))
        .filter(|c| c.starts_with("shipgate ") || *c == "shipgate" || c.starts_with("cargo xtask"))
        .map(String::from)
        .collect()
}

/// The words of a command, redirections and what follows them dropped, synopsis brackets
/// taken off (`[--dry-run]`).
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let split = shlex::split(command).unwrap_or_else(|| {
        command
            .split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>()
    });
    for w in split {
        if w.starts_with('>') || w.starts_with('<') || w.starts_with("2>") || w == "2>&1" {
            break;
        }
        let w = w.trim_start_matches('[').trim_end_matches(']').to_string();
        if !w.is_empty() {
            out.push(w);
        }
    }
    out
}

/// `cargo xtask X …` as the binary's command it runs, when it is one of those.
fn xtask_as_shipgate(sub: &str) -> Option<&'static [&'static str]> {
    Some(match sub {
        "release" => &["release"],
        "validate" => &["config", "validate"],
        "canary" => &["canary", "run"],
        "promote" => &["promote"],
        "rollback" => &["rollback"],
        "approve" => &["approve"],
        "status" => &["status"],
        _ => return None,
    })
}

/// What is wrong with one command line: an unknown command or flag, or (for a full line
/// with no synopsis in it) what clap itself refuses of names and values.
pub fn command_problems(command: &str) -> Vec<String> {
    let mut w = words(command);
    let mut problems = Vec::new();
    let shipgate_words: Vec<String> = if w.first().is_some_and(|f| f == "cargo") {
        if w.get(1).is_none_or(|x| x != "xtask") {
            return problems;
        }
        let Some(sub) = w.get(2).cloned() else {
            return vec!["`cargo xtask` without a command".into()];
        };
        // A synopsis's alternatives: each must exist.
        if sub.contains('|') {
            return sub
                .split('|')
                .flat_map(|alt| command_problems(&format!("cargo xtask {alt}")))
                .collect();
        }
        match xtask_as_shipgate(&sub) {
            Some(path) => path
                .iter()
                .map(|s| s.to_string())
                .chain(w.drain(3..))
                .collect(),
            None if XTASK_OWN.contains(&sub.as_str()) => {
                for flag in w[3..].iter().filter(|x| x.starts_with('-')) {
                    let name = flag.split('=').next().unwrap_or(flag);
                    if !crate::USAGE.contains(name) {
                        problems.push(format!("`cargo xtask {sub}` has no flag `{name}`"));
                    }
                }
                return problems;
            }
            None => return vec![format!("`cargo xtask` has no command `{sub}`")],
        }
    } else {
        w.drain(1..).collect()
    };
    problems.extend(names_problems(&shipgate_words));
    let synopsis = command.contains('[')
        || command.contains('…')
        || command.contains('<')
        || command.contains("...")
        || shipgate_words.iter().any(|x| x.contains('|') || x == "-");
    if problems.is_empty() && !synopsis {
        let argv = std::iter::once("shipgate".to_string()).chain(shipgate_words.iter().cloned());
        if let Err(e) = shipgate::Cli::command().try_get_matches_from(argv) {
            use clap::error::ErrorKind::*;
            if matches!(
                e.kind(),
                UnknownArgument | InvalidSubcommand | InvalidValue | NoEquals
            ) {
                let first = e.to_string();
                let first = first.lines().next().unwrap_or_default().to_string();
                problems.push(first);
            }
        }
    }
    problems
}

/// Every subcommand and flag named in `words` (after `shipgate`) exists where it is used.
fn names_problems(words: &[String]) -> Vec<String> {
    let root = shipgate::Cli::command();
    let globals: Vec<String> = root
        .get_arguments()
        .filter(|a| a.is_global_set())
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect();
    let mut cmd = &root;
    let mut path = vec!["shipgate".to_string()];
    let mut problems = Vec::new();
    let mut positional_seen = false;
    let mut expect_value = false;
    for word in words {
        if expect_value {
            expect_value = false;
            continue;
        }
        if let Some(flag) = word.strip_prefix('-').filter(|f| !f.is_empty()) {
            if word == "--" {
                break;
            }
            let name = word.split('=').next().unwrap_or(word);
            if matches!(name, "--help" | "-h" | "--version" | "-V") {
                continue;
            }
            let arg = if let Some(long) = name.strip_prefix("--") {
                cmd.get_arguments().find(|a| a.get_long() == Some(long))
            } else {
                let short = flag.chars().next();
                cmd.get_arguments().find(|a| a.get_short() == short)
            };
            match arg {
                Some(a) => {
                    let takes = a.get_num_args().is_some_and(|n| n.takes_values())
                        && !matches!(
                            a.get_action(),
                            clap::ArgAction::SetTrue
                                | clap::ArgAction::SetFalse
                                | clap::ArgAction::Count
                        );
                    expect_value = takes && !word.contains('=');
                }
                None if globals.iter().any(|g| g == name) => {
                    expect_value = name != "--json";
                }
                None => problems.push(format!("`{}` has no flag `{name}`", path.join(" "))),
            }
            continue;
        }
        if positional_seen || !cmd.has_subcommands() {
            positional_seen = true;
            continue;
        }
        match cmd.find_subcommand(word) {
            Some(sub) => {
                cmd = sub;
                path.push(word.clone());
            }
            None if word.contains('|') || word.starts_with('<') => positional_seen = true,
            None => {
                problems.push(format!("`{}` has no command `{word}`", path.join(" ")));
                positional_seen = true;
            }
        }
    }
    problems
}

/// Where a link of `from` (a path relative to the repository root) points, as a page of
/// `pages` and an anchor; None for links outside the site (other hosts, repository files
/// named by the README).
pub fn link_target(from: &Path, dest: &str) -> Option<(PathBuf, Option<String>)> {
    if dest.starts_with("mailto:") {
        return None;
    }
    let (base, relative) = match dest.strip_prefix(SITE) {
        Some(rest) => (PathBuf::from("docs/src"), rest),
        None if dest.contains("://") => return None,
        None => (
            from.parent().map(Path::to_path_buf).unwrap_or_default(),
            dest,
        ),
    };
    let (file, anchor) = match relative.split_once('#') {
        Some((f, a)) => (f, Some(a.to_string())),
        None => (relative, None),
    };
    let target = if file.is_empty() {
        from.to_path_buf()
    } else {
        let file = match file.strip_suffix(".html") {
            Some(stem) if dest.starts_with(SITE) => format!("{stem}.md"),
            _ => file.to_string(),
        };
        let file = if file.ends_with('/') || file.is_empty() {
            format!("{file}index.md")
        } else {
            file
        };
        normalize(&base.join(file))
    };
    Some((target, anchor))
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// What is wrong with the links of `pages`: a page or file that does not exist (`exists`
/// answers for files that are not pages), an anchor no heading has.
pub fn link_problems(pages: &[Page], exists: impl Fn(&Path) -> bool) -> Vec<String> {
    let by_path: BTreeMap<&Path, &Page> = pages.iter().map(|p| (p.path.as_path(), p)).collect();
    let anchors: BTreeMap<&Path, HashSet<String>> = pages
        .iter()
        .map(|p| (p.path.as_path(), anchors(&p.text)))
        .collect();
    let mut problems = Vec::new();
    for page in pages {
        for (line, dest) in links(&page.text) {
            let Some((target, anchor)) = link_target(&page.path, &dest) else {
                continue;
            };
            let at = format!("{}:{line}: `{dest}`", page.path.display());
            match (by_path.get(target.as_path()), anchor) {
                (Some(_), None) => {}
                (Some(_), Some(a)) => {
                    if !anchors[target.as_path()].contains(&a) {
                        problems.push(format!("{at}: no heading has the anchor `#{a}`"));
                    }
                }
                (None, None) if exists(&target) => {}
                (None, _) => problems.push(format!("{at}: {} does not exist", target.display())),
            }
        }
    }
    problems
}

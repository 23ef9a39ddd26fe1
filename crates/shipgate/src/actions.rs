//! GitHub Actions, spoken natively when `GITHUB_ACTIONS=true`: annotations for every
//! `error:`/`warning:`/`note:` the binary prints, `::group::` folding of long output, step
//! summaries appended to `$GITHUB_STEP_SUMMARY`, outputs appended to `$GITHUB_OUTPUT`, and
//! outside text made inert in the log. Outside Actions every function here prints exactly
//! what the binary printed before (tokens redacted from error lines aside) and touches no
//! file.
//!
//! The first half is pure (escaping, formatting, redaction: functions of their inputs,
//! unit-tested on hostile strings); the second half is the small I/O: the environment, the
//! two streams and the two append-only files. The libraries know nothing of Actions: they
//! return data, and the binary renders it through this module.
//!
//! # Why outside text is escaped line by line, not wrapped in `::stop-commands::`
//!
//! The runner reads a step's stdout and stderr through two pipes and processes their
//! lines in the order they arrive, line by line: a line whose text, trimmed, starts with
//! `::`, or that contains `##[` anywhere, is a workflow command (`::error::…`,
//! `##[set-output …]`). A `::stop-commands::TOKEN` … `::TOKEN::` window is state shared by
//! both pipes: a window opened and closed on stderr can be closed before a line written
//! earlier on stdout arrives, and that line is then read as a command. The markers would
//! also be written into whatever reads stdout (`--json | jq`). So the binary keeps no
//! state: every line of text it prints while `GITHUB_ACTIONS=true` goes through [`inert`],
//! which breaks exactly the two patterns the runner looks for with a zero-width space
//! (U+200B: not whitespace to the runner's `Trim()`, invisible to a reader), and JSON goes
//! through [`inert_json`], which writes `[` after `##` as the JSON escape `\u005b` (the same
//! JSON value, byte for byte after parsing). Lines are split where the runner splits them:
//! at `\n`, at `\r\n` and at a lone `\r`. Only the binary's own workflow commands are
//! printed raw, and their data is escaped as the runner expects ([`escape_data`],
//! [`escape_property`]), so they stay one line whatever they carry.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

// ---------------------------------------------------------------------------------------
// Pure: escaping and formatting
// ---------------------------------------------------------------------------------------

/// A workflow command's data (the message): `%`, `\r` and `\n` escaped as the runner
/// unescapes them, so the command stays one line.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value (`file=`, `title=`): [`escape_data`], and `:` and
/// `,`, which would end the value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// How serious a message is: `error:`, `warning:` or `note:` in the text output;
/// `::error`, `::warning` or `::notice` as an annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Note,
}

impl Level {
    /// The prefix of the text line: `error`, `warning`, `note`.
    pub fn prefix(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }

    /// The workflow command: `error`, `warning`, `notice`.
    pub fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "notice",
        }
    }
}

/// Where a message points: a file (relative to the workspace, as annotations want it),
/// and a line and column when known (1-based).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: Option<usize>,
    pub col: Option<usize>,
}

/// One annotation: `::error file=F,line=L,col=C,title=T::message%0Ahint: …`.
#[derive(Debug, Clone, Copy)]
pub struct Annotation<'a> {
    pub level: Level,
    /// `shipgate <subcommand>`.
    pub title: &'a str,
    pub location: Option<&'a Location>,
    pub message: &'a str,
    /// Shown on a line of its own after the message.
    pub hint: Option<&'a str>,
}

/// The workflow command of `a`, one line with its newline.
pub fn annotation(a: &Annotation<'_>) -> String {
    let mut properties = Vec::new();
    if let Some(loc) = a.location {
        properties.push(format!("file={}", escape_property(&loc.file)));
        if let Some(line) = loc.line {
            properties.push(format!("line={line}"));
        }
        if let Some(col) = loc.col {
            properties.push(format!("col={col}"));
        }
    }
    properties.push(format!("title={}", escape_property(a.title)));
    let mut message = a.message.to_string();
    if let Some(hint) = a.hint {
        message.push_str("\nhint: ");
        message.push_str(hint);
    }
    format!(
        "::{} {}::{}\n",
        a.level.command(),
        properties.join(","),
        escape_data(&message)
    )
}

/// Whether the runner reads `line` (one line, without its end) as a workflow command.
pub fn is_command(line: &str) -> bool {
    line.trim_start().starts_with("::") || line.contains("##[")
}

/// Breaks what the runner would read as a command: a zero-width space (see the module
/// docs).
pub const BREAK: char = '\u{200B}';

/// `text` with every line the runner would read as a command made inert: a zero-width
/// space before a leading `::` and between `##` and `[`. Lines end where the runner ends
/// them (`\n`, `\r\n`, a lone `\r`); the line ends themselves are kept. Text with no such
/// line is returned as it is.
pub fn inert(text: &str) -> Cow<'_, str> {
    escape_lines(text, &format!("{BREAK}::"), &format!("##{BREAK}["))
}

/// `text` with, on every line the runner would read as a command, a leading `::` written
/// `leading` and every `##[` written `hashes`.
fn escape_lines<'a>(text: &'a str, leading: &str, hashes: &str) -> Cow<'a, str> {
    if !text.split(['\r', '\n']).any(is_command) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive(['\r', '\n']) {
        let body = line.trim_start();
        out.push_str(&line[..line.len() - body.len()]);
        let body = match body.strip_prefix("::") {
            Some(rest) => {
                out.push_str(leading);
                rest
            }
            None => body,
        };
        out.push_str(&body.replace("##[", hashes));
    }
    Cow::Owned(out)
}

/// JSON text with `##[` written `##\u005b`: the same JSON value, and no line the runner
/// reads as a command (JSON text has `#` only inside strings, where `\u005b` is `[`, and no
/// line of it starts with `::`).
pub fn inert_json(text: &str) -> Cow<'_, str> {
    if text.contains("##[") {
        Cow::Owned(text.replace("##[", "##\\u005b"))
    } else {
        Cow::Borrowed(text)
    }
}

/// XML text (JUnit) with the same XML value and no command line: `[` after `##` and the
/// first `:` of a line that starts with `::` written as character references (a line of
/// XML starts with `::` only inside text or an attribute value, where they are read back).
pub fn inert_xml(text: &str) -> Cow<'_, str> {
    escape_lines(text, "&#58;:", "##&#91;")
}

/// Tokens shorter than this are not redacted: they would mangle ordinary words.
pub const MIN_TOKEN_LEN: usize = 8;

/// `text` with every token of `tokens` (of [`MIN_TOKEN_LEN`] characters or more) replaced
/// by `***`.
pub fn redact<'a>(text: &'a str, tokens: &[String]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for token in tokens.iter().filter(|t| t.len() >= MIN_TOKEN_LEN) {
        if out.contains(token.as_str()) {
            out = Cow::Owned(out.replace(token.as_str(), "***"));
        }
    }
    out
}

/// `::group::title` (the title escaped as data), with its newline.
pub fn group_start(title: &str) -> String {
    format!("::group::{}\n", escape_data(title))
}

/// `::endgroup::`, with its newline.
pub const GROUP_END: &str = "::endgroup::\n";

/// A heredoc delimiter for `value`: `ghadelimiter_` and random hex from `random`, drawn
/// again until it occurs in neither the name nor the value (so the value cannot end its
/// own entry early).
pub fn delimiter(name: &str, value: &str, random: &mut dyn FnMut() -> u64) -> String {
    loop {
        let d = format!("ghadelimiter_{:016x}{:016x}", random(), random());
        if !value.contains(&d) && !name.contains(&d) {
            return d;
        }
    }
}

/// An output name that is not this binary's own kind (letters, digits, `-`, `_`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadOutputName(pub String);

impl std::fmt::Display for BadOutputName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` is not an output name", self.0)
    }
}

impl std::error::Error for BadOutputName {}

/// Outputs in the runner's multi-line-safe form, `name<<DELIM\nvalue\nDELIM\n` each. A
/// name is this binary's own (letters, digits, `-`, `_`); anything else is refused.
pub fn output_entries(
    pairs: &[(&str, String)],
    random: &mut dyn FnMut() -> u64,
) -> Result<String, BadOutputName> {
    let mut out = String::new();
    for (name, value) in pairs {
        let good = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !good {
            return Err(BadOutputName((*name).to_string()));
        }
        let d = delimiter(name, value, random);
        let _ = write!(out, "{name}<<{d}\n{value}\n{d}\n");
    }
    Ok(out)
}

/// Outside text for Markdown (a step summary's table cell or sentence): rendered as the
/// text it is, never as HTML, a table, a code span, emphasis or a link. One line.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' | '\n' => out.push(' '),
            '|' | '`' | '\\' | '*' | '_' | '[' | ']' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A Markdown table with a blank line after it; the cells are Markdown already (outside
/// text in them escaped with [`md`]).
pub fn md_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out.push('\n');
    out
}

/// Markdown made by shipgate from outside text (release notes: commit messages in a
/// template) for a step summary: its structure kept, but no HTML and no table can come
/// from the text (`&`, `<` and `>` as entities, `|` escaped; all render as themselves).
pub fn md_document(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}

/// `file` as an annotation wants it: relative to the workspace (`workspace`, else the
/// current directory `cwd`) when inside it, without `./`.
pub fn relative_file(file: &Path, workspace: Option<&Path>, cwd: Option<&Path>) -> String {
    let rel = [workspace, cwd]
        .into_iter()
        .flatten()
        .find_map(|base| file.strip_prefix(base).ok())
        .unwrap_or(file);
    rel.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect::<PathBuf>()
        .to_string_lossy()
        .into_owned()
}

// ---------------------------------------------------------------------------------------
// I/O: the environment, the streams, the two files
// ---------------------------------------------------------------------------------------

/// The subcommand being run (`config validate`), for annotation titles.
static SUBCOMMAND: Mutex<Option<String>> = Mutex::new(None);

/// Names the subcommand that the following messages come from (`release`, `canary run`).
pub fn begin(subcommand: &str) {
    if let Ok(mut s) = SUBCOMMAND.lock() {
        *s = Some(subcommand.to_string());
    }
}

/// The subcommands of a parsed command line, space-separated: `config validate`.
pub fn subcommand_path(matches: &clap::ArgMatches) -> String {
    let mut names = Vec::new();
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        names.push(name.to_string());
        m = sub;
    }
    names.join(" ")
}

/// `shipgate <subcommand>`.
fn title() -> String {
    match SUBCOMMAND.lock().ok().and_then(|s| s.clone()) {
        Some(sub) if !sub.is_empty() => format!("shipgate {sub}"),
        _ => "shipgate".to_string(),
    }
}

/// Whether this is a GitHub Actions step: `GITHUB_ACTIONS=true`.
pub fn active() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// The values of `GITHUB_TOKEN` and `GH_TOKEN`.
fn tokens() -> Vec<String> {
    ["GITHUB_TOKEN", "GH_TOKEN"]
        .iter()
        .filter_map(|n| std::env::var(n).ok())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Whether stdout goes to the log: in Actions, unless it is redirected to a regular file
/// (`shipgate changelog > CHANGELOG.md` writes data, not log).
pub fn stdout_is_log() -> bool {
    use std::os::fd::AsFd as _;
    if !active() {
        return false;
    }
    let is_file = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
        .and_then(|f| f.metadata())
        .is_ok_and(|m| m.is_file());
    !is_file
}

/// Prints human text to stdout as `print!` does; in the Actions log, [`inert`].
pub fn out(text: &str) {
    write_or_stop(&mut std::io::stdout().lock(), &log_text(text));
}

/// Writes `text`; a reader that went away (`| head`) is its choice, not an error: the rest of
/// the output is dropped instead of a panic halfway through a command (`print!` panics on a
/// closed pipe). Any other failure to write is said once on stderr.
fn write_or_stop(to: &mut impl std::io::Write, text: &str) {
    if let Err(e) = to.write_all(text.as_bytes()).and_then(|()| to.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        let _ = writeln!(
            std::io::stderr().lock(),
            "warning: cannot write the output: {e}"
        );
    }
}

/// Prints human text to stderr as `eprint!` does, tokens redacted; in Actions, [`inert`].
pub fn err(text: &str) {
    let text = redact(text, &tokens());
    let text = if active() {
        inert(&text)
    } else {
        Cow::Borrowed(text.as_ref())
    };
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), text.as_bytes());
}

/// Human text for stdout: [`inert`] when stdout is the Actions log.
pub fn log_text(text: &str) -> Cow<'_, str> {
    if stdout_is_log() {
        inert(text)
    } else {
        Cow::Borrowed(text)
    }
}

/// XML text for stdout: [`inert_xml`] when stdout is the Actions log.
pub fn xml(text: &str) -> Cow<'_, str> {
    if stdout_is_log() {
        inert_xml(text)
    } else {
        Cow::Borrowed(text)
    }
}

/// `value` as pretty JSON with every object's keys in alphabetical order (through a
/// [`serde_json::Value`]): the order of the outputs that were built with `json!` before
/// they had types, kept byte for byte.
pub fn sorted_json(value: &impl serde::Serialize) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&serde_json::to_value(value)?)
}

/// JSON text for stdout: [`inert_json`] when stdout is the Actions log.
pub fn json(text: &str) -> Cow<'_, str> {
    if stdout_is_log() {
        inert_json(text)
    } else {
        Cow::Borrowed(text)
    }
}

/// `println!` through [`out`].
macro_rules! outln {
    () => { $crate::actions::out("\n") };
    ($($t:tt)*) => { $crate::actions::out(&(format!($($t)*) + "\n")) };
}
pub(crate) use outln;

/// `print!` through [`out`].
macro_rules! outp {
    ($($t:tt)*) => { $crate::actions::out(&format!($($t)*)) };
}
pub(crate) use outp;

/// `eprint!` through [`err`].
macro_rules! errp {
    ($($t:tt)*) => { $crate::actions::err(&format!($($t)*)) };
}
pub(crate) use errp;

/// `eprintln!` through [`err`].
macro_rules! errln {
    ($($t:tt)*) => { $crate::actions::err(&(format!($($t)*) + "\n")) };
}
pub(crate) use errln;

/// Prints `error: …` / `warning: …` / `note: …` and `hint: …` on stderr (tokens redacted,
/// in and out of Actions); in Actions also the annotation, at `location` when given.
pub fn message(level: Level, text: &str, hint: Option<&str>, location: Option<&Location>) {
    let tokens = tokens();
    let text = redact(text, &tokens);
    let hint = hint.map(|h| redact(h, &tokens));
    let mut lines = format!("{}: {text}\n", level.prefix());
    if let Some(h) = &hint {
        let _ = writeln!(lines, "hint: {h}");
    }
    if active() {
        eprint!("{}", inert(&lines));
        annotate_with(level, &text, hint.as_deref(), location);
    } else {
        eprint!("{lines}");
    }
}

/// `error: …` (see [`message`]).
pub fn error(text: &str, hint: Option<&str>, location: Option<&Location>) {
    message(Level::Error, text, hint, location);
}

/// `warning: …` (see [`message`]).
pub fn warning(text: &str, hint: Option<&str>) {
    message(Level::Warning, text, hint, None);
}

/// `note: …` (see [`message`]).
pub fn note(text: &str) {
    message(Level::Note, text, None, None);
}

/// In Actions only: an annotation for a "no" that the text output already says in its own
/// words (a refused promotion, a canary rolled back). Nothing outside Actions.
pub fn annotate(level: Level, text: &str, hint: Option<&str>) {
    annotate_at(level, text, hint, None);
}

/// [`annotate`] at a file, line and column.
pub fn annotate_at(level: Level, text: &str, hint: Option<&str>, location: Option<&Location>) {
    if active() {
        let tokens = tokens();
        let text = redact(text, &tokens);
        let hint = hint.map(|h| redact(h, &tokens));
        annotate_with(level, &text, hint.as_deref(), location);
    }
}

fn annotate_with(level: Level, text: &str, hint: Option<&str>, location: Option<&Location>) {
    let title = title();
    eprint!(
        "{}",
        annotation(&Annotation {
            level,
            title: &title,
            location,
            message: text,
            hint,
        })
    );
}

/// Prints clap's answer to a command line it refused (or `--help`, `--version`) as clap
/// does; in Actions an error's text, which quotes the arguments given, is [`inert`] and
/// also an `::error`.
pub fn print_clap_error(e: &clap::Error) {
    if !(active() && e.use_stderr()) {
        let _ = e.print();
        return;
    }
    let text = e.render().to_string();
    err(&text);
    let first = text.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    annotate(Level::Error, first, Some("see `shipgate --help`"));
}

/// Where an error points, when one of its chain carries a file (and a line): settings
/// errors of shipgate.toml.
pub fn location_of(err: &anyhow::Error) -> Option<Location> {
    use shipgate_settings::SettingsError;
    let workspace = std::env::var_os("GITHUB_WORKSPACE").map(PathBuf::from);
    let cwd = std::env::current_dir().ok();
    let file = |p: &Path| relative_file(p, workspace.as_deref(), cwd.as_deref());
    err.chain()
        .find_map(|e| match e.downcast_ref::<SettingsError>()? {
            SettingsError::Invalid {
                path, line, column, ..
            } => Some(Location {
                file: file(path),
                line: Some(*line),
                col: Some(*column),
            }),
            SettingsError::Read { path, .. } => Some(Location {
                file: file(path),
                line: None,
                col: None,
            }),
        })
}

/// A folded section of the Actions log (`::group::` … `::endgroup::`), closed when
/// dropped; outside Actions, nothing.
pub struct Group {
    stream: Option<Stream>,
}

#[derive(Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

impl Group {
    /// A group of stdout lines (when stdout is the log).
    pub fn stdout(title: &str) -> Group {
        let stream = stdout_is_log().then(|| {
            print!("{}", group_start(title));
            Stream::Stdout
        });
        Group { stream }
    }

    /// A group of stderr lines (in Actions).
    pub fn stderr(title: &str) -> Group {
        let stream = active().then(|| {
            eprint!("{}", group_start(title));
            Stream::Stderr
        });
        Group { stream }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        match self.stream {
            Some(Stream::Stdout) => print!("{GROUP_END}"),
            Some(Stream::Stderr) => eprint!("{GROUP_END}"),
            None => {}
        }
    }
}

/// A random number from the standard library's randomly keyed hasher, mixed with the
/// time and the process: for heredoc delimiters, which are also checked against the value.
fn random() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    h.finish()
}

/// The file an Actions variable names, in Actions only.
fn file_of(var: &str) -> Option<PathBuf> {
    if !active() {
        return None;
    }
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `$GITHUB_STEP_SUMMARY`, in Actions only.
pub fn summary_path() -> Option<PathBuf> {
    file_of("GITHUB_STEP_SUMMARY")
}

/// Appends `text` to `path` (created if absent). Both files are append-only by design:
/// earlier steps' lines stay.
fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// Appends `pairs` to `$GITHUB_OUTPUT` in Actions; a file that cannot be written is a
/// warning (the command's answer stands).
pub fn set_outputs(pairs: &[(&str, String)]) {
    let Some(path) = file_of("GITHUB_OUTPUT") else {
        return;
    };
    let written = output_entries(pairs, &mut random)
        .map_err(|e| e.to_string())
        .and_then(|text| append(&path, &text).map_err(|e| e.to_string()));
    if let Err(e) = written {
        warning(
            &format!("cannot write the outputs to {}: {e}", path.display()),
            Some("GITHUB_OUTPUT names the file the runner reads the step's outputs from"),
        );
    }
}

/// Appends Markdown to `$GITHUB_STEP_SUMMARY` in Actions; a file that cannot be written is
/// a warning.
pub fn summary(markdown: &str) {
    let Some(path) = summary_path() else {
        return;
    };
    if let Err(e) = append(&path, markdown) {
        warning(
            &format!("cannot write the step summary to {}: {e}", path.display()),
            Some("GITHUB_STEP_SUMMARY names the file the runner shows as the step's summary"),
        );
    }
}

/// `true` / `false`, as outputs say it.
pub fn flag(b: bool) -> String {
    if b { "true" } else { "false" }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str =
        "100% done\r\n::error::pwned\n  ::warning file=x::y\rok ##[error]x, a:b %0A";

    /// The lines of `log` the runner would read as commands (this module never prints
    /// `::stop-commands::`; tests/actions.rs reads whole logs, windows included).
    fn commands(log: &str) -> Vec<&str> {
        log.split(['\r', '\n']).filter(|l| is_command(l)).collect()
    }

    #[test]
    fn data_and_properties_are_escaped_as_the_runner_expects() {
        assert_eq!(escape_data("100%\r\n::x"), "100%25%0D%0A::x");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(
            escape_data("%0A"),
            "%250A",
            "an escape in the text stays text"
        );
    }

    #[test]
    fn an_annotation_is_one_line_with_its_location_title_and_hint() {
        let loc = Location {
            file: "dir,1/shipgate.toml".into(),
            line: Some(3),
            col: Some(1),
        };
        let text = annotation(&Annotation {
            level: Level::Error,
            title: "shipgate release",
            location: Some(&loc),
            message: HOSTILE,
            hint: Some("did you mean `tag-format`?"),
        });
        assert_eq!(
            text,
            "::error file=dir%2C1/shipgate.toml,line=3,col=1,title=shipgate release::100%25 done%0D%0A::error::pwned%0A  ::warning file=x::y%0Dok ##[error]x, a:b %250A%0Ahint: did you mean `tag-format`?\n"
        );
        assert_eq!(text.lines().count(), 1);
        let plain = annotation(&Annotation {
            level: Level::Note,
            title: "shipgate promote",
            location: None,
            message: "m",
            hint: None,
        });
        assert_eq!(plain, "::notice title=shipgate promote::m\n");
    }

    #[test]
    fn hostile_text_is_inert_line_by_line_and_reads_the_same() {
        assert!(!commands(HOSTILE).is_empty(), "the fixture is hostile");
        let made = inert(HOSTILE);
        assert_eq!(commands(&made), Vec::<&str>::new(), "{made:?}");
        assert_eq!(made.replace(BREAK, ""), HOSTILE, "only breaks are added");
        for text in [
            "::",
            " \t::x",
            "##[",
            "###[[",
            "a##[b##[c",
            "\r\r::a\n\n##[",
        ] {
            let made = inert(text);
            assert!(commands(&made).is_empty(), "{text:?} -> {made:?}");
            assert_eq!(made.replace(BREAK, ""), text);
        }
        assert!(matches!(inert("plain\nlines: a::b\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_stays_the_same_value_and_inert() {
        let value = serde_json::json!({"subject": HOSTILE, "x": "\\##["});
        let text = serde_json::to_string_pretty(&value).expect("json");
        assert!(!commands(&text).is_empty());
        let made = inert_json(&text);
        assert!(commands(&made).is_empty(), "{made}");
        let back: serde_json::Value = serde_json::from_str(&made).expect("still json");
        assert_eq!(back, value);
    }

    #[test]
    fn xml_stays_the_same_text_and_inert() {
        let xml = "<failure message=\"a ##[error]b\">\n::error::pwned\n  ::x</failure>\n";
        let made = inert_xml(xml);
        assert!(commands(&made).is_empty(), "{made}");
        assert_eq!(
            made,
            "<failure message=\"a ##&#91;error]b\">\n&#58;:error::pwned\n  &#58;:x</failure>\n"
        );
    }

    #[test]
    fn tokens_are_redacted_short_ones_are_not() {
        let tokens = vec!["ghp_abcdef123456".to_string(), "t".to_string()];
        assert_eq!(
            redact("push to https://x:ghp_abcdef123456@h failed: t", &tokens),
            "push to https://x:***@h failed: t"
        );
        assert!(matches!(redact("nothing", &tokens), Cow::Borrowed(_)));
    }

    #[test]
    fn outputs_use_a_delimiter_that_is_not_in_the_value() {
        // A value holding the first delimiter drawn gets the next one.
        let mut n = 0u64;
        let mut random = || {
            n += 1;
            n / 2
        };
        let first = "ghadelimiter_00000000000000000000000000000001";
        let value = format!("a\n{first}\nversion<<x");
        let text = output_entries(
            &[("next", value.clone()), ("dry-run", flag(true))],
            &mut random,
        )
        .expect("good names");
        let mut lines = text.lines();
        let head = lines.next().expect("a line");
        let (name, delim) = head.split_once("<<").expect("heredoc");
        assert_eq!(name, "next");
        assert_ne!(delim, first);
        assert!(!value.contains(delim));
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != delim).collect();
        assert_eq!(body.join("\n"), value);
        let rest: Vec<&str> = lines.collect();
        assert_eq!(rest.len(), 3);
        assert!(rest[0].starts_with("dry-run<<ghadelimiter_"));
        assert_eq!(rest[1], "true");
        assert_eq!(
            output_entries(&[("a\nb", String::new())], &mut random),
            Err(BadOutputName("a\nb".into()))
        );
    }

    #[test]
    fn markdown_from_outside_text_renders_as_text() {
        assert_eq!(
            md("a | b <img src=x> `c` *d* [e](f)\n# g"),
            "a \\| b &lt;img src=x&gt; \\`c\\` \\*d\\* \\[e\\](f) \\# g"
        );
        assert_eq!(
            md_document("- feat: <b>x</b> | y & z\n"),
            "- feat: &lt;b&gt;x&lt;/b&gt; \\| y &amp; z\n"
        );
    }

    #[test]
    fn tables_have_a_header_a_rule_and_rows() {
        assert_eq!(
            md_table(&["a", "b"], &[vec!["1".into(), md("x|y")]]),
            "| a | b |\n|---|---|\n| 1 | x\\|y |\n\n"
        );
    }

    #[test]
    fn files_are_relative_to_the_workspace() {
        let ws = Path::new("/home/runner/work/r/r");
        assert_eq!(
            relative_file(
                Path::new("/home/runner/work/r/r/shipgate.toml"),
                Some(ws),
                None
            ),
            "shipgate.toml"
        );
        assert_eq!(
            relative_file(Path::new("./shipgate.toml"), Some(ws), None),
            "shipgate.toml"
        );
        assert_eq!(
            relative_file(Path::new("/etc/x.toml"), Some(ws), Some(Path::new("/tmp"))),
            "/etc/x.toml"
        );
        assert_eq!(
            relative_file(Path::new("/tmp/a/b.toml"), None, Some(Path::new("/tmp"))),
            "a/b.toml"
        );
    }

    #[test]
    fn groups_fold_with_an_escaped_title() {
        assert_eq!(group_start("notes\n::x"), "::group::notes%0A::x\n");
        assert_eq!(GROUP_END, "::endgroup::\n");
    }
}

//! The command-line reference page, generated from the binary's own `Cli` (clap): every
//! command, its usage, arguments and flags with their defaults and values, and its exit
//! codes (from [`EXIT_CODES`], which a test holds to the commands clap knows).

use std::fmt::Write as _;

use clap::CommandFactory;

/// What each command's exit codes 0 and 1 mean (2 is always "could not run"). A command
/// that only prints has no 1. Keyed by the command's path, `canary run`.
pub const EXIT_CODES: &[(&str, &str, Option<&str>)] = &[
    (
        "release",
        "released, or nothing to release (`--dry-run`: the plan printed)",
        None,
    ),
    ("changelog", "the notes printed or written", None),
    (
        "config validate",
        "no error found (warnings allowed)",
        Some("errors found"),
    ),
    ("config show", "the merged configuration printed", None),
    (
        "canary run",
        "the canary was promoted",
        Some("the canary failed or was inconclusive and was rolled back"),
    ),
    (
        "canary judge",
        "the recording passes",
        Some("the recording fails, or does not decide"),
    ),
    ("canary capture", "the recording written", None),
    (
        "canary analyze",
        "the judge passes",
        Some("the judge fails, or not enough evidence in time"),
    ),
    ("canary serve", "the server stopped on a signal", None),
    (
        "promote",
        "promoted (`--dry-run`: every gate holds)",
        Some("a gate refused"),
    ),
    ("rollback", "rolled back and recorded", Some("refused")),
    ("approve", "the approval recorded", Some("refused")),
    ("verify", "the verification recorded", Some("refused")),
    ("freeze", "the freeze recorded", Some("refused")),
    ("unfreeze", "the freeze ended", Some("refused")),
    ("unblock", "the version unblocked", Some("refused")),
    ("status", "the ledger's answer printed", None),
    ("history", "the entries printed", None),
    ("metrics", "the metrics printed", None),
    ("review", "the review printed or written", None),
    ("page", "the site written", None),
    (
        "notify test",
        "every channel took its message",
        Some("a channel refused or could not be reached"),
    ),
    (
        "notify retry",
        "the outbox is empty",
        Some("a delivery failed again and stays in the outbox"),
    ),
    ("schema", "the schema printed", None),
    ("init", "the files written (existing ones kept)", None),
    ("completions", "the script printed", None),
];

/// Every command path clap knows, leaves and groups alike (`canary`, `canary run`).
#[cfg(test)]
pub fn command_paths() -> Vec<(String, bool)> {
    fn walk(cmd: &clap::Command, prefix: &str, out: &mut Vec<(String, bool)>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let path = if prefix.is_empty() {
                sub.get_name().to_string()
            } else {
                format!("{prefix} {}", sub.get_name())
            };
            let leaf = !sub.has_subcommands();
            out.push((path.clone(), leaf));
            walk(sub, &path, out);
        }
    }
    let mut out = Vec::new();
    walk(&shipgate::Cli::command(), "", &mut out);
    out
}

fn arg_line(arg: &clap::Arg) -> Option<String> {
    // clap's own --help and --version are on every command and need no line.
    if arg.is_hide_set()
        || matches!(
            arg.get_action(),
            clap::ArgAction::Help
                | clap::ArgAction::HelpShort
                | clap::ArgAction::HelpLong
                | clap::ArgAction::Version
        )
    {
        return None;
    }
    let names = match (arg.get_short(), arg.get_long()) {
        (Some(s), Some(l)) => format!("-{s}, --{l}"),
        (None, Some(l)) => format!("--{l}"),
        (Some(s), None) => format!("-{s}"),
        (None, None) => String::new(),
    };
    let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values())
        && !matches!(
            arg.get_action(),
            clap::ArgAction::SetTrue | clap::ArgAction::SetFalse | clap::ArgAction::Count
        );
    let value = arg
        .get_value_names()
        .map(|v| {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
    let many = matches!(arg.get_action(), clap::ArgAction::Append)
        || arg.get_num_args().is_some_and(|n| n.max_values() > 1);
    let shown = match (names.is_empty(), takes_value) {
        (true, _) => format!("{value}{}", if many { "…" } else { "" }),
        (false, true) => format!("{names} {value}{}", if many { "…" } else { "" }),
        (false, false) => names,
    };
    let mut line = format!("- `{shown}`");
    if let Some(help) = arg.get_long_help().or_else(|| arg.get_help()) {
        let help = help.to_string();
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        let _ = write!(line, ": {}", crate::docs_config::text(&help));
    }
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| format!("`{}`", v.get_name()))
        .collect();
    if takes_value && !values.is_empty() {
        let _ = write!(line, " (one of {})", values.join(", "));
    }
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() && takes_value {
        let _ = write!(line, " (default: `{}`)", defaults.join(" "));
    }
    if let Some(env) = arg.get_env() {
        let _ = write!(line, " (environment: `{}`)", env.to_string_lossy());
    }
    if arg.is_required_set() && !arg.is_positional() {
        line.push_str(" (required)");
    }
    Some(line)
}

fn command_section(cmd: &mut clap::Command, path: &str, out: &mut String) {
    let depth = path.split(' ').count();
    let hashes = "#".repeat((depth + 2).min(5));
    let _ = write!(out, "\n{hashes} `shipgate {path}`\n\n");
    if let Some(about) = cmd.get_long_about().or_else(|| cmd.get_about()) {
        let _ = write!(out, "{}\n\n", crate::docs_config::text(&about.to_string()));
    }
    let usage = cmd.render_usage().to_string();
    let usage = usage.trim_start_matches("Usage: ").trim();
    let _ = write!(out, "```text\n{usage}\n```\n\n");
    let lines: Vec<String> = cmd
        .get_arguments()
        .filter(|a| !a.is_global_set())
        .filter_map(arg_line)
        .collect();
    if !lines.is_empty() {
        for line in lines {
            out.push_str(&line);
            out.push('\n');
        }
        out.push('\n');
    }
    if cmd.has_subcommands() {
        let subs: Vec<String> = cmd
            .get_subcommands()
            .filter(|s| s.get_name() != "help")
            .map(|s| {
                let about = s.get_about().map(|a| a.to_string()).unwrap_or_default();
                format!("- `{}`: {}", s.get_name(), crate::docs_config::text(&about))
            })
            .collect();
        out.push_str("Subcommands:\n\n");
        for s in subs {
            out.push_str(&s);
            out.push('\n');
        }
    } else {
        let (yes, no) = EXIT_CODES
            .iter()
            .find(|(p, _, _)| *p == path)
            .map(|(_, yes, no)| (*yes, *no))
            .unwrap_or(("(not documented)", None));
        out.push_str("Exit codes:\n\n");
        let _ = writeln!(out, "- `0`: {yes}");
        if let Some(no) = no {
            let _ = writeln!(out, "- `1`: {no}");
        }
        out.push_str("- `2`: could not run (bad arguments, unreadable configuration, not a git repository, an unreachable backend)\n");
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        if let Some(sub) = cmd.find_subcommand_mut(&name) {
            let mut sub = sub.clone();
            command_section(&mut sub, &format!("{path} {name}"), out);
        }
    }
}

/// The page: `docs/src/reference/cli.md`.
pub fn page() -> String {
    let mut cli = shipgate::Cli::command().bin_name("shipgate");
    cli.build();
    let mut out = String::new();
    out.push_str(crate::docs_config::GENERATED);
    out.push_str(
        "# Command-line reference\n\n\
         Every command of the `shipgate` binary, generated from its own argument definitions.\n\
         `cargo xtask release|validate|canary|promote|rollback|approve|status` run the same\n\
         commands on this repository through the same front end.\n\n\
         ## Global flags\n\n\
         Every command takes them, before or after its name.\n\n",
    );
    for line in cli
        .get_arguments()
        .filter(|a| a.is_global_set())
        .filter_map(arg_line)
    {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(
        "\n`NO_COLOR` is respected. With `--json`, data goes to stdout as JSON and logs stay on\n\
         stderr ([the shapes](json.md)).\n\n\
         ## Exit codes\n\n\
         | code | meaning |\n|---|---|\n\
         | 0 | success: released, nothing to release, gate passed, canary promoted |\n\
         | 1 | the answer is \"no\": validation errors, a refused promotion gate, a failed canary, `strict` violations |\n\
         | 2 | could not run: bad arguments, unreadable config, not a git repository, no commits, an unreachable backend |\n\n\
         Each command below says what its 0 and 1 mean.\n\n## Commands\n",
    );
    let names: Vec<String> = cli
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        if let Some(sub) = cli.find_subcommand_mut(&name) {
            let mut sub = sub.clone();
            command_section(&mut sub, &name, &mut out);
        }
    }
    out
}

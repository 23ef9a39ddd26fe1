//! `shipgate completions SHELL`: the shell's completion script for the whole command line,
//! generated from the same clap definition the binary parses with, printed to stdout.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
pub use clap_complete::Shell;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write the script for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Every shell a script is made for, in the order a package lists them.
pub const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::PowerShell,
    Shell::Elvish,
];

/// The completion script of `shipgate` (the command line `cli`, `shipgate::Cli::command()`)
/// for `shell`.
pub fn script(mut cli: clap::Command, shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cli, "shipgate", &mut out);
    out
}

/// The file name a package gives `shell`'s script: `shipgate.bash`, `_shipgate` (zsh),
/// `shipgate.fish`, `_shipgate.ps1`, `shipgate.elv`.
pub fn file_name(shell: Shell) -> String {
    use clap_complete::Generator as _;
    shell.file_name("shipgate")
}

pub fn run(args: &CompletionsArgs, cli: clap::Command) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&script(cli, args.shell))
        .and_then(|()| stdout.flush())
        .context("cannot write the completion script to stdout")?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_the_subcommands() {
        for shell in SHELLS {
            let cli = <crate::Cli as clap::CommandFactory>::command();
            let text = String::from_utf8(script(cli, shell)).expect("utf-8");
            for sub in ["promote", "release", "canary", "completions"] {
                assert!(text.contains(sub), "{shell}: no `{sub}` in\n{text}");
            }
        }
    }

    #[test]
    fn file_names_are_the_conventional_ones() {
        let names: Vec<String> = SHELLS.into_iter().map(file_name).collect();
        assert_eq!(
            names,
            [
                "shipgate.bash",
                "_shipgate",
                "shipgate.fish",
                "_shipgate.ps1",
                "shipgate.elv"
            ]
        );
    }
}

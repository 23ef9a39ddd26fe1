//! Command-line surface: global flags, subcommands, and the one way errors are printed.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Exit code 1: the answer is "no" (validation errors, a refused gate, a failed canary).
pub const EXIT_NO: u8 = 1;

#[derive(Debug, Parser)]
#[command(
    name = "shipgate",
    version,
    about = "Release, validate and canary: a deployment pipeline in one binary"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The repository to work on
    #[arg(long, global = true, default_value = ".", value_name = "PATH")]
    pub repo: PathBuf,
    /// The pipeline configuration (default: shipgate.toml at the repository root)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Machine-readable output on stdout (logs stay on stderr)
    #[arg(long, global = true)]
    pub json: bool,
}

impl Global {
    /// Loads shipgate.toml (or `--config`); an absent default file gives the defaults.
    pub fn settings(&self) -> anyhow::Result<shipgate_settings::Settings> {
        Ok(shipgate_settings::load(&self.repo, self.config.as_deref())?)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute the next version from Conventional Commits, bump manifests, write the changelog, commit and tag
    Release(crate::release_cmd::ReleaseArgs),
    /// Render release notes: the whole history, the unreleased changes, or a range
    Changelog(crate::changelog_cmd::ChangelogArgs),
    /// Validate and show the environments' configuration
    Config(crate::config_cmd::ConfigArgs),
    /// Run or judge a canary
    Canary(crate::canary_cmd::CanaryArgs),
}

/// Prints an error as one line of what went wrong, then `hint: …` on its own line: the
/// hint the error carries as data ([`hint_of`]), or, for errors of crates that still write
/// it into their message, the text after `\nhint: `.
pub fn report_error(err: &anyhow::Error) {
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    let (text, hint) = match message.split_once("\nhint: ") {
        Some((text, hint)) => (text.to_string(), Some(hint.to_string())),
        None => (message, hint_of(err)),
    };
    eprintln!("error: {text}");
    if let Some(hint) = hint {
        eprintln!("hint: {hint}");
    }
}

/// The hint the first error of `err`'s chain that has one carries.
pub fn hint_of(err: &anyhow::Error) -> Option<String> {
    use shipgate_canary::report::ArtifactError;
    use shipgate_canary::{CaptureError, MissingToken, ProviderError, RequestError, RunError};
    err.chain().find_map(|e| {
        if let Some(e) = e.downcast_ref::<RunError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<RequestError>() {
            Some(e.hint())
        } else if let Some(e) = e.downcast_ref::<shipgate_canary::LoadError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<CaptureError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<ProviderError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<MissingToken>() {
            Some(e.hint())
        } else if let Some(e) = e.downcast_ref::<ArtifactError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<shipgate_release::ReleaseError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<shipgate_release::DateError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<shipgate_git::GitError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<shipgate_github::GitHubError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<shipgate_version::bump::NextVersionError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<shipgate_settings::SettingsError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<shipgate_config::LoadError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<shipgate_config::settings::SettingsProblem>() {
            e.hint()
        } else {
            None
        }
    })
}

/// True when colour may be used on stderr: a terminal, and `NO_COLOR` unset or empty.
#[allow(dead_code)]
pub fn color_enabled() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_carried_as_data_is_found_through_context() {
        let err = anyhow::Error::from(shipgate_canary::RunError::NoActuator)
            .context("cannot run the canary");
        assert_eq!(
            hint_of(&err).as_deref(),
            Some(
                "add [canary.command] (set-weight, promote and rollback commands) or [canary.webhook] (url = \"https://…\")"
            )
        );
        let plain = anyhow::anyhow!("no hint here");
        assert_eq!(hint_of(&plain), None);
    }
}

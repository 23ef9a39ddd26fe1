//! What every command shares: the global flags, the checks of names from the command line,
//! and the one way errors are printed. The subcommands themselves are `crate::Cli`'s.

use std::path::PathBuf;

use clap::Args;

/// Exit code 1: the answer is "no" (validation errors, a refused gate, a failed canary).
pub const EXIT_NO: u8 = 1;

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

/// Prints an error as one line of what went wrong (its message and those of its causes
/// that it does not already contain), then `hint: …` on its own line: the hint the error
/// carries as data ([`hint_of`]). Tokens are redacted ([`crate::actions::message`]).
pub fn report_error(err: &anyhow::Error) {
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    // In GitHub Actions also an `::error` annotation, at the file and line it points at.
    crate::actions::error(
        &message,
        hint_of(err).as_deref(),
        crate::actions::location_of(err).as_ref(),
    );
}

/// An error of the binary (or xtask) itself: what went wrong, and what to do about it as
/// data, like the libraries' errors, so that the message never holds the hint.
#[derive(Debug)]
pub struct Hinted {
    message: String,
    hint: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Hinted {
    /// `message` is one line of what went wrong; `hint` what to do about it.
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: hint.into(),
            source: None,
        }
    }

    /// The error that caused this one (printed after the message by [`report_error`]).
    pub fn because(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What to do about it.
    pub fn hint(&self) -> &str {
        &self.hint
    }
}

impl std::fmt::Display for Hinted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hinted {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// An error of the binary's own: `message`, with `hint` carried as data.
pub fn hinted(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    Hinted::new(message, hint).into()
}

impl shipgate_stdx::hint::Hint for Hinted {
    fn hint(&self) -> Option<String> {
        Some(self.hint.clone())
    }
}

/// The hint the first error of `err`'s chain that has one carries: the binary's own
/// errors and those of every library crate, each crate's `HINTS`.
pub fn hint_of(err: &anyhow::Error) -> Option<String> {
    shipgate_stdx::hint::hint_of(
        err.chain(),
        &[
            crate::HINTS_OF_BINARY,
            shipgate_canary::HINTS,
            shipgate_config::HINTS,
            shipgate_doc::HINTS,
            shipgate_git::HINTS,
            shipgate_github::HINTS,
            shipgate_notify::HINTS,
            shipgate_pipeline::HINTS,
            shipgate_promote::HINTS,
            shipgate_release::HINTS,
            shipgate_settings::HINTS,
            shipgate_version::HINTS,
        ],
    )
}

/// An environment name from a flag, checked before anything is built from it.
pub fn env_arg(value: &str) -> anyhow::Result<shipgate_stdx::names::EnvName> {
    shipgate_stdx::names::EnvName::parse(value)
        .map_err(|e| hinted(e.to_string(), "use a name from [environments] order"))
}

/// A version from the command line, checked before anything is built from it.
pub fn version_arg(value: &str) -> anyhow::Result<shipgate_stdx::names::Version> {
    shipgate_stdx::names::Version::parse(value)
        .map_err(|e| hinted(e.to_string(), "pass the version as released, e.g. 1.4.0"))
}

/// A reason from `--reason`, checked before it is recorded.
pub fn reason_arg(value: &str) -> anyhow::Result<shipgate_stdx::names::Reason> {
    shipgate_stdx::names::Reason::parse(value).map_err(|e| {
        hinted(
            e.to_string(),
            "say why in a few words, e.g. --reason \"p95 over 2 s after 1.5.0\"",
        )
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
                "add one of [canary.argo-rollouts] (rollout = \"NAME\"), [canary.alb] (listener-arn and the two target groups), [canary.command] (set-weight, promote and rollback commands) or [canary.webhook] (url = \"https://…\")"
            )
        );
        let plain = anyhow::anyhow!("no hint here");
        assert_eq!(hint_of(&plain), None);
    }

    #[test]
    fn every_library_hint_is_found_and_none_is_in_a_message() {
        let errors = [
            anyhow::Error::from(shipgate_release::ReleaseError::from(
                shipgate_git::GitError::NoIdentity,
            )),
            anyhow::Error::from(shipgate_git::GitError::NoCommits {
                path: PathBuf::from("/r"),
            })
            .context("cannot plan the release"),
            anyhow::Error::from(shipgate_github::GitHubError::NoToken),
            anyhow::Error::from(shipgate_config::settings::SettingsProblem::EmptyOrder)
                .context("invalid shipgate.toml"),
            anyhow::Error::from(shipgate_config::LoadError::NoConfig {
                path: "x".into(),
                layout: shipgate_config::Layout::Overlays,
                looks_like: None,
            }),
            hinted("--range v1 is not A..B", "e.g. --range v1.2.0..v1.3.0"),
            // One error of each crate's HINTS that no other list knows, under a context:
            // a crate left out of hint_of's lists loses its hints here.
            anyhow::Error::from(shipgate_canary::MissingToken {
                name: "HOOK_TOKEN".into(),
            })
            .context("cannot run the canary"),
            anyhow::Error::from(shipgate_doc::EditError::NotFound {
                key: "image.tag".into(),
                reached: "image".into(),
            })
            .context("cannot write values.yaml"),
            anyhow::Error::from(shipgate_promote::ops::OpError::NoGithub).context("cannot promote"),
            anyhow::Error::from(shipgate_settings::SettingsError::Read {
                path: PathBuf::from("shipgate.toml"),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "not found"),
            })
            .context("cannot load the settings"),
            anyhow::Error::from(shipgate_version::files::FileError::UnknownFormat {
                name: "VERSION".into(),
            })
            .context("cannot release"),
        ];
        for err in &errors {
            assert!(hint_of(err).is_some(), "{err:#}");
            assert!(
                err.chain().all(|e| !e.to_string().contains("hint:")),
                "{err:#}"
            );
        }
    }

    #[test]
    fn a_hinted_error_keeps_its_cause() {
        let cause = std::io::Error::new(std::io::ErrorKind::NotFound, "not found");
        let err = anyhow::Error::from(
            Hinted::new("cannot read template t.hbs", "give a handlebars file").because(cause),
        );
        assert_eq!(err.to_string(), "cannot read template t.hbs");
        assert_eq!(
            err.chain().nth(1).map(|e| e.to_string()).as_deref(),
            Some("not found")
        );
        assert_eq!(hint_of(&err).as_deref(), Some("give a handlebars file"));
    }
}

//! What a run is about: the environment and the two versions ([`RunRequest`], checked
//! values), why they are not usable ([`RequestError`]), and the query placeholders' values
//! they give (`vars`). Live runs, replays and `canary capture` share them.

use shipgate_judge::{FORMAT, Gates, RecordedInterval, Recording};
use shipgate_stdx::names::{EnvName, InvalidName, PodHash, Version};

/// What a run is about. The versions and the environment are checked values
/// ([`shipgate_stdx::names`]): they reach shell commands, PromQL and file names.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The environment.
    pub env: EnvName,
    /// The canary's version.
    pub version: Version,
    /// The baseline's version.
    pub baseline_version: Version,
    /// The canary's pod-template hash, when queries tell canary and baseline apart by it
    /// (`{{canary_hash}}`).
    pub canary_hash: Option<PodHash>,
    /// The stable pods' pod-template hash (`{{stable_hash}}`).
    pub stable_hash: Option<PodHash>,
}

impl RunRequest {
    /// A request from unchecked text: each value is checked, the first invalid one is the
    /// error, naming it.
    pub fn new(env: &str, version: &str, baseline_version: &str) -> Result<Self, InvalidName> {
        Ok(Self {
            env: EnvName::parse(env)?,
            version: Version::parse(version)?,
            baseline_version: Version::parse(baseline_version)?,
            canary_hash: None,
            stable_hash: None,
        })
    }

    /// The request for `canary run`: versions from the flags, else (when replaying) from the
    /// recording; a live run needs both flags. Every value is checked before anything runs.
    pub fn resolve(
        env: &str,
        canary_version: Option<&str>,
        baseline_version: Option<&str>,
        replay: Option<&Recording>,
    ) -> Result<Self, RequestError> {
        let pick = |flag: Option<&str>, recorded: Option<&String>, side: &'static str| {
            let (value, from) = match (flag, recorded) {
                (Some(v), _) => (v.to_string(), format!("--{side}-version")),
                (None, Some(v)) => (v.clone(), format!("the recording's {side} version")),
                (None, None) if replay.is_some() => return Err(RequestError::NotRecorded { side }),
                (None, None) => return Err(RequestError::MissingFlag { side }),
            };
            Version::parse(&value).map_err(|source| RequestError::InvalidVersion { from, source })
        };
        Ok(Self {
            env: EnvName::parse(env).map_err(|source| RequestError::InvalidEnv { source })?,
            version: pick(
                canary_version,
                replay.and_then(|r| r.version.as_ref()),
                "canary",
            )?,
            baseline_version: pick(
                baseline_version,
                replay.and_then(|r| r.baseline_version.as_ref()),
                "baseline",
            )?,
            canary_hash: None,
            stable_hash: None,
        })
    }
}

/// Why a run's environment and versions are not usable; nothing has run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// A live run without `--canary-version` or `--baseline-version`.
    #[error("--{side}-version is required for a live run")]
    MissingFlag {
        /// `canary` or `baseline`.
        side: &'static str,
    },
    /// A replay of a recording that names no such version, and no flag.
    #[error("the recording names no {side} version")]
    NotRecorded {
        /// `canary` or `baseline`.
        side: &'static str,
    },
    /// A version that could be read as syntax somewhere.
    #[error("{from}: {source}; no traffic was moved")]
    InvalidVersion {
        /// Where it came from (`--canary-version`, the recording's…).
        from: String,
        /// What is wrong with it.
        source: InvalidName,
    },
    /// An environment name that could be read as syntax somewhere.
    #[error("--env: {source}; no traffic was moved")]
    InvalidEnv {
        /// What is wrong with it.
        source: InvalidName,
    },
}

impl RequestError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            RequestError::MissingFlag { side } | RequestError::NotRecorded { side } => {
                format!("pass --{side}-version VERSION")
            }
            RequestError::InvalidVersion { .. } => {
                "pass the version as released, e.g. 1.4.0".into()
            }
            RequestError::InvalidEnv { .. } => "use a name from [environments] order".into(),
        }
    }
}

impl RunRequest {
    /// A recording of this request's run with `settings` and `intervals`.
    pub fn recording(&self, settings: &Gates, intervals: Vec<RecordedInterval>) -> Recording {
        Recording {
            format: FORMAT.into(),
            env: Some(self.env.to_string()),
            version: Some(self.version.to_string()),
            baseline_version: Some(self.baseline_version.to_string()),
            started_at: None,
            settings: settings.clone(),
            intervals,
        }
    }
}

/// The values of the query placeholders; `interval` is the settings' interval as written
/// (`settings.interval.to_string()`), the range of every query.
pub(crate) fn vars<'a>(req: &'a RunRequest, interval: &'a str) -> Vec<(&'static str, &'a str)> {
    let mut vars = vec![
        ("version", req.version.as_str()),
        ("baseline_version", req.baseline_version.as_str()),
        ("env", req.env.as_str()),
        ("interval", interval),
    ];
    for (name, hash) in [
        ("canary_hash", &req.canary_hash),
        ("stable_hash", &req.stable_hash),
    ] {
        if let Some(h) = hash {
            vars.push((name, h.as_str()));
        }
    }
    vars
}

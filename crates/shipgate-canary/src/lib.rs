//! The edges of shipgate's canary: the `[canary]` settings as shipgate.toml has them, the
//! Prometheus provider, the actuators that move traffic, the runner that drives the pure
//! core (`shipgate-judge`: the judge, the rollout, recordings) with a clock, `canary
//! capture`, SVG charts and the run's report. Dependencies point one way: this crate uses
//! the core, the core knows nothing of HTTP, processes, signals or clocks.
//!
//! | module | job | I/O |
//! |---|---|---|
//! | [`config`] | `[canary]`: the gates plus provider, actuator and per-environment overrides (`shipgate-canary-settings`'s, re-exported) | none |
//! | [`provider`] | Prometheus HTTP API | network |
//! | [`cloudwatch`] | CloudWatch `GetMetricData` (metric stats, metric math) and `DescribeAlarms`, through the AWS SDK | network |
//! | [`aws`] | the one AWS session: the standard credential chain, region, endpoint, a current-thread runtime | network |
//! | [`alarms`] | the alarm gates: CloudWatch alarms and Prometheus alerts read, then judged | through a trait |
//! | [`traffic`] | what every actuator shares: the runner's `Traffic` port, [`ActuatorVars`], [`ActuatorError`], retrying an action | none |
//! | [`command`] | the command actuator: templated shell commands, values shell-quoted | processes |
//! | [`actuator`] | [`Actuator::from_settings`], the one place an actuator is picked, over the four actuators | through a trait |
//! | [`webhook`] | the webhook actuator: JSON events over HTTP POST | network |
//! | [`argo_rollouts`] | the Argo Rollouts actuator: a Rollout's `setWeight` + `pause: {}` steps driven with the plugin's `promote` and `abort` | processes (kubectl) |
//! | [`alb`] | the ALB actuator: a listener's or rule's forward weights, through the AWS SDK | network |
//! | [`request`] | what a run is about ([`RunRequest`]: environment, versions, pod hashes, checked) and the query placeholders' values | none |
//! | [`sampling`] | one interval's measurements: the `Metrics` port, the queries rendered, the judge's samples | through a trait |
//! | [`run_error`] | why a run could not complete: [`RunError`], a failed traffic move and its rollback | none |
//! | [`runner`] | checks queries, then loops: sample, judge, act; [`run_with_settings`] picks the provider (and the actuator, through [`Actuator::from_settings`]); [`replay_run`] drives the same loop from a recording on a simulated clock | through traits |
//! | [`capture`](mod@capture) | a recording of a past window from range queries, sampled as the runner samples | through a trait |
//! | [`analysis`] | the judge's verdict on a rollout another engine moves, replayed from range queries since it began | through a trait |
//! | [`serve`] | `canary serve`: that verdict over HTTP for Argo Rollouts' Web metrics and Flagger's webhooks | network |
//! | [`chart`] | an SVG chart per metric of a recording: canary vs baseline, threshold, steps, decision | none |
//! | [`report`] | the Markdown step summary, the artifacts of a run (recording, charts), progress (bar or lines) | files, stderr |
//!
//! The runner reaches the world only through the `Metrics`, `Traffic` and `Clock` traits,
//! so tests and replays drive it without a backend, a cluster or waiting.
//!
//! # What the runner feeds the judge
//!
//! Each interval, every query is an instant query rendered with `{{interval}}` as its
//! range, so consecutive intervals do not overlap (overlapping windows would count the
//! same requests twice and break the independence the tests rely on). For `counts`, an
//! empty `errors` answer while `requests` has data means zero errors (Prometheus has no
//! series for a status that never happened); an empty `requests` answer is no data.

pub mod actuator;
pub mod alarms;
pub mod alb;
pub mod analysis;
pub mod argo_rollouts;
pub mod aws;
pub mod capture;
pub mod chart;
pub mod cloudwatch;
pub mod command;
pub use shipgate_http as http;
pub mod provider;
pub mod report;
pub mod request;
pub mod run_error;
pub mod runner;
pub mod sampling;
pub mod serve;
pub mod traffic;
pub mod webhook;

pub use actuator::{Actuator, ActuatorError, ActuatorVars, CommandActuator};
pub use alb::AlbActuator;
pub use analysis::{Analysis, AnalysisError, Subject, analyze};
pub use argo_rollouts::ArgoRolloutsActuator;
pub use capture::{CaptureError, Coverage, Window, capture, capture_with_settings, coverage};
pub use chart::{Chart, ChartError, Marker, charts};
pub use provider::{Prometheus, PrometheusConfig, ProviderError};
pub use request::{RequestError, RunRequest};
pub use run_error::RunError;
pub use runner::{
    Judgement, LoadError, RunOutcome, RunResult, Source, load_recording, replay_run,
    run_with_settings,
};
pub use shipgate_canary_settings::settings as config;
pub use shipgate_canary_settings::{CanaryOverride, CanarySettings};
pub use webhook::{Event, MissingToken, WebhookActuator, WebhookTraffic};

shipgate_stdx::hints!(
    RunError,
    RequestError,
    LoadError,
    CaptureError,
    AnalysisError,
    ProviderError,
    MissingToken,
    report::ArtifactError,
    aws::AwsSetupError,
    actuator::SetupError,
);

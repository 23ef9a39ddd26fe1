//! `[canary]` as shipgate.toml has it, and nothing that acts on it: the gates (the judge's
//! and the rollout's settings, `shipgate-judge`'s), where the metrics are queried
//! (`[canary.prometheus]`, `[canary.cloudwatch]`), the alarms, the actuator that moves
//! traffic (one of `[canary.command]`, `[canary.webhook]`, `[canary.argo-rollouts]`,
//! `[canary.alb]`) and the per-environment overrides, each with the checks the types
//! cannot make (`validate`, `problems`, `warnings`).
//!
//! # Why a crate of its own
//!
//! `shipgate-settings` reads every section of shipgate.toml, so whatever it depends on is
//! built and linked by anything that only parses the file. The settings used to live in
//! `shipgate-canary` beside the clients they configure, which brought the AWS SDK, reqwest,
//! hyper, tokio and plotters into `cargo tree -p shipgate-settings`. Here they are plain
//! serde data over `shipgate-judge` and `shipgate-stdx`: no network, process, signal or
//! plotting crate (`tests/layers.rs` keeps it so).
//!
//! The split is by what a piece does, not by which adapter it belongs to: the data of each
//! section and its checks are here, in a module named after its table; what needs the
//! outside world stays in `shipgate-canary`: building a client or a session
//! (`provider`, `cloudwatch`, `alb`), running a command (`actuator`'s `CommandActions`),
//! reading a token from the environment (`webhook::authorization`), reading a Rollout
//! (`argo_rollouts`). `shipgate-canary` re-exports each type under its old path
//! (`shipgate_canary::provider::PrometheusConfig`, `shipgate_canary::config::CanarySettings`
//! …), so its users did not change.
//!
//! | module | table |
//! |---|---|
//! | [`settings`] | `[canary]`: [`CanarySettings`] (the gates, the edges, the overrides), its checks, the overrides applied |
//! | [`prometheus`] | `[canary.prometheus]`, its `sigv4` |
//! | [`cloudwatch`] | `[canary.cloudwatch]`, its queries |
//! | [`alarms`] | `[canary.alarms]` |
//! | [`command`] | `[canary.command]` |
//! | [`webhook`] | `[canary.webhook]` |
//! | [`argo_rollouts`] | `[canary.argo-rollouts]` |
//! | [`alb`] | `[canary.alb]` |
//! | [`aws`] | what the AWS tables share: a region's shape |

pub mod alarms;
pub mod alb;
pub mod argo_rollouts;
pub mod aws;
pub mod cloudwatch;
pub mod command;
pub mod prometheus;
pub mod settings;
pub mod webhook;

pub use settings::{CanaryOverride, CanarySettings, MetricsProvider};

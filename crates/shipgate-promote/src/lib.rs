//! Promotion between environments: a released version moves dev → staging → prod only
//! through its gates, and every promotion, rollback, approval, verification, freeze and
//! block is an entry of a ledger kept in git, which answers what runs where, since when,
//! who put it there and on what evidence, and gives the delivery metrics.
//!
//! | module | job | I/O |
//! |---|---|---|
//! | [`settings`] | `[promote]`: the version key, the branch, each environment's gates (`shipgate-settings`', re-exported) | none |
//! | [`freeze`] | freeze windows: weekly in a time zone, a day, a span; DST-correct, tz database bundled (`shipgate-settings`', re-exported) | none |
//! | [`entry`] | ledger entries and their commit messages | none |
//! | [`state`] | the indexes the entries add up to (state, per version, per month) | none |
//! | [`gates`] | every gate of a promotion, with its evidence | none |
//! | [`metrics`] | the four DORA keys per environment | none |
//! | [`envfile`] | the desired version in an environment's file (toml_edit) | none |
//! | [`targets`] | `[[promote.target]]`: the places a promotion writes, edited by span (TOML, YAML, JSON) | none |
//! | [`lock`] | one canary in flight per environment: holds, renewals, stale holds | git |
//! | [`ops`] | the commands, each on the ledger as just fetched, retried on a lost race: `Context`, `OpError`, the clock-skew check and the retry loop | git, through `ledger` |
//! | `ops::promote` | `promote` in named steps: resolve, read the facts, evaluate the gates, commit the edits, write the entry and publish, the outcome | git |
//! | `ops::configuration` | the configuration gate's evidence: the environment's configuration with the promotion's edits | git (reads) |
//! | `ops::pull_request` | `promote --pr`: the branch and the pull request with the gates | git, GitHub |
//! | `ops::rollback` | `rollback`, its default target, clearing a stale hold | git |
//! | `ops::record` | approve, verify, freeze, unfreeze, unblock, a canary's pass | git |
//! | `ops::read` | status, history, metrics, the latest move | git (reads) |
//! | `ops::files`, `ops::releases` | the places' edits and their commit; a version's release and the commits a promotion brings | git |
//! | [`github`] | deployments and their statuses, the pull request of `--pr` | GitHub, through shipgate-github |
//! | [`ledger`] | the ledger in git: read, check what arrives, append, publish with compare-and-swap | git |

pub mod entry;
pub mod envfile;
pub mod gates;
pub mod github;
pub mod ledger;
pub mod lock;
pub mod metrics;
pub mod ops;
pub mod state;
pub mod targets;

pub use shipgate_settings::{freeze, promote as settings};

pub use entry::{Entry, EntryError, Gate, Kind, LEDGER_REF, Source, VerifyResult};
pub use gates::{AlarmFact, GateInput, LockFact, evaluate};
pub use settings::{EnvPromote, PromoteProblem, PromoteSettings, Verification};
pub use state::{Indexes, LedgerState};

shipgate_stdx::hints!(ops::OpError, ledger::LedgerError, targets::TargetError);

//! Tells the team what shipgate decided. Each `[[notify]]` channel is a listener of the
//! pipeline's events ([`shipgate_pipeline::Event`]): it hears an outcome after the fact
//! (traffic moved back, the ledger entry written), turns it into a [`message::Message`]
//! and sends it its own way, on a thread of its own, within its timeout.
//!
//! | module | job | I/O |
//! |---|---|---|
//! | [`message`] | an event as a message: title, what and why, fields, gates, links | none |
//! | [`email`] | a message as a plain-text and HTML mail, sent by SMTP over TLS (STARTTLS required or `smtps`) | network |
//! | [`slack`], [`teams`], [`pagerduty`], [`grafana`], [`webhook`] | each channel's payload | none |
//! | [`deliver`] | a POST with retries on 429 and 5xx, `Retry-After` honoured, within a deadline | network |
//! | [`outbox`] | what was sent and what is left to send again, one file a delivery | files |
//! | [`notifier`] | a channel as a listener: secrets, filters, threads, alerts, the outbox | network, files |

pub mod deliver;
pub mod email;
pub mod grafana;
pub mod message;
pub mod notifier;
pub mod outbox;
pub mod pagerduty;
pub mod slack;
pub mod teams;
#[doc(hidden)]
pub mod testing;
pub mod webhook;

pub use notifier::{DryRun, Notifier, NotifyError, Sent, notifiers};

shipgate_stdx::hints!(NotifyError);

//! `shipgate notify test [--channel NAME]`: a clearly marked test message to each
//! `[[notify]]` channel (or one), to check a webhook, a key or a mail server before an
//! incident needs it. `shipgate notify retry [--channel NAME]`: sends again what a command
//! could not deliver (kept in `.git/shipgate/notify/`); what was delivered is never sent
//! twice.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::Serialize;

use crate::actions::{self, outln};
use crate::cli::{EXIT_NO, Global, hinted};

#[derive(Debug, Args)]
pub struct NotifyArgs {
    #[command(subcommand)]
    pub command: NotifyCommand,
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Send a test message to every channel, or to one; exit 1 when one fails
    Test {
        /// The channel's `name` (or its kind and position, e.g. `slack-1`)
        #[arg(long, value_name = "NAME")]
        channel: Option<String>,
    },
    /// Send again what earlier commands could not deliver; exit 1 when one still fails
    Retry {
        /// Only this channel's deliveries
        #[arg(long, value_name = "NAME")]
        channel: Option<String>,
    },
}

/// One delivery's result, as `--json` prints it (an array of them).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Delivery {
    /// The channel, by its `[[notify]]` name.
    pub channel: String,
    /// Whether it was delivered (or had been before).
    pub delivered: bool,
    /// What the channel said, or why it failed.
    pub detail: String,
    /// The event sent again (`retry`), and when it happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

pub fn run(global: &Global, args: &NotifyArgs) -> anyhow::Result<ExitCode> {
    let settings = global.settings()?;
    if settings.notify.is_empty() {
        return Err(hinted(
            "shipgate.toml has no [[notify]] channel",
            "add one, e.g. [[notify]] kind = \"slack\" url-env = \"SLACK_OPS_WEBHOOK\" (see README, Notifications)",
        ));
    }
    let git_dir = shipgate_git::open(&global.repo)
        .ok()
        .map(|r| r.git_dir().to_path_buf());
    let lookup = |name: &str| std::env::var(name).ok();
    let (only, testing) = match &args.command {
        NotifyCommand::Test { channel } => (channel.as_deref(), true),
        NotifyCommand::Retry { channel } => (channel.as_deref(), false),
    };
    let mut channels =
        shipgate_notify::notifiers(&settings, &global.repo, git_dir.as_deref(), &lookup, only)?;
    let mut done = Vec::new();
    if testing {
        let caller = crate::pipeline_io::caller()?;
        let by = caller
            .actor
            .unwrap_or_else(|| "shipgate notify test".into());
        let stamp = caller.now.as_millisecond();
        for n in &mut channels {
            let m = shipgate_notify::message::test_message(n.name(), &by, caller.now);
            let id = format!("test-{stamp}");
            let result = n.send(&id, &m, None);
            done.push(Delivery {
                channel: n.name().to_string(),
                delivered: result.is_ok(),
                detail: result.unwrap_or_else(|e| e),
                event: None,
            });
        }
    } else {
        for n in &mut channels {
            for (pending, result) in n.retry_pending() {
                let event = shipgate_notify::message::event_name(&pending.record.event);
                let (delivered, detail) = match result {
                    Ok(shipgate_notify::Sent::Delivered(note)) => (true, note),
                    Ok(shipgate_notify::Sent::Skipped) => (true, "sent before".into()),
                    Err(e) => (false, e),
                };
                done.push(Delivery {
                    channel: n.name().to_string(),
                    delivered,
                    detail,
                    event: Some(format!("{event} of {}", pending.record.at)),
                });
            }
        }
    }
    let failed = done.iter().filter(|d| !d.delivered).count();
    if global.json {
        outln!("{}", actions::json(&serde_json::to_string_pretty(&done)?));
    } else if done.is_empty() {
        outln!("nothing to send again");
    } else {
        for d in &done {
            let what = d
                .event
                .as_deref()
                .map(|e| format!(" {e}"))
                .unwrap_or_default();
            if d.delivered {
                outln!("sent    {}{what}: {}", d.channel, d.detail);
            } else {
                outln!("FAILED  {}{what}: {}", d.channel, d.detail);
            }
        }
    }
    for d in done.iter().filter(|d| !d.delivered) {
        actions::warning(
            &format!("{} did not deliver: {}", d.channel, d.detail),
            None,
        );
    }
    Ok(if failed > 0 {
        ExitCode::from(EXIT_NO)
    } else {
        ExitCode::SUCCESS
    })
}

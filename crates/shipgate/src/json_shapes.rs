//! The `--json` outputs: every command that prints JSON, what it prints, and the JSON
//! Schema of that value, generated from the type it is serialized from (`schemars`, as
//! serialized). `cargo xtask docs` renders them as `docs/src/reference/json.md`;
//! `tests/json.rs` runs each command on a real repository and validates what it printed
//! against its schema, with no field beyond the type's allowed.

use serde_json::Value;

/// A command whose `--json` output is a typed value.
#[derive(Debug, Clone)]
pub struct Shape {
    /// The command line, as the reference names it.
    pub command: &'static str,
    /// What it prints, in words.
    pub what: &'static str,
    /// The JSON Schema of what it prints.
    pub schema: Value,
}

/// The JSON Schema of `T` as it is serialized (a field skipped when empty is not required).
pub fn schema_of<T: schemars::JsonSchema + ?Sized>() -> Value {
    schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

fn shape<T: schemars::JsonSchema + ?Sized>(command: &'static str, what: &'static str) -> Shape {
    Shape {
        command,
        what,
        schema: schema_of::<T>(),
    }
}

/// Every command whose `--json` output is a typed value, in the reference's order.
pub fn shapes() -> Vec<Shape> {
    use shipgate_promote::ops;
    vec![
        shape::<crate::release_cmd::DryRun<'static>>(
            "shipgate release --dry-run --json",
            "one object: the release plan, and `dry_run`",
        ),
        shape::<shipgate_release::Outcome>(
            "shipgate release --json",
            "one object: the release plan carried out, with the commits and tags made",
        ),
        shape::<shipgate_changelog::Changelog>(
            "shipgate changelog --context",
            "one object: the changelog templates' context (`--json` does not change \
             `changelog`'s output, Markdown)",
        ),
        shape::<Vec<shipgate_config::Diagnostic>>(
            "shipgate config validate --json",
            "an array of diagnostics (`--format json` prints the same)",
        ),
        shape::<ops::PromoteOutcome>(
            "shipgate promote VERSION --to ENV --json",
            "one object: what the promotion did, or would do with `--dry-run`, gate by gate",
        ),
        shape::<ops::RollbackOutcome>(
            "shipgate rollback --env ENV --reason TEXT --json",
            "one object: what the rollback did",
        ),
        shape::<ops::Recorded>(
            "shipgate approve|verify|freeze|unfreeze|unblock … --json",
            "one object: the ledger entries the command wrote",
        ),
        shape::<ops::Status>(
            "shipgate status --json",
            "one object: what runs where, per environment",
        ),
        shape::<ops::History>(
            "shipgate history --json",
            "one object: the ledger's entries, newest first",
        ),
        shape::<ops::Metrics>(
            "shipgate metrics --json",
            "one object: the delivery metrics per environment",
        ),
        shape::<crate::review_cmd::ReviewContext<'static>>(
            "shipgate review --env ENV --json",
            "one object: the review template's context, outside text escaped for Markdown, \
             with the review's facts raw under `review` and its keys sorted",
        ),
        shape::<shipgate_canary::RunOutcome>(
            "shipgate canary run --json",
            "one object: how the rollout ended, with the judge's last report",
        ),
        shape::<crate::canary_cmd::Judged<'static>>(
            "shipgate canary judge FILE --json",
            "one object: the recording judged, and what the judge decides on it",
        ),
        shape::<crate::capture_cmd::Captured>(
            "shipgate canary capture --json",
            "one object: the recording written, and how much of it has data",
        ),
        shape::<shipgate_canary::analysis::Analysis>(
            "shipgate canary analyze --json",
            "one object: the judge's verdict on the rollout so far",
        ),
        shape::<crate::page_cmd::Written>(
            "shipgate page --json",
            "one object, on one line: the site written",
        ),
        shape::<Vec<crate::notify_cmd::Delivery>>(
            "shipgate notify test|retry --json",
            "an array: one delivery per channel (`test`) or per message sent again (`retry`)",
        ),
        shape::<crate::init_cmd::Initialized>(
            "shipgate init --json",
            "one object: what init found, and what it wrote",
        ),
    ]
}

/// The commands that print JSON that no type of shipgate's describes, and why.
pub const UNTYPED: &[(&str, &str)] = &[
    (
        "shipgate config show ENV --json",
        "the environment's merged configuration itself: its keys are the repository's own \
         (`environments/`, `application.yml`, `values.yaml`), so its shape is theirs",
    ),
    (
        "shipgate schema",
        "prints shipgate.toml's JSON Schema, with or without `--json`: a JSON Schema \
         document, whose own shape is JSON Schema's (draft 2020-12)",
    ),
];

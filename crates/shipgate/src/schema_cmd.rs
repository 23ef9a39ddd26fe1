//! `shipgate schema`: prints the JSON Schema of shipgate.toml, generated from the settings
//! types (never written by hand); `shipgate.schema.json` at the repository root is its output.

use std::process::ExitCode;

use clap::Args;

use crate::cli::Global;

#[derive(Debug, Args)]
pub struct SchemaArgs {}

pub fn run(_global: &Global, _args: &SchemaArgs) -> anyhow::Result<ExitCode> {
    crate::actions::out(&shipgate_settings::json_schema_text());
    Ok(ExitCode::SUCCESS)
}

//! `dind status`.

use super::env::target_id;
use super::output::OutputFormat;
use crate::engine::docker::Engine;
use crate::state::status;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct StatusArgs {
    /// Only this cluster (default: all)
    #[arg(long, value_name = "N")]
    cluster_id: Option<String>,
    #[arg(short, long, value_enum, default_value = "table")]
    output: OutputFormat,
}

pub(super) async fn status(args: StatusArgs) -> Result<ExitCode> {
    let only = args
        .cluster_id
        .as_ref()
        .map(|_| target_id(&args.cluster_id))
        .transpose()?;
    let engine = Engine::connect().await?;
    let report = status::report(&engine, only, true).await?;
    args.output
        .print(|| report.render_table(), &report.clusters)?;
    report.check()?;
    Ok(ExitCode::SUCCESS)
}

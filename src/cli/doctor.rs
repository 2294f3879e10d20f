//! `dind doctor`.

use super::config_args::ConfigArgs;
use super::env::env_var;
use super::output::OutputFormat;
use crate::diagnose::doctor;
use crate::engine::docker::Engine;
use crate::progress::Progress;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct DoctorArgs {
    #[command(flatten)]
    config: ConfigArgs,
    #[arg(short, long, value_enum, default_value = "table")]
    output: OutputFormat,
}

pub(super) async fn doctor(args: DoctorArgs, progress: &Progress) -> Result<ExitCode> {
    let config = args.config.resolve(env_var)?;
    let engine = Engine::connect().await?;
    let report = doctor::doctor(&engine, &config, progress).await?;
    args.output
        .print(|| report.render_table(), &report.findings)?;
    Ok(match report.passed() {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    })
}

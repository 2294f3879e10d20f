//! `dind export logs`.

use super::env::target_id;
use crate::diagnose::export;
use crate::engine::docker::Engine;
use crate::progress::Progress;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct ExportLogsArgs {
    /// Output directory [default: ./dind-logs-<cluster id>-<unix time>]
    dir: Option<PathBuf>,
    /// The cluster to export [env: CLUSTER_ID] [default: 0]
    #[arg(long, value_name = "N")]
    cluster_id: Option<String>,
}

pub(super) async fn logs(args: ExportLogsArgs, progress: &Progress) -> Result<ExitCode> {
    let id = target_id(&args.cluster_id)?;
    let engine = Engine::connect().await?;
    let written = export::export_logs(&engine, id, args.dir, progress).await?;
    println!(
        "wrote {} and {}",
        written.dir.display(),
        written.archive.display()
    );
    Ok(ExitCode::SUCCESS)
}

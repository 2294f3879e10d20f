//! `dind kubeconfig`.

use super::env::target_id;
use super::target::TargetArgs;
use crate::cluster::kubernetes::{self, Server};
use crate::engine::docker::Engine;
use crate::plan;
use crate::progress::Progress;
use crate::state::find_record;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct KubeconfigArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Server on the master's address in the cluster network (port 6443), for clients in
    /// containers on that network
    #[arg(long)]
    internal: bool,
}

pub(super) async fn kubeconfig(args: KubeconfigArgs, progress: &Progress) -> Result<ExitCode> {
    let id = target_id(&args.target.cluster_id)?;
    let engine = Engine::connect().await?;
    let record = find_record(&engine, id)
        .await?
        .with_context(|| format!("no dind cluster {id} here; `dind up` creates it"))?;
    if !record.config.kubernetes {
        bail!("dind cluster {id} was brought up with --no-kubernetes; it has no kubeconfig");
    }
    let cluster_plan = plan::plan(&record.config);
    let server = match args.internal {
        true => Server::Internal,
        false => Server::Published,
    };
    if let Some(note) = server.dual_stack_note(&cluster_plan, &record.config) {
        progress.note(&note);
    }
    let text =
        kubernetes::cluster_kubeconfig(&engine, &cluster_plan, &record.config, server).await?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

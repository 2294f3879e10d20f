//! `dind get clusters` and `dind get nodes`: one item a line, for scripts.

use super::env::target_id;
use super::output::lines;
use super::target::TargetArgs;
use crate::engine::docker::Engine;
use crate::state::{cluster_ids, node_containers};
use anyhow::Result;
use std::process::ExitCode;

pub(super) async fn clusters(quiet: bool) -> Result<ExitCode> {
    let engine = Engine::connect().await?;
    let ids = cluster_ids(&engine).await?;
    if ids.is_empty() && !quiet {
        eprintln!("no dind clusters here");
    }
    print!("{}", lines(ids));
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn nodes(args: TargetArgs, quiet: bool) -> Result<ExitCode> {
    let id = target_id(&args.cluster_id)?;
    let engine = Engine::connect().await?;
    let nodes = node_containers(&engine, id).await?;
    if nodes.is_empty() && !quiet {
        eprintln!("no nodes of dind cluster {id} here");
    }
    print!("{}", lines(nodes));
    Ok(ExitCode::SUCCESS)
}

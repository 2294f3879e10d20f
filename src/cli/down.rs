//! `dind down` and `dind clean`.

use super::env::{env_var, target_id};
use super::target::{LockArgs, TargetArgs};
use crate::cluster::down;
use crate::engine::docker::Engine;
use crate::engine::lock;
use crate::plan;
use crate::progress::Progress;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct DownArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    pub(super) lock: LockArgs,
}

pub(super) async fn down(args: DownArgs, progress: &Progress, quiet: bool) -> Result<ExitCode> {
    let id = target_id(&args.target.cluster_id)?;
    let lock_timeout = args.lock.timeout(env_var)?;
    let engine = Engine::connect().await?;
    let report = lock::holding(&engine, id, "down", lock_timeout, progress, async || {
        down::down(&engine, id, progress).await
    })
    .await?;
    if quiet {
        return Ok(ExitCode::SUCCESS);
    }
    if report.is_empty() {
        println!("no dind cluster {id} here; nothing to remove");
    } else {
        print_down(id, &report);
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn clean(args: DownArgs, progress: &Progress, quiet: bool) -> Result<ExitCode> {
    let id = target_id(&args.target.cluster_id)?;
    let lock_timeout = args.lock.timeout(env_var)?;
    let engine = Engine::connect().await?;
    let report = lock::holding(&engine, id, "clean", lock_timeout, progress, async || {
        down::clean(&engine, id, progress).await
    })
    .await?;
    if quiet {
        return Ok(ExitCode::SUCCESS);
    }
    print_down(id, &report.down);
    println!(
        "removed {} volume(s) and {} image(s)",
        report.volumes.len(),
        report.images_removed.len()
    );
    if !report.images_in_use.is_empty() {
        println!(
            "kept images still in use by other clusters: {}",
            report.images_in_use.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_down(id: u8, report: &down::DownReport) {
    println!(
        "cluster {id}: removed {} container(s), network {}, {} host rule(s), {} host route(s){}{}{}",
        report.containers.len(),
        report.network.as_deref().unwrap_or("(none)"),
        report.rules.len(),
        report.routes.len(),
        if report.restored_ipv6_forwarding {
            ", IPv6 forwarding switched back off"
        } else {
            ""
        },
        match report.restored_ip6_forward_policy {
            Some(policy) => format!(", ip6tables FORWARD policy back to {policy}"),
            None => String::new(),
        },
        match &report.kubeconfig {
            Some(path) => format!(
                ", context {} from {}",
                plan::kubernetes::context_name(id),
                path.display()
            ),
            None => String::new(),
        }
    );
}

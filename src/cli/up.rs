//! `dind up`, and its `--dry-run`.

use super::config_args::ConfigArgs;
use super::durations::parse_wait;
use super::env::env_var;
use super::output::OutputFormat;
use super::target::LockArgs;
use crate::cluster::{dry_run, up};
use crate::config::Config;
use crate::engine::docker::Engine;
use crate::engine::images::{ImageTags, NodeImage};
use crate::engine::lock;
use crate::interrupt::Graceful;
use crate::kube::kubeconfig;
use crate::plan;
use crate::progress::Progress;
use crate::state::status;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
pub(super) struct UpArgs {
    #[command(flatten)]
    pub(super) config: ConfigArgs,
    #[command(flatten)]
    pub(super) lock: LockArgs,
    /// Keep what a failed `up` created, for debugging
    #[arg(long)]
    retain: bool,
    /// Wait this long for all nodes Ready, kube-system pods running and CoreDNS resolving
    /// the cluster's names (and the config's first probe, when it names probes; without,
    /// an external name that fails only draws a note); 0 does not wait
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_wait)]
    wait: Duration,
    /// Kubeconfig file to merge the cluster's context into
    /// [default: the first path of $KUBECONFIG, else ~/.kube/config]
    #[arg(long, value_name = "PATH")]
    kubeconfig: Option<PathBuf>,
    /// Print the plan and every container, file and host rule `up` would make; touch nothing
    #[arg(long)]
    dry_run: bool,
    /// Output of --dry-run
    #[arg(short, long, value_enum, default_value = "table", requires = "dry_run")]
    output: OutputFormat,
}

pub(super) async fn up(args: UpArgs, progress: &Progress, quiet: bool) -> Result<ExitCode> {
    let config = args.config.resolve(env_var)?;
    if args.dry_run {
        return print_dry_run(&config, args.output);
    }
    let options = up::UpOptions {
        retain: args.retain,
        wait: (!args.wait.is_zero()).then_some(args.wait),
        kubeconfig: kubeconfig_path(args.kubeconfig, &config)?,
    };
    let lock_timeout = args.lock.timeout(env_var)?;
    let engine = Engine::connect().await?;
    let id = config.cluster_id;
    let (record, clusters) = lock::holding(&engine, id, "up", lock_timeout, progress, async || {
        // Once `up` is done there is nothing to roll back: a signal now lets the status be
        // read and shown.
        let _graceful = Graceful::hold("the cluster is made; showing its status");
        let record = up::up(&engine, config, options, progress).await?;
        let allow_aaaa = record.config.allow_aaaa;
        let clusters = status::status(&engine, Some(id), allow_aaaa).await?;
        Ok((record, clusters))
    })
    .await?;
    if quiet {
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", status::render_table(&clusters));
    if let Some(path) = &record.kubeconfig {
        let context = plan::kubernetes::context_name(record.config.cluster_id);
        println!(
            "kubectl context \"{context}\" is current in {} (`kubectl get nodes`)",
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The kubeconfig file `up` merges the cluster's context into: --kubeconfig, else
/// KUBECONFIG's or HOME's; none without Kubernetes.
fn kubeconfig_path(flag: Option<PathBuf>, config: &Config) -> Result<Option<PathBuf>> {
    Ok(match (flag, config.kubernetes) {
        (Some(path), _) => Some(path),
        (None, true) => Some(kubeconfig::target_path(
            env_var("KUBECONFIG").as_deref(),
            env_var("HOME").map(PathBuf::from).as_deref(),
        )?),
        (None, false) => None,
    })
}

/// What `up` would make, touching nothing.
fn print_dry_run(config: &Config, output: OutputFormat) -> Result<ExitCode> {
    let node = tokio::task::block_in_place(|| NodeImage::for_config(config))?;
    let run = dry_run::dry_run(config, &ImageTags::with_node(node.tag), env_var)?;
    output.print(|| dry_run::render_text(&run), &run)?;
    Ok(ExitCode::SUCCESS)
}

//! `dind check network`.

use super::env::target_id;
use super::output::OutputFormat;
use crate::diagnose::check;
use crate::engine::docker::Engine;
use crate::progress::Progress;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct CheckNetworkArgs {
    /// Names to resolve and connect to (default: the `probes` of the cluster's config)
    names: Vec<String>,
    /// The cluster to check [env: CLUSTER_ID] [default: 0]
    #[arg(long, value_name = "N")]
    cluster_id: Option<String>,
    /// TCP port to connect to on each name
    #[arg(long, default_value_t = 443)]
    port: u16,
    /// Resolver the host-side lookups ask, which say what each name should resolve to
    /// (default: the cluster's --upstream-dns; without one the expectation is unknown)
    #[arg(long, value_name = "IP")]
    host_resolver: Option<std::net::IpAddr>,
    #[arg(short, long, value_enum, default_value = "table")]
    output: OutputFormat,
}

pub(super) async fn network(args: CheckNetworkArgs, progress: &Progress) -> Result<ExitCode> {
    let id = target_id(&args.cluster_id)?;
    let engine = Engine::connect().await?;
    let options = check::Options {
        names: args.names,
        port: args.port,
        host_resolver: args.host_resolver,
    };
    let report = check::check_network(&engine, id, &options, progress).await?;
    args.output
        .print(|| report.render_table(), &report.checks)?;
    Ok(match report.passed() {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    })
}

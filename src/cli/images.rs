//! `dind images build`.

use super::config_args::ConfigArgs;
use super::env::env_var;
use crate::config::{Layer, Origin, Sourced};
use crate::engine::docker::Engine;
use crate::engine::images::{self, ImageKind, NodeImage};
use crate::progress::Progress;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct BuildArgs {
    /// Kubernetes version of the node image [env: DIND_K8S_VERSION] [default: v1.36]
    #[arg(long, value_name = "VERSION")]
    kubernetes_version: Option<String>,
    /// Only the network-plane images (DNS64, NAT64, the node's base target)
    #[arg(long)]
    no_kubernetes: bool,
    /// Build the node image from this Kubernetes instead of the Internet's: the directory
    /// .ci/kubernetes-kit prints, or kubernetes-server-linux-amd64.tar.gz (or the directory
    /// it unpacks to) [env: DIND_KUBERNETES_FROM]
    #[arg(long, value_name = "PATH")]
    kubernetes_from: Option<String>,
}

impl BuildArgs {
    /// The flags as settings, like `up`'s.
    fn config_args(self) -> ConfigArgs {
        let flag = |value: &str, name| Sourced::new(value, Origin::Flag(name));
        ConfigArgs {
            config: None,
            flags: Layer {
                kubernetes_version: self
                    .kubernetes_version
                    .map(|v| flag(&v, "--kubernetes-version")),
                kubernetes: self.no_kubernetes.then(|| flag("false", "--no-kubernetes")),
                kubernetes_from: self.kubernetes_from.map(|v| flag(&v, "--kubernetes-from")),
                ..Layer::default()
            },
        }
    }
}

pub(super) async fn build(args: BuildArgs, progress: &Progress) -> Result<ExitCode> {
    let config = args.config_args().resolve(env_var)?;
    let node = tokio::task::block_in_place(|| NodeImage::for_config(&config))?;
    let engine = Engine::connect().await?;
    for spec in node.with_specs_of(&ImageKind::NETWORK_PLANE) {
        progress
            .run(&format!("Building {}", spec.tag), async |phase| {
                images::build(&engine, &spec, phase).await?;
                Ok(())
            })
            .await?;
    }
    Ok(ExitCode::SUCCESS)
}

//! `dind load docker-image` and `dind load image-archive`.

use super::env::target_id;
use crate::cluster::load;
use crate::engine::docker::Engine;
use crate::progress::Progress;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub(super) enum LoadCommand {
    /// Load images of the Docker host into every node (or --nodes); a node that holds the
    /// same image (name and digest) already is skipped.
    DockerImage(LoadImageArgs),
    /// Load a `docker save` archive into every node (or --nodes).
    ImageArchive(LoadArchiveArgs),
}

#[derive(Args, Debug)]
pub(super) struct LoadImageArgs {
    /// Images by name, as `docker images` lists them
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
    #[command(flatten)]
    target: LoadTarget,
}

#[derive(Args, Debug)]
pub(super) struct LoadArchiveArgs {
    /// The archive, as `docker save -o FILE` writes it
    file: PathBuf,
    #[command(flatten)]
    target: LoadTarget,
}

#[derive(Args, Debug)]
struct LoadTarget {
    /// Only these nodes, by container name, comma-separated (as `dind get nodes` prints them)
    #[arg(long, value_name = "NODE,...", value_delimiter = ',')]
    nodes: Option<Vec<String>>,
    /// The cluster to load into [env: CLUSTER_ID] [default: 0]
    #[arg(long, value_name = "N")]
    cluster_id: Option<String>,
}

pub(super) async fn load(command: LoadCommand, progress: &Progress) -> Result<ExitCode> {
    let (source, target) = match &command {
        LoadCommand::DockerImage(args) => (load::Source::Docker(&args.images), &args.target),
        LoadCommand::ImageArchive(args) => (load::Source::Archive(&args.file), &args.target),
    };
    let id = target_id(&target.cluster_id)?;
    let engine = Engine::connect().await?;
    let outcomes = load::load(&engine, id, source, target.nodes.as_deref(), progress).await?;
    print!("{}", load::render_outcomes(&outcomes));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command, LoadCommand};
    use clap::Parser;

    #[test]
    fn load_takes_images_or_an_archive_and_nodes_by_name() {
        let cli = Cli::try_parse_from([
            "dind",
            "load",
            "docker-image",
            "a:1",
            "b",
            "--nodes",
            "kube-master,kube-node-1",
            "--cluster-id",
            "3",
        ])
        .expect("parses");
        let Command::Load {
            command: LoadCommand::DockerImage(args),
        } = cli.command
        else {
            panic!("not load docker-image");
        };
        assert_eq!(args.images, ["a:1", "b"]);
        assert_eq!(
            args.target.nodes.as_deref(),
            Some(&["kube-master".to_string(), "kube-node-1".to_string()][..])
        );
        assert_eq!(args.target.cluster_id.as_deref(), Some("3"));
        // At least one image; an archive is one file.
        assert!(Cli::try_parse_from(["dind", "load", "docker-image"]).is_err());
        assert!(Cli::try_parse_from(["dind", "load", "image-archive"]).is_err());
        assert!(Cli::try_parse_from(["dind", "load", "image-archive", "a.tar"]).is_ok());
    }
}

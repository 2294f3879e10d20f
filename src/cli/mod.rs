//! The command line: clap definitions, and a dispatch to one module per command, each the
//! glue from its arguments to the cluster commands.

mod check;
mod completion;
mod config_args;
mod doctor;
mod down;
mod durations;
mod env;
mod export;
mod get;
mod images;
mod kubeconfig;
mod load;
mod output;
mod status;
mod target;
mod up;

use crate::progress::{Progress, Verbosity};
use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};
use down::DownArgs;
use load::LoadCommand;
use std::process::ExitCode;
use target::TargetArgs;

#[derive(Parser, Debug)]
#[command(
    name = "dind",
    version,
    about = "IPv6-first local Kubernetes test clusters in Docker, with DNS64/NAT64"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Also print the output of image builds and kubeadm
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    verbose: bool,
    /// Print only errors and the command's own output (kubeconfig, status, get)
    #[arg(short, long, global = true)]
    quiet: bool,
}

impl Cli {
    fn verbosity(&self) -> Verbosity {
        match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, true) => Verbosity::Verbose,
            (false, false) => Verbosity::Normal,
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create the cluster, or complete a partial one; a second run changes nothing.
    Up(Box<up::UpArgs>),
    /// Remove the cluster's containers, network, host routes and host rules.
    Down(DownArgs),
    /// `down`, plus the cluster's volumes and the images dind built.
    Clean(DownArgs),
    /// List clusters, their nodes and addresses, AAAA policy and host rules.
    Status(status::StatusArgs),
    /// Manage the images dind builds.
    Images {
        #[command(subcommand)]
        command: ImagesCommand,
    },
    /// Check what a cluster's pods can reach, and by which path.
    Check {
        #[command(subcommand)]
        command: CheckCommand,
    },
    /// Export a cluster's state for a bug report.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Check the Docker host before `up`: daemon, IPv6, iptables backend, tun, overlaps.
    Doctor(Box<doctor::DoctorArgs>),
    /// Print the cluster's kubeconfig (server on the Docker host's loopback, or --internal).
    Kubeconfig(kubeconfig::KubeconfigArgs),
    /// List clusters or a cluster's node containers, one per line, for scripts.
    Get {
        #[command(subcommand)]
        command: GetCommand,
    },
    /// Print a shell completion script (e.g. `source <(dind completion bash)`).
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Put images of the Docker host into the nodes' containerd.
    Load {
        #[command(subcommand)]
        command: LoadCommand,
    },
}

#[derive(Subcommand, Debug)]
enum GetCommand {
    /// The ids of the clusters Docker holds, sorted.
    Clusters,
    /// The cluster's node containers, master first.
    Nodes(TargetArgs),
}

#[derive(Subcommand, Debug)]
enum CheckCommand {
    /// Resolve and connect to NAMEs from a probe pod, the node and the host; check
    /// pod-to-pod, DNS64, NAT64 and the host's routes and rules.
    Network(check::CheckNetworkArgs),
}

#[derive(Subcommand, Debug)]
enum ExportCommand {
    /// Write every container's logs, config, addresses, routes and rules, the host's rules
    /// and routes, tayga's map and bind9's config to DIR and DIR.tar.gz.
    Logs(export::ExportLogsArgs),
}

#[derive(Subcommand, Debug)]
enum ImagesCommand {
    /// Build (or rebuild) the DNS64, NAT64 and node images.
    Build(images::BuildArgs),
}

pub async fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    let quiet = cli.quiet;
    let progress = Progress::for_stderr(cli.verbosity());
    match cli.command {
        Command::Up(args) => up::up(*args, &progress, quiet).await,
        Command::Down(args) => down::down(args, &progress, quiet).await,
        Command::Clean(args) => down::clean(args, &progress, quiet).await,
        Command::Status(args) => status::status(args).await,
        Command::Images {
            command: ImagesCommand::Build(args),
        } => images::build(args, &progress).await,
        Command::Check {
            command: CheckCommand::Network(args),
        } => check::network(args, &progress).await,
        Command::Export {
            command: ExportCommand::Logs(args),
        } => export::logs(args, &progress).await,
        Command::Doctor(args) => doctor::doctor(*args, &progress).await,
        Command::Kubeconfig(args) => kubeconfig::kubeconfig(args, &progress).await,
        Command::Get {
            command: GetCommand::Clusters,
        } => get::clusters(quiet).await,
        Command::Get {
            command: GetCommand::Nodes(args),
        } => get::nodes(args, quiet).await,
        Command::Completion { shell } => completion::completion(shell, &mut Cli::command()),
        Command::Load { command } => load::load(command, &progress).await,
    }
}

#[cfg(test)]
mod tests {
    use super::target::LockArgs;
    use super::{Cli, Command, Verbosity};
    use clap::Parser;
    use std::time::Duration;

    #[test]
    fn verbose_and_quiet_are_global_and_exclusive() {
        let parse = |args: &[&str]| Cli::try_parse_from(args).map(|cli| cli.verbosity());
        assert_eq!(parse(&["dind", "up", "-q"]).unwrap(), Verbosity::Quiet);
        assert_eq!(
            parse(&["dind", "-v", "images", "build"]).unwrap(),
            Verbosity::Verbose
        );
        assert_eq!(
            parse(&["dind", "get", "clusters"]).unwrap(),
            Verbosity::Normal
        );
        assert!(parse(&["dind", "up", "-q", "-v"]).is_err());
    }

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    fn lock_args(args: &[&str]) -> LockArgs {
        match Cli::try_parse_from(args).expect("parses").command {
            Command::Up(up) => up.lock,
            Command::Down(down) | Command::Clean(down) => down.lock,
            other => panic!("takes no lock: {other:?}"),
        }
    }

    #[test]
    fn the_lock_timeout_comes_from_the_flag_then_the_environment_then_the_default() {
        let env = |value: &'static str| {
            move |name: &str| (name == "DIND_LOCK_TIMEOUT").then(|| value.to_string())
        };
        let none = |_: &str| None;
        let secs = Duration::from_secs;
        let flagged = ["up", "down", "clean"].map(|command| {
            lock_args(&["dind", command, "--lock-timeout", "5"])
                .timeout(env("99"))
                .unwrap()
        });
        assert_eq!(flagged, [secs(5); 3]);
        let up = lock_args(&["dind", "up"]);
        assert_eq!(up.timeout(env("99")).unwrap(), secs(99));
        assert_eq!(up.timeout(env("2m")).unwrap(), secs(120));
        assert_eq!(up.timeout(none).unwrap(), secs(600));
        let err = up.timeout(env("soon")).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid DIND_LOCK_TIMEOUT 'soon' (from the environment): use a number of seconds \
             like 600, or a duration like 10m; 0 does not wait"
        );
        assert!(Cli::try_parse_from(["dind", "down", "--lock-timeout", "-1"]).is_err());
        assert!(Cli::try_parse_from(["dind", "status", "--lock-timeout", "1"]).is_err());
    }
}

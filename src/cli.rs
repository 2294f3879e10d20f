//! The command line: clap definitions, and the glue from arguments to the cluster commands.

use crate::cluster::{down, dry_run, kubernetes, load, up};
use crate::config::{self, Config, IpMode, Layer, Origin, Sourced};
use crate::diagnose::{check, doctor, export};
use crate::engine::docker::Engine;
use crate::engine::images::{self, ImageKind};
use crate::engine::lock::{self, DEFAULT_LOCK_TIMEOUT, LOCK_TIMEOUT_ENV};
use crate::exit::InvalidInput;
use crate::interrupt::Graceful;
use crate::kube::kubeconfig;
use crate::plan;
use crate::progress::{Progress, Verbosity};
use crate::state::{cluster_ids, find_record, node_containers, status};
use anyhow::{anyhow, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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
    Up(Box<UpArgs>),
    /// Remove the cluster's containers, network, host routes and host rules.
    Down(DownArgs),
    /// `down`, plus the cluster's volumes and the images dind built.
    Clean(DownArgs),
    /// List clusters, their nodes and addresses, AAAA policy and host rules.
    Status(StatusArgs),
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
    Doctor(Box<DoctorArgs>),
    /// Print the cluster's kubeconfig (server on the Docker host's loopback, or --internal).
    Kubeconfig(KubeconfigArgs),
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

#[derive(Args, Debug)]
struct KubeconfigArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Server on the master's address in the cluster network (port 6443), for clients in
    /// containers on that network
    #[arg(long)]
    internal: bool,
}

#[derive(Subcommand, Debug)]
enum LoadCommand {
    /// Load images of the Docker host into every node (or --nodes); a node that holds the
    /// same image (name and digest) already is skipped.
    DockerImage(LoadImageArgs),
    /// Load a `docker save` archive into every node (or --nodes).
    ImageArchive(LoadArchiveArgs),
}

#[derive(Args, Debug)]
struct LoadImageArgs {
    /// Images by name, as `docker images` lists them
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
    #[command(flatten)]
    target: LoadTarget,
}

#[derive(Args, Debug)]
struct LoadArchiveArgs {
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

#[derive(Subcommand, Debug)]
enum CheckCommand {
    /// Resolve and connect to NAMEs from a probe pod, the node and the host; check
    /// pod-to-pod, DNS64, NAT64 and the host's routes and rules.
    Network(CheckNetworkArgs),
}

#[derive(Args, Debug)]
struct CheckNetworkArgs {
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

#[derive(Subcommand, Debug)]
enum ExportCommand {
    /// Write every container's logs, config, addresses, routes and rules, the host's rules
    /// and routes, tayga's map and bind9's config to DIR and DIR.tar.gz.
    Logs(ExportLogsArgs),
}

#[derive(Args, Debug)]
struct ExportLogsArgs {
    /// Output directory [default: ./dind-logs-<cluster id>-<unix time>]
    dir: Option<std::path::PathBuf>,
    /// The cluster to export [env: CLUSTER_ID] [default: 0]
    #[arg(long, value_name = "N")]
    cluster_id: Option<String>,
}

#[derive(Args, Debug)]
struct DoctorArgs {
    #[command(flatten)]
    config: ConfigArgs,
    #[arg(short, long, value_enum, default_value = "table")]
    output: OutputFormat,
}

#[derive(Subcommand, Debug)]
enum ImagesCommand {
    /// Build (or rebuild) the DNS64, NAT64 and node images.
    Build(BuildArgs),
}

#[derive(Args, Debug)]
struct BuildArgs {
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

/// Settings of a cluster. Precedence: flag > environment > config file > default. The
/// flags are built from the settings table (`config::SETTINGS`), each with its help.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConfigArgs {
    /// YAML config file; `-` reads stdin.
    pub(crate) config: Option<String>,
    /// The settings given as flags.
    pub(crate) flags: Layer,
}

const CONFIG_FILE_ARG: &str = "config";

impl clap::FromArgMatches for ConfigArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(ConfigArgs {
            config: matches.get_one::<String>(CONFIG_FILE_ARG).cloned(),
            flags: Layer::from_flags(
                |id| matches.get_one::<String>(id).cloned(),
                |id| matches.get_flag(id),
            ),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for ConfigArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let config_file = clap::Arg::new(CONFIG_FILE_ARG)
            .long("config")
            .value_name("FILE")
            .help(
                "YAML config file (apiVersion dind.k8s.io/v1alpha1, kind Cluster); `-` reads stdin",
            );
        config::SETTINGS
            .iter()
            .fold(cmd.arg(config_file), |cmd, row| match row.flag {
                config::Flag::None => cmd,
                config::Flag::Value(value_name) => cmd.arg(
                    clap::Arg::new(row.field)
                        .long(row.name.trim_start_matches("--"))
                        .value_name(value_name)
                        .help(row.help_text()),
                ),
                config::Flag::Switch { long, .. } => cmd.arg(
                    clap::Arg::new(row.field)
                        .long(long.trim_start_matches("--"))
                        .action(clap::ArgAction::SetTrue)
                        .help(row.help_text()),
                ),
            })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

#[derive(Args, Debug)]
struct UpArgs {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    lock: LockArgs,
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

fn parse_wait(text: &str) -> Result<Duration, String> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("{e}; use a duration like 5m, 90s or 1h30m, or 0 not to wait"))
}

#[derive(Args, Debug)]
struct TargetArgs {
    /// The cluster to act on [env: CLUSTER_ID] [default: 0]
    #[arg(long, value_name = "N")]
    cluster_id: Option<String>,
}

#[derive(Args, Debug)]
struct DownArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    lock: LockArgs,
}

/// `up`, `down` and `clean` of one cluster take turns (a lock kept by the Docker daemon).
#[derive(Args, Clone, Copy, Debug)]
struct LockArgs {
    /// How long to wait while another `up`, `down` or `clean` of this cluster runs; 0 does
    /// not wait [env: DIND_LOCK_TIMEOUT] [default: 600]
    #[arg(long, value_name = "SECONDS", value_parser = parse_lock_timeout)]
    lock_timeout: Option<Duration>,
}

impl LockArgs {
    /// The flag, else DIND_LOCK_TIMEOUT, else the default.
    fn timeout(self, env: impl Fn(&str) -> Option<String>) -> Result<Duration> {
        if let Some(timeout) = self.lock_timeout {
            return Ok(timeout);
        }
        match env(LOCK_TIMEOUT_ENV) {
            None => Ok(DEFAULT_LOCK_TIMEOUT),
            Some(text) => parse_lock_timeout(&text).map_err(|why| {
                InvalidInput::wrap(anyhow::anyhow!(
                    "invalid {LOCK_TIMEOUT_ENV} '{text}' (from the environment): {why}"
                ))
            }),
        }
    }
}

fn parse_lock_timeout(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text).map_err(|_| {
        "use a number of seconds like 600, or a duration like 10m; 0 does not wait".to_string()
    })
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OutputFormat {
    Table,
    Json,
}

#[derive(Args, Debug)]
struct StatusArgs {
    /// Only this cluster (default: all)
    #[arg(long, value_name = "N")]
    cluster_id: Option<String>,
    #[arg(short, long, value_enum, default_value = "table")]
    output: OutputFormat,
}

impl ConfigArgs {
    /// All four layers merged and validated; every error is [`InvalidInput`].
    pub(crate) fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let file = match &self.config {
            None => (Layer::default(), Vec::new()),
            Some(path) => {
                let text = if path == "-" {
                    let mut text = String::new();
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .context("cannot read the config from stdin")
                        .map_err(InvalidInput::wrap)?;
                    text
                } else {
                    std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read config file {path}"))
                        .map_err(InvalidInput::wrap)?
                };
                config::read_file(path, &text).map_err(InvalidInput::wrap)?
            }
        };
        let (file, mut file_problems) = file;
        let upper = self.flags.clone().over(Layer::from_env(env));
        file_problems.extend(config::list_overridden(&upper, &file));
        let layer = upper.over(file);
        let validated = config::validate(layer);
        if file_problems.is_empty() {
            return validated.map_err(InvalidInput::wrap);
        }
        // Every problem at once: the file's own, then the refusals of what it did give.
        let refusals = validated.err().map(|e| e.to_string());
        Err(InvalidInput::wrap(anyhow!(
            "{}",
            file_problems
                .into_iter()
                .chain(refusals)
                .collect::<Vec<_>>()
                .join("\n")
        )))
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The cluster id of down/clean/status: flag, else CLUSTER_ID, else 0.
fn target_id(flag: &Option<String>) -> Result<u8> {
    let raw = flag
        .as_ref()
        .map(|v| Sourced::new(v.clone(), Origin::Flag("--cluster-id")))
        .or(Layer::from_env(env_var).cluster_id)
        .unwrap_or_else(|| Sourced::new("0", Origin::Default));
    config::parse_cluster_id(&raw).map_err(InvalidInput::wrap)
}

pub async fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    let quiet = cli.quiet;
    let progress = Progress::for_stderr(cli.verbosity());
    match cli.command {
        Command::Up(args) => {
            let config = args.config.resolve(env_var)?;
            if args.dry_run {
                let images = dry_run::ImageTags {
                    dns64: ImageKind::Dns64.spec().tag,
                    nat64: ImageKind::Nat64.spec().tag,
                    node: tokio::task::block_in_place(|| images::NodeImage::for_config(&config))?
                        .tag,
                    registry: ImageKind::Registry.spec().tag,
                };
                let run = dry_run::dry_run(&config, &images, env_var)?;
                match args.output {
                    OutputFormat::Table => print!("{}", dry_run::render_text(&run)),
                    OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&run)?),
                }
                return Ok(ExitCode::SUCCESS);
            }
            let kubeconfig = match (&args.kubeconfig, config.kubernetes) {
                (Some(path), _) => Some(path.clone()),
                (None, true) => Some(kubeconfig::target_path(
                    env_var("KUBECONFIG").as_deref(),
                    env_var("HOME").map(PathBuf::from).as_deref(),
                )?),
                (None, false) => None,
            };
            let lock_timeout = args.lock.timeout(env_var)?;
            let engine = Engine::connect().await?;
            let id = config.cluster_id;
            let options = up::UpOptions {
                retain: args.retain,
                wait: (!args.wait.is_zero()).then_some(args.wait),
                kubeconfig,
            };
            let (record, clusters) =
                lock::holding(&engine, id, "up", lock_timeout, &progress, async || {
                    // Once `up` is done there is nothing to roll back: a signal now lets the
                    // status be read and shown.
                    let _graceful = Graceful::hold("the cluster is made; showing its status");
                    let record = up::up(&engine, config, options, &progress).await?;
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
        }
        Command::Load { command } => {
            let (source, target) = match &command {
                LoadCommand::DockerImage(args) => {
                    (load::Source::Docker(&args.images), &args.target)
                }
                LoadCommand::ImageArchive(args) => {
                    (load::Source::Archive(&args.file), &args.target)
                }
            };
            let id = target_id(&target.cluster_id)?;
            let engine = Engine::connect().await?;
            let outcomes =
                load::load(&engine, id, source, target.nodes.as_deref(), &progress).await?;
            print!("{}", load::render_outcomes(&outcomes));
        }
        Command::Kubeconfig(args) => {
            let id = target_id(&args.target.cluster_id)?;
            let engine = Engine::connect().await?;
            let record = find_record(&engine, id)
                .await?
                .with_context(|| format!("no dind cluster {id} here; `dind up` creates it"))?;
            if !record.config.kubernetes {
                anyhow::bail!(
                    "dind cluster {id} was brought up with --no-kubernetes; it has no kubeconfig"
                );
            }
            let cluster_plan = plan::plan(&record.config);
            let server = match args.internal {
                true => kubernetes::Server::Internal,
                false => kubernetes::Server::Published,
            };
            if args.internal && record.config.ip_mode == IpMode::DualStack {
                progress.note(&format!(
                    "dual-stack: the server is the master's {} address, of the primary family \
                     (the first --service-cidr's)",
                    match kubernetes::internal_api_address(&cluster_plan, &record.config) {
                        std::net::IpAddr::V6(_) => "IPv6",
                        std::net::IpAddr::V4(_) => "IPv4",
                    }
                ));
            }
            print!(
                "{}",
                kubernetes::cluster_kubeconfig(&engine, &cluster_plan, &record.config, server)
                    .await?
            );
        }
        Command::Get {
            command: GetCommand::Clusters,
        } => {
            let engine = Engine::connect().await?;
            let ids = cluster_ids(&engine).await?;
            if ids.is_empty() && !quiet {
                eprintln!("no dind clusters here");
            }
            print!("{}", lines(ids));
        }
        Command::Get {
            command: GetCommand::Nodes(args),
        } => {
            let id = target_id(&args.cluster_id)?;
            let engine = Engine::connect().await?;
            let nodes = node_containers(&engine, id).await?;
            if nodes.is_empty() && !quiet {
                eprintln!("no nodes of dind cluster {id} here");
            }
            print!("{}", lines(nodes));
        }
        Command::Completion { shell } => {
            use clap::CommandFactory;
            use std::io::Write;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "dind", &mut script);
            std::io::stdout()
                .write_all(&script)
                .context("cannot write the completion script")?;
        }
        Command::Down(args) => {
            let id = target_id(&args.target.cluster_id)?;
            let lock_timeout = args.lock.timeout(env_var)?;
            let engine = Engine::connect().await?;
            let report = lock::holding(&engine, id, "down", lock_timeout, &progress, async || {
                down::down(&engine, id, &progress).await
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
        }
        Command::Clean(args) => {
            let id = target_id(&args.target.cluster_id)?;
            let lock_timeout = args.lock.timeout(env_var)?;
            let engine = Engine::connect().await?;
            let report = lock::holding(&engine, id, "clean", lock_timeout, &progress, async || {
                down::clean(&engine, id, &progress).await
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
        }
        Command::Status(args) => {
            let only = args
                .cluster_id
                .as_ref()
                .map(|_| target_id(&args.cluster_id))
                .transpose()?;
            let engine = Engine::connect().await?;
            let report = status::report(&engine, only, true).await?;
            match args.output {
                OutputFormat::Table => print!("{}", report.render_table()),
                OutputFormat::Json => {
                    println!("{}", serde_json::to_string_pretty(&report.clusters)?)
                }
            }
            report.check()?;
        }
        Command::Images {
            command: ImagesCommand::Build(args),
        } => {
            let flag = |value: &str, name| Sourced::new(value, Origin::Flag(name));
            let config = ConfigArgs {
                config: None,
                flags: Layer {
                    kubernetes_version: args
                        .kubernetes_version
                        .map(|v| flag(&v, "--kubernetes-version")),
                    kubernetes: args.no_kubernetes.then(|| flag("false", "--no-kubernetes")),
                    kubernetes_from: args.kubernetes_from.map(|v| flag(&v, "--kubernetes-from")),
                    ..Layer::default()
                },
            }
            .resolve(env_var)?;
            let node = tokio::task::block_in_place(|| images::NodeImage::for_config(&config))?;
            let engine = Engine::connect().await?;
            let mut specs: Vec<_> = ImageKind::NETWORK_PLANE.map(ImageKind::spec).to_vec();
            let own_node = node.build.clone();
            specs.extend(own_node.filter(|own| specs.iter().all(|s| s.tag != own.tag)));
            for spec in specs {
                progress
                    .run(&format!("Building {}", spec.tag), async |phase| {
                        images::build(&engine, &spec, phase).await?;
                        Ok(())
                    })
                    .await?;
            }
        }
        Command::Check {
            command: CheckCommand::Network(args),
        } => {
            let id = target_id(&args.cluster_id)?;
            let engine = Engine::connect().await?;
            let options = check::Options {
                names: args.names,
                port: args.port,
                host_resolver: args.host_resolver,
            };
            let report = check::check_network(&engine, id, &options, &progress).await?;
            match args.output {
                OutputFormat::Table => print!("{}", report.render_table()),
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report.checks)?),
            }
            if !report.passed() {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Export {
            command: ExportCommand::Logs(args),
        } => {
            let id = target_id(&args.cluster_id)?;
            let engine = Engine::connect().await?;
            let written = export::export_logs(&engine, id, args.dir, &progress).await?;
            println!(
                "wrote {} and {}",
                written.dir.display(),
                written.archive.display()
            );
        }
        Command::Doctor(args) => {
            let config = args.config.resolve(env_var)?;
            let engine = Engine::connect().await?;
            let report = doctor::doctor(&engine, &config, &progress).await?;
            match args.output {
                OutputFormat::Table => print!("{}", report.render_table()),
                OutputFormat::Json => {
                    println!("{}", serde_json::to_string_pretty(&report.findings)?)
                }
            }
            if !report.passed() {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One item a line.
fn lines<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items.into_iter().map(|item| format!("{item}\n")).collect()
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

#[cfg(test)]
mod tests {
    use super::{parse_lock_timeout, parse_wait, Cli, Command, LockArgs, Verbosity};
    use crate::config::{Layer, Origin, Sourced};
    use clap::Parser;
    use std::time::Duration;

    fn up_flags(args: &[&str]) -> Layer {
        let cli = Cli::try_parse_from(["dind", "up"].iter().chain(args)).expect("parses");
        match cli.command {
            Command::Up(up) => up.config.flags,
            other => panic!("not up: {other:?}"),
        }
    }

    /// The bash script `dind completion bash` prints.
    fn bash_completion() -> String {
        use clap::CommandFactory;
        let mut out = Vec::new();
        clap_complete::generate(
            clap_complete::Shell::Bash,
            &mut Cli::command(),
            "dind",
            &mut out,
        );
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn the_bash_completion_is_a_script_naming_the_subcommands() {
        let script = bash_completion();
        assert!(script.contains("complete -F _dind"), "{script}");
        for word in [
            "up",
            "down",
            "clean",
            "status",
            "kubeconfig",
            "get",
            "clusters",
            "nodes",
            "completion",
            "--internal",
            "--cluster-id",
            "--quiet",
        ] {
            assert!(
                script.split_whitespace().any(|w| w.contains(word)),
                "{word} missing"
            );
        }
        // bash itself accepts it, where there is a bash.
        let path =
            std::env::temp_dir().join(format!("dind-completion-{}.bash", std::process::id()));
        std::fs::write(&path, &script).unwrap();
        match std::process::Command::new("bash")
            .arg("-n")
            .arg(&path)
            .output()
        {
            Ok(out) => assert!(
                out.status.success(),
                "bash -n: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => eprintln!("no bash to check the script with: {e}"),
        }
        let _ = std::fs::remove_file(&path);
    }

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

    #[test]
    fn setting_flags_come_from_the_table_with_their_origin() {
        let flag = |value: &str, name| Some(Sourced::new(value, Origin::Flag(name)));
        assert_eq!(
            up_flags(&[
                "--cluster-id",
                "3",
                "--service-cidr",
                "fd00:31::/110",
                "--no-kubernetes",
                "--allow-aaaa"
            ]),
            Layer {
                cluster_id: flag("3", "--cluster-id"),
                service_cidrs: flag("fd00:31::/110", "--service-cidr"),
                kubernetes: flag("false", "--no-kubernetes"),
                allow_aaaa: flag("true", "--allow-aaaa"),
                ..Layer::default()
            }
        );
        assert_eq!(up_flags(&[]), Layer::default());
        // File-only settings have no flag.
        assert!(Cli::try_parse_from(["dind", "up", "--probes", "a"]).is_err());
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
            command: super::LoadCommand::DockerImage(args),
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

    #[test]
    fn the_registry_is_a_switch_of_the_settings_table() {
        assert_eq!(
            up_flags(&["--registry"]).registry,
            Some(Sourced::new("true", Origin::Flag("--registry")))
        );
    }

    #[test]
    fn lock_timeouts_are_seconds_or_durations() {
        assert_eq!(parse_lock_timeout("0"), Ok(Duration::ZERO));
        assert_eq!(parse_lock_timeout(" 30 "), Ok(Duration::from_secs(30)));
        assert_eq!(parse_lock_timeout("1m30s"), Ok(Duration::from_secs(90)));
        assert!(parse_lock_timeout("-5").is_err());
    }

    #[test]
    fn wait_takes_durations_and_zero() {
        assert_eq!(parse_wait("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_wait("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_wait("0"), Ok(Duration::ZERO));
        let err = parse_wait("soon").unwrap_err();
        assert!(
            err.contains("use a duration like 5m, 90s or 1h30m, or 0 not to wait"),
            "{err}"
        );
    }
}

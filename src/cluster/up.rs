//! `dind up`: the checks, then named actions in stages over one context, each idempotent
//! (a second `up` changes nothing, and completes an interrupted one); a failure or a
//! signal ends in the one rollback, of what this run's journal names.

mod context;
mod create;
mod prepare;

use super::forwarding;
use super::kubernetes;
use super::nat64_program;
use super::undo::{Executor, Journal, Scope, Undone};
use crate::config::{Config, IpMode, KubeVersion, Nat64Engine, PortMapping, Protocol};
use crate::engine::docker::Engine;
use crate::engine::host::{self, HostNet};
use crate::engine::lock;
use crate::interrupt::{self, Graceful};
use crate::labels::Record;
use crate::plan::{self, ClusterPlan};
use crate::preflight::{self, HostFacts};
use crate::progress::Progress;
use crate::render::containers;
use crate::state::find_record;
use anyhow::{anyhow, bail, Context, Result};
use context::Ctx;
pub(crate) use context::UpOptions;
use create::{
    ensure_dns64, ensure_host, ensure_nat64, ensure_network, ensure_node, ensure_registry,
};
use futures_util::future::join_all;
use futures_util::FutureExt;
use prepare::build_images;

pub(crate) async fn up(
    engine: &Engine,
    config: Config,
    options: UpOptions,
    progress: &Progress,
) -> Result<Record> {
    // A signal rolls back what this run made (as a failure does) instead of cutting it off.
    let _graceful = Graceful::hold("stopping: what this run made is rolled back");
    let ctx = check(engine, config, options, progress).await?;
    let acted = act(&ctx).await;
    ctx.remove_host_helper().await;
    match acted {
        Ok(()) => Ok(ctx.record),
        Err(err) => Err(roll_back(&ctx, err).await),
    }
}

/// The stages of actions, once the lock (started while the host was inspected) holds.
async fn act(ctx: &Ctx) -> Result<()> {
    lock::started().await?;
    for stage in stages(&ctx.plan, ctx.images.kubeadm) {
        run_stage(ctx, stage).await?;
    }
    Ok(())
}

/// Everything before the first change: the Docker host and the record of an earlier `up`,
/// the images, the host's facts judged as `dind doctor` judges them; then the config that
/// counts (a second `up`'s is the record's), its plan and the record, decided once.
async fn check(
    engine: &Engine,
    config: Config,
    options: UpOptions,
    progress: &Progress,
) -> Result<Ctx> {
    let existing = progress
        .run("Checking the Docker host", async |phase| {
            phase.message(&format!(
                "Docker {} (API {})",
                engine.server_version, engine.api_version
            ));
            // Helpers a killed dind run left behind (a Ctrl-C removes its own).
            host::remove_stray_helpers(engine, config.cluster_id).await?;
            let existing = find_record(engine, config.cluster_id).await?;
            if let Some(record) = &existing {
                check_same_config(&config, &record.config)?;
            }
            Ok(existing)
        })
        .await?;
    let resuming = existing.is_some();
    // The same but for the egress interface and the probes, neither of which `up` reads.
    let config = existing.as_ref().map_or(config, |r| r.config.clone());
    let nat64_program = read_nat64_program(&config, progress)?;
    // Until the first change, a signal simply stops the run.
    let images = interrupt::unless_stopped(build_images(engine, &config, progress)).await?;
    let mut plan = plan::plan(&config);
    let (facts, host_helper) =
        interrupt::unless_stopped(inspect_host(engine, &config, &plan, progress)).await?;
    let record = match existing {
        Some(record) => record,
        None => match new_record(engine, config, &mut plan, &facts, &options).await {
            Ok(record) => record,
            Err(err) => {
                if let Some(helper) = host_helper {
                    helper.remove().await;
                }
                return Err(err);
            }
        },
    };
    Ok(Ctx {
        engine: engine.clone(),
        progress: progress.clone(),
        options,
        resuming,
        plan,
        record,
        images,
        nat64_program,
        journal: Journal::default(),
        host_helper: std::sync::Mutex::new(host_helper),
    })
}

/// Before anything is created: the same facts and judgement as `dind doctor`. The helper
/// that read the host is kept when the host's routes and rules are to be set: that action
/// takes it.
async fn inspect_host(
    engine: &Engine,
    config: &Config,
    plan: &ClusterPlan,
    progress: &Progress,
) -> Result<(HostFacts, Option<HostNet>)> {
    progress
        .run("Inspecting the Docker host", async |phase| {
            let (facts, helper) =
                preflight::gather_keeping_helper(engine, config, plan, phase).await?;
            let verdict = preflight::up_verdict(config, plan, &facts);
            let helper = match helper {
                Some(helper) if verdict.is_err() || !configures_host(plan) => {
                    helper.remove().await;
                    None
                }
                kept => kept,
            };
            for warning in verdict? {
                progress.note(&warning.to_string());
            }
            Ok((facts, helper))
        })
        .await
}

/// The actions of `up`, each idempotent (a second `up` changes nothing, and completes an
/// interrupted one); each notes in the journal what it makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Network,
    Nat64AndDns64,
    Host,
    Registry,
    Nodes,
    /// The Kubernetes phases, which name themselves.
    Kubernetes(KubeVersion),
}

/// The actions in order, in stages: a stage starts once the one before has ended, and its
/// actions run side by side. The network first; then the support containers, the host's
/// routes and rules, the registry and the nodes, none of which waits for another
/// (addresses are all planned, and a route via tayga is valid before tayga runs).
fn stages(plan: &ClusterPlan, kubeadm: Option<KubeVersion>) -> Vec<Vec<Action>> {
    let host = configures_host(plan);
    let side_by_side = [
        (plan.nat64.is_some(), Action::Nat64AndDns64),
        (host, Action::Host),
        (plan.registry.is_some(), Action::Registry),
        (true, Action::Nodes),
    ];
    let side_by_side = side_by_side.into_iter().filter(|(wanted, _)| *wanted);
    let mut stages = vec![
        vec![Action::Network],
        side_by_side.map(|(_, a)| a).collect(),
    ];
    stages.extend(kubeadm.map(|version| vec![Action::Kubernetes(version)]));
    stages
}

/// Whether `up` sets routes or rules on the Docker host.
fn configures_host(plan: &ClusterPlan) -> bool {
    !plan.host.routes.is_empty() || !plan.host.direct_ipv6_sources.is_empty()
}

/// Heeds a signal first: between stages nothing is half made.
async fn run_stage(ctx: &Ctx, stage: Vec<Action>) -> Result<()> {
    interrupt::check()?;
    all_of(stage.into_iter().map(|action| run(ctx, action))).await
}

async fn run(ctx: &Ctx, action: Action) -> Result<()> {
    let progress = &ctx.progress;
    match action {
        Action::Network => {
            progress
                .step("Creating the network", ensure_network(ctx))
                .await
        }
        Action::Nat64AndDns64 => {
            let engine = ctx.record.config.nat64_engine;
            let both = all_of(vec![ensure_nat64(ctx).boxed(), ensure_dns64(ctx).boxed()]);
            let name = format!("Starting NAT64 ({engine}) and DNS64 (bind9)");
            progress.step(&name, both).await
        }
        Action::Host => {
            let name = "Configuring host routes and rules";
            progress.step(name, ensure_host(ctx)).await
        }
        Action::Registry => {
            let registry = ctx.plan.registry.as_ref().expect("planned");
            let name = format!("Starting the registry (localhost:{})", registry.host_port);
            progress.step(&name, ensure_registry(ctx, registry)).await
        }
        Action::Nodes => {
            let name = format!("Starting {} node container(s)", ctx.plan.nodes.len());
            let nodes = all_of(ctx.plan.nodes.iter().map(|node| ensure_node(ctx, node)));
            progress.step(&name, nodes).await
        }
        Action::Kubernetes(version) => {
            let kube = kubernetes::Kube {
                engine: &ctx.engine,
                progress,
                plan: &ctx.plan,
                record: &ctx.record,
                version,
                storage: ctx.images.storage.as_deref(),
                wait: ctx.options.wait,
                // A resumed `up` found the context merged by the run that made the cluster.
                journal: (!ctx.resuming).then_some(&ctx.journal),
            };
            // Commands in the nodes and waits: what they change goes with the nodes.
            interrupt::unless_stopped(kubernetes::bring_up(&kube)).await
        }
    }
}

/// The one place a failed or stopped run ends: what it made is kept with `--retain`, else
/// rolled back. Returns the error to report.
async fn roll_back(ctx: &Ctx, err: anyhow::Error) -> anyhow::Error {
    let id = ctx.plan.cluster_id;
    if ctx.options.retain {
        return err.context(format!(
            "--retain: what was created is kept; `dind down --cluster-id {id}` removes it"
        ));
    }
    let executor = Executor::new(&ctx.engine, id, &ctx.progress, Scope::Run, true);
    let rollback = executor
        .run(&ctx.journal.entries(), &mut Undone::default())
        .await;
    let kept = match ctx.resuming {
        true => "; the cluster as it was before this run is kept",
        false => "",
    };
    match rollback {
        Ok(()) => err.context(format!(
            "everything this run created was removed again{kept}"
        )),
        Err(rollback_err) => err.context(format!(
            "rolling back failed too ({rollback_err:#}); `dind down --cluster-id {id}` removes the rest"
        )),
    }
}

/// Runs `work` concurrently and waits for every part, also after one fails: a rollback
/// must not race a container creation that is still under way. Returns the first error.
async fn all_of<F: std::future::Future<Output = Result<()>>>(
    work: impl IntoIterator<Item = F>,
) -> Result<()> {
    join_all(work).await.into_iter().collect()
}

/// A free port on the Docker host's loopback for the API server, chosen now (as kind does)
/// so that the master keeps it across restarts and the kubeconfig stays right. A remote
/// Docker host's ports cannot be probed from here: Docker picks one at each start.
fn pick_api_server_port(engine: &Engine, config: &Config) -> Result<Option<u16>> {
    if !engine.local {
        return Ok(None);
    }
    let loopback = plan::kubernetes::published_loopback(config.ip_mode);
    let listener = std::net::TcpListener::bind((loopback, 0))
        .with_context(|| format!("cannot find a free port on {loopback} for the API server"))?;
    Ok(Some(listener.local_addr()?.port()))
}

/// Every published port of the plan that `is_free` says is taken, in words. Tried before a
/// new cluster is made: Docker would refuse it only at that node's start, after the network
/// and the other containers were created.
fn ports_in_use(plan: &ClusterPlan, is_free: impl Fn(&PortMapping) -> bool) -> Vec<String> {
    plan.nodes
        .iter()
        .flat_map(|node| node.port_mappings.iter().map(move |p| (node, p)))
        .filter(|(_, p)| !is_free(p))
        .map(|(node, p)| {
            format!(
                "{}: {} port {} on {} (extraPortMappings, containerPort {}) is in use on this \
                 machine; stop what holds it or pick another hostPort",
                node.container, p.protocol, p.host_port, p.listen_address, p.container_port
            )
        })
        .collect()
}

/// Whether this machine lets a socket bind the mapping's host address and port, as Docker's
/// port proxy will. SCTP is left to Docker (std has no SCTP socket).
fn port_is_free(p: &PortMapping) -> bool {
    let at = std::net::SocketAddr::new(p.listen_address, p.host_port);
    match p.protocol {
        Protocol::Tcp => std::net::TcpListener::bind(at).is_ok(),
        Protocol::Udp => std::net::UdpSocket::bind(at).is_ok(),
        Protocol::Sctp => true,
    }
}

/// The dind-nat64 program when the cluster runs it, read before anything is made: a missing
/// one fails the run with nothing changed.
fn read_nat64_program(config: &Config, progress: &Progress) -> Result<Option<Vec<u8>>> {
    if config.ip_mode != IpMode::Ipv6 || config.nat64_engine != Nat64Engine::DindNat64 {
        return Ok(None);
    }
    let (location, bytes) = nat64_program::load()?;
    progress.note(&format!(
        "NAT64 engine dind-nat64: {} ({} KiB)",
        location.path().display(),
        bytes.len() / 1024
    ));
    Ok(Some(bytes))
}

/// A second `up` must describe the same cluster; anything else needs `down` first.
fn check_same_config(wanted: &Config, recorded: &Config) -> Result<()> {
    let mut wanted = wanted.clone();
    if wanted.egress_interface.is_none() {
        wanted.egress_interface = recorded.egress_interface.clone();
    }
    // Probes only serve `check network`; they are not part of what was built.
    wanted.probes = recorded.probes.clone();
    if &wanted == recorded {
        return Ok(());
    }
    let show = |c: &Config| serde_json::to_value(c).expect("a config serializes");
    let (a, b) = (show(&wanted), show(recorded));
    let differing: Vec<String> = a
        .as_object()
        .expect("an object")
        .iter()
        .filter(|(k, v)| b.get(k.as_str()) != Some(v))
        .map(|(k, v)| {
            format!(
                "{k}: now {v}, recorded {}",
                b.get(k.as_str()).cloned().unwrap_or_default()
            )
        })
        .collect();
    bail!(
        "cluster {} already exists with other settings ({}); run `dind down --cluster-id {}` first, or pick another --cluster-id",
        recorded.cluster_id,
        differing.join("; "),
        recorded.cluster_id
    )
}

/// The record of a new cluster: the published ports free, what the config left to the
/// Docker host (the egress interface, which the plan copies) resolved, whether `up`
/// switches IPv6 forwarding on (Docker does for an IPv6 network, and `--allow-aaaa` needs
/// it), and for Kubernetes the kubeconfig, the API server's port and the proxy. Nothing is
/// changed yet.
async fn new_record(
    engine: &Engine,
    mut config: Config,
    plan: &mut ClusterPlan,
    facts: &HostFacts,
    options: &UpOptions,
) -> Result<Record> {
    if engine.local {
        let taken = ports_in_use(plan, port_is_free);
        if !taken.is_empty() {
            bail!("{}", taken.join("\n"));
        }
    }
    let host = facts.host.as_ref().map_err(|e| anyhow!(e.clone()))?;
    if config.allow_aaaa {
        if let Some(egress) = host.egress.as_ref().and_then(|e| e.name.clone()) {
            plan.host.egress_interface = Some(egress.clone());
            config.egress_interface = Some(egress);
        }
    }
    // Forwarding that dind switched on for another cluster was off before dind: the last
    // `down` switches it back off, and puts back the FORWARD policy from before the first
    // cluster (Docker 28 and later set it to DROP as they switch forwarding on). Read after
    // the host's facts: a marker made meanwhile describes the host before either `up`.
    let marker = forwarding::marker(engine).await?;
    let enabled_ipv6_forwarding = plan.network.ipv6 && (!host.ipv6_forwarding || marker.is_some());
    let found = host.ip6tables.as_deref().map(host::forward_policy);
    let ip6_forward_policy = forwarding::policy_before(enabled_ipv6_forwarding, marker, found);
    let mut record = Record {
        config,
        enabled_ipv6_forwarding,
        ip6_forward_policy,
        kubeconfig: None,
        api_server_port: None,
        proxy: Default::default(),
    };
    if record.config.kubernetes {
        record.kubeconfig = options.kubeconfig.clone();
        record.api_server_port = pick_api_server_port(engine, &record.config)?;
        record.proxy =
            containers::proxy_settings(|name| std::env::var(name).ok(), plan, &record.config);
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_runs_the_network_then_what_the_plan_needs_side_by_side_then_kubernetes() {
        use crate::test_support::config_from_env;
        use Action::*;
        let stages_of =
            |vars: &[(&str, &str)], kubeadm| stages(&plan::plan(&config_from_env(vars)), kubeadm);
        let version: KubeVersion = "v1.33.1".parse().unwrap();
        assert_eq!(
            stages_of(&[], Some(version)),
            [
                vec![Network],
                vec![Nat64AndDns64, Host, Nodes],
                vec![Kubernetes(version)]
            ]
        );
        assert_eq!(
            stages_of(&[("IP_MODE", "ipv4"), ("DIND_REGISTRY", "on")], None),
            [vec![Network], vec![Registry, Nodes]]
        );
    }

    #[test]
    fn a_taken_port_is_named_by_its_node_protocol_address_and_container_port() {
        let layer = crate::config::load_file(
            "kind.yaml",
            "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nnodes:\n- role: worker\n  \
             extraPortMappings:\n  - {containerPort: 53, hostPort: 5353, protocol: UDP}\n\
             - role: control-plane\n  extraPortMappings:\n  - {containerPort: 80, hostPort: 8080}\n",
        )
        .unwrap();
        let plan = plan::plan(&crate::config::validate(layer).unwrap());
        assert!(ports_in_use(&plan, |_| true).is_empty());
        let taken = ports_in_use(&plan, |p| p.host_port != 5353);
        assert_eq!(
            taken,
            ["kube-node-1: UDP port 5353 on ::1 (extraPortMappings, containerPort 53) is in use \
              on this machine; stop what holds it or pick another hostPort"]
        );
    }

    #[test]
    fn a_bound_port_is_not_free_and_a_released_one_is() {
        let listener = std::net::TcpListener::bind(("::1", 0)).unwrap();
        let mapping = PortMapping {
            container_port: 80,
            host_port: listener.local_addr().unwrap().port(),
            listen_address: "::1".parse().unwrap(),
            protocol: Protocol::Tcp,
        };
        assert!(!port_is_free(&mapping));
        drop(listener);
        assert!(port_is_free(&mapping));
    }
}

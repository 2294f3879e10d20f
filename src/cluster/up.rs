//! `dind up`: named, ordered phases; each is idempotent, so a second `up` changes nothing
//! and an interrupted one is completed by the next.

use super::forwarding;
use super::kubernetes;
use super::nat64_program;
use super::rollback::{self, Journal};
use crate::config::{Config, IpMode, KubeVersion, Nat64Engine, PortMapping, Protocol};
use crate::engine::docker::Engine;
use crate::engine::error::{is_missing_bind_source, is_privilege_refused};
use crate::engine::host::{self, HostNet};
use crate::engine::images::{self, ImageKind, NodeImage};
use crate::engine::lock;
use crate::interrupt::{self, Graceful};
use crate::labels::{self, Record};
use crate::plan::{self, ClusterPlan};
use crate::preflight::{self, HostFacts};
use crate::progress::Progress;
use crate::render::containers::{self, ContainerSpec, HOST_MODULES};
use crate::render::{containerd, host_rules, kubeadm, node_files, FileSpec, ProgramFile};
use crate::state::find_record;
use anyhow::{anyhow, bail, Context, Result};
use futures_util::future::{join_all, try_join_all};
use futures_util::FutureExt;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug, Default)]
pub(crate) struct UpOptions {
    /// Keep what a failed `up` created, for debugging.
    pub(crate) retain: bool,
    /// How long to wait for the Kubernetes cluster to be ready; None: do not wait.
    pub(crate) wait: Option<Duration>,
    /// The kubeconfig file to merge the cluster's context into.
    pub(crate) kubeconfig: Option<PathBuf>,
}

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const DNS64_PROBE: &[&str] = &[
    "dig",
    "+short",
    "+time=1",
    "+tries=1",
    "@::1",
    "version.bind",
    "chaos",
    "txt",
];
const NODE_PROBE: &[&str] = &["test", "-f", "/run/dind/ready"];
/// What images/node/dind-node-entrypoint prints once the node's network is set up.
const NODE_READY_LINE: &str = "dind-node: ready";

fn nat64_probe(engine: Nat64Engine, tun: &str) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        format!("pidof {engine} >/dev/null && ip -o link show dev {tun} | grep -q ',UP'"),
    ]
}

/// Image tags a cluster uses. The host helper always runs dind's own node image, which
/// carries iproute2 and both iptables backends.
struct Images {
    dns64: String,
    nat64: String,
    node: String,
    helper: String,
    registry: String,
    /// The node image's kubeadm version; None without Kubernetes.
    kubeadm: Option<KubeVersion>,
    /// The storage provisioner's image, when the node image carries it.
    storage: Option<String>,
    /// The node image's containerd configuration with the registry's `config_path` and the
    /// user's patches merged in; None: the image's own stays.
    containerd_config: Option<String>,
}

struct Ctx {
    engine: Engine,
    progress: Progress,
    plan: ClusterPlan,
    record: Record,
    images: Images,
    /// The dind-nat64 program for a new NAT64 container (engine dind-nat64).
    nat64_program: Option<Vec<u8>>,
    /// What this run made: what a failure or a signal rolls back.
    journal: Journal,
}

pub(crate) async fn up(
    engine: &Engine,
    config: Config,
    options: UpOptions,
    progress: &Progress,
) -> Result<Record> {
    // A signal rolls back what this run made (as a failure does) instead of cutting it off.
    let _graceful = Graceful::hold("stopping: what this run made is rolled back");
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
    let nat64_program =
        read_nat64_program(existing.as_ref().map_or(&config, |r| &r.config), progress)?;

    // Until the first change, a signal simply stops the run.
    let images = interrupt::unless_stopped(build_images(engine, &config, progress)).await?;
    // Before anything is created: the same facts and judgement as `dind doctor`.
    let checked = existing.as_ref().map_or(&config, |r| &r.config);
    let checked_plan = plan::plan(checked);
    // The helper that read the host stays for the host's routes and rules.
    let (facts, host_helper) =
        interrupt::unless_stopped(progress.run("Inspecting the Docker host", async |phase| {
            let (facts, helper) =
                preflight::gather_keeping_helper(engine, checked, &checked_plan, phase).await?;
            let verdict = preflight::up_verdict(checked, &checked_plan, &facts);
            let warnings = match verdict {
                Ok(warnings) => warnings,
                Err(refused) => {
                    if let Some(helper) = helper {
                        helper.remove().await;
                    }
                    return Err(refused.into());
                }
            };
            for warning in warnings {
                progress.note(&warning.to_string());
            }
            Ok((facts, helper))
        }))
        .await?;
    let mut record = match existing {
        Some(record) => record,
        None => {
            if engine.local {
                let taken = ports_in_use(&checked_plan, port_is_free);
                if !taken.is_empty() {
                    bail!("{}", taken.join("\n"));
                }
            }
            let mut record = new_record(engine, config, &checked_plan, &facts).await?;
            if record.config.kubernetes {
                record.kubeconfig = options.kubeconfig.clone();
                record.api_server_port = pick_api_server_port(engine, &record.config)?;
            }
            record
        }
    };
    // A new record may name the egress interface the host facts found; the plan follows it.
    let plan = if resuming {
        checked_plan
    } else {
        plan::plan(&record.config)
    };
    if !resuming && record.config.kubernetes {
        record.proxy =
            containers::proxy_settings(|name| std::env::var(name).ok(), &plan, &record.config);
    }
    let ctx = Ctx {
        engine: engine.clone(),
        progress: progress.clone(),
        plan,
        record,
        images,
        nat64_program,
        journal: Journal::default(),
    };

    let created = async {
        create(&ctx, host_helper).await?;
        interrupt::check()?;
        if let Some(version) = ctx.images.kubeadm {
            if !resuming {
                ctx.journal
                    .note(|made| made.kubeconfig = ctx.record.kubeconfig.clone());
            }
            let kube = kubernetes::Kube {
                engine: &ctx.engine,
                progress: &ctx.progress,
                plan: &ctx.plan,
                record: &ctx.record,
                version,
                storage: ctx.images.storage.as_deref(),
                wait: options.wait,
            };
            // Commands in the nodes and waits: what they change goes with the nodes.
            interrupt::unless_stopped(kubernetes::bring_up(&kube)).await?;
        }
        Ok::<_, anyhow::Error>(())
    };
    let Err(err) = created.await else {
        return Ok(ctx.record);
    };
    let id = ctx.plan.cluster_id;
    if options.retain {
        return Err(err.context(format!(
            "--retain: what was created is kept; `dind down --cluster-id {id}` removes it"
        )));
    }
    let made = ctx.journal.made();
    let rollback =
        rollback::roll_back(&ctx.engine, id, &made, &ctx.images.helper, &ctx.progress).await;
    let kept = if resuming {
        "; the cluster as it was before this run is kept"
    } else {
        ""
    };
    match rollback {
        Ok(()) => Err(err.context(format!(
            "everything this run created was removed again{kept}"
        ))),
        Err(rollback_err) => Err(err.context(format!(
            "rolling back failed too ({rollback_err:#}); `dind down --cluster-id {id}` removes the rest"
        ))),
    }
}

/// The network first; then the support containers, the host's routes and rules and the
/// nodes, side by side: none of them waits for another (addresses are all planned, and a
/// route via tayga is valid before tayga runs). `host_helper` (the one that inspected the
/// host) changes the host's routes and rules, and is removed once they are done.
async fn create(ctx: &Ctx, host_helper: Option<HostNet>) -> Result<()> {
    lock::started().await?;
    ctx.progress
        .step("Creating the network", ensure_network(ctx))
        .await?;
    let support = async {
        if ctx.plan.nat64.is_none() {
            return Ok(());
        }
        let engine = ctx.record.config.nat64_engine;
        let both = all_of(vec![ensure_nat64(ctx).boxed(), ensure_dns64(ctx).boxed()]);
        ctx.progress
            .step(
                &format!("Starting NAT64 ({engine}) and DNS64 (bind9)"),
                both,
            )
            .await
    };
    let host = async move {
        let result =
            if ctx.plan.host.routes.is_empty() && ctx.plan.host.direct_ipv6_sources.is_empty() {
                Ok(())
            } else {
                ctx.progress
                    .step(
                        "Configuring host routes and rules",
                        ensure_host(ctx, host_helper.as_ref()),
                    )
                    .await
            };
        if let Some(helper) = host_helper {
            helper.remove().await;
        }
        result
    };
    let registry = async {
        let Some(registry) = &ctx.plan.registry else {
            return Ok(());
        };
        ctx.progress
            .step(
                &format!("Starting the registry (localhost:{})", registry.host_port),
                ensure_registry(ctx, registry),
            )
            .await
    };
    let nodes = all_of(ctx.plan.nodes.iter().map(|node| {
        let spec = containers::node(&ctx.plan, &ctx.record, node, &ctx.images.node);
        let mut files = node_files::node_files(node);
        files.extend(containerd::node_files(
            ctx.plan.registry.as_ref(),
            ctx.images.containerd_config.clone(),
        ));
        if ctx.record.config.kubernetes {
            files.extend(kubeadm::node_files(&ctx.plan, node));
        }
        // A Kubernetes node's entrypoint hands its terminal to systemd, which flushes what
        // nobody has read yet: its readiness line can be lost, its marker file cannot.
        let ready = Ready {
            probe: NODE_PROBE,
            announces: (!ctx.record.config.kubernetes).then_some(NODE_READY_LINE),
        };
        async move {
            let result = match ensure_container(ctx, &spec, &files, &[], ready).await {
                // kube-proxy's modprobe wants the host's modules, but a Docker host without
                // /lib/modules (a VM image without modules, a container host) runs fine
                // without them; the create failed, so nothing exists yet.
                Err(err) if is_missing_bind_source(&err, HOST_MODULES) => {
                    ctx.progress.note(&format!(
                        "the Docker host has no /lib/modules; {} runs without it",
                        node.container
                    ));
                    let spec = containers::without_host_modules(spec);
                    ensure_container(ctx, &spec, &files, &[], ready).await
                }
                other => other,
            };
            result.map_err(|err| {
                if ctx.record.config.kubernetes && is_privilege_refused(&err) {
                    err.context(format!(
                        "this Docker host refuses a capability Kubernetes nodes need ({}): the \
                         daemon's bounding set lacks it; `--no-kubernetes` runs the network plane \
                         with NET_ADMIN and SYS_ADMIN only",
                        containers::KUBERNETES_NODE_CAPS.join(", ")
                    ))
                } else {
                    err
                }
            })
        }
    }));
    let name = format!("Starting {} node container(s)", ctx.plan.nodes.len());
    let nodes = ctx.progress.step(&name, nodes);
    let (support, host, registry, nodes) = tokio::join!(support, host, registry, nodes);
    support.and(host).and(registry).and(nodes)
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

async fn build_images(engine: &Engine, config: &Config, progress: &Progress) -> Result<Images> {
    let mut kinds = vec![ImageKind::NodeBase];
    if config.ip_mode == IpMode::Ipv6 {
        kinds.extend([ImageKind::Dns64, ImageKind::Nat64]);
    }
    if config.registry {
        kinds.push(ImageKind::Registry);
    }
    let node_image = tokio::task::block_in_place(|| NodeImage::for_config(config))?;
    let node = node_image.tag.clone();
    let kubeadm = progress
        .run("Preparing images", async |phase| {
            if node_image.build.is_none() && !images::exists(engine, &node).await? {
                bail!("node image {node} (--node-image / DIND_IMAGE) is not present on the Docker host; build or pull it first");
            }
            let mut specs: Vec<_> = kinds.iter().map(|k| k.spec()).collect();
            let own_node = node_image.build.clone();
            specs.extend(own_node.filter(|own| specs.iter().all(|s| s.tag != own.tag)));
            try_join_all(specs.iter().map(|spec| images::ensure(engine, spec, phase))).await?;
            let containerd_config = containerd_config(engine, config, &node).await?;
            if !config.kubernetes {
                return Ok((None, containerd_config));
            }
            let version = kubernetes::probe_kubeadm(engine, &node, config.cluster_id).await?;
            phase.message(&format!("kubeadm {version} in {node}"));
            Ok((Some(version), containerd_config))
        })
        .await?;
    let (kubeadm, containerd_config) = kubeadm;
    let recorded = match kubeadm {
        Some(_) => images::recorded_versions(engine, &node).await?,
        None => Default::default(),
    };
    if let Some(missing) = recorded.get(images::NOT_PRELOADED) {
        progress.note(&format!(
            "node image {node} carries no {}: containerd pulls them from their registry \
             when a pod needs them (on a machine without the Internet, put `docker save` \
             archives of them in the images/ directory of --kubernetes-from)",
            missing.replace(',', ", ")
        ));
    }
    Ok(Images {
        dns64: ImageKind::Dns64.spec().tag,
        nat64: ImageKind::Nat64.spec().tag,
        node,
        helper: ImageKind::NodeBase.spec().tag,
        registry: ImageKind::Registry.spec().tag,
        kubeadm,
        storage: recorded.get(images::STORAGE_IMAGE).cloned(),
        containerd_config,
    })
}

/// The node image's containerd configuration with the registry and the patches merged in,
/// when the config asks for either.
async fn containerd_config(engine: &Engine, config: &Config, node: &str) -> Result<Option<String>> {
    let patches = &config.containerd_config_patches;
    if !containerd::changes_config(config.registry, patches) {
        return Ok(None);
    }
    let base = images::read_image_file(engine, node, containerd::CONFIG_PATH).await?;
    let base = base.map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
    containerd::merged_config(base.as_deref(), config.registry, patches)
        .map(Some)
        .map_err(|why| anyhow!("node image {node}: {why}"))
}

async fn ensure_registry(ctx: &Ctx, registry: &plan::RegistryPlan) -> Result<()> {
    let spec = containers::registry(&ctx.plan, &ctx.record, registry, &ctx.images.registry);
    let probe = format!("http://localhost:{}/v2/", plan::REGISTRY_PORT);
    ensure_container(
        ctx,
        &spec,
        &[],
        &[],
        Ready {
            probe: &["curl", "-fsS", "-o", "/dev/null", &probe],
            announces: None,
        },
    )
    .await
}

/// The record of a new cluster: what the config left to the Docker host (the egress
/// interface) resolved, and whether `up` switches IPv6 forwarding on (Docker does for an IPv6
/// network, and `--allow-aaaa` needs it). Nothing is changed yet.
async fn new_record(
    engine: &Engine,
    mut config: Config,
    cluster_plan: &ClusterPlan,
    facts: &HostFacts,
) -> Result<Record> {
    let host = facts.host.as_ref().map_err(|e| anyhow!(e.clone()))?;
    if config.allow_aaaa {
        if let Some(egress) = host.egress.as_ref().and_then(|e| e.name.clone()) {
            config.egress_interface = Some(egress);
        }
    }
    // Forwarding that dind switched on for another cluster was off before dind: the last
    // `down` switches it back off, and puts back the FORWARD policy from before the first
    // cluster (Docker 28 and later set it to DROP as they switch forwarding on). Read after
    // the host's facts: a marker made meanwhile describes the host before either `up`.
    let marker = forwarding::marker(engine).await?;
    let enabled_ipv6_forwarding =
        cluster_plan.network.ipv6 && (!host.ipv6_forwarding || marker.is_some());
    let found = host.ip6tables.as_deref().map(host::forward_policy);
    let ip6_forward_policy = forwarding::policy_before(enabled_ipv6_forwarding, marker, found);
    Ok(Record {
        config,
        enabled_ipv6_forwarding,
        ip6_forward_policy,
        kubeconfig: None,
        api_server_port: None,
        proxy: Default::default(),
    })
}

async fn ensure_network(ctx: &Ctx) -> Result<()> {
    let name = &ctx.plan.network.name;
    if let Some(existing) = ctx.engine.inspect_network(name).await? {
        let id = existing
            .labels
            .unwrap_or_default()
            .get(labels::CLUSTER)
            .cloned();
        if id.as_deref() != Some(&ctx.plan.cluster_id.to_string()) {
            bail!("a Docker network named {name} exists but is not dind cluster {}'s; remove it first", ctx.plan.cluster_id);
        }
        return Ok(());
    }
    interrupt::check()?;
    // Docker switches forwarding on for an IPv6 network; the record says it was off.
    let switches_forwarding = ctx.record.enabled_ipv6_forwarding;
    let policy = ctx.record.ip6_forward_policy;
    if switches_forwarding {
        forwarding::mark_switched_on(&ctx.engine, policy).await?;
        ctx.journal.note(|made| {
            made.ipv6_forwarding = true;
            made.ip6_forward_policy = policy;
        });
    }
    ctx.engine
        .create_network(&containers::network(&ctx.plan, &ctx.record))
        .await?;
    ctx.journal.note(|made| made.network = Some(name.clone()));
    if switches_forwarding {
        // Again: a `down` of the last other cluster may have removed it meanwhile.
        forwarding::mark_switched_on(&ctx.engine, policy).await?;
    }
    Ok(())
}

async fn ensure_nat64(ctx: &Ctx) -> Result<()> {
    let nat64 = ctx.plan.nat64.as_ref().expect("planned in ipv6 mode");
    let spec = containers::nat64(&ctx.plan, &ctx.record, nat64, &ctx.images.nat64);
    let probe = nat64_probe(nat64.engine, &nat64.tun_device);
    let probe: Vec<&str> = probe.iter().map(String::as_str).collect();
    let programs: Vec<_> = node_files::nat64_program(nat64)
        .map(|program| {
            let bytes = ctx
                .nat64_program
                .as_deref()
                .expect("read before anything is made");
            (program, bytes)
        })
        .into_iter()
        .collect();
    ensure_container(
        ctx,
        &spec,
        &node_files::nat64_files(nat64),
        &programs,
        Ready {
            probe: &probe,
            announces: None,
        },
    )
    .await
}

async fn ensure_dns64(ctx: &Ctx) -> Result<()> {
    let dns64 = ctx.plan.dns64.as_ref().expect("planned in ipv6 mode");
    let spec = containers::dns64(&ctx.plan, &ctx.record, dns64, &ctx.images.dns64);
    ensure_container(
        ctx,
        &spec,
        &node_files::dns64_files(dns64),
        &[],
        Ready {
            probe: DNS64_PROBE,
            announces: None,
        },
    )
    .await
}

/// Creates, configures and starts a container unless it runs already, then waits until
/// `probe` succeeds in it. `files` and `programs` are placed in a new container only: an
/// existing one keeps what its own `up` gave it.
async fn ensure_container(
    ctx: &Ctx,
    spec: &ContainerSpec,
    files: &[FileSpec],
    programs: &[(ProgramFile, &[u8])],
    ready: Ready<'_>,
) -> Result<()> {
    let name = spec.name.as_deref().expect("cluster containers are named");
    let fresh = match ctx.engine.inspect_container(name).await? {
        Some(existing) => {
            let labels = existing.config.and_then(|c| c.labels).unwrap_or_default();
            if labels.get(labels::CLUSTER) != Some(&ctx.plan.cluster_id.to_string()) {
                bail!(
                    "a container named {name} exists but is not part of dind cluster {}; remove or rename it",
                    ctx.plan.cluster_id
                );
            }
            interrupt::check()?;
            if existing.state.and_then(|s| s.running).unwrap_or(false) {
                // Running already: re-apply its network setup, which repairs a route or
                // resolv.conf changed behind dind's back. A container given no files (the
                // registry) has no setup, nor the script.
                if !files.is_empty() {
                    ctx.engine.exec_ok(name, &["dind-net-setup"]).await?;
                }
            } else {
                // Its entrypoint applies the setup at start.
                ctx.engine.start(name).await?;
            }
            false
        }
        None => {
            interrupt::check()?;
            ctx.engine.create(spec).await?;
            ctx.journal
                .note(|made| made.containers.push(name.to_string()));
            ctx.engine
                .upload_files_and_programs(name, files, programs)
                .await?;
            interrupt::check()?;
            ctx.engine.start(name).await?;
            true
        }
    };
    let ready = async {
        match ready.announces {
            // A new container's whole output is this run's: follow it instead of polling.
            Some(marker) if fresh => ctx.engine.wait_for_line(name, marker, READY_TIMEOUT).await,
            _ => {
                ctx.engine
                    .wait_ready(name, ready.probe, READY_TIMEOUT)
                    .await
            }
        }
    };
    interrupt::unless_stopped(ready).await
}

/// How to know a container is ready: a probe to run in it, and, for containers that
/// announce it, the output line that says so.
#[derive(Clone, Copy)]
struct Ready<'a> {
    probe: &'a [&'a str],
    announces: Option<&'static str>,
}

/// Through `helper`, else through a helper of its own.
async fn ensure_host(ctx: &Ctx, helper: Option<&HostNet>) -> Result<()> {
    match helper {
        Some(host) => configure_host(ctx, host).await,
        None => {
            let id = ctx.plan.cluster_id;
            HostNet::with(&ctx.engine, &ctx.images.helper, id, async |host| {
                configure_host(ctx, host).await
            })
            .await
        }
    }
}

async fn configure_host(ctx: &Ctx, host: &HostNet) -> Result<()> {
    for route in &ctx.plan.host.routes {
        interrupt::check()?;
        if host.has_route(route).await? {
            continue;
        }
        host.ensure_route(route).await?;
        ctx.journal.note(|made| made.routes.push(route.clone()));
    }
    if ctx.plan.host.direct_ipv6_sources.is_empty() {
        return Ok(());
    }
    let save = host.ip6tables_save().await?;
    let bridge = &ctx.plan.network.bridge;
    let daemon = host::daemon_rules(&save, bridge, &ctx.plan.host.direct_ipv6_sources);
    for source in &daemon.masqueraded {
        ctx.progress.note(&format!(
            "Docker already masquerades {source}; dind adds no second NAT rule for it"
        ));
    }
    if daemon.forwards {
        ctx.progress.note(&format!(
            "Docker already accepts what leaves {bridge} and its replies; dind adds no \
             FORWARD rules"
        ));
    }
    for rule in host_rules::direct_ipv6_rules(&ctx.plan.host, bridge, &daemon) {
        interrupt::check()?;
        if host.ensure_rule(&rule).await? {
            ctx.journal.note(|made| made.rules.push(rule));
        }
    }
    if !host.ipv6_forwarding().await? {
        interrupt::check()?;
        let policy = host.ip6_forward_policy().await?;
        forwarding::mark_switched_on(&ctx.engine, policy).await?;
        host::set_ipv6_forwarding(&ctx.engine, &ctx.images.helper, ctx.plan.cluster_id, true)
            .await?;
        ctx.journal.note(|made| {
            made.ipv6_forwarding = true;
            made.ip6_forward_policy = policy;
        });
        ctx.progress.note(
            "switched IPv6 forwarding on on the Docker host (`dind down` switches it back off)",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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

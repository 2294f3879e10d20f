//! The work of `up`'s actions: each makes sure one thing exists and runs, and notes in the
//! run's journal what it made (nothing when it found it made already).

use super::Ctx;
use crate::cluster::forwarding;
use crate::cluster::undo::Undo;
use crate::config::Nat64Engine;
use crate::engine::error::{is_missing_bind_source, kind_of, ErrorKind};
use crate::engine::host::{self, HostNet};
use crate::interrupt;
use crate::labels;
use crate::plan;
use crate::render::containers::{self, ContainerSpec, HOST_MODULES};
use crate::render::{containerd, host_rules, kubeadm, node_files, FileSpec, ProgramFile};
use anyhow::{bail, Result};
use std::time::Duration;

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

pub(super) async fn ensure_network(ctx: &Ctx) -> Result<()> {
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
        ctx.journal.note(Undo::Forwarding {
            switched_on: true,
            policy,
        });
    }
    ctx.engine
        .create_network(&containers::network(&ctx.plan, &ctx.record))
        .await?;
    ctx.journal.note(Undo::Network(name.clone()));
    if switches_forwarding {
        // Again: a `down` of the last other cluster may have removed it meanwhile.
        forwarding::mark_switched_on(&ctx.engine, policy).await?;
    } else {
        // Another cluster's `up` may have switched forwarding on: once this network is
        // gone, the marker decides.
        ctx.journal.note(Undo::Forwarding {
            switched_on: false,
            policy: None,
        });
    }
    Ok(())
}

pub(super) async fn ensure_nat64(ctx: &Ctx) -> Result<()> {
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

pub(super) async fn ensure_dns64(ctx: &Ctx) -> Result<()> {
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

pub(super) async fn ensure_registry(ctx: &Ctx, registry: &plan::RegistryPlan) -> Result<()> {
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

pub(super) async fn ensure_node(ctx: &Ctx, node: &plan::NodePlan) -> Result<()> {
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
    let result = match ensure_container(ctx, &spec, &files, &[], ready).await {
        // kube-proxy's modprobe wants the host's modules, but a Docker host without
        // /lib/modules (a VM image without modules, a container host) runs fine without
        // them; the create failed, so nothing exists yet.
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
        if ctx.record.config.kubernetes && kind_of(&err) == ErrorKind::PrivilegeRefused {
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
            ctx.journal.note(Undo::Container(name.to_string()));
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

/// Through the helper that inspected the host, else through a helper of its own.
pub(super) async fn ensure_host(ctx: &Ctx) -> Result<()> {
    let Some(host) = ctx.take_host_helper() else {
        let (image, id) = (&ctx.images.helper, ctx.plan.cluster_id);
        return HostNet::with(&ctx.engine, image, id, async |host| {
            configure_host(ctx, host).await
        })
        .await;
    };
    let configured = configure_host(ctx, &host).await;
    host.remove().await;
    configured
}

async fn configure_host(ctx: &Ctx, host: &HostNet) -> Result<()> {
    for route in &ctx.plan.host.routes {
        interrupt::check()?;
        if host.has_route(route).await? {
            continue;
        }
        host.ensure_route(route).await?;
        ctx.journal.note(Undo::Route(route.clone()));
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
            ctx.journal.note(Undo::Rule(rule));
        }
    }
    if !host.ipv6_forwarding().await? {
        interrupt::check()?;
        let policy = host.ip6_forward_policy().await?;
        forwarding::mark_switched_on(&ctx.engine, policy).await?;
        host::set_ipv6_forwarding(&ctx.engine, &ctx.images.helper, ctx.plan.cluster_id, true)
            .await?;
        ctx.journal.note(Undo::Forwarding {
            switched_on: true,
            policy,
        });
        ctx.progress.note(
            "switched IPv6 forwarding on on the Docker host (`dind down` switches it back off)",
        );
    }
    Ok(())
}

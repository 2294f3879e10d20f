//! `dind up --dry-run`: everything `up` would create and write, from the configuration alone
//! (no Docker, no host): the address plan, each container with its settings and files, the
//! kubeadm configuration, and the host's routes and rules. Pure.

use super::nat64_program;
use crate::config::Config;
use crate::engine::images::ImageTags;
use crate::labels::Record;
use crate::plan::{self, ClusterPlan, NodePlan, Role};
use crate::render::containers::{self, ContainerSpec, Mount, Network};
use crate::render::kubeadm::JoinCommand;
use crate::render::{containerd, host_rules, kubeadm, node_files, FileSpec};
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Stands for the egress interface `up` finds on the Docker host.
const EGRESS_PLACEHOLDER: &str = "EGRESS";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DryRun {
    pub(crate) cluster_id: u8,
    pub(crate) ip_mode: String,
    /// What `up` decides only on the Docker host, and how this rendering stands in for it.
    pub(crate) notes: Vec<String>,
    pub(crate) plan: ClusterPlan,
    pub(crate) containers: Vec<ContainerView>,
    pub(crate) host: HostView,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContainerView {
    pub(crate) name: String,
    pub(crate) role: String,
    pub(crate) image: String,
    pub(crate) network: String,
    pub(crate) addresses: Vec<String>,
    pub(crate) privileged: bool,
    pub(crate) capabilities: Vec<String>,
    pub(crate) devices: Vec<String>,
    pub(crate) security_options: Vec<String>,
    pub(crate) sysctls: BTreeMap<String, String>,
    /// `volume /var`, `bind /lib/modules -> /lib/modules (ro)`, `tmpfs /run`.
    pub(crate) mounts: Vec<String>,
    /// `[::1]:(picked by up) -> 6443/tcp`.
    pub(crate) ports: Vec<String>,
    pub(crate) restart: Option<String>,
    pub(crate) dns: Vec<String>,
    pub(crate) env: Vec<String>,
    pub(crate) files: Vec<FileView>,
}

#[derive(Debug, Serialize)]
pub(crate) struct FileView {
    pub(crate) path: String,
    pub(crate) mode: String,
    pub(crate) contents: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HostView {
    /// `ip route replace ...` on the Docker host.
    pub(crate) routes: Vec<String>,
    /// `ip6tables ...` on the Docker host, tagged with the cluster's comment.
    pub(crate) ip6tables: Vec<String>,
    pub(crate) egress_interface: Option<String>,
}

/// `env` is dind's environment (proxy settings reach the Kubernetes nodes).
pub(crate) fn dry_run(
    config: &Config,
    images: &ImageTags,
    env: impl Fn(&str) -> Option<String>,
) -> Result<DryRun> {
    let plan = plan::plan(config);
    let record = Record {
        config: config.clone(),
        enabled_ipv6_forwarding: false,
        ip6_forward_policy: None,
        kubeconfig: None,
        api_server_port: None,
        proxy: if config.kubernetes {
            containers::proxy_settings(env, &plan, config)
        } else {
            BTreeMap::new()
        },
    };
    let mut views = Vec::new();
    if let Some(nat64) = &plan.nat64 {
        let spec = containers::nat64(&plan, &record, nat64, &images.nat64);
        let mut nat64_view = view(&spec, &node_files::nat64_files(nat64));
        nat64_view
            .files
            .extend(node_files::nat64_program(nat64).map(|program| FileView {
                path: program.path.to_string(),
                mode: format!("{:04o}", program.mode),
                contents: format!(
                    "(the {} program: dind's own executable, which runs the translator under \
                     that name, or ${} when set)",
                    nat64_program::PROGRAM_NAME,
                    nat64_program::PROGRAM_ENV
                ),
            }));
        views.push(nat64_view);
    }
    if let Some(dns64) = &plan.dns64 {
        let spec = containers::dns64(&plan, &record, dns64, &images.dns64);
        views.push(view(&spec, &node_files::dns64_files(dns64)));
    }
    if let Some(registry) = &plan.registry {
        let spec = containers::registry(&plan, &record, registry, &images.registry);
        views.push(view(&spec, &[]));
    }
    for node in &plan.nodes {
        let spec = containers::node(&plan, &record, node, &images.node);
        let files = node_files_of(&plan, config, node)?;
        views.push(view(&spec, &files));
    }
    Ok(DryRun {
        cluster_id: config.cluster_id,
        ip_mode: config.ip_mode.to_string(),
        notes: notes(config, &plan),
        host: host_view(&plan),
        plan,
        containers: views,
    })
}

/// The files `up` places in a node, with kubeadm's configuration where Kubernetes runs.
fn node_files_of(plan: &ClusterPlan, config: &Config, node: &NodePlan) -> Result<Vec<FileSpec>> {
    let mut files = node_files::node_files(node);
    let patches = &config.containerd_config_patches;
    let containerd_config = containerd::changes_config(plan.registry.is_some(), patches)
        .then(|| containerd::dry_run_patch(plan.registry.is_some(), patches))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    files.extend(containerd::node_files(
        plan.registry.as_ref(),
        containerd_config,
    ));
    if !config.kubernetes {
        return Ok(files);
    }
    files.extend(kubeadm::node_files(plan, node));
    let version = config.kubernetes_version;
    let text = match node.role {
        Role::Master => kubeadm::init_config(plan, config, version)?,
        Role::Worker => {
            let join = JoinCommand {
                api_server_endpoint: kubeadm::control_plane_endpoint(plan, config),
                token: "<from `kubeadm token create` on the master>".to_string(),
                ca_cert_hashes: vec!["sha256:<the cluster CA's public key hash>".to_string()],
            };
            kubeadm::join_config(config, version, node, &join)?
        }
    };
    let mut file = FileSpec::new(kubeadm::KUBEADM_CONFIG_PATH, text);
    file.mode = 0o600;
    files.push(file);
    Ok(files)
}

fn notes(config: &Config, plan: &ClusterPlan) -> Vec<String> {
    let mut notes = vec!["nothing was created or changed".to_string()];
    if containerd::changes_config(plan.registry.is_some(), &config.containerd_config_patches) {
        notes.push(format!(
            "each node's {} is the node image's own with the patch shown merged in; `up` reads \
             the image's file first",
            containerd::CONFIG_PATH
        ));
    }
    if config.kubernetes {
        notes.push(format!(
            "kubeadm's configuration is rendered for {} ({}); `up` asks the node image for its \
             exact kubeadm version first and renders for that",
            config.kubernetes_version,
            config.kubernetes_version.kubeadm_api()
        ));
        notes.push(
            "the API server's host port is picked by `up` (a free port on the Docker host's loopback)"
                .to_string(),
        );
    }
    if !config.kubernetes && plan.nodes.iter().any(|n| !n.labels.is_empty()) {
        notes.push(
            "node labels are the kubelet's: without Kubernetes they are recorded only".to_string(),
        );
    }
    if !plan.host.direct_ipv6_sources.is_empty() {
        if config.egress_interface.is_none() {
            notes.push(format!(
                "{EGRESS_PLACEHOLDER} stands for the interface of the Docker host's default route, which `up` finds"
            ));
        }
        notes.push(
            "`up` leaves out the rules the Docker daemon already provides: the MASQUERADE \
             of a prefix it masquerades (Docker 27+), the FORWARD rules when it accepts the \
             bridge's traffic both ways (28+); and switches IPv6 forwarding on if it is off"
                .to_string(),
        );
    }
    notes
}

fn host_view(plan: &ClusterPlan) -> HostView {
    let mut host = plan.host.clone();
    let egress = host.egress_interface.clone();
    if host.egress_interface.is_none() {
        host.egress_interface = Some(EGRESS_PLACEHOLDER.to_string());
    }
    let rules = host_rules::direct_ipv6_rules(
        &host,
        &plan.network.bridge,
        &host_rules::DaemonRules::default(),
    );
    HostView {
        routes: plan
            .host
            .routes
            .iter()
            .map(|r| format!("ip route replace {r}"))
            .collect(),
        ip6tables: rules
            .iter()
            .map(|r| format!("ip6tables {}", r.display()))
            .collect(),
        egress_interface: egress,
    }
}

fn view(spec: &ContainerSpec, files: &[FileSpec]) -> ContainerView {
    let (network, addresses) = match &spec.network {
        Network::Attached { network, addresses } => {
            let first = |v6: bool| addresses.iter().find(|a| a.is_ipv6() == v6);
            let addresses = [first(true), first(false)]
                .into_iter()
                .flatten()
                .map(ToString::to_string)
                .collect();
            (network.clone(), addresses)
        }
        _ => Default::default(),
    };
    let ro = |read_only: bool| if read_only { " (ro)" } else { "" };
    let mut mounts: Vec<String> = spec
        .mounts
        .iter()
        .map(|m| match m {
            Mount::Bind {
                source,
                target,
                read_only,
            } => format!("bind {source} -> {target}{}", ro(*read_only)),
            Mount::Volume { target } => format!("volume {target}"),
        })
        .collect();
    mounts.extend(spec.tmpfs.keys().map(|path| format!("tmpfs {path}")));
    let mut ports: Vec<String> = spec
        .published
        .iter()
        .map(|p| {
            let port = p
                .host_port
                .map(|p| p.to_string())
                .unwrap_or_else(|| "(picked by up)".to_string());
            let ip = match p.host_ip {
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                std::net::IpAddr::V4(ip) => ip.to_string(),
            };
            format!("{ip}:{port} -> {}", p.container_key())
        })
        .collect();
    ports.sort();
    ContainerView {
        name: spec.name.clone().unwrap_or_default(),
        role: spec
            .labels
            .get(crate::labels::ROLE)
            .cloned()
            .unwrap_or_default(),
        image: spec.image.clone(),
        network,
        addresses,
        privileged: spec.privileged,
        capabilities: spec.cap_add.clone(),
        devices: spec.devices.clone(),
        security_options: spec.security_opt.clone(),
        sysctls: spec.sysctls.clone(),
        mounts,
        ports,
        restart: spec.restart.map(|r| r.to_string()),
        dns: spec.dns.clone(),
        env: spec.env.clone(),
        files: files
            .iter()
            .map(|f| FileView {
                path: f.path.clone(),
                mode: format!("{:04o}", f.mode),
                contents: f.contents.clone(),
            })
            .collect(),
    }
}

/// The text `dind up --dry-run` prints.
pub(crate) fn render_text(run: &DryRun) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# dind up --dry-run: cluster {} ({})",
        run.cluster_id, run.ip_mode
    );
    for note in &run.notes {
        let _ = writeln!(text, "# {note}");
    }
    write_network(&mut text, &run.plan);
    for c in &run.containers {
        write_container(&mut text, c);
    }
    write_host(&mut text, &run.host);
    text
}

/// The cluster network: its subnets, DNS64 prefix and NAT64 pool.
fn write_network(text: &mut String, plan: &ClusterPlan) {
    let _ = writeln!(
        text,
        "\n== network {} (bridge {})",
        plan.network.name, plan.network.bridge
    );
    for subnet in &plan.network.subnets {
        let range = subnet
            .ip_range
            .map(|r| format!(", Docker assigns from {r}"))
            .unwrap_or_default();
        let _ = writeln!(
            text,
            "  subnet {} gateway {}{range}",
            subnet.cidr, subnet.gateway
        );
    }
    if let Some(dns64) = &plan.dns64 {
        let _ = writeln!(
            text,
            "  DNS64 prefix {} (real AAAA records {})",
            dns64.prefix,
            if dns64.allow_aaaa {
                "passed through"
            } else {
                "ignored"
            }
        );
    }
    if let Some(nat64) = &plan.nat64 {
        let _ = writeln!(
            text,
            "  NAT64 pool {} (engine {})",
            nat64.pool, nat64.engine
        );
    }
}

/// One container as `up` would create it, and the files it gets.
fn write_container(text: &mut String, c: &ContainerView) {
    let _ = writeln!(
        text,
        "\n== container {} ({}) image {}",
        c.name, c.role, c.image
    );
    let _ = writeln!(text, "  network {}: {}", c.network, c.addresses.join(", "));
    if c.privileged {
        text.push_str("  privileged\n");
    }
    let lists = [
        ("capabilities", &c.capabilities),
        ("devices", &c.devices),
        ("security", &c.security_options),
        ("mounts", &c.mounts),
        ("ports", &c.ports),
        ("dns", &c.dns),
        ("env", &c.env),
    ];
    for (what, items) in lists {
        if !items.is_empty() {
            let _ = writeln!(text, "  {what}: {}", items.join(", "));
        }
    }
    let sysctls: Vec<String> = c.sysctls.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let _ = writeln!(text, "  sysctls: {}", sysctls.join(", "));
    if let Some(restart) = &c.restart {
        let _ = writeln!(text, "  restart: {restart}");
    }
    for file in &c.files {
        let _ = writeln!(text, "  --- {} (mode {})", file.path, file.mode);
        for line in file.contents.lines() {
            let _ = writeln!(text, "  | {line}");
        }
    }
}

fn write_host(text: &mut String, host: &HostView) {
    text.push_str("\n== Docker host\n");
    if host.routes.is_empty() && host.ip6tables.is_empty() {
        text.push_str("  no routes or rules\n");
    }
    for line in host.routes.iter().chain(&host.ip6tables) {
        let _ = writeln!(text, "  {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{validate, Layer};

    fn config_from_env(vars: &[(&str, &str)]) -> Config {
        let map: BTreeMap<&str, &str> = vars.iter().copied().collect();
        validate(Layer::from_env(|name| map.get(name).map(|v| v.to_string()))).expect("valid")
    }

    fn images() -> ImageTags {
        ImageTags {
            dns64: "dind/dns64:TAG".into(),
            nat64: "dind/nat64:TAG".into(),
            node: "dind/node:v1.36-TAG".into(),
            registry: "dind/registry:TAG".into(),
        }
    }

    fn golden(name: &str, vars: &[(&str, &str)]) -> DryRun {
        golden_of(name, &config_from_env(vars))
    }

    fn golden_of(name: &str, config: &Config) -> DryRun {
        let run = dry_run(config, &images(), |_| None).expect("renders");
        crate::test_support::assert_golden(&format!("dry-run/{name}.txt"), &render_text(&run));
        run
    }

    #[test]
    fn golden_dry_run_ipv6() {
        let run = golden("ipv6", &[]);
        let names: Vec<&str> = run.containers.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "tayga",
                "bind9",
                "kube-master",
                "kube-node-1",
                "kube-node-2"
            ]
        );
        assert!(
            run.host.ip6tables.is_empty(),
            "no direct path without --allow-aaaa"
        );
        assert_eq!(
            run.host.routes,
            ["ip route replace 172.18.0.128/25 via 172.18.0.200"]
        );
    }

    #[test]
    fn golden_dry_run_ipv6_allow_aaaa() {
        let run = golden(
            "ipv6-allow-aaaa",
            &[("DIND_ALLOW_AAAA_USE", "true"), ("NUM_NODES", "1")],
        );
        assert!(
            run.host
                .ip6tables
                .iter()
                .all(|r| r.contains("dind:cluster=0")),
            "{:?}",
            run.host.ip6tables
        );
        assert!(run
            .host
            .ip6tables
            .iter()
            .any(|r| r.contains(EGRESS_PLACEHOLDER)));
    }

    #[test]
    fn golden_dry_run_dual_stack() {
        let run = golden(
            "dual-stack",
            &[("IP_MODE", "dual-stack"), ("NUM_NODES", "1")],
        );
        assert!(run.plan.dns64.is_none() && run.plan.nat64.is_none());
        assert!(!run.host.ip6tables.is_empty());
    }

    #[test]
    fn golden_dry_run_ipv4() {
        let run = golden("ipv4", &[("IP_MODE", "ipv4"), ("NUM_NODES", "1")]);
        assert!(run.host.routes.is_empty() && run.host.ip6tables.is_empty());
    }

    #[test]
    fn golden_dry_run_ipv6_no_kubernetes() {
        let mut config = config_from_env(&[("NUM_NODES", "1")]);
        config.kubernetes = false;
        let run = golden_of("ipv6-no-kubernetes", &config);
        assert!(run.containers.iter().all(|c| !c.privileged));
    }

    #[test]
    fn golden_dry_run_dind_nat64() {
        let mut config =
            config_from_env(&[("NUM_NODES", "1"), ("DIND_NAT64_ENGINE", "dind-nat64")]);
        config.kubernetes = false;
        let run = golden_of("ipv6-dind-nat64", &config);
        let nat64 = &run.containers[0];
        assert_eq!(nat64.name, "tayga", "the container keeps its name");
        assert_eq!(nat64.env, ["DIND_NAT64_ENGINE=dind-nat64"]);
        // Least privilege: what tayga has, nothing more.
        assert_eq!(nat64.capabilities, ["NET_ADMIN"]);
        assert_eq!(nat64.devices, ["/dev/net/tun"]);
        assert!(!nat64.privileged);
        let program = nat64
            .files
            .iter()
            .find(|f| f.path == "/usr/local/bin/dind-nat64")
            .expect("the program is placed");
        assert_eq!(program.mode, "0755");
        assert!(nat64.files.iter().any(|f| f.path == "/etc/tayga.conf"));

        let tayga = dry_run(
            &config_from_env(&[("NUM_NODES", "1"), ("DIND_NAT64_ENGINE", "tayga")]),
            &images(),
            |_| None,
        )
        .unwrap();
        assert!(tayga.containers[0].env.is_empty());
        assert!(tayga.containers[0]
            .files
            .iter()
            .all(|f| f.path != "/usr/local/bin/dind-nat64"));
    }

    /// kind's `nodes:` section as it is, in a dind config file.
    const KIND_NODES: &str = "apiVersion: dind.k8s.io/v1alpha1
kind: Cluster
nodes:
- role: control-plane
  extraPortMappings:
  - containerPort: 80
    hostPort: 18080
  - containerPort: 53
    hostPort: 18053
    protocol: UDP
    listenAddress: \"::\"
  extraMounts:
  - hostPath: /tmp
    containerPath: /data
    readOnly: true
- role: worker
  labels:
    tier: db
  extraMounts:
  - hostPath: /etc
    containerPath: /host-etc
";

    #[test]
    fn golden_dry_run_kind_nodes() {
        let config = validate(crate::config::load_file("kind.yaml", KIND_NODES).unwrap()).unwrap();
        let run = golden_of("kind-nodes", &config);
        let master = &run
            .containers
            .iter()
            .find(|c| c.name == "kube-master")
            .unwrap();
        assert!(
            master.ports.contains(&"[::1]:18080 -> 80/tcp".to_string()),
            "{:?}",
            master.ports
        );
        assert!(
            master.ports.contains(&"[::]:18053 -> 53/udp".to_string()),
            "{:?}",
            master.ports
        );
        assert!(master
            .mounts
            .contains(&"bind /tmp -> /data (ro)".to_string()));
        let worker = &run
            .containers
            .iter()
            .find(|c| c.name == "kube-node-1")
            .unwrap();
        assert!(worker
            .mounts
            .contains(&"bind /etc -> /host-etc".to_string()));
        // The JSON form shows the same, and the plan the node settings.
        let json = serde_json::to_value(&run).unwrap();
        let text = json.to_string();
        assert!(text.contains("[::]:18053 -> 53/udp"), "{text}");
        assert!(text.contains("\"tier\":\"db\""), "{text}");
    }

    #[test]
    fn kind_nodes_publish_and_mount_without_kubernetes_too() {
        let mut config =
            validate(crate::config::load_file("kind.yaml", KIND_NODES).unwrap()).unwrap();
        config.kubernetes = false;
        let run = dry_run(&config, &images(), |_| None).unwrap();
        let master = &run
            .containers
            .iter()
            .find(|c| c.name == "kube-master")
            .unwrap();
        assert_eq!(
            master.ports,
            ["[::1]:18080 -> 80/tcp", "[::]:18053 -> 53/udp"]
        );
        assert_eq!(master.mounts, ["bind /tmp -> /data (ro)"]);
    }

    #[test]
    fn golden_dry_run_registry_and_containerd_patches() {
        let config = crate::test_support::valid(
            crate::config::load_file(
                "c.yaml",
                "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nclusterId: 5\nnodes: 1\n\
                 registry: true\ncontainerdConfigPatches:\n- |\n  \
                 [plugins.\"io.containerd.grpc.v1.cri\"]\n  \
                 max_concurrent_downloads = 8\n",
            )
            .unwrap(),
        );
        let run = golden_of("registry", &config);
        let registry = run
            .containers
            .iter()
            .find(|c| c.role == "registry")
            .expect("the registry is shown");
        assert_eq!(registry.ports, ["127.0.0.1:5006 -> 5000/tcp"]);
        for node in run
            .containers
            .iter()
            .filter(|c| c.name.starts_with("kube-"))
        {
            let file = |path: &str| node.files.iter().find(|f| f.path == path);
            let hosts = file("/etc/containerd/certs.d/localhost:5006/hosts.toml")
                .unwrap_or_else(|| panic!("{} has no hosts.toml", node.name));
            assert!(hosts
                .contents
                .contains("\"http://[fd00:20:5::300]:5000\" = "));
            let config = file(containerd::CONFIG_PATH).expect("config.toml is shown");
            assert!(config.contents.contains("max_concurrent_downloads = 8"));
        }
    }

    #[test]
    fn without_a_registry_or_patches_containerd_is_left_alone() {
        let run = dry_run(&config_from_env(&[]), &images(), |_| None).unwrap();
        for container in &run.containers {
            assert!(
                container
                    .files
                    .iter()
                    .all(|f| !f.path.starts_with("/etc/containerd")),
                "{}",
                container.name
            );
        }
    }

    #[test]
    fn every_container_shows_how_it_comes_back_after_a_daemon_restart() {
        for mode in ["ipv6", "ipv4", "dual-stack"] {
            for kubernetes in [true, false] {
                let mut config = config_from_env(&[("IP_MODE", mode)]);
                config.kubernetes = kubernetes;
                let run = dry_run(&config, &images(), |_| None).unwrap();
                for container in &run.containers {
                    assert!(
                        container.restart.is_some(),
                        "{mode}, kubernetes {kubernetes}: {} has no restart policy",
                        container.name
                    );
                }
            }
        }
    }

    #[test]
    fn every_file_up_writes_is_shown() {
        let config = config_from_env(&[]);
        let run = dry_run(&config, &images(), |_| None).unwrap();
        let master = run
            .containers
            .iter()
            .find(|c| c.name == "kube-master")
            .unwrap();
        let paths: Vec<&str> = master.files.iter().map(|f| f.path.as_str()).collect();
        for path in [
            node_files::ROUTES_PATH,
            node_files::MASQUERADE_PATH,
            crate::render::cni::CONFLIST_PATH,
            node_files::RESOLV_PATH,
            kubeadm::KUBELET_RESOLV_PATH,
            kubeadm::KUBEADM_CONFIG_PATH,
        ] {
            assert!(paths.contains(&path), "{path} missing from {paths:?}");
        }
        let kubeadm_yaml = &master.files.last().unwrap();
        assert_eq!(kubeadm_yaml.mode, "0600");
        assert!(kubeadm_yaml.contents.contains("kind: InitConfiguration"));
        let worker = run
            .containers
            .iter()
            .find(|c| c.name == "kube-node-1")
            .unwrap();
        assert!(worker
            .files
            .iter()
            .any(|f| f.contents.contains("kind: JoinConfiguration")));
        assert!(!master.privileged);
        assert_eq!(
            master.capabilities,
            ["SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_BOOT"]
        );
        assert_eq!(master.restart.as_deref(), Some("on-failure:1"));
        assert_eq!(master.ports, ["[::1]:(picked by up) -> 6443/tcp"]);
        let tayga = &run.containers[0];
        assert_eq!(tayga.capabilities, ["NET_ADMIN"]);
        assert_eq!(tayga.devices, ["/dev/net/tun"]);

        // The JSON document holds the same.
        let json = serde_json::to_value(&run).unwrap();
        assert_eq!(json["containers"][2]["name"], "kube-master");
        assert_eq!(json["plan"]["network"]["name"], "kubeadm-dind-net");
    }
}

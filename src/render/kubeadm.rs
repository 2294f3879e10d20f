//! kubeadm's configuration, rendered from the plan: InitConfiguration, ClusterConfiguration,
//! KubeletConfiguration and KubeProxyConfiguration for the master, a JoinConfiguration per
//! worker, in the config API the node's kubeadm takes (v1beta3 before 1.31, v1beta4 after),
//! with the user's patches from the config file applied last.

use crate::config::{Config, IpMode, KubeVersion, KubeadmPatch};
use crate::plan::{self, ClusterPlan, NodePlan};
use anyhow::{Context, Result};
use ipnet::IpNet;
use plan::kubernetes::{host_port, upstream_resolvers, API_SERVER_PORT};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use yaml_serde::{Mapping, Value};

/// Where the master's kubeadm finds dind's patches of what it generates.
pub(crate) const PATCHES_DIR: &str = "/etc/dind/kubeadm-patches";
/// The control plane: the static pods only the master runs, each named as its image's
/// repository.
const CONTROL_PLANE: [&str; 4] = [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "etcd",
];

/// Probes that notice a started control plane and CoreDNS sooner. kubeadm's startup probes
/// first look 10 s after a component starts and then every 10 s, so a control plane that is
/// up in a second reads as unready for 10 to 20 s more, the longest wait of a single node's
/// `up`; CoreDNS's readiness probe also looks every 10 s. These look every second, and a
/// startup probe keeps kubeadm's budget (4 minutes) before it gives up.
/// The components themselves start as kubeadm has them.
fn probe_patches() -> Vec<crate::render::FileSpec> {
    use crate::render::FileSpec;
    let mut files: Vec<FileSpec> = CONTROL_PLANE
        .iter()
        .map(|pod| {
            FileSpec::new(
                format!("{PATCHES_DIR}/{pod}+strategic.yaml"),
                format!(
                    "spec:\n  containers:\n  - name: {pod}\n    startupProbe:\n      \
                     initialDelaySeconds: 0\n      periodSeconds: 1\n      failureThreshold: 240\n"
                ),
            )
        })
        .collect();
    files.push(FileSpec::new(
        format!("{PATCHES_DIR}/corednsdeployment+strategic.yaml"),
        "spec:\n  template:\n    spec:\n      containers:\n      - name: coredns\n        \
         readinessProbe:\n          periodSeconds: 1\n",
    ));
    files
}

/// What a node image's preloader leaves out (images/node/dind-preload-images).
pub(crate) const PRELOAD_SKIP_PATH: &str = "/etc/dind/preload-skip";

/// A worker's preloader leaves the control plane's images out: a third of what the master
/// imports at its first start, which nodes starting side by side share disk and CPU for.
fn preload_skip(node: &NodePlan) -> Option<String> {
    (node.role == plan::Role::Worker).then(|| {
        let mut text = String::from("# Written by dind: images this worker never runs.\n");
        for image in CONTROL_PLANE {
            text.push_str(image);
            text.push('\n');
        }
        text
    })
}

/// The files a Kubernetes node gets before it starts, besides the network plane's: the
/// kubelet's resolv.conf, a worker's preload exclusions, the master's probe patches.
pub(crate) fn node_files(plan: &ClusterPlan, node: &NodePlan) -> Vec<crate::render::FileSpec> {
    use crate::render::FileSpec;
    let mut files = vec![FileSpec::new(
        KUBELET_RESOLV_PATH,
        kubelet_resolv_conf(plan),
    )];
    files.extend(preload_skip(node).map(|skip| FileSpec::new(PRELOAD_SKIP_PATH, skip)));
    if node.role == plan::Role::Master {
        files.extend(probe_patches());
    }
    files
}

/// Where the node's kubelet takes its pods' upstream resolvers from.
pub(crate) const KUBELET_RESOLV_PATH: &str = "/etc/dind/kubelet-resolv.conf";
/// Where `up` places the rendered configuration in the node.
pub(crate) const KUBEADM_CONFIG_PATH: &str = "/etc/dind/kubeadm.yaml";
pub(crate) const CRI_SOCKET: &str = "unix:///run/containerd/containerd.sock";
pub(crate) const DNS_DOMAIN: &str = "cluster.local";

/// What a worker needs to join: the API server endpoint and the bootstrap credentials
/// (parsed from the master's `kubeadm token create --print-join-command` by
/// `kube::join`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JoinCommand {
    /// `host:port`, IPv6 hosts in brackets (`[fd00:20::2]:6443`).
    pub(crate) api_server_endpoint: String,
    /// The bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}`.
    pub(crate) token: String,
    /// Every `--discovery-token-ca-cert-hash`, each `sha256:` and 64 lowercase hex digits.
    pub(crate) ca_cert_hashes: Vec<String>,
}

/// The family Kubernetes treats as primary: the service CIDR's (k-d-c's default in
/// dual-stack is an IPv6 service network).
fn primary_is_v6(config: &Config) -> bool {
    matches!(config.primary_service_cidr(), IpNet::V6(_))
}

/// Addresses or CIDRs of both families, primary family first.
fn primary_first<T: Copy>(items: &[T], is_v6: impl Fn(&T) -> bool, v6_first: bool) -> Vec<T> {
    let mut sorted = items.to_vec();
    sorted.sort_by_key(|item| is_v6(item) != v6_first);
    sorted
}

fn node_ips(config: &Config, node: &NodePlan) -> Vec<IpAddr> {
    primary_first(&node.addresses, IpAddr::is_ipv6, primary_is_v6(config))
}

/// The node's address Kubernetes advertises: of the primary family.
pub(crate) fn advertise_address(config: &Config, node: &NodePlan) -> IpAddr {
    node_ips(config, node)[0]
}

fn master(plan: &ClusterPlan) -> &NodePlan {
    plan.nodes
        .first()
        .expect("a plan has a master as its first node")
}

/// `[fd00:20::2]:6443`: where workers and the kubeconfig inside the cluster reach the API.
pub(crate) fn control_plane_endpoint(plan: &ClusterPlan, config: &Config) -> String {
    host_port(advertise_address(config, master(plan)), API_SERVER_PORT)
}

/// The resolv.conf the kubelet hands to pods with dnsPolicy Default (CoreDNS among them).
pub(crate) fn kubelet_resolv_conf(plan: &ClusterPlan) -> String {
    let mut text =
        String::from("# Written by dind: upstream resolvers for pods with dnsPolicy Default.\n");
    for resolver in upstream_resolvers(plan) {
        text.push_str(&format!("nameserver {resolver}\n"));
    }
    text
}

/// An ordered YAML mapping from (key, value) pairs; pairs whose value is Null are left out.
fn map<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let mut mapping = Mapping::new();
    for (key, value) in pairs {
        if !value.is_null() {
            mapping.insert(Value::from(key), value);
        }
    }
    Value::Mapping(mapping)
}

fn string(s: impl ToString) -> Value {
    Value::String(s.to_string())
}

fn strings<T: ToString>(items: impl IntoIterator<Item = T>) -> Value {
    Value::Sequence(items.into_iter().map(string).collect())
}

fn joined<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Component flags: a map in v1beta3, a list of name/value pairs in v1beta4. Null if empty.
fn extra_args(version: KubeVersion, args: &[(&str, String)]) -> Value {
    if args.is_empty() {
        return Value::Null;
    }
    if version.minor >= 31 {
        Value::Sequence(
            args.iter()
                .map(|(name, value)| map([("name", string(name)), ("value", string(value))]))
                .collect(),
        )
    } else {
        let mut mapping = Mapping::new();
        for (name, value) in args {
            mapping.insert(string(name), string(value));
        }
        Value::Mapping(mapping)
    }
}

fn feature_gate_flag(config: &Config) -> Option<(&'static str, String)> {
    (!config.feature_gates.is_empty()).then(|| {
        let pairs: Vec<String> = config
            .feature_gates
            .iter()
            .map(|(name, on)| format!("{name}={on}"))
            .collect();
        ("feature-gates", pairs.join(","))
    })
}

fn feature_gate_map(config: &Config) -> Value {
    if config.feature_gates.is_empty() {
        return Value::Null;
    }
    let mut mapping = Mapping::new();
    for (name, on) in &config.feature_gates {
        mapping.insert(string(name), Value::Bool(*on));
    }
    Value::Mapping(mapping)
}

fn node_registration(
    config: &Config,
    version: KubeVersion,
    node: &NodePlan,
    taints: Value,
) -> Value {
    let mut args = vec![("node-ip", joined(&node_ips(config, node)))];
    // As kind: the config's node labels are the kubelet's, set when it registers the node.
    if !node.labels.is_empty() {
        let labels: Vec<String> = node
            .labels
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        args.push(("node-labels", labels.join(",")));
    }
    map([
        ("name", string(&node.container)),
        ("criSocket", string(CRI_SOCKET)),
        ("kubeletExtraArgs", extra_args(version, &args)),
        ("taints", taints),
    ])
}

/// The per-node pod CIDR size of dind's plan, which kubeadm checks the pod subnet against.
fn node_cidr_mask_args(plan: &ClusterPlan) -> Vec<(&'static str, String)> {
    let pods = &master(plan).pod_cidrs;
    let size = |v6: bool| {
        pods.iter()
            .find(|p| p.addr().is_ipv6() == v6)
            .map(|p| p.prefix_len().to_string())
    };
    match (size(false), size(true)) {
        (Some(v4), Some(v6)) => vec![
            ("node-cidr-mask-size-ipv4", v4),
            ("node-cidr-mask-size-ipv6", v6),
        ],
        (Some(only), None) | (None, Some(only)) => vec![("node-cidr-mask-size", only)],
        (None, None) => Vec::new(),
    }
}

fn api_version(version: KubeVersion) -> Value {
    string(version.kubeadm_api())
}

/// The master's configuration: four documents, patched.
/// `version` is the node image's own kubeadm version (exact), which picks the config API.
pub fn init_config(plan: &ClusterPlan, config: &Config, version: KubeVersion) -> Result<String> {
    let v6_first = primary_is_v6(config);
    let pod_subnets = joined(&primary_first(
        &config.pod_cidrs,
        |n| n.addr().is_ipv6(),
        v6_first,
    ));
    render(
        vec![
            init_configuration(plan, config, version),
            cluster_configuration(plan, config, version, &pod_subnets),
            kubelet_configuration(config, version, v6_first),
            kube_proxy_configuration(config, &pod_subnets),
        ],
        &config.kubeadm_config_patches,
    )
}

fn init_configuration(plan: &ClusterPlan, config: &Config, version: KubeVersion) -> Value {
    let master = master(plan);
    let advertise = advertise_address(config, master);
    // A single node must run ordinary pods too.
    let taints = if plan.nodes.len() == 1 {
        Value::Sequence(Vec::new())
    } else {
        Value::Null
    };
    map([
        ("apiVersion", api_version(version)),
        ("kind", string("InitConfiguration")),
        (
            "localAPIEndpoint",
            map([
                ("advertiseAddress", string(advertise)),
                ("bindPort", Value::from(API_SERVER_PORT)),
            ]),
        ),
        (
            "nodeRegistration",
            node_registration(config, version, master, taints),
        ),
        // kubeadm's last phase points the kubelet at a rotatable client certificate and
        // restarts it: every static pod is then unready until its startup probe passes
        // again, 10 s at least, a third of a single node's `up` (seen on 1.37.2). A test
        // cluster outlives no certificate, so the kubelet keeps the one kubeadm gave it.
        ("skipPhases", strings(["kubelet-finalize"])),
        ("patches", map([("directory", string(PATCHES_DIR))])),
    ])
}

/// The control plane components' extra command-line arguments.
struct ControlPlaneArgs {
    api_server: Vec<(&'static str, String)>,
    controller_manager: Vec<(&'static str, String)>,
    scheduler: Vec<(&'static str, String)>,
}

fn control_plane_args(plan: &ClusterPlan, config: &Config) -> ControlPlaneArgs {
    let gates: Vec<(&str, String)> = feature_gate_flag(config).into_iter().collect();
    // dind's plan gives each node its pod CIDR (the CNI config's host-local range); the
    // controller manager's own allocator would hand out different ones (Node.spec.podCIDR
    // disagreeing with the pods' addresses), so it allocates none. The mask sizes stay:
    // kubeadm checks the pod subnet against them.
    let mut controller_args = vec![("allocate-node-cidrs", "false".to_string())];
    controller_args.extend(node_cidr_mask_args(plan));
    // Health and metrics endpoints on IPv6 in an IPv6-only cluster (as kind).
    let ipv6_only = config.ip_mode == IpMode::Ipv6;
    let mut scheduler_args = gates.clone();
    if ipv6_only {
        controller_args.push(("bind-address", "::".to_string()));
        scheduler_args.push(("bind-address", "::1".to_string()));
    }
    controller_args.extend(gates.iter().cloned());
    ControlPlaneArgs {
        api_server: gates,
        controller_manager: controller_args,
        scheduler: scheduler_args,
    }
}

fn cluster_configuration(
    plan: &ClusterPlan,
    config: &Config,
    version: KubeVersion,
    pod_subnets: &str,
) -> Value {
    let args = control_plane_args(plan, config);
    let mut sans = vec![
        "localhost".to_string(),
        Ipv4Addr::LOCALHOST.to_string(),
        Ipv6Addr::LOCALHOST.to_string(),
    ];
    let master = master(plan);
    sans.extend(node_ips(config, master).iter().map(ToString::to_string));
    map([
        ("apiVersion", api_version(version)),
        ("kind", string("ClusterConfiguration")),
        (
            "clusterName",
            string(plan::kubernetes::context_name(plan.cluster_id)),
        ),
        ("kubernetesVersion", string(version)),
        (
            "controlPlaneEndpoint",
            string(control_plane_endpoint(plan, config)),
        ),
        (
            "networking",
            map([
                ("dnsDomain", string(DNS_DOMAIN)),
                ("podSubnet", string(pod_subnets)),
                ("serviceSubnet", string(joined(&config.service_cidrs))),
            ]),
        ),
        (
            "apiServer",
            map([
                ("certSANs", strings(sans)),
                ("extraArgs", extra_args(version, &args.api_server)),
            ]),
        ),
        (
            "controllerManager",
            map([("extraArgs", extra_args(version, &args.controller_manager))]),
        ),
        (
            "scheduler",
            map([("extraArgs", extra_args(version, &args.scheduler))]),
        ),
    ])
}

fn kubelet_configuration(config: &Config, version: KubeVersion, v6_first: bool) -> Value {
    map([
        ("apiVersion", string("kubelet.config.k8s.io/v1beta1")),
        ("kind", string("KubeletConfiguration")),
        ("cgroupDriver", string("systemd")),
        // Pods under a cgroup of their own, apart from the node's systemd units; the node
        // image's dind-kubelet-cgroup enables every controller there (as kind does).
        ("cgroupRoot", string("/kubelet")),
        ("failSwapOn", Value::Bool(false)),
        // The API server reaches the kubelet (logs, exec) on the node's primary address; the
        // default 0.0.0.0 listens on IPv4 only, "::" on both families (kind sets it for IPv6).
        ("address", kubelet_address(v6_first)),
        ("healthzBindAddress", kubelet_address(v6_first)),
        ("resolvConf", string(KUBELET_RESOLV_PATH)),
        // Test clusters share the host's disk: never evict or garbage-collect for space.
        ("imageGCHighThresholdPercent", Value::from(100)),
        (
            "evictionHard",
            map([
                ("imagefs.available", string("0%")),
                ("nodefs.available", string("0%")),
                ("nodefs.inodesFree", string("0%")),
            ]),
        ),
        ("featureGates", feature_gate_map(config)),
        (
            "imagePullCredentialsVerificationPolicy",
            match verifies_pulled_images(config, version) {
                true => string("NeverVerify"),
                false => Value::Null,
            },
        ),
        // From 1.35 the kubelet refuses a cgroup v1 host unless told otherwise (the field
        // exists from 1.31; on cgroup v2 it changes nothing). Nodes run on both.
        (
            "failCgroupV1",
            if version.minor >= 31 {
                Value::Bool(false)
            } else {
                Value::Null
            },
        ),
    ])
}

fn kube_proxy_configuration(config: &Config, pod_subnets: &str) -> Value {
    map([
        ("apiVersion", string("kubeproxy.config.k8s.io/v1alpha1")),
        ("kind", string("KubeProxyConfiguration")),
        ("mode", string("iptables")),
        ("clusterCIDR", string(pod_subnets)),
        // A node's pods share one bridge: a Service reply from a backend on the client's
        // own node is bridged straight back, past the node's conntrack, and dropped, unless
        // br_netfilter sends bridged traffic through iptables. A container cannot rely on
        // that module (it is the host's, often not loaded), so every Service connection is
        // masqueraded to the node instead and its reply is routed back through conntrack
        // (k-d-c's choice; kind avoids the bridge with ptp links).
        ("iptables", map([("masqueradeAll", Value::Bool(true))])),
        // A container may not write nf_conntrack_max; 0 leaves the host's value alone, and
        // the two timeouts left at 0s keep kube-proxy from writing sysctls at all (as kind's
        // rootless nodes do).
        (
            "conntrack",
            map([
                ("maxPerCore", Value::from(0)),
                ("tcpEstablishedTimeout", string("0s")),
                ("tcpCloseWaitTimeout", string("0s")),
            ]),
        ),
        ("featureGates", feature_gate_map(config)),
    ])
}

/// Whether the kubelet checks the credentials of pulled images (KubeletEnsureSecretPulledImages,
/// on by default from 1.35). It then treats an image that a pod once pulled under one name
/// as pulled, and refuses it under another name with `imagePullPolicy: Never`, as an image
/// that `dind load` put in is used (seen on 1.35.4: ErrImageNeverPull). A test cluster has
/// no tenants to keep apart: dind turns the check off where it is on.
fn verifies_pulled_images(config: &Config, version: KubeVersion) -> bool {
    const GATE: &str = "KubeletEnsureSecretPulledImages";
    config
        .feature_gates
        .get(GATE)
        .copied()
        .unwrap_or(version.minor >= 35)
}

fn kubelet_address(primary_is_v6: bool) -> Value {
    if primary_is_v6 {
        string("::")
    } else {
        Value::Null
    }
}

/// A worker's JoinConfiguration, with the discovery token from the master's join command.
pub(crate) fn join_config(
    config: &Config,
    version: KubeVersion,
    node: &NodePlan,
    join: &JoinCommand,
) -> Result<String> {
    let join_doc = map([
        ("apiVersion", api_version(version)),
        ("kind", string("JoinConfiguration")),
        (
            "discovery",
            map([(
                "bootstrapToken",
                map([
                    ("apiServerEndpoint", string(&join.api_server_endpoint)),
                    ("token", string(&join.token)),
                    ("caCertHashes", strings(&join.ca_cert_hashes)),
                ]),
            )]),
        ),
        (
            "nodeRegistration",
            node_registration(config, version, node, Value::Null),
        ),
    ]);
    render(vec![join_doc], &config.kubeadm_config_patches)
}

/// Applies every patch to the documents of its kind, then writes a multi-document YAML.
fn render(mut docs: Vec<Value>, patches: &[KubeadmPatch]) -> Result<String> {
    for patch in patches {
        apply_patch(&mut docs, patch);
    }
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&yaml_serde::to_string(doc).context("cannot write kubeadm's configuration")?);
    }
    Ok(out)
}

/// Merges `patch` into every document whose `kind` (and `apiVersion`, when the patch gives
/// one) matches. A patch for a kind this rendering lacks (a JoinConfiguration patch while
/// rendering the master's) is skipped.
pub(crate) fn apply_patch(docs: &mut [Value], patch: &KubeadmPatch) {
    let field = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    for doc in docs.iter_mut() {
        let same_kind = field(doc, "kind").as_deref() == Some(patch.kind().name());
        let same_api = patch
            .api_version()
            .is_none_or(|wanted| field(doc, "apiVersion").as_deref() == Some(wanted));
        if same_kind && same_api {
            merge(doc, patch.value());
        }
    }
}

/// JSON merge patch (RFC 7386) on YAML: mappings merge key by key, null removes a key,
/// anything else replaces; except that lists of named entries (v1beta4's extraArgs) merge by
/// name, as strategic merge patches do, so a patch adds a flag without dropping dind's.
fn merge(target: &mut Value, patch: &Value) {
    if let (Some(current), Some(patch_items)) = (named(target), named(patch)) {
        let mut merged: Vec<Value> = current.into_iter().cloned().collect();
        for item in patch_items {
            match merged
                .iter_mut()
                .find(|m| m.get("name") == item.get("name"))
            {
                Some(existing) => *existing = item.clone(),
                None => merged.push(item.clone()),
            }
        }
        *target = Value::Sequence(merged);
        return;
    }
    match (target, patch) {
        (Value::Mapping(target), Value::Mapping(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else if let Some(existing) = target.get_mut(key) {
                    merge(existing, value);
                } else {
                    target.insert(key.clone(), value.clone());
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// The items of a non-empty list whose every item is a mapping with a `name`.
fn named(value: &Value) -> Option<Vec<&Value>> {
    let items = value.as_sequence()?;
    let all_named = !items.is_empty()
        && items
            .iter()
            .all(|item| item.as_mapping().is_some_and(|m| m.contains_key("name")));
    all_named.then(|| items.iter().collect())
}

#[cfg(test)]
mod tests;

//! The settings table: one row per setting, read by the command line (flags and their help),
//! the environment, the config file and validation. Adding a setting is a row here, its
//! check in check.rs and the `Config` field of the same name.
//!
//! Rows are checked in this order; `ip_mode` and `cluster_id` come first because the checks
//! of the others depend on them (see [`Basis`]).

use super::check;
use super::cluster_ranges::default_nat64_v4_prefix;
use super::layer::Sourced;
use super::refusal::Refusal;
use super::table::{settings_table, Basis, Env, Fallback, File, Flag, Setting};
use super::{defaults, Config};

settings_table! {
    ip_mode: super::IpMode = required check::ip_mode {
        name: "--ip-mode",
        flag: Flag::Value("MODE"),
        env: Env::Var("IP_MODE"),
        file: File::Text("ipMode"),
        fallback: Fallback::Value("ipv6"),
        help: "ipv6, ipv4 or dual-stack",
    }
    cluster_id: u8 = required check::cluster_id {
        name: "--cluster-id",
        flag: Flag::Value("N"),
        env: Env::Var("CLUSTER_ID"),
        file: File::Scalar("clusterId"),
        fallback: Fallback::Value("0"),
        help: "Cluster number, 0-254",
    }
    /// The master and the workers: a worker count, or (config file only) kind's node list.
    nodes: super::Nodes = whole super::nodes::check {
        name: "--nodes",
        flag: Flag::Value("N"),
        env: Env::Var("NUM_NODES"),
        file: File::Nodes("nodes"),
        fallback: Fallback::Value("2"),
        help: "Worker nodes besides the master",
    }
    allow_aaaa: bool = required check::allow_aaaa {
        name: "--allow-aaaa",
        flag: Flag::Switch { long: "--allow-aaaa", sets: "true" },
        env: Env::Var("DIND_ALLOW_AAAA_USE"),
        file: File::Scalar("allowAAAA"),
        fallback: Fallback::Value("false"),
        help: "Pass real AAAA records through DNS64 and let pods reach IPv6 sites directly",
    }
    kubernetes: bool = required check::boolean {
        name: "--kubernetes",
        flag: Flag::Switch { long: "--no-kubernetes", sets: "false" },
        env: Env::None,
        file: File::Scalar("kubernetes"),
        fallback: Fallback::Value("true"),
        help: "Stop after the network plane and the node containers",
    }
    dns64_prefix: super::Prefix = required check::dns64_prefix {
        name: "--dns64-prefix",
        flag: Flag::Value("CIDR"),
        env: Env::Read {
            names: &["DNS64_PREFIX", "DNS64_PREFIX_SIZE"],
            origin: "DNS64_PREFIX/DNS64_PREFIX_SIZE",
            read: dns64_prefix_from_env,
        },
        file: File::Text("dns64Prefix"),
        fallback: Fallback::Value(defaults::DNS64_PREFIX),
        help: "DNS64/NAT64 prefix, RFC 6052 lengths only",
    }
    /// As given; the cluster id is added when planning. The default gives every cluster id a
    /// /16 of its own (see `default_nat64_v4_prefix`).
    nat64_v4_prefix: super::V4Prefix16 = required check::nat64_v4_prefix {
        name: "--nat64-v4-prefix",
        flag: Flag::Value("A.B"),
        env: Env::Var("NAT64_V4_SUBNET_PREFIX"),
        file: File::Scalar("nat64V4Prefix"),
        fallback: Fallback::PerClusterId {
            value: default_nat64_v4_prefix,
            text: "172.18 for cluster ids 0-13, 10.0 for 14-191, 10.1 for 192-254",
        },
        help: "First two octets of NAT64's IPv4 /16; the cluster id is added to the second \
               (inside 10.0.0.0/8 or 172.16.0.0/12). The default gives each cluster id its own \
               /16 outside 10.192.0.0/16: 172.18-31 for ids 0-13, 10.14-191 for 14-191, \
               10.193-255 for 192-254",
    }
    nat64_engine: super::Nat64Engine = required check::nat64_engine {
        name: "--nat64-engine",
        flag: Flag::Value("ENGINE"),
        env: Env::Var("DIND_NAT64_ENGINE"),
        file: File::Text("nat64Engine"),
        fallback: Fallback::Value("dind-nat64"),
        help: "NAT64 translator: dind-nat64 (dind's own, in dind itself) or tayga (Debian's)",
    }
    upstream_dns: Option<std::net::Ipv4Addr> = optional check::upstream_dns {
        name: "--upstream-dns",
        flag: Flag::Value("IPV4"),
        env: Env::Var("REMOTE_DNS64_V4SERVER"),
        file: File::Text("upstreamDNS"),
        fallback: Fallback::Absent("the Docker host's, via Docker's embedded DNS"),
        help: "IPv4 resolver the cluster forwards to (DNS64 through NAT64 in ipv6 mode)",
    }
    egress_interface: Option<String> = optional check::egress_interface {
        name: "--egress-interface",
        flag: Flag::Value("IF"),
        env: Env::Var("DIND_EGRESS_INTERFACE"),
        file: File::Text("egressInterface"),
        fallback: Fallback::Absent("the host's IPv6 default route's, else IPv4's"),
        help: "Docker host interface for direct IPv6 egress",
    }
    mgmt_cidrs: Vec<ipnet::IpNet> = required check::mgmt_cidrs {
        name: "--mgmt-cidrs",
        flag: Flag::Value("CIDRS"),
        env: Env::Var("MGMT_CIDRS"),
        file: File::List("mgmtCIDRs"),
        fallback: Fallback::PerMode {
            ipv4: "10.192.0.0/24",
            ipv6: "fd00:20::/64",
            dual_stack: "10.192.0.0/24,fd00:20::/64",
        },
        help: "Management CIDRs, comma-separated",
    }
    pod_cidrs: Vec<ipnet::IpNet> = required check::pod_cidrs {
        name: "--pod-cidrs",
        flag: Flag::Value("CIDRS"),
        env: Env::Var("POD_NETWORK_CIDR"),
        file: File::List("podCIDRs"),
        fallback: Fallback::PerMode {
            ipv4: "10.244.0.0/16",
            ipv6: "fd00:40::/72",
            dual_stack: "10.244.0.0/16,fd00:40::/72",
        },
        help: "Pod CIDRs, comma-separated; split per node",
    }
    /// The primary one first; two (one per family) only in dual-stack.
    service_cidrs: Vec<ipnet::IpNet> = required check::service_cidrs {
        name: "--service-cidr",
        flag: Flag::Value("CIDR"),
        env: Env::Var("SERVICE_CIDR"),
        file: File::Text("serviceCIDR"),
        // IPv6 services are primary in dual-stack (k-d-c's choice); IPv4 ones exist too.
        fallback: Fallback::PerMode {
            ipv4: "10.96.0.0/12",
            ipv6: "fd00:30::/110",
            dual_stack: "fd00:30::/110,10.96.0.0/12",
        },
        help: "Service CIDR; in dual-stack one per family, the primary first",
    }
    node_image: Option<String> = optional check::node_image {
        name: "--node-image",
        flag: Flag::Value("IMAGE"),
        env: Env::Var("DIND_IMAGE"),
        file: File::Text("nodeImage"),
        fallback: Fallback::Absent(""),
        help: "Node image to run instead of dind's own",
    }
    /// Kubernetes given as files, instead of pkgs.k8s.io and registry.k8s.io.
    kubernetes_from: Option<std::path::PathBuf> = optional check::kubernetes_from {
        name: "--kubernetes-from",
        flag: Flag::Value("PATH"),
        env: Env::Var("DIND_KUBERNETES_FROM"),
        file: File::Text("kubernetesFrom"),
        fallback: Fallback::Absent(""),
        help: "Build the node image from this Kubernetes instead of the Internet's: the directory .ci/kubernetes-kit prints, or kubernetes-server-linux-amd64.tar.gz (or the directory it unpacks to)",
    }
    /// Names `dind check network` probes when given none (config file only).
    probes: Vec<String> = optional check::probes {
        name: "probes",
        flag: Flag::None,
        env: Env::None,
        file: File::List("probes"),
        fallback: Fallback::Absent(""),
        help: "Names `dind check network` probes when given none",
    }
    kubernetes_version: super::KubeVersion = required check::kubernetes_version {
        name: "--kubernetes-version",
        flag: Flag::Value("VERSION"),
        env: Env::Var("DIND_K8S_VERSION"),
        file: File::Text("kubernetesVersion"),
        fallback: Fallback::Value(defaults::KUBERNETES_VERSION),
        help: "Kubernetes version of dind's node image, a minor or a patch release",
    }
    /// `Name=true,Other=false`, as kube components take `--feature-gates`.
    feature_gates: std::collections::BTreeMap<String, bool> = optional check::feature_gates {
        name: "--feature-gates",
        flag: Flag::Value("GATES"),
        env: Env::Read {
            names: &["FEATURE_GATES"],
            origin: "FEATURE_GATES",
            read: feature_gates_from_env,
        },
        file: File::Gates("featureGates"),
        fallback: Fallback::Absent(""),
        help: "Feature gates for every Kubernetes component, e.g. Name=true,Other=false",
    }
    /// Config file only: one YAML document per patch.
    kubeadm_config_patches: Vec<super::KubeadmPatch> = each check::kubeadm_patch {
        name: "kubeadmConfigPatches",
        flag: Flag::None,
        env: Env::None,
        file: File::Documents("kubeadmConfigPatches"),
        fallback: Fallback::Absent(""),
        help: "YAML merge patches applied to the rendered kubeadm configuration",
    }
    /// A registry container on the cluster network, published on the host's loopback.
    registry: bool = required check::boolean {
        name: "--registry",
        flag: Flag::Switch { long: "--registry", sets: "true" },
        env: Env::Var("DIND_REGISTRY"),
        file: File::Scalar("registry"),
        fallback: Fallback::Value("false"),
        help: "Run a local registry on the host's loopback (port 5001 + the cluster id) that the nodes' containerd pulls localhost:PORT/... from",
    }
    /// Config file only: one TOML document per patch.
    containerd_config_patches: Vec<super::ContainerdPatch> = each check::containerd_patch {
        name: "containerdConfigPatches",
        flag: Flag::None,
        env: Env::None,
        file: File::Documents("containerdConfigPatches"),
        fallback: Fallback::Absent(""),
        help: "TOML documents merged into every node's /etc/containerd/config.toml",
    }
}

/// What the rows after the first two are judged against.
fn basis(checked: &Checked) -> Basis {
    Basis {
        ip_mode: checked.ip_mode,
        cluster_id: checked.cluster_id,
    }
}

/// k-d-c fills each half from its own default: DNS64_PREFIX_SIZE=64 alone means
/// fd00:10:64:ff9b::/64.
fn dns64_prefix_from_env(get: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    match (get("DNS64_PREFIX"), get("DNS64_PREFIX_SIZE")) {
        (None, None) => None,
        (Some(prefix), _) if prefix.contains('/') => Some(prefix),
        (prefix, size) => {
            let (default_prefix, default_size) =
                defaults::DNS64_PREFIX.split_once('/').expect("a CIDR");
            Some(format!(
                "{}/{}",
                prefix.as_deref().unwrap_or(default_prefix),
                size.as_deref().unwrap_or(default_size)
            ))
        }
    }
}

/// k-d-c's `FEATURE_GATES=none` means no gates.
fn feature_gates_from_env(get: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    get("FEATURE_GATES").filter(|gates| gates != "none")
}

//! One layer of raw settings (strings as the user wrote them) and where each came from.

use std::fmt;

/// Where a setting's value came from; error messages name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    File { path: String, key: &'static str },
    Env(&'static str),
    Flag(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the default"),
            Origin::File { path, key } => write!(f, "key '{key}' of config file {path}"),
            Origin::Env(name) => write!(f, "environment variable {name}"),
            Origin::Flag(name) => write!(f, "flag {name}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced {
    pub value: String,
    pub origin: Origin,
}

impl Sourced {
    pub fn new(value: impl Into<String>, origin: Origin) -> Self {
        Sourced {
            value: value.into(),
            origin,
        }
    }
}

/// Raw settings of one source. Lists (CIDRs) are comma- or space-separated, as in k-d-c.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layer {
    pub cluster_id: Option<Sourced>,
    pub ip_mode: Option<Sourced>,
    pub nodes: Option<Sourced>,
    pub allow_aaaa: Option<Sourced>,
    pub dns64_prefix: Option<Sourced>,
    pub nat64_v4_prefix: Option<Sourced>,
    pub upstream_dns: Option<Sourced>,
    pub egress_interface: Option<Sourced>,
    pub kubernetes: Option<Sourced>,
    pub mgmt_cidrs: Option<Sourced>,
    pub pod_cidrs: Option<Sourced>,
    pub service_cidr: Option<Sourced>,
    pub node_image: Option<Sourced>,
    /// Names `dind check network` probes when given none (config file only).
    pub probes: Option<Sourced>,
    pub kubernetes_version: Option<Sourced>,
    /// `Name=true,Other=false`, as kube components take `--feature-gates`.
    pub feature_gates: Option<Sourced>,
    /// Config file only: one YAML document per patch.
    pub kubeadm_config_patches: Option<Vec<Sourced>>,
}

macro_rules! each_field {
    ($m:ident) => {
        $m!(
            cluster_id,
            ip_mode,
            nodes,
            allow_aaaa,
            dns64_prefix,
            nat64_v4_prefix,
            upstream_dns,
            egress_interface,
            kubernetes,
            mgmt_cidrs,
            pod_cidrs,
            service_cidr,
            node_image,
            probes,
            kubernetes_version,
            feature_gates,
            kubeadm_config_patches
        )
    };
}

impl Layer {
    /// `self` wins where it has a value.
    pub fn over(self, lower: Layer) -> Layer {
        macro_rules! merge {
            ($($f:ident),*) => { Layer { $($f: self.$f.or(lower.$f)),* } };
        }
        each_field!(merge)
    }

    /// k-d-c's environment variables. `get` is `std::env::var` in the binary, a map in tests.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Layer {
        let var = |name: &'static str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| Sourced::new(v.trim(), Origin::Env(name)))
        };
        // k-d-c fills each half from its own default: DNS64_PREFIX_SIZE=64 alone means
        // fd00:10:64:ff9b::/64.
        let nonempty = |name| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let dns64_prefix = match (nonempty("DNS64_PREFIX"), nonempty("DNS64_PREFIX_SIZE")) {
            (None, None) => None,
            (Some(prefix), _) if prefix.contains('/') => Some(prefix),
            (prefix, size) => {
                let default = super::defaults::DNS64_PREFIX;
                let (default_prefix, default_size) = default.split_once('/').expect("a CIDR");
                Some(format!(
                    "{}/{}",
                    prefix.as_deref().unwrap_or(default_prefix),
                    size.as_deref().unwrap_or(default_size)
                ))
            }
        }
        .map(|value| Sourced::new(value, Origin::Env("DNS64_PREFIX/DNS64_PREFIX_SIZE")));
        Layer {
            cluster_id: var("CLUSTER_ID"),
            ip_mode: var("IP_MODE"),
            nodes: var("NUM_NODES"),
            allow_aaaa: var("DIND_ALLOW_AAAA_USE"),
            dns64_prefix,
            nat64_v4_prefix: var("NAT64_V4_SUBNET_PREFIX"),
            upstream_dns: var("REMOTE_DNS64_V4SERVER"),
            egress_interface: var("DIND_EGRESS_INTERFACE"),
            kubernetes: None,
            mgmt_cidrs: var("MGMT_CIDRS"),
            pod_cidrs: var("POD_NETWORK_CIDR"),
            service_cidr: var("SERVICE_CIDR"),
            node_image: var("DIND_IMAGE"),
            probes: None,
            kubernetes_version: var("DIND_K8S_VERSION"),
            feature_gates: var("FEATURE_GATES").filter(|raw| raw.value != "none"),
            kubeadm_config_patches: None,
        }
    }
}

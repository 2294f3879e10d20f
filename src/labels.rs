//! The Docker labels that record a cluster: what `up` did is read back from them by `down`,
//! `status` and a resuming `up`, never re-derived from the flags of the moment.

use crate::config::Config;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub const CLUSTER: &str = "io.github.dind.cluster";
pub const ROLE: &str = "io.github.dind.role";
pub const RECORD: &str = "io.github.dind.record";
pub const IMAGE: &str = "io.github.dind.image";
/// On a host helper: "HOSTNAME/PID" of the dind process that made it, so that a later run
/// can tell a stray (its process is gone) from another command's helper in use.
pub const OWNER: &str = "io.github.dind.owner";

pub mod role {
    pub const NETWORK: &str = "network";
    pub const DNS64: &str = "dns64";
    pub const NAT64: &str = "nat64";
    pub const MASTER: &str = "master";
    pub const WORKER: &str = "worker";
    pub const HOST_HELPER: &str = "host-helper";
    /// A throwaway container that asks a node image for its kubeadm version.
    pub const IMAGE_PROBE: &str = "image-probe";
}

/// What `up` decided, beyond the configuration itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// With the egress interface resolved.
    pub config: Config,
    /// net.ipv6.conf.all.forwarding was 0 on the Docker host before `up`, which switched it on
    /// (Docker does so for an IPv6 network; `--allow-aaaa` needs it); `down` switches it off.
    pub enabled_ipv6_forwarding: bool,
    /// The kubeconfig file `up` merged the cluster's context into; `down` removes it there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The host port the master publishes the API server on, picked before the master was
    /// created so it stays the same across restarts; None: Docker picked one (a remote
    /// Docker host, or a cluster from an older dind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_server_port: Option<u16>,
    /// HTTP_PROXY, HTTPS_PROXY and NO_PROXY as `up` found them in its environment (NO_PROXY
    /// extended by the cluster's own ranges), for the Kubernetes nodes' containerd and kubelet.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub proxy: std::collections::BTreeMap<String, String>,
}

impl Record {
    pub fn labels(&self, role: &str) -> HashMap<String, String> {
        HashMap::from([
            (CLUSTER.to_string(), self.config.cluster_id.to_string()),
            (ROLE.to_string(), role.to_string()),
            (
                RECORD.to_string(),
                serde_json::to_string(self).expect("a record serializes"),
            ),
        ])
    }

    pub fn from_labels(labels: &HashMap<String, String>) -> Result<Option<Record>> {
        labels
            .get(RECORD)
            .map(|json| {
                serde_json::from_str(json).context(
                    "a dind cluster label is unreadable (written by another dind version?)",
                )
            })
            .transpose()
    }
}

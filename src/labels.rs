//! The Docker labels that record a cluster: what `up` did is read back from them by `down`,
//! `status` and a resuming `up`, never re-derived from the flags of the moment.
//!
//! What Docker holds is input like any other: it may come from another dind version or be
//! written by hand. [`Record::from_labels`] checks the schema version and re-validates the
//! configuration, so nothing downstream (the plan above all) sees a record it cannot handle.

mod check;
mod lock;

use crate::config::Config;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

pub use check::check_config;
pub(crate) use lock::locked_cluster;
pub use lock::{LockHolder, LOCK, LOCK_COMMAND, LOCK_SINCE};

pub const CLUSTER: &str = "io.github.dind.cluster";
pub const ROLE: &str = "io.github.dind.role";
pub const RECORD: &str = "io.github.dind.record";
pub const IMAGE: &str = "io.github.dind.image";
/// On a host helper and a cluster's lock: "HOSTNAME/PID" of the dind process that made it,
/// so that a later run can tell a stray (its process is gone) from one in use.
pub const OWNER: &str = "io.github.dind.owner";
/// On the host-wide volume that says dind switched IPv6 forwarding on.
pub(crate) const IPV6_FORWARDING: &str = "io.github.dind.ipv6-forwarding";
/// On that volume too: the host's ip6tables FORWARD policy before the first cluster that
/// switched forwarding on (Docker 28 and later set it to DROP as they do), to put back with
/// forwarding.
pub(crate) const IP6_FORWARD_POLICY: &str = "io.github.dind.ip6-forward-policy";

/// The policy of a built-in iptables chain: what a packet no rule decided meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ForwardPolicy {
    Accept,
    Drop,
}

impl ForwardPolicy {
    /// As iptables prints and takes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            ForwardPolicy::Accept => "ACCEPT",
            ForwardPolicy::Drop => "DROP",
        }
    }
}

impl fmt::Display for ForwardPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ForwardPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ACCEPT" => Ok(ForwardPolicy::Accept),
            "DROP" => Ok(ForwardPolicy::Drop),
            other => Err(format!(
                "'{other}' is not a FORWARD policy (ACCEPT or DROP)"
            )),
        }
    }
}

/// What a dind container or network is for, as its [`ROLE`] label says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Network,
    Dns64,
    Nat64,
    Master,
    Worker,
    HostHelper,
    /// A throwaway container that asks a node image for its kubeadm version.
    ImageProbe,
    /// The cluster's local registry (`--registry`).
    Registry,
}

impl Role {
    pub(crate) const ALL: [Role; 8] = [
        Role::Network,
        Role::Dns64,
        Role::Nat64,
        Role::Master,
        Role::Worker,
        Role::HostHelper,
        Role::ImageProbe,
        Role::Registry,
    ];

    /// The label value on the wire; it never changes, older clusters carry it.
    pub const fn as_label(self) -> &'static str {
        match self {
            Role::Network => "network",
            Role::Dns64 => "dns64",
            Role::Nat64 => "nat64",
            Role::Master => "master",
            Role::Worker => "worker",
            Role::HostHelper => "host-helper",
            Role::ImageProbe => "image-probe",
            Role::Registry => "registry",
        }
    }

    /// The role in a label map; None when the label is absent or holds no known role.
    pub(crate) fn of(labels: &HashMap<String, String>) -> Option<Role> {
        labels.get(ROLE)?.parse().ok()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_label())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_label() == s)
            .ok_or_else(|| format!("'{s}' is not a dind role"))
    }
}

impl Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_label())
    }
}

impl From<crate::plan::Role> for Role {
    fn from(role: crate::plan::Role) -> Role {
        match role {
            crate::plan::Role::Master => Role::Master,
            crate::plan::Role::Worker => Role::Worker,
        }
    }
}

/// The newest schema of the [`RECORD`] label this dind writes and reads. Records written
/// before the label carried a version are version 1. Version 2 records `nodes` as kind's
/// list (a number in version 1); it is written only for a cluster whose nodes have settings
/// of their own, so a dind that reads version 1 alone still reads every other record, and
/// says a list record is a newer dind's rather than failing to parse it.
pub(crate) const RECORD_VERSION: u32 = 2;

impl Record {
    /// The oldest schema version that holds this record.
    fn version(&self) -> u32 {
        if self.config.nodes.has_settings() {
            2
        } else {
            1
        }
    }
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
    /// With `enabled_ipv6_forwarding`: the host's ip6tables FORWARD policy before dind's
    /// first cluster switched forwarding on. Docker 28 and later set it to DROP when they
    /// switch forwarding on for a network; the `down` that switches forwarding back off puts
    /// it back. None: forwarding was on already, or a record of an older dind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip6_forward_policy: Option<ForwardPolicy>,
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

/// The record as written: its schema version beside its fields (older dind versions ignore
/// the extra field).
#[derive(Serialize)]
struct Versioned<'a> {
    version: u32,
    #[serde(flatten)]
    record: &'a Record,
}

/// Only the version, read before the rest, whose shape depends on it.
#[derive(Deserialize)]
struct VersionOnly {
    #[serde(default = "first_version")]
    version: serde_json::Value,
}

fn first_version() -> serde_json::Value {
    serde_json::Value::from(1)
}

/// Why a record label cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RecordError {
    #[error("it is not a dind record ({0})")]
    Unreadable(String),
    #[error("its version {0} is not a record version")]
    BadVersion(String),
    #[error("it was written by a newer dind (record version {0}; this dind reads up to {RECORD_VERSION})")]
    Newer(u64),
    #[error("it holds an invalid configuration: {}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error("it records cluster {recorded}, but the object is labelled {CLUSTER}={labelled}")]
    OtherCluster { labelled: u8, recorded: u8 },
}

impl Record {
    pub fn labels(&self, role: Role) -> HashMap<String, String> {
        let versioned = Versioned {
            version: self.version(),
            record: self,
        };
        HashMap::from([
            (CLUSTER.to_string(), self.config.cluster_id.to_string()),
            (ROLE.to_string(), role.as_label().to_string()),
            (
                RECORD.to_string(),
                serde_json::to_string(&versioned).expect("a record serializes"),
            ),
        ])
    }

    /// The record in `labels`, if any, decoded and checked: its version is one this dind
    /// reads and its configuration passes [`check_config`].
    pub(crate) fn from_labels(
        labels: &HashMap<String, String>,
    ) -> Result<Option<Record>, RecordError> {
        labels
            .get(RECORD)
            .map(|json| Record::decode(json))
            .transpose()
    }

    fn decode(json: &str) -> Result<Record, RecordError> {
        let unreadable = |e: serde_json::Error| RecordError::Unreadable(e.to_string());
        let VersionOnly { version } = serde_json::from_str(json).map_err(unreadable)?;
        let version = version
            .as_u64()
            .filter(|v| *v >= 1)
            .ok_or_else(|| RecordError::BadVersion(version.to_string()))?;
        if version > u64::from(RECORD_VERSION) {
            return Err(RecordError::Newer(version));
        }
        let record: Record = serde_json::from_str(json).map_err(unreadable)?;
        let problems = check_config(&record.config);
        if !problems.is_empty() {
            return Err(RecordError::Invalid(problems));
        }
        Ok(record)
    }
}

/// The Docker object a label was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Holder {
    Container(String),
    Network(String),
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holder::Container(name) => write!(f, "container {name}"),
            Holder::Network(name) => write!(f, "network {name}"),
        }
    }
}

/// What is wrong with one label of one Docker object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LabelProblem {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("'{0}' is not a cluster id from 0 to {max}", max = crate::config::MAX_CLUSTER_ID)]
    ClusterId(String),
}

/// A label dind cannot use, the object that holds it, and how to get rid of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the label {label} of {holder} is unusable: {problem}; {}", self.hint())]
pub(crate) struct LabelError {
    pub(crate) holder: Holder,
    pub(crate) label: &'static str,
    /// The cluster the object is labelled as, when that label is readable.
    pub(crate) cluster_id: Option<u8>,
    pub(crate) problem: LabelProblem,
}

impl LabelError {
    fn hint(&self) -> String {
        if let LabelProblem::Record(RecordError::Newer(_)) = self.problem {
            return "use that dind version (its `dind down` takes the cluster down)".to_string();
        }
        let remove = match &self.holder {
            Holder::Container(name) => format!("docker rm -f {name}"),
            Holder::Network(name) => format!("docker network rm {name}"),
        };
        match self.cluster_id {
            Some(id) => format!(
                "remove it with `{remove}`, then `dind down --cluster-id {id}` removes the rest"
            ),
            None => format!("remove it with `{remove}`"),
        }
    }
}

/// The cluster id a label map names; Ok(None) without a cluster label.
pub(crate) fn cluster_id_of(labels: &HashMap<String, String>) -> Result<Option<u8>, LabelProblem> {
    let Some(value) = labels.get(CLUSTER) else {
        return Ok(None);
    };
    match value.parse::<u8>() {
        Ok(id) if id <= crate::config::MAX_CLUSTER_ID => Ok(Some(id)),
        _ => Err(LabelProblem::ClusterId(value.clone())),
    }
}

#[cfg(test)]
mod tests;

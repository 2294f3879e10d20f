//! What `up`'s actions share: the options it was given and one context over the run.

use super::prepare::Images;
use crate::cluster::undo::Journal;
use crate::engine::docker::Engine;
use crate::engine::host::HostNet;
use crate::labels::Record;
use crate::plan::ClusterPlan;
use crate::progress::Progress;
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

pub(super) struct Ctx {
    pub(super) engine: Engine,
    pub(super) progress: Progress,
    pub(super) options: UpOptions,
    /// The cluster existed before this run: a rollback keeps it as it was.
    pub(super) resuming: bool,
    pub(super) plan: ClusterPlan,
    pub(super) record: Record,
    pub(super) images: Images,
    /// The dind-nat64 program for a new NAT64 container (engine dind-nat64).
    pub(super) nat64_program: Option<Vec<u8>>,
    /// What this run made, noted by each action: what a failure or a signal rolls back.
    pub(super) journal: Journal,
    /// The helper that inspected the host, kept for the host's routes and rules.
    pub(super) host_helper: std::sync::Mutex<Option<HostNet>>,
}

impl Ctx {
    pub(super) fn take_host_helper(&self) -> Option<HostNet> {
        let mut helper = self
            .host_helper
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        helper.take()
    }

    /// The host helper, when no action took it.
    pub(super) async fn remove_host_helper(&self) {
        if let Some(helper) = self.take_host_helper() {
            helper.remove().await;
        }
    }
}

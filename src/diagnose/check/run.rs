//! What every check of one run shares: the options, the cluster, the Docker host, and the
//! failed check of a command that could not run.

use super::report::{Check, CheckId};
use crate::engine::docker::Engine;
use crate::engine::host::HostNet;
use crate::labels::Record;
use crate::plan::ClusterPlan;
use std::net::IpAddr;

pub(crate) struct Options {
    pub(crate) names: Vec<String>,
    pub(crate) port: u16,
    pub(crate) host_resolver: Option<IpAddr>,
}

/// What every check of one run shares.
pub(super) struct Run<'a> {
    pub(super) engine: &'a Engine,
    pub(super) plan: &'a ClusterPlan,
    pub(super) record: &'a Record,
    pub(super) options: &'a Options,
}

/// The Docker host, through the helper, or why there is none.
pub(super) type Host<'a> = Result<&'a HostNet, &'a str>;

/// A check that could not do its work in `container`: what failed, and where to look.
pub(super) fn exec_failed(
    check: CheckId,
    target: &str,
    container: &str,
    error: &anyhow::Error,
    cluster_id: u8,
) -> Check {
    Check::fail(
        check,
        target,
        format!("cannot run it in {container}: {error:#}"),
        format!(
            "is {container} still running (`docker ps -a --filter name={container}`)? \
             `dind up --cluster-id {cluster_id}` with the cluster's settings repairs it; \
             `dind export logs` collects its state"
        ),
    )
}

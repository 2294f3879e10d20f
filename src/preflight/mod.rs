//! The Docker host's preflight, one for `up` and `doctor`: [`gather`] asks Docker and the
//! host once, [`judge`] turns the facts into findings without I/O; `up` goes on or refuses
//! by [`up_verdict`], `doctor` prints every finding.

mod facts;
mod judge;
mod routes;

pub(crate) use facts::gather_keeping_helper;
pub use facts::{gather, DockerNetwork, Egress, HostFacts, HostNetFacts};
#[cfg(test)]
pub(crate) use judge::Check;
pub(crate) use judge::{judge, Finding, Level};

#[cfg(test)]
pub(crate) use judge::tests as judge_tests;

use crate::config::Config;
use crate::plan::ClusterPlan;

/// `up` refuses before it creates anything; every failure is named.
#[derive(Debug, thiserror::Error)]
#[error("{}", failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
pub(crate) struct Refused {
    pub(crate) failures: Vec<Finding>,
}

/// What `up` does on this host: go on, showing the warnings it returns, or refuse on any
/// failure. A pure function of the same findings `doctor` prints.
pub(crate) fn up_verdict(
    config: &Config,
    cluster_plan: &ClusterPlan,
    facts: &HostFacts,
) -> Result<Vec<Finding>, Refused> {
    let (failures, rest): (Vec<Finding>, Vec<Finding>) = judge(config, cluster_plan, facts)
        .into_iter()
        .partition(|f| f.level == Level::Fail);
    if !failures.is_empty() {
        return Err(Refused { failures });
    }
    Ok(rest
        .into_iter()
        .filter(|f| f.level == Level::Warn)
        .collect())
}

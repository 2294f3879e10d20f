//! What one `up` made, noted as it is made, and its rollback: exactly those things, never
//! what an earlier `up` or another run made. Each change is noted once it has succeeded;
//! changes are never cut in half (a signal is only heeded between them), so the notes are
//! complete when the rollback reads them.

use super::forwarding;
use crate::engine::docker::Engine;
use crate::engine::host::HostNet;
use crate::kube::kubeconfig;
use crate::labels::ForwardPolicy;
use crate::plan::{self, Route};
use crate::progress::Progress;
use crate::render::host_rules::Ip6Rule;
use anyhow::Result;
use futures_util::future::try_join_all;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Made {
    pub(crate) network: Option<String>,
    pub(crate) containers: Vec<String>,
    pub(crate) routes: Vec<Route>,
    pub(crate) rules: Vec<Ip6Rule>,
    /// IPv6 forwarding was off before this run (Docker or dind switched it on since).
    pub(crate) ipv6_forwarding: bool,
    /// The ip6tables FORWARD policy before this run, as its record says.
    pub(crate) ip6_forward_policy: Option<ForwardPolicy>,
    /// The kubeconfig file this run merged a new context into.
    pub(crate) kubeconfig: Option<PathBuf>,
}

impl Made {
    fn is_empty(&self) -> bool {
        *self == Made::default()
    }

    fn touches_host(&self) -> bool {
        !self.routes.is_empty() || !self.rules.is_empty()
    }
}

/// The notes of one run, shared by its concurrent phases.
#[derive(Debug, Default)]
pub(crate) struct Journal(Mutex<Made>);

impl Journal {
    pub(crate) fn note(&self, change: impl FnOnce(&mut Made)) {
        change(&mut self.lock());
    }

    fn lock(&self) -> MutexGuard<'_, Made> {
        // A panic while the notes were held cannot leave them half-changed: keep them.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn made(&self) -> Made {
        self.lock().clone()
    }
}

/// Undoes `made`: containers first (they hold the network), then the host's routes and
/// rules, the forwarding switch, the kubeconfig context and last the network.
pub(crate) async fn roll_back(
    engine: &Engine,
    cluster_id: u8,
    made: &Made,
    helper_image: &str,
    progress: &Progress,
) -> Result<()> {
    if made.is_empty() {
        return Ok(());
    }
    if !made.containers.is_empty() {
        progress
            .step("Removing the containers this run created", async {
                try_join_all(made.containers.iter().map(|n| engine.remove_container(n))).await
            })
            .await?;
    }
    if made.touches_host() {
        progress
            .step(
                "Removing the host routes and rules this run added",
                HostNet::with(engine, helper_image, cluster_id, async |host| {
                    for rule in made.rules.iter().rev() {
                        host.remove_rule(rule).await?;
                    }
                    for route in made.routes.iter().rev() {
                        host.remove_route(route).await?;
                    }
                    Ok(())
                }),
            )
            .await?;
    }
    if let Some(path) = &made.kubeconfig {
        let context = plan::kubernetes::context_name(cluster_id);
        kubeconfig::unmerge_from_file(path, &context)?;
    }
    if let Some(network) = &made.network {
        progress
            .step("Removing the network this run created", async {
                engine.remove_network(network).await
            })
            .await?;
    }
    // The marker alone: a concurrent `up` of another cluster switched it on meanwhile.
    if made.ipv6_forwarding
        || (made.network.is_some() && forwarding::switched_on_by_dind(engine).await?)
    {
        forwarding::restore_when_unused(engine, helper_image, cluster_id, made.ip6_forward_policy)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_from_concurrent_phases_all_land() {
        let journal = Journal::default();
        std::thread::scope(|scope| {
            for n in 0..8 {
                let journal = &journal;
                scope.spawn(move || journal.note(|m| m.containers.push(format!("node-{n}"))));
            }
        });
        journal.note(|m| m.network = Some("net".into()));
        let made = journal.made();
        assert_eq!(made.containers.len(), 8);
        assert_eq!(made.network.as_deref(), Some("net"));
        assert!(!made.touches_host());
    }

    #[test]
    fn nothing_made_is_empty() {
        assert!(Made::default().is_empty());
        let only_forwarding = Made {
            ipv6_forwarding: true,
            ..Made::default()
        };
        assert!(!only_forwarding.is_empty());
    }
}

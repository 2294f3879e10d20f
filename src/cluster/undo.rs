//! What `up` makes, as undo entries, and the one executor that takes them away again. A
//! failed or interrupted `up` runs it on its own journal (exactly what this run made, never
//! what an earlier `up` or another run made); `down` runs it on everything the cluster's
//! Docker labels and record name. Either way [`steps`] decides the order.

use super::forwarding;
use crate::engine::docker::Engine;
use crate::engine::host::HostNet;
use crate::engine::images::{self, ImageKind};
use crate::engine::lock;
use crate::kube::kubeconfig;
use crate::labels::ForwardPolicy;
use crate::plan::{self, Route};
use crate::progress::{Phase, Progress};
use crate::render::host_rules::Ip6Rule;
use anyhow::Result;
use futures_util::future::{join_all, try_join_all};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// One thing to take away.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Undo {
    Container(String),
    /// A route on the Docker host.
    Route(Route),
    /// An ip6tables rule on the Docker host.
    Rule(Ip6Rule),
    /// Every ip6tables rule on the Docker host tagged as the cluster's.
    TaggedRules,
    Network(String),
    /// IPv6 forwarding and the ip6tables FORWARD policy, put back once no IPv6 network is
    /// left: when `switched_on` (the cluster switched forwarding on), else only when dind's
    /// host-wide marker says dind did.
    Forwarding {
        switched_on: bool,
        /// The FORWARD policy before, when the marker carries none.
        policy: Option<ForwardPolicy>,
    },
    /// The cluster's context in this kubeconfig file.
    Kubeconfig(PathBuf),
}

/// The entries of one run, noted by its concurrent actions as each change succeeds. A
/// change is never cut in half (a signal is heeded only between changes), so the journal
/// is complete when the rollback reads it.
#[derive(Debug, Default)]
pub(crate) struct Journal(Mutex<Vec<Undo>>);

impl Journal {
    pub(crate) fn note(&self, entry: Undo) {
        self.lock().push(entry);
    }

    pub(crate) fn entries(&self) -> Vec<Undo> {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Undo>> {
        // A panic while the entries were held cannot leave them half-changed: keep them.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One step of the executor: entries of a kind, taken away together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Containers(Vec<String>),
    /// The tagged rules (when `tagged`), then `rules`, then `routes`.
    Host {
        tagged: bool,
        rules: Vec<Ip6Rule>,
        routes: Vec<Route>,
    },
    Network(String),
    Forwarding {
        switched_on: bool,
        policy: Option<ForwardPolicy>,
    },
    Kubeconfig(PathBuf),
}

/// The order the entries are taken away in: the containers first (they hold the network),
/// then the host's rules and routes (newest first), then the network; then forwarding,
/// which goes back off only once no IPv6 network is left; last the kubeconfig context.
/// Forwarding entries merge into one: switched on if any says so, with the latest policy.
pub(crate) fn steps(entries: &[Undo]) -> Vec<Step> {
    let mut containers = Vec::new();
    let (mut tagged, mut rules, mut routes) = (false, Vec::new(), Vec::new());
    let mut networks = Vec::new();
    let mut forwarding: Option<(bool, Option<ForwardPolicy>)> = None;
    let mut kubeconfigs = Vec::new();
    for entry in entries {
        match entry {
            Undo::Container(name) => containers.push(name.clone()),
            Undo::Route(route) => routes.insert(0, route.clone()),
            Undo::Rule(rule) => rules.insert(0, rule.clone()),
            Undo::TaggedRules => tagged = true,
            Undo::Network(name) => networks.push(name.clone()),
            Undo::Forwarding {
                switched_on,
                policy,
            } => {
                let (was_on, was_policy) = forwarding.unwrap_or((false, None));
                let policy = if *switched_on { *policy } else { was_policy };
                forwarding = Some((was_on || *switched_on, policy));
            }
            Undo::Kubeconfig(path) => kubeconfigs.push(path.clone()),
        }
    }
    let mut steps = Vec::new();
    if !containers.is_empty() {
        steps.push(Step::Containers(containers));
    }
    if tagged || !rules.is_empty() || !routes.is_empty() {
        steps.push(Step::Host {
            tagged,
            rules,
            routes,
        });
    }
    steps.extend(networks.into_iter().map(Step::Network));
    steps.extend(forwarding.map(|(switched_on, policy)| Step::Forwarding {
        switched_on,
        policy,
    }));
    steps.extend(kubeconfigs.into_iter().map(Step::Kubeconfig));
    steps
}

/// The steps in stages: a stage starts once the one before has ended, and its steps run side
/// by side. The containers and the host's rules and routes share one stage (neither needs
/// the other gone; the network, which both need, comes after them).
pub(crate) fn stages(steps: Vec<Step>) -> Vec<Vec<Step>> {
    let mut stages: Vec<Vec<Step>> = Vec::new();
    for step in steps {
        match (stages.last_mut(), &step) {
            (Some(last), Step::Host { .. }) if matches!(last.as_slice(), [Step::Containers(_)]) => {
                last.push(step)
            }
            _ => stages.push(vec![step]),
        }
    }
    stages
}

/// What the executor took away. `dind down` prints it.
#[derive(Debug, Default)]
pub struct Undone {
    pub(crate) containers: Vec<String>,
    pub(crate) network: Option<String>,
    pub(crate) rules: Vec<Ip6Rule>,
    pub(crate) routes: Vec<Route>,
    pub(crate) restored_ipv6_forwarding: bool,
    /// The ip6tables FORWARD policy set back to what it was before dind.
    pub(crate) restored_ip6_forward_policy: Option<ForwardPolicy>,
    /// The kubeconfig file the cluster's context was removed from.
    pub(crate) kubeconfig: Option<PathBuf>,
}

impl Undone {
    /// Nothing of the cluster was found (forwarding is the host's, not the cluster's).
    pub(crate) fn is_empty(&self) -> bool {
        self.containers.is_empty()
            && self.network.is_none()
            && self.rules.is_empty()
            && self.routes.is_empty()
            && self.kubeconfig.is_none()
    }

    fn absorb(&mut self, other: Undone) {
        self.containers.extend(other.containers);
        self.network = other.network.or(self.network.take());
        self.rules.extend(other.rules);
        self.routes.extend(other.routes);
        self.restored_ipv6_forwarding |= other.restored_ipv6_forwarding;
        self.restored_ip6_forward_policy = other
            .restored_ip6_forward_policy
            .or(self.restored_ip6_forward_policy);
        self.kubeconfig = other.kubeconfig.or(self.kubeconfig.take());
    }
}

/// Whose entries the executor takes away: it names its phases after them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// One `up`'s, rolled back.
    Run,
    /// The whole cluster's (`down`).
    Cluster,
}

/// Runs [`steps`] against the Docker host.
pub(crate) struct Executor<'a> {
    engine: &'a Engine,
    cluster_id: u8,
    progress: &'a Progress,
    scope: Scope,
    /// The host helper's image: dind's own node base image.
    helper: String,
    helper_present: AtomicBool,
    /// The helper that undid the host, removed alongside the network (the next step).
    lingering_helper: Mutex<Option<HostNet>>,
}

impl<'a> Executor<'a> {
    /// `helper_present`: the helper's image is known to be on the Docker host.
    pub(crate) fn new(
        engine: &'a Engine,
        cluster_id: u8,
        progress: &'a Progress,
        scope: Scope,
        helper_present: bool,
    ) -> Executor<'a> {
        Executor {
            engine,
            cluster_id,
            progress,
            scope,
            helper: ImageKind::NodeBase.spec().tag,
            helper_present: AtomicBool::new(helper_present),
            lingering_helper: Mutex::new(None),
        }
    }

    /// Takes `entries` away in [`steps`]' order and [`stages`], adding what it did to
    /// `undone`. Each step tolerates what is already gone; the first stage with a failed
    /// step ends the run.
    pub(crate) async fn run(&self, entries: &[Undo], undone: &mut Undone) -> Result<()> {
        let mut result = Ok(());
        for stage in stages(steps(entries)) {
            let outcomes = join_all(stage.into_iter().map(async |step| {
                let mut part = Undone::default();
                let outcome = self.run_step(step, &mut part).await;
                (outcome, part)
            }))
            .await;
            for (outcome, part) in outcomes {
                undone.absorb(part);
                result = result.and(outcome);
            }
            if result.is_err() {
                break;
            }
        }
        self.remove_lingering_helper().await;
        result
    }

    async fn remove_lingering_helper(&self) {
        let helper = self.lingering().take();
        if let Some(helper) = helper {
            helper.remove().await;
        }
    }

    fn lingering(&self) -> MutexGuard<'_, Option<HostNet>> {
        self.lingering_helper
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn run_step(&self, step: Step, undone: &mut Undone) -> Result<()> {
        let engine = self.engine;
        match step {
            Step::Containers(names) => {
                // The first change of a `down`: its lock must have started.
                lock::started().await?;
                let removals = try_join_all(names.iter().map(|n| engine.remove_container(n)));
                self.progress
                    .step(self.title(&step_kind::CONTAINERS), removals)
                    .await?;
                undone.containers.extend(names);
            }
            Step::Host {
                tagged,
                rules,
                routes,
            } => {
                let title = self.title(&step_kind::HOST);
                let (removed_rules, removed_routes) = self
                    .progress
                    .run(title, async |phase| {
                        self.undo_host(phase, tagged, &rules, &routes).await
                    })
                    .await?;
                undone.rules.extend(removed_rules);
                undone.routes.extend(removed_routes);
            }
            Step::Network(name) => {
                let removal = engine.remove_network(&name);
                let removal = self.progress.step(self.title(&step_kind::NETWORK), removal);
                let (removed, ()) = tokio::join!(removal, self.remove_lingering_helper());
                removed?;
                undone.network = Some(name);
            }
            Step::Forwarding {
                switched_on,
                policy,
            } => {
                let restored = self.restore_forwarding(switched_on, policy).await?;
                undone.restored_ipv6_forwarding |= restored.forwarding;
                undone.restored_ip6_forward_policy =
                    restored.policy.or(undone.restored_ip6_forward_policy);
            }
            Step::Kubeconfig(path) => {
                let context = plan::kubernetes::context_name(self.cluster_id);
                let removed = self
                    .progress
                    .step(
                        &format!("Removing context {context} from the kubeconfig"),
                        async { kubeconfig::unmerge_from_file(&path, &context) },
                    )
                    .await?;
                if removed {
                    undone.kubeconfig = Some(path);
                }
            }
        }
        Ok(())
    }

    fn title(&self, kind: &(&'static str, &'static str)) -> &'static str {
        match self.scope {
            Scope::Run => kind.0,
            Scope::Cluster => kind.1,
        }
    }

    /// Whether the host helper's image is on the Docker host (once known, not asked again).
    pub(crate) async fn helper_exists(&self) -> Result<bool> {
        if self.helper_present.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let exists = images::exists(self.engine, &self.helper).await?;
        self.helper_present.store(exists, Ordering::Relaxed);
        Ok(exists)
    }

    /// Forwarding and the FORWARD policy as they were before dind, once no IPv6 network is
    /// left, when the cluster or (by its marker) dind switched forwarding on.
    async fn restore_forwarding(
        &self,
        switched_on: bool,
        policy: Option<ForwardPolicy>,
    ) -> Result<forwarding::Restored> {
        if !switched_on && !forwarding::switched_on_by_dind(self.engine).await? {
            return Ok(forwarding::Restored::default());
        }
        self.ensure_helper().await?;
        forwarding::restore_when_unused(self.engine, &self.helper, self.cluster_id, policy).await
    }

    async fn ensure_helper(&self) -> Result<()> {
        if self.helper_exists().await? {
            return Ok(());
        }
        self.progress
            .run("Preparing the host helper", async |phase| {
                images::ensure(self.engine, &ImageKind::NodeBase.spec(), phase).await
            })
            .await?;
        self.helper_present.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// The rules and routes that were there and are gone now.
    async fn undo_host(
        &self,
        phase: &Phase,
        tagged: bool,
        rules: &[Ip6Rule],
        routes: &[Route],
    ) -> Result<(Vec<Ip6Rule>, Vec<Route>)> {
        if !self.helper_present.load(Ordering::Relaxed) {
            images::ensure(self.engine, &ImageKind::NodeBase.spec(), phase).await?;
            self.helper_present.store(true, Ordering::Relaxed);
        }
        let id = self.cluster_id;
        // The helper starts while the lock does; it is left to go with the network.
        let host = HostNet::start(self.engine, &self.helper, id).await?;
        let undone = async {
            lock::started().await?;
            let mut removed_rules = Vec::new();
            if tagged {
                removed_rules = host.remove_tagged_rules(&plan::rule_tag(id)).await?;
            }
            for rule in rules {
                if host.remove_rule(rule).await? {
                    removed_rules.push(rule.clone());
                }
            }
            let mut removed_routes = Vec::new();
            for route in routes {
                if host.remove_route(route).await? {
                    removed_routes.push(route.clone());
                }
            }
            Ok((removed_rules, removed_routes))
        }
        .await;
        match undone {
            Ok(_) => *self.lingering() = Some(host),
            Err(_) => host.remove().await,
        }
        undone
    }
}

/// The phase names of a step, as (rollback, `down`).
mod step_kind {
    pub(super) const CONTAINERS: (&str, &str) = (
        "Removing the containers this run created",
        "Removing containers",
    );
    pub(super) const HOST: (&str, &str) = (
        "Removing the host routes and rules this run added",
        "Removing host routes and rules",
    );
    pub(super) const NETWORK: (&str, &str) = (
        "Removing the network this run created",
        "Removing the network",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(dst: &str) -> Route {
        Route {
            dst: dst.parse().unwrap(),
            via: None,
            dev: None,
        }
    }

    fn rule(n: &str) -> Ip6Rule {
        Ip6Rule {
            table: "filter".into(),
            chain: "FORWARD".into(),
            spec: vec![n.into()],
        }
    }

    fn on(policy: Option<ForwardPolicy>) -> Undo {
        Undo::Forwarding {
            switched_on: true,
            policy,
        }
    }

    #[test]
    fn containers_go_first_then_the_host_the_network_forwarding_and_the_kubeconfig() {
        // As `up` notes them: the network before anything in it, the kubeconfig last.
        let made = [
            on(Some(ForwardPolicy::Accept)),
            Undo::Network("dind-net".into()),
            Undo::Route(route("fd00:1::/64")),
            Undo::Container("kube-master".into()),
            Undo::Rule(rule("a")),
            Undo::Container("kube-node-1".into()),
            Undo::Kubeconfig("/k".into()),
        ];
        assert_eq!(
            steps(&made),
            [
                Step::Containers(vec!["kube-master".into(), "kube-node-1".into()]),
                Step::Host {
                    tagged: false,
                    rules: vec![rule("a")],
                    routes: vec![route("fd00:1::/64")],
                },
                Step::Network("dind-net".into()),
                Step::Forwarding {
                    switched_on: true,
                    policy: Some(ForwardPolicy::Accept)
                },
                Step::Kubeconfig("/k".into()),
            ]
        );
    }

    #[test]
    fn the_host_undoes_its_rules_and_routes_newest_first() {
        let made = [
            Undo::Route(route("fd00:1::/64")),
            Undo::Route(route("fd00:2::/64")),
            Undo::Rule(rule("a")),
            Undo::Rule(rule("b")),
        ];
        assert_eq!(
            steps(&made),
            [Step::Host {
                tagged: false,
                rules: vec![rule("b"), rule("a")],
                routes: vec![route("fd00:2::/64"), route("fd00:1::/64")],
            }]
        );
    }

    #[test]
    fn a_run_that_made_nothing_undoes_nothing() {
        // A second `up` of a complete cluster: its rollback keeps the cluster as it was.
        assert_eq!(steps(&Journal::default().entries()), []);
        // Containers only (the network was there already): forwarding is not looked at.
        assert_eq!(
            steps(&[Undo::Container("kube-master".into())]),
            [Step::Containers(vec!["kube-master".into()])]
        );
    }

    #[test]
    fn forwarding_is_looked_at_only_when_an_entry_says_so() {
        // `down`'s passes: the network goes, forwarding waits for the recorded entries.
        assert_eq!(
            steps(&[Undo::Network("n".into())]),
            [Step::Network("n".into())]
        );
        // A run that made the network without switching forwarding on: the marker decides.
        let marker_decides = Undo::Forwarding {
            switched_on: false,
            policy: None,
        };
        let made = [Undo::Network("n".into()), marker_decides.clone()];
        assert_eq!(
            steps(&made)[1],
            Step::Forwarding {
                switched_on: false,
                policy: None
            }
        );
        // Switched on by this run: on, with its policy, whatever the order of the entries.
        let own = [on(Some(ForwardPolicy::Drop)), marker_decides];
        assert_eq!(
            steps(&own),
            [Step::Forwarding {
                switched_on: true,
                policy: Some(ForwardPolicy::Drop)
            }]
        );
    }

    #[test]
    fn the_latest_switch_names_the_policy() {
        let entries = [
            on(Some(ForwardPolicy::Accept)),
            on(Some(ForwardPolicy::Drop)),
        ];
        assert_eq!(
            steps(&entries),
            [Step::Forwarding {
                switched_on: true,
                policy: Some(ForwardPolicy::Drop)
            }]
        );
    }

    #[test]
    fn down_takes_the_tagged_rules_with_the_recorded_routes() {
        let named = [
            Undo::Container("kube-master".into()),
            Undo::TaggedRules,
            Undo::Route(route("fd00:1::/64")),
            Undo::Network("n".into()),
        ];
        assert_eq!(
            steps(&named)[1],
            Step::Host {
                tagged: true,
                rules: vec![],
                routes: vec![route("fd00:1::/64")],
            }
        );
    }

    #[test]
    fn entries_noted_by_concurrent_actions_all_land() {
        let journal = Journal::default();
        std::thread::scope(|scope| {
            for n in 0..8 {
                let journal = &journal;
                scope.spawn(move || journal.note(Undo::Container(format!("node-{n}"))));
            }
        });
        journal.note(Undo::Network("net".into()));
        let entries = journal.entries();
        assert_eq!(entries.len(), 9);
        assert_eq!(entries.last(), Some(&Undo::Network("net".into())));
        let Step::Containers(names) = &steps(&entries)[0] else {
            panic!("containers first");
        };
        assert_eq!(names.len(), 8);
    }

    #[test]
    fn the_containers_and_the_host_go_side_by_side_and_the_network_after_both() {
        let named = [
            Undo::Container("kube-master".into()),
            Undo::TaggedRules,
            Undo::Network("n".into()),
            on(None),
        ];
        let host = Step::Host {
            tagged: true,
            rules: vec![],
            routes: vec![],
        };
        assert_eq!(
            stages(steps(&named)),
            [
                vec![Step::Containers(vec!["kube-master".into()]), host.clone()],
                vec![Step::Network("n".into())],
                vec![Step::Forwarding {
                    switched_on: true,
                    policy: None
                }],
            ]
        );
        // Without containers the host is a stage of its own, still before the network.
        let host_only = [Undo::TaggedRules, Undo::Network("n".into())];
        assert_eq!(
            stages(steps(&host_only)),
            [vec![host], vec![Step::Network("n".into())]]
        );
    }

    #[test]
    fn what_side_by_side_steps_undid_adds_up() {
        let mut undone = Undone {
            containers: vec!["a".into()],
            ..Undone::default()
        };
        undone.absorb(Undone {
            rules: vec![rule("r")],
            routes: vec![route("fd00:1::/64")],
            ..Undone::default()
        });
        undone.absorb(Undone {
            containers: vec!["b".into()],
            network: Some("n".into()),
            ..Undone::default()
        });
        assert_eq!(undone.containers, ["a", "b"]);
        assert_eq!(undone.rules, [rule("r")]);
        assert_eq!(undone.routes, [route("fd00:1::/64")]);
        assert_eq!(undone.network.as_deref(), Some("n"));
    }

    #[test]
    fn nothing_found_is_empty_even_when_forwarding_went_back() {
        let undone = Undone {
            restored_ipv6_forwarding: true,
            ..Undone::default()
        };
        assert!(undone.is_empty());
        let with_network = Undone {
            network: Some("n".into()),
            ..Undone::default()
        };
        assert!(!with_network.is_empty());
    }
}

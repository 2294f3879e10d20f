//! Kubernetes on the node containers, in named, ordered phases: containerd up, `kubeadm
//! init` on the master, CoreDNS pointed at the cluster's resolver, workers joined side by
//! side, the kubeconfig merged, then the readiness wait. Each phase is idempotent: a
//! resumed `up` skips what is done (an initialized master, a joined worker).

use super::undo::{Journal, Undo};
use crate::config::{Config, IpMode, KubeVersion};
use crate::engine::backoff::Backoff;
use crate::engine::docker::{indent, Engine};
use crate::kube::readiness::InitStep;
use crate::kube::{corefile, join, kubeconfig, readiness};
use crate::labels::Record;
use crate::plan::{self, ClusterPlan, NodePlan, Role};
use crate::progress::{Phase, Progress};
use crate::render::containers::{kubeadm_probe, tcp_port_key};
use crate::render::kubeadm::{self, KUBEADM_CONFIG_PATH};
use crate::render::storage;
use crate::render::FileSpec;
use anyhow::{anyhow, bail, Context, Result};
use futures_util::future::join_all;
use std::net::IpAddr;
use std::time::{Duration, Instant};

const ADMIN_CONF: &str = "/etc/kubernetes/admin.conf";
const KUBELET_CONF: &str = "/etc/kubernetes/kubelet.conf";
const KUBECTL: [&str; 3] = ["kubectl", "--kubeconfig", ADMIN_CONF];
const CONTAINERD_TIMEOUT: Duration = Duration::from_secs(120);
const API_READYZ: [&str; 6] = [
    "kubectl",
    "--kubeconfig",
    ADMIN_CONF,
    "get",
    "--raw",
    "/readyz",
];
const API_SETTLE: Duration = Duration::from_secs(60);
/// Lines of kubeadm's output an error shows.
const OUTPUT_TAIL: usize = 25;

/// Asks `image` for its kubeadm version in a throwaway container, before anything of the
/// cluster exists: an image without kubeadm fails here, fast and with nothing to undo.
pub(crate) async fn probe_kubeadm(
    engine: &Engine,
    image: &str,
    cluster_id: u8,
) -> Result<KubeVersion> {
    let result = engine
        .run_to_end(&kubeadm_probe(image, cluster_id), "`kubeadm version`")
        .await;
    let no_kubeadm = |detail: &str| {
        anyhow!(
            "node image {image} has no usable kubeadm ({detail}); leave out --node-image (DIND_IMAGE) \
             to use dind's Kubernetes node image, or pass --no-kubernetes for the network plane only"
        )
    };
    let (code, output) = result.map_err(|e| no_kubeadm(&format!("{e:#}")))?;
    if code != 0 {
        return Err(no_kubeadm(&format!(
            "`kubeadm version` exited with {code}: {}",
            output.trim()
        )));
    }
    let version: KubeVersion = output
        .trim()
        .parse()
        .map_err(|e: String| no_kubeadm(&format!("`kubeadm version -o short` printed {e}")))?;
    if version.minor < KubeVersion::OLDEST_MINOR {
        bail!(
            "node image {image} has kubeadm {version}; dind supports Kubernetes v1.{} and later",
            KubeVersion::OLDEST_MINOR
        );
    }
    Ok(version)
}

/// What the Kubernetes phases work on.
pub(crate) struct Kube<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) progress: &'a Progress,
    pub(crate) plan: &'a ClusterPlan,
    pub(crate) record: &'a Record,
    /// The node image's own kubeadm version.
    pub(crate) version: KubeVersion,
    /// The storage provisioner's image, when the node image carries it.
    pub(crate) storage: Option<&'a str>,
    /// None: do not wait for readiness.
    pub(crate) wait: Option<Duration>,
    /// Where a new cluster's merged context is noted, for a rollback; None on a second
    /// `up`, which keeps the context of the run that made the cluster.
    pub(crate) journal: Option<&'a Journal>,
}

impl Kube<'_> {
    fn config(&self) -> &Config {
        &self.record.config
    }

    fn master(&self) -> &NodePlan {
        &self.plan.nodes[0]
    }

    fn workers(&self) -> impl Iterator<Item = &NodePlan> {
        self.plan.nodes.iter().filter(|n| n.role == Role::Worker)
    }

    async fn kubectl(&self, args: &[&str]) -> Result<String> {
        let argv: Vec<&str> = KUBECTL.iter().chain(args).copied().collect();
        self.engine.exec_ok(&self.master().container, &argv).await
    }

    async fn has_file(&self, node: &NodePlan, path: &str) -> Result<bool> {
        Ok(self
            .engine
            .exec(&node.container, &["test", "-f", path])
            .await?
            .success())
    }

    /// Runs kubeadm in `node`; a failure carries the last lines of its output.
    async fn kubeadm(&self, node: &NodePlan, args: &[&str]) -> Result<String> {
        let argv: Vec<&str> = std::iter::once("kubeadm")
            .chain(args.iter().copied())
            .collect();
        let source = format!("kubeadm {}", node.container);
        let show = |line: &str| self.progress.output(&source, line);
        let out = self
            .engine
            .exec_showing(&node.container, &argv, &show)
            .await?;
        let all = format!("{}{}", out.stdout, out.stderr);
        if !out.success() {
            bail!(
                "`{}` failed on {} (exit {}); its last lines:\n{}",
                argv.join(" "),
                node.container,
                out.code,
                indent(&last_lines(&all, OUTPUT_TAIL))
            );
        }
        Ok(all)
    }
}

/// The phases, in order.
pub(crate) async fn bring_up(kube: &Kube<'_>) -> Result<()> {
    let nodes = kube.plan.nodes.len();
    kube.progress
        .step(
            &format!("Waiting for containerd and its images on {nodes} node(s)"),
            wait_for_containerd(kube),
        )
        .await?;
    kube.progress
        .step("Initializing the control plane (kubeadm init)", init(kube))
        .await?;
    kube.progress
        .step(
            "Pointing CoreDNS at the cluster's resolver",
            configure_coredns(kube),
        )
        .await?;
    if let Some(image) = kube.storage {
        kube.progress
            .step(
                "Installing the default StorageClass (local-path-provisioner)",
                install_storage(kube, image),
            )
            .await?;
    }
    let workers = kube.workers().count();
    if workers == 0 {
        kube.progress
            .step(
                "Letting the master take load balancer traffic (a single node)",
                include_master_in_load_balancers(kube),
            )
            .await?;
    }
    if workers > 0 {
        kube.progress
            .step(
                &format!("Joining {workers} worker(s) (kubeadm join)"),
                join_workers(kube),
            )
            .await?;
    }
    let path = kube.record.kubeconfig.clone();
    kube.progress
        .run("Merging the kubeconfig", async |phase| {
            let text = cluster_kubeconfig(kube.engine, kube.plan, kube.config(), Server::Published)
                .await?;
            if let Some(path) = path {
                kubeconfig::merge_into_file(&path, &text)?;
                phase.message(&path.display().to_string());
                if let Some(journal) = kube.journal {
                    journal.note(Undo::Kubeconfig(path));
                }
            }
            Ok(())
        })
        .await?;
    if let Some(timeout) = kube.wait {
        let name = format!(
            "Waiting up to {} for nodes, kube-system pods and DNS",
            humantime::format_duration(timeout)
        );
        kube.progress
            .run(&name, async |phase| wait_ready(kube, timeout, phase).await)
            .await?;
    }
    Ok(())
}

/// containerd runs and, in a node image that carries its images, they are imported (the
/// preloader's unit is active once it has exited). Says what it waits for.
const RUNTIME_READY: &str = r#"systemctl is-active --quiet containerd ||
    { echo "containerd is $(systemctl is-active containerd)"; exit 1; }
systemctl cat dind-preload-images >/dev/null 2>&1 || exit 0
systemctl is-active --quiet dind-preload-images && exit 0
state=$(systemctl is-active dind-preload-images)
echo "dind-preload-images is $state"
[ "$state" != failed ] || journalctl -u dind-preload-images -n 5 --no-pager
exit 1"#;

async fn wait_for_containerd(kube: &Kube<'_>) -> Result<()> {
    let probe = ["sh", "-c", RUNTIME_READY];
    let waits = kube.plan.nodes.iter().map(|node| {
        kube.engine
            .wait_ready(&node.container, &probe, CONTAINERD_TIMEOUT)
    });
    join_all(waits).await.into_iter().collect()
}

async fn init(kube: &Kube<'_>) -> Result<()> {
    let master = kube.master();
    let has_admin_conf = kube.has_file(master, ADMIN_CONF).await?;
    // Given time to settle: a restarted master's API server takes a while to answer.
    let answers = has_admin_conf
        && kube
            .engine
            .wait_ready(&master.container, &API_READYZ, API_SETTLE)
            .await
            .is_ok();
    match readiness::init_step(has_admin_conf, answers) {
        InitStep::Skip => return Ok(()),
        InitStep::Init => {}
        InitStep::ResetThenInit => {
            kube.progress.note(&format!(
                "{} has {ADMIN_CONF} but its API server does not answer /readyz (an earlier \
                 `kubeadm init` did not finish): resetting it and initializing again",
                master.container
            ));
            kube.kubeadm(master, &["reset", "--force"]).await?;
        }
    }
    let config = kubeadm::init_config(kube.plan, kube.config(), kube.version)?;
    upload_private(kube.engine, &master.container, KUBEADM_CONFIG_PATH, config).await?;
    // Preflight still runs (and pulls the control-plane images); its checks of the host's
    // kernel and swap do not apply to a container.
    kube.kubeadm(
        master,
        &[
            "init",
            "--config",
            KUBEADM_CONFIG_PATH,
            "--ignore-preflight-errors=all",
            "--skip-token-print",
        ],
    )
    .await?;
    Ok(())
}

async fn configure_coredns(kube: &Kube<'_>) -> Result<()> {
    let current = kube
        .kubectl(&[
            "-n",
            "kube-system",
            "get",
            "configmap",
            "coredns",
            "-o",
            "jsonpath={.data.Corefile}",
        ])
        .await?;
    let upstreams: Vec<IpAddr> = plan::kubernetes::upstream_resolvers(kube.plan);
    let wanted = corefile::forward_to(&current, &upstreams)?;
    if wanted == current {
        return Ok(());
    }
    let patch = serde_json::json!({ "data": { "Corefile": wanted } }).to_string();
    kube.kubectl(&[
        "-n",
        "kube-system",
        "patch",
        "configmap",
        "coredns",
        "--type",
        "merge",
        "-p",
        &patch,
    ])
    .await?;
    kube.kubectl(&[
        "-n",
        "kube-system",
        "rollout",
        "restart",
        "deployment",
        "coredns",
    ])
    .await?;
    Ok(())
}

async fn install_storage(kube: &Kube<'_>, image: &str) -> Result<()> {
    let manifest = FileSpec::new(storage::MANIFEST_PATH, storage::manifest(image));
    kube.engine
        .upload_files(&kube.master().container, &[manifest])
        .await?;
    kube.kubectl(&["apply", "-f", storage::MANIFEST_PATH])
        .await?;
    Ok(())
}

/// kubeadm labels a control-plane node to be left out of external load balancers; in a
/// cluster of one node that leaves none (kind removes the label there too).
async fn include_master_in_load_balancers(kube: &Kube<'_>) -> Result<()> {
    kube.kubectl(&[
        "label",
        "node",
        &kube.master().container,
        "node.kubernetes.io/exclude-from-external-load-balancers-",
    ])
    .await?;
    Ok(())
}

async fn join_workers(kube: &Kube<'_>) -> Result<()> {
    let mut pending = Vec::new();
    for worker in kube.workers() {
        if !kube.has_file(worker, KUBELET_CONF).await? {
            pending.push(worker);
        }
    }
    if pending.is_empty() {
        return Ok(());
    }
    let output = kube
        .kubeadm(kube.master(), &["token", "create", "--print-join-command"])
        .await?;
    let join = join::parse_join_command(&output)?;
    let joins = pending.iter().map(|worker| async {
        let config = kubeadm::join_config(kube.config(), kube.version, worker, &join)?;
        upload_private(kube.engine, &worker.container, KUBEADM_CONFIG_PATH, config).await?;
        kube.kubeadm(
            worker,
            &[
                "join",
                "--config",
                KUBEADM_CONFIG_PATH,
                "--ignore-preflight-errors=all",
            ],
        )
        .await
    });
    // Every join runs to its end before an error is reported: a rollback must not race one.
    let results = join_all(joins).await;
    for result in results {
        result?;
    }
    Ok(())
}

/// Bootstrap tokens and keys: readable by root only.
async fn upload_private(engine: &Engine, container: &str, path: &str, text: String) -> Result<()> {
    let mut file = FileSpec::new(path, text);
    file.mode = 0o600;
    engine.upload_files(container, &[file]).await
}

/// The host port of the master's API server: the one `up` fixed at create time, else the
/// one Docker picked at this start.
pub(crate) async fn published_port(engine: &Engine, master: &str) -> Result<u16> {
    let key = tcp_port_key(plan::kubernetes::API_SERVER_PORT);
    engine.published_port(master, &key).await?.with_context(|| {
        format!("container {master} publishes no host port for {key}; is it running?")
    })
}

/// Where the kubeconfig's clients reach the API server from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Server {
    /// The Docker host: the port published on its loopback.
    Published,
    /// A container on the cluster's network: the master's own address there.
    Internal,
}

impl Server {
    /// What the user of a dual-stack cluster is told about the server's address: the
    /// internal one is of the primary family. None where there is no choice of family.
    pub(crate) fn dual_stack_note(self, plan: &ClusterPlan, config: &Config) -> Option<String> {
        if self != Server::Internal || config.ip_mode != IpMode::DualStack {
            return None;
        }
        let family = match internal_api_address(plan, config) {
            IpAddr::V6(_) => "IPv6",
            IpAddr::V4(_) => "IPv4",
        };
        Some(format!(
            "dual-stack: the server is the master's {family} address, of the primary family \
             (the first --service-cidr's)"
        ))
    }
}

/// The API server's address on the cluster network: the master's address of the primary
/// family (the one Kubernetes advertises: IPv6 in ipv6 mode and, by default, dual-stack).
pub(crate) fn internal_api_address(plan: &ClusterPlan, config: &Config) -> IpAddr {
    kubeadm::advertise_address(config, &plan.nodes[0])
}

/// [`internal_api_address`], port 6443, as a URL.
pub(crate) fn internal_api_server(plan: &ClusterPlan, config: &Config) -> String {
    plan::kubernetes::api_server_url(
        internal_api_address(plan, config),
        plan::kubernetes::API_SERVER_PORT,
    )
}

/// The cluster's kubeconfig: kubeadm's admin.conf with the server rewritten for `server`'s
/// clients, and every entry named after the cluster.
pub(crate) async fn cluster_kubeconfig(
    engine: &Engine,
    plan: &ClusterPlan,
    config: &Config,
    server: Server,
) -> Result<String> {
    let master = &plan.nodes[0].container;
    let admin = engine
        .read_file(master, ADMIN_CONF)
        .await?
        .with_context(|| {
            format!("{master} has no {ADMIN_CONF}: its control plane was never initialized; run `dind up`")
        })?;
    let admin = String::from_utf8(admin).context("admin.conf is not UTF-8")?;
    let server = match server {
        Server::Internal => internal_api_server(plan, config),
        Server::Published => plan::kubernetes::api_server_url(
            plan::kubernetes::published_loopback(config.ip_mode),
            published_port(engine, master).await?,
        ),
    };
    kubeconfig::rewrite_admin(
        &admin,
        &plan::kubernetes::context_name(plan.cluster_id),
        &server,
    )
}

/// How long `--wait` tries the default external name once the cluster is Ready.
const EXTERNAL_LOOKUP_GRACE: Duration = Duration::from_secs(15);

/// Polls until every node is Ready, every kube-system pod runs, and CoreDNS resolves the
/// cluster's own name and, when the config names probes, the first of them (through DNS64
/// in an ipv6 cluster); on timeout, names what was not ready. Without probes the default
/// external name is tried for a while afterwards: a machine without the Internet still gets
/// its cluster, with a note that pods resolve no outside name.
async fn wait_ready(kube: &Kube<'_>, timeout: Duration, phase: &Phase) -> Result<()> {
    wait_until_ready(kube, timeout, phase).await?;
    if !kube.config().probes.is_empty() {
        return Ok(());
    }
    let start = Instant::now();
    let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(2));
    loop {
        let Err(reason) = lookup_external(kube).await else {
            return Ok(());
        };
        if start.elapsed() >= EXTERNAL_LOOKUP_GRACE {
            kube.progress.note(&format!(
                "the cluster is ready, but {reason}: its pods resolve no name outside the \
                 cluster (no Internet here?); `dind check network` shows where the path ends"
            ));
            return Ok(());
        }
        phase.message(&reason);
        backoff.wait().await;
    }
}

async fn wait_until_ready(kube: &Kube<'_>, timeout: Duration, phase: &Phase) -> Result<()> {
    let start = Instant::now();
    let expected: Vec<String> = kube
        .plan
        .nodes
        .iter()
        .map(|n| n.container.clone())
        .collect();
    // Each look runs kubectl twice in the master: at most one a second.
    let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(1));
    loop {
        let pending = match pending_readiness(kube, &expected).await {
            Ok(pending) => pending,
            // The API server restarts now and then while the control plane settles.
            Err(err) => vec![format!("kubectl: {}", first_line(&format!("{err:#}")))],
        };
        if pending.is_empty() {
            return Ok(());
        }
        phase.message(&summary(&pending));
        if start.elapsed() >= timeout {
            bail!(
                "the cluster was not ready within {} (--wait); not ready:\n{}\n\
                 `dind export logs` collects the nodes' state; `dind up --retain` keeps a failed cluster",
                humantime::format_duration(timeout),
                indent(&pending.join("\n"))
            );
        }
        backoff.wait().await;
    }
}

async fn pending_readiness(kube: &Kube<'_>, expected: &[String]) -> Result<Vec<String>> {
    let nodes = kube.kubectl(&["get", "nodes", "-o", "json"]).await?;
    let pods = kube
        .kubectl(&["-n", "kube-system", "get", "pods", "-o", "json"])
        .await?;
    let mut pending = readiness::not_ready(expected, &nodes, &pods)?;
    if pending.is_empty() {
        if let Err(reason) = lookup_cluster_name(kube).await {
            pending.push(reason);
        }
    }
    if pending.is_empty() && !kube.config().probes.is_empty() {
        if let Err(reason) = lookup_external(kube).await {
            pending.push(reason);
        }
    }
    Ok(pending)
}

/// The external name `--wait` resolves: the config's first probe, or a default.
pub(crate) fn wait_lookup_name(config: &Config) -> &str {
    config
        .probes
        .first()
        .map(String::as_str)
        .unwrap_or(crate::config::defaults::WAIT_LOOKUP)
}

/// The API server's Service name through CoreDNS: its address, of the primary family.
async fn lookup_cluster_name(kube: &Kube<'_>) -> Result<(), String> {
    let config = kube.config();
    let expected = plan::kubernetes::api_service_ip(config);
    let record_type = if expected.is_ipv6() { "AAAA" } else { "A" };
    let name = format!("kubernetes.default.svc.{}", kubeadm::DNS_DOMAIN);
    let answer = dig_through_coredns(kube, record_type, &name).await?;
    readiness::judge_lookup(&answer, None)
        .and_then(|addresses| match addresses.contains(&expected) {
            true => Ok(()),
            false => Err(format!("answered {addresses:?}, not {expected}")),
        })
        .map_err(|reason| format!("CoreDNS lookup of {record_type} {name}: {reason}"))
}

/// The external name `--wait` looks up, through DNS64 in an ipv6 cluster.
async fn lookup_external(kube: &Kube<'_>) -> Result<(), String> {
    let name = wait_lookup_name(kube.config());
    let readiness::LookupQuery {
        record_type,
        synthesized_under,
    } = readiness::wait_lookup_query(kube.plan);
    let answer = dig_through_coredns(kube, record_type, name).await?;
    readiness::judge_lookup(&answer, synthesized_under)
        .map(|_| ())
        .map_err(|reason| format!("CoreDNS lookup of {record_type} {name}: {reason}"))
}

/// `dig +short` of `name` at CoreDNS's Service address, run on the master; its output.
async fn dig_through_coredns(
    kube: &Kube<'_>,
    record_type: &str,
    name: &str,
) -> Result<String, String> {
    let dns = plan::kubernetes::dns_service_ip(kube.config());
    let server = format!("@{dns}");
    let argv = [
        "dig",
        "+short",
        "+time=2",
        "+tries=1",
        record_type,
        name,
        &server,
    ];
    let out = kube
        .engine
        .exec(&kube.master().container, &argv)
        .await
        .map_err(|e| format!("CoreDNS ({dns}) lookup of {name}: {e:#}"))?;
    Ok(format!("{}{}", out.stdout, out.stderr))
}

fn summary(pending: &[String]) -> String {
    match pending.len() {
        1 => pending[0].clone(),
        n => format!("{} (and {} more)", pending[0], n - 1),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

pub(crate) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::config_from_env;

    fn internal(vars: &[(&str, &str)]) -> String {
        let config = config_from_env(vars);
        internal_api_server(&plan::plan(&config), &config)
    }

    fn admin_conf() -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/kubeconfig/admin.conf");
        std::fs::read_to_string(path).expect("the golden admin.conf")
    }

    #[test]
    fn the_internal_server_is_the_masters_cluster_address_of_the_primary_family() {
        assert_eq!(internal(&[]), "https://[fd00:20::2]:6443");
        assert_eq!(
            internal(&[("CLUSTER_ID", "3")]),
            "https://[fd00:20:3::2]:6443"
        );
        assert_eq!(internal(&[("IP_MODE", "ipv4")]), "https://10.192.0.2:6443");
        // Dual-stack: the first service CIDR's family, IPv6 by default.
        assert_eq!(
            internal(&[("IP_MODE", "dual-stack")]),
            "https://[fd00:20::2]:6443"
        );
        assert_eq!(
            internal(&[
                ("IP_MODE", "dual-stack"),
                ("SERVICE_CIDR", "10.96.0.0/12,fd00:30::/110")
            ]),
            "https://10.192.0.2:6443"
        );
    }

    #[test]
    fn only_a_dual_stack_clusters_internal_server_draws_a_note_naming_its_family() {
        let note = |server: Server, vars: &[(&str, &str)]| {
            let config = config_from_env(vars);
            server.dual_stack_note(&plan::plan(&config), &config)
        };
        let dual = ("IP_MODE", "dual-stack");
        assert_eq!(
            note(Server::Internal, &[dual]).as_deref(),
            Some(
                "dual-stack: the server is the master's IPv6 address, of the primary family \
                 (the first --service-cidr's)"
            )
        );
        let v4_first = ("SERVICE_CIDR", "10.96.0.0/12,fd00:30::/110");
        let v4_note = note(Server::Internal, &[dual, v4_first]).expect("a note");
        assert!(v4_note.contains("master's IPv4 address"), "{v4_note}");
        assert_eq!(note(Server::Published, &[dual]), None);
        assert_eq!(note(Server::Internal, &[]), None);
        assert_eq!(note(Server::Internal, &[("IP_MODE", "ipv4")]), None);
    }

    #[test]
    fn the_internal_kubeconfig_names_the_masters_address_and_keeps_the_credentials() {
        let config = config_from_env(&[]);
        let server = internal_api_server(&plan::plan(&config), &config);
        let text = kubeconfig::rewrite_admin(&admin_conf(), "dind", &server).unwrap();
        let doc: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
        let cluster = &doc["clusters"][0]["cluster"];
        assert_eq!(
            cluster["server"].as_str(),
            Some("https://[fd00:20::2]:6443")
        );
        assert!(cluster["certificate-authority-data"].as_str().is_some());
        assert!(doc["users"][0]["user"]["client-key-data"]
            .as_str()
            .is_some());
    }
}

//! End to end on live Kubernetes clusters, built from the Kubernetes kit
//! (`.ci/kubernetes-kit`, or DIND_E2E_KUBERNETES_FROM) with no Internet: kubeadm, the
//! kubelet and containerd in nodes that are not privileged, pods reaching the simulated
//! Internet through DNS64/NAT64 and directly, Services, storage, `dind load`, the registry,
//! kubectl through the published API port. Needs root and a Docker daemon (`bash
//! .ci/setup`). Clusters 81-86 (NAT64 prefix 10.100: 10.(100+id).0.0/16).

use crate::support::kube::{kubernetes_kit, pod_image, pod_manifest, KubeCluster};
use crate::support::*;
use anyhow::Context;
use std::time::{Duration, Instant};

const V4ONLY: &str = "v4only.example.test";
const DUAL: &str = "dual.example.test";
const POD_START: Duration = Duration::from_secs(120);

/// Arguments every cluster of the suite takes: a NAT64 prefix that fits its ids, and the
/// probe `--wait` resolves through CoreDNS (a name of the simulated Internet).
fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--nat64-v4-prefix", "10.100"];
    args.extend_from_slice(extra);
    args
}

/// A config file naming the probe `--wait` looks up, beside the flags.
fn probe_config(dir: &std::path::Path) -> String {
    let path = dir.join("probes.yaml");
    std::fs::write(
        &path,
        format!("apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nprobes: [{V4ONLY}, {DUAL}]\n"),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

/// Each node's name, whether it is Ready, and its InternalIPs.
fn node_addresses(cluster: &KubeCluster) -> anyhow::Result<Vec<(String, bool, Vec<String>)>> {
    let nodes = cluster.get_json(&["nodes"])?;
    let empty = Vec::new();
    let list = |value: &serde_json::Value| value.as_array().unwrap_or(&empty).clone();
    Ok(list(&nodes["items"])
        .iter()
        .map(|node| {
            let name = node["metadata"]["name"].as_str().unwrap_or("?").to_string();
            let ready = list(&node["status"]["conditions"])
                .iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True");
            let internal = list(&node["status"]["addresses"])
                .iter()
                .filter(|a| a["type"] == "InternalIP")
                .filter_map(|a| a["address"].as_str().map(str::to_string))
                .collect();
            (name, ready, internal)
        })
        .collect())
}

/// Every kube-system and local-path-storage pod, with its phase.
fn system_pods(cluster: &KubeCluster) -> anyhow::Result<Vec<(String, String)>> {
    let pods = cluster.get_json(&["pods", "--all-namespaces"])?;
    Ok(pods["items"]
        .as_array()
        .context("kubectl get pods: no items")?
        .iter()
        .filter(|p| {
            matches!(
                p["metadata"]["namespace"].as_str(),
                Some("kube-system" | "local-path-storage")
            )
        })
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap_or("?").to_string(),
                p["status"]["phase"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect())
}

/// The families of a node's InternalIPs a mode gives it.
type Families = fn(&[String]) -> bool;
const IPV6_ONLY: Families = |a| !a.is_empty() && a.iter().all(|a| a.contains(':'));
const IPV4_ONLY: Families = |a| !a.is_empty() && a.iter().all(|a| a.contains('.'));
const BOTH: Families = |a| a.iter().any(|a| a.contains(':')) && a.iter().any(|a| a.contains('.'));

/// `expected` nodes, each Ready with the mode's address families, and every system pod
/// (CoreDNS among them) running; or what is not so yet.
fn nodes_ready_with(
    cluster: &KubeCluster,
    expected: usize,
    families: Families,
) -> Result<(), String> {
    let nodes = node_addresses(cluster).map_err(|e| format!("kubectl get nodes: {e:#}"))?;
    if nodes.len() != expected {
        return Err(format!(
            "{} node(s), not {expected}: {nodes:?}",
            nodes.len()
        ));
    }
    for (name, ready, addresses) in &nodes {
        if !ready {
            return Err(format!("node {name} is not Ready: {nodes:?}"));
        }
        if !families(addresses) {
            return Err(format!("node {name} has InternalIPs {addresses:?}"));
        }
    }
    let pods = system_pods(cluster).map_err(|e| format!("kubectl get pods: {e:#}"))?;
    if !pods.iter().any(|(name, _)| name.starts_with("coredns-")) {
        return Err(format!("no CoreDNS pod: {pods:?}"));
    }
    match pods.iter().find(|(_, phase)| phase != "Running") {
        Some((name, phase)) => Err(format!("{name} is {phase}: {pods:?}")),
        None => Ok(()),
    }
}

fn assert_nodes_ready_with(cluster: &KubeCluster, expected: usize, families: Families) {
    if let Err(why) = nodes_ready_with(cluster, expected, families) {
        panic!("{why}");
    }
}

/// The test image, put into cluster `id`'s nodes with `dind load` (the pods never pull
/// it); its tag.
async fn load_pod_image(id: u8) -> String {
    let image = pod_image().await.unwrap();
    let id = id.to_string();
    let out = dind(&["load", "docker-image", &image, "--cluster-id", &id], &[]);
    assert!(out.status.success(), "dind load: {}", stderr(&out));
    image
}

/// A Service `echo` (port 80) over two backends, one on each node, and a client pod on the
/// worker: what the Service checks use.
struct Workload {
    service_ip: String,
    /// Pod name -> its address.
    backends: Vec<(String, String)>,
}

async fn start_workload(cluster: &KubeCluster, image: &str) -> Workload {
    let master = cluster.node("kube-master");
    let worker = cluster.node("kube-node-1");
    let manifests = [
        pod_manifest("client", image, &worker, &[], &[]),
        pod_manifest(
            "echo-local",
            image,
            &worker,
            &[("app", "echo")],
            &["serve"],
        ),
        pod_manifest(
            "echo-remote",
            image,
            &master,
            &[("app", "echo")],
            &["serve"],
        ),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: echo\nspec:\n  selector:\n    app: echo\n  \
         ports:\n  - port: 80\n    targetPort: 8080\n"
            .to_string(),
    ];
    cluster
        .apply(&manifests.join("---\n"))
        .expect("kubectl apply the workload");
    let mut backends = Vec::new();
    for name in ["client", "echo-local", "echo-remote"] {
        let pod = cluster
            .wait_running(name, POD_START)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        if name != "client" {
            backends.push((
                name.to_string(),
                pod["status"]["podIP"].as_str().unwrap().to_string(),
            ));
        }
    }
    let service = cluster.get_json(&["service", "echo"]).unwrap();
    Workload {
        service_ip: service["spec"]["clusterIP"].as_str().unwrap().to_string(),
        backends,
    }
}

/// `curl` from the client pod; the body.
fn fetch(cluster: &KubeCluster, url: &str) -> String {
    cluster
        .exec("client", &["curl", "-sS", "--max-time", "10", url])
        .unwrap_or_else(|e| panic!("fetching {url} from the client pod: {e:#}"))
        .trim()
        .to_string()
}

/// `http://HOST:PORT/`, an IPv6 address in brackets.
fn url_at(host: &str, port: u16) -> String {
    match host.contains(':') {
        true => format!("http://[{host}]:{port}/"),
        false => format!("http://{host}:{port}/"),
    }
}

fn url_of(host: &str) -> String {
    url_at(host, 80)
}

/// Both backends answer through the Service at `host` (its address or name), the one on
/// the client's own node and the one on the other.
async fn service_reaches_both_backends(cluster: &KubeCluster, workload: &Workload, host: &str) {
    let url = url_of(host);
    let mut seen: Vec<String> = Vec::new();
    // kube-proxy programs a new Service within a second or two of its endpoints.
    wait_for(
        &format!("both echo backends to answer at {url}"),
        Duration::from_secs(60),
        async || {
            let body = match cluster.exec("client", &["curl", "-sS", "--max-time", "5", &url]) {
                Ok(body) => body,
                Err(err) => return Ok(Check::NotYet(format!("{err:#}"))),
            };
            let backend = body
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            if !seen.contains(&backend) {
                seen.push(backend);
            }
            Ok(
                if workload
                    .backends
                    .iter()
                    .all(|(name, _)| seen.contains(name))
                {
                    Check::Done(())
                } else {
                    Check::NotYet(format!("answers from {seen:?}"))
                },
            )
        },
    )
    .await
    .unwrap();
}

/// A pod reaching another pod directly keeps its own address.
fn pod_to_pod_keeps_the_address(cluster: &KubeCluster, workload: &Workload) {
    let client = cluster.get_json(&["pod", "client"]).unwrap();
    let client_ip = client["status"]["podIP"].as_str().unwrap();
    let client_ip: std::net::IpAddr = client_ip.parse().unwrap();
    for (name, address) in &workload.backends {
        let body = fetch(cluster, &url_at(address, 8080));
        // socat writes IPv6 addresses in full, an IPv4 client as mapped: compared as
        // addresses.
        let seen = body.split_whitespace().collect::<Vec<_>>();
        assert_eq!(seen.first(), Some(&name.as_str()), "{body}");
        let peer = seen
            .get(1)
            .and_then(|a| a.parse::<std::net::IpAddr>().ok())
            .map(|a| a.to_canonical());
        assert_eq!(
            peer,
            Some(client_ip),
            "{name} saw another address than the client pod's: {body}"
        );
    }
}

/// The ipv6 suite's scenario, as a user would check it: a cluster with `--allow-aaaa` and
/// the registry, one worker.
#[tokio::test(flavor = "multi_thread")]
async fn an_ipv6_cluster_reaches_ipv4_sites_through_nat64_and_ipv6_sites_directly() {
    let _serial = serial().await;
    let wan = Wan::start().await.expect("simulated Internet");
    let engine = engine().await;
    let kit = kubernetes_kit();
    let before = HostState::capture();
    let dir = tempfile::tempdir().unwrap();
    let config = probe_config(dir.path());
    let id = 81;
    let extra = args(&[
        "--nodes",
        "1",
        "--allow-aaaa",
        "--registry",
        "--egress-interface",
        HOST_IF,
        "--config",
        &config,
    ]);

    let started = Instant::now();
    let cluster = KubeCluster::up(id, &extra).unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!(
        "ipv6 cluster Ready in {:.1?} (kit {})",
        started.elapsed(),
        kit.display()
    );

    // Nodes Ready with IPv6 addresses only; every system pod runs; a default StorageClass.
    assert_nodes_ready_with(&cluster, 2, IPV6_ONLY);
    let classes = cluster.get_json(&["storageclass"]).unwrap();
    assert_eq!(
        classes["items"][0]["metadata"]["annotations"]
            ["storageclass.kubernetes.io/is-default-class"],
        "true",
        "{classes}"
    );

    let image = load_pod_image(id).await;
    let workload = start_workload(&cluster, &image).await;

    // CoreDNS answers cluster names, and external ones through DNS64.
    let dig = |name: &str, kind: &str| {
        cluster
            .exec(
                "client",
                &["dig", "+short", "+time=2", "+tries=2", kind, name],
            )
            .unwrap()
            .trim()
            .to_string()
    };
    assert_eq!(
        dig("echo.default.svc.cluster.local", "AAAA"),
        workload.service_ip
    );
    assert_eq!(dig(V4ONLY, "AAAA"), WAN_V4_SYNTHESIZED);
    // --allow-aaaa: a real AAAA passes through.
    assert_eq!(dig(DUAL, "AAAA"), WAN_V6);

    // An IPv4-only site by name, through NAT64: the origin sees the host's IPv4 address,
    // and tayga maps a new client.
    let tayga = format!("tayga-cluster-{id}");
    let mapped_before = nat64_clients(&engine, &tayga).await;
    assert_eq!(fetch(&cluster, &url_of(V4ONLY)), HOST_V4);
    let mapped_after = wait_for(
        "tayga to log its mapping",
        Duration::from_secs(10),
        async || {
            let now = nat64_clients(&engine, &tayga).await;
            Ok(if now.len() > mapped_before.len() {
                Check::Done(now)
            } else {
                Check::NotYet(format!("{now:?}"))
            })
        },
    )
    .await
    .unwrap();
    // A dual-stack site directly over IPv6: the origin sees the host's IPv6 address, and
    // tayga maps nobody new.
    assert_eq!(fetch(&cluster, &url_of(DUAL)), HOST_V6);
    assert_eq!(nat64_clients(&engine, &tayga).await, mapped_after);
    assert!(wan
        .origin_log()
        .await
        .contains(&format!("client={HOST_V6}")));
    // Ping on both paths.
    for name in [V4ONLY, DUAL] {
        cluster
            .exec("client", &["ping", "-c", "1", "-W", "5", name])
            .unwrap_or_else(|e| panic!("ping {name}: {e:#}"));
    }

    // A ClusterIP Service, by address and by name, answered on both nodes; pod to pod keeps
    // the client's address.
    service_reaches_both_backends(&cluster, &workload, &workload.service_ip).await;
    service_reaches_both_backends(&cluster, &workload, "echo.default.svc.cluster.local").await;
    pod_to_pod_keeps_the_address(&cluster, &workload);

    // kubectl logs and exec through the published API port, with `dind kubeconfig`.
    let logs = cluster.kubectl(&["logs", "echo-local"]).unwrap();
    assert!(
        logs.contains("serve: listening on 8080 as echo-local"),
        "{logs}"
    );
    assert!(logs.contains("serve: answered"), "{logs}");
    assert_eq!(
        cluster.exec("client", &["hostname"]).unwrap().trim(),
        "client"
    );

    // The registry: an image pushed to localhost:PORT runs in a pod that pulls it.
    let registry = format!("localhost:{}", 5001 + id as u16);
    let pushed = format!("{registry}/e2e-pod:1");
    push_to_registry(&image, &pushed).await;
    cluster
        .apply(
            &pod_manifest("pulled", &pushed, &cluster.node("kube-node-1"), &[], &[])
                .replace("imagePullPolicy: Never", "imagePullPolicy: Always"),
        )
        .unwrap();
    cluster
        .wait_running("pulled", POD_START)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    // The default StorageClass binds a claim, and a pod writes to it.
    cluster
        .apply(&storage_manifest(&image))
        .expect("kubectl apply the claim");
    wait_for(
        "the claim's pod to write its volume",
        POD_START,
        async || {
            let pod = cluster.get_json(&["pod", "writer"])?;
            Ok(match pod["status"]["phase"].as_str() {
                Some("Succeeded") => Check::Done(()),
                phase => Check::NotYet(format!("{phase:?}: {}", pod["status"])),
            })
        },
    )
    .await
    .unwrap();
    let claim = cluster.get_json(&["pvc", "data"]).unwrap();
    assert_eq!(claim["status"]["phase"], "Bound", "{claim}");

    // A second `up` changes nothing: the same containers, started at the same time, the
    // same API server (no second kubeadm init), the workload as it was.
    let started_at = async || {
        let mut times = Vec::new();
        for node in [cluster.node("kube-master"), cluster.node("kube-node-1")] {
            let state = engine
                .inspect_container(&node)
                .await
                .unwrap()
                .unwrap()
                .state;
            times.push(state.and_then(|s| s.started_at));
        }
        times
    };
    let apiserver_uid = || {
        let name = format!("kube-apiserver-{}", cluster.node("kube-master"));
        cluster
            .get_json(&["pod", "-n", "kube-system", &name])
            .unwrap()["metadata"]["uid"]
            .clone()
    };
    let (containers_before, times_before, apiserver_before) = (
        labelled(&engine, id).await,
        started_at().await,
        apiserver_uid(),
    );
    let client_before = cluster.get_json(&["pod", "client"]).unwrap()["metadata"]["uid"].clone();
    let out = cluster.dind_up(&extra);
    assert!(out.status.success(), "second up: {}", stderr(&out));
    assert_eq!(labelled(&engine, id).await, containers_before);
    assert_eq!(started_at().await, times_before);
    assert_eq!(apiserver_uid(), apiserver_before);
    let client = cluster.get_json(&["pod", "client"]).unwrap();
    assert_eq!(client["metadata"]["uid"], client_before);
    assert_eq!(client["status"]["phase"], "Running");

    // `dind status` shows the versions the node image records.
    let out = dind(&["status", "--cluster-id", &id.to_string()], &[]);
    let status = stdout(&out);
    let version = std::fs::read_to_string(kit.join("kubernetes/version")).unwrap();
    for shown in [
        format!("kubeadm {}", version.trim()),
        "etcd ".to_string(),
        "coredns ".to_string(),
        "containerd ".to_string(),
    ] {
        assert!(status.contains(&shown), "status lacks {shown:?}:\n{status}");
    }

    // `dind check network` passes on the live cluster.
    let (passed, checks) = check_network(id, &[V4ONLY, DUAL]).unwrap();
    assert!(passed, "failed checks: {:?}", failed_checks(&checks));

    // `down` leaves nothing.
    let out = cluster.down();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(labelled(&engine, id).await, (vec![], vec![]));
    assert_eq!(HostState::capture(), before);
}

/// `docker push` of `image` under `target`, through the Docker API.
async fn push_to_registry(image: &str, target: &str) {
    use futures_util::StreamExt;
    let docker = docker().await;
    let (repo, tag) = target.rsplit_once(':').unwrap();
    docker
        .tag_image(
            image,
            Some(
                bollard::query_parameters::TagImageOptionsBuilder::default()
                    .repo(repo)
                    .tag(tag)
                    .build(),
            ),
        )
        .await
        .expect("tag for the registry");
    let mut push = docker.push_image(
        target,
        Some(
            bollard::query_parameters::PushImageOptionsBuilder::default()
                .tag(tag)
                .build(),
        ),
        None,
    );
    while let Some(item) = push.next().await {
        let info = item.unwrap_or_else(|e| panic!("push {target}: {e}"));
        assert!(info.error_detail.is_none(), "push {target}: {info:?}");
    }
}

/// A claim of the default class and a pod that writes to it and ends.
fn storage_manifest(image: &str) -> String {
    format!(
        "apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Mi
---
apiVersion: v1
kind: Pod
metadata:
  name: writer
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: {image}
    imagePullPolicy: Never
    command: [sh, -c, 'echo written > /data/file && cat /data/file']
    volumeMounts:
    - name: data
      mountPath: /data
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: data
"
    )
}

/// What the dual-stack and ipv4 suites check on a cluster of `mode` with one worker: nodes
/// Ready with the mode's families, the system pods running, the Service on both nodes by
/// address and name, pod to pod, an external name through CoreDNS and the site it names.
async fn a_cluster_of_mode_works(id: u8, mode: &str, families: Families) {
    let _serial = serial().await;
    let _wan = Wan::start().await.expect("simulated Internet");
    let engine = engine().await;
    let before = HostState::capture();
    let dir = tempfile::tempdir().unwrap();
    let config = probe_config(dir.path());
    let extra = args(&["--nodes", "1", "--ip-mode", mode, "--config", &config]);
    let started = Instant::now();
    let cluster = KubeCluster::up(id, &extra).unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!("{mode} cluster Ready in {:.1?}", started.elapsed());
    assert_nodes_ready_with(&cluster, 2, families);

    let image = load_pod_image(id).await;
    let workload = start_workload(&cluster, &image).await;
    service_reaches_both_backends(&cluster, &workload, &workload.service_ip).await;
    service_reaches_both_backends(&cluster, &workload, "echo.default.svc.cluster.local").await;
    pod_to_pod_keeps_the_address(&cluster, &workload);

    // The external name through CoreDNS, and the site over IPv4: the origin sees the host.
    let answer = cluster
        .exec(
            "client",
            &["dig", "+short", "+time=2", "+tries=2", "A", V4ONLY],
        )
        .unwrap();
    assert_eq!(answer.trim(), WAN_V4);
    assert_eq!(fetch(&cluster, &url_of(V4ONLY)), HOST_V4);

    let out = cluster.down();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(labelled(&engine, id).await, (vec![], vec![]));
    assert_eq!(HostState::capture(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dual_stack_cluster_has_both_families_and_its_services_answer() {
    a_cluster_of_mode_works(82, "dual-stack", BOTH).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ipv4_cluster_has_ipv4_nodes_and_its_services_answer() {
    a_cluster_of_mode_works(83, "ipv4", IPV4_ONLY).await;
}

/// `up` killed with SIGKILL while kubeadm init runs (no rollback can run), then `down`: the
/// host is exactly as before, and nothing of the cluster is left in Docker.
#[tokio::test(flavor = "multi_thread")]
async fn an_up_killed_during_kubeadm_init_is_undone_by_down() {
    use std::io::{BufRead, BufReader};
    let _serial = serial().await;
    let engine = engine().await;
    let id = 84;
    let guard = KubeCluster::guard(id);
    let before = (
        HostState::capture(),
        docker_objects(&engine).await,
        docker_volumes().await,
    );
    let up = guard.up_args(&args(&["--nodes", "1"]));
    let up: Vec<&str> = up.iter().map(String::as_str).collect();
    let mut child = spawn_dind(&up, &[]);
    let progress = child.stderr.take().expect("piped");
    let mut seen = Vec::new();
    for line in BufReader::new(progress).lines() {
        let line = line.expect("dind's stderr");
        let init = line.starts_with("Initializing the control plane (kubeadm init)");
        seen.push(line);
        if init {
            break;
        }
    }
    assert!(
        seen.last().is_some_and(|l| l.contains("kubeadm init")),
        "up ended before kubeadm init: {seen:#?}"
    );
    // Well into kubeadm init: its certificates, manifests and the kubelet are being made.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "up ended before it was killed"
    );
    sh(&["kill", "-KILL", &child.id().to_string()]).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );

    let out = guard.down();
    assert!(out.status.success(), "down: {}", stderr(&out));
    assert_eq!(labelled(&engine, id).await, (vec![], vec![]));
    let after = (
        HostState::capture(),
        docker_objects(&engine).await,
        docker_volumes().await,
    );
    assert_eq!(after, before);
}

/// A single-node cluster (kind's single-node label rule) survives a restart of the Docker
/// daemon: Ready again, its pods running, without `dind up`. Only a daemon that .ci/setup
/// started is restarted; on a GitHub runner, whose daemon is the runner's, this is said and
/// not run.
#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_is_ready_again_after_the_docker_daemon_restarts() {
    use crate::faults::restart::{restart, DaemonUp, RecordedDaemon};
    let _serial = serial().await;
    let daemon = match RecordedDaemon::read() {
        Ok(daemon) => daemon,
        Err(_) if std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") => {
            eprintln!("NOT RUN on a GitHub runner: its Docker daemon is the runner's own");
            return;
        }
        Err(err) => panic!("the daemon .ci/setup started: {err:#}"),
    };
    let _daemon_up = DaemonUp {
        engine: daemon.engine.clone(),
    };
    // No probes, and github.com unknown to the simulated Internet's DNS: `--wait` passes
    // on the cluster's own names, and says that outside names do not resolve.
    let _wan = Wan::start().await.expect("simulated Internet");
    let cluster = KubeCluster::guard(85);
    let out = cluster.dind_up(&args(&["--nodes", "0"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the cluster is ready, but CoreDNS lookup of AAAA github.com"),
        "{}",
        stderr(&out)
    );
    cluster.write_kubeconfig().unwrap();
    let master = cluster.node("kube-master");
    let labels = cluster.get_json(&["node", &master]).unwrap()["metadata"]["labels"].clone();
    assert!(
        labels
            .get("node.kubernetes.io/exclude-from-external-load-balancers")
            .is_none(),
        "a single node keeps kubeadm's exclusion from load balancers: {labels}"
    );
    assert_nodes_ready_with(&cluster, 1, IPV6_ONLY);

    let (_daemon, started) = restart(&daemon).await.unwrap_or_else(|e| panic!("{e:#}"));
    // One look sees the node Ready with its IPv6 address and every system pod running, all
    // through the API server's published port. A later look may find a control-plane pod
    // restarting once more (the controller manager gives up a leadership it could not renew
    // while the API server was away), which is the cluster settling, not failing.
    let ready = wait_for(
        "the cluster to be Ready again after the daemon's restart",
        Duration::from_secs(180),
        async || {
            Ok(match nodes_ready_with(&cluster, 1, IPV6_ONLY) {
                Ok(()) => Check::Done(started.elapsed()),
                Err(why) => Check::NotYet(why),
            })
        },
    )
    .await
    .unwrap();
    eprintln!("Ready again {ready:.1?} after the daemon started");
}

/// `--wait` that runs out rolls the cluster back: here the config's probe is a name with
/// only an AAAA record, which DNS64 (without --allow-aaaa) never answers.
#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_not_ready_within_wait_is_rolled_back() {
    let _serial = serial().await;
    let _wan = Wan::start().await.expect("simulated Internet");
    let engine = engine().await;
    let id = 86;
    let guard = KubeCluster::guard(id);
    let before = (HostState::capture(), docker_volumes().await);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("probes.yaml");
    std::fs::write(
        &config,
        "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nprobes: [v6only.example.test]\n",
    )
    .unwrap();
    let mut up = guard.up_args(&args(&[
        "--nodes",
        "0",
        "--config",
        &config.to_string_lossy(),
    ]));
    let wait = up.iter().position(|a| a == "--wait").unwrap();
    up[wait + 1] = "20s".to_string();
    let up: Vec<&str> = up.iter().map(String::as_str).collect();
    let out = dind(&up, &[]);
    assert!(!out.status.success(), "up passed: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the cluster was not ready within 20s"),
        "{err}"
    );
    assert!(err.contains("v6only.example.test"), "{err}");
    assert!(
        err.contains("everything this run created was removed again"),
        "{err}"
    );
    assert_eq!(labelled(&engine, id).await, (vec![], vec![]));
    assert_eq!((HostState::capture(), docker_volumes().await), before);
}

//! End to end: `dind export logs` on a running cluster, `dind doctor` on this Docker host,
//! and `status` and `down` on forged record labels. Needs root and a Docker daemon
//! (`bash .ci/setup`). Cluster ids 50-59; the NAT64 network is 10.(100+id).0.0/16, since
//! 172.(18+id) is refused above id 13.

use crate::support::*;
use dind::config::{Layer, Origin, Sourced};
use dind::engine::docker::Engine;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::Output;

const NAT64: &str = "10.100";

/// `dind export logs DIR --cluster-id ID`.
fn export_logs(dir: &Path, id: u8) -> Output {
    let dir = dir.to_str().expect("a UTF-8 temporary path");
    dind(
        &["export", "logs", dir, "--cluster-id", &id.to_string()],
        &[],
    )
}

/// `dind doctor ARGS -o json`, its findings parsed.
fn doctor(args: &[&str]) -> (Output, Vec<Value>) {
    let mut argv = vec!["doctor"];
    argv.extend_from_slice(args);
    argv.extend(["-o", "json"]);
    let out = dind(&argv, &[]);
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor -o json printed no JSON ({e}):\n{}\n{}",
            stdout(&out),
            stderr(&out)
        )
    });
    (out, findings)
}

fn finding<'a>(findings: &'a [Value], check: &str) -> &'a Value {
    findings
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check} finding: {findings:#?}"))
}

fn has_finding(findings: &[Value], check: &str) -> bool {
    findings.iter().any(|f| f["check"] == check)
}

/// Containers and networks labelled as cluster `id`'s (helpers included).
async fn cluster_objects(engine: &Engine, id: u8) -> (usize, usize) {
    let id = id.to_string();
    let filter = [(dind::labels::CLUSTER, id.as_str())];
    (
        engine.containers_with(&filter).await.unwrap().len(),
        engine.networks_with(&filter).await.unwrap().len(),
    )
}

fn archive_entries(archive: &Path) -> Vec<String> {
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(archive).expect("the archive"));
    tar::Archive::new(gz)
        .entries()
        .expect("a tar archive")
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test(flavor = "multi_thread")]
async fn export_logs_holds_mappings_queries_and_host_rules_of_a_running_cluster() {
    let _serial = serial().await;
    let _wan = Wan::start().await.expect("simulated Internet");
    let engine = engine().await;
    let before = HostState::capture();
    let cluster = Cluster::up(
        50,
        &[
            "--nat64-v4-prefix",
            NAT64,
            "--nodes",
            "1",
            "--allow-aaaa",
            "--egress-interface",
            HOST_IF,
        ],
    )
    .expect("dind up");
    let node = cluster.name("kube-node-1");
    let pod = Pod::create(&engine, &node, "pod-export")
        .await
        .expect("pod");
    // An A-only name: DNS64 logs the query and tayga maps the node (pods are masqueraded
    // to their node first).
    assert_eq!(
        pod.fetch("http://v4only.example.test/").await.unwrap(),
        HOST_V4
    );

    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join("export");
    let out = export_logs(&dir, 50);
    assert!(out.status.success(), "{}", stderr(&out));
    let archive = tmp.path().join("export.tar.gz");
    assert!(dir.is_dir() && archive.is_file(), "{}", stdout(&out));
    assert!(stdout(&out).contains("export.tar.gz"), "{}", stdout(&out));

    let tayga = cluster.name("tayga");
    let bind9 = cluster.name("bind9");
    let entries = archive_entries(&archive);
    let mut expected: Vec<String> = [
        "host/dind-rules.txt",
        "host/ip6tables.txt",
        "host/iptables.txt",
        "host/routes.txt",
        "cluster/record.json",
        "cluster/status.json",
    ]
    .iter()
    .map(|f| format!("export/{f}"))
    .collect();
    for container in [&tayga, &bind9, &node, &cluster.name("kube-master")] {
        for file in [
            "logs.txt",
            "inspect.json",
            "resolv.conf",
            "ip-addr.txt",
            "ip-route.txt",
            "iptables.txt",
            "ip6tables.txt",
        ] {
            expected.push(format!("export/{container}/{file}"));
        }
    }
    for file in ["tayga.conf", "dynamic.map", "mappings.txt"] {
        expected.push(format!("export/{tayga}/{file}"));
    }
    for file in ["named.conf", "querylog-sample.txt"] {
        expected.push(format!("export/{bind9}/{file}"));
    }
    for path in &expected {
        assert!(entries.contains(path), "{path} is not in {entries:#?}");
    }
    assert!(
        !entries.iter().any(|e| e.contains("host-helper")),
        "helpers are not exported: {entries:#?}"
    );

    let node_address = "fd00:20:50::3";
    let mappings = read(&dir.join(&tayga).join("mappings.txt"));
    let dynamic_map = read(&dir.join(&tayga).join("dynamic.map"));
    assert!(
        mappings.contains(node_address) || dynamic_map.contains(node_address),
        "tayga's mappings lack {node_address}:\n{mappings}\n{dynamic_map}"
    );
    let queries = read(&dir.join(&bind9).join("querylog-sample.txt"));
    assert!(queries.contains("v4only.example.test"), "{queries}");
    assert!(read(&dir.join(&bind9).join("named.conf")).contains("dns64 fd00:10:64:ff9b::/96"));
    assert!(read(&dir.join(&tayga).join("tayga.conf")).contains("dynamic-pool 10.150.0.128/25"));
    assert!(
        read(&dir.join(&node).join("ip-route.txt")).contains("fd00:10:64:ff9b::/96 via"),
        "node routes"
    );
    assert!(read(&dir.join(&node).join("resolv.conf")).contains("fd00:20:50::100"));
    // The NAT64 image has no iptables: the file says so instead of failing the export.
    assert!(read(&dir.join(&tayga).join("iptables.txt")).contains("iptables-save"));

    let rules = read(&dir.join("host/dind-rules.txt"));
    assert!(
        rules
            .lines()
            .any(|l| l.contains("MASQUERADE") && l.contains("dind:cluster=50")),
        "{rules}"
    );
    assert!(read(&dir.join("host/routes.txt")).contains("10.150.0.128/25 via 10.150.0.200"));
    let record: Value = serde_json::from_str(&read(&dir.join("cluster/record.json"))).unwrap();
    assert_eq!(record["config"]["clusterId"], 50);
    assert_eq!(record["config"]["egressInterface"], HOST_IF);
    let status: Value = serde_json::from_str(&read(&dir.join("cluster/status.json"))).unwrap();
    assert_eq!(status[0]["aaaaPolicy"], "pass-real-aaaa");
    let inspect: Value =
        serde_json::from_str(&read(&dir.join(&tayga).join("inspect.json"))).unwrap();
    assert_eq!(inspect["Name"], format!("/{tayga}"));

    let out = cluster.down();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(cluster_objects(&engine, 50).await, (0, 0));
    assert_eq!(HostState::capture(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn export_logs_of_a_missing_cluster_fails_clearly() {
    let _serial = serial().await;
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join("export");
    let out = export_logs(&dir, 54);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no dind cluster 54 here"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.exists(), "nothing is written for a missing cluster");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_fails_on_a_foreign_network_that_overlaps() {
    let _serial = serial().await;
    let engine = engine().await;
    let name = "dind-e2e-foreign-51";
    let network = ForeignNetwork::create(&engine, name, "fd00:20:51::/64").await;

    let (out, findings) = doctor(&["--cluster-id", "51", "--nat64-v4-prefix", NAT64]);
    assert!(!out.status.success(), "an overlap fails the doctor");
    let overlap = finding(&findings, "subnet-overlap");
    assert_eq!(overlap["status"], "fail", "{overlap:#}");
    let detail = overlap["detail"].as_str().unwrap();
    assert!(
        detail.contains(name) && detail.contains("fd00:20:51::/64"),
        "{detail}"
    );
    assert!(
        overlap["hint"].as_str().unwrap().contains("--mgmt-cidrs"),
        "{overlap:#}"
    );
    // The bridge's own route is the same overlap; it is not reported a second time.
    assert!(!detail.contains("host route"), "{detail}");

    let table = dind(
        &["doctor", "--cluster-id", "51", "--nat64-v4-prefix", NAT64],
        &[],
    );
    assert!(!table.status.success());
    assert!(
        stdout(&table).contains("✗ subnet-overlap"),
        "{}",
        stdout(&table)
    );

    drop(network);
    assert!(engine.inspect_network(name).await.unwrap().is_none());
    assert_eq!(cluster_objects(&engine, 51).await, (0, 0));
}

/// What the host itself says, read here: the tests run on the Docker host.
struct Uplink {
    interface: String,
    ipv6_default: bool,
    from_ra: bool,
    accept_ra: String,
    forwarding: bool,
}

fn uplink() -> Uplink {
    let default_dev = |family: &str| {
        sh(&["ip", family, "route", "show", "default"])
            .expect("`ip route` runs on the host")
            .split_whitespace()
            .skip_while(|w| *w != "dev")
            .nth(1)
            .map(str::to_string)
    };
    let interface = default_dev("-6")
        .or_else(|| default_dev("-4"))
        .expect("this host has a default route");
    let v6_default = sh(&["ip", "-6", "route", "show", "default", "dev", &interface])
        .expect("`ip -6 route` runs on the host");
    let proc = |path: String| {
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .trim()
            .to_string()
    };
    Uplink {
        ipv6_default: !v6_default.trim().is_empty(),
        from_ra: v6_default.contains("proto ra"),
        accept_ra: proc(format!("/proc/sys/net/ipv6/conf/{interface}/accept_ra")),
        forwarding: proc("/proc/sys/net/ipv6/conf/all/forwarding".into()) == "1",
        interface,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_passes_for_an_unused_cluster_id_and_reports_the_hosts_uplink() {
    let _serial = serial().await;
    let engine = engine().await;
    let before = HostState::capture();
    let objects = docker_objects(&engine).await;

    let (out, findings) = doctor(&["--cluster-id", "52", "--nat64-v4-prefix", NAT64]);
    // Kubernetes nodes run on either cgroup version, without --privileged: doctor says
    // which version, and how nodes run.
    let cgroup_v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let cgroup = finding(&findings, "cgroup")["detail"].as_str().unwrap();
    assert!(
        cgroup.starts_with(if cgroup_v2 { "cgroup v2" } else { "cgroup v1" }),
        "{findings:#?}"
    );
    let privilege = finding(&findings, "node-privilege")["detail"]
        .as_str()
        .unwrap();
    assert!(
        privilege.contains("without --privileged") && privilege.contains("SYS_ADMIN"),
        "{findings:#?}"
    );
    assert!(out.status.success(), "{findings:#?}\n{}", stderr(&out));
    for check in [
        "cgroup",
        "node-privilege",
        "daemon",
        "ipv6",
        "iptables-backend",
        "daemon-ipv6-nat",
        "daemon-firewall",
        "forward-policy",
        "userland-proxy",
        "tun",
        "subnet-overlap",
    ] {
        assert_eq!(finding(&findings, check)["status"], "ok", "{findings:#?}");
    }
    assert!(!has_finding(&findings, "egress-interface"), "{findings:#?}");
    assert!(finding(&findings, "subnet-overlap")["detail"]
        .as_str()
        .unwrap()
        .contains("fd00:20:52::/64"));

    // With --allow-aaaa and no --egress-interface: the host's default route's interface.
    let host = uplink();
    let (out, findings) = doctor(&[
        "--cluster-id",
        "52",
        "--nat64-v4-prefix",
        NAT64,
        "--allow-aaaa",
    ]);
    let egress = finding(&findings, "egress-interface");
    assert_eq!(egress["status"], "ok");
    assert!(egress["detail"].as_str().unwrap().contains(&host.interface));
    let expect = |ok: bool| if ok { "ok" } else { "warn" };
    assert_eq!(
        finding(&findings, "ipv6-default-route")["status"],
        expect(host.ipv6_default),
        "{findings:#?}"
    );
    assert_eq!(
        finding(&findings, "ipv6-forwarding")["status"],
        expect(host.forwarding),
        "{findings:#?}"
    );
    // Switching forwarding on would drop a router-advertised route at once; with
    // forwarding on already, it lapses when it expires.
    let ra = match (host.accept_ra == "1" && host.from_ra, host.forwarding) {
        (true, false) => "fail",
        (true, true) => "warn",
        (false, _) => "ok",
    };
    assert_eq!(
        finding(&findings, "accept-ra")["status"],
        ra,
        "{findings:#?}"
    );
    assert_eq!(out.status.success(), ra != "fail", "{findings:#?}");

    // What `up` gathers before it judges: its helpers are gone afterwards.
    let flag = |value: &str, name| Some(Sourced::new(value, Origin::Flag(name)));
    let config = dind::config::validate(Layer {
        cluster_id: flag("52", "--cluster-id"),
        nat64_v4_prefix: flag(NAT64, "--nat64-v4-prefix"),
        ..Layer::default()
    })
    .expect("a valid config");
    let phase = dind::progress::Progress::hidden().phase("preflight");
    let facts = dind::preflight::gather(&engine, &config, &dind::plan::plan(&config), &phase)
        .await
        .expect("the host's facts");
    assert_eq!(facts.tun, Some(Ok(true)), "this host has /dev/net/tun");

    assert_eq!(docker_objects(&engine).await, objects, "no helper is left");
    assert_eq!(HostState::capture(), before, "doctor changes nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_fails_naming_a_missing_egress_interface() {
    let _serial = serial().await;
    let engine = engine().await;
    let (out, findings) = doctor(&[
        "--cluster-id",
        "53",
        "--nat64-v4-prefix",
        NAT64,
        "--allow-aaaa",
        "--egress-interface",
        "nosuchif0",
    ]);
    assert!(!out.status.success());
    let egress = finding(&findings, "egress-interface");
    assert_eq!(egress["status"], "fail");
    assert!(
        egress["detail"].as_str().unwrap().contains("nosuchif0"),
        "{egress:#}"
    );
    assert!(
        egress["hint"]
            .as_str()
            .unwrap()
            .contains("--egress-interface"),
        "{egress:#}"
    );
    assert!(
        !has_finding(&findings, "ipv6-default-route"),
        "nothing more is said about a missing interface: {findings:#?}"
    );
    assert_eq!(cluster_objects(&engine, 53).await, (0, 0));
}

/// A node image whose build records its package versions (the Kubernetes target does) gets
/// them as labels, its temporary tag is gone, and `dind status` shows them.
#[tokio::test(flavor = "multi_thread")]
async fn status_shows_the_versions_the_node_image_recorded() {
    let _serial = serial().await;
    let engine = engine().await;
    let progress = dind::progress::Progress::hidden();
    let base = dind::engine::images::ImageKind::NodeBase.spec();
    progress
        .run("build", async |phase| {
            dind::engine::images::ensure(&engine, &base, phase).await
        })
        .await
        .expect("node base image");
    let dockerfile = format!(
        "FROM {} AS kubernetes\n\
         RUN printf 'kubeadm=v1.36.4\\ncontainerd.io=2.2.1-1\\n' >/etc/dind/image-versions\n",
        base.tag
    );
    let spec = dind::engine::images::ImageSpec::new(
        "e2e-versioned-node",
        vec![("Dockerfile".to_string(), dockerfile.into_bytes())],
        Some("kubernetes"),
        Vec::new(),
    );
    progress
        .run("build", async |phase| {
            dind::engine::images::build(&engine, &spec, phase).await
        })
        .await
        .expect("the versioned image builds");
    let labels = docker()
        .await
        .inspect_image(&spec.tag)
        .await
        .unwrap()
        .config
        .and_then(|c| c.labels)
        .unwrap_or_default();
    assert_eq!(
        labels
            .get("io.github.dind.version.kubeadm")
            .map(String::as_str),
        Some("v1.36.4")
    );
    assert!(
        !dind::engine::images::exists(&engine, &format!("{}-unlabelled", spec.tag))
            .await
            .unwrap(),
        "the temporary tag is removed"
    );

    let cluster = Cluster::up(
        53,
        &[
            "--nat64-v4-prefix",
            NAT64,
            "--nodes",
            "0",
            "--node-image",
            &spec.tag,
        ],
    )
    .expect("dind up with the versioned image");
    let out = dind(&["status", "--cluster-id", "53"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "node image {}: containerd.io 2.2.1-1, kubeadm v1.36.4",
            spec.tag
        )),
        "{text}"
    );
    drop(cluster);
    let _ = docker()
        .await
        .remove_image(
            &spec.tag,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await;
}

/// Networks labelled as a cluster's, with whatever record the test forges; removed on drop.
struct LabelledNetworks {
    engine: Engine,
    names: Vec<String>,
}

impl LabelledNetworks {
    async fn create(&mut self, name: &str, labels: HashMap<String, String>) {
        let _ = self.engine.remove_network(name).await;
        docker()
            .await
            .create_network(bollard::models::NetworkCreateRequest {
                name: name.to_string(),
                driver: Some("bridge".into()),
                labels: Some(labels),
                ..Default::default()
            })
            .await
            .expect("create a labelled network");
        self.names.push(name.to_string());
    }

    async fn remove(&mut self, name: &str) {
        self.engine.remove_network(name).await.expect("remove it");
        self.names.retain(|n| n != name);
    }
}

impl Drop for LabelledNetworks {
    fn drop(&mut self) {
        let (engine, names) = (self.engine.clone(), std::mem::take(&mut self.names));
        block_on_thread(async move {
            for name in names {
                if let Err(err) = engine.remove_network(&name).await {
                    eprintln!("cannot remove the network {name}: {err:#}");
                }
            }
        });
    }
}

/// The record JSON a real `up --cluster-id ID` writes (ipv4 mode: no NAT64 prefix to fit).
fn record_json(id: u8) -> serde_json::Value {
    use dind::config::{validate, Layer, Origin, Sourced};
    let flag = |name, value: &str| Some(Sourced::new(value, Origin::Flag(name)));
    let config = validate(Layer {
        cluster_id: flag("--cluster-id", &id.to_string()),
        ip_mode: flag("--ip-mode", "ipv4"),
        kubernetes: flag("--kubernetes", "false"),
        ..Default::default()
    })
    .expect("a valid configuration");
    let record = dind::labels::Record {
        config,
        enabled_ipv6_forwarding: false,
        ip6_forward_policy: None,
        kubeconfig: None,
        api_server_port: None,
        proxy: Default::default(),
    };
    let labels = record.labels(dind::labels::Role::Network);
    serde_json::from_str(&labels[dind::labels::RECORD]).expect("the record is JSON")
}

fn forged_labels(id: &str, record: &str) -> HashMap<String, String> {
    HashMap::from([
        (dind::labels::CLUSTER.to_string(), id.to_string()),
        (dind::labels::ROLE.to_string(), "network".to_string()),
        (dind::labels::RECORD.to_string(), record.to_string()),
    ])
}

/// A failure dind reports, not a panic (exit code 101).
fn assert_refused(out: &Output, what: &str, expected: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{what}: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    for text in expected {
        assert!(err.contains(text), "{what}: no {text:?} in:\n{err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn status_and_down_refuse_a_forged_record_label_without_a_panic() {
    let _serial = serial().await;
    let engine = engine().await;
    let mut networks = LabelledNetworks {
        engine: engine.clone(),
        names: Vec::new(),
    };
    // Cluster 58 is healthy: a record exactly as dind writes it.
    networks
        .create(
            "dind-e2e-record-58",
            forged_labels("58", &record_json(58).to_string()),
        )
        .await;

    let forged = "dind-e2e-forged-57";
    let mut out_of_range = record_json(57);
    out_of_range["config"]["clusterId"] = 57.into();
    out_of_range["config"]["nodes"] = 255.into();
    let mut newer = record_json(57);
    newer["version"] = 3.into();
    let cases = [
        (
            "garbage JSON",
            "{not json".to_string(),
            "it is not a dind record",
        ),
        (
            "nodes out of range",
            out_of_range.to_string(),
            "255 worker nodes is more than 250",
        ),
        (
            "a future version",
            newer.to_string(),
            "written by a newer dind (record version 3",
        ),
    ];
    for (what, record, reason) in cases {
        networks.create(forged, forged_labels("57", &record)).await;
        let names = [
            format!("the label io.github.dind.record of network {forged} is unusable"),
            reason.to_string(),
        ];
        let names: Vec<&str> = names.iter().map(String::as_str).collect();

        let out = dind(&["status", "--cluster-id", "57"], &[]);
        assert_refused(&out, what, &names);
        assert_eq!(
            stdout(&out),
            "",
            "{what}: no table for an unreadable cluster"
        );

        // Every other cluster is still listed; the forged one is reported beside it.
        let out = dind(&["status"], &[]);
        assert_refused(&out, what, &names);
        assert!(
            stdout(&out).contains("cluster 58  network kubeadm-dind-net-cluster-58  mode ipv4"),
            "{what}: {}",
            stdout(&out)
        );

        let out = dind(&["down", "--cluster-id", "57"], &[]);
        assert_refused(&out, what, &names);
        if reason.contains("newer") {
            assert!(
                stderr(&out).contains("use that dind version"),
                "{}",
                stderr(&out)
            );
        } else {
            assert!(
                stderr(&out).contains(&format!(
                    "remove it with `docker network rm {forged}`, then `dind down --cluster-id 57`"
                )),
                "{}",
                stderr(&out)
            );
        }
        let still_there = engine
            .networks_with(&[(dind::labels::CLUSTER, "57")])
            .await
            .unwrap();
        assert_eq!(still_there.len(), 1, "{what}: down touched nothing");
        networks.remove(forged).await;
    }

    // A cluster label that is no id at all.
    networks
        .create("dind-e2e-forged-id", forged_labels("999", "{}"))
        .await;
    let out = dind(&["status"], &[]);
    assert_refused(
        &out,
        "cluster label 999",
        &["the label io.github.dind.cluster of network dind-e2e-forged-id is unusable: '999' is not a cluster id"],
    );
    drop(networks);
    assert_eq!(cluster_objects(&engine, 57).await, (0, 0));
    assert_eq!(cluster_objects(&engine, 58).await, (0, 0));
}

/// Names of cluster `id`'s host helper containers, with their owner labels.
async fn helpers_of(engine: &Engine, id: u8) -> Vec<(String, String)> {
    let id = id.to_string();
    let filter = [
        (dind::labels::CLUSTER, id.as_str()),
        (
            dind::labels::ROLE,
            dind::labels::Role::HostHelper.as_label(),
        ),
    ];
    engine
        .containers_with(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|c| {
            let owner = c
                .labels
                .unwrap_or_default()
                .get(dind::labels::OWNER)
                .cloned()
                .unwrap_or_default();
            let name = c.names.unwrap_or_default().join(",");
            (name, owner)
        })
        .collect()
}

async fn node_base_image(engine: &Engine) -> String {
    let base = dind::engine::images::ImageKind::NodeBase.spec();
    dind::progress::Progress::hidden()
        .run("build", async |phase| {
            dind::engine::images::ensure(engine, &base, phase).await
        })
        .await
        .expect("node base image");
    base.tag
}

#[tokio::test(flavor = "multi_thread")]
async fn host_helper_is_removed_after_an_error_a_panic_and_a_dropped_future() {
    use dind::engine::host::HostNet;
    const ID: u8 = 59;
    let _serial = serial().await;
    let engine = engine().await;
    let image = node_base_image(&engine).await;
    assert!(
        helpers_of(&engine, ID).await.is_empty(),
        "a leftover helper"
    );

    let err = HostNet::with(&engine, &image, ID, async |host| -> anyhow::Result<()> {
        assert_eq!(helpers_of(&engine, ID).await.len(), 1, "the helper runs");
        host.run(&["ip".to_string(), "link".to_string()]).await?;
        anyhow::bail!("failed on purpose")
    })
    .await
    .unwrap_err();
    assert_eq!(err.to_string(), "failed on purpose");
    assert_eq!(helpers_of(&engine, ID).await, [], "removed after an error");

    let (panicking_engine, panicking_image) = (engine.clone(), image.clone());
    let panicked = tokio::spawn(async move {
        HostNet::with(
            &panicking_engine,
            &panicking_image,
            ID,
            async |_| -> anyhow::Result<()> { panic!("panicked on purpose") },
        )
        .await
    })
    .await
    .unwrap_err();
    assert!(panicked.is_panic());
    assert_eq!(helpers_of(&engine, ID).await, [], "removed after a panic");

    // What a Ctrl-C or a failed sibling in a join does: the future is dropped mid-use.
    let (started, running) = tokio::sync::oneshot::channel();
    let work = HostNet::with(&engine, &image, ID, async |_| -> anyhow::Result<()> {
        let _ = started.send(());
        std::future::pending().await
    });
    tokio::select! {
        _ = work => panic!("the work never ends"),
        _ = running => {}
    }
    // The drop removes the container in a task of its own; wait for it, up to a deadline.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !helpers_of(&engine, ID).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "a dropped helper was not removed: {:?}",
            helpers_of(&engine, ID).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_check_network_leaves_no_helper_and_up_removes_strays() {
    const ID: u8 = 60;
    let _serial = serial().await;
    let _wan = Wan::start().await.expect("simulated Internet");
    let engine = engine().await;
    let image = node_base_image(&engine).await;

    // A helper of a dind process that was killed: its owner is a pid that has exited.
    let mut gone = std::process::Command::new("true")
        .spawn()
        .expect("true runs");
    let gone_pid = gone.id();
    gone.wait().expect("true ends");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let stray = "dind-host-helper-60-e2e-stray";
    engine.remove_container(stray).await.unwrap();
    let body = bollard::models::ContainerCreateBody {
        image: Some(image.clone()),
        entrypoint: Some(vec!["sleep".into()]),
        cmd: Some(vec!["infinity".into()]),
        labels: Some(std::collections::HashMap::from([
            (dind::labels::CLUSTER.to_string(), ID.to_string()),
            (
                dind::labels::ROLE.to_string(),
                dind::labels::Role::HostHelper.as_label().to_string(),
            ),
            (
                dind::labels::OWNER.to_string(),
                format!("{}/{gone_pid}", host.trim()),
            ),
        ])),
        ..Default::default()
    };
    let named = bollard::query_parameters::CreateContainerOptionsBuilder::default()
        .name(stray)
        .build();
    docker()
        .await
        .create_container(Some(named), body)
        .await
        .unwrap();
    assert_eq!(helpers_of(&engine, ID).await.len(), 1);

    let cluster = Cluster::up(ID, &["--nat64-v4-prefix", NAT64, "--nodes", "0"]).expect("dind up");
    assert_eq!(
        helpers_of(&engine, ID).await,
        [],
        "up removed the stray helper"
    );

    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dind"));
    for var in dind::config::env_var_names() {
        command.env_remove(var);
    }
    let mut child = command
        .args([
            "check",
            "network",
            "--cluster-id",
            "60",
            "--host-resolver",
            WAN_V4,
            "v4only.example.test",
            "dual.example.test",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("dind check network runs");
    let owner = format!("{}/{}", host.trim(), child.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let helpers = helpers_of(&engine, ID).await;
        if helpers.iter().any(|(_, o)| *o == owner) {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "check network ended before its helper was seen"
        );
        assert!(std::time::Instant::now() < deadline, "no helper appeared");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    sh(&["kill", "-INT", &child.id().to_string()]).expect("SIGINT");
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    assert_eq!(helpers_of(&engine, ID).await, [], "no helper outlives dind");
    drop(cluster);
    assert_eq!(cluster_objects(&engine, ID).await, (0, 0));
}

//! End to end: `--nat64-engine dind-nat64`, dind's own translator in the NAT64 container.
//! Clusters 71 and 72, with `--nat64-v4-prefix 10.100`.

use crate::support::*;
use std::path::Path;

const NAT64: &str = "10.100";
const V4ONLY_URL: &str = "http://v4only.example.test/";
/// The program `up` places: the dind binary the suites run, which answers to the
/// translator's name.
fn dind_itself() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_dind"))
}

fn sha256_of_file(path: &Path) -> String {
    let out = sh(&["sha256sum", &path.to_string_lossy()]).expect("sha256sum");
    out.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn dind_nat64_translates_for_pods_and_is_what_the_nat64_container_runs() {
    let _serial = serial().await;
    let _wan = Wan::start().await.expect("simulated Internet");
    let engine = engine().await;
    let before = HostState::capture();

    let args = ["--nat64-engine", "dind-nat64", "--nat64-v4-prefix", NAT64];
    let cluster = Cluster::up(71, &args).expect("dind up --nat64-engine dind-nat64");
    let nat64 = cluster.name("tayga");

    // The container keeps its name and runs dind's program, not tayga.
    let cmdline = engine
        .exec_ok(&nat64, &["sh", "-c", "tr '\\0' ' ' </proc/1/cmdline"])
        .await
        .unwrap();
    assert_eq!(
        cmdline.trim(),
        "/usr/local/bin/dind-nat64 --config /etc/tayga.conf",
        "PID 1 of {nat64}"
    );
    let tayga = engine.exec(&nat64, &["pidof", "tayga"]).await.unwrap();
    assert!(!tayga.success(), "tayga runs in {nat64}: {}", tayga.stdout);
    // The program is dind itself, placed executable.
    let placed = engine
        .exec_ok(
            &nat64,
            &[
                "sh",
                "-c",
                "stat -c %a /usr/local/bin/dind-nat64 && sha256sum /usr/local/bin/dind-nat64",
            ],
        )
        .await
        .unwrap();
    let mut lines = placed.lines();
    assert_eq!(lines.next(), Some("755"), "{placed}");
    let sum = lines.next().unwrap_or_default();
    assert!(
        sum.starts_with(&sha256_of_file(dind_itself())),
        "{sum} is not the sum of {}",
        dind_itself().display()
    );
    // Its tun device has the flags dind-nat64 needs, which tayga's --mktun does not set.
    let link = engine
        .exec_ok(&nat64, &["ip", "-d", "link", "show", "dev", "nat64"])
        .await
        .unwrap();
    assert!(link.contains("vnet_hdr on"), "{link}");
    assert!(link.contains("multi_queue"), "{link}");

    // A pod fetches an IPv4-only name through it; the origin sees the host's IPv4.
    let pod = Pod::create(&engine, &cluster.name("kube-node-1"), "pod-engine")
        .await
        .expect("pod");
    assert_eq!(
        pod.aaaa("v4only.example.test").await.unwrap(),
        WAN_V4_SYNTHESIZED
    );
    assert_eq!(pod.fetch(V4ONLY_URL).await.unwrap(), HOST_V4);
    let mapped = nat64_clients(&engine, &nat64).await;
    assert!(
        mapped.contains(&"fd00:20:71::3".to_string()),
        "dind-nat64 logged no mapping of kube-node-1 (fd00:20:71::3): {mapped:?}"
    );

    // status and check network name the engine the record holds.
    let status = dind(&["status", "--cluster-id", "71"], &[]);
    assert!(status.status.success(), "{}", stderr(&status));
    assert!(
        stdout(&status).contains("NAT64 engine dind-nat64"),
        "{}",
        stdout(&status)
    );
    let (passed, checks) = check_network(71, &["v4only.example.test"]).unwrap();
    assert!(passed, "failed: {:?}", failed_checks(&checks));
    let to_nat64 = checks
        .iter()
        .find(|c| c["check"] == "node→nat64")
        .expect("a node→nat64 check");
    assert!(
        to_nat64["detail"]
            .as_str()
            .unwrap_or_default()
            .starts_with("dind-nat64 translates"),
        "{to_nat64}"
    );

    // A second `up` keeps the container (the program is not placed again).
    let id = |engine: &dind::engine::docker::Engine| {
        let engine = engine.clone();
        let nat64 = nat64.clone();
        async move {
            engine
                .inspect_container(&nat64)
                .await
                .unwrap()
                .and_then(|c| c.id)
                .expect("the NAT64 container exists")
        }
    };
    let first = id(&engine).await;
    let again = dind(&up_args("71", &args), &[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(id(&engine).await, first, "a second up re-created {nat64}");

    drop(pod);
    let out = cluster.down();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(labelled(&engine, 71).await, (vec![], vec![]));
    assert_eq!(HostState::capture(), before, "down restores the host");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_dind_nat64_program_fails_before_anything_is_made() {
    let _serial = serial().await;
    let engine = engine().await;
    let before = HostState::capture();
    let objects = docker_objects(&engine).await;
    let args = up_args(
        "72",
        &["--nat64-engine", "dind-nat64", "--nat64-v4-prefix", NAT64],
    );

    // Named by DIND_NAT64_BINARY: invalid input.
    let out = dind(&args, &[("DIND_NAT64_BINARY", "/nonexistent")]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("DIND_NAT64_BINARY '/nonexistent'"), "{err}");
    assert!(
        err.contains("cargo build --release --bin dind-nat64"),
        "{err}"
    );

    // Not an executable: the path and what it is not.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("dind-nat64");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    let out = dind(&args, &[("DIND_NAT64_BINARY", &script.to_string_lossy())]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is not an executable (ELF) file"), "{err}");

    assert_eq!(labelled(&engine, 72).await, (vec![], vec![]));
    // Nothing new (an earlier test's fixture may still be on its way out).
    let (containers, networks) = docker_objects(&engine).await;
    let new_containers: Vec<_> = containers
        .iter()
        .filter(|c| !objects.0.contains(c))
        .collect();
    let new_networks: Vec<_> = networks.iter().filter(|n| !objects.1.contains(n)).collect();
    assert!(new_containers.is_empty(), "{new_containers:?}");
    assert!(new_networks.is_empty(), "{new_networks:?}");
    assert_eq!(HostState::capture(), before);
}

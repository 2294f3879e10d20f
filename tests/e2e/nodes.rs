//! End to end: kind's `nodes:` list in a dind config file, with `--no-kubernetes` (these
//! machines cannot run Kubernetes). A node's extraPortMappings answer on the Docker host,
//! its extraMounts show the host's files (read-only where asked), a second `up` keeps
//! them, and `down` leaves nothing; a bad entry is refused by its field path, changing
//! nothing. Needs root and a Docker daemon (`bash .ci/setup`).
//!
//! Cluster ids 65-67 only, with `--nat64-v4-prefix 10.100` (NAT64 network 10.165-167/16).

use crate::support::*;
use anyhow::{bail, Result};
use dind::engine::docker::Engine;
use std::io::{Read, Write};
use std::net::{Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

const NAT64: &str = "10.100";

/// A free port on the host's IPv6 loopback, for TCP and UDP alike (none listens on it now).
fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).expect("bind ::1");
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind((Ipv6Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
}

/// The first line a TCP server at [::1]:`port` sends.
fn tcp_greeting(port: u16) -> Result<String> {
    greeting(SocketAddr::from((Ipv6Addr::LOCALHOST, port)))
}

/// What a TCP server at `address` sends.
fn greeting(address: SocketAddr) -> Result<String> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    Ok(text.trim().to_string())
}

/// The answer of a UDP server at [::1]:`port` to one datagram.
fn udp_answer(port: u16, message: &str) -> Result<String> {
    let socket = UdpSocket::bind((Ipv6Addr::LOCALHOST, 0))?;
    socket.set_read_timeout(Some(Duration::from_millis(500)))?;
    socket.send_to(message.as_bytes(), (Ipv6Addr::LOCALHOST, port))?;
    let mut buffer = [0u8; 512];
    let (len, _) = socket.recv_from(&mut buffer)?;
    Ok(String::from_utf8_lossy(&buffer[..len]).trim().to_string())
}

/// Polls `probe` until it returns `expected` (a listener just started may not be up yet).
async fn answers(what: &str, expected: &str, probe: impl Fn() -> Result<String>) -> Result<()> {
    wait_for(what, Duration::from_secs(20), async || {
        Ok(match probe() {
            Ok(seen) if seen == expected => Check::Done(()),
            Ok(seen) => Check::NotYet(format!("answered {seen:?}")),
            Err(err) => Check::NotYet(err.to_string()),
        })
    })
    .await
}

/// Starts `socat` in `node` as a daemon of its own (its output detached, so exec returns).
async fn serve(engine: &Engine, node: &str, socat_args: &str) -> Result<()> {
    let script = format!("setsid socat {socat_args} </dev/null >/dev/null 2>&1 &");
    engine.exec_ok(node, &["sh", "-c", &script]).await?;
    Ok(())
}

struct Paths {
    _dir: tempfile::TempDir,
    read_only: std::path::PathBuf,
    writable: std::path::PathBuf,
    config: String,
}

/// A read-only share with a file in it, a writable share, and the config naming them.
fn kind_config(tcp_master: u16, udp_master: u16, tcp_worker: u16) -> Paths {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let read_only = dir.path().join("ro");
    let writable = dir.path().join("rw");
    std::fs::create_dir(&read_only).unwrap();
    std::fs::create_dir(&writable).unwrap();
    std::fs::write(read_only.join("hello.txt"), "from the host\n").unwrap();
    let text = format!(
        "apiVersion: dind.k8s.io/v1alpha1
kind: Cluster
nodes:
- role: control-plane
  extraPortMappings:
  - containerPort: 8080
    hostPort: {tcp_master}
  - containerPort: 5353
    hostPort: {udp_master}
    protocol: UDP
  extraMounts:
  - hostPath: {ro}
    containerPath: /mnt/ro
    readOnly: true
- role: worker
  labels:
    tier: db
  extraPortMappings:
  - containerPort: 8080
    hostPort: {tcp_worker}
    listenAddress: \"::\"
  extraMounts:
  - hostPath: {rw}
    containerPath: /mnt/rw
",
        ro = read_only.display(),
        rw = writable.display(),
    );
    let config = dir.path().join("kind.yaml");
    std::fs::write(&config, text).unwrap();
    Paths {
        config: config.to_string_lossy().into_owned(),
        read_only,
        writable,
        _dir: dir,
    }
}

async fn check_ports(tcp_master: u16, udp_master: u16, tcp_worker: u16) -> Result<()> {
    answers("the master's TCP port", "hello from the master", || {
        tcp_greeting(tcp_master)
    })
    .await?;
    answers("the master's UDP port", "pong", || {
        udp_answer(udp_master, "ping")
    })
    .await?;
    answers(
        "the worker's TCP port on ::",
        "hello from the worker",
        || tcp_greeting(tcp_worker),
    )
    .await
}

async fn start_listeners(engine: &Engine, master: &str, worker: &str) -> Result<()> {
    serve(
        engine,
        master,
        "TCP6-LISTEN:8080,fork,reuseaddr SYSTEM:'echo hello from the master'",
    )
    .await?;
    serve(engine, master, "UDP6-RECVFROM:5353,fork SYSTEM:'echo pong'").await?;
    serve(
        engine,
        worker,
        "TCP6-LISTEN:8080,fork,reuseaddr SYSTEM:'echo hello from the worker'",
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn kind_node_list_publishes_ports_and_mounts_host_paths_and_down_leaves_nothing() {
    let _serial = serial().await;
    let engine = engine().await;
    let (tcp_master, udp_master, tcp_worker) = (free_port(), free_port(), free_port());
    assert!(tcp_master != tcp_worker, "two free ports");
    let paths = kind_config(tcp_master, udp_master, tcp_worker);
    let args = ["--nat64-v4-prefix", NAT64, "--config", &paths.config];
    let cluster = Cluster::up(65, &args).expect("dind up with kind's node list");
    let (master, worker) = (cluster.name("kube-master"), cluster.name("kube-node-1"));
    // The list has one worker.
    let (containers, _) = labelled(&engine, 65).await;
    assert_eq!(
        containers,
        [
            "bind9-cluster-65",
            "kube-master-cluster-65",
            "kube-node-1-cluster-65",
            "tayga-cluster-65"
        ]
    );

    start_listeners(&engine, &master, &worker).await.unwrap();
    check_ports(tcp_master, udp_master, tcp_worker)
        .await
        .unwrap();

    // The host's file is in the master, and the mount is read-only there.
    let seen = engine
        .exec_ok(&master, &["cat", "/mnt/ro/hello.txt"])
        .await
        .unwrap();
    assert_eq!(seen, "from the host\n");
    let write = engine
        .exec(&master, &["sh", "-c", "echo x > /mnt/ro/from-node"])
        .await
        .unwrap();
    assert!(!write.success(), "a read-only mount took a write");
    assert!(
        write.stderr.contains("Read-only file system"),
        "{}",
        write.stderr
    );
    assert!(!paths.read_only.join("from-node").exists());
    // The worker's writable mount carries a file to the host.
    engine
        .exec_ok(
            &worker,
            &["sh", "-c", "echo from the worker > /mnt/rw/from-node"],
        )
        .await
        .unwrap();
    let written = std::fs::read_to_string(paths.writable.join("from-node")).unwrap();
    assert_eq!(written, "from the worker\n");

    // A second `up` of the same config repairs and keeps everything.
    let again = dind(
        &up_args(
            "65",
            &["--nat64-v4-prefix", NAT64, "--config", &paths.config],
        ),
        &[],
    );
    assert!(again.status.success(), "second up: {}", stderr(&again));
    check_ports(tcp_master, udp_master, tcp_worker)
        .await
        .unwrap();
    // One with other nodes is refused, naming them, and leaves the cluster as it was.
    let moved = kind_config(free_port(), udp_master, tcp_worker);
    let other = dind(
        &up_args(
            "65",
            &["--nat64-v4-prefix", NAT64, "--config", &moved.config],
        ),
        &[],
    );
    assert_eq!(other.status.code(), Some(1), "{}", stderr(&other));
    assert!(
        stderr(&other).contains("already exists with other settings (nodes: now"),
        "{}",
        stderr(&other)
    );
    check_ports(tcp_master, udp_master, tcp_worker)
        .await
        .unwrap();

    let out = cluster.down();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(labelled(&engine, 65).await, (vec![], vec![]));
    // Docker no longer publishes the ports.
    for port in [tcp_master, tcp_worker] {
        assert!(
            tcp_greeting(port).is_err(),
            "port {port} still answers after down"
        );
    }
    assert!(UdpSocket::bind((Ipv6Addr::LOCALHOST, udp_master)).is_ok());
    drop(cluster);
}

/// Exit `code` (2 for invalid input, 1 for a host that cannot take it), every fragment in
/// stderr, and no container or network of cluster 66 made.
async fn refused_without_a_trace(config: &str, code: i32, fragments: &[&str]) -> Result<String> {
    let engine = engine().await;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bad.yaml");
    std::fs::File::create(&path)?.write_all(config.as_bytes())?;
    let path = path.to_string_lossy().into_owned();
    let before = docker_objects(&engine).await;
    let out = dind(
        &up_args("66", &["--nat64-v4-prefix", NAT64, "--config", &path]),
        &[],
    );
    let after = docker_objects(&engine).await;
    let err = stderr(&out);
    if out.status.code() != Some(code) {
        // Never leave a cluster behind, whatever went wrong.
        dind(&["down", "--cluster-id", "66"], &[]);
        bail!("expected exit {code}, got {:?}:\n{err}", out.status.code());
    }
    for fragment in fragments {
        if !err.contains(fragment) {
            bail!("stderr lacks {fragment:?}:\n{err}");
        }
    }
    if before != after {
        bail!("the refused up changed Docker: {before:?} -> {after:?}");
    }
    Ok(err)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_node_entry_is_refused_by_its_field_path_and_nothing_is_made() {
    let _serial = serial().await;
    let header = "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\n";
    let bad_entries = format!(
        "{header}nodes:
- role: control-plane
  extraMounts:
  - hostPath: /no/such/dind/e2e/path
    containerPath: /data
- role: worker
  extraPortMappings:
  - containerPort: 80
    hostPort: 70000
"
    );
    let err = refused_without_a_trace(
        &bad_entries,
        2,
        &[
            "invalid nodes[0].extraMounts[0].hostPath '/no/such/dind/e2e/path'",
            "does not exist on this machine (the one running dind)",
            "line 6",
            "invalid nodes[1].extraPortMappings[0].hostPort '70000'",
            "line 11",
            "expected a port from 1 to 65535",
        ],
    )
    .await
    .unwrap();
    assert!(!err.contains("panicked"), "{err}");

    // The file's own problems and the refusals of what it did give, all at once.
    refused_without_a_trace(
        &format!("{header}nodes: [1, 2]\nfoo: bar\nallowAAAA: maybe\n"),
        2,
        &[
            "line 3: nodes: expected a worker count or a list of nodes (kind's `- role: worker`), got a list of numbers",
            "line 4: unknown field `foo`",
            "invalid --allow-aaaa 'maybe' (from key 'allowAAAA' of config file",
        ],
    )
    .await
    .unwrap();

    // A host port something on this machine holds: refused before anything is made.
    let holder = std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).unwrap();
    let held = holder.local_addr().unwrap().port();
    refused_without_a_trace(
        &format!(
            "{header}nodes:\n- role: control-plane\n- role: worker\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: {held}\n"
        ),
        1,
        &[&format!(
            "kube-node-1-cluster-66: TCP port {held} on ::1 (extraPortMappings, containerPort 80) \
             is in use on this machine"
        )],
    )
    .await
    .unwrap();
    drop(holder);

    refused_without_a_trace(
        &format!(
            "{header}nodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 18080\n    listenAddress: 127.0.0.1\n"
        ),
        2,
        &[
            "invalid nodes[0].extraPortMappings[0].listenAddress '127.0.0.1'",
            "in ipv6 mode the nodes have no IPv4 address",
        ],
    )
    .await
    .unwrap();
}

/// Outside ipv6 mode the nodes have their IPv4 address: the default listen address is the
/// host's IPv4 loopback, and it reaches the node.
#[tokio::test(flavor = "multi_thread")]
async fn ipv4_nodes_publish_on_the_ipv4_loopback_by_default() {
    let _serial = serial().await;
    let engine = engine().await;
    let port = loop {
        let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        if std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, port)).is_ok() {
            break port;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kind.yaml");
    std::fs::write(
        &config,
        format!(
            "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nipMode: ipv4\nnodes:\n\
             - role: control-plane\n  extraPortMappings:\n  - containerPort: 8080\n    hostPort: {port}\n"
        ),
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    let cluster = Cluster::up(67, &["--nat64-v4-prefix", NAT64, "--config", &config])
        .expect("dind up in ipv4 mode");
    let master = cluster.name("kube-master");
    serve(
        &engine,
        &master,
        "TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo hello over IPv4'",
    )
    .await
    .unwrap();
    let ipv4 = SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port));
    answers("the master's port on 127.0.0.1", "hello over IPv4", || {
        greeting(ipv4)
    })
    .await
    .unwrap();
    // Published on the IPv4 loopback only.
    assert!(tcp_greeting(port).is_err(), "[::1]:{port} answers too");
    let out = cluster.down();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(labelled(&engine, 67).await, (vec![], vec![]));
}

//! NAT64 on its own, once per NAT64 engine: ICMP, UDP, bulk TCP, path MTU discovery in both
//! directions, ICMP errors whose embedded packet must be translated, and many pods at once.
//! Every check is made from a pod (a network namespace on a node) against the simulated
//! Internet's origin at its synthesized address, [`WAN_V4_SYNTHESIZED`]. Cluster ids 76 to
//! 80 (with `--nat64-v4-prefix 10.100`: 172.18 plus the id would leave 172.16.0.0/12).

use crate::support::*;
use anyhow::{bail, Result};
use futures_util::future::join_all;
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One module of tests per engine, each test calling the body below with the engine's
/// `dind up` arguments.
macro_rules! per_engine {
    ($($engine:ident: [$($arg:literal),*];)+) => {$(
        mod $engine {
            const ENGINE: &[&str] = &[$($arg),*];

            #[tokio::test(flavor = "multi_thread")]
            async fn icmp_echo_passes_and_icmp_errors_reach_the_pod_with_the_embedded_packet_translated() {
                super::icmp_echo_and_errors(ENGINE).await
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn udp_datagrams_up_to_the_pod_mtu_come_back_unchanged() {
                super::udp_echo(ENGINE).await
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn a_50_mib_download_arrives_whole() {
                super::bulk_download(ENGINE).await
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn a_smaller_path_mtu_is_learned_both_ways_through_translated_icmp() {
                super::path_mtu(ENGINE).await
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn fifty_pods_fetch_at_once_through_one_mapping_per_node() {
                super::fifty_pods(ENGINE).await
            }
        }
    )+};
}

per_engine! {
    // Named, so that DIND_E2E_NAT64_ENGINE leaves this module on tayga.
    tayga: ["--nat64-engine", "tayga"];
    dind_nat64: ["--nat64-engine", "dind-nat64"];
}

const NAT64_V4_PREFIX: &str = "10.100";
/// The origin's UDP echo service (origin.py) and a port where nothing listens.
const UDP_ECHO_PORT: &str = "7";
const UDP_CLOSED_PORT: &str = "9";
/// How long a transfer may take: a black hole (a lost Packet Too Big) fails fast.
const TRANSFER_SECONDS: &str = "30";

/// The simulated Internet and a `--no-kubernetes` cluster (two workers) of `engine`.
struct Setup {
    wan: Wan,
    engine: dind::engine::docker::Engine,
    cluster: Cluster,
}

impl Setup {
    async fn up(id: u8, engine_args: &[&str]) -> Setup {
        let wan = Wan::start().await.expect("simulated Internet");
        let engine = engine().await;
        let mut args = vec!["--nat64-v4-prefix", NAT64_V4_PREFIX];
        args.extend_from_slice(engine_args);
        let cluster = Cluster::up(id, &args).expect("dind up");
        Setup {
            wan,
            engine,
            cluster,
        }
    }

    async fn pod(&self, node: &str, name: &str) -> Pod {
        Pod::create(&self.engine, &self.cluster.name(node), name)
            .await
            .unwrap_or_else(|e| panic!("pod {name} on {node}: {e:#}"))
    }

    /// An address on the cluster network, fd00:20:ID::HOST (the id's digits as written).
    fn address(&self, host: u16) -> Ipv6Addr {
        let id = u16::from_str_radix(&self.cluster.id.to_string(), 16).expect("id as hex");
        Ipv6Addr::new(0xfd00, 0x20, id, 0, 0, 0, 0, host)
    }

    /// Worker `k`'s address: fd00:20:ID::(2+k).
    fn worker_address(&self, k: u16) -> Ipv6Addr {
        self.address(2 + k)
    }

    /// The host's address on the cluster network's IPv4 side: the first router behind NAT64.
    fn host_gateway_v4(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 100 + self.cluster.id, 0, 1)
    }
}

/// `v4` under the default DNS64 prefix, fd00:10:64:ff9b::/96.
fn synthesized(v4: Ipv4Addr) -> Ipv6Addr {
    let prefix = u128::from("fd00:10:64:ff9b::".parse::<Ipv6Addr>().unwrap());
    Ipv6Addr::from(prefix | u128::from(u32::from(v4)))
}

/// The origin's counter of ICMP echo requests received (/proc/net/snmp, `Icmp: InEchos`).
async fn origin_echo_requests(wan: &Wan) -> u64 {
    let snmp = wan.exec(&["cat", "/proc/net/snmp"]).await.unwrap();
    let mut icmp = snmp.lines().filter(|l| l.starts_with("Icmp:"));
    let (names, values) = (icmp.next().unwrap(), icmp.next().unwrap());
    let column = names
        .split_whitespace()
        .position(|n| n == "InEchos")
        .expect("an InEchos column");
    values
        .split_whitespace()
        .nth(column)
        .unwrap()
        .parse()
        .unwrap()
}

/// `ping` from the pod: the number of replies it got.
async fn ping(pod: &Pod, args: &[&str]) -> (u32, String) {
    let mut argv = vec!["ping", "-6", "-n"];
    argv.extend_from_slice(args);
    let out = pod.run(&argv).await.unwrap();
    let text = format!("{}{}", out.stdout, out.stderr);
    let received = text
        .lines()
        .find_map(|l| {
            l.split(" received")
                .next()?
                .rsplit(", ")
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0);
    (received, text)
}

async fn icmp_echo_and_errors(engine_args: &[&str]) {
    let _serial = serial().await;
    let setup = Setup::up(76, engine_args).await;
    let pod = setup.pod("kube-node-1", "pod-icmp").await;
    let origin = WAN_V4_SYNTHESIZED;

    // Echo, small and large (1400 bytes of payload: a 1448-byte IPv6 packet).
    let echoes_before = origin_echo_requests(&setup.wan).await;
    for size in ["56", "1400"] {
        let (received, text) = ping(
            &pod,
            &["-c", "3", "-i", "0.2", "-W", "2", "-s", size, origin],
        )
        .await;
        assert_eq!(received, 3, "ping -s {size} {origin} from the pod:\n{text}");
    }
    let echoes = origin_echo_requests(&setup.wan).await - echoes_before;
    assert!(
        echoes >= 6,
        "the origin counted {echoes} echo requests, the pod sent 6"
    );

    // A connected UDP socket gets ECONNREFUSED only when the ICMPv6 port unreachable's
    // embedded packet is the datagram it sent, addresses and ports translated back.
    let out = pod
        .sh(
            "printf closed | socat -t 3 - \"UDP6:[$1]:$2\"",
            &[origin, UDP_CLOSED_PORT],
        )
        .await
        .unwrap();
    assert!(
        !out.success() && out.stderr.contains("Connection refused"),
        "UDP to the origin's closed port {UDP_CLOSED_PORT}: want ECONNREFUSED, got {}{}",
        out.stdout,
        out.stderr
    );

    // Time exceeded from the IPv4 side: with a growing hop limit the pod's ping hears from
    // each router on the way, and the host's IPv4 router behind NAT64 answers from its IPv4
    // address under the NAT64 prefix. ping matches the error to its echo by the embedded one.
    let host_router = synthesized(setup.host_gateway_v4()).to_string();
    let mut hops = Vec::new();
    let mut reached = false;
    for hop_limit in 1..=8 {
        let limit = hop_limit.to_string();
        let (received, text) = ping(&pod, &["-c", "1", "-W", "2", "-t", &limit, origin]).await;
        if received == 1 {
            reached = true;
            break;
        }
        let from = text
            .lines()
            .find(|l| l.contains("Time exceeded"))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("(nothing)")
            .to_string();
        hops.push(from);
    }
    eprintln!("hops to {origin}: {hops:?}, reached: {reached}");
    assert!(
        hops.contains(&host_router),
        "no hop answered as the host's IPv4 router {host_router} (time exceeded translated from ICMPv4): {hops:?}"
    );
    assert!(
        reached,
        "the origin answered no hop limit up to 8: {hops:?}"
    );
}

async fn udp_echo(engine_args: &[&str]) {
    let _serial = serial().await;
    let setup = Setup::up(77, engine_args).await;
    let pod = setup.pod("kube-node-1", "pod-udp").await;

    // 1452 bytes of payload make a 1500-byte IPv6 packet: the pod's MTU, and 1480 bytes on
    // the IPv4 side.
    for size in [8usize, 1400, 1452] {
        let payload: String = (0..size)
            .map(|i| char::from(b'a' + ((i * 7 + size) % 26) as u8))
            .collect();
        let out = pod
            .sh(
                "printf %s \"$3\" | socat -t 3 - \"UDP6:[$1]:$2\"",
                &[WAN_V4_SYNTHESIZED, UDP_ECHO_PORT, &payload],
            )
            .await
            .unwrap();
        assert!(
            out.success(),
            "UDP echo of {size} bytes failed: {}",
            out.stderr
        );
        assert_eq!(
            out.stdout.len(),
            size,
            "the echo of {size} bytes came back with {} bytes",
            out.stdout.len()
        );
        assert!(out.stdout == payload, "the echo of {size} bytes differs");
        let seen = format!("udp-echo: client={HOST_V4} bytes={size}");
        assert!(
            setup.wan.origin_log().await.contains(&seen),
            "the origin did not log `{seen}`"
        );
    }
}

/// GETs `/pattern/SIZE` from the pod: (bytes received, their SHA-256, the origin's SHA-256).
async fn download(pod: &Pod, size: u64, max_time: &str) -> Result<(u64, String, String)> {
    let url = format!("http://[{WAN_V4_SYNTHESIZED}]/pattern/{size}");
    let out = pod
        .run(&[
            "bash",
            "-o",
            "pipefail",
            "-c",
            "curl -sS --max-time \"$1\" -w '%{stderr}%{size_download} %header{x-body-sha256}' \"$2\" | sha256sum",
            "bash",
            max_time,
            &url,
        ])
        .await?;
    if !out.success() {
        bail!("download of {url} failed: {}", out.stderr.trim());
    }
    let (received, expected) = out
        .stderr
        .trim()
        .split_once(' ')
        .unwrap_or((out.stderr.trim(), ""));
    let got = out
        .stdout
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();
    Ok((received.parse()?, got, expected.to_string()))
}

async fn bulk_download(engine_args: &[&str]) {
    let _serial = serial().await;
    let setup = Setup::up(78, engine_args).await;
    let pod = setup.pod("kube-node-1", "pod-bulk").await;
    let size = 50 << 20;
    let (received, got, expected) = download(&pod, size, "60").await.unwrap();
    assert_eq!(received, size, "bytes received of /pattern/{size}");
    assert_eq!(expected.len(), 64, "the origin sent no X-Body-SHA256");
    assert_eq!(
        got, expected,
        "the body's SHA-256 differs from the origin's"
    );
}

async fn path_mtu(engine_args: &[&str]) {
    let _serial = serial().await;
    let setup = Setup::up(79, engine_args).await;
    let origin = WAN_V4_SYNTHESIZED;

    // Upload: the host's route to the origin takes 1300 bytes, so the host answers the
    // pod's 1480-byte IPv4 packets (1500 as IPv6) with ICMPv4 fragmentation needed, which
    // the NAT64 must turn into an ICMPv6 Packet Too Big (MTU 1320) for the pod.
    let up = setup.pod("kube-node-1", "pod-upload").await;
    let route_get = ["ip", "-6", "route", "get", origin];
    let before = up.run(&route_get).await.unwrap().stdout;
    assert!(
        !before.contains(" mtu "),
        "the pod has a path MTU before: {before}"
    );
    let node = setup.cluster.name("kube-node-1");
    let file = "/tmp/nat64-upload";
    let digest = setup
        .engine
        .exec_ok(
            &node,
            &[
                "sh",
                "-c",
                &format!("head -c 8388608 /dev/urandom >{file} && sha256sum {file}"),
            ],
        )
        .await
        .unwrap();
    let digest = digest.split_whitespace().next().unwrap().to_string();
    {
        let _narrow = HostRoute::add(&[&format!("{WAN_V4}/32"), "dev", HOST_IF, "mtu", "1300"])
            .expect("the host route with MTU 1300");
        let out = up
            .run(&[
                "curl",
                "-sS",
                "--max-time",
                TRANSFER_SECONDS,
                "-H",
                "Expect:",
                "-T",
                file,
                &format!("http://[{origin}]/upload"),
            ])
            .await
            .unwrap();
        assert!(
            out.success(),
            "an 8 MiB upload over a 1300-byte IPv4 hop failed (a black hole: fragmentation needed not translated?): {}",
            out.stderr.trim()
        );
        assert_eq!(out.stdout.trim(), format!("bytes=8388608 sha256={digest}"));
        let after = up.run(&route_get).await.unwrap().stdout;
        assert!(
            after.contains(" mtu 1320"),
            "the pod did not learn the path MTU 1320 (1300 + 20) from a translated Packet Too Big: {after}"
        );
    }

    // Download: the pod's node routes the pod's address over 1300 bytes, so it answers the
    // origin's 1500-byte IPv6 packets (1480 as IPv4) with Packet Too Big, which the NAT64
    // must turn into ICMPv4 fragmentation needed (MTU 1280) for the origin.
    let down = setup.pod("kube-node-1", "pod-download").await;
    let to_host = ["ip", "route", "get", HOST_V4];
    let before = setup.wan.exec(&to_host).await.unwrap();
    assert!(
        !before.contains(" mtu "),
        "the origin has a path MTU before: {before}"
    );
    let narrow = format!("{}/128", down.address);
    let route = [
        "ip", "-6", "route", "add", &narrow, "dev", "dind0", "mtu", "1300",
    ];
    setup.engine.exec_ok(&node, &route).await.unwrap();
    let size = 8 << 20;
    let result = download(&down, size, TRANSFER_SECONDS).await;
    let _ = setup
        .engine
        .exec(&node, &["ip", "-6", "route", "del", &narrow])
        .await;
    let (received, got, expected) = result.unwrap_or_else(|e| {
        panic!("an 8 MiB download over a 1300-byte IPv6 hop failed (a black hole: Packet Too Big not translated?): {e:#}")
    });
    assert_eq!(received, size);
    assert_eq!(
        got, expected,
        "the body's SHA-256 differs from the origin's"
    );
    let after = setup.wan.exec(&to_host).await.unwrap();
    assert!(
        after.contains(" mtu 1280"),
        "the origin did not learn the path MTU 1280 (1300 - 20) from a translated fragmentation needed: {after}"
    );
}

async fn fifty_pods(engine_args: &[&str]) {
    let _serial = serial().await;
    let setup = Setup::up(80, engine_args).await;
    let per_node = 25;
    let mut pods = Vec::new();
    for (k, node) in [(1, "kube-node-1"), (2, "kube-node-2")] {
        let names: Vec<String> = (1..=per_node).map(|i| format!("n{k}-p{i:02}")).collect();
        // The first pod makes the node's bridge; the others join it side by side.
        pods.push(setup.pod(node, &names[0]).await);
        for chunk in names[1..].chunks(8) {
            pods.extend(join_all(chunk.iter().map(|name| setup.pod(node, name))).await);
        }
    }
    assert_eq!(pods.len(), 50);

    let size = 2 << 20;
    let fetches = pods.iter().map(|pod| async move {
        let url = format!(
            "http://[{WAN_V4_SYNTHESIZED}]/pattern/{size}?pod={}",
            pod.name
        );
        let out = pod
            .run(&[
                "curl",
                "-sS",
                "--max-time",
                TRANSFER_SECONDS,
                "-o",
                "/dev/null",
                "-w",
                "%{size_download}",
                &url,
            ])
            .await
            .unwrap();
        (pod.name.clone(), out)
    });
    let failed: Vec<String> = join_all(fetches)
        .await
        .into_iter()
        .filter(|(_, out)| !out.success() || out.stdout.trim() != size.to_string())
        .map(|(name, out)| format!("{name}: {}{}", out.stdout, out.stderr.trim()))
        .collect();
    assert!(failed.is_empty(), "fetches that failed: {failed:#?}");

    let log = setup.wan.origin_log().await;
    let seen: BTreeSet<&str> = pods
        .iter()
        .filter(|pod| {
            log.lines().any(|l| {
                l.contains(&format!("client={HOST_V4} "))
                    && l.contains(&format!("?pod={} ", pod.name))
            })
        })
        .map(|pod| pod.name.as_str())
        .collect();
    assert_eq!(
        seen.len(),
        50,
        "the origin saw {} of the 50 pods: {seen:?}",
        seen.len()
    );

    // Pods leave their node masqueraded to its address: the NAT64 maps the two workers
    // (and bind9, for its upstream queries), never a pod.
    let bind9 = setup.address(0x100);
    let mapped: BTreeSet<Ipv6Addr> = nat64_clients(&setup.engine, &setup.cluster.name("tayga"))
        .await
        .iter()
        .map(|a| a.parse().expect("an IPv6 client"))
        .filter(|a| *a != bind9)
        .collect();
    let workers = BTreeSet::from([setup.worker_address(1), setup.worker_address(2)]);
    assert_eq!(mapped, workers, "the NAT64's mappings besides bind9's");
}

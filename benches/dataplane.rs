//! Data-plane benchmark: the NAT64 path (tayga) against the direct IPv6 path
//! (`--allow-aaaa`), from a pod on a worker to the simulated Internet's HTTP origin.
//!
//!     cargo bench --bench dataplane
//!
//! - TCP connect latency: one `docker exec` runs a loop of curl in the pod, alternating the
//!   two paths; curl's `time_connect - time_namelookup` is the TCP handshake alone.
//! - Bulk throughput: GET /bytes/N from the origin (a stream of zeros), curl writing to
//!   /dev/null in the pod; the median of a few runs per path.
//! - Space: NAT64 mapping entries (tayga's "assigned new pool address" log lines) that 50
//!   pods on the workers add with one connection each, per path.
//!
//! Environment: DIND_BENCH_CONNECTIONS (default 1000, at least 1000), DIND_BENCH_BULK_MIB
//! (default 512 per run, at least 256), DIND_BENCH_BULK_RUNS (default 3).

#[path = "../tests/e2e/support/mod.rs"]
mod support;

mod common;

use anyhow::{bail, ensure, Context, Result};
use common::{mean, percentile, ratio, say, table};
use dind::engine::docker::Engine;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use support::{Cluster, Pod, HOST_IF, HOST_V4, HOST_V6, WAN_V4_SYNTHESIZED, WAN_V6};

const NAME: &str = "dataplane";
const CLUSTER_ID: u8 = 60;
/// 172.18 + 60 would leave 172.16.0.0/12: NAT64's IPv4 /16 becomes 10.160.0.0/16.
const NAT64_V4_PREFIX: &str = "10.100";
const SPACE_PODS: usize = 50;
const WARMUP: usize = 20;
const MIB: u64 = 1 << 20;

fn main() -> std::process::ExitCode {
    common::bench_main(NAME, run)
}

fn env_number(var: &str, default: u64, minimum: u64) -> Result<u64> {
    let value = match std::env::var(var) {
        Ok(text) => text
            .trim()
            .parse()
            .with_context(|| format!("{var}={text} is not a number"))?,
        Err(_) => default,
    };
    ensure!(value >= minimum, "{var} must be at least {minimum}");
    Ok(value)
}

/// The two ways out of the cluster, as seen from a pod.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Path {
    Nat64,
    Direct,
}

impl Path {
    const BOTH: [Path; 2] = [Path::Nat64, Path::Direct];

    /// The origin's address on this path: the A-only name's synthesized AAAA, or the
    /// origin's real IPv6 address.
    fn address(self) -> &'static str {
        match self {
            Path::Nat64 => WAN_V4_SYNTHESIZED,
            Path::Direct => WAN_V6,
        }
    }

    fn url(self, path: &str) -> String {
        format!("http://[{}]:80{path}", self.address())
    }

    fn tag(self) -> &'static str {
        match self {
            Path::Nat64 => "nat64",
            Path::Direct => "direct",
        }
    }

    /// The client address the origin sees: the host's IPv4 (NAT64, then Docker's IPv4
    /// masquerade) or the host's IPv6 egress address (dind's IPv6 masquerade).
    fn seen_as(self) -> &'static str {
        match self {
            Path::Nat64 => HOST_V4,
            Path::Direct => HOST_V6,
        }
    }
}

struct Measured {
    connections: usize,
    handshake_ms: [Vec<f64>; 2],
    failures: [usize; 2],
    bulk_bytes: u64,
    /// Bytes per second, one per run.
    bulk_speed: [Vec<f64>; 2],
    nat64_entries: [usize; 2],
    nat64_clients: Vec<String>,
    dns: Vec<(String, String)>,
    load: String,
}

async fn run() -> Result<String> {
    let connections = env_number("DIND_BENCH_CONNECTIONS", 1000, 1000)? as usize;
    let bulk_bytes = env_number("DIND_BENCH_BULK_MIB", 512, 256)? * MIB;
    let bulk_runs = env_number("DIND_BENCH_BULK_RUNS", 3, 1)? as usize;

    let bench = common::exclusive(NAME).await?;
    let (engine, load_before) = (bench.engine.clone(), bench.load_before.clone());
    say(
        NAME,
        &format!("dind up: cluster {CLUSTER_ID}, --allow-aaaa, egress {HOST_IF}"),
    );
    let cluster = Cluster::up(
        CLUSTER_ID,
        &[
            "--allow-aaaa",
            "--egress-interface",
            HOST_IF,
            "--nat64-v4-prefix",
            NAT64_V4_PREFIX,
        ],
    )?;
    let tayga = cluster.name("tayga");
    let workers = [cluster.name("kube-node-1"), cluster.name("kube-node-2")];

    say(NAME, &format!("creating {SPACE_PODS} pods on the workers"));
    let pods = create_pods(&engine, &workers, SPACE_PODS).await?;

    // Space first, on a fresh tayga: each pod connects once through each path.
    let mut nat64_entries = [0; 2];
    for (i, path) in Path::BOTH.into_iter().enumerate() {
        say(
            NAME,
            &format!("space: one connection per pod via {}", path.tag()),
        );
        let before = pool_assignments(&engine, &tayga).await.len();
        stream::iter(&pods)
            .map(|pod| async move {
                let seen = pod.fetch(&path.url("/")).await?;
                ensure!(
                    seen == path.seen_as(),
                    "pod {} via {}: the origin saw {seen}, expected {}",
                    pod.name,
                    path.tag(),
                    path.seen_as()
                );
                Ok(())
            })
            .buffer_unordered(8)
            .try_collect::<Vec<()>>()
            .await?;
        nat64_entries[i] = pool_assignments(&engine, &tayga).await.len() - before;
    }
    let nat64_clients = pool_assignments(&engine, &tayga).await;

    // The addresses used below are what DNS64 hands a pod for the simulated Internet's
    // names (the Wan fixture is up, so these queries stay on this machine).
    let pod = &pods[0];
    let mut dns = Vec::new();
    for (name, expected) in [
        ("v4only.example.test", WAN_V4_SYNTHESIZED),
        ("dual.example.test", WAN_V6),
    ] {
        let answer = pod.aaaa(name).await?;
        ensure!(
            answer == expected,
            "DNS64 answered {answer:?} for {name}, expected {expected}"
        );
        dns.push((name.to_string(), answer));
    }

    say(
        NAME,
        &format!(
            "latency: {connections} connections per path (+{WARMUP} warm-up), in pod {}",
            pod.name
        ),
    );
    let (handshake_ms, failures) = connect_latency(pod, connections).await?;

    let mut bulk_speed = [Vec::new(), Vec::new()];
    for run in 1..=bulk_runs {
        for (i, path) in Path::BOTH.into_iter().enumerate() {
            say(
                NAME,
                &format!(
                    "bulk: run {run}/{bulk_runs}, {} MiB via {}",
                    bulk_bytes / MIB,
                    path.tag()
                ),
            );
            bulk_speed[i].push(bulk(pod, path, bulk_bytes).await?);
        }
    }

    say(NAME, "dind down");
    let measured = Measured {
        connections,
        handshake_ms,
        failures,
        bulk_bytes,
        bulk_speed,
        nat64_entries,
        nat64_clients,
        dns,
        load: load_before,
    };
    drop(cluster);
    Ok(report(&measured))
}

/// Pods named bench-00.. alternately on each worker. The first pod of a node is made
/// alone (it creates the node's CNI bridge), the others a few at a time.
async fn create_pods(engine: &Engine, workers: &[String], count: usize) -> Result<Vec<Pod>> {
    let spec = |i: usize| (workers[i % workers.len()].clone(), format!("bench-{i:02}"));
    let mut pods = Vec::new();
    for i in 0..workers.len().min(count) {
        let (node, name) = spec(i);
        pods.push(Pod::create(engine, &node, &name).await?);
    }
    let rest: Vec<Pod> = stream::iter(workers.len().min(count)..count)
        .map(|i| {
            let (node, name) = spec(i);
            async move { Pod::create(engine, &node, &name).await }
        })
        .buffered(6)
        .try_collect()
        .await?;
    pods.extend(rest);
    Ok(pods)
}

/// The IPv6 clients tayga has mapped into its pool, one per "assigned new pool address
/// A.B.C.D (IPV6)" line of its log.
async fn pool_assignments(engine: &Engine, tayga: &str) -> Vec<String> {
    engine
        .log_tail(tayga, 1_000_000)
        .await
        .lines()
        .filter(|l| l.contains("assigned new pool address"))
        .filter_map(|l| Some(l.rsplit_once('(')?.1.trim_end_matches(')').to_string()))
        .collect()
}

/// TCP handshake times in milliseconds per path, and failed attempts per path. One exec
/// runs the whole loop, so docker exec's overhead stays out of the numbers; the paths
/// alternate, so drift on the host affects both alike.
async fn connect_latency(pod: &Pod, connections: usize) -> Result<([Vec<f64>; 2], [usize; 2])> {
    let mut script = format!(
        "i=0; while [ $i -lt {} ]; do i=$((i+1));",
        connections + WARMUP
    );
    for path in Path::BOTH {
        script.push_str(&format!(
            " curl -s -g -o /dev/null --max-time 5 -w '{} %{{time_namelookup}} %{{time_connect}} ' '{}'; echo $?;",
            path.tag(),
            path.url("/")
        ));
    }
    script.push_str(" done");
    let out = pod.run(&["sh", "-c", &script]).await?;
    ensure!(
        out.success(),
        "the latency loop failed in pod {}: {}",
        pod.name,
        out.stderr.trim()
    );
    let mut samples = [Vec::new(), Vec::new()];
    let mut failures = [0; 2];
    let mut seen = [0usize; 2];
    for line in out.stdout.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [tag, lookup, connect, code] = fields[..] else {
            bail!("unexpected line from the latency loop: {line:?}");
        };
        let i = Path::BOTH
            .iter()
            .position(|p| p.tag() == tag)
            .with_context(|| format!("unexpected path in {line:?}"))?;
        seen[i] += 1;
        if seen[i] <= WARMUP {
            continue;
        }
        if code != "0" {
            failures[i] += 1;
            continue;
        }
        let lookup: f64 = lookup.parse()?;
        let connect: f64 = connect.parse()?;
        samples[i].push((connect - lookup) * 1000.0);
    }
    for (i, path) in Path::BOTH.iter().enumerate() {
        ensure!(
            seen[i] == connections + WARMUP,
            "{} connections via {} reported, expected {}",
            seen[i],
            path.tag(),
            connections + WARMUP
        );
        ensure!(
            !samples[i].is_empty(),
            "every connection via {} failed",
            path.tag()
        );
    }
    Ok((samples, failures))
}

/// Downloads `bytes` from the origin via `path`; bytes per second.
async fn bulk(pod: &Pod, path: Path, bytes: u64) -> Result<f64> {
    common::download(pod, &path.url(&format!("/bytes/{bytes}")), bytes).await
}

fn report(m: &Measured) -> String {
    let ms = |v: f64| format!("{v:.3} ms");
    let [lat_n, lat_d] = &m.handshake_ms;
    let latency_row = |label: &str, f: &dyn Fn(&[f64]) -> f64| {
        let (n, d) = (f(lat_n), f(lat_d));
        vec![label.to_string(), ms(n), ms(d), ratio(n, d)]
    };
    let speed = |i: usize| common::median(&m.bulk_speed[i]);
    let (sn, sd) = (speed(0), speed(1));
    let mib = |v: f64| format!("{:.0} MiB/s", v / MIB as f64);
    let gbit = |v: f64| format!("{:.2} Gbit/s", v * 8.0 / 1e9);
    let rows = vec![
        latency_row("TCP connect p50", &|s| percentile(s, 50.0)),
        latency_row("TCP connect p99", &|s| percentile(s, 99.0)),
        latency_row("TCP connect mean", &mean),
        vec![
            format!(
                "bulk download, median of {} x {} MiB",
                m.bulk_speed[0].len(),
                m.bulk_bytes / MIB
            ),
            mib(sn),
            mib(sd),
            ratio(sn, sd),
        ],
        vec![String::new(), gbit(sn), gbit(sd), ratio(sn, sd)],
        vec![
            format!("NAT64 mapping entries after {SPACE_PODS} pods x 1 connection"),
            m.nat64_entries[0].to_string(),
            m.nat64_entries[1].to_string(),
            ratio(m.nat64_entries[0] as f64, m.nat64_entries[1] as f64),
        ],
    ];
    let mut out = format!(
        "dind data plane: NAT64 (tayga) vs direct IPv6 (--allow-aaaa), pod on a worker -> simulated Internet\n\
         measured {}\n\n",
        common::machine()
    );
    out.push_str(&table(
        &["metric", "NAT64", "direct", "ratio (NAT64/direct)"],
        &rows,
    ));
    out.push_str(&format!(
        "\nlatency: {} connections per path after {WARMUP} warm-up, TCP handshake only \
         (curl time_connect - time_namelookup); failed: NAT64 {}, direct {}\n",
        m.connections, m.failures[0], m.failures[1]
    ));
    let runs = |v: &[f64]| {
        v.iter()
            .map(|s| format!("{:.0}", s / MIB as f64))
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push_str(&format!(
        "bulk runs (MiB/s): NAT64 {}; direct {}\n",
        runs(&m.bulk_speed[0]),
        runs(&m.bulk_speed[1])
    ));
    out.push_str(&format!(
        "NAT64 pool mappings at the end (IPv6 clients tayga mapped): {}\n",
        m.nat64_clients.join(", ")
    ));
    for (name, answer) in &m.dns {
        out.push_str(&format!("DNS64 answer in the pod: {name} AAAA {answer}\n"));
    }
    out.push_str(&format!(
        "load average (1 min) when the benchmark started: {}\n",
        m.load
    ));
    out
}

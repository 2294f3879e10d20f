//! Data-plane benchmark: the NAT64 path through each engine (tayga, dind-nat64) against the
//! direct IPv6 path (`--allow-aaaa`), from a pod on a worker to the simulated Internet's
//! HTTP origin. Two clusters run side by side: 60 (tayga, `--allow-aaaa`, which also gives
//! the direct path) and 73 (`--nat64-engine dind-nat64`); they are measured alternately.
//!
//!     cargo bench --bench dataplane
//!
//! - TCP connect latency: `docker exec`s of a curl loop in a pod, in rounds that alternate
//!   the clusters; in cluster 60 each loop alternates tayga and direct. curl's
//!   `time_connect - time_namelookup` is the TCP handshake alone.
//! - Bulk throughput: GET /bytes/N from the origin (a stream of zeros), curl writing to
//!   /dev/null in the pod; the median of a few runs per path, the paths alternating.
//! - CPU: the translator process's utime + stime (/proc/PID/stat on the host, all its
//!   threads) over the bulk runs, per GiB it carried.
//! - Space: NAT64 mapping entries (the translator's "assigned new pool address" log lines)
//!   that 50 pods on the workers add with one connection each, per path.
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
/// tayga, and the direct path (`--allow-aaaa`).
const TAYGA_CLUSTER: u8 = 60;
/// dind's own translator.
const OWN_CLUSTER: u8 = 73;
/// 172.18 + 60 would leave 172.16.0.0/12: NAT64's IPv4 /16 becomes 10.160.0.0/16.
const NAT64_V4_PREFIX: &str = "10.100";
const SPACE_PODS: usize = 50;
const WARMUP: usize = 20;
/// Latency loops per cluster, alternating with the other cluster's.
const LATENCY_ROUNDS: usize = 4;
const MIB: u64 = 1 << 20;
const GIB: f64 = (1u64 << 30) as f64;

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

/// The ways out of the clusters, as seen from a pod.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Path {
    /// NAT64 through tayga (cluster 60).
    Tayga,
    /// NAT64 through dind-nat64 (cluster 73).
    DindNat64,
    /// Direct IPv6 (cluster 60, `--allow-aaaa`).
    Direct,
}

impl Path {
    const ALL: [Path; 3] = [Path::Tayga, Path::DindNat64, Path::Direct];

    fn index(self) -> usize {
        Path::ALL.iter().position(|p| *p == self).expect("listed")
    }

    /// The origin's address on this path: the A-only name's synthesized AAAA, or the
    /// origin's real IPv6 address.
    fn address(self) -> &'static str {
        match self {
            Path::Tayga | Path::DindNat64 => WAN_V4_SYNTHESIZED,
            Path::Direct => WAN_V6,
        }
    }

    fn url(self, path: &str) -> String {
        format!("http://[{}]:80{path}", self.address())
    }

    fn tag(self) -> &'static str {
        match self {
            Path::Tayga => "tayga",
            Path::DindNat64 => "dind-nat64",
            Path::Direct => "direct",
        }
    }

    /// The client address the origin sees: the host's IPv4 (NAT64, then Docker's IPv4
    /// masquerade) or the host's IPv6 egress address (dind's IPv6 masquerade).
    fn seen_as(self) -> &'static str {
        match self {
            Path::Tayga | Path::DindNat64 => HOST_V4,
            Path::Direct => HOST_V6,
        }
    }
}

/// One cluster of the benchmark: its NAT64 container, its pods and the paths they take.
struct Side {
    cluster: Cluster,
    nat64: String,
    /// The translator's process name, as /proc/PID/comm shows it.
    translator: &'static str,
    paths: &'static [Path],
    pods: Vec<Pod>,
}

struct Measured {
    connections: usize,
    handshake_ms: [Vec<f64>; 3],
    failures: [usize; 3],
    bulk_bytes: u64,
    /// Bytes per second, one per run.
    bulk_speed: [Vec<f64>; 3],
    /// Translator CPU seconds over the bulk runs (tayga, dind-nat64).
    bulk_cpu: [f64; 2],
    nat64_entries: [usize; 3],
    nat64_clients: [Vec<String>; 2],
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
        &format!(
            "dind up: cluster {TAYGA_CLUSTER} (tayga, --allow-aaaa, egress {HOST_IF}) and \
             cluster {OWN_CLUSTER} (--nat64-engine dind-nat64)"
        ),
    );
    let tayga_cluster = Cluster::up(
        TAYGA_CLUSTER,
        &[
            "--nat64-engine",
            "tayga",
            "--allow-aaaa",
            "--egress-interface",
            HOST_IF,
            "--nat64-v4-prefix",
            NAT64_V4_PREFIX,
        ],
    )?;
    let own_cluster = Cluster::up(
        OWN_CLUSTER,
        &[
            "--nat64-engine",
            "dind-nat64",
            "--nat64-v4-prefix",
            NAT64_V4_PREFIX,
        ],
    )?;
    let mut sides = Vec::new();
    for (cluster, translator, paths) in [
        (tayga_cluster, "tayga", &[Path::Tayga, Path::Direct][..]),
        (own_cluster, "dind-nat64", &[Path::DindNat64][..]),
    ] {
        let workers = [cluster.name("kube-node-1"), cluster.name("kube-node-2")];
        say(
            NAME,
            &format!(
                "creating {SPACE_PODS} pods on the workers of cluster {}",
                cluster.id
            ),
        );
        let pods = create_pods(&engine, &workers, SPACE_PODS).await?;
        let nat64 = cluster.name("tayga");
        let comm = translator_process(&engine, &nat64).await?.1;
        ensure!(
            comm == translator,
            "{nat64} runs {comm:?}, not {translator}"
        );
        sides.push(Side {
            cluster,
            nat64,
            translator,
            paths,
            pods,
        });
    }

    // Space first, on fresh translators: each pod connects once through each path.
    let mut nat64_entries = [0; 3];
    for side in &sides {
        for &path in side.paths {
            say(
                NAME,
                &format!("space: one connection per pod via {}", path.tag()),
            );
            let before = pool_assignments(&engine, &side.nat64).await.len();
            stream::iter(&side.pods)
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
            nat64_entries[path.index()] =
                pool_assignments(&engine, &side.nat64).await.len() - before;
        }
    }
    let nat64_clients = [
        pool_assignments(&engine, &sides[0].nat64).await,
        pool_assignments(&engine, &sides[1].nat64).await,
    ];

    // The addresses used below are what DNS64 hands a pod for the simulated Internet's
    // names (the Wan fixture is up, so these queries stay on this machine).
    let mut dns = Vec::new();
    for (side, name, expected) in [
        (&sides[0], "v4only.example.test", WAN_V4_SYNTHESIZED),
        (&sides[0], "dual.example.test", WAN_V6),
        (&sides[1], "v4only.example.test", WAN_V4_SYNTHESIZED),
    ] {
        let answer = side.pods[0].aaaa(name).await?;
        ensure!(
            answer == expected,
            "DNS64 of cluster {} answered {answer:?} for {name}, expected {expected}",
            side.cluster.id
        );
        dns.push((format!("cluster {}: {name}", side.cluster.id), answer));
    }

    let per_round = connections.div_ceil(LATENCY_ROUNDS);
    say(
        NAME,
        &format!(
            "latency: {} connections per path (+{WARMUP} warm-up) in {LATENCY_ROUNDS} rounds per cluster",
            per_round * LATENCY_ROUNDS
        ),
    );
    let mut handshake_ms = [Vec::new(), Vec::new(), Vec::new()];
    let mut failures = [0; 3];
    for round in 0..LATENCY_ROUNDS {
        for side in &sides {
            let warmup = if round == 0 { WARMUP } else { 0 };
            let measured = connect_latency(&side.pods[0], side.paths, per_round, warmup).await?;
            for (&path, (samples, failed)) in side.paths.iter().zip(measured) {
                handshake_ms[path.index()].extend(samples);
                failures[path.index()] += failed;
            }
        }
    }

    let mut bulk_speed = [Vec::new(), Vec::new(), Vec::new()];
    let clock_ticks: f64 = support::sh(&["getconf", "CLK_TCK"])?.trim().parse()?;
    let mut cpu_before = [0.0; 2];
    for (i, side) in sides.iter().enumerate() {
        cpu_before[i] = translator_cpu_ticks(&engine, &side.nat64).await? as f64;
    }
    for run in 1..=bulk_runs {
        for path in Path::ALL {
            say(
                NAME,
                &format!(
                    "bulk: run {run}/{bulk_runs}, {} MiB via {}",
                    bulk_bytes / MIB,
                    path.tag()
                ),
            );
            let side = sides
                .iter()
                .find(|s| s.paths.contains(&path))
                .expect("every path has a cluster");
            bulk_speed[path.index()].push(bulk(&side.pods[0], path, bulk_bytes).await?);
        }
    }
    let mut bulk_cpu = [0.0; 2];
    for (i, side) in sides.iter().enumerate() {
        let after = translator_cpu_ticks(&engine, &side.nat64).await? as f64;
        bulk_cpu[i] = (after - cpu_before[i]) / clock_ticks;
        say(
            NAME,
            &format!(
                "{}: {:.2} s of CPU over the bulk runs",
                side.translator, bulk_cpu[i]
            ),
        );
    }

    say(NAME, "dind down (both clusters)");
    let measured = Measured {
        connections: per_round * LATENCY_ROUNDS,
        handshake_ms,
        failures,
        bulk_bytes,
        bulk_speed,
        bulk_cpu,
        nat64_entries,
        nat64_clients,
        dns,
        load: load_before,
    };
    drop(sides);
    Ok(report(&measured))
}

/// The NAT64 container's main process on the host (Docker's State.Pid: the entrypoint
/// execs the translator) and its name.
async fn translator_process(engine: &Engine, nat64: &str) -> Result<(u32, String)> {
    let pid = engine
        .inspect_container(nat64)
        .await?
        .and_then(|c| c.state?.pid)
        .filter(|pid| *pid > 0)
        .with_context(|| format!("{nat64} has no running process"))?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .with_context(|| format!("cannot read /proc/{pid}/comm of {nat64}"))?;
    Ok((pid as u32, comm.trim().to_string()))
}

/// utime + stime of the translator, all its threads, in clock ticks.
async fn translator_cpu_ticks(engine: &Engine, nat64: &str) -> Result<u64> {
    let (pid, _) = translator_process(engine, nat64).await?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat of {nat64}"))?;
    cpu_ticks(&stat).with_context(|| format!("unexpected /proc/{pid}/stat: {stat:?}"))
}

/// Fields 14 and 15 of /proc/PID/stat; the name (field 2) may hold spaces and parentheses.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (the state).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
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

/// The IPv6 clients the translator has mapped into its pool, one per "assigned new pool
/// address A.B.C.D (IPV6)" line of its log (tayga's and dind-nat64's alike).
async fn pool_assignments(engine: &Engine, tayga: &str) -> Vec<String> {
    engine
        .log_tail(tayga, 1_000_000)
        .await
        .lines()
        .filter(|l| l.contains("assigned new pool address"))
        .filter_map(|l| Some(l.rsplit_once('(')?.1.trim_end_matches(')').to_string()))
        .collect()
}

/// TCP handshake times in milliseconds and failed attempts, per path of `paths`, after
/// `warmup` connections each. One exec runs the whole loop, so docker exec's overhead stays
/// out of the numbers; the paths alternate, so drift on the host affects them alike.
async fn connect_latency(
    pod: &Pod,
    paths: &[Path],
    connections: usize,
    warmup: usize,
) -> Result<Vec<(Vec<f64>, usize)>> {
    let mut script = format!(
        "i=0; while [ $i -lt {} ]; do i=$((i+1));",
        connections + warmup
    );
    for path in paths {
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
    let mut measured = vec![(Vec::new(), 0); paths.len()];
    let mut seen = vec![0usize; paths.len()];
    for line in out.stdout.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [tag, lookup, connect, code] = fields[..] else {
            bail!("unexpected line from the latency loop: {line:?}");
        };
        let i = paths
            .iter()
            .position(|p| p.tag() == tag)
            .with_context(|| format!("unexpected path in {line:?}"))?;
        seen[i] += 1;
        if seen[i] <= warmup {
            continue;
        }
        if code != "0" {
            measured[i].1 += 1;
            continue;
        }
        let lookup: f64 = lookup.parse()?;
        let connect: f64 = connect.parse()?;
        measured[i].0.push((connect - lookup) * 1000.0);
    }
    for (i, path) in paths.iter().enumerate() {
        ensure!(
            seen[i] == connections + warmup,
            "{} connections via {} reported, expected {}",
            seen[i],
            path.tag(),
            connections + warmup
        );
        ensure!(
            !measured[i].0.is_empty(),
            "every connection via {} failed",
            path.tag()
        );
    }
    Ok(measured)
}

/// Downloads `bytes` from the origin via `path`; bytes per second.
async fn bulk(pod: &Pod, path: Path, bytes: u64) -> Result<f64> {
    common::download(pod, &path.url(&format!("/bytes/{bytes}")), bytes).await
}

fn report(m: &Measured) -> String {
    let ms = |v: f64| format!("{v:.3} ms");
    let [t, o, d] = [0, 1, 2];
    // metric, the three columns, their ratios to direct, and dind-nat64 against tayga.
    let row = |label: String, cells: [String; 3], values: [f64; 3]| {
        let mut row = vec![label];
        row.extend(cells);
        row.push(ratio(values[t], values[d]));
        row.push(ratio(values[o], values[d]));
        row.push(ratio(values[o], values[t]));
        row
    };
    let latency_row = |label: &str, f: &dyn Fn(&[f64]) -> f64| {
        let values = [0, 1, 2].map(|i| f(&m.handshake_ms[i]));
        row(label.to_string(), values.map(ms), values)
    };
    let speeds = [0, 1, 2].map(|i| common::median(&m.bulk_speed[i]));
    let mib = |v: f64| format!("{:.0} MiB/s", v / MIB as f64);
    let gbit = |v: f64| format!("{:.2} Gbit/s", v * 8.0 / 1e9);
    let carried = m.bulk_speed[0].len() as f64 * m.bulk_bytes as f64 / GIB;
    let cpu_per_gib = m.bulk_cpu.map(|s| s / carried);
    let entries = m.nat64_entries.map(|e| e as f64);
    let mut rows = vec![
        latency_row("TCP connect p50", &|s| percentile(s, 50.0)),
        latency_row("TCP connect p99", &|s| percentile(s, 99.0)),
        latency_row("TCP connect mean", &mean),
        row(
            format!(
                "bulk download, median of {} x {} MiB",
                m.bulk_speed[0].len(),
                m.bulk_bytes / MIB
            ),
            speeds.map(mib),
            speeds,
        ),
        row(String::new(), speeds.map(gbit), speeds),
    ];
    rows.push(vec![
        "translator CPU (user+sys) per GiB, bulk".to_string(),
        format!("{:.2} s", cpu_per_gib[0]),
        format!("{:.2} s", cpu_per_gib[1]),
        "n/a (kernel)".to_string(),
        "n/a".to_string(),
        "n/a".to_string(),
        ratio(cpu_per_gib[1], cpu_per_gib[0]),
    ]);
    rows.push(row(
        format!("NAT64 mapping entries after {SPACE_PODS} pods x 1 connection"),
        m.nat64_entries.map(|e| e.to_string()),
        entries,
    ));
    let mut out = format!(
        "dind data plane: NAT64 through tayga (cluster {TAYGA_CLUSTER}) and dind-nat64 (cluster \
         {OWN_CLUSTER}) vs direct IPv6 (--allow-aaaa, cluster {TAYGA_CLUSTER}), pod on a worker -> \
         simulated Internet\nmeasured {}\n\n",
        common::machine()
    );
    out.push_str(&table(
        &[
            "metric",
            "NAT64 tayga",
            "NAT64 dind-nat64",
            "direct",
            "tayga/direct",
            "dind-nat64/direct",
            "dind-nat64/tayga",
        ],
        &rows,
    ));
    out.push_str(&format!(
        "\nlatency: {} connections per path after {WARMUP} warm-up, TCP handshake only \
         (curl time_connect - time_namelookup), {LATENCY_ROUNDS} rounds per cluster, alternating; \
         failed: tayga {}, dind-nat64 {}, direct {}\n",
        m.connections, m.failures[t], m.failures[o], m.failures[d]
    ));
    let runs = |v: &[f64]| {
        v.iter()
            .map(|s| format!("{:.0}", s / MIB as f64))
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push_str(&format!(
        "bulk runs (MiB/s): tayga {}; dind-nat64 {}; direct {}\n",
        runs(&m.bulk_speed[t]),
        runs(&m.bulk_speed[o]),
        runs(&m.bulk_speed[d])
    ));
    out.push_str(&format!(
        "translator CPU over the bulk runs ({carried:.1} GiB each): tayga {:.2} s, dind-nat64 {:.2} s \
         (utime+stime of the process, all threads, from /proc/PID/stat)\n",
        m.bulk_cpu[0], m.bulk_cpu[1]
    ));
    out.push_str(&format!(
        "NAT64 pool mappings at the end (IPv6 clients mapped): tayga {}; dind-nat64 {}\n",
        m.nat64_clients[0].join(", "),
        m.nat64_clients[1].join(", ")
    ));
    for (name, answer) in &m.dns {
        out.push_str(&format!(
            "DNS64 answer in the pod ({name}): AAAA {answer}\n"
        ));
    }
    out.push_str(&format!(
        "load average (1 min) when the benchmark started: {}\n",
        m.load
    ));
    out
}

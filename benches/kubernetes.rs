//! Kubernetes benchmark: wall time from `dind up` to a Ready cluster (nodes Ready, every
//! kube-system pod running, CoreDNS resolving a name through DNS64: what `--wait` waits for),
//! ipv6, with images already built, for a master alone and for a master with two workers;
//! each `up`'s phases; and the memory each node uses once Ready.
//!
//!     cargo bench --bench kubernetes
//!
//! The cluster is built from the Kubernetes kit (`.ci/kubernetes-kit`, or
//! DIND_E2E_KUBERNETES_FROM), its DNS64 forwarding to the simulated Internet, with no
//! Internet. The node image is built by an untimed warm-up round; then per size, runs of
//! `up` and `down` alternate, and the table shows the median of each phase. The goal for a
//! single node is 30 s on these 2-core machines (kind: about 33 s on a GitHub runner, a
//! reference from elsewhere, not a ratio of this run).
//!
//! Environment: DIND_BENCH_RUNS (default 3), DIND_BENCH_NODES (default "1,3").

#[path = "../tests/e2e/support/mod.rs"]
mod support;

mod common;

use anyhow::{bail, Context, Result};
use common::{median, say, table};
use std::collections::BTreeMap;
use std::process::Output;
use std::time::Instant;

const NAME: &str = "kubernetes";
const CLUSTER_ID: u8 = 62;
const GOAL_SECONDS: f64 = 30.0;

fn main() -> std::process::ExitCode {
    common::bench_main(NAME, run)
}

/// One `up` to Ready: its wall time, its phases (name -> seconds, in order), and each
/// node's memory once Ready.
struct Sample {
    total: f64,
    phases: Vec<(String, f64)>,
    memory_mib: BTreeMap<String, f64>,
}

fn up_args(kit: &str, probes: &str, workers: usize) -> Vec<String> {
    [
        "up",
        "--cluster-id",
        &CLUSTER_ID.to_string(),
        "--kubernetes-from",
        kit,
        "--nodes",
        &workers.to_string(),
        "--nat64-v4-prefix",
        "10.100",
        "--upstream-dns",
        support::WAN_V4,
        "--config",
        probes,
        "--kubeconfig",
        "/dev/null",
        "--wait",
        "5m",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn dind(args: &[String]) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    support::dind(&args, &[])
}

fn down() -> Result<()> {
    let out = support::dind(&["down", "--cluster-id", &CLUSTER_ID.to_string()], &[]);
    if !out.status.success() {
        bail!("dind down failed: {}", support::stderr(&out));
    }
    Ok(())
}

/// Takes the cluster down when the benchmark ends, also on failure.
struct Cleanup;

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Err(err) = down() {
            eprintln!("cleanup: {err:#}");
        }
    }
}

/// `NAME: done in 1.2s` lines of plain progress (stderr is a pipe).
fn phases(stderr: &str) -> Vec<(String, f64)> {
    stderr
        .lines()
        .filter_map(|line| {
            let (name, time) = line.split_once(": done in ")?;
            let seconds: f64 = time.trim().strip_suffix('s')?.parse().ok()?;
            Some((name.trim().to_string(), seconds))
        })
        .collect()
}

/// Phase names without their counts, so that sizes line up: "Starting 2 node container(s)"
/// and "Starting 4 node container(s)" are one row.
fn phase_row(name: &str) -> String {
    name.split_whitespace()
        .map(|word| match word.parse::<u32>() {
            Ok(_) => "N",
            Err(_) => word,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn memory_of_nodes() -> Result<BTreeMap<String, f64>> {
    use futures_util::StreamExt;
    let docker = support::docker().await;
    let mut memory = BTreeMap::new();
    let cluster = CLUSTER_ID.to_string();
    let filters = std::collections::HashMap::from([(
        "label".to_string(),
        vec![format!("{}={cluster}", dind::labels::CLUSTER)],
    )]);
    let options = bollard::query_parameters::ListContainersOptionsBuilder::default()
        .filters(&filters)
        .build();
    for container in docker.list_containers(Some(options)).await? {
        let name = container
            .names
            .and_then(|n| n.first().cloned())
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string();
        if !name.starts_with("kube-") {
            continue;
        }
        let options = bollard::query_parameters::StatsOptionsBuilder::default()
            .stream(false)
            .one_shot(true)
            .build();
        let stats = docker
            .stats(&name, Some(options))
            .next()
            .await
            .context("no stats")??;
        let usage = stats.memory_stats.and_then(|m| m.usage).unwrap_or(0);
        memory.insert(name, usage as f64 / (1024.0 * 1024.0));
    }
    Ok(memory)
}

async fn one_up(kit: &str, probes: &str, workers: usize) -> Result<Sample> {
    let started = Instant::now();
    let out = dind(&up_args(kit, probes, workers));
    let total = started.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!("dind up failed:\n{}", support::stderr(&out));
    }
    let memory_mib = memory_of_nodes().await?;
    down()?;
    Ok(Sample {
        total,
        phases: phases(&support::stderr(&out)),
        memory_mib,
    })
}

fn env_list(var: &str, default: &str) -> Result<Vec<usize>> {
    std::env::var(var)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .with_context(|| format!("{var}: '{n}' is not a number"))
        })
        .collect()
}

async fn run() -> Result<String> {
    let runs = env_list("DIND_BENCH_RUNS", "3")?[0].max(1);
    let sizes = env_list("DIND_BENCH_NODES", "1,3")?;
    let _serial = support::serial().await;
    let _wan = support::Wan::start().await?;
    let kit = support::kube::kubernetes_kit();
    let kit = kit.to_string_lossy().into_owned();
    let dir = tempfile::tempdir()?;
    let probes = dir.path().join("probes.yaml");
    std::fs::write(
        &probes,
        "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nprobes: [v4only.example.test]\n",
    )?;
    let probes = probes.to_string_lossy().into_owned();
    let _cleanup = Cleanup;
    down()?;

    say(
        NAME,
        "warm-up: builds the node image, brings a master up and down",
    );
    one_up(&kit, &probes, 0).await?;

    let mut samples: BTreeMap<usize, Vec<Sample>> = BTreeMap::new();
    for round in 1..=runs {
        for &nodes in &sizes {
            let sample = one_up(&kit, &probes, nodes.saturating_sub(1)).await?;
            say(
                NAME,
                &format!(
                    "run {round}/{runs}, {nodes} node(s): Ready in {:.1}s",
                    sample.total
                ),
            );
            samples.entry(nodes).or_default().push(sample);
        }
    }
    Ok(report(&samples, runs))
}

fn report(samples: &BTreeMap<usize, Vec<Sample>>, runs: usize) -> String {
    let sizes: Vec<usize> = samples.keys().copied().collect();
    let mut order: Vec<String> = Vec::new();
    for sample in samples.values().flatten() {
        for (name, _) in &sample.phases {
            let row = phase_row(name);
            if !order.contains(&row) {
                order.push(row);
            }
        }
    }
    let median_of = |nodes: usize, pick: &dyn Fn(&Sample) -> Option<f64>| {
        let values: Vec<f64> = samples[&nodes].iter().filter_map(pick).collect();
        match values.is_empty() {
            true => "-".to_string(),
            false => format!("{:.1}", median(&values)),
        }
    };
    let mut rows = Vec::new();
    for row in &order {
        let mut cells = vec![row.clone()];
        for &nodes in &sizes {
            cells.push(median_of(nodes, &|s: &Sample| {
                let times: Vec<f64> = s
                    .phases
                    .iter()
                    .filter(|(name, _)| &phase_row(name) == row)
                    .map(|(_, t)| *t)
                    .collect();
                (!times.is_empty()).then(|| times.iter().sum())
            }));
        }
        rows.push(cells);
    }
    let mut total = vec!["**up to Ready (wall)**".to_string()];
    for &nodes in &sizes {
        total.push(format!(
            "**{}**",
            median_of(nodes, &|s: &Sample| Some(s.total))
        ));
    }
    rows.push(total);
    let mut memory = vec!["memory per node once Ready (MiB, median of nodes)".to_string()];
    for &nodes in &sizes {
        memory.push(median_of(nodes, &|s: &Sample| {
            let values: Vec<f64> = s.memory_mib.values().copied().collect();
            (!values.is_empty()).then(|| median(&values))
        }));
    }
    rows.push(memory);
    let header: Vec<String> = std::iter::once("phase (s, median)".to_string())
        .chain(sizes.iter().map(|n| format!("{n} node(s)")))
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let single = samples
        .get(&1)
        .map(|s| median(&s.iter().map(|s| s.total).collect::<Vec<_>>()));
    let verdict = match single {
        Some(t) => format!(
            "single node, ipv6: Ready in {t:.1} s, {:.2}x the goal of {GOAL_SECONDS} s",
            t / GOAL_SECONDS
        ),
        None => "no single-node size was run".to_string(),
    };
    format!(
        "dind up to a Ready Kubernetes cluster (ipv6, from the kit, images built; {runs} run(s) \
         each)\n\n{}\n{verdict}",
        table(&header, &rows)
    )
}

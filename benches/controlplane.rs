//! Control-plane benchmark: wall time of `dind up --no-kubernetes` and `dind down` against
//! a sequential docker-CLI script that builds the same network plane the way k-d-c did
//! (bench/kdc-sequential.sh), for 1, 3 and 10 worker nodes.
//!
//!     cargo bench --bench controlplane
//!
//! The dind binary is the one cargo built for this benchmark (bench profile = release).
//! Images are built before anything is timed; one untimed warm-up round of each goes
//! first; then, per node count, runs alternate dind up, dind down, script up, script down,
//! and the table shows the median of each. After every `down`, the benchmark checks that
//! nothing of the cluster is left (containers, network, host route and rules, files).
//!
//! Environment: DIND_BENCH_RUNS (default 3), DIND_BENCH_NODES (default "1,3,10").

#[path = "../tests/e2e/support/mod.rs"]
mod support;

mod common;

use anyhow::{bail, ensure, Context, Result};
use common::{median, ratio, say, table};
use dind::engine::docker::Engine;
use dind::engine::images::{self, ImageKind};
use dind::progress::Progress;
use std::process::{Command, Output};
use std::time::Instant;

const NAME: &str = "controlplane";
const CLUSTER_ID: u8 = 61;
/// 172.18 + 61 would leave 172.16.0.0/12: NAT64's IPv4 /16 becomes 10.161.0.0/16.
const NAT64_V4_PREFIX: &str = "10.100";
const POOL_ROUTE: &str = "10.161.0.128/25";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/kdc-sequential.sh");
const SCRIPT_STATE: &str = "/tmp/dind-bench-kdc-61";

fn main() -> std::process::ExitCode {
    common::bench_main(NAME, run)
}

struct Tags {
    dns64: String,
    nat64: String,
    node: String,
}

/// Times of one node count, in seconds, one per run.
#[derive(Default)]
struct Times {
    dind_up: Vec<f64>,
    dind_down: Vec<f64>,
    script_up: Vec<f64>,
    script_down: Vec<f64>,
    /// dind's phase lines (stderr) of each `up`.
    dind_up_phases: Vec<String>,
}

/// Takes cluster 61 down both ways when the benchmark ends, also on failure.
struct Cleanup {
    tags: Tags,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let out = dind_down();
        if !out.status.success() {
            eprintln!("cleanup: dind down failed: {}", support::stderr(&out));
        }
        let out = script(&self.tags, &["down"]);
        if !out.status.success() {
            eprintln!("cleanup: {SCRIPT} down failed: {}", support::stderr(&out));
        }
    }
}

fn env_list(var: &str, default: &str) -> Result<Vec<usize>> {
    let text = std::env::var(var).unwrap_or_else(|_| default.to_string());
    text.split(',')
        .map(|n| {
            n.trim()
                .parse()
                .with_context(|| format!("{var}={text}: not a list of numbers"))
        })
        .collect()
}

async fn run() -> Result<String> {
    let node_counts = env_list("DIND_BENCH_NODES", "1,3,10")?;
    let runs = env_list("DIND_BENCH_RUNS", "3")?[0];
    ensure!(runs >= 1, "DIND_BENCH_RUNS must be at least 1");

    // DNS64 of both clusters forwards to the simulated Internet's resolver: it is up before
    // any container that could ask it.
    let bench = common::exclusive(NAME).await?;
    let (engine, load_before) = (&bench.engine, &bench.load_before);

    say(NAME, "building the images (untimed)");
    let tags = ensure_images(engine).await?;
    let leftovers = leftovers(engine).await?;
    ensure!(
        leftovers.is_empty(),
        "cluster {CLUSTER_ID}'s objects exist before the benchmark (another run?); \
         `dind down --cluster-id {CLUSTER_ID}` and `{SCRIPT} down` remove them: {leftovers:?}"
    );
    let cleanup = Cleanup { tags };
    let tags = &cleanup.tags;

    say(NAME, "warm-up round, 1 node (untimed)");
    measure_round(engine, tags, 1, &mut Times::default(), true).await?;

    let mut results = Vec::new();
    for &nodes in &node_counts {
        let mut times = Times::default();
        for run in 1..=runs {
            say(NAME, &format!("{nodes} node(s), run {run}/{runs}"));
            measure_round(engine, tags, nodes, &mut times, false).await?;
        }
        results.push((nodes, times));
    }
    drop(cleanup);
    Ok(report(&results, runs, load_before))
}

async fn ensure_images(engine: &Engine) -> Result<Tags> {
    for kind in ImageKind::NETWORK_PLANE {
        let spec = kind.spec();
        images::ensure(engine, &spec, &Progress::hidden().phase(&spec.kind)).await?;
    }
    Ok(Tags {
        dns64: ImageKind::Dns64.spec().tag,
        nat64: ImageKind::Nat64.spec().tag,
        node: ImageKind::NodeBase.spec().tag,
    })
}

fn dind_down() -> Output {
    support::dind(&["down", "--cluster-id", &CLUSTER_ID.to_string()], &[])
}

fn script(tags: &Tags, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(SCRIPT)
        .args(args)
        .env("CLUSTER_ID", CLUSTER_ID.to_string())
        .env("NAT64_V4_PREFIX", NAT64_V4_PREFIX)
        .env("UPSTREAM_DNS", support::WAN_V4)
        .env("DNS64_IMAGE", &tags.dns64)
        .env("NAT64_IMAGE", &tags.nat64)
        .env("NODE_IMAGE", &tags.node)
        .output()
        .expect("bash runs")
}

/// Runs `command` and returns its wall time in seconds, failing on a non-zero exit.
fn timed(what: &str, command: impl FnOnce() -> Output) -> Result<(f64, Output)> {
    let start = Instant::now();
    let out = command();
    let seconds = start.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!("{what} failed:\n{}", support::stderr(&out));
    }
    Ok((seconds, out))
}

/// dind up, dind down, script up, script down; each up is checked to have started every
/// container, each down to have left nothing. With `verify`, both clusters must also work
/// (untimed): a node resolves and reaches the simulated Internet through DNS64 and NAT64.
async fn measure_round(
    engine: &Engine,
    tags: &Tags,
    nodes: usize,
    times: &mut Times,
    verify: bool,
) -> Result<()> {
    let id = CLUSTER_ID.to_string();
    let n = nodes.to_string();
    let (up, out) = timed("dind up", || {
        support::dind(
            &[
                "up",
                "--no-kubernetes",
                "--cluster-id",
                &id,
                "--nodes",
                &n,
                "--upstream-dns",
                support::WAN_V4,
                "--nat64-v4-prefix",
                NAT64_V4_PREFIX,
            ],
            &[],
        )
    })?;
    check_running(engine, nodes, "dind up").await?;
    if verify {
        check_works(engine, "dind up").await?;
    }
    let (down, _) = timed("dind down", dind_down)?;
    check_gone(engine, "dind down").await?;
    times.dind_up.push(up);
    times.dind_down.push(down);
    times.dind_up_phases.push(support::stderr(&out));

    let (up, _) = timed("the script's up", || script(tags, &["up", &n]))?;
    check_running(engine, nodes, "the script's up").await?;
    if verify {
        check_works(engine, "the script's up").await?;
    }
    let (down, _) = timed("the script's down", || script(tags, &["down"]))?;
    check_gone(engine, "the script's down").await?;
    times.script_up.push(up);
    times.script_down.push(down);
    Ok(())
}

fn container_names(nodes: usize) -> Vec<String> {
    let suffix = format!("-cluster-{CLUSTER_ID}");
    let mut names = vec![
        format!("tayga{suffix}"),
        format!("bind9{suffix}"),
        format!("kube-master{suffix}"),
    ];
    names.extend((1..=nodes).map(|k| format!("kube-node-{k}{suffix}")));
    names
}

async fn check_running(engine: &Engine, nodes: usize, after: &str) -> Result<()> {
    for name in container_names(nodes) {
        ensure!(
            engine.is_running(&name).await?,
            "{name} is not running after {after}"
        );
    }
    let routes = support::sh(&["ip", "route", "show", POOL_ROUTE])?;
    ensure!(
        !routes.trim().is_empty(),
        "no host route {POOL_ROUTE} after {after}"
    );
    Ok(())
}

/// kube-node-1 gets the synthesized AAAA of the A-only name from DNS64 and fetches the
/// origin through NAT64, which sees the host's IPv4 address. The script waits for nothing,
/// so this retries for a while.
async fn check_works(engine: &Engine, after: &str) -> Result<()> {
    let node = format!("kube-node-1-cluster-{CLUSTER_ID}");
    let url = format!("http://[{}]/", support::WAN_V4_SYNTHESIZED);
    let checks: [(&[&str], &str); 2] = [
        (
            &[
                "dig",
                "+short",
                "+time=1",
                "+tries=1",
                "v4only.example.test",
                "AAAA",
            ],
            support::WAN_V4_SYNTHESIZED,
        ),
        (
            &["curl", "-sS", "-g", "--max-time", "2", &url],
            support::HOST_V4,
        ),
    ];
    for (argv, expected) in checks {
        let deadline = Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let out = engine.exec(&node, argv).await?;
            if out.stdout.trim() == expected {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "after {after}: `{}` in {node} gave {:?}{:?}, expected {expected}",
                    argv.join(" "),
                    out.stdout,
                    out.stderr
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }
    Ok(())
}

/// Everything of cluster 61 still on the host, by either maker.
async fn leftovers(engine: &Engine) -> Result<Vec<String>> {
    let suffix = format!("-cluster-{CLUSTER_ID}");
    let (containers, networks) = support::docker_objects(engine).await;
    let mut left: Vec<String> = containers
        .into_iter()
        .filter(|c| {
            c.ends_with(&suffix) || c.starts_with(&format!("/dind-host-helper-{CLUSTER_ID}-"))
        })
        .collect();
    left.extend(networks.into_iter().filter(|n| n.ends_with(&suffix)));
    let route = support::sh(&["ip", "route", "show", POOL_ROUTE])?;
    if !route.trim().is_empty() {
        left.push(format!("host route {}", route.trim()));
    }
    left.extend(support::ip6tables_lines_with(&format!(
        "dind:cluster={CLUSTER_ID}"
    )));
    if std::path::Path::new(SCRIPT_STATE).exists() {
        left.push(SCRIPT_STATE.to_string());
    }
    Ok(left)
}

async fn check_gone(engine: &Engine, after: &str) -> Result<()> {
    let left = leftovers(engine).await?;
    ensure!(left.is_empty(), "left after {after}: {left:?}");
    Ok(())
}

/// "Starting 11 node container(s): done in 2.3s" -> the lines that end dind's phases (its
/// stderr is a pipe here).
fn phase_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains(": done in ") || l.contains(": failed after "))
        .map(|l| l.trim().to_string())
        .collect()
}

fn report(results: &[(usize, Times)], runs: usize, load: &str) -> String {
    let s = |v: f64| format!("{v:.2} s");
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|(nodes, t)| {
            let (du, su) = (median(&t.dind_up), median(&t.script_up));
            let (dd, sd) = (median(&t.dind_down), median(&t.script_down));
            vec![
                nodes.to_string(),
                s(du),
                s(su),
                ratio(du, su),
                s(dd),
                s(sd),
                ratio(dd, sd),
            ]
        })
        .collect();
    let mut out = format!(
        "dind control plane: `dind up --no-kubernetes` / `dind down` vs a sequential docker-CLI script (k-d-c style)\n\
         measured {}; median of {runs} run(s); nodes = workers (plus master, bind9, tayga)\n\n",
        common::machine()
    );
    out.push_str(&table(
        &[
            "nodes",
            "dind up",
            "script up",
            "ratio",
            "dind down",
            "script down",
            "ratio",
        ],
        &rows,
    ));
    let fmt_runs = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push_str("\nall runs (s):\n");
    for (nodes, t) in results {
        out.push_str(&format!(
            "  {nodes:>2} nodes: dind up [{}], script up [{}], dind down [{}], script down [{}]\n",
            fmt_runs(&t.dind_up),
            fmt_runs(&t.script_up),
            fmt_runs(&t.dind_down),
            fmt_runs(&t.script_down)
        ));
    }
    out.push_str(&format!(
        "load average (1 min) when the benchmark started: {}\n",
        load
    ));
    if let Some((nodes, t)) = results.iter().max_by_key(|(n, _)| *n) {
        // The phases of the median `up` of the largest cluster.
        let mut order: Vec<usize> = (0..t.dind_up.len()).collect();
        order.sort_by(|&a, &b| t.dind_up[a].total_cmp(&t.dind_up[b]));
        let middle = order[(order.len() - 1) / 2];
        out.push_str(&format!(
            "\ndind up phases, {nodes} nodes, the median run ({:.2} s; phases after \"Creating the network\" run side by side):\n",
            t.dind_up[middle]
        ));
        for line in phase_lines(&t.dind_up_phases[middle]) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

//! NAT64 tuning experiments (dind issue 12, step 1): bulk download through tayga with one
//! cheap change at a time, all in one run on one cluster, against plain tayga and the
//! direct path.
//!
//!     cargo bench --bench nat64_tune
//!
//! Each round measures every variant once (the order is the same each round, so drift on
//! the host touches all alike); a variant's change is made from the host in tayga's
//! network namespace (nsenter) or on tayga's process (taskset), and undone after its run.
//! With DIND_TUNE_PROFILE=1 one more plain run is measured under `perf record` and one under
//! `strace -c`, and tayga's CPU time and the tun's packet counters per run are printed.
//!
//! With DIND_TUNE_CONNECTIONS=N, each run is followed by N connections whose TCP handshake
//! times give the table's connect p50.
//!
//! Environment: DIND_TUNE_MIB (default 256), DIND_TUNE_ROUNDS (default 3),
//! DIND_TUNE_VARIANTS (comma separated, default all), DIND_TUNE_CLUSTER_ID (default 49).

#[path = "../tests/e2e/support/mod.rs"]
mod support;

mod common;

use anyhow::{ensure, Context, Result};
use common::{median, ratio, say, table};
use std::process::Command;
use support::{Cluster, Pod, HOST_IF, WAN_V4_SYNTHESIZED, WAN_V6};

const NAME: &str = "nat64_tune";
const MIB: u64 = 1 << 20;
const TUN: &str = "nat64";

fn main() -> std::process::ExitCode {
    common::bench_main(NAME, run)
}

/// One change to the NAT64 path, made and undone from the host.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Variant {
    Direct,
    Tayga,
    TxQueue4096,
    MssClamp1400,
    TunMtu1280,
    PinCpu0,
    PinCpu1,
    /// dind's translator (crates/dind-nat64, release build) on a tun of its own.
    DindNat64,
}

impl Variant {
    const ALL: [Variant; 8] = [
        Variant::Direct,
        Variant::Tayga,
        Variant::TxQueue4096,
        Variant::MssClamp1400,
        Variant::TunMtu1280,
        Variant::PinCpu0,
        Variant::PinCpu1,
        Variant::DindNat64,
    ];

    fn tag(self) -> &'static str {
        match self {
            Variant::Direct => "direct",
            Variant::Tayga => "tayga",
            Variant::TxQueue4096 => "txqueuelen4096",
            Variant::MssClamp1400 => "mss1400",
            Variant::TunMtu1280 => "tunmtu1280",
            Variant::PinCpu0 => "pin-cpu0",
            Variant::PinCpu1 => "pin-cpu1",
            Variant::DindNat64 => "dind-nat64",
        }
    }

    fn address(self) -> &'static str {
        match self {
            Variant::Direct => WAN_V6,
            _ => WAN_V4_SYNTHESIZED,
        }
    }

    /// Host commands that make the change (`apply`) or undo it.
    fn commands(self, pid: &str, apply: bool) -> Vec<Vec<String>> {
        let netns = |args: &[&str]| {
            let mut argv = vec!["nsenter", "-t", pid, "-n"];
            argv.extend_from_slice(args);
            argv.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        };
        let mss = |tool: &str| {
            netns(&[
                tool,
                "-w",
                "-t",
                "mangle",
                if apply { "-I" } else { "-D" },
                "FORWARD",
                "-p",
                "tcp",
                "--tcp-flags",
                "SYN,RST",
                "SYN",
                "-j",
                "TCPMSS",
                "--set-mss",
                "1400",
            ])
        };
        let taskset = |cpus: &str| {
            vec![
                "taskset".into(),
                "-a".into(),
                "-p".into(),
                "-c".into(),
                cpus.into(),
                pid.into(),
            ]
        };
        match self {
            Variant::Direct | Variant::Tayga | Variant::DindNat64 => {
                vec![]
            }
            Variant::TxQueue4096 => vec![netns(&[
                "ip",
                "link",
                "set",
                TUN,
                "txqueuelen",
                if apply { "4096" } else { "500" },
            ])],
            Variant::MssClamp1400 => vec![mss("iptables"), mss("ip6tables")],
            Variant::TunMtu1280 => vec![netns(&[
                "ip",
                "link",
                "set",
                TUN,
                "mtu",
                if apply { "1280" } else { "1500" },
            ])],
            Variant::PinCpu0 => vec![taskset(if apply { "0" } else { "0,1" })],
            Variant::PinCpu1 => vec![taskset(if apply { "1" } else { "0,1" })],
        }
    }
}

fn host(argv: &[String]) -> Result<String> {
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .output()
        .with_context(|| format!("cannot run {argv:?}"))?;
    ensure!(
        out.status.success(),
        "{argv:?} failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

fn env_number(var: &str, default: u64) -> Result<u64> {
    match std::env::var(var) {
        Ok(text) => text
            .trim()
            .parse()
            .with_context(|| format!("{var}={text} is not a number")),
        Err(_) => Ok(default),
    }
}

fn variants() -> Result<Vec<Variant>> {
    let Ok(list) = std::env::var("DIND_TUNE_VARIANTS") else {
        return Ok(Variant::ALL.to_vec());
    };
    list.split(',')
        .map(|tag| {
            Variant::ALL
                .into_iter()
                .find(|v| v.tag() == tag.trim())
                .with_context(|| format!("unknown variant {tag:?}"))
        })
        .collect()
}

/// tayga's user+system CPU time in clock ticks (fields 14 and 15 of /proc/PID/stat).
fn cpu_ticks(pid: &str) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after_name = stat.rsplit_once(')').context("odd /proc stat")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}

/// A tun's RX/TX packets and TX/RX drops in tayga's namespace.
fn tun_counters(pid: &str, tun: &str) -> Result<[u64; 4]> {
    let path = |what: &str| format!("/sys/class/net/{tun}/statistics/{what}");
    let script = ["rx_packets", "tx_packets", "tx_dropped", "rx_dropped"]
        .map(|w| format!("cat {}", path(w)))
        .join("; ");
    // /sys shows the namespace it was mounted in: tayga's mount namespace, hence -m. No
    // figures (zeros) when that fails, which the notes show.
    let Ok(text) = host(&["nsenter", "-t", pid, "-n", "-m", "sh", "-c", &script].map(String::from))
    else {
        return Ok([0; 4]);
    };
    let n: Vec<u64> = text
        .lines()
        .map(|l| l.trim().parse().unwrap_or(0))
        .collect();
    Ok([n[0], n[1], n[2], n[3]])
}

/// tayga's config, which dind-nat64 reads too, and the values the tuning needs.
struct TaygaConf {
    text: String,
    prefix: String,
    pool: String,
}

impl TaygaConf {
    fn read(pid: &str) -> Result<TaygaConf> {
        let text = host(&["nsenter", "-t", pid, "-m", "cat", "/etc/tayga.conf"].map(String::from))?;
        let value = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim().to_string())
                .with_context(|| format!("no {key} in tayga.conf"))
        };
        Ok(TaygaConf {
            prefix: value("prefix ")?,
            pool: value("dynamic-pool ")?,
            text,
        })
    }
}

const SECOND_TUN: &str = "nat64x";
const SECOND_CONF: &str = "/tmp/dind-nat64-tune.conf";

/// dind-nat64 running in tayga's network namespace on a tun of its own, with the prefix
/// and the pool routed onto it instead of tayga's.
struct SecondTranslator {
    child: std::process::Child,
    pid: String,
    conf_routes: [String; 2],
}

impl SecondTranslator {
    fn start(pid: &str, conf: &TaygaConf) -> Result<SecondTranslator> {
        let binary = concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/dind-nat64");
        let netns = |args: &[&str]| {
            let mut argv = vec!["nsenter", "-t", pid, "-n"];
            argv.extend_from_slice(args);
            host(&argv.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        if netns(&["ip", "link", "show", SECOND_TUN]).is_err() {
            let tuntap = ["ip", "tuntap", "add", "dev", SECOND_TUN, "mode", "tun"];
            netns(&[&tuntap[..], &["vnet_hdr", "multi_queue"]].concat())?;
        }
        netns(&["ip", "link", "set", SECOND_TUN, "up"])?;
        let own_conf: String = conf
            .text
            .lines()
            .map(|l| match l.starts_with("tun-device ") {
                true => format!("tun-device {SECOND_TUN}\n"),
                false => format!("{l}\n"),
            })
            .collect();
        std::fs::write(SECOND_CONF, own_conf)?;
        let log = std::fs::File::create("/tmp/dind-nat64-tune.log")?;
        let child = Command::new("nsenter")
            .args(["-t", pid, "-n", binary, "--config", SECOND_CONF])
            .stderr(log)
            .spawn()
            .context("start dind-nat64 (cargo build --release -p dind-nat64 first)")?;
        let second = SecondTranslator {
            child,
            pid: pid.to_string(),
            conf_routes: [conf.pool.clone(), conf.prefix.clone()],
        };
        for route in &second.conf_routes {
            netns(&["ip", "route", "replace", route, "dev", SECOND_TUN])?;
        }
        Ok(second)
    }

    fn stop(mut self) -> Result<()> {
        for route in &self.conf_routes {
            host(
                &[
                    "nsenter", "-t", &self.pid, "-n", "ip", "route", "replace", route, "dev", TUN,
                ]
                .map(String::from),
            )?;
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

async fn bulk(pod: &Pod, address: &str, bytes: u64) -> Result<f64> {
    common::download(pod, &format!("http://[{address}]:80/bytes/{bytes}"), bytes).await
}

/// TCP handshake times in ms (curl's time_connect - time_namelookup) of `count`
/// connections to `address`, one exec for all.
async fn connect_ms(pod: &Pod, address: &str, count: usize) -> Result<Vec<f64>> {
    let script = format!(
        "i=0; while [ $i -lt {count} ]; do i=$((i+1)); curl -s -g -o /dev/null --max-time 5 \
         -w '%{{time_namelookup}} %{{time_connect}}\\n' 'http://[{address}]:80/'; done"
    );
    let out = pod.run(&["sh", "-c", &script]).await?;
    ensure!(
        out.success(),
        "the connect loop failed: {}",
        out.stderr.trim()
    );
    out.stdout
        .lines()
        .map(|line| {
            let (lookup, connect) = line
                .split_once(' ')
                .with_context(|| format!("odd line {line:?}"))?;
            Ok((connect.trim().parse::<f64>()? - lookup.parse::<f64>()?) * 1000.0)
        })
        .collect()
}

/// Starts `perf record` with `args` for `seconds`, to run beside a download.
fn perf_record(args: &[&str], out: &str, seconds: u32) -> Result<std::process::Child> {
    Ok(Command::new("perf")
        .arg("record")
        .args(args)
        .args(["-g", "-o", out, "--", "sleep", &seconds.to_string()])
        .spawn()?)
}

async fn run() -> Result<String> {
    let bytes = env_number("DIND_TUNE_MIB", 256)? * MIB;
    let rounds = env_number("DIND_TUNE_ROUNDS", 3)? as usize;
    let id = env_number("DIND_TUNE_CLUSTER_ID", 49)? as u8;
    let variants = variants()?;
    let profile = std::env::var("DIND_TUNE_PROFILE").is_ok_and(|v| v == "1");
    let connections = env_number("DIND_TUNE_CONNECTIONS", 0)? as usize;

    let bench = common::exclusive(NAME).await?;
    let engine = bench.engine.clone();
    say(NAME, &format!("dind up: cluster {id}"));
    let cluster = Cluster::up(
        id,
        &[
            "--allow-aaaa",
            "--egress-interface",
            HOST_IF,
            "--nat64-v4-prefix",
            "10.100",
        ],
    )?;
    let tayga = cluster.name("tayga");
    let pid = engine
        .inspect_container(&tayga)
        .await?
        .and_then(|c| c.state?.pid)
        .context("tayga's pid")?
        .to_string();
    let conf = TaygaConf::read(&pid)?;
    let pod = Pod::create(&engine, &cluster.name("kube-node-1"), "tune-0").await?;
    let mut notes = vec![format!(
        "tun before: {}",
        host(&["nsenter", "-t", &pid, "-n", "ip", "-d", "link", "show", TUN].map(String::from))?
            .replace('\n', " ")
    )];

    let mut speeds: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut latency: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for round in 1..=rounds {
        for (i, variant) in variants.iter().enumerate() {
            say(
                NAME,
                &format!(
                    "round {round}/{rounds}: {} MiB, {}",
                    bytes / MIB,
                    variant.tag()
                ),
            );
            for argv in variant.commands(&pid, true) {
                host(&argv)?;
            }
            let translator = match variant {
                Variant::DindNat64 => Some(SecondTranslator::start(&pid, &conf)?),
                _ => None,
            };
            // The translator of this run: tayga, or dind-nat64 on its own tun.
            let (counted, tun) = match &translator {
                Some(t) => (t.child.id().to_string(), SECOND_TUN),
                None => (pid.clone(), TUN),
            };
            let (ticks, counters) = (cpu_ticks(&counted)?, tun_counters(&pid, tun)?);
            let measured = bulk(&pod, variant.address(), bytes).await;
            let handshakes = match measured {
                Ok(_) if connections > 0 => connect_ms(&pod, variant.address(), connections).await,
                _ => Ok(Vec::new()),
            };
            let (ticks_after, counters_after) = (cpu_ticks(&counted)?, tun_counters(&pid, tun)?);
            for argv in variant.commands(&pid, false) {
                host(&argv)?;
            }
            if let Some(translator) = translator {
                translator.stop()?;
            }
            let speed = measured?;
            notes.push(format!(
                "round {round} {}: {:.0} MiB/s, translator cpu {} ticks, tun rx +{} tx +{} tx_dropped +{} rx_dropped +{}",
                variant.tag(),
                speed / MIB as f64,
                ticks_after - ticks,
                counters_after[0] - counters[0],
                counters_after[1] - counters[1],
                counters_after[2] - counters[2],
                counters_after[3] - counters[3],
            ));
            speeds[i].push(speed);
            latency[i].extend(handshakes?);
        }
    }

    if profile {
        say(NAME, "profile: perf record -g on tayga during a plain run");
        let mut perf = perf_record(&["-p", &pid], "/tmp/nat64-perf.data", 6)?;
        let speed = bulk(&pod, WAN_V4_SYNTHESIZED, bytes).await?;
        perf.wait()?;
        notes.push(format!(
            "under perf: {:.0} MiB/s (report: perf report -i /tmp/nat64-perf.data)",
            speed / MIB as f64
        ));
        say(
            NAME,
            "profile: perf record -a (whole machine) during a plain run",
        );
        let mut perf = perf_record(&["-a"], "/tmp/nat64-perf-all.data", 6)?;
        let speed = bulk(&pod, WAN_V4_SYNTHESIZED, bytes).await?;
        perf.wait()?;
        notes.push(format!(
            "under perf -a: {:.0} MiB/s (report: perf report -i /tmp/nat64-perf-all.data)",
            speed / MIB as f64
        ));
        say(
            NAME,
            "profile: perf record -a during a run through dind-nat64",
        );
        let second = SecondTranslator::start(&pid, &conf)?;
        let mut perf = perf_record(&["-a"], "/tmp/nat64-perf-vnet.data", 3)?;
        let speed = bulk(&pod, WAN_V4_SYNTHESIZED, bytes * 4).await;
        perf.wait()?;
        second.stop()?;
        notes.push(format!(
            "dind-nat64 under perf -a: {:.0} MiB/s (report: perf report -i /tmp/nat64-perf-vnet.data)",
            speed? / MIB as f64
        ));
        say(NAME, "profile: strace -c on tayga during a plain run");
        let strace = Command::new("timeout")
            .args([
                "-s",
                "INT",
                "8",
                "strace",
                "-c",
                "-f",
                "-o",
                "/tmp/nat64-strace.txt",
                "-p",
                &pid,
            ])
            .spawn();
        let counters = tun_counters(&pid, TUN)?;
        let speed = bulk(&pod, WAN_V4_SYNTHESIZED, bytes).await?;
        let counters_after = tun_counters(&pid, TUN)?;
        strace?.wait()?;
        notes.push(format!(
            "under strace: {:.0} MiB/s, tun rx +{} tx +{} (strace -c: /tmp/nat64-strace.txt)",
            speed / MIB as f64,
            counters_after[0] - counters[0],
            counters_after[1] - counters[1],
        ));
    }

    let base = variants
        .iter()
        .position(|v| *v == Variant::Tayga)
        .map(|i| median(&speeds[i]));
    let rows: Vec<Vec<String>> = variants
        .iter()
        .zip(&speeds)
        .zip(&latency)
        .map(|((variant, runs), handshakes)| {
            let m = median(runs);
            let p50 = if handshakes.is_empty() {
                "-".to_string()
            } else {
                format!("{:.3} ms", median(handshakes))
            };
            vec![
                variant.tag().to_string(),
                format!("{:.0} MiB/s", m / MIB as f64),
                format!("{:.2} Gbit/s", m * 8.0 / 1e9),
                base.map_or("n/a".into(), |b| ratio(m, b)),
                runs.iter()
                    .map(|s| format!("{:.0}", s / MIB as f64))
                    .collect::<Vec<_>>()
                    .join(", "),
                p50,
            ]
        })
        .collect();
    drop(cluster);
    let mut out = format!(
        "NAT64 tuning: bulk download of {} MiB from a pod, median of {rounds} rounds\nmeasured {}, load at start {}, load at end {}\n\n",
        bytes / MIB,
        common::machine(),
        bench.load_before,
        common::load()
    );
    out.push_str(&table(
        &[
            "variant",
            "median",
            "",
            "vs tayga",
            "runs (MiB/s)",
            "connect p50",
        ],
        &rows,
    ));
    out.push('\n');
    out.push_str(&notes.join("\n"));
    Ok(out)
}

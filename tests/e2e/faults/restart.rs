//! The Docker daemon restarted under running clusters: two `--no-kubernetes` clusters, one
//! per AAAA policy, must pass `dind check network` again within 30 s of the daemon answering,
//! without `dind up`. Only a daemon that .ci/setup started and recorded is restarted, and the
//! same way: SIGTERM, then .ci/setup again. The simulated Internet belongs to no cluster and
//! its veth goes with its container, so it is made again after each restart.
//! Cluster ids 45 and 46.

use super::Tally;
use crate::support::*;
use anyhow::{bail, Context, Result};
use dind::engine::docker::Engine;
use futures_util::future::join_all;
use std::process::Command;
use std::time::{Duration, Instant};

const RESTARTS: u32 = 2;
const RECOVERY: Duration = Duration::from_secs(30);
/// Where .ci/setup records the dockerd it started.
const MARKER: &str = "/run/dind-ci/dockerd";
const SETUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/setup");
/// With cluster ids this high the default 172.18 would leave 172.16-31: 10.45 and 10.46.
const NAT64_V4_PREFIX: &str = "10.0";

/// A cluster and the names its `check network` must reach.
struct Probe {
    id: u8,
    extra: &'static [&'static str],
    names: &'static [&'static str],
}

const PROBES: [Probe; 2] = [
    Probe {
        id: 45,
        extra: &[],
        names: &["v4only.example.test", "dual.example.test"],
    },
    Probe {
        id: 46,
        extra: &["--allow-aaaa", "--egress-interface", HOST_IF],
        names: &[
            "v4only.example.test",
            "dual.example.test",
            "v6only.example.test",
        ],
    },
];

pub async fn daemon_restarts() -> Tally {
    let mut tally = Tally::new("restarts survived");
    let mut daemon = match RecordedDaemon::read() {
        Ok(daemon) => daemon,
        // A GitHub runner's dockerd is the runner's own (systemd's), never restarted here;
        // the project's CI starts its own daemon and runs the scenario.
        Err(_) if std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") => {
            eprintln!(
                "[faults] restarts survived: NOT RUN: on a GitHub runner the Docker daemon is the \
                 runner's own; this scenario restarts only one that .ci/setup started"
            );
            return tally;
        }
        Err(err) => {
            tally.record("the daemon .ci/setup started", Err(err));
            return tally;
        }
    };
    let before = HostState::capture();
    'scenario: {
        let mut wan = match Wan::start().await {
            Ok(wan) => Some(wan),
            Err(err) => {
                tally.record("the simulated Internet", Err(err));
                break 'scenario;
            }
        };
        let mut clusters = Vec::new();
        for probe in &PROBES {
            let mut extra = vec!["--nat64-v4-prefix", NAT64_V4_PREFIX];
            extra.extend_from_slice(probe.extra);
            match Cluster::up(probe.id, &extra) {
                Ok(cluster) => clusters.push(cluster),
                Err(err) => {
                    tally.record(&format!("up of cluster {}", probe.id), Err(err));
                    break 'scenario;
                }
            }
        }
        // Dropped before the clusters, whose `down` needs a daemon.
        let _daemon_up = DaemonUp {
            engine: daemon.engine.clone(),
        };
        for (probe, cluster) in PROBES.iter().zip(&clusters) {
            let passed = match passes_by(probe, Instant::now() + RECOVERY).await {
                Ok(_) => ipv4_dropped(cluster).await,
                Err(err) => Err(err),
            };
            tally.record(&format!("cluster {} before any restart", probe.id), passed);
        }
        for n in 1..=RESTARTS {
            let host_before = ClusterHostState::capture();
            let started = match restart(&daemon).await {
                Ok((next, started)) => {
                    daemon = next;
                    started
                }
                Err(err) => {
                    tally.record(&format!("restart {n}"), Err(err));
                    break;
                }
            };
            let answered = Instant::now();
            eprintln!(
                "[faults] restart {n}: dockerd (pid {}) answered {:.1?} after its start",
                daemon.pid,
                answered - started
            );
            drop(wan.take());
            match Wan::start().await {
                Ok(remade) => wan = Some(remade),
                Err(err) => {
                    tally.record(&format!("restart {n}: the simulated Internet"), Err(err));
                    break;
                }
            }
            eprintln!(
                "[faults] restart {n}: the simulated Internet made again {:.1?} after dockerd's start",
                started.elapsed()
            );
            let polls = PROBES
                .iter()
                .map(|probe| passes_by(probe, answered + RECOVERY));
            let runs = join_all(polls).await;
            for ((probe, cluster), run) in PROBES.iter().zip(&clusters).zip(runs) {
                let passed = match run {
                    Ok(run) => {
                        eprintln!(
                            "[faults] restart {n}: cluster {} passed check network in a run from {:.1?} to {:.1?} after dockerd's start",
                            probe.id,
                            run.began - started,
                            run.ended - started
                        );
                        ipv4_dropped(cluster).await
                    }
                    Err(err) => Err(err),
                };
                tally.record(&format!("restart {n}, cluster {}", probe.id), passed);
            }
            tally.record(
                &format!("restart {n}: the clusters' host routes and rules"),
                host_before.unchanged(),
            );
        }
        if tally.failures.is_empty() {
            let stays_down = stopped_by_hand_stays_down(&daemon, &clusters[0]).await;
            tally.record("a node stopped by hand, after a restart", stays_down);
        }
    }
    tally.record("nothing left", nothing_left(&before).await);
    tally
}

/// One run of `dind check network` that passed.
struct PassingRun {
    began: Instant,
    ended: Instant,
}

/// Polls `dind check network` until a run passes or `deadline` passes. The runs are
/// processes of their own, so that the clusters' polls overlap.
async fn passes_by(probe: &Probe, deadline: Instant) -> Result<PassingRun> {
    let (id, names) = (probe.id, probe.names);
    wait_for(
        &format!("check network to pass on cluster {id}"),
        deadline.saturating_duration_since(Instant::now()),
        async || {
            let began = Instant::now();
            let result = tokio::task::spawn_blocking(move || check_network(id, names)).await?;
            Ok(match result {
                Ok((true, _)) => Check::Done(PassingRun {
                    began,
                    ended: Instant::now(),
                }),
                Ok((false, checks)) => {
                    Check::NotYet(format!("failed: {}", failed_checks(&checks).join(", ")))
                }
                Err(err) => Check::NotYet(format!("{err:#}")),
            })
        },
    )
    .await
}

/// The cluster's DNS64 server and nodes hold no IPv4 address, as after `up`: Docker gives
/// them one at every start, and their entrypoints drop it (`check network` passes either way).
async fn ipv4_dropped(cluster: &Cluster) -> Result<()> {
    let engine = engine().await;
    for base in ["bind9", "kube-master", "kube-node-1", "kube-node-2"] {
        let name = cluster.name(base);
        let ipv4 = engine
            .exec_ok(&name, &["ip", "-4", "-o", "addr", "show", "dev", "eth0"])
            .await?;
        if !ipv4.trim().is_empty() {
            bail!("{name} has an IPv4 address: {}", ipv4.trim());
        }
    }
    Ok(())
}

/// `unless-stopped`, not `always`: a node stopped with `docker stop` stays stopped across a
/// daemon restart, while every other container of its cluster comes back.
async fn stopped_by_hand_stays_down(daemon: &RecordedDaemon, cluster: &Cluster) -> Result<()> {
    let stopped = cluster.name("kube-node-2");
    docker()
        .await
        .stop_container(&stopped, None)
        .await
        .with_context(|| format!("docker stop {stopped}"))?;
    restart(daemon).await?;
    let engine = engine().await;
    let others = ["tayga", "bind9", "kube-master", "kube-node-1"].map(|b| cluster.name(b));
    wait_for(
        "the cluster's other containers to run again",
        RECOVERY,
        async || {
            let mut down = Vec::new();
            for name in &others {
                if !engine.is_running(name).await? {
                    down.push(name.as_str());
                }
            }
            Ok(if down.is_empty() {
                Check::Done(())
            } else {
                Check::NotYet(format!("not running: {}", down.join(", ")))
            })
        },
    )
    .await?;
    if engine.is_running(&stopped).await? {
        bail!("{stopped} was stopped by hand, yet the daemon's restart started it again");
    }
    Ok(())
}

/// Stops the recorded daemon as a service manager would (SIGTERM, then waits until it is
/// gone), starts it again with .ci/setup, and waits until it answers. Returns the new record
/// and when the start began.
pub(crate) async fn restart(daemon: &RecordedDaemon) -> Result<(RecordedDaemon, Instant)> {
    sh(&["kill", "-TERM", &daemon.pid.to_string()])?;
    wait_for(
        &format!("dockerd (pid {}) to exit", daemon.pid),
        Duration::from_secs(90),
        async || {
            Ok(if daemon.is_alive() {
                Check::NotYet(format!("still running; its log is {}", daemon.log))
            } else {
                Check::Done(())
            })
        },
    )
    .await?;
    let started = Instant::now();
    start_daemon(&daemon.engine)?;
    wait_for(
        "the Docker daemon to answer",
        Duration::from_secs(60),
        async || {
            Ok(match Engine::connect().await {
                Ok(_) => Check::Done(()),
                Err(err) => Check::NotYet(format!("{err:#}")),
            })
        },
    )
    .await?;
    let next = RecordedDaemon::read().context(".ci/setup started dockerd but did not record it")?;
    Ok((next, started))
}

/// Runs .ci/setup for the engine the record names, so that it starts that one again (with
/// the same command line) rather than the default.
fn start_daemon(engine: &str) -> Result<()> {
    let out = Command::new("bash")
        .arg(SETUP)
        .env("DIND_DOCKER_ENGINE", engine)
        .output()
        .with_context(|| format!("cannot run {SETUP}"))?;
    if !out.status.success() {
        bail!("{SETUP} failed: {}", stderr(&out).trim());
    }
    Ok(())
}

/// However the scenario ends, the daemon answers afterwards: the clusters' `down` and every
/// later test need it.
pub(crate) struct DaemonUp {
    pub(crate) engine: String,
}

impl Drop for DaemonUp {
    fn drop(&mut self) {
        let engine = self.engine.clone();
        block_on_thread(async move {
            if Engine::connect().await.is_ok() {
                return;
            }
            eprintln!("[faults] the Docker daemon does not answer; starting it with {SETUP}");
            if let Err(err) = start_daemon(&engine) {
                eprintln!("[faults] {err:#}");
            }
        });
    }
}

/// The clusters' containers and networks, the simulated Internet and every host route and
/// rule are gone, as before the scenario.
async fn nothing_left(before: &HostState) -> Result<()> {
    let engine = engine().await;
    for probe in &PROBES {
        let (containers, networks) = labelled(&engine, probe.id).await;
        if !containers.is_empty() || !networks.is_empty() {
            bail!(
                "cluster {} left containers {containers:?} and networks {networks:?}",
                probe.id
            );
        }
    }
    if engine.inspect_container(WAN_CONTAINER).await?.is_some() {
        bail!("the simulated Internet's container {WAN_CONTAINER} is left");
    }
    let after = HostState::capture();
    if &after != before {
        bail!(
            "the host's routes or rules differ from before: before {before:#?}, after {after:#?}"
        );
    }
    Ok(())
}

/// What the clusters need of the host that is dind's, not the daemon's: the routes to NAT64's
/// pools, the clusters' ip6tables rules and IPv6 forwarding. (The daemon's restart changes
/// its own: it writes its IPv4 rules again in another order, adds a route for each network's
/// IPv6 subnet, and its containers come back on new veths.)
#[derive(Debug, PartialEq, Eq)]
struct ClusterHostState {
    pool_routes: Vec<String>,
    ip6_rules: Vec<String>,
    ipv6_forwarding: String,
}

impl ClusterHostState {
    fn capture() -> ClusterHostState {
        let routes = sh(&["ip", "-4", "route", "show"])
            .unwrap_or_else(|err| panic!("cannot list the host's routes: {err:#}"));
        let pool_routes = routes
            .lines()
            .filter(|line| {
                line.contains(" via ")
                    && PROBES
                        .iter()
                        .any(|p| line.contains(&format!(" dev br-dind{} ", p.id)))
            })
            .map(|line| line.replace(" linkdown", "").trim().to_string())
            .collect();
        let ip6_rules = PROBES
            .iter()
            .flat_map(|p| ip6tables_lines_with(&format!("dind:cluster={}", p.id)))
            .collect();
        let forwarding = "/proc/sys/net/ipv6/conf/all/forwarding";
        ClusterHostState {
            pool_routes,
            ip6_rules,
            ipv6_forwarding: std::fs::read_to_string(forwarding)
                .unwrap_or_else(|err| panic!("cannot read {forwarding}: {err}")),
        }
    }

    /// The host holds the same now; a snapshot without the clusters' routes or rules would
    /// prove nothing.
    fn unchanged(&self) -> Result<()> {
        if self.pool_routes.len() != PROBES.len() || self.ip6_rules.is_empty() {
            bail!("before the restart, the host lacked the clusters' routes or rules: {self:#?}");
        }
        let now = ClusterHostState::capture();
        if &now != self {
            bail!("before the restart {self:#?}, after {now:#?}");
        }
        Ok(())
    }
}

/// The dockerd that .ci/setup started, as its record says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RecordedDaemon {
    pid: u32,
    command: String,
    log: String,
    /// DIND_DOCKER_ENGINE of the .ci/setup run that started it; records from before
    /// .ci/setup knew engines are 20.10's.
    pub(crate) engine: String,
}

impl RecordedDaemon {
    fn parse(text: &str) -> Result<RecordedDaemon> {
        let value = |key: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .with_context(|| format!("{MARKER} has no `{key}=` line: {text:?}"))
        };
        let pid = value("pid")?;
        Ok(RecordedDaemon {
            pid: pid
                .parse()
                .with_context(|| format!("{MARKER}: pid {pid:?} is not a number"))?,
            command: value("command")?.to_string(),
            log: value("log")?.to_string(),
            engine: value("engine").unwrap_or("20.10").to_string(),
        })
    }

    /// The record, when it names the dockerd running now.
    pub(crate) fn read() -> Result<RecordedDaemon> {
        let text = match std::fs::read_to_string(MARKER) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                bail!(
                    "{}",
                    no_record(std::env::var("CI").as_deref() == Ok("true"))
                )
            }
            Err(err) => return Err(err).with_context(|| format!("cannot read {MARKER}")),
        };
        let daemon = RecordedDaemon::parse(&text)?;
        let running = std::fs::read(format!("/proc/{}/cmdline", daemon.pid)).unwrap_or_default();
        let running = command_line(&running);
        if !daemon.is_alive() || running != daemon.command {
            bail!(
                "{MARKER} names dockerd pid {} (`{}`), but that process is {}: the record is stale, \
                 so this test may not restart the daemon running now",
                daemon.pid,
                daemon.command,
                if running.is_empty() {
                    "gone".to_string()
                } else {
                    format!("`{running}`")
                }
            );
        }
        Ok(daemon)
    }

    /// Running: neither gone nor a zombie that nobody reaped.
    fn is_alive(&self) -> bool {
        std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
            .is_ok_and(|stat| process_state(&stat) != Some('Z'))
    }
}

/// Why the scenario cannot run without a record: in CI, .ci/setup starts the daemon, so a
/// missing record is a fault of the setup, never a reason to skip.
fn no_record(ci: bool) -> String {
    if ci {
        format!(
            "no {MARKER}: in CI, .ci/setup must have started the Docker daemon and recorded it \
             there; this daemon came from elsewhere, and this test may restart only that one"
        )
    } else {
        format!(
            "no {MARKER}: this Docker daemon was not started by .ci/setup, so this test may not \
             restart it; to run the scenario, start the daemon with `bash .ci/setup` while none runs"
        )
    }
}

/// /proc/PID/cmdline's NUL-separated arguments, joined by spaces.
fn command_line(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .split('\0')
        .filter(|arg| !arg.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The state letter of /proc/PID/stat, which follows the command name in parentheses (a
/// name that may itself hold spaces and parentheses).
fn process_state(stat: &str) -> Option<char> {
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_names_the_pid_command_and_log() {
        let text = "# Written by .ci/setup\npid=17266\ncommand=dockerd --debug\nlog=/var/log/dockerd.log\n";
        assert_eq!(
            RecordedDaemon::parse(text).unwrap(),
            RecordedDaemon {
                pid: 17266,
                command: "dockerd --debug".into(),
                log: "/var/log/dockerd.log".into(),
                engine: "20.10".into(),
            }
        );
        let text = "pid=42\ncommand=/var/cache/dind/engines/29.8.1/bin/dockerd --data-root /x\n\
                    log=/var/log/dockerd-29.8.1.log\nengine=29\nbefore.ip6tables.FORWARD=ACCEPT\n";
        assert_eq!(RecordedDaemon::parse(text).unwrap().engine, "29");
        let err = RecordedDaemon::parse("command=dockerd\nlog=/l\n").unwrap_err();
        assert!(err.to_string().contains("no `pid=` line"), "{err}");
        let err = RecordedDaemon::parse("pid=x\ncommand=dockerd\nlog=/l\n").unwrap_err();
        assert!(err.to_string().contains("not a number"), "{err}");
    }

    #[test]
    fn a_missing_record_says_why_and_what_ci_expects() {
        assert!(no_record(true).contains("in CI, .ci/setup must have started"));
        assert!(no_record(false).contains("was not started by .ci/setup"));
    }

    #[test]
    fn proc_files_are_read_past_odd_command_names() {
        assert_eq!(process_state("42 (a) b) Z 1 42"), Some('Z'));
        assert_eq!(process_state("42 (dockerd) S 1"), Some('S'));
        assert_eq!(process_state(""), None);
        assert_eq!(command_line(b"dockerd\0--debug\0"), "dockerd --debug");
        assert_eq!(command_line(b""), "");
    }
}

//! `up` stopped at points spread evenly over a whole run of it, under both AAAA policies:
//! killed with SIGKILL and then `dind down`; interrupted with SIGINT and then nothing (the
//! rollback alone); interrupted twice and then `dind down`; stopped with SIGTERM. And `down`
//! interrupted, which finishes. Each time the host (rules, routes, forwarding) and Docker
//! (containers, networks, volumes) must be as they were before. Cluster ids 47 and 48.

use super::Tally;
use crate::support::*;
use anyhow::{bail, Context, Result};
use std::process::{Child, Output};
use std::time::{Duration, Instant};

/// Points per AAAA policy.
const POINTS: u32 = 12;

/// The host and Docker, for before/after comparisons.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    host: HostState,
    docker: Vec<String>,
}

async fn snapshot() -> Snapshot {
    let (containers, networks) = docker_objects(&engine().await).await;
    let mut docker: Vec<String> = containers
        .iter()
        .map(|c| format!("container {c}"))
        .collect();
    docker.extend(networks.iter().map(|n| format!("network {n}")));
    docker.extend(docker_volumes().await.iter().map(|v| format!("volume {v}")));
    Snapshot {
        host: HostState::capture(),
        docker,
    }
}

/// What differs between two snapshots, line by line.
fn differences(before: &Snapshot, after: &Snapshot) -> Option<String> {
    if before == after {
        return None;
    }
    let lines = |s: &Snapshot| -> Vec<String> {
        let h = &s.host;
        let mut all: Vec<String> = Vec::new();
        for (part, text) in [
            ("iptables", &h.ipv4_rules),
            ("ip6tables", &h.ipv6_rules),
            ("ipv4 route", &h.ipv4_routes),
            ("ipv6 route", &h.ipv6_routes),
            ("ipv6 forwarding", &h.ipv6_forwarding),
        ] {
            all.extend(text.lines().map(|l| format!("{part}: {}", l.trim())));
        }
        all.extend(s.docker.iter().cloned());
        all
    };
    let (b, a) = (lines(before), lines(after));
    let gone = b
        .iter()
        .filter(|l| !a.contains(l))
        .map(|l| format!("- {l}"));
    let new = a
        .iter()
        .filter(|l| !b.contains(l))
        .map(|l| format!("+ {l}"));
    Some(gone.chain(new).collect::<Vec<_>>().join("\n"))
}

struct Policy {
    id: u8,
    label: &'static str,
    extra: &'static [&'static str],
}

const POLICIES: [Policy; 2] = [
    Policy {
        id: 47,
        label: "synthesize-all",
        extra: &[],
    },
    Policy {
        id: 48,
        label: "allow-aaaa",
        extra: &["--allow-aaaa", "--egress-interface", HOST_IF],
    },
];

impl Policy {
    fn up_args(&self) -> Vec<String> {
        let mut args: Vec<String> = [
            "up",
            "--no-kubernetes",
            "--cluster-id",
            &self.id.to_string(),
            "--nat64-v4-prefix",
            "10.100",
            "--upstream-dns",
            WAN_V4,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(self.extra.iter().map(|s| s.to_string()));
        args
    }

    fn spawn(&self, args: &[String]) -> Child {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        spawn_dind(&args, &[])
    }

    fn down(&self) -> Result<()> {
        let out = dind(&["down", "--cluster-id", &self.id.to_string()], &[]);
        if !out.status.success() {
            bail!("dind down failed: {}", stderr(&out));
        }
        Ok(())
    }

    /// A whole `up` on a warm machine (images built, a first run already made), then down.
    fn full_run(&self) -> Result<Duration> {
        let start = Instant::now();
        let out = self.spawn(&self.up_args()).wait_with_output()?;
        let took = start.elapsed();
        if !out.status.success() {
            bail!("dind up failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        self.down()?;
        Ok(took)
    }
}

/// Sends `signals` to `child`, 100 ms apart, and waits for it to end.
fn stop(mut child: Child, signals: &[&str]) -> Result<Output> {
    let pid = child.id().to_string();
    let sent = signals.iter().enumerate().try_for_each(|(n, signal)| {
        if n > 0 {
            std::thread::sleep(Duration::from_millis(100));
        }
        sh(&["kill", "-s", signal, &pid]).map(|_| ())
    });
    // A child that ended just before a signal cannot get it: its status tells the caller.
    let ended = sent.is_err() && matches!(child.try_wait(), Ok(Some(_)));
    if sent.is_err() && !ended {
        let _ = child.kill();
    }
    let out = child.wait_with_output()?;
    if !ended {
        sent?;
    }
    Ok(out)
}

/// Starts `up`, waits `after`, and stops it with `signals`; its exit status and stderr.
/// A run varies in length: when `up` had already finished (that point would test nothing),
/// the cluster is taken down and the point tried again earlier, at most three times.
fn stop_up_at(policy: &Policy, after: Duration, signals: &[&str]) -> Result<(Option<i32>, String)> {
    let mut at = after;
    for _ in 0..3 {
        let mut child = policy.spawn(&policy.up_args());
        std::thread::sleep(at);
        if let Some(status) = child.try_wait()? {
            eprintln!("[faults] up had already ended ({status}) at {at:.2?}; trying earlier");
            policy.down()?;
            at = at * 7 / 10;
            continue;
        }
        let out = stop(child, signals)?;
        if out.status.success() {
            // The signal came once every change was made: nothing was left to stop.
            eprintln!("[faults] up had made everything by {at:.2?}; trying earlier");
            policy.down()?;
            at = at * 7 / 10;
            continue;
        }
        return Ok((
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    bail!("up always ended before the signal, down to {at:.2?}")
}

/// Starts `down` and sends it SIGINT once it has finished its first step (a removal);
/// its exit status and stderr.
fn interrupt_down(policy: &Policy) -> Result<(Option<i32>, String)> {
    use std::io::{BufRead, BufReader, Read};
    let mut child = policy.spawn(&["down".into(), "--cluster-id".into(), policy.id.to_string()]);
    let mut err = BufReader::new(child.stderr.take().expect("stderr is piped"));
    let mut seen = String::new();
    let mut interrupted = Ok(());
    loop {
        let mut line = String::new();
        match err.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                interrupted = Err(e.into());
                break;
            }
        }
        seen.push_str(&line);
        // The end of a removal phase: something is removed already.
        if line.starts_with("Removing") && line.contains(": done in ") {
            interrupted = sh(&["kill", "-s", "INT", &child.id().to_string()]).map(|_| ());
            break;
        }
    }
    let _ = err.read_to_string(&mut seen);
    let status = child.wait()?;
    interrupted?;
    if !seen.contains("SIGINT") {
        bail!("down had ended before the signal:\n{seen}");
    }
    Ok((status.code(), seen))
}

/// Fails when the host or Docker differs from `before`. The forwarding switch and the
/// ip6tables FORWARD policy are then put back, so that one failure does not show again in every later run (a cluster's `up`
/// records whether it found forwarding off).
async fn same_as(before: &Snapshot, what: &str) -> Result<()> {
    let Some(diff) = differences(before, &snapshot().await) else {
        return Ok(());
    };
    restore_forwarding(&before.host)?;
    bail!("the host differs from before {what}:\n{diff}")
}

/// The points of one policy's run: POINTS of them, evenly spread, the last well before
/// the end (a run varies in length).
fn points(run: Duration) -> Vec<Duration> {
    (1..=POINTS).map(|i| run * i / (POINTS + 2)).collect()
}

pub async fn stopped_up(kills: &mut Tally, interrupts: &mut Tally, others: &mut Tally) {
    for policy in &POLICIES {
        let before = snapshot().await;
        // The first run builds what is missing; the shortest of the next two is the one
        // the points spread over (a busy machine makes a run longer).
        let run = policy
            .full_run()
            .and_then(|_| Ok(policy.full_run()?.min(policy.full_run()?)));
        let run = match run {
            Ok(run) => run,
            Err(err) => {
                for tally in [&mut *kills, &mut *interrupts, &mut *others] {
                    tally.record(
                        policy.label,
                        Err(anyhow::anyhow!("a whole up failed: {err:#}")),
                    );
                }
                continue;
            }
        };
        eprintln!(
            "[faults] {}: a whole up takes {run:.2?}; stopping it at {POINTS} points",
            policy.label
        );
        for at in points(run) {
            let name = format!("{} SIGKILL at {at:.2?}", policy.label);
            let outcome = async {
                stop_up_at(policy, at, &["KILL"])?;
                policy.down()?;
                same_as(&before, "up (killed, then down)").await
            };
            kills.record(&name, outcome.await);
        }
        for at in points(run) {
            let name = format!("{} SIGINT at {at:.2?}", policy.label);
            let outcome = async {
                let (code, err) = stop_up_at(policy, at, &["INT"])?;
                let rolled_back = same_as(&before, "up (interrupted, no down)").await;
                if rolled_back.is_err() {
                    policy.down()?;
                }
                if code != Some(130) || !err.contains("interrupted") {
                    bail!("up exited {code:?}, not 130 with \"interrupted\":\n{err}");
                }
                rolled_back
            };
            interrupts.record(&name, outcome.await);
        }
        for (signals, what) in [
            (&["TERM"][..], "SIGTERM"),
            (&["INT", "INT"][..], "two SIGINTs, then down"),
        ] {
            for at in [run / 3, run * 2 / 3] {
                let name = format!("{} {what} at {at:.2?}", policy.label);
                let outcome = async {
                    let (code, err) = stop_up_at(policy, at, signals)?;
                    if code != Some(130) {
                        policy.down()?;
                        bail!("up exited {code:?}, not 130:\n{err}");
                    }
                    if signals.len() > 1 {
                        policy.down()?;
                    }
                    same_as(&before, what).await
                };
                others.record(&name, outcome.await);
            }
        }
        let name = format!("{} down interrupted", policy.label);
        let outcome = async {
            let out = policy.spawn(&policy.up_args()).wait_with_output()?;
            if !out.status.success() {
                bail!("dind up failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            let (code, err) = interrupt_down(policy)?;
            if code != Some(0) {
                policy.down()?;
                bail!("down exited {code:?} after SIGINT, not 0: {err}");
            }
            same_as(&before, "down (interrupted)")
                .await
                .context("an interrupted down must finish")
        };
        others.record(&name, outcome.await);
    }
}

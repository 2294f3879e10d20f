//! Fault injection: `up` killed or interrupted at points spread over its run, concurrent
//! `up`s of one cluster, the Docker daemon restarted under a running cluster. One test runs
//! them all, prints each figure as it goes and a summary line at the end, then fails if any
//! scenario did. Cluster ids: 40-42 (concurrent), 45-46 (restart), 47-48 (points).

mod concurrent;
mod points;
pub(crate) mod restart;

use crate::support::*;
use std::fmt;

/// How many runs of one kind of fault the host survived, and what went wrong in the others.
pub struct Tally {
    pub what: &'static str,
    pub survived: u32,
    pub total: u32,
    pub failures: Vec<String>,
}

impl Tally {
    pub fn new(what: &'static str) -> Tally {
        Tally {
            what,
            survived: 0,
            total: 0,
            failures: Vec::new(),
        }
    }

    /// Counts one run and prints its outcome at once, so that a long suite is never silent.
    pub fn record(&mut self, run: &str, outcome: anyhow::Result<()>) {
        self.total += 1;
        match outcome {
            Ok(()) => {
                self.survived += 1;
                eprintln!("[faults] {} {run}: ok", self.what);
            }
            Err(err) => {
                eprintln!("[faults] {} {run}: FAILED: {err:#}", self.what);
                self.failures.push(format!("{run}: {err:#}"));
            }
        }
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}/{}", self.what, self.survived, self.total)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_are_survived() {
    let _serial = serial().await;
    let mut kills = Tally::new("kill points survived");
    let mut interrupts = Tally::new("interrupt points survived");
    let mut others = Tally::new("double interrupts, SIGTERMs and interrupted downs survived");
    {
        let _wan = Wan::start().await.expect("the simulated Internet starts");
        points::stopped_up(&mut kills, &mut interrupts, &mut others).await;
    }
    // Before the restarts, which end every lock.
    let concurrent = concurrent::concurrent_ups().await;
    // It restarts the daemon, and makes the simulated Internet again after each restart.
    let restarts = restart::daemon_restarts().await;
    let tallies: Vec<Tally> = vec![kills, concurrent, restarts, interrupts, others];
    let summary: Vec<String> = tallies.iter().map(Tally::to_string).collect();
    eprintln!("{}", summary.join(", "));
    let failures: Vec<String> = tallies
        .iter()
        .flat_map(|t| t.failures.iter().map(move |f| format!("{}: {f}", t.what)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! A per-cluster lock kept by the Docker daemon: `up`, `down` and `clean` of one cluster
//! take turns, whichever process and whichever machine runs them against this Docker host
//! (a file on the client would not do: DOCKER_HOST may name another machine).
//!
//! The lock is a container named `dind-lock-<id>`. Docker gives a container name to one
//! container at a time, so of two that create it, one wins (network names are not unique,
//! and creating a volume is not exclusive). Its process, `cat`, reads a stdin that the
//! holder attaches before starting it and that Docker closes when that one connection ends
//! (StdinOnce). However the holder ends, releasing, exiting or killed, its connection
//! closes, `cat` reads the end of its input and exits, and Docker removes the container
//! (AutoRemove). What cannot end that way, a waiter removes: a lock that exited but is
//! still there, or one that was created and never started (its holder died in between).

use crate::engine::backoff::Backoff;
use crate::engine::docker::Engine;
use crate::engine::error::{kind, kind_of, ErrorKind};
use crate::engine::host::{create_listed, process_alive, remove_listed, this_host};
use crate::engine::images;
use crate::labels::{self, LockHolder};
use crate::progress::{Phase, Progress};
use crate::render::containers::{cluster_lock, ContainerSpec};
use anyhow::{bail, Context, Result};
use bollard::container::AttachContainerResults;
use bollard::models::ContainerStateStatusEnum;
use bollard::query_parameters::AttachContainerOptionsBuilder;
use futures_util::future::{BoxFuture, Shared};
use futures_util::FutureExt;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant, SystemTime};

/// The environment variable that sets `--lock-timeout` when the flag is not given.
pub const LOCK_TIMEOUT_ENV: &str = "DIND_LOCK_TIMEOUT";
/// How long a command waits for another one of its cluster: long enough for an `up` that
/// builds its images.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(600);
/// A holder starts its lock right after creating it; one still not started after this
/// long was left by a holder that died in between.
const START_GRACE: Duration = Duration::from_secs(10);
/// Why a lock did not start: a waiter took it away as stale first.
const TAKEN_AWAY: &str = "the cluster's lock was removed before it started";

/// The name of cluster `cluster_id`'s lock container.
pub fn lock_name(cluster_id: u8) -> String {
    format!("dind-lock-{cluster_id}")
}

/// Cluster `cluster_id` was still locked when the wait for it ran out.
#[derive(Debug, thiserror::Error)]
pub struct LockTimeout {
    pub cluster_id: u8,
    /// None: the lock's labels do not say (another dind version's lock).
    pub holder: Option<LockHolder>,
    pub waited: Duration,
}

impl fmt::Display for LockTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cluster {} is locked by {}; gave up after waiting {}. Let that command finish, or \
             wait longer with --lock-timeout SECONDS or {LOCK_TIMEOUT_ENV}=SECONDS (default {}; \
             0 does not wait)",
            self.cluster_id,
            describe(self.holder.as_ref()),
            humantime::format_duration(Duration::from_secs(self.waited.as_secs())),
            DEFAULT_LOCK_TIMEOUT.as_secs(),
        )
    }
}

fn describe(holder: Option<&LockHolder>) -> String {
    holder.map_or_else(
        || "a holder whose labels this dind cannot read".to_string(),
        LockHolder::to_string,
    )
}

/// A lock container's state, as far as the lock goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LockState {
    /// Created, not started yet.
    Created,
    /// Its holder's connection decides when it ends.
    Running,
    /// Exited, but not removed (yet).
    Ended,
    /// Docker is removing it.
    Removing,
}

impl LockState {
    fn of(status: Option<ContainerStateStatusEnum>) -> LockState {
        match status {
            Some(ContainerStateStatusEnum::CREATED) => LockState::Created,
            Some(ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD) => {
                LockState::Ended
            }
            Some(ContainerStateStatusEnum::REMOVING) => LockState::Removing,
            // Running, and whatever else Docker may say: the holder's connection decides.
            _ => LockState::Running,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Held,
    /// Nobody holds it any more, for this reason.
    Stale(&'static str),
}

/// Whether a lock that has been in `state` for `unchanged_for` (as far as this waiter saw)
/// still has a holder. `holder_gone`: its holder was a process of this machine that no
/// longer exists. A running lock always has one: it ends with its holder's connection.
fn verdict(state: LockState, unchanged_for: Duration, holder_gone: bool) -> Verdict {
    match state {
        LockState::Ended => Verdict::Stale("it has exited"),
        LockState::Created if holder_gone => {
            Verdict::Stale("it was never started and its holder is gone")
        }
        LockState::Created if unchanged_for >= START_GRACE => {
            Verdict::Stale("it was never started")
        }
        LockState::Created | LockState::Running | LockState::Removing => Verdict::Held,
    }
}

/// A process of this machine that no longer exists. Process ids mean nothing elsewhere.
fn holder_gone(holder: &LockHolder, this_host: Option<&str>, alive: impl Fn(u32) -> bool) -> bool {
    this_host == Some(holder.host.as_str()) && !alive(holder.pid)
}

/// The start of a lock container, under way in a task of its own; Err says why it failed.
type Start = Shared<BoxFuture<'static, Result<(), String>>>;

tokio::task_local! {
    /// The start of the lock that the command running in this task holds (see [`holding`]).
    static STARTING: Start;
}

/// Waits until the lock of the command running in this task (see [`holding`]) has started:
/// the command calls it before its first change. Its create made the lock the command's;
/// its start makes it end with the command's connection, whatever ends the command. Ok at
/// once outside [`holding`].
pub async fn started() -> Result<()> {
    let Ok(start) = STARTING.try_with(Start::clone) else {
        return Ok(());
    };
    start.await.map_err(anyhow::Error::msg)
}

/// Cluster `cluster_id`'s lock, held until [`release`](Self::release)d or dropped.
pub struct ClusterLock {
    engine: Engine,
    container: String,
    /// The attached stdin of the lock's `cat`: the lock lasts as long as this connection.
    connection: Option<AttachContainerResults>,
    /// Its start, once attached.
    start: Option<Start>,
    released: bool,
}

impl ClusterLock {
    /// Takes cluster `cluster_id`'s lock for `command`, waiting up to `timeout` for its
    /// holder to let go; the wait shows who holds it. A lock whose holder is gone is removed.
    pub async fn acquire(
        engine: &Engine,
        cluster_id: u8,
        command: &str,
        timeout: Duration,
        progress: &Progress,
    ) -> Result<ClusterLock> {
        loop {
            let lock =
                Self::acquire_starting(engine, cluster_id, command, timeout, progress).await?;
            match lock.start.clone().expect("taken locks are starting").await {
                Ok(()) => return Ok(lock),
                Err(why) => {
                    lock.release().await;
                    if why != TAKEN_AWAY {
                        bail!(why);
                    }
                }
            }
        }
    }

    /// [`acquire`](Self::acquire), returning once the lock is created and attached: it
    /// is this process's then, and its start goes on in a task of its own.
    async fn acquire_starting(
        engine: &Engine,
        cluster_id: u8,
        command: &str,
        timeout: Duration,
        progress: &Progress,
    ) -> Result<ClusterLock> {
        let name = lock_name(cluster_id);
        let image = images::lock_image(engine).await?;
        let here = this_host();
        let holder = LockHolder::new(
            command,
            here.as_deref().unwrap_or_default(),
            std::process::id(),
            SystemTime::now(),
        );
        let spec = cluster_lock(&name, &image, cluster_id, &holder);
        let mut waiting = Waiting::new(progress, cluster_id, timeout);
        loop {
            if let Some(lock) = Self::take(engine, &spec).await? {
                waiting.finish(true);
                return Ok(lock);
            }
            let Some(seen) = engine.inspect_container(&name).await? else {
                continue; // Released meanwhile.
            };
            let id = seen.id.unwrap_or_default();
            let labels = seen.config.and_then(|c| c.labels).unwrap_or_default();
            if labels::locked_cluster(&labels) != Some(cluster_id) {
                waiting.finish(false);
                bail!(
                    "container {name} stands where cluster {cluster_id}'s lock goes, but it is no \
                     dind lock (no label {}={cluster_id}); remove it with `docker rm -f {name}`",
                    labels::LOCK
                );
            }
            let other = LockHolder::from_labels(&labels);
            let state = LockState::of(seen.state.and_then(|s| s.status));
            let gone = other
                .as_ref()
                .is_some_and(|h| holder_gone(h, here.as_deref(), process_alive));
            if let Verdict::Stale(why) = verdict(state, waiting.unchanged_for(&id, state), gone) {
                engine.remove_container(&id).await?;
                progress.note(&format!(
                    "removed cluster {cluster_id}'s lock left by {}: {why}",
                    describe(other.as_ref())
                ));
                continue;
            }
            if waiting.ran_out() {
                waiting.finish(false);
                return Err(LockTimeout {
                    cluster_id,
                    holder: other,
                    waited: timeout,
                }
                .into());
            }
            // A lock being removed has no holder left to name.
            if state != LockState::Removing {
                waiting.held_by(&id, other.as_ref());
            }
            waiting.pause().await;
        }
    }

    /// Creates and attaches to the lock, and starts it in a task of its own; None when
    /// another holder has it, or took this one away as stale before it was attached.
    async fn take(engine: &Engine, spec: &ContainerSpec) -> Result<Option<ClusterLock>> {
        // Listed for the process's last cleanup as soon as it exists: a command stopped at
        // once (a signal) leaves no lock behind, not even one it had not started yet.
        let container = match create_listed(engine, spec.clone()).await {
            Ok(id) => id,
            Err(err) if kind_of(&err) == ErrorKind::Conflict => return Ok(None),
            Err(err) => return Err(err).context("cannot create the cluster's lock"),
        };
        let mut lock = ClusterLock {
            engine: engine.clone(),
            container,
            connection: None,
            start: None,
            released: false,
        };
        let attach = AttachContainerOptionsBuilder::default()
            .stdin(true)
            .stdout(true)
            .stderr(true)
            .stream(true)
            .build();
        match engine
            .api()
            .attach_container(&lock.container, Some(attach))
            .await
        {
            Ok(connection) => lock.connection = Some(connection),
            Err(err) => {
                lock.release().await;
                if kind(&err) == ErrorKind::NotFound {
                    return Ok(None);
                }
                return Err(err).context("cannot attach to the cluster's lock");
            }
        }
        let (engine, container) = (engine.clone(), lock.container.clone());
        let start = tokio::spawn(async move {
            match engine.api().start_container(&container, None).await {
                Ok(()) => Ok(()),
                Err(err) if kind(&err) == ErrorKind::NotFound => Err(TAKEN_AWAY.to_string()),
                Err(err) => Err(format!("cannot start the cluster's lock: {err}")),
            }
        });
        let start = start.map(|joined| joined.unwrap_or_else(|e| Err(e.to_string())));
        lock.start = Some(start.boxed().shared());
        Ok(Some(lock))
    }

    /// Lets go of the lock: it is removed before its connection closes, so no waiter sees
    /// it exited. Should the removal fail, the closed connection still ends it.
    pub async fn release(mut self) {
        self.released = true;
        remove_listed(&self.engine, &self.container).await;
        self.connection = None;
    }
}

impl Drop for ClusterLock {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        // Dropped while held (a signal, a panic): the closed connection ends a started lock.
        // The removal makes that quicker, and ends one not started yet; it stays listed
        // until done, for the process's last cleanup to finish.
        self.connection = None;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (engine, container) = (self.engine.clone(), self.container.clone());
            runtime.spawn(async move { remove_listed(&engine, &container).await });
        }
    }
}

/// Runs `work` holding cluster `cluster_id`'s lock (see [`ClusterLock::acquire`]); the lock
/// is let go however `work` ends: returning, failing, panicking or dropped.
///
/// `work` begins while the lock's start is still under way (it is this process's once
/// created) and waits for that start with [`started`] before its first change; a lock that
/// fails to start fails the command.
pub async fn holding<T>(
    engine: &Engine,
    cluster_id: u8,
    command: &str,
    timeout: Duration,
    progress: &Progress,
    work: impl AsyncFnOnce() -> Result<T>,
) -> Result<T> {
    let lock =
        ClusterLock::acquire_starting(engine, cluster_id, command, timeout, progress).await?;
    let start = lock.start.clone().expect("taken locks are starting");
    let outcome = STARTING
        .scope(start.clone(), AssertUnwindSafe(work()).catch_unwind())
        .await;
    let started = start.await;
    lock.release().await;
    match outcome {
        Ok(result) => {
            started.map_err(anyhow::Error::msg)?;
            result
        }
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// A waiter's view: how long it has waited, whom it has named, and since when it has seen
/// the lock as it is.
struct Waiting<'a> {
    progress: &'a Progress,
    cluster_id: u8,
    timeout: Duration,
    start: Instant,
    backoff: Backoff,
    phase: Option<Phase>,
    /// The lock container whose holder was last named.
    announced: Option<String>,
    /// The lock container last seen, its state, and since when it has been seen so.
    seen: Option<(String, LockState, Instant)>,
}

impl<'a> Waiting<'a> {
    fn new(progress: &'a Progress, cluster_id: u8, timeout: Duration) -> Waiting<'a> {
        Waiting {
            progress,
            cluster_id,
            timeout,
            start: Instant::now(),
            backoff: Backoff::new(Duration::from_millis(50), Duration::from_millis(500)),
            phase: None,
            announced: None,
            seen: None,
        }
    }

    /// How long lock `id` has been seen in `state`; zero when that is new.
    fn unchanged_for(&mut self, id: &str, state: LockState) -> Duration {
        match &self.seen {
            Some((seen, was, since)) if seen == id && *was == state => since.elapsed(),
            _ => {
                self.seen = Some((id.to_string(), state, Instant::now()));
                Duration::ZERO
            }
        }
    }

    fn ran_out(&self) -> bool {
        self.start.elapsed() >= self.timeout
    }

    /// Names the holder of lock `id` once, and keeps the waiting phase's line on it.
    fn held_by(&mut self, id: &str, holder: Option<&LockHolder>) {
        let who = describe(holder);
        if self.announced.as_deref() != Some(id) {
            self.progress.note(&format!(
                "cluster {} is locked by {who}; waiting up to {} for it (--lock-timeout)",
                self.cluster_id,
                humantime::format_duration(self.timeout),
            ));
            self.announced = Some(id.to_string());
        }
        let name = format!("Waiting for the lock of cluster {}", self.cluster_id);
        let phase = self.phase.get_or_insert_with(|| self.progress.phase(&name));
        phase.message(&format!("held by {who}"));
    }

    async fn pause(&mut self) {
        let left = self.timeout.saturating_sub(self.start.elapsed());
        let _ = tokio::time::timeout(left, self.backoff.wait()).await;
    }

    fn finish(&mut self, ok: bool) {
        if let Some(phase) = self.phase.take() {
            phase.finish(ok);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn a_lock_is_stale_when_it_can_no_longer_end_with_its_holder() {
        use LockState::*;
        let s = Duration::from_secs;
        let cases = [
            (Running, s(0), false, false),
            (Running, s(3600), true, false),
            (Removing, s(60), true, false),
            (Created, s(0), false, false),
            (Created, START_GRACE - s(1), false, false),
            (Created, START_GRACE, false, true),
            (Created, s(0), true, true),
            (Ended, s(0), false, true),
        ];
        for (state, unchanged_for, gone, stale) in cases {
            assert_eq!(
                verdict(state, unchanged_for, gone) != Verdict::Held,
                stale,
                "{state:?} for {unchanged_for:?}, holder gone: {gone}"
            );
        }
    }

    #[test]
    fn dockers_states_map_to_the_locks() {
        use ContainerStateStatusEnum::*;
        assert_eq!(LockState::of(Some(CREATED)), LockState::Created);
        assert_eq!(LockState::of(Some(RUNNING)), LockState::Running);
        assert_eq!(LockState::of(Some(PAUSED)), LockState::Running);
        assert_eq!(LockState::of(Some(EXITED)), LockState::Ended);
        assert_eq!(LockState::of(Some(DEAD)), LockState::Ended);
        assert_eq!(LockState::of(Some(REMOVING)), LockState::Removing);
        assert_eq!(LockState::of(None), LockState::Running);
    }

    #[test]
    fn only_a_holder_of_this_machine_can_be_known_gone() {
        let holder = LockHolder::new("up", "box", 7, UNIX_EPOCH);
        let dead = |_| false;
        assert!(holder_gone(&holder, Some("box"), dead));
        assert!(!holder_gone(&holder, Some("box"), |pid| pid == 7));
        assert!(!holder_gone(&holder, Some("other"), dead));
        assert!(!holder_gone(&holder, None, dead));
    }

    #[test]
    fn the_timeout_names_the_holder_and_how_to_wait_longer() {
        let timeout = LockTimeout {
            cluster_id: 40,
            holder: Some(LockHolder::new(
                "up",
                "box",
                4242,
                UNIX_EPOCH + Duration::from_secs(1_764_636_045),
            )),
            waited: Duration::from_millis(2500),
        };
        assert_eq!(
            timeout.to_string(),
            "cluster 40 is locked by `dind up` (pid 4242 on box, since 2025-12-02T00:40:45Z); \
             gave up after waiting 2s. Let that command finish, or wait longer with \
             --lock-timeout SECONDS or DIND_LOCK_TIMEOUT=SECONDS (default 600; 0 does not wait)"
        );
        let unreadable = LockTimeout {
            holder: None,
            waited: Duration::ZERO,
            ..timeout
        };
        assert!(unreadable
            .to_string()
            .starts_with("cluster 40 is locked by a holder whose labels this dind cannot read; gave up after waiting 0s."));
    }

    #[test]
    fn each_cluster_has_a_lock_of_its_own() {
        assert_eq!(lock_name(0), "dind-lock-0");
        assert_eq!(lock_name(40), "dind-lock-40");
        assert_ne!(lock_name(4), lock_name(41));
    }
}

//! The life of a host helper container: it is removed when its handle is done with, on
//! success, on error, on panic and when its future is dropped (a Ctrl-C, a failed sibling in
//! a join). Every helper of this process is also listed here until it is gone, so that
//! [`removing_helpers`] can remove what a dropped handle could not before the process ends,
//! and each carries an owner label, so that a later run removes the strays of a killed one.

use crate::engine::backoff::Backoff;
use crate::engine::docker::{container_name, Engine};
use crate::interrupt::{self, Interrupted};
use crate::labels::{self, Role};
use crate::render::containers::ContainerSpec;
use anyhow::Result;
use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// The helpers of this process not yet removed, by container name.
static LIVE: Mutex<Vec<(String, Engine)>> = Mutex::new(Vec::new());

static HELPER_SEQ: AtomicU32 = AtomicU32::new(0);

/// Containers being created with [`create_listed`]; the last cleanup waits for them.
static CREATING: AtomicU32 = AtomicU32::new(0);
static CREATED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// A helper container, removed by [`Helper::remove`] or, failing that, when dropped.
pub(crate) struct Helper {
    engine: Engine,
    pub(crate) name: String,
    /// Docker's id of it, as listed for removal.
    id: String,
    removed: bool,
}

impl Helper {
    /// Creates (does not start) a helper from the spec `render` makes for its name; the spec
    /// gets this process as its owner.
    pub(crate) async fn create(
        engine: &Engine,
        render: impl FnOnce(&str) -> ContainerSpec,
    ) -> Result<Helper> {
        let name = format!(
            "dind-host-helper-{}-{}",
            std::process::id(),
            HELPER_SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let mut spec = render(&name);
        spec.labels
            .insert(labels::OWNER.to_string(), owner(std::process::id()));
        let id = create_listed(engine, spec).await?;
        Ok(Helper {
            engine: engine.clone(),
            name,
            id,
            removed: false,
        })
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    pub(crate) async fn remove(mut self) {
        self.removed = true;
        remove_listed(&self.engine, &self.id).await;
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        // Dropped mid-use. Docker is only reachable asynchronously, so the removal runs as a
        // task; the name stays listed until it is done, for `removing_helpers` to finish.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (engine, id) = (self.engine.clone(), self.id.clone());
            runtime.spawn(async move { remove_listed(&engine, &id).await });
        }
    }
}

/// Creates a container that this process removes before it ends (see
/// [`removing_helpers`]), whatever becomes of the caller: Docker completes a create request
/// whose caller was dropped (by a signal, or a failed sibling), so the request runs in a
/// task of its own, which lists the container as soon as Docker has it. Its id.
pub(crate) async fn create_listed(engine: &Engine, spec: ContainerSpec) -> Result<String> {
    CREATING.fetch_add(1, Ordering::SeqCst);
    let task_engine = engine.clone();
    let task = tokio::spawn(async move {
        let created = task_engine.create(&spec).await;
        if let Ok(id) = &created {
            lock_live().push((id.clone(), task_engine.clone()));
        }
        CREATING.fetch_sub(1, Ordering::SeqCst);
        CREATED.notify_waiters();
        created
    });
    task.await?
}

fn lock_live() -> std::sync::MutexGuard<'static, Vec<(String, Engine)>> {
    // A panic while the list was held cannot leave it half-changed: keep using it.
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes `name`; unlists it once Docker no longer has it, so a failed removal is retried
/// at exit. A removal already under way elsewhere (Docker answers 409) is not taken as done:
/// that one may be a dropped helper's task, which ends with the process.
pub(crate) async fn remove_listed(engine: &Engine, name: &str) {
    let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_millis(500));
    for _ in 0..40 {
        if engine.remove_container(name).await.is_ok()
            && matches!(engine.inspect_container(name).await, Ok(None))
        {
            lock_live().retain(|(listed, _)| listed != name);
            return;
        }
        backoff.wait().await;
    }
}

fn owner(pid: u32) -> String {
    format!("{}/{pid}", this_host().unwrap_or_default())
}

pub(crate) fn this_host() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(name.trim().to_string()).filter(|n| !n.is_empty())
}

/// Whether a helper whose owner label is `owner` is a stray: made on this machine by a
/// process that is gone, or made by a dind that set no owner. Without /proc (not Linux)
/// nothing can be told, and nothing is a stray.
pub(crate) fn is_stray(
    owner: Option<&str>,
    this_host: Option<&str>,
    alive: impl Fn(u32) -> bool,
) -> bool {
    let Some(owner) = owner else {
        return true;
    };
    let Some((host, pid)) = owner.rsplit_once('/') else {
        return true;
    };
    match (this_host, pid.parse::<u32>()) {
        (Some(this), Ok(pid)) => host == this && !alive(pid),
        _ => false,
    }
}

pub(crate) fn process_alive(pid: u32) -> bool {
    pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes cluster `cluster_id`'s helpers whose dind process is gone (killed before it
/// could remove them); the names removed.
pub async fn remove_stray_helpers(engine: &Engine, cluster_id: u8) -> Result<Vec<String>> {
    let id = cluster_id.to_string();
    let here = this_host();
    let mut removed = Vec::new();
    for container in engine
        .containers_with(&[
            (labels::CLUSTER, &id),
            (labels::ROLE, Role::HostHelper.as_label()),
        ])
        .await?
    {
        let name = container_name(&container);
        let labels = container.labels.unwrap_or_default();
        if !is_stray(
            labels.get(labels::OWNER).map(String::as_str),
            here.as_deref(),
            process_alive,
        ) {
            continue;
        }
        let Some(name) = name else {
            continue;
        };
        engine.remove_container(&name).await?;
        removed.push(name);
    }
    Ok(removed)
}

/// Runs a whole command and then removes every helper it left: the command may have
/// panicked or been stopped by a signal. A command holding an [`interrupt::Graceful`] guard
/// is only asked to stop by the first SIGINT or SIGTERM (it rolls back or finishes); any
/// other, and every command at the second signal, is dropped at once and fails with
/// [`Interrupted`]. A panic is resumed after the cleanup. A further signal, or 20 s (2 s
/// after a second signal), cuts the cleanup short: a later `up` or `down` removes the rest.
pub async fn removing_helpers<T>(command: impl Future<Output = Result<T>>) -> Result<T> {
    let mut command = std::pin::pin!(AssertUnwindSafe(command).catch_unwind());
    let mut cleanup = Duration::from_secs(20);
    let outcome = loop {
        tokio::select! {
            outcome = &mut command => break outcome,
            signal = interrupt::next_signal() => match interrupt::request() {
                interrupt::Stop::Asked(doing) => {
                    eprintln!("{signal}: {doing}; send it again to stop at once");
                }
                interrupt::Stop::Now => {
                    if interrupt::signals() > 1 {
                        cleanup = Duration::from_secs(2);
                    }
                    break Ok(Err(Interrupted.into()));
                }
            },
        }
    };
    tokio::select! {
        _ = tokio::time::timeout(cleanup, remove_listed_helpers()) => {}
        _ = interrupt::next_signal() => {}
    }
    match outcome {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Removes every helper of this process that is still listed, once the creations under
/// way have ended.
pub async fn remove_listed_helpers() {
    loop {
        let created = CREATED.notified();
        if CREATING.load(Ordering::SeqCst) == 0 {
            break;
        }
        created.await;
    }
    let listed = lock_live().clone();
    futures_util::future::join_all(
        listed
            .iter()
            .map(|(name, engine)| remove_listed(engine, name)),
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strays_are_helpers_of_gone_processes_on_this_host() {
        let alive = |pid: u32| pid == 42;
        let cases = [
            (Some("box/7"), Some("box"), true),
            (Some("box/42"), Some("box"), false),
            (Some("other/7"), Some("box"), false),
            (Some("/7"), Some("box"), false),
            (Some("box/7"), None, false),
            (Some("box/not-a-pid"), Some("box"), false),
            (Some("no-pid"), Some("box"), true),
            (None, Some("box"), true),
            (None, None, true),
        ];
        for (owner, host, stray) in cases {
            assert_eq!(is_stray(owner, host, alive), stray, "{owner:?} on {host:?}");
        }
    }

    #[test]
    fn owner_names_this_process() {
        let owner = owner(std::process::id());
        let (_, pid) = owner.rsplit_once('/').expect("HOST/PID");
        assert_eq!(pid, std::process::id().to_string());
        assert!(!is_stray(
            Some(&owner),
            this_host().as_deref(),
            process_alive
        ));
    }
}

//! SIGINT and SIGTERM. A command that can stop cleanly (`up` rolls back, `down` finishes
//! its removal) holds a [`Graceful`] guard: the first signal only asks it to stop, and it
//! watches [`requested`] and [`stopped`]. Any other command, and every command at the
//! second signal, is stopped at once by the caller of [`next_signal`].

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::Notify;

/// The command was stopped by SIGINT (Ctrl-C) or SIGTERM.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

static REQUESTED: AtomicBool = AtomicBool::new(false);
static SIGNALS: AtomicUsize = AtomicUsize::new(0);
static REQUEST: Notify = Notify::const_new();
/// What the held [`Graceful`] guards do at a first signal, innermost last.
static GRACEFUL: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// While held, the first signal asks the command to stop instead of stopping it.
#[must_use = "the guard works only while it is held"]
pub struct Graceful(());

impl Graceful {
    /// `on_signal` says what the command does when asked to stop, e.g. "rolling back".
    pub fn hold(on_signal: &'static str) -> Graceful {
        lock_graceful().push(on_signal);
        Graceful(())
    }
}

impl Drop for Graceful {
    fn drop(&mut self) {
        lock_graceful().pop();
    }
}

fn lock_graceful() -> MutexGuard<'static, Vec<&'static str>> {
    // A list of names cannot be left half-changed by a panic: keep using it.
    GRACEFUL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a signal asks of the command that runs when it arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The command holds a [`Graceful`] guard and was asked to stop: let it finish what
    /// the guard names.
    Asked(&'static str),
    /// Drop the command now.
    Now,
}

/// Records a signal; whether the command is to be stopped now.
pub fn request() -> Stop {
    SIGNALS.fetch_add(1, Ordering::SeqCst);
    let first = !REQUESTED.swap(true, Ordering::SeqCst);
    REQUEST.notify_waiters();
    match lock_graceful().last() {
        Some(&doing) if first => Stop::Asked(doing),
        _ => Stop::Now,
    }
}

/// How many signals have arrived.
pub fn signals() -> usize {
    SIGNALS.load(Ordering::SeqCst)
}

/// Whether a signal has asked the command to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Fails with [`Interrupted`] once a signal has asked to stop: called before each change, so
/// that a stop never cuts a change in half and whatever was made is known.
pub fn check() -> Result<(), Interrupted> {
    if requested() {
        Err(Interrupted)
    } else {
        Ok(())
    }
}

/// Resolves once a signal has asked to stop.
pub async fn stopped() {
    loop {
        let notified = REQUEST.notified();
        if requested() {
            return;
        }
        notified.await;
    }
}

/// Runs `work`, which only reads or waits (dropping it mid-way changes nothing), unless a
/// signal asks to stop first.
pub async fn unless_stopped<T>(work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::select! {
        result = work => result,
        () = stopped() => Err(Interrupted.into()),
    }
}

/// The next SIGINT or SIGTERM, by name.
pub async fn next_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    "SIGINT"
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: the state is process-wide.
    #[tokio::test]
    async fn a_graceful_command_is_asked_once_then_stopped() {
        assert!(check().is_ok());
        let waiting = tokio::spawn(stopped());
        let guard = Graceful::hold("rolling back");
        assert_eq!(request(), Stop::Asked("rolling back"));
        assert!(check().is_err());
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("stopped() resolves after the request")
            .expect("the task");
        let cut = unless_stopped(std::future::pending::<anyhow::Result<()>>()).await;
        assert!(cut.unwrap_err().is::<Interrupted>());
        assert_eq!(request(), Stop::Now, "the second signal stops at once");
        drop(guard);
        // Other tests of this binary run in this process.
        REQUESTED.store(false, Ordering::SeqCst);
        SIGNALS.store(0, Ordering::SeqCst);
    }
}

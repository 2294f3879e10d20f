//! Waiting for a condition: polls, first often and then less so, until a deadline, and
//! says on timeout what it waited for and what it last saw.

use anyhow::{bail, Result};
use std::time::{Duration, Instant};

/// One look at the condition.
pub enum Check<T> {
    Done(T),
    /// Not yet; what was seen instead, for the timeout's message.
    NotYet(String),
}

const FIRST_DELAY: Duration = Duration::from_millis(50);
const MAX_DELAY: Duration = Duration::from_secs(1);

/// Runs `check` until it is [`Check::Done`], sleeping 50 ms after the first look and twice
/// as long after each further one (at most 1 s), for at most `timeout`. An error from
/// `check` ends the wait at once.
pub async fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut check: impl AsyncFnMut() -> Result<Check<T>>,
) -> Result<T> {
    let start = Instant::now();
    let mut delay = FIRST_DELAY;
    loop {
        let seen = match check().await? {
            Check::Done(value) => return Ok(value),
            Check::NotYet(seen) => seen,
        };
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            bail!(
                "waited {elapsed:.1?} for {what}; the last look saw: {}",
                if seen.trim().is_empty() {
                    "nothing"
                } else {
                    seen.trim()
                }
            );
        }
        tokio::time::sleep(delay.min(timeout - elapsed)).await;
        delay = (delay * 2).min(MAX_DELAY);
    }
}

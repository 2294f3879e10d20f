//! The arguments that pick a cluster and wait for its lock, shared by several commands.

use super::durations;
use crate::engine::lock::{DEFAULT_LOCK_TIMEOUT, LOCK_TIMEOUT_ENV};
use crate::exit::InvalidInput;
use anyhow::Result;
use clap::Args;
use std::time::Duration;

#[derive(Args, Debug)]
pub(super) struct TargetArgs {
    /// The cluster to act on [env: CLUSTER_ID] [default: 0]
    #[arg(long, value_name = "N")]
    pub(super) cluster_id: Option<String>,
}

/// `up`, `down` and `clean` of one cluster take turns (a lock kept by the Docker daemon).
#[derive(Args, Clone, Copy, Debug)]
pub(super) struct LockArgs {
    /// How long to wait while another `up`, `down` or `clean` of this cluster runs; 0 does
    /// not wait [env: DIND_LOCK_TIMEOUT] [default: 600]
    #[arg(long, value_name = "SECONDS", value_parser = durations::parse_lock_timeout)]
    lock_timeout: Option<Duration>,
}

impl LockArgs {
    /// The flag, else DIND_LOCK_TIMEOUT, else the default.
    pub(super) fn timeout(self, env: impl Fn(&str) -> Option<String>) -> Result<Duration> {
        if let Some(timeout) = self.lock_timeout {
            return Ok(timeout);
        }
        match env(LOCK_TIMEOUT_ENV) {
            None => Ok(DEFAULT_LOCK_TIMEOUT),
            Some(text) => durations::parse_lock_timeout(&text).map_err(|why| {
                InvalidInput::wrap(anyhow::anyhow!(
                    "invalid {LOCK_TIMEOUT_ENV} '{text}' (from the environment): {why}"
                ))
            }),
        }
    }
}

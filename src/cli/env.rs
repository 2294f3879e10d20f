//! What commands read from dind's environment.

use crate::config::{self, Layer, Origin, Sourced};
use crate::exit::InvalidInput;
use anyhow::Result;

/// The variable `name` of dind's environment, when set and Unicode.
pub(super) fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The cluster id of a command that acts on a cluster: flag, else CLUSTER_ID, else 0.
pub(super) fn target_id(flag: &Option<String>) -> Result<u8> {
    let raw = flag
        .as_ref()
        .map(|v| Sourced::new(v.clone(), Origin::Flag("--cluster-id")))
        .or(Layer::from_env(env_var).cluster_id)
        .unwrap_or_else(|| Sourced::new("0", Origin::Default));
    config::parse_cluster_id(&raw).map_err(InvalidInput::wrap)
}

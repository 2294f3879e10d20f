//! dind: IPv6-first local Kubernetes test clusters in Docker, with DNS64/NAT64 and an
//! optional direct path for IPv6 sites (`--allow-aaaa`).
//!
//! Data flows one way: [`config`] (the settings table; flags, env, file) -> [`plan`] (every
//! derived fact) -> [`labels`] (the record) -> [`render`] (pure files, rules and container
//! specs) -> [`engine`] (the only user of Docker's API) -> [`state`] -> [`preflight`] ->
//! [`cluster`] (phases that change things) and [`diagnose`] (commands that only read) ->
//! [`cli`]. `layering.rs` checks that no import runs back.

pub mod cli;
pub mod cluster;
pub mod config;
pub mod diagnose;
pub mod engine;
pub mod exit;
pub mod interrupt;
pub mod kube;
pub mod labels;
pub mod plan;
pub mod preflight;
pub mod progress;
pub mod render;
pub mod state;

#[cfg(test)]
mod test_support;

#[cfg(test)]
mod layering;

#[cfg(test)]
mod docs_links;

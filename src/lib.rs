//! dind: IPv6-first local Kubernetes test clusters in Docker, with DNS64/NAT64 and an
//! optional direct path for IPv6 sites (`--allow-aaaa`).
//!
//! Data flows one way: [`config`] (flags, env, file) -> [`plan`] (pure address plan) ->
//! [`render`] (pure file contents and rule vectors) -> [`cluster`] (the phases that talk to
//! Docker and the host through [`engine`]).

pub mod cli;
pub mod cluster;
pub mod config;
pub mod diagnose;
pub mod engine;
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

//! dind: IPv6-first local Kubernetes test clusters in Docker, with DNS64/NAT64 and an
//! optional direct path for IPv6 sites (`--allow-aaaa`).
//!
//! Data flows one way: [`config`] (flags, env, file) -> [`plan`] (pure address plan) ->
//! [`render`] (pure file contents and rule vectors) -> [`cluster`] (the phases that talk to
//! Docker through [`docker`] and to the host through [`host`]).

pub mod cli;
pub mod cluster;
pub mod config;
pub mod diagnose;
pub mod docker;
pub mod host;
pub mod images;
pub mod kube;
pub mod labels;
pub mod plan;
pub mod preflight;
pub mod progress;
pub mod render;

#[cfg(test)]
mod unit_tests;

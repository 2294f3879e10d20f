//! The end-to-end suites, one test binary: `cargo test --test e2e`, one suite with
//! `cargo test --test e2e network_plane::`. They need root and a Docker daemon
//! (`bash .ci/setup`), except `examples`, which needs neither.
//!
//! The test harness runs the tests of one binary side by side, so every test that touches
//! Docker or the host takes [`support::serial`] first: the suites share one simulated
//! Internet, the host's rule tables and routes, and Docker's daemon-wide state. Cluster
//! ids stay apart per suite all the same (named in each suite's header), so that a fixture
//! left over by one cannot be mistaken for another's.

mod support;

mod bad_input;
mod check_network;
mod cli_output;
mod diagnostics;
mod examples;
mod faults;
mod kubernetes;
mod load;
mod lock;
mod nat64;
mod nat64_engine;
mod network_plane;
mod node_image;
mod nodes;

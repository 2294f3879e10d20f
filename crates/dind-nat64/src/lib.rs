//! dind's own NAT64 translator (`--nat64-engine dind-nat64`), the library half of the
//! `dind-nat64` binary that runs in the NAT64 container in tayga's place: the same
//! tayga.conf, the same dynamic pool, RFC 7915 translation, on a TUN whose virtio-net
//! headers let TCP super-packets cross whole (see docs/nat64-speed.md for why that is the
//! whole difference in speed).
//!
//! A crate of its own, with a small binary of its own; dind links it too and answers to the
//! program's name, so that the program dind uploads is always dind's own version.

#![deny(unsafe_code)]

pub mod addr;
pub(crate) mod checksum;
pub mod conf;
pub mod dynamic_map;
pub mod pool;
pub mod process;
pub mod program;
pub mod static_map;
pub mod translate;
#[allow(unsafe_code)] // the system calls of the TUN device and of signals
pub mod tun;
pub(crate) mod v4_scope;
pub mod vnet;
pub(crate) mod wire;

//! The apply side: the only modules that talk to Docker (through bollard) and, through a
//! short-lived helper container, to the Docker host.

pub mod backoff;
mod body;
pub mod docker;
pub mod error;
pub mod host;
pub mod images;
pub mod info;
pub mod kit;
pub mod lock;
pub(crate) mod transfer;

//! The commands that act on a cluster: `up`, `down`, `clean`, `status`. Each is a list of
//! named, ordered phases over one shared context.

pub mod down;
pub(crate) mod dry_run;
mod forwarding;
pub(crate) mod kubernetes;
pub(crate) mod load;
pub mod nat64_program;
mod undo;
pub(crate) mod up;

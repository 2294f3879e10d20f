//! The commands that act on a cluster: `up`, `down`, `clean`, `status`. Each is a list of
//! named, ordered phases over one shared context.

pub mod down;
pub mod dry_run;
pub mod kubernetes;
pub mod up;

//! Diagnostics: `check network` (what pods can reach, and by which path), `export logs`
//! (a cluster's state for a bug report) and `doctor` (the Docker host before `up`).

pub(crate) mod check;
pub(crate) mod doctor;
pub(crate) mod export;

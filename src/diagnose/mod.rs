//! Diagnostics: `check network` (what pods can reach, and by which path), `export logs`
//! (a cluster's state for a bug report) and `doctor` (the Docker host before `up`).

pub mod check;
pub mod doctor;
pub mod export;

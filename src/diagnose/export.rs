//! `dind export logs`: a cluster's state, for a bug report.

use crate::docker::Engine;
use crate::progress::Progress;
use anyhow::{bail, Result};
use std::path::PathBuf;

pub struct Written {
    pub dir: PathBuf,
    pub archive: PathBuf,
}

pub async fn export_logs(
    _engine: &Engine,
    _cluster_id: u8,
    _dir: Option<PathBuf>,
    _progress: &Progress,
) -> Result<Written> {
    bail!("dind export logs is not implemented yet")
}

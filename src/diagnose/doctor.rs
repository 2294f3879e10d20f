//! `dind doctor`: preflight checks of the Docker host.

use crate::config::Config;
use crate::docker::Engine;
use crate::progress::Progress;
use anyhow::{bail, Result};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Finding {
    pub check: String,
    pub ok: bool,
    pub detail: String,
}

pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.findings.iter().all(|f| f.ok)
    }
    pub fn render_table(&self) -> String {
        String::new()
    }
}

pub async fn doctor(_engine: &Engine, _config: &Config, _progress: &Progress) -> Result<Report> {
    bail!("dind doctor is not implemented yet")
}

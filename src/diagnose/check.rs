//! `dind check network`.

use crate::docker::Engine;
use crate::progress::Progress;
use anyhow::{bail, Result};
use serde::Serialize;
use std::net::IpAddr;

pub struct Options {
    pub names: Vec<String>,
    pub port: u16,
    pub host_resolver: Option<IpAddr>,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub check: String,
    pub ok: bool,
    pub detail: String,
}

pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
    pub fn render_table(&self) -> String {
        String::new()
    }
}

pub async fn check_network(
    _engine: &Engine,
    _cluster_id: u8,
    _options: &Options,
    _progress: &Progress,
) -> Result<Report> {
    bail!("dind check network is not implemented yet")
}

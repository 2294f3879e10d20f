//! Turns merged raw settings into a [`Config`]: every row of the table checked, then the
//! rules across settings; every refusal is kept, in the order the settings are checked.

use super::layer::Sourced;
use super::refusal::{ConfigError, Refusal};
use super::settings::{check_rows, Layer, ROWS};
use super::table::Basis;
use super::validated::Config;
use super::{check, rules};

/// A cluster id alone, for commands that only name a cluster (down, clean, status).
pub fn parse_cluster_id(raw: &Sourced) -> Result<u8, ConfigError> {
    check::cluster_id(&raw.value, &Basis::default())
        .map_err(|reason| ConfigError::new(vec![Refusal::new(ROWS.cluster_id.name, raw, reason)]))
}

/// Merges `layer` over the defaults and checks every setting.
pub fn validate(layer: Layer) -> Result<Config, ConfigError> {
    let mut refusals = Vec::new();
    let config = check_rows(&layer, &mut refusals).into_config();
    // The rules across settings need every setting: they run once all were accepted.
    if let (Some(config), true) = (&config, refusals.is_empty()) {
        rules::check_overlaps(config, &layer, &mut refusals);
        rules::check_registry_mirrors(config, &layer, &mut refusals);
        rules::check_kubernetes_from(config, &layer, &mut refusals);
    }
    match config {
        Some(config) if refusals.is_empty() => Ok(config),
        _ => Err(ConfigError::new(refusals)),
    }
}

#[cfg(test)]
mod tests;

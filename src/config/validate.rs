//! Turns merged raw settings into a [`Config`]: every row of the table checked, then the
//! rules across settings; every refusal is kept, in the order the settings are checked.

use super::layer::Sourced;
use super::settings::{check_rows, Layer, ROWS};
use super::table::Basis;
use super::{check, rules, Config};
use std::fmt;

/// A setting that was refused: which one, the value, where it came from, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub(crate) setting: String,
    pub(crate) value: String,
    pub(crate) origin: String,
    pub(crate) reason: String,
    /// The item of a list setting (`containerdConfigPatches[1]`); None for others.
    pub(crate) index: Option<usize>,
}

impl Refusal {
    pub(crate) fn new(setting: &str, raw: &Sourced, reason: impl Into<String>) -> Refusal {
        Refusal {
            setting: setting.to_string(),
            value: raw.value.clone(),
            origin: raw.origin.to_string(),
            reason: reason.into(),
            index: None,
        }
    }

    /// The refusal of item `index` of a list setting.
    pub(crate) fn at(mut self, index: usize) -> Refusal {
        self.index = Some(index);
        self
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let index = self.index.map(|i| format!("[{i}]")).unwrap_or_default();
        write!(
            f,
            "invalid {}{index} '{}' (from {}): {}",
            self.setting, self.value, self.origin, self.reason
        )
    }
}

/// Every refused setting, in the order they are checked; one line each.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub struct ConfigError {
    refusals: Vec<Refusal>,
}

impl ConfigError {
    fn new(refusals: Vec<Refusal>) -> ConfigError {
        assert!(!refusals.is_empty(), "an error refuses something");
        ConfigError { refusals }
    }

    /// The first refusal: what the settings' order puts first.
    #[cfg(test)]
    pub(crate) fn first(&self) -> &Refusal {
        &self.refusals[0]
    }

    #[cfg(test)]
    pub(crate) fn refusals(&self) -> &[Refusal] {
        &self.refusals
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, refusal) in self.refusals.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{refusal}")?;
        }
        Ok(())
    }
}

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

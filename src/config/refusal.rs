//! A refused setting, and all of them at once: what config's errors are made of.

use super::layer::Sourced;
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
    pub(super) fn new(refusals: Vec<Refusal>) -> ConfigError {
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

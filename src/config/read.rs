//! The environment and the command line, read into a [`Layer`] row by row (the config file
//! is file.rs's).

use super::layer::{Origin, Sourced};
use super::settings::{Layer, SETTINGS};
use super::table::{Env, Flag, Setting};
use std::convert::Infallible;

/// Every environment variable dind reads for its settings (the tests clear them all).
pub fn env_var_names() -> Vec<&'static str> {
    SETTINGS.iter().flat_map(|row| row.env.names()).collect()
}

impl Layer {
    /// k-d-c's environment variables. `get` is `std::env::var` in the binary, a map in tests.
    /// Values are trimmed; a blank one is unset.
    pub(crate) fn from_env(get: impl Fn(&str) -> Option<String>) -> Layer {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let read = |row: &'static Setting| {
            let (value, origin) = match row.env {
                Env::None => return Ok(None),
                Env::Var(name) => (get(name), name),
                Env::Read { origin, read, .. } => (read(&get), origin),
            };
            Ok::<_, Infallible>(value.map(|v| vec![Sourced::new(v, Origin::Env(origin))]))
        };
        match Layer::read(read) {
            Ok(layer) => layer,
            Err(never) => match never {},
        }
    }

    /// The command line: `value` gives a flag's value, `switched` whether a switch was given;
    /// both are asked by the setting's field name (the clap argument id).
    pub(crate) fn from_flags(
        value: impl Fn(&'static str) -> Option<String>,
        switched: impl Fn(&'static str) -> bool,
    ) -> Layer {
        let read = |row: &'static Setting| {
            let value = match row.flag {
                Flag::None => None,
                Flag::Value(_) => value(row.field),
                Flag::Switch { sets, .. } => switched(row.field).then(|| sets.to_string()),
            };
            let origin = Origin::Flag(row.flag_name().unwrap_or(row.name));
            Ok::<_, Infallible>(value.map(|v| vec![Sourced::new(v, origin)]))
        };
        match Layer::read(read) {
            Ok(layer) => layer,
            Err(never) => match never {},
        }
    }
}

#[cfg(test)]
mod tests;

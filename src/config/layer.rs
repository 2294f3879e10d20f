//! One layer of raw settings (strings as the user wrote them) and where each came from.

use super::settings::Layer;
use super::table::{Env, Flag, Setting};
use std::convert::Infallible;
use std::fmt;

/// Where a setting's value came from; error messages name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    File {
        path: String,
        key: &'static str,
    },
    /// Entry `index` of a list under `key`, starting at `line` (1-based) when known; the
    /// value is the entry's text `as_written` (line for line), or as re-serialized.
    FileEntry {
        path: String,
        key: &'static str,
        index: usize,
        line: Option<usize>,
        as_written: bool,
    },
    Env(&'static str),
    Flag(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the default"),
            Origin::File { path, key } => write!(f, "key '{key}' of config file {path}"),
            Origin::FileEntry {
                path,
                key,
                index,
                line,
                ..
            } => {
                write!(f, "entry {index} of key '{key}' of config file {path}")?;
                match line {
                    Some(line) => write!(f, ", line {line}"),
                    None => Ok(()),
                }
            }
            Origin::Env(name) => write!(f, "environment variable {name}"),
            Origin::Flag(name) => write!(f, "flag {name}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced {
    pub(crate) value: String,
    pub origin: Origin,
}

impl Sourced {
    pub fn new(value: impl Into<String>, origin: Origin) -> Self {
        Sourced {
            value: value.into(),
            origin,
        }
    }
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

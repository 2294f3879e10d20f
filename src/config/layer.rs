//! A raw setting (text as the user wrote it) and where it came from.

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

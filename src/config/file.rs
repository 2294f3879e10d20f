//! The YAML config file: `apiVersion`/`kind` checked, unknown keys rejected, every other
//! key read as its row of the settings table says.

use super::layer::{Origin, Sourced};
use super::nodes::shape;
use super::settings::{Layer, SETTINGS};
use super::table::File;
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use yaml_serde::{Mapping, Value};

pub(crate) const API_VERSION: &str = "dind.k8s.io/v1alpha1";
pub(crate) const KIND: &str = "Cluster";

#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum List {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FeatureGates {
    Map(std::collections::BTreeMap<String, Scalar>),
    Text(String),
}

impl FeatureGates {
    fn into_string(self) -> Result<String> {
        match self {
            FeatureGates::Text(text) => Ok(text),
            FeatureGates::Map(map) => map
                .into_iter()
                .map(|(name, value)| {
                    let value = value
                        .into_string("featureGates")
                        .with_context(|| format!("featureGates.{name}"))?;
                    Ok(format!("{name}={value}"))
                })
                .collect::<Result<Vec<_>>>()
                .map(|pairs| pairs.join(",")),
        }
    }
}

impl Scalar {
    /// A YAML float is refused rather than reformatted: `10.10` would silently become `10.1`.
    fn into_string(self, key: &str) -> Result<String> {
        Ok(match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) if key == "nat64V4Prefix" => {
                bail!("{key}: {f} is read as a YAML number; quote it, e.g. {key}: \"172.18\"")
            }
            Scalar::Float(f) => bail!("{key}: {f} is not a whole number"),
            Scalar::Str(s) => s,
        })
    }
}

impl List {
    fn into_string(self) -> String {
        match self {
            List::One(s) => s,
            List::Many(v) => v.join(","),
        }
    }
}

/// Parses a config file's text; `path` is only used in messages. Every problem of the file
/// is reported, one a line.
pub fn load_file(path: &str, text: &str) -> Result<Layer> {
    let (layer, problems) = read_file(path, text)?;
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(layer)
}

/// The settings a config file gives, and every problem of it, one message each (what could
/// not be read is left out of the layer). Fails only when the text is not a YAML mapping.
pub fn read_file(path: &str, text: &str) -> Result<(Layer, Vec<String>)> {
    let source = Source { path, text };
    let mut file: Mapping = yaml_serde::from_str(text).with_context(|| source.not_valid())?;
    let mut problems = source.header_problems(&mut file);
    let values = source.known_values(file, &mut problems);
    let layer = source.layer(values, &mut problems);
    // In the file's order, as its reader goes through it.
    problems.sort_by_key(|problem| problem_line(problem));
    Ok((layer, problems))
}

/// The config file being read: its path for messages, its text for line numbers.
#[derive(Clone, Copy)]
struct Source<'a> {
    path: &'a str,
    text: &'a str,
}

impl Source<'_> {
    fn not_valid(&self) -> String {
        format!(
            "config file {} is not a valid dind cluster config",
            self.path
        )
    }

    /// `line N: ` for a top-level key found in the text, else nothing.
    fn at_line(&self, key: &str) -> String {
        match key_line(self.text, key) {
            Some(line) => format!("line {line}: "),
            None => String::new(),
        }
    }

    /// Takes `apiVersion` and `kind` out of the file; what is wrong with them.
    fn header_problems(&self, file: &mut Mapping) -> Vec<String> {
        let mut problems = Vec::new();
        let path = self.path;
        let api_version = self.header(file, "apiVersion", &mut problems);
        let kind = self.header(file, "kind", &mut problems);
        if let Some(api_version) = api_version.filter(|v| v != API_VERSION) {
            problems.push(format!("config file {path}: apiVersion '{api_version}' is not supported; use 'apiVersion: {API_VERSION}'"));
        }
        if let Some(kind) = kind.filter(|k| k != KIND) {
            problems.push(format!(
                "config file {path}: kind '{kind}' is not supported; use 'kind: {KIND}'"
            ));
        }
        problems
    }

    /// Header `key` as a string, taken out of the file; None (and a problem) when it is
    /// missing or not a string.
    fn header(&self, file: &mut Mapping, key: &str, problems: &mut Vec<String>) -> Option<String> {
        match file.remove(key) {
            None => {
                problems.push(format!("{}: missing field `{key}`", self.not_valid()));
                None
            }
            Some(Value::String(value)) => Some(value),
            Some(other) => {
                problems.push(format!(
                    "config file {}: {}{key}: expected a string, got {}",
                    self.path,
                    self.at_line(key),
                    shape(&other)
                ));
                None
            }
        }
    }

    /// The values of the keys the settings table knows, by key; a problem for every other.
    fn known_values(
        &self,
        file: Mapping,
        problems: &mut Vec<String>,
    ) -> BTreeMap<&'static str, Value> {
        let mut values = BTreeMap::new();
        for (key, value) in file {
            let row = key
                .as_str()
                .and_then(|key| SETTINGS.iter().find(|row| row.file.key() == key));
            match row {
                Some(row) => {
                    values.insert(row.file.key(), value);
                }
                None => problems.push(self.unknown_field(&key)),
            }
        }
        values
    }

    fn unknown_field(&self, key: &Value) -> String {
        let expected: Vec<String> = ["apiVersion", "kind"]
            .into_iter()
            .chain(SETTINGS.iter().map(|row| row.file.key()))
            .map(|key| format!("`{key}`"))
            .collect();
        let (key, line) = match key.as_str() {
            Some(key) => (key.to_string(), self.at_line(key)),
            None => (format!("{key:?}"), String::new()),
        };
        format!(
            "{}: {line}unknown field `{key}`, expected one of {}",
            self.not_valid(),
            expected.join(", ")
        )
    }

    /// The layer of the known values, each read as its row says; a problem for every value
    /// of the wrong type, which the layer leaves out.
    fn layer(
        &self,
        mut values: BTreeMap<&'static str, Value>,
        problems: &mut Vec<String>,
    ) -> Layer {
        let layer = Layer::read(|row| {
            let Some(value) = values.remove(row.file.key()) else {
                return Ok::<_, std::convert::Infallible>(None);
            };
            let key = row.file.key();
            match texts(self.path, self.text, row.file, value) {
                Ok(texts) => Ok(Some(texts)),
                Err(problem) => {
                    problems.push(format!(
                        "config file {}: {}{key}: {problem}",
                        self.path,
                        self.at_line(key)
                    ));
                    Ok(None)
                }
            }
        });
        match layer {
            Ok(layer) => layer,
            Err(never) => match never {},
        }
    }
}

/// The line a problem names (`...: line N: ...`); 0 when it names none.
fn problem_line(problem: &str) -> usize {
    problem
        .split_once(": line ")
        .and_then(|(_, rest)| rest.split_once(':'))
        .and_then(|(line, _)| line.parse::<usize>().ok())
        .unwrap_or(0)
}

/// A key's value as the texts its row checks, or what is wrong with its type.
fn texts(path: &str, text: &str, shape_of: File, value: Value) -> Result<Vec<Sourced>, String> {
    let key = Key {
        path,
        text,
        key: shape_of.key(),
        got: describe(&value),
    };
    let wrong = |expected: &str| key.wrong(expected);
    Ok(match shape_of {
        File::Scalar(_) => vec![key.sourced(key.scalar(value)?)],
        File::Text(_) => {
            vec![key
                .sourced(yaml_serde::from_value::<String>(value).map_err(|_| wrong("a string"))?)]
        }
        File::List(_) => vec![key.sourced(
            yaml_serde::from_value::<List>(value)
                .map_err(|_| wrong("a string or a list of strings"))?
                .into_string(),
        )],
        File::Gates(_) => vec![key.sourced(
            yaml_serde::from_value::<FeatureGates>(value)
                .map_err(|_| {
                    wrong("a mapping of gate names to true or false, or Name=true,... text")
                })?
                .into_string()
                .map_err(|e| format!("{e:#}"))?,
        )],
        File::Documents(_) => yaml_serde::from_value::<Vec<String>>(value)
            .map_err(|_| wrong("a list of YAML documents, each a string (`- |` blocks)"))?
            .into_iter()
            .map(|document| key.sourced(document))
            .collect(),
        File::Nodes(_) => key.nodes(value)?,
    })
}

/// One key of the config file being read, and what its value is, for messages.
struct Key<'a> {
    path: &'a str,
    text: &'a str,
    key: &'static str,
    /// The value's type in words.
    got: String,
}

const NODES_EXPECTED: &str = "a worker count or a list of nodes (kind's `- role: worker`)";

impl Key<'_> {
    fn sourced(&self, value: String) -> Sourced {
        Sourced::new(
            value,
            Origin::File {
                path: self.path.to_string(),
                key: self.key,
            },
        )
    }

    fn wrong(&self, expected: &str) -> String {
        format!("expected {expected}, got {}", self.got)
    }

    fn scalar(&self, value: Value) -> Result<String, String> {
        let key = self.key;
        let scalar = yaml_serde::from_value::<Scalar>(value)
            .map_err(|_| self.wrong("a number, a string or a boolean"))?;
        scalar.into_string(key).map_err(|e| {
            let message = e.to_string();
            message
                .strip_prefix(&format!("{key}: "))
                .map(str::to_string)
                .unwrap_or(message)
        })
    }

    /// A worker count, or one text per node entry.
    fn nodes(&self, value: Value) -> Result<Vec<Sourced>, String> {
        match value {
            Value::Sequence(entries) => {
                if !entries.iter().all(Value::is_mapping) {
                    return Err(self.wrong(NODES_EXPECTED));
                }
                let blocks = entry_blocks(self.text, self.key, entries.len());
                entries
                    .iter()
                    .enumerate()
                    .map(|(index, entry)| {
                        let block = blocks.as_ref().map(|blocks| &blocks[index]);
                        self.node_entry(index, entry, block)
                    })
                    .collect()
            }
            Value::Number(_) | Value::String(_) => Ok(vec![self.sourced(self.scalar(value)?)]),
            _ => Err(self.wrong(NODES_EXPECTED)),
        }
    }

    /// Entry `index` of the node list, as written in its `block` of the text when that
    /// reads as the same value (it keeps each field's line), else re-serialized.
    fn node_entry(
        &self,
        index: usize,
        entry: &Value,
        block: Option<&(usize, String)>,
    ) -> Result<Sourced, String> {
        let as_written = block
            .filter(|(_, text)| yaml_serde::from_str::<Value>(text).ok().as_ref() == Some(entry))
            .map(|(_, text)| text.clone());
        let exact = as_written.is_some();
        let yaml = match as_written {
            Some(text) => text,
            None => yaml_serde::to_string(entry).map_err(|e| e.to_string())?,
        };
        Ok(Sourced::new(
            yaml,
            Origin::FileEntry {
                path: self.path.to_string(),
                key: self.key,
                index,
                line: block.map(|(line, _)| *line),
                as_written: exact,
            },
        ))
    }
}

/// A YAML value's type in words; a list by what it holds.
fn describe(value: &Value) -> String {
    let Value::Sequence(items) = value else {
        return shape(value).to_string();
    };
    let Some(first) = items.first() else {
        return "an empty list".to_string();
    };
    let kinds = |value: &Value| match value {
        Value::Null => "nulls",
        Value::Bool(_) => "booleans",
        Value::Number(_) => "numbers",
        Value::String(_) => "strings",
        Value::Sequence(_) => "lists",
        Value::Mapping(_) => "mappings",
        Value::Tagged(_) => "tagged values",
    };
    if items.iter().all(|item| kinds(item) == kinds(first)) {
        format!("a list of {}", kinds(first))
    } else {
        "a list of mixed values".to_string()
    }
}

/// The line (1-based) of top-level `key:` in a block-style file.
pub(super) fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            [key.to_string(), format!("\"{key}\""), format!("'{key}'")]
                .iter()
                .any(|spelled| {
                    line.strip_prefix(spelled.as_str())
                        .is_some_and(|rest| rest.trim_start().starts_with(':'))
                })
        })
        .map(|index| index + 1)
}

/// Each of the `count` entries of top-level block list `key`: its first line (1-based) and
/// its text as written, the item's dash blanked so that every column stays where it was.
/// None when the entries cannot be told apart (a flow-style list, say).
pub(super) fn entry_blocks(text: &str, key: &str, count: usize) -> Option<Vec<(usize, String)>> {
    let start = key_line(text, key)?;
    let lines: Vec<&str> = text.lines().collect();
    let mut indent = None;
    let mut starts = Vec::new();
    let mut end = lines.len();
    for (index, line) in lines.iter().enumerate().skip(start) {
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let depth = line.len() - content.len();
        let item = content == "-" || content.starts_with("- ");
        match indent {
            None if item => indent = Some(depth),
            None => return None,
            Some(d) if depth < d || (depth == d && !item) => {
                end = index;
                break;
            }
            Some(_) => {}
        }
        if item && Some(depth) == indent {
            starts.push(index);
        }
    }
    if starts.len() != count {
        return None;
    }
    let dash = indent?;
    let blocks = starts
        .iter()
        .enumerate()
        .map(|(i, &first)| {
            let last = starts.get(i + 1).copied().unwrap_or(end);
            let mut block: Vec<String> = lines[first..last].iter().map(|l| l.to_string()).collect();
            block[0].replace_range(dash..dash + 1, " ");
            (first + 1, block.join("\n") + "\n")
        })
        .collect();
    Some(blocks)
}

/// A worker count from the command line or the environment would silently drop the config
/// file's node list (its ports, mounts and labels): the problem, when it does.
pub fn list_overridden(upper: &Layer, file: &Layer) -> Option<String> {
    let count = upper.nodes.as_ref()?.first()?;
    let entry = file.nodes.as_ref()?.first()?;
    let Origin::FileEntry { path, .. } = &entry.origin else {
        return None;
    };
    Some(format!(
        "config file {path}: nodes: its node list and {} ('{}') both set the nodes; drop one \
         (unset NUM_NODES, or leave out --nodes)",
        count.origin, count.value
    ))
}

#[cfg(test)]
mod tests;

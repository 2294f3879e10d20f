//! The YAML config file: `apiVersion`/`kind` checked, unknown keys rejected, every other
//! key read as its row of the settings table says.

use super::layer::{Origin, Sourced};
use super::settings::{Layer, SETTINGS};
use super::table::File;
use anyhow::{anyhow, bail, Context, Result};
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
    fn into_string(self, path: &str) -> Result<String> {
        match self {
            FeatureGates::Text(text) => Ok(text),
            FeatureGates::Map(map) => map
                .into_iter()
                .map(|(name, value)| {
                    let value = value
                        .into_string("featureGates")
                        .with_context(|| format!("config file {path}: featureGates.{name}"))?;
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

/// Parses a config file's text; `path` is only used in messages.
pub fn load_file(path: &str, text: &str) -> Result<Layer> {
    let not_valid = || format!("config file {path} is not a valid dind cluster config");
    let mut file: Mapping = yaml_serde::from_str(text).with_context(not_valid)?;
    let header = |file: &mut Mapping, key: &str| -> Result<String> {
        match file.remove(key) {
            None => Err(anyhow!("missing field `{key}`")),
            Some(value) => yaml_serde::from_value(value).with_context(|| key.to_string()),
        }
    };
    let api_version = header(&mut file, "apiVersion").with_context(not_valid)?;
    let kind = header(&mut file, "kind").with_context(not_valid)?;
    let mut values: BTreeMap<&'static str, Value> = BTreeMap::new();
    for (key, value) in file {
        let row = key
            .as_str()
            .and_then(|key| SETTINGS.iter().find(|row| row.file.key() == key));
        let Some(row) = row else {
            let expected: Vec<String> = ["apiVersion", "kind"]
                .into_iter()
                .chain(SETTINGS.iter().map(|row| row.file.key()))
                .map(|key| format!("`{key}`"))
                .collect();
            let key = key
                .as_str()
                .map_or_else(|| format!("{key:?}"), str::to_string);
            return Err(anyhow!(
                "unknown field `{key}`, expected one of {}",
                expected.join(", ")
            ))
            .with_context(not_valid);
        };
        values.insert(row.file.key(), value);
    }
    if api_version != API_VERSION {
        bail!("config file {path}: apiVersion '{api_version}' is not supported; use 'apiVersion: {API_VERSION}'");
    }
    if kind != KIND {
        bail!("config file {path}: kind '{kind}' is not supported; use 'kind: {KIND}'");
    }
    Layer::read(|row| {
        let Some(value) = values.remove(row.file.key()) else {
            return Ok(None);
        };
        let key = row.file.key();
        let at = |value: String| {
            Sourced::new(
                value,
                Origin::File {
                    path: path.to_string(),
                    key,
                },
            )
        };
        let typed = |what| format!("config file {path} is not a valid dind cluster config: {what}");
        let texts = match row.file {
            File::Scalar(_) => vec![yaml_serde::from_value::<Scalar>(value)
                .with_context(|| typed(key))?
                .into_string(key)
                .with_context(|| format!("config file {path}"))?],
            File::Text(_) => {
                vec![yaml_serde::from_value::<String>(value).with_context(|| typed(key))?]
            }
            File::List(_) => vec![yaml_serde::from_value::<List>(value)
                .with_context(|| typed(key))?
                .into_string()],
            File::Gates(_) => vec![yaml_serde::from_value::<FeatureGates>(value)
                .with_context(|| typed(key))?
                .into_string(path)?],
            File::Documents(_) => {
                yaml_serde::from_value::<Vec<String>>(value).with_context(|| typed(key))?
            }
        };
        Ok(Some(texts.into_iter().map(at).collect()))
    })
}

//! containerd's configuration in the nodes: the registry's `hosts.toml`, and the node image's
//! /etc/containerd/config.toml with `config_path` and the user's `containerdConfigPatches`
//! merged in (as kind merges its containerdConfigPatches). Pure.

use super::FileSpec;
use crate::config::ContainerdPatch;
use crate::plan::RegistryPlan;

pub(crate) const CONFIG_PATH: &str = "/etc/containerd/config.toml";
/// Where containerd (and `ctr --hosts-dir`) looks for a registry's `hosts.toml`.
pub(crate) const CERTS_DIR: &str = "/etc/containerd/certs.d";

/// `localhost:PORT` resolved to the registry's address on the cluster network, over HTTP.
/// The host is an inline table: containerd 1.6's TOML parser refuses a `[host."..."]` header
/// holding an IPv6 address's brackets, and needs a `host` tree all the same.
pub(crate) fn registry_hosts(registry: &RegistryPlan) -> FileSpec {
    let name = registry.name();
    FileSpec::new(
        format!("{CERTS_DIR}/{name}/hosts.toml"),
        format!(
            "# Written by dind: {name} is the cluster's registry ({}).\n\
             server = \"http://{name}\"\n\
             host = {{ \"{}\" = {{ capabilities = [\"pull\", \"resolve\"] }} }}\n",
            registry.container,
            registry.endpoint()
        ),
    )
}

/// Whether a node's containerd configuration is dind's to write: only with a registry or
/// patches; otherwise the node image's own stays as it is.
pub(crate) fn changes_config(registry: bool, patches: &[ContainerdPatch]) -> bool {
    registry || !patches.is_empty()
}

/// The node image's configuration (`base`; None: it has none) with `config_path` set where
/// its config version keeps it (when there is a registry), then every patch merged in
/// order: tables merge key by key, anything else is replaced. The error names the base.
pub(crate) fn merged_config(
    base: Option<&str>,
    registry: bool,
    patches: &[ContainerdPatch],
) -> Result<String, String> {
    let mut config: toml::Table = match base {
        None => toml::Table::new(),
        Some(text) => text.parse().map_err(|e: toml::de::Error| {
            format!(
                "the node image's {CONFIG_PATH} is not TOML: {}",
                e.message().trim()
            )
        })?,
    };
    // containerd 1.x reads a file without a version as version 1, whose plugin names differ.
    config.entry("version").or_insert(toml::Value::Integer(2));
    if registry {
        let mut registry_config = toml::Table::new();
        registry_config.insert("config_path".into(), toml::Value::String(CERTS_DIR.into()));
        let plugin = match config.get("version").and_then(toml::Value::as_integer) {
            Some(version) if version >= 3 => "io.containerd.cri.v1.images",
            _ => "io.containerd.grpc.v1.cri",
        };
        let patch = nest(&["plugins", plugin, "registry"], registry_config);
        merge(&mut config, &patch);
    }
    for patch in patches {
        merge(&mut config, patch.table());
    }
    for plugin in ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images"] {
        let registry_config = config
            .get("plugins")
            .and_then(|p| p.get(plugin))
            .and_then(|p| p.get("registry"));
        if let Some(registry_config) = registry_config {
            if registry_config.get("config_path").is_some()
                && registry_config.get("mirrors").is_some()
            {
                return Err(format!(
                    "plugins.\"{plugin}\".registry has both `mirrors` and `config_path` (set by \
                     the registry setting or a patch), which containerd refuses; drop the mirrors \
                     patch or the registry"
                ));
            }
        }
    }
    Ok(toml::to_string(&config).expect("a TOML table serializes"))
}

/// The snapshotter containerd's CRI uses by `config` (a config.toml), where its version
/// keeps it; None when it names none (or is not TOML): containerd's default.
pub(crate) fn snapshotter(config: &str) -> Option<String> {
    let config: toml::Table = config.parse().ok()?;
    let version = config.get("version").and_then(toml::Value::as_integer);
    let plugins = config.get("plugins")?;
    let snapshotter = match version {
        Some(v) if v >= 3 => plugins
            .get("io.containerd.cri.v1.images")?
            .get("snapshotter"),
        _ => plugins
            .get("io.containerd.grpc.v1.cri")?
            .get("containerd")?
            .get("snapshotter"),
    };
    snapshotter?.as_str().map(str::to_string)
}

/// `leaf` under the nested tables of `path`.
fn nest(path: &[&str], leaf: toml::Table) -> toml::Table {
    path.iter().rev().fold(leaf, |inner, key| {
        toml::Table::from_iter([(key.to_string(), toml::Value::Table(inner))])
    })
}

fn merge(into: &mut toml::Table, patch: &toml::Table) {
    for (key, value) in patch {
        match (into.get_mut(key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(patch)) => {
                merge(existing, patch)
            }
            _ => {
                into.insert(key.clone(), value.clone());
            }
        }
    }
}

/// What the dry run shows for a node's config.toml: the patch dind merges into the node
/// image's own file (the image is not read without a Docker host).
pub(crate) fn dry_run_patch(registry: bool, patches: &[ContainerdPatch]) -> Result<String, String> {
    let merged = merged_config(None, registry, patches)?;
    Ok(format!(
        "# merged into the node image's own {CONFIG_PATH} at `up` (tables key by key)\n{merged}"
    ))
}

/// The containerd files of a node: `config` (the merged config.toml) when dind writes one,
/// and the registry's hosts.toml.
pub(crate) fn node_files(registry: Option<&RegistryPlan>, config: Option<String>) -> Vec<FileSpec> {
    config
        .map(|text| FileSpec::new(CONFIG_PATH, text))
        .into_iter()
        .chain(registry.map(registry_hosts))
        .collect()
}

#[cfg(test)]
mod tests;

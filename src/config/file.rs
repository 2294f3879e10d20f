//! The YAML config file: `apiVersion`/`kind` checked, unknown fields rejected.

use super::layer::{Layer, Origin, Sourced};
use anyhow::{bail, Context, Result};
use serde::Deserialize;

pub const API_VERSION: &str = "dind.k8s.io/v1alpha1";
pub const KIND: &str = "Cluster";

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
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FileConfig {
    api_version: String,
    kind: String,
    cluster_id: Option<Scalar>,
    ip_mode: Option<String>,
    nodes: Option<Scalar>,
    #[serde(rename = "allowAAAA")]
    allow_aaaa: Option<Scalar>,
    dns64_prefix: Option<String>,
    nat64_v4_prefix: Option<Scalar>,
    #[serde(rename = "upstreamDNS")]
    upstream_dns: Option<String>,
    egress_interface: Option<String>,
    kubernetes: Option<Scalar>,
    #[serde(rename = "mgmtCIDRs")]
    mgmt_cidrs: Option<List>,
    #[serde(rename = "podCIDRs")]
    pod_cidrs: Option<List>,
    #[serde(rename = "serviceCIDR")]
    service_cidr: Option<String>,
    node_image: Option<String>,
    probes: Option<List>,
    kubernetes_version: Option<String>,
    feature_gates: Option<FeatureGates>,
    kubeadm_config_patches: Option<Vec<String>>,
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
    let file: FileConfig = yaml_serde::from_str(text)
        .with_context(|| format!("config file {path} is not a valid dind cluster config"))?;
    if file.api_version != API_VERSION {
        bail!(
            "config file {path}: apiVersion '{}' is not supported; use 'apiVersion: {API_VERSION}'",
            file.api_version
        );
    }
    if file.kind != KIND {
        bail!(
            "config file {path}: kind '{}' is not supported; use 'kind: {KIND}'",
            file.kind
        );
    }
    let at = |key: &'static str, value: String| {
        Sourced::new(
            value,
            Origin::File {
                path: path.to_string(),
                key,
            },
        )
    };
    let scalar = |key: &'static str, v: Option<Scalar>| -> Result<Option<Sourced>> {
        v.map(|v| {
            Ok(at(
                key,
                v.into_string(key)
                    .with_context(|| format!("config file {path}"))?,
            ))
        })
        .transpose()
    };
    Ok(Layer {
        cluster_id: scalar("clusterId", file.cluster_id)?,
        ip_mode: file.ip_mode.map(|v| at("ipMode", v)),
        nodes: scalar("nodes", file.nodes)?,
        allow_aaaa: scalar("allowAAAA", file.allow_aaaa)?,
        dns64_prefix: file.dns64_prefix.map(|v| at("dns64Prefix", v)),
        nat64_v4_prefix: scalar("nat64V4Prefix", file.nat64_v4_prefix)?,
        upstream_dns: file.upstream_dns.map(|v| at("upstreamDNS", v)),
        egress_interface: file.egress_interface.map(|v| at("egressInterface", v)),
        kubernetes: scalar("kubernetes", file.kubernetes)?,
        mgmt_cidrs: file.mgmt_cidrs.map(|v| at("mgmtCIDRs", v.into_string())),
        pod_cidrs: file.pod_cidrs.map(|v| at("podCIDRs", v.into_string())),
        service_cidr: file.service_cidr.map(|v| at("serviceCIDR", v)),
        node_image: file.node_image.map(|v| at("nodeImage", v)),
        probes: file.probes.map(|v| at("probes", v.into_string())),
        kubernetes_version: file.kubernetes_version.map(|v| at("kubernetesVersion", v)),
        feature_gates: file
            .feature_gates
            .map(|v| Ok::<_, anyhow::Error>(at("featureGates", v.into_string(path)?)))
            .transpose()?,
        kubeadm_config_patches: file.kubeadm_config_patches.map(|patches| {
            patches
                .into_iter()
                .map(|p| at("kubeadmConfigPatches", p))
                .collect()
        }),
    })
}

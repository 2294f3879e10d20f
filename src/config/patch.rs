//! The user's kubeadm patches, parsed once when the config is validated.

use serde::{Deserialize, Serialize};
use std::fmt;
use yaml_serde::Value;

/// The kubeadm documents dind renders, which a patch may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KubeadmKind {
    InitConfiguration,
    ClusterConfiguration,
    JoinConfiguration,
    KubeletConfiguration,
    KubeProxyConfiguration,
}

/// The documents a patch may name, by their `kind`.
pub const PATCHABLE_KINDS: [KubeadmKind; 5] = [
    KubeadmKind::InitConfiguration,
    KubeadmKind::ClusterConfiguration,
    KubeadmKind::JoinConfiguration,
    KubeadmKind::KubeletConfiguration,
    KubeadmKind::KubeProxyConfiguration,
];

impl KubeadmKind {
    /// The document's `kind:`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            KubeadmKind::InitConfiguration => "InitConfiguration",
            KubeadmKind::ClusterConfiguration => "ClusterConfiguration",
            KubeadmKind::JoinConfiguration => "JoinConfiguration",
            KubeadmKind::KubeletConfiguration => "KubeletConfiguration",
            KubeadmKind::KubeProxyConfiguration => "KubeProxyConfiguration",
        }
    }

    fn from_name(name: &str) -> Option<KubeadmKind> {
        PATCHABLE_KINDS.into_iter().find(|kind| kind.name() == name)
    }
}

impl fmt::Display for KubeadmKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One YAML merge patch: a mapping naming the `kind` (and optionally the `apiVersion`) of the
/// documents it merges into. Records keep it as the text the user wrote, as they always did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KubeadmPatch {
    text: String,
    kind: KubeadmKind,
    api_version: Option<String>,
    value: Value,
}

impl KubeadmPatch {
    /// Parses one patch; the error is the reason it is refused.
    pub(crate) fn parse(text: &str) -> Result<KubeadmPatch, String> {
        let value: Value =
            yaml_serde::from_str(text).map_err(|e| format!("not a YAML document: {e}"))?;
        let field = |key: &str| value.get(key).and_then(Value::as_str);
        let kind = value
            .as_mapping()
            .and(field("kind"))
            .and_then(KubeadmKind::from_name)
            .ok_or_else(|| {
                "a patch is a YAML mapping with a `kind:` (ClusterConfiguration, \
                 InitConfiguration, JoinConfiguration, KubeletConfiguration or \
                 KubeProxyConfiguration)"
                    .to_string()
            })?;
        let api_version = field("apiVersion").map(str::to_string);
        Ok(KubeadmPatch {
            text: text.to_string(),
            kind,
            api_version,
            value,
        })
    }

    pub(crate) fn kind(&self) -> KubeadmKind {
        self.kind
    }

    /// Only documents of this API version are patched; None: every version.
    pub(crate) fn api_version(&self) -> Option<&str> {
        self.api_version.as_deref()
    }

    /// The patch itself, `kind` and `apiVersion` included.
    pub(crate) fn value(&self) -> &Value {
        &self.value
    }
}

impl TryFrom<String> for KubeadmPatch {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        KubeadmPatch::parse(&text)
    }
}

impl From<KubeadmPatch> for String {
    fn from(patch: KubeadmPatch) -> String {
        patch.text
    }
}

//! Cluster configuration: four layers (default < file < environment < flags) merged into one
//! validated [`Config`]. Every setting is one row of the table in settings.rs (its flag,
//! variables, file key, default, help and check); every refusal names the setting, where its
//! value came from, and what would be accepted, and all of them are reported at once.
//! Imports nothing of the crate: the plan and the renderers build on it.

mod check;
mod cluster_ranges;
mod containerd_patch;
mod file;
mod layer;
mod nodes;
mod patch;
mod read;
mod recheck;
mod refusal;
pub(crate) mod rfc6052;
mod rules;
mod settings;
mod table;
mod validate;
mod validated;
mod values;

pub(crate) use check::MAX_CLUSTER_ID;
pub use cluster_ranges::{mgmt_v4_for_cluster, mgmt_v6_for_cluster, nat64_v4_subnet};
pub use containerd_patch::ContainerdPatch;
pub use file::{list_overridden, load_file, read_file};
pub use layer::{Origin, Sourced};
pub use nodes::Nodes;
pub(crate) use nodes::{ExtraMount, PortMapping, Protocol};
pub use patch::{KubeadmKind, KubeadmPatch, PATCHABLE_KINDS};
pub use read::env_var_names;
pub use recheck::recheck;
pub use refusal::{ConfigError, Refusal};
pub use rfc6052::Prefix;
pub use settings::Layer;
pub(crate) use settings::SETTINGS;
pub(crate) use table::Flag;
pub use validate::{parse_cluster_id, validate};
pub use validated::Config;
pub(crate) use values::{defaults, IpMode, V4Prefix16};
pub use values::{KubeVersion, Nat64Engine};

#[cfg(test)]
mod docs_table;
#[cfg(test)]
mod tests;

//! Pure renderers: plan -> file contents and argument vectors. Golden-tested.

pub mod cni;
pub(crate) mod containerd;
pub mod containers;
pub(crate) mod host_rules;
pub mod kubeadm;
pub(crate) mod named;
pub(crate) mod node_files;
pub(crate) mod storage;
pub(crate) mod tayga;

/// A file to place in a container before it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FileSpec {
    pub(crate) path: String,
    pub(crate) contents: String,
    pub(crate) mode: u32,
}

impl FileSpec {
    pub(crate) fn new(path: impl Into<String>, contents: impl Into<String>) -> Self {
        FileSpec {
            path: path.into(),
            contents: contents.into(),
            mode: 0o644,
        }
    }
}

/// A program placed in a container before it starts, copied as is from the machine dind
/// runs on (its bytes are read by `up`, not rendered).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ProgramFile {
    pub(crate) path: &'static str,
    pub(crate) mode: u32,
}

#[cfg(test)]
mod tests;

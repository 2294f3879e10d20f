//! Pure renderers: plan -> file contents and argument vectors. Golden-tested.

pub mod cni;
pub mod containers;
pub mod host_rules;
pub mod kubeadm;
pub mod named;
pub mod node_files;
pub mod tayga;

/// A file to place in a container before it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSpec {
    pub path: String,
    pub contents: String,
    pub mode: u32,
}

impl FileSpec {
    pub fn new(path: impl Into<String>, contents: impl Into<String>) -> Self {
        FileSpec {
            path: path.into(),
            contents: contents.into(),
            mode: 0o644,
        }
    }
}

#[cfg(test)]
mod tests;

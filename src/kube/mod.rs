//! Kubernetes on the nodes: pure helpers around kubeadm's and kubectl's inputs and outputs.

pub(crate) mod corefile;
pub(crate) mod join;
pub(crate) mod kubeconfig;
pub(crate) mod readiness;

#[cfg(test)]
mod tests;

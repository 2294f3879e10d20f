//! Kubernetes on the nodes: pure helpers around kubeadm's and kubectl's inputs and outputs.

pub mod corefile;
pub mod join;
pub mod kubeconfig;
pub mod readiness;

#[cfg(test)]
mod tests;

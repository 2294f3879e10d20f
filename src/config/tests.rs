//! What the tests of config's modules share (each module's tests sit beside it, in
//! `<module>/tests.rs`).

use crate::config::{load_file, validate, Layer};
use ipnet::IpNet;

pub(super) fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

/// A refusal as (setting, origin text, whole message).
pub(super) fn refusal(layer: Layer) -> (String, String, String) {
    match validate(layer.clone()) {
        Ok(config) => panic!("expected {layer:?} to be refused, got {config:?}"),
        Err(err) => (
            err.first().setting.to_string(),
            err.first().origin.clone(),
            err.to_string(),
        ),
    }
}

/// `anyhow`'s whole chain, as the binary prints it.
pub(super) fn file_error(path: &str, text: &str) -> String {
    match load_file(path, text) {
        Ok(layer) => panic!("expected the file to be refused, got {layer:?}"),
        Err(err) => format!("{err:#}"),
    }
}

pub(super) fn file_layer(text: &str) -> Layer {
    load_file("c.yaml", text).unwrap_or_else(|e| panic!("file refused: {e:#}"))
}

pub(super) const HEADER: &str = "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\n";

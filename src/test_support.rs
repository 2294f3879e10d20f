//! Helpers shared by the unit tests beside the code.
//!
//! Golden files live in tests/golden/ and are compared byte for byte; run
//! `UPDATE_GOLDEN=1 cargo test --lib` to rewrite them, then review the diff by hand.

use crate::config::{validate, Config, Layer, Origin, Sourced};
use std::collections::HashMap;
use std::path::PathBuf;

/// A setting as given by a command-line flag.
pub(crate) fn flag(name: &'static str, value: &str) -> Option<Sourced> {
    Some(Sourced::new(value, Origin::Flag(name)))
}

/// The layer `Layer::from_env` builds from exactly these variables.
pub(crate) fn env_layer(vars: &[(&str, &str)]) -> Layer {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Layer::from_env(|name| map.get(name).cloned())
}

/// Validates `layer`, failing the test with the error text if it is refused.
pub(crate) fn valid(layer: Layer) -> Config {
    match validate(layer.clone()) {
        Ok(config) => config,
        Err(err) => panic!("expected {layer:?} to be accepted, got: {err}"),
    }
}

/// The validated configuration from these environment variables alone.
pub(crate) fn config_from_env(vars: &[(&str, &str)]) -> Config {
    valid(env_layer(vars))
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
        .join(name)
}

/// Compares `actual` byte for byte with tests/golden/<name>; with UPDATE_GOLDEN=1 it writes
/// the file instead.
pub(crate) fn assert_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().expect("golden dir")).expect("create tests/golden");
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read golden file {}: {e}; run `UPDATE_GOLDEN=1 cargo test --lib` \
             and review it by hand",
            path.display()
        )
    });
    pretty_assertions::assert_eq!(
        expected,
        actual,
        "output differs from golden file {} (UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
}

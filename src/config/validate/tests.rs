//! Validation over the layers: flag over environment over file over default, field by field.

use crate::config::tests::*;
use crate::config::{Layer, Origin, Sourced};
use crate::test_support::{env_layer, flag, valid};
use std::net::Ipv4Addr;

// ---------------------------------------------------------------- precedence

/// One layer per source, each setting `cluster_id` (if given) and `nodes` to the same value.
fn source(origin: Origin, value: Option<&str>) -> Layer {
    let at = |v: &str| Some(Sourced::new(v, origin.clone()));
    match value {
        Some(v) => Layer {
            cluster_id: at(v),
            nodes: at(v).map(|s| vec![s]),
            ..Layer::default()
        },
        None => Layer::default(),
    }
}

/// (file, env, flag) -> expected value; None means "not set by that source".
type PrecedenceCase = (
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    u8,
);

#[test]
fn precedence_flag_over_env_over_file_over_default() {
    let cases: &[PrecedenceCase] = &[
        (None, None, None, 0),
        (Some("3"), None, None, 3),
        (None, Some("4"), None, 4),
        (None, None, Some("5"), 5),
        (Some("3"), Some("4"), None, 4),
        (Some("3"), None, Some("5"), 5),
        (None, Some("4"), Some("5"), 5),
        (Some("3"), Some("4"), Some("5"), 5),
    ];
    for &(file, env, flg, expected) in cases {
        let file = source(
            Origin::File {
                path: "c.yaml".into(),
                key: "clusterId",
            },
            file,
        );
        let env = source(Origin::Env("CLUSTER_ID"), env);
        let flg = source(Origin::Flag("--cluster-id"), flg);
        let config = valid(flg.over(env.over(file)));
        assert_eq!(config.cluster_id, expected, "cluster id, case {expected}");
        let nodes_default = if expected == 0 { 2 } else { expected };
        assert_eq!(
            config.nodes.workers(),
            nodes_default,
            "nodes, case {expected}"
        );
    }
}

#[test]
fn over_merges_field_by_field() {
    let flags = Layer {
        cluster_id: flag("--cluster-id", "7"),
        ..Layer::default()
    };
    let env = env_layer(&[("NUM_NODES", "4"), ("CLUSTER_ID", "3")]);
    let file = file_layer(&format!("{HEADER}upstreamDNS: 9.9.9.9\nnodes: 1\n"));
    let merged = flags.over(env.over(file));
    assert_eq!(merged.cluster_id, flag("--cluster-id", "7"));
    assert_eq!(
        merged.nodes,
        Some(vec![Sourced::new("4", Origin::Env("NUM_NODES"))])
    );
    assert_eq!(
        merged.upstream_dns,
        Some(Sourced::new(
            "9.9.9.9",
            Origin::File {
                path: "c.yaml".into(),
                key: "upstreamDNS"
            }
        ))
    );
    assert_eq!(merged.ip_mode, None);
    let config = valid(merged);
    assert_eq!((config.cluster_id, config.nodes.workers()), (7, 4));
    assert_eq!(config.upstream_dns, Some(Ipv4Addr::new(9, 9, 9, 9)));
}

#[test]
fn a_higher_layer_hides_a_bad_lower_value() {
    let file = file_layer(&format!("{HEADER}nodes: 251\n"));
    let flags = Layer {
        nodes: flag("--nodes", "3").map(|s| vec![s]),
        ..Layer::default()
    };
    assert_eq!(valid(flags.over(file)).nodes.workers(), 3);
}

#[test]
fn a_bad_value_is_reported_with_the_layer_it_came_from() {
    let file = file_layer(&format!("{HEADER}nodes: 251\n"));
    let env = env_layer(&[("CLUSTER_ID", "2")]);
    let (setting, origin, message) = refusal(env.over(file));
    assert_eq!(setting, "--nodes");
    assert_eq!(origin, "key 'nodes' of config file c.yaml");
    assert_eq!(
        message,
        "invalid --nodes '251' (from key 'nodes' of config file c.yaml): expected a number of \
         workers from 0 to 250"
    );
}

//! The validated configuration as a record stores it, old records' shapes included.

use crate::config::tests::*;
use crate::config::{Config, Layer};
use crate::test_support::{config_from_env, flag, valid};

#[test]
fn config_round_trips_through_json_labels() {
    let config = valid(Layer {
        ip_mode: flag("--ip-mode", "dual-stack"),
        egress_interface: flag("--egress-interface", "eth0"),
        ..Layer::default()
    });
    let json = serde_json::to_string(&config).unwrap();
    assert!(json.contains("\"ipMode\":\"dual-stack\""), "{json}");
    assert!(json.contains("\"nat64V4Prefix\":\"172.18\""), "{json}");
    let back: Config = serde_json::from_str(&json).unwrap();
    assert_eq!(back, config);
}

#[test]
fn a_record_from_before_two_service_cidrs_still_reads() {
    let mut json = serde_json::to_value(config_from_env(&[])).unwrap();
    let object = json.as_object_mut().unwrap();
    object.remove("serviceCidrs");
    object.insert("serviceCidr".into(), "fd00:30::/110".into());
    let old: Config = serde_json::from_value(json.clone()).expect("the old record shape reads");
    assert_eq!(old.service_cidrs, nets(&["fd00:30::/110"]));

    // A record with none (forged by hand) is refused, never indexed.
    let object = json.as_object_mut().unwrap();
    object.remove("serviceCidr");
    object.insert("serviceCidrs".into(), serde_json::json!([]));
    let err = serde_json::from_value::<Config>(json).unwrap_err();
    assert!(
        err.to_string().contains("at least one service CIDR"),
        "{err}"
    );
}

//! The setting values' text forms: IP modes, NAT64 prefixes, Kubernetes versions.

use crate::config::{IpMode, Layer, V4Prefix16};
use crate::test_support::{flag, valid};

#[test]
fn v4_prefix16_parses_and_prints() {
    assert_eq!("172.18".parse::<V4Prefix16>(), Ok(V4Prefix16(172, 18)));
    assert_eq!(V4Prefix16(10, 0).to_string(), "10.0");
    for bad in ["", "172", "172.", ".18", "256.1", "1.256", "a.b", "1.2.3"] {
        let err = bad.parse::<V4Prefix16>().unwrap_err();
        assert_eq!(
            err,
            format!("'{bad}' is not two decimal octets like 172.18")
        );
    }
}

#[test]
fn ip_mode_display_round_trips() {
    for mode in [IpMode::Ipv4, IpMode::Ipv6, IpMode::DualStack] {
        assert_eq!(mode.to_string().parse::<IpMode>(), Ok(mode));
    }
    assert_eq!(IpMode::DualStack.to_string(), "dual-stack");
}

#[test]
fn kubernetes_versions_parse_as_minor_or_patch() {
    for (given, shown) in [
        ("v1.36", "v1.36"),
        ("1.35", "v1.35"),
        ("v1.34.2", "v1.34.2"),
    ] {
        let config = valid(Layer {
            kubernetes_version: flag("--kubernetes-version", given),
            ..Layer::default()
        });
        assert_eq!(config.kubernetes_version.to_string(), shown);
    }
}

//! The files dind places in support and node containers before they start; the images'
//! `dind-net-setup` applies them at every start (see images/common/dind-net-setup).

use super::{cni, named, tayga, FileSpec};
use crate::plan::{Dns64Plan, Masquerade, Nat64Plan, NodePlan, Route};
use std::net::Ipv6Addr;

pub const ROUTES_PATH: &str = "/etc/dind/routes";
pub const DROP_IPV4_PATH: &str = "/etc/dind/drop-ipv4";
pub const RESOLV_PATH: &str = "/etc/dind/resolv.conf";
pub const MASQUERADE_PATH: &str = "/etc/dind/masquerade";

pub fn routes_file(routes: &[Route]) -> FileSpec {
    let mut text = String::from("# ip route replace <line>, applied at every start\n");
    for route in routes {
        text.push_str(&route.to_string());
        text.push('\n');
    }
    FileSpec::new(ROUTES_PATH, text)
}

pub fn resolv_conf(resolver: Ipv6Addr) -> String {
    format!("# Written by dind: the cluster's DNS64 server.\nnameserver {resolver}\noptions timeout:2 attempts:3\n")
}

/// One line per rule: the source, then the destinations that keep it.
pub fn masquerade_file(rules: &[Masquerade]) -> FileSpec {
    let mut text = String::from(
        "# <pod CIDR> <destination kept>...: masquerade the rest (chain DIND-MASQ), applied at every start\n",
    );
    for rule in rules {
        text.push_str(&rule.source.to_string());
        for except in &rule.except {
            text.push(' ');
            text.push_str(&except.to_string());
        }
        text.push('\n');
    }
    FileSpec::new(MASQUERADE_PATH, text)
}

fn drop_ipv4_marker() -> FileSpec {
    FileSpec::new(DROP_IPV4_PATH, "")
}

pub fn dns64_files(dns64: &Dns64Plan) -> Vec<FileSpec> {
    vec![
        FileSpec::new("/etc/bind/named.conf", named::named_conf(dns64)),
        routes_file(&dns64.routes),
        drop_ipv4_marker(),
    ]
}

pub fn nat64_files(nat64: &Nat64Plan) -> Vec<FileSpec> {
    vec![
        FileSpec::new("/etc/tayga.conf", tayga::tayga_conf(nat64)),
        routes_file(&nat64.routes),
    ]
}

pub fn node_files(node: &NodePlan) -> Vec<FileSpec> {
    let mut files = vec![
        routes_file(&node.routes),
        masquerade_file(&node.masquerade),
        FileSpec::new(cni::CONFLIST_PATH, cni::conflist(node)),
    ];
    if let Some(resolver) = node.resolver {
        files.push(FileSpec::new(RESOLV_PATH, resolv_conf(resolver)));
    }
    if node.drop_ipv4 {
        files.push(drop_ipv4_marker());
    }
    files
}

//! The files dind places in support and node containers before they start; the images'
//! `dind-net-setup` applies them at every start (see images/common/dind-net-setup).

use super::{cni, named, tayga, FileSpec, ProgramFile};
use crate::config::Nat64Engine;
use crate::plan::{Dns64Plan, Masquerade, Nat64Plan, NodePlan, Route};
use std::net::Ipv4Addr;

pub(crate) const ROUTES_PATH: &str = "/etc/dind/routes";
pub(crate) const DROP_IPV4_PATH: &str = "/etc/dind/drop-ipv4";
pub(crate) const RESOLV_PATH: &str = "/etc/dind/resolv.conf";
pub(crate) const MASQUERADE_PATH: &str = "/etc/dind/masquerade";

pub(crate) fn routes_file(routes: &[Route]) -> FileSpec {
    let mut text = String::from("# ip route replace <line>, applied at every start\n");
    for route in routes {
        text.push_str(&route.to_string());
        text.push('\n');
    }
    FileSpec::new(ROUTES_PATH, text)
}

pub(crate) const DOCKER_DNS_PATH: &str = "/etc/dind/docker-dns";

pub(crate) fn resolv_conf(node: &NodePlan) -> String {
    let what = match node.docker_dns_at {
        Some(_) => "Docker's embedded DNS, which the node forwards this address to",
        None => "the cluster's DNS64 server",
    };
    format!(
        "# Written by dind: {what}.\nnameserver {}\noptions timeout:2 attempts:3\n",
        node.resolver
    )
}

/// The address whose DNS the node hands to Docker's embedded DNS, and the resolver that
/// one forwards to (the Docker host's, unless --upstream-dns names one).
fn docker_dns_file(at: Ipv4Addr, upstream: Option<Ipv4Addr>) -> FileSpec {
    let upstream = match upstream {
        Some(ip) => format!("--upstream-dns {ip}"),
        None => "the Docker host's resolvers".to_string(),
    };
    FileSpec::new(
        DOCKER_DNS_PATH,
        format!("# DNS to this address goes to Docker's embedded DNS ({upstream})\n{at}\n"),
    )
}

/// One line per rule: the source, then the destinations that keep it.
pub(crate) fn masquerade_file(rules: &[Masquerade]) -> FileSpec {
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

pub(crate) fn dns64_files(dns64: &Dns64Plan) -> Vec<FileSpec> {
    let mut files = vec![
        FileSpec::new("/etc/bind/named.conf", named::named_conf(dns64)),
        routes_file(&dns64.routes),
    ];
    if dns64.drop_ipv4 {
        files.push(drop_ipv4_marker());
    }
    files
}

/// Where dind places its own translator in the NAT64 container (engine dind-nat64).
pub(crate) const NAT64_PROGRAM_PATH: &str = "/usr/local/bin/dind-nat64";
/// The variable the NAT64 image's entrypoint picks the translator by.
pub(crate) const NAT64_ENGINE_ENV: &str = "DIND_NAT64_ENGINE";

/// The program `up` copies into the NAT64 container from the machine dind runs on, for an
/// engine the image does not carry; None for tayga.
pub(crate) fn nat64_program(nat64: &Nat64Plan) -> Option<ProgramFile> {
    match nat64.engine {
        Nat64Engine::Tayga => None,
        Nat64Engine::DindNat64 => Some(ProgramFile {
            path: NAT64_PROGRAM_PATH,
            mode: 0o755,
        }),
    }
}

pub(crate) fn nat64_files(nat64: &Nat64Plan) -> Vec<FileSpec> {
    vec![
        FileSpec::new("/etc/tayga.conf", tayga::tayga_conf(nat64)),
        routes_file(&nat64.routes),
    ]
}

pub(crate) fn node_files(node: &NodePlan) -> Vec<FileSpec> {
    let mut files = vec![
        routes_file(&node.routes),
        masquerade_file(&node.masquerade),
        FileSpec::new(cni::CONFLIST_PATH, cni::conflist(node)),
    ];
    files.push(FileSpec::new(RESOLV_PATH, resolv_conf(node)));
    if let Some(at) = node.docker_dns_at {
        files.push(docker_dns_file(at, node.docker_dns_upstream));
    }
    if node.drop_ipv4 {
        files.push(drop_ipv4_marker());
    }
    files
}

//! A configuration read back from a record (typed values, as config produces them) judged by
//! the rules its settings were checked by when `up` read them from text: the record's check
//! is config's check.

use super::check;
use super::settings::ROWS;
use super::table::{Basis, Setting};
use super::Config;
use ipnet::IpNet;
use std::fmt::Display;

/// Every rule `config` breaks, one line each (the setting, its value, the reason); empty
/// when `up` could have written it.
pub fn recheck(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    let mut judge = |row: &Setting, value: &dyn Display, rule: Result<(), String>| {
        if let Err(reason) = rule {
            problems.push(format!("{} {value}: {reason}", row.name));
        }
    };
    let id_rule = check::cluster_id_rule(config.cluster_id);
    // As in config, the other settings are judged against a cluster id only if it is one.
    let basis = Basis {
        ip_mode: Some(config.ip_mode),
        cluster_id: id_rule.is_ok().then_some(config.cluster_id),
    };
    judge(&ROWS.cluster_id, &config.cluster_id, id_rule);
    judge(
        &ROWS.allow_aaaa,
        &config.allow_aaaa,
        check::allow_aaaa_rule(config.allow_aaaa, &basis),
    );
    judge(
        &ROWS.nat64_v4_prefix,
        &config.nat64_v4_prefix,
        check::nat64_v4_prefix_rule(config.nat64_v4_prefix, &basis),
    );
    if let Some(upstream) = config.upstream_dns {
        judge(
            &ROWS.upstream_dns,
            &upstream,
            check::upstream_dns_rule(upstream),
        );
    }
    if let Some(name) = &config.egress_interface {
        judge(
            &ROWS.egress_interface,
            name,
            check::egress_interface_rule(name),
        );
    }
    judge(
        &ROWS.mgmt_cidrs,
        &list(&config.mgmt_cidrs),
        check::mgmt_cidrs_rule(&config.mgmt_cidrs, &basis),
    );
    judge(
        &ROWS.pod_cidrs,
        &list(&config.pod_cidrs),
        check::pod_cidrs_rule(&config.pod_cidrs, &basis),
    );
    judge(
        &ROWS.service_cidrs,
        &list(&config.service_cidrs),
        check::service_cidrs_rule(&config.service_cidrs, &basis),
    );
    if let Some(image) = &config.node_image {
        judge(&ROWS.node_image, image, check::node_image_rule(image));
    }
    judge(
        &ROWS.kubernetes_version,
        &config.kubernetes_version,
        check::kubernetes_version_rule(config.kubernetes_version),
    );
    problems.extend(config.nodes.problems());
    problems
}

fn list(nets: &[IpNet]) -> String {
    if nets.is_empty() {
        return "(none)".to_string();
    }
    nets.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests;

//! tayga.conf for the NAT64 gateway.

use crate::plan::Nat64Plan;

pub(crate) const DATA_DIR: &str = "/var/spool/tayga";

pub(crate) fn tayga_conf(nat64: &Nat64Plan) -> String {
    format!(
        "# Rendered by dind; changes are overwritten by `dind up`.\n\
         tun-device {tun}\n\
         ipv4-addr {v4}\n\
         prefix {prefix}\n\
         dynamic-pool {pool}\n\
         data-dir {DATA_DIR}\n",
        tun = nat64.tun_device,
        v4 = nat64.address_v4,
        prefix = nat64.prefix,
        pool = nat64.pool,
    )
}

//! bind9's named.conf for the DNS64 server.

use crate::plan::Dns64Plan;
use std::fmt::Write;

/// Without `--allow-aaaa`, `exclude { any; }` makes bind ignore every real AAAA record, so
/// every name is synthesized under the prefix and all egress crosses NAT64. With it, bind's
/// default exclude applies: real AAAA records pass through and only A-only names are
/// synthesized.
pub(crate) fn named_conf(dns64: &Dns64Plan) -> String {
    let mut conf = String::new();
    conf.push_str("// Rendered by dind; changes are overwritten by `dind up`.\n");
    conf.push_str("options {\n");
    conf.push_str("    directory \"/var/cache/bind\";\n");
    conf.push_str("    listen-on { none; };\n");
    conf.push_str("    listen-on-v6 { any; };\n");
    conf.push_str("    allow-query { any; };\n");
    conf.push_str("    recursion yes;\n");
    conf.push_str("    forward only;\n");
    let _ = writeln!(conf, "    forwarders {{ {}; }};", dns64.forwarder);
    // Validation needs the root's keys over a path that may not exist (CI, test networks);
    // the upstream resolver validates instead.
    conf.push_str("    dnssec-validation no;\n");
    conf.push_str("    auth-nxdomain no;\n");
    // Queries go to named's stderr (`docker logs`), for `dind export logs`.
    conf.push_str("    querylog yes;\n");
    if dns64.allow_aaaa {
        let _ = writeln!(conf, "    dns64 {} {{ }};", dns64.prefix);
    } else {
        let _ = writeln!(conf, "    dns64 {} {{", dns64.prefix);
        conf.push_str("        exclude { any; };\n");
        conf.push_str("    };\n");
    }
    conf.push_str("};\n");
    conf
}

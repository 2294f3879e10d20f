//! The one parser of `ip route show` output: every host check reads routes through it.

use ipnet::IpNet;

/// One entry of `ip route show`; multipath continuation lines are folded into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HostRoute {
    /// The entry as `ip` printed it (continuations joined), for messages.
    pub(crate) line: String,
    /// The type `ip` prints before the destination (`unreachable`, `blackhole`...); None
    /// for a plain unicast route.
    pub(crate) route_type: Option<String>,
    /// None for the default route.
    pub(crate) dst: Option<IpNet>,
    /// Every `dev` of the entry: one, or one per nexthop of a multipath route.
    pub(crate) devs: Vec<String>,
    pub(crate) proto: Option<String>,
}

impl HostRoute {
    pub(crate) fn is_default(&self) -> bool {
        self.dst.is_none()
    }

    /// A default route that sends traffic somewhere (not `unreachable default`, say).
    pub(crate) fn is_usable_default(&self) -> bool {
        self.is_default() && self.route_type.as_deref().is_none_or(|t| t == "unicast")
    }

    pub(crate) fn uses_dev(&self, dev: &str) -> bool {
        self.devs.iter().any(|d| d == dev)
    }

    /// Learned from IPv6 router advertisements by the kernel.
    pub(crate) fn is_router_advertised(&self) -> bool {
        self.proto.as_deref() == Some("ra")
    }
}

/// Route types `ip` may print before the destination.
const ROUTE_TYPES: [&str; 9] = [
    "unicast",
    "local",
    "broadcast",
    "multicast",
    "throw",
    "unreachable",
    "prohibit",
    "blackhole",
    "nat",
];

/// The entries of `ip route show` (either family); lines it cannot read are skipped.
pub(crate) fn parse_routes(text: &str) -> Vec<HostRoute> {
    let mut entries: Vec<String> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match entries.last_mut() {
            Some(last) if line.starts_with(char::is_whitespace) => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => entries.push(line.trim().to_string()),
        }
    }
    entries.into_iter().filter_map(parse_entry).collect()
}

fn parse_entry(line: String) -> Option<HostRoute> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let (route_type, rest) = match words.split_first() {
        Some((word, rest)) if ROUTE_TYPES.contains(word) => (Some(word.to_string()), rest),
        _ => (None, &words[..]),
    };
    let first = *rest.first()?;
    let dst = if first == "default" {
        None
    } else {
        Some(parse_destination(first)?)
    };
    let values = |key: &str| {
        words
            .windows(2)
            .filter(|w| w[0] == key)
            .map(|w| w[1].to_string())
            .collect::<Vec<_>>()
    };
    Some(HostRoute {
        devs: values("dev"),
        proto: values("proto").into_iter().next(),
        route_type,
        dst,
        line,
    })
}

/// `10.1.0.0/16`, or a bare address (a host route).
fn parse_destination(word: &str) -> Option<IpNet> {
    word.parse::<IpNet>()
        .ok()
        .or_else(|| word.parse::<std::net::IpAddr>().ok().map(IpNet::from))
}

/// True when `routes` have a usable default route, on any interface.
pub(crate) fn has_default(routes: &[HostRoute]) -> bool {
    routes.iter().any(HostRoute::is_usable_default)
}

/// The interface of the first usable default route that names one.
pub(crate) fn default_dev(routes: &[HostRoute]) -> Option<&str> {
    routes
        .iter()
        .filter(|r| r.is_usable_default())
        .find_map(|r| r.devs.first())
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_with_types_host_routes_and_multipath() {
        let routes = parse_routes(
            "default proto ra metric 1024 pref medium\n\
             \tnexthop via fe80::1 dev eth0 weight 1\n\
             \tnexthop via fe80::2 dev eth1 weight 1\n\
             blackhole 10.9.0.0/16\n\
             10.1.2.3 via 192.0.2.1 dev eth0\n\
             garbage line\n",
        );
        assert_eq!(routes.len(), 3, "{routes:#?}");
        assert!(routes[0].is_default());
        assert_eq!(routes[0].devs, ["eth0", "eth1"]);
        assert!(routes[0].uses_dev("eth1"));
        assert!(routes[0].is_router_advertised());
        assert_eq!(
            routes[0].line,
            "default proto ra metric 1024 pref medium nexthop via fe80::1 dev eth0 weight 1 \
             nexthop via fe80::2 dev eth1 weight 1"
        );
        assert_eq!(routes[0].route_type, None);
        assert_eq!(routes[1].route_type.as_deref(), Some("blackhole"));
        assert_eq!(routes[1].dst, Some("10.9.0.0/16".parse().unwrap()));
        assert!(routes[1].devs.is_empty());
        assert_eq!(routes[2].dst, Some("10.1.2.3/32".parse().unwrap()));
        assert!(!routes[2].is_router_advertised());
    }

    #[test]
    fn the_default_interface_is_the_first_default_route_that_names_one() {
        let dev = |text: &str| default_dev(&parse_routes(text)).map(str::to_string);
        assert_eq!(
            dev("10.0.0.0/8 dev eth1\ndefault via 192.0.2.1 dev eth0\n").as_deref(),
            Some("eth0")
        );
        assert_eq!(
            dev("unreachable default dev lo metric 4278198272\ndefault via fe80::1 dev wlan0 proto ra\n")
                .as_deref(),
            Some("wlan0")
        );
        assert_eq!(
            dev("default proto ra metric 1024\n\tnexthop via fe80::1 dev eth2 weight 1\n")
                .as_deref(),
            Some("eth2")
        );
        assert_eq!(dev("10.0.0.0/8 dev eth1\n"), None);
        assert_eq!(dev(""), None);
    }

    #[test]
    fn a_usable_default_route_is_found_on_any_interface() {
        let has_default = |text: &str| has_default(&parse_routes(text));
        assert!(has_default(
            "fd00:ee::/64 dev veth proto kernel metric 256\n\
             default via fe80::1 dev eth0 proto ra metric 1024 expires 1790sec pref medium\n"
        ));
        assert!(has_default("default dev wg0 metric 1024\n"));
        assert!(has_default("unicast default via 192.0.2.1 dev eth0\n"));
        assert!(!has_default(
            "unreachable default dev lo proto kernel metric 4294967295 error -101 pref medium\n"
        ));
        assert!(!has_default(
            "fd00:20::/64 dev br-dind0 proto kernel metric 256\nfe80::/64 dev eth0 proto kernel\n"
        ));
        assert!(!has_default(""));
    }
}

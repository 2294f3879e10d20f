//! The DNS64/NAT64 prefix: dind-nat64's [`Prefix`] (RFC 6052's rule in one place), read from
//! text once, with the words config's refusals use. A record reads it the same way.

pub use dind_nat64::addr::Prefix;
use dind_nat64::addr::PrefixProblem;
use ipnet::Ipv6Net;
use serde::{Deserialize, Deserializer, Serializer};

/// The prefix `text` names, or why it is none.
pub(crate) fn parse(text: &str) -> Result<Prefix, String> {
    let net: Ipv6Net = text
        .trim()
        .parse()
        .map_err(|_| "expected an IPv6 CIDR like fd00:10:64:ff9b::/96".to_string())?;
    Prefix::new(net).map_err(|bad| match bad.problem {
        PrefixProblem::Length => "the length must be 32, 40, 48, 56, 64 or 96 (RFC 6052)".into(),
        PrefixProblem::HostBits => format!("host bits are set; did you mean {}?", net.trunc()),
        PrefixProblem::UOctet => "bits 64-71 must be zero (RFC 6052 §2.2)".into(),
    })
}

/// As a CIDR, for `#[serde(with)]` and `#[serde(serialize_with)]`.
pub(crate) fn serialize<S: Serializer>(prefix: &Prefix, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(prefix)
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Prefix, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).map_err(|reason| {
        serde::de::Error::custom(format!("the DNS64 prefix {text} is refused: {reason}"))
    })
}

//! IP protocol numbers (IPv4's protocol field, IPv6's next header).

pub(crate) const HOP_BY_HOP: u8 = 0;
pub(crate) const ICMP: u8 = 1;
pub(crate) const TCP: u8 = 6;
pub(crate) const UDP: u8 = 17;
pub(crate) const ROUTING: u8 = 43;
pub(crate) const FRAGMENT: u8 = 44;
pub(crate) const ICMPV6: u8 = 58;
pub(crate) const NO_NEXT_HEADER: u8 = 59;
pub(crate) const DESTINATION_OPTIONS: u8 = 60;

/// Numbers that mean something in IPv6 only: an IPv4 packet carrying one is not translated
/// (RFC 7915 section 4.1).
pub(crate) fn is_ipv6_only(protocol: u8) -> bool {
    matches!(
        protocol,
        HOP_BY_HOP | ROUTING | FRAGMENT | ICMPV6 | DESTINATION_OPTIONS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6s_extension_headers_and_icmpv6_are_ipv6_only() {
        for protocol in [0, 43, 44, 58, 60] {
            assert!(is_ipv6_only(protocol), "{protocol}");
        }
        for protocol in [ICMP, TCP, UDP, NO_NEXT_HEADER, 50, 132] {
            assert!(!is_ipv6_only(protocol), "{protocol}");
        }
    }
}

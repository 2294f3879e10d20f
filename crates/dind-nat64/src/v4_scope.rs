//! Which IPv4 addresses a translator must not carry: martians, as source or destination
//! (RFC 1812 section 5.3.7, RFC 3927 section 7), and, under the well-known prefix, the
//! non-global ones (RFC 6052 section 3.1).

use std::net::Ipv4Addr;

/// "This network" (0/8), loopback (127/8), link-local (169.254/16), multicast (224/4),
/// reserved (240/4, with the limited broadcast address).
pub(crate) fn is_martian(v4: Ipv4Addr) -> bool {
    let [first, second, ..] = v4.octets();
    first == 0 || first == 127 || (first == 169 && second == 254) || first >= 224
}

/// The special-purpose blocks of IANA's registry that are not globally reachable, as RFC
/// 6052 section 3.1 means ("non-global"); martians aside, which are refused anyway.
pub(crate) fn is_non_global(v4: Ipv4Addr) -> bool {
    const BLOCKS: [([u8; 4], u8); 11] = [
        ([10, 0, 0, 0], 8),      // RFC 1918
        ([100, 64, 0, 0], 10),   // RFC 6598, shared address space
        ([172, 16, 0, 0], 12),   // RFC 1918
        ([192, 0, 0, 0], 24),    // RFC 6890, IETF protocol assignments
        ([192, 0, 2, 0], 24),    // RFC 5737, TEST-NET-1
        ([192, 88, 99, 0], 24),  // RFC 7526, deprecated 6to4 relay anycast
        ([192, 168, 0, 0], 16),  // RFC 1918
        ([198, 18, 0, 0], 15),   // RFC 2544, benchmarking
        ([198, 51, 100, 0], 24), // RFC 5737, TEST-NET-2
        ([203, 0, 113, 0], 24),  // RFC 5737, TEST-NET-3
        ([255, 255, 255, 255], 32),
    ];
    let address = u32::from(v4);
    BLOCKS.iter().any(|(net, len)| {
        let mask = u32::MAX << (32 - u32::from(*len));
        address & mask == u32::from_be_bytes(*net)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn martians_are_this_network_loopback_link_local_multicast_and_reserved() {
        for martian in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "169.254.1.1",
            "224.0.0.1",
            "239.255.255.255",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(is_martian(martian.parse().unwrap()), "{martian}");
        }
        for fine in ["1.1.1.1", "10.0.0.1", "169.253.0.1", "223.255.255.255"] {
            assert!(!is_martian(fine.parse().unwrap()), "{fine}");
        }
    }

    #[test]
    fn private_shared_documentation_and_benchmark_blocks_are_not_global() {
        for local in [
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.255",
            "172.31.0.1",
            "192.0.0.8",
            "192.0.2.33",
            "192.168.1.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
        ] {
            assert!(is_non_global(local.parse().unwrap()), "{local}");
        }
        for global in [
            "1.1.1.1",
            "100.128.0.1",
            "172.32.0.1",
            "198.20.0.1",
            "8.8.8.8",
        ] {
            assert!(!is_non_global(global.parse().unwrap()), "{global}");
        }
    }
}

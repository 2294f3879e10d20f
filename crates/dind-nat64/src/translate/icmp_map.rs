//! ICMP type, code and pointer mappings between ICMPv4 and ICMPv6 (RFC 7915 sections 4.2
//! and 5.2). What a mapping leaves out is dropped, as the RFC says ("silently drop").

use crate::wire::icmpv4 as v4;
use crate::wire::icmpv6 as v6;

/// What the four bytes after the checksum carry in the translated message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rest {
    /// Echo identifier and sequence: kept.
    Echo,
    /// Unused: zero.
    Unused,
    /// A Packet Too Big / fragmentation needed MTU, still to be adjusted.
    Mtu,
    /// A parameter problem's pointer, translated to the other header.
    Pointer(u8),
}

/// An ICMP message's type and code in the other family, and what its rest becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mapped {
    pub(crate) kind: u8,
    pub(crate) code: u8,
    pub(crate) rest: Rest,
}

const fn mapped(kind: u8, code: u8, rest: Rest) -> Option<Mapped> {
    Some(Mapped { kind, code, rest })
}

/// ICMPv4 -> ICMPv6 (RFC 7915 section 4.2). `pointer` is the ICMPv4 parameter problem's.
pub(crate) fn v4_to_v6(kind: u8, code: u8, pointer: u8) -> Option<Mapped> {
    match (kind, code) {
        (v4::ECHO_REQUEST, 0) => mapped(v6::ECHO_REQUEST, 0, Rest::Echo),
        (v4::ECHO_REPLY, 0) => mapped(v6::ECHO_REPLY, 0, Rest::Echo),
        (v4::DEST_UNREACHABLE, code) => match code {
            0 | 1 | 5 | 6 | 7 | 8 | 11 | 12 => mapped(v6::DEST_UNREACHABLE, 0, Rest::Unused),
            9 | 10 | 13 | 15 => mapped(v6::DEST_UNREACHABLE, 1, Rest::Unused),
            2 => mapped(v6::PARAMETER_PROBLEM, 1, Rest::Pointer(6)),
            3 => mapped(v6::DEST_UNREACHABLE, 4, Rest::Unused),
            v4::FRAGMENTATION_NEEDED => mapped(v6::PACKET_TOO_BIG, 0, Rest::Mtu),
            _ => None,
        },
        (v4::TIME_EXCEEDED, 0 | 1) => mapped(v6::TIME_EXCEEDED, code, Rest::Unused),
        (v4::PARAMETER_PROBLEM, 0 | 2) => mapped(
            v6::PARAMETER_PROBLEM,
            0,
            Rest::Pointer(v4_pointer_to_v6(pointer)?),
        ),
        _ => None,
    }
}

/// ICMPv6 -> ICMPv4 (RFC 7915 section 5.2). `pointer` is the ICMPv6 parameter problem's.
pub(crate) fn v6_to_v4(kind: u8, code: u8, pointer: u32) -> Option<Mapped> {
    match (kind, code) {
        (v6::ECHO_REQUEST, 0) => mapped(v4::ECHO_REQUEST, 0, Rest::Echo),
        (v6::ECHO_REPLY, 0) => mapped(v4::ECHO_REPLY, 0, Rest::Echo),
        (v6::DEST_UNREACHABLE, code) => match code {
            0 | 2 | 3 => mapped(v4::DEST_UNREACHABLE, 1, Rest::Unused),
            1 => mapped(v4::DEST_UNREACHABLE, 10, Rest::Unused),
            4 => mapped(v4::DEST_UNREACHABLE, 3, Rest::Unused),
            _ => None,
        },
        (v6::PACKET_TOO_BIG, 0) => {
            mapped(v4::DEST_UNREACHABLE, v4::FRAGMENTATION_NEEDED, Rest::Mtu)
        }
        (v6::TIME_EXCEEDED, 0 | 1) => mapped(v4::TIME_EXCEEDED, code, Rest::Unused),
        (v6::PARAMETER_PROBLEM, 0) => mapped(
            v4::PARAMETER_PROBLEM,
            0,
            Rest::Pointer(v6_pointer_to_v4(pointer)?),
        ),
        (v6::PARAMETER_PROBLEM, 1) => mapped(v4::DEST_UNREACHABLE, 2, Rest::Unused),
        _ => None,
    }
}

/// RFC 7915 figure 3: an IPv4 header byte's counterpart in the IPv6 header.
fn v4_pointer_to_v6(pointer: u8) -> Option<u8> {
    match pointer {
        0 => Some(0),
        1 => Some(1),
        2 | 3 => Some(4),
        8 => Some(7),
        9 => Some(6),
        12..=15 => Some(8),
        16..=19 => Some(24),
        _ => None,
    }
}

/// RFC 7915 figure 6: an IPv6 header byte's counterpart in the IPv4 header.
fn v6_pointer_to_v4(pointer: u32) -> Option<u8> {
    match pointer {
        0 => Some(0),
        1 => Some(1),
        4 | 5 => Some(2),
        6 => Some(9),
        7 => Some(8),
        8..=23 => Some(12),
        24..=39 => Some(16),
        _ => None,
    }
}

/// RFC 1191's plateaus, for an ICMPv4 fragmentation needed that gives no MTU: the largest
/// below the length of the packet that did not fit.
pub(crate) fn plateau_below(length: u16) -> u16 {
    const PLATEAUS: [u16; 11] = [
        65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68,
    ];
    PLATEAUS
        .into_iter()
        .find(|plateau| *plateau < length)
        .unwrap_or(68)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (type, code) and what it becomes, if anything.
    type Case = ((u8, u8), Option<(u8, u8)>);

    #[test]
    fn rfc_7915_section_4_2_icmpv4_to_icmpv6() {
        let cases: [Case; 17] = [
            ((8, 0), Some((128, 0))),
            ((0, 0), Some((129, 0))),
            ((3, 0), Some((1, 0))),
            ((3, 1), Some((1, 0))),
            ((3, 2), Some((4, 1))),
            ((3, 3), Some((1, 4))),
            ((3, 4), Some((2, 0))),
            ((3, 5), Some((1, 0))),
            ((3, 9), Some((1, 1))),
            ((3, 13), Some((1, 1))),
            ((3, 14), None),
            ((11, 0), Some((3, 0))),
            ((11, 1), Some((3, 1))),
            ((12, 0), Some((4, 0))),
            ((12, 1), None),
            ((13, 0), None),
            ((5, 1), None),
        ];
        for ((kind, code), want) in cases {
            let got = v4_to_v6(kind, code, 0).map(|m| (m.kind, m.code));
            assert_eq!(got, want, "ICMPv4 type {kind} code {code}");
        }
        assert_eq!(v4_to_v6(3, 2, 0).unwrap().rest, Rest::Pointer(6));
        assert_eq!(v4_to_v6(3, 4, 0).unwrap().rest, Rest::Mtu);
    }

    #[test]
    fn rfc_7915_section_5_2_icmpv6_to_icmpv4() {
        let cases: [Case; 14] = [
            ((128, 0), Some((8, 0))),
            ((129, 0), Some((0, 0))),
            ((1, 0), Some((3, 1))),
            ((1, 1), Some((3, 10))),
            ((1, 2), Some((3, 1))),
            ((1, 3), Some((3, 1))),
            ((1, 4), Some((3, 3))),
            ((2, 0), Some((3, 4))),
            ((3, 0), Some((11, 0))),
            ((3, 1), Some((11, 1))),
            ((4, 0), Some((12, 0))),
            ((4, 1), Some((3, 2))),
            ((4, 2), None),
            ((135, 0), None),
        ];
        for ((kind, code), want) in cases {
            let got = v6_to_v4(kind, code, 0).map(|m| (m.kind, m.code));
            assert_eq!(got, want, "ICMPv6 type {kind} code {code}");
        }
    }

    #[test]
    fn rfc_7915_pointer_tables() {
        for (v4, v6) in [
            (0, Some(0)),
            (1, Some(1)),
            (2, Some(4)),
            (3, Some(4)),
            (4, None),
            (8, Some(7)),
            (9, Some(6)),
            (10, None),
            (12, Some(8)),
            (19, Some(24)),
            (20, None),
        ] {
            assert_eq!(v4_pointer_to_v6(v4), v6, "IPv4 pointer {v4}");
        }
        for (v6, v4) in [
            (0, Some(0)),
            (1, Some(1)),
            (2, None),
            (4, Some(2)),
            (6, Some(9)),
            (7, Some(8)),
            (8, Some(12)),
            (23, Some(12)),
            (24, Some(16)),
            (39, Some(16)),
            (40, None),
        ] {
            assert_eq!(v6_pointer_to_v4(v6), v4, "IPv6 pointer {v6}");
        }
        assert_eq!(
            v6_to_v4(4, 0, 2),
            None,
            "the flow label has no IPv4 counterpart"
        );
    }

    #[test]
    fn rfc_1191_plateaus() {
        assert_eq!(plateau_below(1500), 1492);
        assert_eq!(plateau_below(1492), 1006);
        assert_eq!(plateau_below(60), 68);
    }
}

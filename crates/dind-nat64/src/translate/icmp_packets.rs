//! Whole ICMP packets the translator writes: its own errors and echo replies, and the
//! errors it translates, rebuilt around the packet they quote.

use super::state::{IPV4_ERROR_MAX, IPV6_MIN_MTU, OWN_HOP_LIMIT};
use crate::wire::protocol::{ICMP, ICMPV6};
use crate::wire::{icmpv4, icmpv6, ipv4, ipv6};
use std::net::{Ipv4Addr, Ipv6Addr};

/// (type, code, the four bytes after the checksum)
pub(crate) type Message = (u8, u8, [u8; 4]);

/// What an ICMPv6 message may quote: the rest of IPv6's minimum MTU.
const V6_QUOTE_MAX: usize = IPV6_MIN_MTU - ipv6::HEADER_LEN - icmpv6::HEADER_LEN;
/// What an ICMPv4 error may quote: the rest of 576 bytes.
const V4_QUOTE_MAX: usize = IPV4_ERROR_MAX - ipv4::HEADER_LEN - icmpv4::HEADER_LEN;

/// An ICMPv6 error quoting as much of `quoted` as fits in IPv6's minimum MTU.
pub(crate) fn icmpv6(
    message: Message,
    quoted: &[u8],
    class_and_hops: (u8, u8),
    addresses: (Ipv6Addr, Ipv6Addr),
) -> Vec<u8> {
    let quoted = &quoted[..quoted.len().min(V6_QUOTE_MAX)];
    icmpv6_message(message, quoted, class_and_hops, addresses)
}

/// The translator's echo reply: the request's data, whole.
pub(crate) fn icmpv6_echo(reply: Message, data: &[u8], addresses: (Ipv6Addr, Ipv6Addr)) -> Vec<u8> {
    icmpv6_message(reply, data, (0, OWN_HOP_LIMIT), addresses)
}

fn icmpv6_message(
    message: Message,
    body: &[u8],
    (traffic_class, hop_limit): (u8, u8),
    (src, dst): (Ipv6Addr, Ipv6Addr),
) -> Vec<u8> {
    let length = icmpv6::HEADER_LEN + body.len();
    let mut packet = Vec::with_capacity(ipv6::HEADER_LEN + length);
    ipv6::Repr {
        traffic_class,
        payload_len: length as u16,
        next_header: ICMPV6,
        hop_limit,
        src,
        dst,
    }
    .emit(&mut packet);
    let pseudo_sum = ipv6::pseudo_sum(&src, &dst, ICMPV6, length);
    icmpv6::emit(&mut packet, message, body, pseudo_sum);
    packet
}

/// An ICMPv4 error quoting as much of `quoted` as fits in 576 bytes.
pub(crate) fn icmpv4(
    message: Message,
    quoted: &[u8],
    header: (u8, u8, u16),
    addresses: (Ipv4Addr, Ipv4Addr),
) -> Vec<u8> {
    let quoted = &quoted[..quoted.len().min(V4_QUOTE_MAX)];
    icmpv4_message(message, quoted, header, addresses)
}

/// The translator's echo reply: the request's data, whole.
pub(crate) fn icmpv4_echo(
    reply: Message,
    data: &[u8],
    header: (u8, u8, u16),
    addresses: (Ipv4Addr, Ipv4Addr),
) -> Vec<u8> {
    icmpv4_message(reply, data, header, addresses)
}

fn icmpv4_message(
    message: Message,
    body: &[u8],
    (tos, ttl, ident): (u8, u8, u16),
    (src, dst): (Ipv4Addr, Ipv4Addr),
) -> Vec<u8> {
    let total = ipv4::HEADER_LEN + icmpv4::HEADER_LEN + body.len();
    let mut packet = Vec::with_capacity(total);
    ipv4::Repr {
        tos,
        total_len: total as u16,
        ident,
        dont_fragment: false,
        more_fragments: false,
        fragment_offset: 0,
        ttl,
        protocol: ICMP,
        src,
        dst,
    }
    .emit(&mut packet);
    icmpv4::emit(&mut packet, message, body);
    packet
}

//! ICMP errors: those the translator sends itself, and the packets an error quotes,
//! translated so that the sender's stack can match them to its socket (RFC 7915 sections
//! 4.2 and 5.2: "the translation of the inner IP header").

use super::to_v4::{self, adjust_l4};
use super::{
    be16, push_fragment_header, push_v4_header, push_v6_header, put16, v4_at, Out, Translator,
    ICMP, ICMP6, IPV4_ERROR_MAX, IPV6_MIN_MTU, TCP, UDP,
};
use crate::checksum::{adjust, finish, pseudo, sum};
use crate::icmp;
use std::net::{Ipv4Addr, Ipv6Addr};

/// (type, code, the four bytes after the checksum)
pub(super) type Message = (u8, u8, [u8; 4]);

/// An ICMPv6 error from the translator's own address to the sender of `offending`, unless
/// that is itself an ICMPv6 error (RFC 4443 section 2.4 (e)).
pub(super) fn to_v6_sender(t: &Translator, offending: &[u8], message: Message, out: &mut Out) {
    let next = offending[6];
    if next == ICMP6
        && offending
            .get(40)
            .is_some_and(|kind| icmp::v6_is_error(*kind))
    {
        return out.drop(super::Dropped::Untranslatable);
    }
    let to: [u8; 16] = offending[8..24].try_into().expect("16 bytes");
    let packet = icmpv6_packet(message, offending, (0, 64), (t.own_v6.octets(), to));
    out.emit_whole(&packet);
}

/// An ICMPv4 error from the translator's own address to the sender of `offending`, unless
/// that is itself an ICMPv4 error (RFC 1122 section 3.2.2).
pub(super) fn to_v4_sender(t: &Translator, offending: &[u8], message: Message, out: &mut Out) {
    let ihl = usize::from(offending[0] & 0x0f) * 4;
    let fragment_offset = be16(offending, 6) & 0x1fff;
    if offending[9] == ICMP
        && (fragment_offset != 0
            || offending
                .get(ihl)
                .is_some_and(|kind| icmp::v4_is_error(*kind)))
    {
        return out.drop(super::Dropped::Untranslatable);
    }
    let addresses = (t.own_v4.octets(), v4_at(offending, 12));
    let packet = icmpv4_packet(message, offending, (0, 64, t.fresh_id()), addresses);
    out.emit_whole(&packet);
}

/// An ICMPv6 message quoting as much of `quoted` as fits in IPv6's minimum MTU.
pub(super) fn icmpv6_packet(
    (kind, code, rest): Message,
    quoted: &[u8],
    (traffic_class, hop_limit): (u8, u8),
    addresses: ([u8; 16], [u8; 16]),
) -> Vec<u8> {
    let mut message = vec![kind, code, 0, 0];
    message.extend_from_slice(&rest);
    message.extend_from_slice(&quoted[..quoted.len().min(IPV6_MIN_MTU - 48)]);
    let pseudo_sum = pseudo(&[&addresses.0, &addresses.1], ICMP6, message.len());
    let checksum = finish(pseudo_sum + sum(&message));
    put16(&mut message, 2, checksum);
    let mut packet = Vec::with_capacity(40 + message.len());
    let length = message.len() as u16;
    push_v6_header(
        &mut packet,
        traffic_class,
        length,
        ICMP6,
        hop_limit,
        addresses,
    );
    packet.extend_from_slice(&message);
    packet
}

/// An ICMPv4 message quoting as much of `quoted` as fits in 576 bytes.
pub(super) fn icmpv4_packet(
    (kind, code, rest): Message,
    quoted: &[u8],
    (tos, ttl, id): (u8, u8, u16),
    addresses: ([u8; 4], [u8; 4]),
) -> Vec<u8> {
    let mut message = vec![kind, code, 0, 0];
    message.extend_from_slice(&rest);
    message.extend_from_slice(&quoted[..quoted.len().min(IPV4_ERROR_MAX - 28)]);
    let checksum = finish(sum(&message));
    put16(&mut message, 2, checksum);
    let mut packet = Vec::with_capacity(20 + message.len());
    let total = (20 + message.len()) as u16;
    push_v4_header(&mut packet, tos, total, id, 0, ttl, ICMP, addresses);
    packet.extend_from_slice(&message);
    packet
}

/// An IPv6 address in a quoted packet, in IPv4: one under the prefix is the IPv4 host's,
/// another a pool host's.
fn quoted_v4_address(t: &Translator, v6: &[u8; 16]) -> Option<[u8; 4]> {
    t.prefix
        .extract(v6)
        .or_else(|| t.pool_v4_of(&Ipv6Addr::from(*v6)))
        .map(|v4| v4.octets())
}

/// An IPv4 address in a quoted packet, in IPv6: a pool address is its IPv6 host's, another
/// is the IPv4 host's under the prefix.
fn quoted_v6_address(t: &Translator, v4: [u8; 4]) -> [u8; 16] {
    let v4 = Ipv4Addr::from(v4);
    t.pool_v6_of(&v4)
        .unwrap_or_else(|| t.prefix.embed(v4))
        .octets()
}

/// The (possibly cut short) IPv6 packet an ICMPv6 error quotes, as the IPv4 packet it was
/// translated from or to: header, then as much of the rest as was quoted.
pub(super) fn quoted_v6_to_v4(t: &Translator, quoted: &[u8]) -> Option<Vec<u8>> {
    let h = to_v4::parse(quoted, true)?;
    let addresses = (quoted_v4_address(t, &h.src)?, quoted_v4_address(t, &h.dst)?);
    let upper_len = h.end.checked_sub(h.upper_at)?;
    let mut upper = quoted[h.upper_at..h.end.min(quoted.len())].to_vec();
    let protocol = match h.upper {
        ICMP6 => {
            let removed = pseudo(&[&h.src, &h.dst], ICMP6, upper_len);
            quoted_echo(&mut upper, |k, c| icmp::v6_to_v4(k, c, 0), removed, 0);
            ICMP
        }
        TCP | UDP if h.fragment.is_none_or(|f| f.offset == 0) => {
            let old = sum(&h.src) + sum(&h.dst);
            let new = sum(&addresses.0) + sum(&addresses.1);
            adjust_l4(&mut upper, h.upper, old, new, false);
            h.upper
        }
        other => other,
    };
    let (id, flags) = match h.fragment {
        Some(f) => (f.id as u16, (u16::from(f.more) << 13) | f.offset),
        None => (0, 0),
    };
    let total = u16::try_from(20 + upper_len).ok()?;
    let mut packet = Vec::with_capacity(20 + upper.len());
    let tc = h.traffic_class;
    push_v4_header(
        &mut packet,
        tc,
        total,
        id,
        flags,
        h.hop_limit,
        protocol,
        addresses,
    );
    packet.extend_from_slice(&upper);
    Some(packet)
}

/// The (possibly cut short) IPv4 packet an ICMPv4 error quotes, in IPv6.
pub(super) fn quoted_v4_to_v6(t: &Translator, quoted: &[u8]) -> Option<Vec<u8>> {
    if quoted.len() < 20 || quoted[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(quoted[0] & 0x0f) * 4;
    let total = usize::from(be16(quoted, 2));
    let upper_len = total.checked_sub(ihl)?;
    let (tos, ttl, protocol) = (quoted[1], quoted[8], quoted[9]);
    let flags_offset = be16(quoted, 6);
    let (more, offset) = (flags_offset & 0x2000 != 0, flags_offset & 0x1fff);
    let fragmented = more || offset != 0;
    let src = quoted_v6_address(t, v4_at(quoted, 12));
    let dst = quoted_v6_address(t, v4_at(quoted, 16));
    let mut upper = quoted.get(ihl..total.min(quoted.len()))?.to_vec();
    let next = match protocol {
        ICMP => {
            let added = pseudo(&[&src, &dst], ICMP6, upper_len);
            quoted_echo(&mut upper, |k, c| icmp::v4_to_v6(k, c, 0), 0, added);
            ICMP6
        }
        TCP | UDP if offset == 0 => {
            let old = sum(&quoted[12..20]);
            let new = sum(&src) + sum(&dst);
            adjust_l4(&mut upper, protocol, old, new, false);
            protocol
        }
        other => other,
    };
    let fragment_len = if fragmented { 8 } else { 0 };
    let payload_len = u16::try_from(fragment_len + upper_len).ok()?;
    let mut packet = Vec::with_capacity(40 + fragment_len + upper.len());
    let first = if fragmented { super::FRAGMENT } else { next };
    push_v6_header(&mut packet, tos, payload_len, first, ttl, (src, dst));
    if fragmented {
        let id = u32::from(be16(quoted, 4));
        push_fragment_header(&mut packet, next, offset, more, id);
    }
    packet.extend_from_slice(&upper);
    Some(packet)
}

/// A quoted echo request or reply in the other family: its type, and its checksum less
/// `removed` and plus `added` (ICMPv6's pseudo-header sum, which ICMPv4 lacks). Other
/// quoted ICMP messages are left as they are.
fn quoted_echo(
    msg: &mut [u8],
    map: impl Fn(u8, u8) -> Option<icmp::Mapped>,
    removed: u32,
    added: u32,
) {
    if msg.len() < 4 {
        return;
    }
    let Some(mapped) = map(msg[0], msg[1]).filter(|m| m.rest == icmp::Rest::Echo) else {
        return;
    };
    let old = removed + u32::from(be16(msg, 0));
    msg[0] = mapped.kind;
    let new = added + u32::from(be16(msg, 0));
    let checksum = adjust(be16(msg, 2), old, new, false);
    put16(msg, 2, checksum);
}

//! The packet an ICMP error quotes, translated with the error so that the sender's stack
//! can match it to its socket (RFC 7915 sections 4.2 and 5.2, "the translation of the inner
//! IP header"). A quoted packet is usually cut short: lengths come from its headers, bytes
//! from what was quoted.

use super::icmp_map::{self, Mapped, Rest};
use super::ipv6_headers::{Extent, Ipv6Headers};
use super::l4::{self, Held};
use super::state::Translator;
use crate::checksum::{adjust, sum};
use crate::pool::Seconds;
use crate::wire::ipv6_ext::{self, FragmentRepr};
use crate::wire::protocol::{self, FRAGMENT, ICMP, ICMPV6, TCP, UDP};
use crate::wire::{icmpv4, icmpv6, ipv4, ipv6};
use std::net::{Ipv4Addr, Ipv6Addr};

/// The IPv6 packet an ICMPv6 error quotes, as the IPv4 packet it was translated from or
/// to: header, then as much of the rest as was quoted.
/// None when it cannot be: the error is dropped.
pub(crate) fn v6_to_v4(t: &Translator, quoted: &[u8], now: Seconds) -> Option<Vec<u8>> {
    let h = Ipv6Headers::parse(quoted, Extent::Quoted).ok()?;
    if h.upper == ICMP || (h.upper != ICMPV6 && protocol::is_ipv6_only(h.upper)) {
        return None;
    }
    if h.upper == ICMPV6 && h.first_fragment() && quotes_icmpv6_error(h.upper_bytes(quoted)) {
        // RFC 7915 section 5.3: an error about an error is dropped.
        return None;
    }
    let src = t.addressing.quoted_v4(&h.src, now)?;
    let dst = t.addressing.quoted_v4(&h.dst, now)?;
    let upper_len = h.end.checked_sub(h.upper_at)?;
    let mut upper = h.upper_bytes(quoted).to_vec();
    let protocol = match h.upper {
        ICMPV6 => {
            let removed = ipv6::pseudo_sum(&h.src, &h.dst, ICMPV6, upper_len);
            echo_to_v4(&mut upper, removed);
            ICMP
        }
        TCP | UDP if h.first_fragment() => {
            let old = sum(&h.src.octets()) + sum(&h.dst.octets());
            let new = sum(&src.octets()) + sum(&dst.octets());
            // Too short to hold the checksum: left as it is.
            let _ = l4::readdress(&mut upper, h.upper, (old, new), false, Held::Start);
            h.upper
        }
        other => other,
    };
    v4_packet(&h, protocol, (src, dst), upper_len, &upper)
}

/// A quoted ICMPv6 echo as an ICMPv4 one: its type mapped, its checksum without the
/// pseudo-header sum `removed`. Other messages are left as they are.
fn echo_to_v4(message: &mut [u8], removed: u32) {
    let Ok(mut message) = icmpv6::Message::new_checked(message) else {
        return;
    };
    let (kind, code) = (message.msg_type(), message.code());
    if let Some(mapped) = icmp_map::v6_to_v4(kind, code, 0).filter(is_echo) {
        let old = removed + type_code_word(kind, code);
        message.set_msg_type(mapped.kind);
        let new = type_code_word(mapped.kind, code);
        let checksum = adjust(message.checksum(), old, new, false);
        message.set_checksum(checksum);
    }
}

/// The IPv4 header of a quoted packet whose headers were `h`, then its `upper` bytes (of
/// `upper_len` before the quote cut them short).
fn v4_packet(
    h: &Ipv6Headers,
    protocol: u8,
    (src, dst): (Ipv4Addr, Ipv4Addr),
    upper_len: usize,
    upper: &[u8],
) -> Option<Vec<u8>> {
    let total_len = u16::try_from(ipv4::HEADER_LEN + upper_len).ok()?;
    let fragment = h.fragment;
    let mut packet = Vec::with_capacity(ipv4::HEADER_LEN + upper.len());
    ipv4::Repr {
        tos: h.traffic_class,
        total_len,
        ident: fragment.map_or(0, |f| f.ident as u16),
        dont_fragment: false,
        more_fragments: fragment.is_some_and(|f| f.more),
        fragment_offset: fragment.map_or(0, |f| f.offset),
        ttl: h.hop_limit,
        protocol,
        src,
        dst,
    }
    .emit(&mut packet);
    packet.extend_from_slice(upper);
    Some(packet)
}

/// The IPv4 packet an ICMPv4 error quotes, in IPv6.
pub(crate) fn v4_to_v6(t: &Translator, quoted: &[u8], now: Seconds) -> Option<Vec<u8>> {
    let header = ipv4::Packet::new_checked(quoted).ok()?;
    let upper_len = header.total_len().checked_sub(header.header_len())?;
    let upper_end = header.total_len().min(quoted.len());
    let mut upper = quoted.get(header.header_len()..upper_end)?.to_vec();
    if protocol::is_ipv6_only(header.protocol()) {
        return None;
    }
    let first = header.fragment_offset() == 0;
    if header.protocol() == ICMP && first && quotes_icmpv4_error(&upper) {
        // RFC 7915 section 4.3: an error about an error is dropped.
        return None;
    }
    let src = t.addressing.quoted_v6(header.src_addr(), now);
    let dst = t.addressing.quoted_v6(header.dst_addr(), now);
    let next = match header.protocol() {
        ICMP => {
            let added = ipv6::pseudo_sum(&src, &dst, ICMPV6, upper_len);
            echo_to_v6(&mut upper, added);
            ICMPV6
        }
        TCP | UDP if first => {
            let old = header.addresses_sum();
            let new = sum(&src.octets()) + sum(&dst.octets());
            // Too short to hold the checksum: left as it is.
            let _ = l4::readdress(
                &mut upper,
                header.protocol(),
                (old, new),
                false,
                Held::Start,
            );
            header.protocol()
        }
        other => other,
    };
    v6_packet(&header, next, (src, dst), upper_len, &upper)
}

/// A quoted ICMPv4 echo as an ICMPv6 one: its type mapped, its checksum with the
/// pseudo-header sum `added`. Other messages are left as they are.
fn echo_to_v6(message: &mut [u8], added: u32) {
    let Ok(mut message) = icmpv4::Message::new_checked(message) else {
        return;
    };
    let (kind, code) = (message.msg_type(), message.code());
    if let Some(mapped) = icmp_map::v4_to_v6(kind, code, 0).filter(is_echo) {
        let old = type_code_word(kind, code);
        message.set_msg_type(mapped.kind);
        let new = added + type_code_word(mapped.kind, code);
        let checksum = adjust(message.checksum(), old, new, false);
        message.set_checksum(checksum);
    }
}

/// The IPv6 header (and fragment header, for a fragment) of a quoted packet whose IPv4
/// header was `header`, then its `upper` bytes (of `upper_len` before the quote cut them
/// short).
fn v6_packet(
    header: &ipv4::Packet<&[u8]>,
    next: u8,
    (src, dst): (Ipv6Addr, Ipv6Addr),
    upper_len: usize,
    upper: &[u8],
) -> Option<Vec<u8>> {
    let fragmented = header.is_fragment();
    let fragment_len = if fragmented {
        ipv6_ext::FRAGMENT_LEN
    } else {
        0
    };
    let payload_len = u16::try_from(fragment_len + upper_len).ok()?;
    let mut packet = Vec::with_capacity(ipv6::HEADER_LEN + fragment_len + upper.len());
    ipv6::Repr {
        traffic_class: header.tos(),
        payload_len,
        next_header: if fragmented { FRAGMENT } else { next },
        hop_limit: header.ttl(),
        src,
        dst,
    }
    .emit(&mut packet);
    if fragmented {
        FragmentRepr {
            next_header: next,
            offset: header.fragment_offset(),
            more_fragments: header.more_fragments(),
            ident: u32::from(header.ident()),
        }
        .emit(&mut packet);
    }
    packet.extend_from_slice(upper);
    Some(packet)
}

fn quotes_icmpv6_error(message: &[u8]) -> bool {
    icmpv6::Message::new_checked(message).is_ok_and(|m| icmpv6::is_error(m.msg_type()))
}

fn quotes_icmpv4_error(message: &[u8]) -> bool {
    icmpv4::Message::new_checked(message).is_ok_and(|m| icmpv4::is_error(m.msg_type()))
}

fn is_echo(mapped: &Mapped) -> bool {
    mapped.rest == Rest::Echo
}

/// An ICMP message's first word, as its checksum sums it.
fn type_code_word(kind: u8, code: u8) -> u32 {
    u32::from(u16::from_be_bytes([kind, code]))
}

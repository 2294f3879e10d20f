//! IPv4 -> IPv6 (RFC 7915 section 4).

use super::errors;
use super::to_v4::adjust_l4;
use super::{
    be16, push_fragment_header, push_v6_header, put16, v4_at, Dropped, Emitted, Out, Translator,
    FRAGMENT, ICMP, ICMP6, TCP, UDP,
};
use crate::checksum::{finish, fold, pseudo, sum};
use crate::icmp::{self, Rest};
use crate::vnet::{self, VnetHdr, GSO_TCPV6};
use std::net::Ipv4Addr;

struct V4Header {
    ihl: usize,
    total: usize,
    tos: u8,
    id: u16,
    dont_fragment: bool,
    more: bool,
    /// In 8-byte units.
    offset: u16,
    ttl: u8,
    protocol: u8,
    src: [u8; 4],
    dst: [u8; 4],
}

impl V4Header {
    fn parse(packet: &[u8], vnet: &VnetHdr) -> Option<V4Header> {
        if packet.len() < 20 {
            return None;
        }
        let ihl = usize::from(packet[0] & 0x0f) * 4;
        let mut total = usize::from(be16(packet, 2));
        if total == 0 && vnet.segmented() {
            // A super-packet past 64 KB: its length is the read's.
            total = packet.len();
        }
        if ihl < 20 || total < ihl || total > packet.len() {
            return None;
        }
        let flags_offset = be16(packet, 6);
        Some(V4Header {
            ihl,
            total,
            tos: packet[1],
            id: be16(packet, 4),
            dont_fragment: flags_offset & 0x4000 != 0,
            more: flags_offset & 0x2000 != 0,
            offset: flags_offset & 0x1fff,
            ttl: packet[8],
            protocol: packet[9],
            src: v4_at(packet, 12),
            dst: v4_at(packet, 16),
        })
    }

    fn fragmented(&self) -> bool {
        self.more || self.offset != 0
    }
}

pub(super) fn translate(t: &Translator, vnet: VnetHdr, frame: &mut [u8], out: &mut Out) {
    let ip = vnet::LEN;
    let Some(h) = V4Header::parse(&frame[ip..], &vnet) else {
        return out.drop(Dropped::Malformed);
    };
    let Some(dst6) = t.pool_v6_of(&Ipv4Addr::from(h.dst)) else {
        return out.drop(Dropped::NotRouted);
    };
    if h.ttl <= 1 {
        let time_exceeded = (icmp::V4_TIME_EXCEEDED, 0, [0; 4]);
        return errors::to_v4_sender(t, &frame[ip..ip + h.total], time_exceeded, out);
    }
    let addresses = (
        t.prefix.embed(Ipv4Addr::from(h.src)).octets(),
        dst6.octets(),
    );
    let l4 = ip + h.ihl..ip + h.total;
    let upper_len = l4.len();
    let fragment_len = if h.fragmented() { 8 } else { 0 };
    let too_big = !vnet.segmented() && 40 + fragment_len + upper_len > t.mtu;
    if too_big && h.dont_fragment {
        let [hi, lo] = ((t.mtu - 20) as u16).to_be_bytes();
        let needed = (
            icmp::V4_DEST_UNREACHABLE,
            icmp::V4_FRAGMENTATION_NEEDED,
            [0, 0, hi, lo],
        );
        return errors::to_v4_sender(t, &frame[ip..ip + h.total], needed, out);
    }
    let partial = vnet.partial_checksum();
    let zero_udp_checksum = h.protocol == UDP
        && h.offset == 0
        && !partial
        && upper_len >= 8
        && be16(&frame[l4.clone()], 6) == 0;
    let protocol = match h.protocol {
        ICMP if h.fragmented() => return out.drop(Dropped::Untranslatable),
        ICMP => return icmp_to_v6(t, &h, frame, l4, addresses, out),
        UDP if zero_udp_checksum => {
            // IPv4 allows UDP without a checksum, IPv6 does not (RFC 7915 section 4.5).
            if h.fragmented() {
                return out.drop(Dropped::Untranslatable);
            }
            let segment = &frame[l4.clone()];
            let total = pseudo(&[&addresses.0, &addresses.1], UDP, upper_len) + sum(segment);
            let checksum = match finish(total) {
                0 => 0xffff,
                checksum => checksum,
            };
            put16(&mut frame[l4.clone()], 6, checksum);
            UDP
        }
        TCP | UDP if h.offset == 0 => {
            let old = sum(&h.src) + sum(&h.dst);
            let new = sum(&addresses.0) + sum(&addresses.1);
            if !adjust_l4(&mut frame[l4.clone()], h.protocol, old, new, partial) {
                return out.drop(Dropped::Malformed);
            }
            h.protocol
        }
        other => other,
    };
    if too_big {
        if partial {
            complete_partial(&mut frame[ip..ip + h.total], &vnet);
        }
        return fragment(t, &h, protocol, l4, addresses, out);
    }
    let mut head = Vec::with_capacity(vnet::LEN + 48);
    let delta = (40 + fragment_len) as i32 - h.ihl as i32;
    vnet.translated(delta, GSO_TCPV6).write(&mut head);
    let first = if h.fragmented() { FRAGMENT } else { protocol };
    let payload_len = (fragment_len + upper_len) as u16;
    push_v6_header(&mut head, h.tos, payload_len, first, h.ttl - 1, addresses);
    if h.fragmented() {
        push_fragment_header(&mut head, protocol, h.offset, h.more, u32::from(h.id));
    }
    out.packets.push(Emitted { head, body: l4 });
}

/// An IPv4 packet without DF that is too big for the IPv6 side, as IPv6 fragments.
fn fragment(
    t: &Translator,
    h: &V4Header,
    protocol: u8,
    l4: std::ops::Range<usize>,
    addresses: ([u8; 16], [u8; 16]),
    out: &mut Out,
) {
    let piece = (t.mtu - 48) / 8 * 8;
    let mut start = l4.start;
    while start < l4.end {
        let end = (start + piece).min(l4.end);
        let last = end == l4.end;
        let mut head = Vec::with_capacity(vnet::LEN + 48);
        VnetHdr::default().write(&mut head);
        let payload_len = (8 + end - start) as u16;
        push_v6_header(
            &mut head,
            h.tos,
            payload_len,
            FRAGMENT,
            h.ttl - 1,
            addresses,
        );
        let offset = h.offset + ((start - l4.start) / 8) as u16;
        let more = !last || h.more;
        push_fragment_header(&mut head, protocol, offset, more, u32::from(h.id));
        out.packets.push(Emitted {
            head,
            body: start..end,
        });
        start = end;
    }
}

/// Completes a checksum the kernel left partial, as a NIC would: the sum from
/// `csum_start`, the pseudo-header sum already in the field.
fn complete_partial(packet: &mut [u8], vnet: &VnetHdr) {
    let start = usize::from(vnet.csum_start);
    let at = start + usize::from(vnet.csum_offset);
    if at + 2 > packet.len() {
        return;
    }
    let checksum = !fold(sum(&packet[start..]));
    put16(packet, at, checksum);
}

/// ICMPv4 -> ICMPv6: echo in place, errors rebuilt with the packet they quote translated.
fn icmp_to_v6(
    t: &Translator,
    h: &V4Header,
    frame: &mut [u8],
    l4: std::ops::Range<usize>,
    addresses: ([u8; 16], [u8; 16]),
    out: &mut Out,
) {
    let msg = &mut frame[l4.clone()];
    if msg.len() < 8 {
        return out.drop(Dropped::Malformed);
    }
    let Some(mapped) = icmp::v4_to_v6(msg[0], msg[1], msg[4]) else {
        return out.drop(Dropped::Untranslatable);
    };
    let hop_limit = h.ttl - 1;
    let pseudo_sum = |length: usize| pseudo(&[&addresses.0, &addresses.1], ICMP6, length);
    if mapped.rest == Rest::Echo {
        if 40 + msg.len() > t.mtu {
            // Without DF (with it, fragmentation needed went back): ICMPv6 is not
            // fragmented here.
            return out.drop(Dropped::Untranslatable);
        }
        msg[0] = mapped.kind;
        msg[1] = mapped.code;
        put16(msg, 2, 0);
        let checksum = finish(pseudo_sum(msg.len()) + sum(msg));
        put16(msg, 2, checksum);
        let mut head = Vec::with_capacity(vnet::LEN + 40);
        VnetHdr::default().write(&mut head);
        push_v6_header(
            &mut head,
            h.tos,
            msg.len() as u16,
            ICMP6,
            hop_limit,
            addresses,
        );
        return out.packets.push(Emitted { head, body: l4 });
    }
    let quoted_total = if msg.len() >= 12 { be16(msg, 8 + 2) } else { 0 };
    let rest = match mapped.rest {
        Rest::Mtu => {
            let advertised = match be16(msg, 6) {
                0 => icmp::plateau_below(quoted_total),
                mtu => mtu,
            };
            let mtu = (usize::from(advertised) + 20)
                .min(t.mtu)
                .max(super::IPV6_MIN_MTU);
            (mtu as u32).to_be_bytes()
        }
        Rest::Pointer(p) => [0, 0, 0, p],
        Rest::Echo | Rest::Unused => [0; 4],
    };
    let Some(quoted) = errors::quoted_v4_to_v6(t, &msg[8..]) else {
        return out.drop(Dropped::Untranslatable);
    };
    let message = (mapped.kind, mapped.code, rest);
    let packet = errors::icmpv6_packet(message, &quoted, (h.tos, hop_limit), addresses);
    out.emit_whole(&packet);
}

//! IPv6 -> IPv4 (RFC 7915 section 5).

use super::errors;
use super::{
    be16, push_v4_header, put16, v6_at, Dropped, Emitted, Out, Translator, ICMP, ICMP6, TCP, UDP,
};
use crate::checksum::{adjust, finish, pseudo, sum};
use crate::icmp::{self, Rest};
use crate::vnet::{self, VnetHdr, GSO_TCPV4};
use std::net::Ipv6Addr;

const HOP_BY_HOP: u8 = 0;
const ROUTING: u8 = 43;
const DESTINATION_OPTIONS: u8 = 60;

/// Translated IPv4 packets up to this size may be fragmented on the IPv4 side (DF clear),
/// so that IPv6 hosts that never see a Packet Too Big below 1280 still get through (RFC
/// 7915 section 5.1).
const DF_FROM: usize = 1260;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Fragment {
    /// In 8-byte units.
    pub(super) offset: u16,
    pub(super) more: bool,
    pub(super) id: u32,
}

/// An IPv6 header and the extension headers RFC 7915 translates through.
#[derive(Debug)]
pub(super) struct V6Header {
    pub(super) traffic_class: u8,
    pub(super) hop_limit: u8,
    pub(super) src: [u8; 16],
    pub(super) dst: [u8; 16],
    /// The upper-layer protocol and where it starts.
    pub(super) upper: u8,
    pub(super) upper_at: usize,
    /// 40 + payload length: past the bytes at hand in a quoted (truncated) packet.
    pub(super) end: usize,
    pub(super) fragment: Option<Fragment>,
    /// Where a routing header with segments left has them: the packet is not translated.
    pub(super) segments_left_at: Option<usize>,
}

/// Parses the header at the start of `packet`; a `quoted` one may be cut short.
pub(super) fn parse(packet: &[u8], quoted: bool) -> Option<V6Header> {
    if packet.len() < 40 || packet[0] >> 4 != 6 {
        return None;
    }
    let payload_len = usize::from(be16(packet, 4));
    let end = 40 + payload_len;
    if payload_len == 0 && packet[6] != 59 || (!quoted && end > packet.len()) {
        return None;
    }
    let mut header = V6Header {
        traffic_class: (packet[0] << 4) | (packet[1] >> 4),
        hop_limit: packet[7],
        src: v6_at(packet, 8),
        dst: v6_at(packet, 24),
        upper: packet[6],
        upper_at: 40,
        end,
        fragment: None,
        segments_left_at: None,
    };
    let available = end.min(packet.len());
    loop {
        let at = header.upper_at;
        match header.upper {
            HOP_BY_HOP | ROUTING | DESTINATION_OPTIONS if header.fragment.is_none() => {
                let ext = packet.get(at..at + 8)?;
                if header.upper == ROUTING && ext[3] != 0 {
                    header.segments_left_at = Some(at + 3);
                }
                header.upper = ext[0];
                header.upper_at = at + (usize::from(ext[1]) + 1) * 8;
            }
            super::FRAGMENT if header.fragment.is_none() => {
                let ext = packet.get(at..at + 8)?;
                let offset_flags = be16(ext, 2);
                header.fragment = Some(Fragment {
                    offset: offset_flags >> 3,
                    more: offset_flags & 1 != 0,
                    id: u32::from_be_bytes([ext[4], ext[5], ext[6], ext[7]]),
                });
                header.upper = ext[0];
                header.upper_at = at + 8;
            }
            _ => break,
        }
        if header.upper_at > available {
            return None;
        }
    }
    Some(header)
}

impl V6Header {
    fn first_fragment(&self) -> bool {
        self.fragment.is_none_or(|f| f.offset == 0)
    }

    /// The IPv4 identification and flags/offset word (RFC 7915 section 5.1).
    fn v4_id_flags(&self, total: usize, fresh_id: impl FnOnce() -> u16) -> (u16, u16) {
        match self.fragment {
            Some(f) => (f.id as u16, (u16::from(f.more) << 13) | f.offset),
            None if total <= DF_FROM => (fresh_id(), 0),
            None => (0, 0x4000),
        }
    }
}

pub(super) fn translate(t: &Translator, vnet: VnetHdr, frame: &mut [u8], out: &mut Out) {
    let ip = vnet::LEN;
    let Some(h) = parse(&frame[ip..], false) else {
        return out.drop(Dropped::Malformed);
    };
    if vnet.segmented() {
        // Only TSO for IPv4 is offered: IPv6 super-packets never come.
        return out.drop(Dropped::Untranslatable);
    }
    let Some(dst4) = t.prefix.extract(&h.dst) else {
        return out.drop(Dropped::NotRouted);
    };
    let packet = &frame[ip..ip + h.end];
    if let Some(pointer) = h.segments_left_at {
        let rest = (pointer as u32).to_be_bytes();
        return errors::to_v6_sender(t, packet, (icmp::V6_PARAMETER_PROBLEM, 0, rest), out);
    }
    if dst4 == t.own_v4 {
        return answer_echo(t, &h, packet, out);
    }
    if h.hop_limit <= 1 {
        let time_exceeded = (icmp::V6_TIME_EXCEEDED, 0, [0; 4]);
        return errors::to_v6_sender(t, packet, time_exceeded, out);
    }
    let Some(src4) = t.assign(Ipv6Addr::from(h.src), out) else {
        return out.drop(Dropped::PoolExhausted);
    };
    let addresses = (src4.octets(), dst4.octets());
    let l4 = ip + h.upper_at..ip + h.end;
    let protocol = match h.upper {
        ICMP6 if h.fragment.is_some() => return out.drop(Dropped::Untranslatable),
        ICMP6 => return icmp_to_v4(t, &h, vnet, frame, l4, addresses, out),
        TCP | UDP if h.first_fragment() => {
            let old = sum(&h.src) + sum(&h.dst);
            let new = sum(&addresses.0) + sum(&addresses.1);
            if !adjust_l4(
                &mut frame[l4.clone()],
                h.upper,
                old,
                new,
                vnet.partial_checksum(),
            ) {
                return out.drop(Dropped::Malformed);
            }
            h.upper
        }
        other => other,
    };
    let total = 20 + l4.len();
    if total > 0xffff {
        return out.drop(Dropped::Malformed);
    }
    let (id, flags) = h.v4_id_flags(total, || t.fresh_id());
    let mut head = Vec::with_capacity(vnet::LEN + 20);
    vnet.translated(20 - h.upper_at as i32, GSO_TCPV4)
        .write(&mut head);
    let hop_limit = h.hop_limit - 1;
    let tc = h.traffic_class;
    push_v4_header(
        &mut head,
        tc,
        total as u16,
        id,
        flags,
        hop_limit,
        protocol,
        addresses,
    );
    out.packets.push(Emitted { head, body: l4 });
}

/// Adjusts a TCP or UDP checksum in `segment` for new pseudo-header addresses; false when
/// the segment is too short to hold it. A quoted segment may end before it: left alone.
pub(super) fn adjust_l4(
    segment: &mut [u8],
    protocol: u8,
    old: u32,
    new: u32,
    partial: bool,
) -> bool {
    let at = if protocol == TCP { 16 } else { 6 };
    if segment.len() < at + 2 {
        return false;
    }
    let field = be16(segment, at);
    if protocol == UDP && field == 0 && !partial {
        return true;
    }
    let mut checksum = adjust(field, old, new, partial);
    if protocol == UDP && checksum == 0 && !partial {
        checksum = 0xffff;
    }
    put16(segment, at, checksum);
    true
}

/// ICMPv6 -> ICMPv4: echo in place, errors rebuilt with the packet they quote translated.
fn icmp_to_v4(
    t: &Translator,
    h: &V6Header,
    vnet: VnetHdr,
    frame: &mut [u8],
    l4: std::ops::Range<usize>,
    addresses: ([u8; 4], [u8; 4]),
    out: &mut Out,
) {
    let msg = &mut frame[l4.clone()];
    if msg.len() < 8 {
        return out.drop(Dropped::Malformed);
    }
    let pointer = u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]);
    let Some(mapped) = icmp::v6_to_v4(msg[0], msg[1], pointer) else {
        return out.drop(Dropped::Untranslatable);
    };
    let (tos, ttl) = (h.traffic_class, h.hop_limit - 1);
    if mapped.rest == Rest::Echo {
        msg[0] = mapped.kind;
        msg[1] = mapped.code;
        put16(msg, 2, 0);
        let checksum = finish(sum(msg));
        put16(msg, 2, checksum);
        let total = 20 + msg.len();
        let (id, flags) = h.v4_id_flags(total, || t.fresh_id());
        let mut head = Vec::with_capacity(vnet::LEN + 20);
        VnetHdr {
            flags: 0,
            ..vnet.translated(20 - h.upper_at as i32, GSO_TCPV4)
        }
        .write(&mut head);
        push_v4_header(
            &mut head,
            tos,
            total as u16,
            id,
            flags,
            ttl,
            ICMP,
            addresses,
        );
        return out.packets.push(Emitted { head, body: l4 });
    }
    let Some(quoted) = errors::quoted_v6_to_v4(t, &msg[8..]) else {
        return out.drop(Dropped::Untranslatable);
    };
    let rest = match mapped.rest {
        Rest::Mtu => {
            let mtu = pointer.saturating_sub(20).min(t.mtu as u32).max(68) as u16;
            let [hi, lo] = mtu.to_be_bytes();
            [0, 0, hi, lo]
        }
        Rest::Pointer(p) => [p, 0, 0, 0],
        Rest::Echo | Rest::Unused => [0; 4],
    };
    let message = (mapped.kind, mapped.code, rest);
    let packet = errors::icmpv4_packet(message, &quoted, (tos, ttl, t.fresh_id()), addresses);
    out.emit_whole(&packet);
}

/// An echo request to the translator's own address under the prefix gets its reply: that
/// is how `dind check network` sees the translator work.
fn answer_echo(t: &Translator, h: &V6Header, packet: &[u8], out: &mut Out) {
    let msg = &packet[h.upper_at..];
    let is_request = h.upper == ICMP6 && msg.len() >= 8 && msg[0] == icmp::V6_ECHO_REQUEST;
    if !is_request || h.fragment.is_some() {
        return out.drop(Dropped::NotRouted);
    }
    let mut reply = msg.to_vec();
    reply[0] = icmp::V6_ECHO_REPLY;
    put16(&mut reply, 2, 0);
    let own = t.own_v6.octets();
    let checksum = finish(pseudo(&[&own, &h.src], ICMP6, reply.len()) + sum(&reply));
    put16(&mut reply, 2, checksum);
    let mut whole = Vec::with_capacity(40 + reply.len());
    super::push_v6_header(&mut whole, 0, reply.len() as u16, ICMP6, 64, (own, h.src));
    whole.extend_from_slice(&reply);
    out.emit_whole(&whole);
}

//! IPv6 -> IPv4 (RFC 7915 section 5).

use super::icmp_map::{self, Rest};
use super::ipv6_headers::{Extent, Ipv6Headers};
use super::{errors, icmp_packets, l4, quoted};
use super::{Dropped, Emitted, Out, Translator, HEADER_GROWTH, IPV4_MIN_MTU};
use crate::checksum::sum;
use crate::vnet::{self, VnetHdr, GSO_TCPV4};
use crate::wire::protocol::{ICMP, ICMPV6, TCP, UDP};
use crate::wire::{icmpv4, icmpv6, ipv4};
use std::net::Ipv4Addr;
use std::ops::Range;

/// Translated IPv4 packets up to this size may be fragmented on the IPv4 side (DF clear),
/// so that IPv6 hosts that never see a Packet Too Big below 1280 still get through (RFC
/// 7915 section 5.1).
const DF_FROM: usize = 1260;

/// The IPv4 header's identification and fragment fields (RFC 7915 section 5.1).
struct V4Fragmenting {
    ident: u16,
    dont_fragment: bool,
    more_fragments: bool,
    offset: u16,
}

impl V4Fragmenting {
    fn of(h: &Ipv6Headers, total: usize, fresh_id: impl FnOnce() -> u16) -> V4Fragmenting {
        match h.fragment {
            Some(f) => V4Fragmenting {
                ident: f.ident as u16,
                dont_fragment: false,
                more_fragments: f.more,
                offset: f.offset,
            },
            None => V4Fragmenting {
                ident: if total <= DF_FROM { fresh_id() } else { 0 },
                dont_fragment: total > DF_FROM,
                more_fragments: false,
                offset: 0,
            },
        }
    }
}

/// The IPv4 header of a translated packet of `total` bytes.
fn v4_header(
    t: &Translator,
    h: &Ipv6Headers,
    total: usize,
    protocol: u8,
    (src, dst): (Ipv4Addr, Ipv4Addr),
) -> ipv4::Repr {
    let fragmenting = V4Fragmenting::of(h, total, || t.fresh_id());
    ipv4::Repr {
        tos: h.traffic_class,
        total_len: total as u16,
        ident: fragmenting.ident,
        dont_fragment: fragmenting.dont_fragment,
        more_fragments: fragmenting.more_fragments,
        fragment_offset: fragmenting.offset,
        ttl: h.hop_limit - 1,
        protocol,
        src,
        dst,
    }
}

pub(super) fn translate(t: &Translator, vnet: VnetHdr, frame: &mut [u8], out: &mut Out) {
    let ip = vnet::LEN;
    let Ok(h) = Ipv6Headers::parse(&frame[ip..], Extent::Whole) else {
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
        let problem = (
            icmpv6::PARAMETER_PROBLEM,
            icmpv6::ERRONEOUS_HEADER_FIELD,
            rest,
        );
        return errors::to_v6_sender(t, &h, packet, problem, out);
    }
    if dst4 == t.own_v4 {
        return answer_echo(t, &h, packet, out);
    }
    if h.hop_limit <= 1 {
        let time_exceeded = (icmpv6::TIME_EXCEEDED, 0, [0; 4]);
        return errors::to_v6_sender(t, &h, packet, time_exceeded, out);
    }
    let Some(src4) = t.assign(h.src, out) else {
        return out.drop(Dropped::PoolExhausted);
    };
    let addresses = (src4, dst4);
    let l4 = ip + h.upper_at..ip + h.end;
    let protocol = match h.upper {
        ICMPV6 if h.fragment.is_some() => return out.drop(Dropped::Untranslatable),
        ICMPV6 => return icmp_to_v4(t, &h, vnet, frame, l4, addresses, out),
        TCP | UDP if h.first_fragment() => {
            let old = sum(&h.src.octets()) + sum(&h.dst.octets());
            let new = sum(&src4.octets()) + sum(&dst4.octets());
            let segment = &mut frame[l4.clone()];
            if l4::readdress(segment, h.upper, (old, new), vnet.partial_checksum()).is_err() {
                return out.drop(Dropped::Malformed);
            }
            h.upper
        }
        other => other,
    };
    let total = ipv4::HEADER_LEN + l4.len();
    if total > usize::from(u16::MAX) {
        return out.drop(Dropped::Malformed);
    }
    let mut head = Vec::with_capacity(vnet::LEN + ipv4::HEADER_LEN);
    vnet.translated(ipv4::HEADER_LEN as i32 - h.upper_at as i32, GSO_TCPV4)
        .write(&mut head);
    v4_header(t, &h, total, protocol, addresses).emit(&mut head);
    out.packets.push(Emitted { head, body: l4 });
}

/// ICMPv6 -> ICMPv4: echo in place, errors rebuilt with the packet they quote translated.
fn icmp_to_v4(
    t: &Translator,
    h: &Ipv6Headers,
    vnet: VnetHdr,
    frame: &mut [u8],
    l4: Range<usize>,
    addresses: (Ipv4Addr, Ipv4Addr),
    out: &mut Out,
) {
    let Ok(message) = icmpv6::Message::new_checked(&frame[l4.clone()]) else {
        return out.drop(Dropped::Malformed);
    };
    let rest = message.rest_u32();
    let Some(mapped) = icmp_map::v6_to_v4(message.msg_type(), message.code(), rest) else {
        return out.drop(Dropped::Untranslatable);
    };
    if mapped.rest == Rest::Echo {
        let mut echo = icmpv4::Message::new_checked(&mut frame[l4.clone()]).expect("8 bytes");
        echo.set_msg_type(mapped.kind);
        echo.set_code(mapped.code);
        echo.fill_checksum();
        let total = ipv4::HEADER_LEN + l4.len();
        let mut head = Vec::with_capacity(vnet::LEN + ipv4::HEADER_LEN);
        VnetHdr {
            flags: 0,
            ..vnet.translated(ipv4::HEADER_LEN as i32 - h.upper_at as i32, GSO_TCPV4)
        }
        .write(&mut head);
        v4_header(t, h, total, ICMP, addresses).emit(&mut head);
        return out.packets.push(Emitted { head, body: l4 });
    }
    let Some(quoted) = quoted::v6_to_v4(t, message.payload()) else {
        return out.drop(Dropped::Untranslatable);
    };
    let rest = match mapped.rest {
        Rest::Mtu => {
            let mtu = (rest as usize)
                .saturating_sub(HEADER_GROWTH)
                .min(t.mtu)
                .max(IPV4_MIN_MTU) as u16;
            let [hi, lo] = mtu.to_be_bytes();
            [0, 0, hi, lo]
        }
        Rest::Pointer(p) => [p, 0, 0, 0],
        Rest::Echo | Rest::Unused => [0; 4],
    };
    let message = (mapped.kind, mapped.code, rest);
    let header = (h.traffic_class, h.hop_limit - 1, t.fresh_id());
    let packet = icmp_packets::icmpv4(message, &quoted, header, addresses);
    out.emit_whole(&packet);
}

/// An echo request to the translator's own address under the prefix gets its reply: that
/// is how `dind check network` sees the translator work.
fn answer_echo(t: &Translator, h: &Ipv6Headers, packet: &[u8], out: &mut Out) {
    let request = icmpv6::Message::new_checked(h.upper_bytes(packet))
        .ok()
        .filter(|m| h.upper == ICMPV6 && m.msg_type() == icmpv6::ECHO_REQUEST);
    let Some(request) = request.filter(|_| h.fragment.is_none()) else {
        return out.drop(Dropped::NotRouted);
    };
    let reply = (icmpv6::ECHO_REPLY, 0, request.rest());
    let addresses = (t.own_v6, h.src);
    let packet = icmp_packets::icmpv6_echo(reply, request.payload(), addresses);
    out.emit_whole(&packet);
}

//! IPv4 -> IPv6 (RFC 7915 section 4).

use super::addressing::Unmapped;
use super::errors::Refusal;
use super::icmp_map::{self, Mapped, Rest};
use super::l4;
use super::state::{Dropped, Emitted, Out, Translator, UdpZeroChecksum};
use super::state::{HEADER_GROWTH, IPV6_MIN_MTU, OWN_HOP_LIMIT};
use super::v4_fields::V4Fields;
use super::{fragment, icmp_packets, quoted};
use crate::checksum::sum;
use crate::pool::Seconds;
use crate::v4_scope;
use crate::vnet::{self, VnetHdr, GSO_TCPV6};
use crate::wire::ipv6_ext::FragmentRepr;
use crate::wire::protocol::{self, FRAGMENT, ICMP, ICMPV6, TCP, UDP};
use crate::wire::{icmpv4, icmpv6, ipv4, ipv6};
use std::net::Ipv6Addr;
use std::ops::Range;

/// What became of an ICMPv4 message.
enum IcmpOutcome {
    /// An echo, translated in place: sent on as the packet's body.
    InPlace,
    /// An error, sent rebuilt, or a message dropped.
    Handled,
}

pub(super) fn translate(
    t: &Translator,
    vnet: VnetHdr,
    frame: &mut [u8],
    out: &mut Out,
    now: Seconds,
) {
    let ip = vnet::LEN;
    let Some(h) = V4Fields::read(&frame[ip..], &vnet) else {
        return out.drop(Dropped::Malformed);
    };
    if v4_scope::is_martian(h.src) || v4_scope::is_martian(h.dst) {
        return out.drop(Dropped::Martian);
    }
    let packet = ip..ip + h.total;
    if h.dst == t.own_v4 {
        return answer_echo(t, &h, &frame[packet], out);
    }
    let addresses = match route(t, &h, &vnet, now) {
        Ok(addresses) => addresses,
        Err(refusal) => return refusal.to_v4_sender(t, &frame[packet], out),
    };
    let fragmenting = !vnet.segmented() && !h.dont_fragment && h.v6_len() > t.fragment_above;
    let l4 = ip + h.header_len..ip + h.total;
    let (protocol, vnet) = match h.protocol {
        ICMP if h.is_fragment() => return out.drop(Dropped::Untranslatable),
        ICMP => match icmp_to_v6(t, &h, frame, l4.clone(), addresses, out, now) {
            IcmpOutcome::InPlace => (ICMPV6, VnetHdr::default()),
            IcmpOutcome::Handled => return,
        },
        _ => {
            let partial = vnet.partial_checksum();
            match readdress_upper(t, &h, &mut frame[l4.clone()], addresses, partial) {
                Ok(()) => (h.protocol, vnet),
                Err(why) => return out.drop(why),
            }
        }
    };
    if fragmenting {
        if vnet.partial_checksum() {
            l4::complete_partial(&mut frame[packet], &vnet);
        }
        return fragment::into_v6_fragments(t, &h, protocol, l4, addresses, out);
    }
    let head = v6_head(&h, vnet, protocol, addresses);
    out.packets.push(Emitted { head, body: l4 });
}

/// The packet's IPv6 source and destination, or why it is not translated (RFC 7915 section 4).
#[inline(always)]
fn route(
    t: &Translator,
    h: &V4Fields,
    vnet: &VnetHdr,
    now: Seconds,
) -> Result<(Ipv6Addr, Ipv6Addr), Refusal> {
    let dst = match t.addressing.v6_destination(h.dst, now) {
        Ok(v6) => v6,
        Err(Unmapped::NoMapping) => {
            // RFC 7915 section 4.4: a pool address no one holds is unreachable.
            let unreachable = (icmpv4::DEST_UNREACHABLE, icmpv4::HOST_UNREACHABLE, [0; 4]);
            return Err(Refusal::Answer(unreachable));
        }
        Err(_) => return Err(Refusal::Drop(Dropped::NotRouted)),
    };
    if h.ttl <= 1 {
        return Err(Refusal::Answer((icmpv4::TIME_EXCEEDED, 0, [0; 4])));
    }
    let src = match t.addressing.v6_source(h.src) {
        Ok(v6) => v6,
        Err(Unmapped::NonGlobal) => {
            // RFC 6052 section 3.1: not under the well-known prefix.
            let refused = (icmpv4::DEST_UNREACHABLE, icmpv4::HOST_PROHIBITED, [0; 4]);
            return Err(Refusal::Answer(refused));
        }
        Err(_) => return Err(Refusal::Drop(Dropped::Martian)),
    };
    if protocol::is_ipv6_only(h.protocol) {
        return Err(Refusal::Drop(Dropped::Untranslatable));
    }
    if !vnet.segmented() && h.v6_len() > t.mtu && h.dont_fragment {
        let mtu = (t.mtu - HEADER_GROWTH) as u16;
        let needed = (
            icmpv4::DEST_UNREACHABLE,
            icmpv4::FRAGMENTATION_NEEDED,
            icmpv4::rest_with_next_hop_mtu(mtu),
        );
        return Err(Refusal::Answer(needed));
    }
    Ok((src, dst))
}

/// A TCP or UDP `segment` (or a first fragment's start) readdressed in place for the IPv6
/// pseudo-header; the bytes of other protocols, and of later fragments, pass as they are.
#[inline(always)]
fn readdress_upper(
    t: &Translator,
    h: &V4Fields,
    segment: &mut [u8],
    addresses: (Ipv6Addr, Ipv6Addr),
    partial: bool,
) -> Result<(), Dropped> {
    match h.protocol {
        UDP if h.offset == 0 && !partial && l4::udp_without_checksum(segment) => {
            udp_without_checksum(t, h, segment, addresses)
        }
        TCP | UDP if h.offset == 0 => {
            let change = (h.addresses_sum(), sum_of(addresses));
            l4::readdress(segment, h.protocol, change, partial, h.held())
                .map_err(|_| Dropped::Malformed)
        }
        _ => Ok(()),
    }
}

/// IPv4 allows UDP without a checksum, IPv6 does not (RFC 7915 section 4.5): one is
/// computed, or the datagram forwarded or dropped, as `udp_zero_checksum` says.
fn udp_without_checksum(
    t: &Translator,
    h: &V4Fields,
    datagram: &mut [u8],
    addresses: (Ipv6Addr, Ipv6Addr),
) -> Result<(), Dropped> {
    if !h.is_fragment() && !l4::udp_is_whole(datagram) {
        return Err(Dropped::Malformed);
    }
    match t.udp_zero_checksum {
        UdpZeroChecksum::Forward => Ok(()),
        UdpZeroChecksum::Calculate if !h.is_fragment() => {
            l4::fill_udp_checksum(datagram, addresses).map_err(|_| Dropped::Malformed)
        }
        UdpZeroChecksum::Calculate | UdpZeroChecksum::Drop => Err(Dropped::Untranslatable),
    }
}

/// What goes before the translated upper layer: the virtio-net header, the IPv6 header,
/// and a fragment header when the packet is a fragment.
#[inline(always)]
fn v6_head(h: &V4Fields, vnet: VnetHdr, protocol: u8, (src, dst): (Ipv6Addr, Ipv6Addr)) -> Vec<u8> {
    let fragment_len = h.fragment_header_len();
    let mut head = Vec::with_capacity(vnet::LEN + ipv6::HEADER_LEN + fragment_len);
    let delta = (ipv6::HEADER_LEN + fragment_len) as i32 - h.header_len as i32;
    vnet.translated(delta, GSO_TCPV6).write(&mut head);
    ipv6::Repr {
        traffic_class: h.tos,
        payload_len: (fragment_len + h.upper_len()) as u16,
        next_header: if h.is_fragment() { FRAGMENT } else { protocol },
        hop_limit: h.ttl - 1,
        src,
        dst,
    }
    .emit(&mut head);
    if h.is_fragment() {
        FragmentRepr {
            next_header: protocol,
            offset: h.offset,
            more_fragments: h.more_fragments,
            ident: u32::from(h.ident),
        }
        .emit(&mut head);
    }
    head
}

/// The sum of two IPv6 addresses, as a pseudo-header's checksum holds them.
#[inline(always)]
fn sum_of((src, dst): (Ipv6Addr, Ipv6Addr)) -> u32 {
    sum(&src.octets()) + sum(&dst.octets())
}

/// ICMPv4 -> ICMPv6: echo in place, errors rebuilt with the packet they quote translated.
fn icmp_to_v6(
    t: &Translator,
    h: &V4Fields,
    frame: &mut [u8],
    l4: Range<usize>,
    (src, dst): (Ipv6Addr, Ipv6Addr),
    out: &mut Out,
    now: Seconds,
) -> IcmpOutcome {
    let Ok(message) = icmpv4::Message::new_checked(&frame[l4.clone()]) else {
        out.drop(Dropped::Malformed);
        return IcmpOutcome::Handled;
    };
    let Some(mapped) = icmp_map::v4_to_v6(message.msg_type(), message.code(), message.pointer())
    else {
        out.drop(Dropped::Untranslatable);
        return IcmpOutcome::Handled;
    };
    if mapped.rest == Rest::Echo {
        echo_to_v6_in_place(&mut frame[l4], &mapped, (src, dst));
        return IcmpOutcome::InPlace;
    }
    let rest = v6_rest(t, mapped.rest, &message);
    let Some(quoted) = quoted::v4_to_v6(t, message.payload(), now) else {
        out.drop(Dropped::Untranslatable);
        return IcmpOutcome::Handled;
    };
    let message = (mapped.kind, mapped.code, rest);
    let packet = icmp_packets::icmpv6(message, &quoted, (h.tos, h.ttl - 1), (src, dst));
    out.emit_whole(&packet);
    IcmpOutcome::Handled
}

/// An ICMPv4 echo turned into an ICMPv6 one where it lies: type, code and checksum.
#[inline]
fn echo_to_v6_in_place(message: &mut [u8], mapped: &Mapped, (src, dst): (Ipv6Addr, Ipv6Addr)) {
    let length = message.len();
    let mut echo = icmpv6::Message::new_checked(message).expect("8 bytes");
    echo.set_msg_type(mapped.kind);
    echo.set_code(mapped.code);
    echo.fill_checksum(ipv6::pseudo_sum(&src, &dst, ICMPV6, length));
}

/// The four bytes after an ICMPv6 error's checksum: the MTU of a Packet Too Big (from the
/// next-hop MTU, or the plateau below the quoted packet's length when the router gave
/// none), or a Parameter Problem's pointer.
fn v6_rest(t: &Translator, rest: Rest, message: &icmpv4::Message<&[u8]>) -> [u8; 4] {
    match rest {
        Rest::Mtu => {
            let quoted_total =
                ipv4::Packet::new_checked(message.payload()).map_or(0, |q| q.total_len());
            let advertised = match message.next_hop_mtu() {
                0 => icmp_map::plateau_below(quoted_total as u16),
                mtu => mtu,
            };
            let mtu = (usize::from(advertised) + HEADER_GROWTH)
                .min(t.mtu)
                .max(IPV6_MIN_MTU);
            icmpv6::rest_with(mtu as u32)
        }
        Rest::Pointer(p) => icmpv6::rest_with(u32::from(p)),
        Rest::Echo | Rest::Unused => [0; 4],
    }
}

/// An echo request to the translator's own IPv4 address gets its reply, as from tayga.
fn answer_echo(t: &Translator, h: &V4Fields, packet: &[u8], out: &mut Out) {
    let message = icmpv4::Message::new_checked(&packet[h.header_len..]);
    let request = message
        .ok()
        .filter(|_| h.protocol == ICMP && !h.is_fragment())
        .filter(|m| m.msg_type() == icmpv4::ECHO_REQUEST);
    let Some(request) = request else {
        return out.drop(Dropped::NotRouted);
    };
    let reply = (icmpv4::ECHO_REPLY, 0, request.rest());
    let header = (0, OWN_HOP_LIMIT, t.fresh_id());
    let packet = icmp_packets::icmpv4_echo(reply, request.payload(), header, (h.dst, h.src));
    out.emit_whole(&packet);
}

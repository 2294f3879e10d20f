//! IPv6 -> IPv4 (RFC 7915 section 5).

use super::addressing::Unmapped;
use super::errors::Refusal;
use super::icmp_map::{self, Mapped, Rest};
use super::ipv6_headers::{Extent, Ipv6Headers};
use super::l4::{self, Held};
use super::state::{Dropped, Emitted, Out, Translator, HEADER_GROWTH, IPV4_MIN_MTU};
use super::{icmp_packets, quoted};
use crate::checksum::sum;
use crate::pool::Seconds;
use crate::vnet::{self, VnetHdr, GSO_TCPV4};
use crate::wire::protocol::{self, ICMP, ICMPV6, TCP, UDP};
use crate::wire::{icmpv4, icmpv6, ipv4};
use std::net::Ipv4Addr;
use std::ops::Range;

/// Translated IPv4 packets up to this size may be fragmented on the IPv4 side (DF clear),
/// so that IPv6 hosts that never see a Packet Too Big below 1280 still get through (RFC
/// 7915 section 5.1).
const DF_FROM: usize = 1260;

/// What became of an ICMPv6 message.
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
    let Ok(h) = Ipv6Headers::parse(&frame[ip..], Extent::Whole) else {
        return out.drop(Dropped::Malformed);
    };
    if vnet.segmented() {
        // Only TSO for IPv4 is offered: IPv6 super-packets never come.
        return out.drop(Dropped::Untranslatable);
    }
    let packet = &frame[ip..ip + h.end];
    let to_translator = t.addressing.prefix().extract(&h.dst) == Some(t.own_v4);
    if h.dst == t.own_v6 || to_translator {
        return answer_echo(&h, packet, out);
    }
    let dst = match route(t, &h) {
        Ok(v4) => v4,
        Err(refusal) => return refusal.to_v6_sender(t, &h, packet, out),
    };
    let src = match v4_source(t, &h, packet, out, now) {
        Ok(v4) => v4,
        Err(why) => return out.drop(why),
    };
    let addresses = (src, dst);
    let l4 = ip + h.upper_at..ip + h.end;
    let (protocol, vnet) = match h.upper {
        ICMPV6 if h.fragment.is_some() => return out.drop(Dropped::Untranslatable),
        ICMPV6 => match icmp_to_v4(t, &h, frame, l4.clone(), addresses, out, now) {
            IcmpOutcome::InPlace => (ICMP, VnetHdr { flags: 0, ..vnet }),
            IcmpOutcome::Handled => return,
        },
        _ => {
            let partial = vnet.partial_checksum();
            match readdress_upper(&h, &mut frame[l4.clone()], addresses, partial) {
                Ok(()) => (h.upper, vnet),
                Err(why) => return out.drop(why),
            }
        }
    };
    let total = ipv4::HEADER_LEN + l4.len();
    if total > usize::from(u16::MAX) {
        return out.drop(Dropped::Malformed);
    }
    let head = v4_head(t, &h, vnet, total, protocol, addresses);
    out.packets.push(Emitted { head, body: l4 });
}

/// The packet's IPv4 destination, or why it is not translated (RFC 7915 section 5).
#[inline(always)]
fn route(t: &Translator, h: &Ipv6Headers) -> Result<Ipv4Addr, Refusal> {
    let dst = match t.addressing.v4_destination(&h.dst) {
        Ok(v4) => Some(v4),
        Err(Unmapped::Martian) => return Err(Refusal::Drop(Dropped::Martian)),
        Err(Unmapped::NonGlobal) => None,
        Err(_) => return Err(Refusal::Drop(Dropped::NotRouted)),
    };
    if let Some(pointer) = h.segments_left_at {
        let rest = icmpv6::rest_with(pointer as u32);
        let problem = (
            icmpv6::PARAMETER_PROBLEM,
            icmpv6::ERRONEOUS_HEADER_FIELD,
            rest,
        );
        return Err(Refusal::Answer(problem));
    }
    let Some(dst) = dst else {
        // RFC 6052 section 3.1: not under the well-known prefix.
        let refused = (icmpv6::DEST_UNREACHABLE, icmpv6::NO_ROUTE, [0; 4]);
        return Err(Refusal::Answer(refused));
    };
    if h.hop_limit <= 1 {
        return Err(Refusal::Answer((icmpv6::TIME_EXCEEDED, 0, [0; 4])));
    }
    if h.upper == ICMP || (h.upper != ICMPV6 && protocol::is_ipv6_only(h.upper)) {
        // ICMPv4 in IPv6, or an extension header where RFC 7915 translates through none.
        return Err(Refusal::Drop(Dropped::Untranslatable));
    }
    Ok(dst)
}

/// The IPv4 source of `packet`: its host's IPv4 address, a new one from the pool for a new
/// host; for an ICMPv6 error, the router's if it has one, else the translator's own.
#[inline(always)]
fn v4_source(
    t: &Translator,
    h: &Ipv6Headers,
    packet: &[u8],
    out: &mut Out,
    now: Seconds,
) -> Result<Ipv4Addr, Dropped> {
    if is_icmpv6_error(h, packet) {
        // RFC 6791: an IPv6 router gets no pool address for its errors.
        return Ok(t.addressing.v4_of_host(&h.src, now).unwrap_or(t.own_v4));
    }
    t.addressing
        .v4_source(&h.src, now, &mut out.mapped)
        .map_err(|_| Dropped::PoolExhausted)
}

/// A TCP or UDP `segment` (or a first fragment's start) readdressed in place for the IPv4
/// pseudo-header; the bytes of other protocols, and of later fragments, pass as they are.
#[inline(always)]
fn readdress_upper(
    h: &Ipv6Headers,
    segment: &mut [u8],
    (src, dst): (Ipv4Addr, Ipv4Addr),
    partial: bool,
) -> Result<(), Dropped> {
    if !matches!(h.upper, TCP | UDP) || !h.first_fragment() {
        return Ok(());
    }
    let old = sum(&h.src.octets()) + sum(&h.dst.octets());
    let new = sum(&src.octets()) + sum(&dst.octets());
    let held = if h.fragment.is_none() {
        Held::Whole
    } else {
        Held::Start
    };
    l4::readdress(segment, h.upper, (old, new), partial, held).map_err(|_| Dropped::Malformed)
}

/// What goes before the translated upper layer: the virtio-net header and the IPv4 header
/// of a packet of `total` bytes.
#[inline(always)]
fn v4_head(
    t: &Translator,
    h: &Ipv6Headers,
    vnet: VnetHdr,
    total: usize,
    protocol: u8,
    addresses: (Ipv4Addr, Ipv4Addr),
) -> Vec<u8> {
    let mut head = Vec::with_capacity(vnet::LEN + ipv4::HEADER_LEN);
    vnet.translated(ipv4::HEADER_LEN as i32 - h.upper_at as i32, GSO_TCPV4)
        .write(&mut head);
    v4_header(t, h, total, protocol, addresses).emit(&mut head);
    head
}

fn is_icmpv6_error(h: &Ipv6Headers, packet: &[u8]) -> bool {
    h.upper == ICMPV6
        && icmpv6::Message::new_checked(h.upper_bytes(packet))
            .is_ok_and(|message| icmpv6::is_error(message.msg_type()))
}

/// The IPv4 header of a translated packet of `total` bytes: identification and fragment
/// fields from the fragment header, else DF above 1260 bytes (RFC 7915 section 5.1).
fn v4_header(
    t: &Translator,
    h: &Ipv6Headers,
    total: usize,
    protocol: u8,
    (src, dst): (Ipv4Addr, Ipv4Addr),
) -> ipv4::Repr {
    let (ident, dont_fragment, more_fragments, fragment_offset) = match h.fragment {
        Some(f) => (f.ident as u16, false, f.more, f.offset),
        None if total <= DF_FROM => (t.fresh_id(), false, false, 0),
        None => (0, true, false, 0),
    };
    ipv4::Repr {
        tos: h.traffic_class,
        total_len: total as u16,
        ident,
        dont_fragment,
        more_fragments,
        fragment_offset,
        ttl: h.hop_limit - 1,
        protocol,
        src,
        dst,
    }
}

/// ICMPv6 -> ICMPv4: echo in place, errors rebuilt with the packet they quote translated.
fn icmp_to_v4(
    t: &Translator,
    h: &Ipv6Headers,
    frame: &mut [u8],
    l4: Range<usize>,
    addresses: (Ipv4Addr, Ipv4Addr),
    out: &mut Out,
    now: Seconds,
) -> IcmpOutcome {
    let Ok(message) = icmpv6::Message::new_checked(&frame[l4.clone()]) else {
        out.drop(Dropped::Malformed);
        return IcmpOutcome::Handled;
    };
    let rest = message.rest_u32();
    let Some(mapped) = icmp_map::v6_to_v4(message.msg_type(), message.code(), rest) else {
        out.drop(Dropped::Untranslatable);
        return IcmpOutcome::Handled;
    };
    if mapped.rest == Rest::Echo {
        echo_to_v4_in_place(&mut frame[l4], &mapped);
        return IcmpOutcome::InPlace;
    }
    let Some(quoted) = quoted::v6_to_v4(t, message.payload(), now) else {
        out.drop(Dropped::Untranslatable);
        return IcmpOutcome::Handled;
    };
    let rest = v4_rest(t, mapped.rest, rest);
    let message = (mapped.kind, mapped.code, rest);
    let header = (h.traffic_class, h.hop_limit - 1, t.fresh_id());
    let packet = icmp_packets::icmpv4(message, &quoted, header, addresses);
    out.emit_whole(&packet);
    IcmpOutcome::Handled
}

/// An ICMPv6 echo turned into an ICMPv4 one where it lies: type, code and checksum.
#[inline]
fn echo_to_v4_in_place(message: &mut [u8], mapped: &Mapped) {
    let mut echo = icmpv4::Message::new_checked(message).expect("8 bytes");
    echo.set_msg_type(mapped.kind);
    echo.set_code(mapped.code);
    echo.fill_checksum();
}

/// The four bytes after an ICMPv4 error's checksum, from the ICMPv6 error's `rest`: the
/// next-hop MTU of a Fragmentation Needed, or a Parameter Problem's pointer.
fn v4_rest(t: &Translator, mapped: Rest, rest: u32) -> [u8; 4] {
    match mapped {
        Rest::Mtu => {
            let mtu = (rest as usize)
                .saturating_sub(HEADER_GROWTH)
                .min(t.mtu)
                .max(IPV4_MIN_MTU) as u16;
            icmpv4::rest_with_next_hop_mtu(mtu)
        }
        Rest::Pointer(p) => icmpv4::rest_with_pointer(p),
        Rest::Echo | Rest::Unused => [0; 4],
    }
}

/// An echo request to the translator's own address gets its reply: that is how `dind
/// check network` sees the translator work.
fn answer_echo(h: &Ipv6Headers, packet: &[u8], out: &mut Out) {
    let request = icmpv6::Message::new_checked(h.upper_bytes(packet))
        .ok()
        .filter(|m| h.upper == ICMPV6 && m.msg_type() == icmpv6::ECHO_REQUEST);
    let Some(request) = request.filter(|_| h.fragment.is_none()) else {
        return out.drop(Dropped::NotRouted);
    };
    let reply = (icmpv6::ECHO_REPLY, 0, request.rest());
    let packet = icmp_packets::icmpv6_echo(reply, request.payload(), (h.dst, h.src));
    out.emit_whole(&packet);
}

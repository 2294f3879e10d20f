//! The ICMP errors the translator sends itself, from its own address, to the sender of a
//! packet it cannot translate: never about an ICMP error (RFC 4443 section 2.4 (e), RFC
//! 1122 section 3.2.2).

use super::icmp_packets::{self, Message};
use super::ipv6_headers::Ipv6Headers;
use super::state::{Dropped, Out, Translator, OWN_HOP_LIMIT};
use crate::wire::protocol::{ICMP, ICMPV6};
use crate::wire::{icmpv4, icmpv6, ipv4};

/// An ICMPv6 error to the sender of `offending`, whose headers are `h`.
pub(crate) fn to_v6_sender(
    t: &Translator,
    h: &Ipv6Headers,
    offending: &[u8],
    message: Message,
    out: &mut Out,
) {
    let about_an_error = h.upper == ICMPV6
        && icmpv6::Message::new_checked(h.upper_bytes(offending))
            .map_or(true, |icmp| icmpv6::is_error(icmp.msg_type()));
    if about_an_error {
        return out.drop(Dropped::Untranslatable);
    }
    let packet = icmp_packets::icmpv6(message, offending, (0, OWN_HOP_LIMIT), (t.own_v6, h.src));
    out.emit_whole(&packet);
}

/// An ICMPv4 error to the sender of `offending`, a whole IPv4 packet.
pub(crate) fn to_v4_sender(t: &Translator, offending: &[u8], message: Message, out: &mut Out) {
    let Ok(packet) = ipv4::Packet::new_checked(offending) else {
        return out.drop(Dropped::Malformed);
    };
    if packet.protocol() == ICMP {
        let about_an_error = icmpv4::Message::new_checked(&offending[packet.header_len()..])
            .map_or(true, |icmp| icmpv4::is_error(icmp.msg_type()));
        if packet.fragment_offset() != 0 || about_an_error {
            return out.drop(Dropped::Untranslatable);
        }
    }
    let addresses = (t.own_v4, packet.src_addr());
    let error = icmp_packets::icmpv4(
        message,
        offending,
        (0, OWN_HOP_LIMIT, t.fresh_id()),
        addresses,
    );
    out.emit_whole(&error);
}

/// Why a packet is not translated: dropped, or answered with an ICMP error to its sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Drop(Dropped),
    Answer(Message),
}

impl Refusal {
    /// Drops `offending`, a whole IPv4 packet, or answers its sender.
    pub(crate) fn to_v4_sender(self, t: &Translator, offending: &[u8], out: &mut Out) {
        match self {
            Refusal::Drop(why) => out.drop(why),
            Refusal::Answer(message) => to_v4_sender(t, offending, message, out),
        }
    }

    /// Drops `offending`, whose headers are `h`, or answers its sender.
    pub(crate) fn to_v6_sender(
        self,
        t: &Translator,
        h: &Ipv6Headers,
        offending: &[u8],
        out: &mut Out,
    ) {
        match self {
            Refusal::Drop(why) => out.drop(why),
            Refusal::Answer(message) => to_v6_sender(t, h, offending, message, out),
        }
    }
}

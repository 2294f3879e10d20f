//! An IPv4 packet without DF that is too big for the IPv6 side, sent as IPv6 fragments
//! (RFC 7915 section 4.1).

use super::state::{Emitted, Out, Translator};
use super::v4_fields::V4Fields;
use crate::vnet::{self, VnetHdr};
use crate::wire::ipv6;
use crate::wire::ipv6_ext::{self, FragmentRepr};
use crate::wire::protocol::FRAGMENT;
use std::net::Ipv6Addr;
use std::ops::Range;

/// Writes `upper` (the packet's upper-layer bytes in the frame, already translated) as
/// fragments of at most the lowest IPv6 MTU (or tayga's `offlink-mtu`).
pub(crate) fn into_v6_fragments(
    t: &Translator,
    h: &V4Fields,
    protocol: u8,
    upper: Range<usize>,
    (src, dst): (Ipv6Addr, Ipv6Addr),
    out: &mut Out,
) {
    let piece = (t.fragment_above - ipv6::HEADER_LEN - ipv6_ext::FRAGMENT_LEN) / 8 * 8;
    let mut start = upper.start;
    while start < upper.end {
        let end = (start + piece).min(upper.end);
        let last = end == upper.end;
        let mut head = Vec::with_capacity(vnet::LEN + ipv6::HEADER_LEN + ipv6_ext::FRAGMENT_LEN);
        VnetHdr::default().write(&mut head);
        ipv6::Repr {
            traffic_class: h.tos,
            payload_len: (ipv6_ext::FRAGMENT_LEN + end - start) as u16,
            next_header: FRAGMENT,
            hop_limit: h.ttl - 1,
            src,
            dst,
        }
        .emit(&mut head);
        FragmentRepr {
            next_header: protocol,
            offset: h.offset + ((start - upper.start) / 8) as u16,
            more_fragments: !last || h.more_fragments,
            ident: u32::from(h.ident),
        }
        .emit(&mut head);
        out.packets.push(Emitted {
            head,
            body: start..end,
        });
        start = end;
    }
}

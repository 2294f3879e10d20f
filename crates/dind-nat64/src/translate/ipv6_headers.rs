//! An IPv6 packet's fixed header and the extension headers RFC 7915 translates through
//! (section 5.1: hop-by-hop, routing and destination options are skipped, a fragment header
//! becomes IPv4's fragment fields), read once for the whole translation.

use crate::wire::ipv6_ext::{self, ExtHeader, FragmentHeader};
use crate::wire::protocol::{DESTINATION_OPTIONS, FRAGMENT, HOP_BY_HOP, NO_NEXT_HEADER, ROUTING};
use crate::wire::{ipv6, Error, Result};
use std::net::Ipv6Addr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fragment {
    /// In 8-byte units.
    pub(crate) offset: u16,
    pub(crate) more: bool,
    pub(crate) ident: u32,
}

/// Whether the packet read is all there, or a quoted one an ICMPv6 error cut short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extent {
    Whole,
    Quoted,
}

#[derive(Clone, Debug)]
pub(crate) struct Ipv6Headers {
    pub(crate) traffic_class: u8,
    pub(crate) hop_limit: u8,
    pub(crate) src: Ipv6Addr,
    pub(crate) dst: Ipv6Addr,
    /// The upper-layer protocol and where it starts.
    pub(crate) upper: u8,
    pub(crate) upper_at: usize,
    /// 40 + payload length: past the bytes at hand in a quoted (truncated) packet.
    pub(crate) end: usize,
    pub(crate) fragment: Option<Fragment>,
    /// Where a routing header with segments left has them: the packet is not translated.
    pub(crate) segments_left_at: Option<usize>,
}

impl Ipv6Headers {
    /// Reads the headers at the start of `packet`. A whole packet must hold its payload
    /// length; a jumbogram (payload length 0) is refused.
    pub(crate) fn parse(packet: &[u8], extent: Extent) -> Result<Ipv6Headers> {
        let fixed = ipv6::Packet::new_checked(packet)?;
        let end = match (extent, fixed.payload_len()) {
            // A quoted header may have lost its length (a jumbogram's, or a sender's that
            // cleared it): the packet is what was quoted.
            (Extent::Quoted, 0) => packet.len(),
            (Extent::Whole, 0) if fixed.next_header() != NO_NEXT_HEADER => {
                return Err(Error::Malformed)
            }
            (_, payload_len) => ipv6::HEADER_LEN + payload_len,
        };
        if extent == Extent::Whole && end > packet.len() {
            return Err(Error::Truncated);
        }
        let mut headers = Ipv6Headers {
            traffic_class: fixed.traffic_class(),
            hop_limit: fixed.hop_limit(),
            src: fixed.src_addr(),
            dst: fixed.dst_addr(),
            upper: fixed.next_header(),
            upper_at: ipv6::HEADER_LEN,
            end,
            fragment: None,
            segments_left_at: None,
        };
        let available = &packet[..end.min(packet.len())];
        while headers.skip_one(available)? {}
        Ok(headers)
    }

    /// Moves past the extension header at `upper_at`, if it is one translated through.
    fn skip_one(&mut self, packet: &[u8]) -> Result<bool> {
        let at = self.upper_at;
        let rest = packet.get(at..).ok_or(Error::Truncated)?;
        match self.upper {
            HOP_BY_HOP | ROUTING | DESTINATION_OPTIONS if self.fragment.is_none() => {
                let ext = ExtHeader::new_checked(rest)?;
                if self.upper == ROUTING && ext.segments_left() != 0 {
                    self.segments_left_at = Some(at + ipv6_ext::ROUTING_SEGMENTS_LEFT_AT);
                }
                self.upper = ext.next_header();
                self.upper_at = at + ext.header_len();
            }
            FRAGMENT if self.fragment.is_none() => {
                let ext = FragmentHeader::new_checked(rest)?;
                self.fragment = Some(Fragment {
                    offset: ext.offset(),
                    more: ext.more_fragments(),
                    ident: ext.ident(),
                });
                self.upper = ext.next_header();
                self.upper_at = at + ipv6_ext::FRAGMENT_LEN;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub(crate) fn first_fragment(&self) -> bool {
        self.fragment.is_none_or(|f| f.offset == 0)
    }

    /// The upper-layer bytes at hand in `packet`, the one the headers were read from.
    pub(crate) fn upper_bytes<'p>(&self, packet: &'p [u8]) -> &'p [u8] {
        &packet[self.upper_at.min(packet.len())..self.end.min(packet.len())]
    }
}

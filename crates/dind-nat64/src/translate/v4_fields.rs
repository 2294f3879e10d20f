//! What translation needs of an IPv4 header, read before the packet is changed in place.

use super::l4::Held;
use crate::checksum::sum;
use crate::vnet::VnetHdr;
use crate::wire::{ipv4, ipv6, ipv6_ext};
use std::net::Ipv4Addr;

#[derive(Clone, Copy, Debug)]
pub(crate) struct V4Fields {
    pub(crate) header_len: usize,
    /// The packet's length: its total length, or for a super-packet past 64 KiB the read's.
    pub(crate) total: usize,
    pub(crate) tos: u8,
    pub(crate) ident: u16,
    pub(crate) dont_fragment: bool,
    pub(crate) more_fragments: bool,
    /// In 8-byte units.
    pub(crate) offset: u16,
    pub(crate) ttl: u8,
    pub(crate) protocol: u8,
    pub(crate) src: Ipv4Addr,
    pub(crate) dst: Ipv4Addr,
}

impl V4Fields {
    pub(super) fn read(packet: &[u8], vnet: &VnetHdr) -> Option<V4Fields> {
        let header = ipv4::Packet::new_checked(packet).ok()?;
        let total = match header.total_len() {
            0 if vnet.segmented() => packet.len(),
            total => total,
        };
        if total < header.header_len() || total > packet.len() {
            return None;
        }
        Some(V4Fields {
            header_len: header.header_len(),
            total,
            tos: header.tos(),
            ident: header.ident(),
            dont_fragment: header.dont_fragment(),
            more_fragments: header.more_fragments(),
            offset: header.fragment_offset(),
            ttl: header.ttl(),
            protocol: header.protocol(),
            src: header.src_addr(),
            dst: header.dst_addr(),
        })
    }

    pub(crate) fn is_fragment(&self) -> bool {
        self.more_fragments || self.offset != 0
    }

    pub(super) fn addresses_sum(&self) -> u32 {
        sum(&self.src.octets()) + sum(&self.dst.octets())
    }

    pub(super) fn upper_len(&self) -> usize {
        self.total - self.header_len
    }

    /// The fragment header a fragment gets in IPv6.
    pub(super) fn fragment_header_len(&self) -> usize {
        if self.is_fragment() {
            ipv6_ext::FRAGMENT_LEN
        } else {
            0
        }
    }

    /// The packet's length in IPv6, unfragmented.
    pub(super) fn v6_len(&self) -> usize {
        ipv6::HEADER_LEN + self.fragment_header_len() + self.upper_len()
    }

    /// How much of its TCP or UDP message a packet with offset 0 holds.
    pub(super) fn held(&self) -> Held {
        if self.is_fragment() {
            Held::Start
        } else {
            Held::Whole
        }
    }
}

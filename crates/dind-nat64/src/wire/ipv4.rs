//! The IPv4 header (RFC 791).

use super::{read_u16, write_u16, Error, Field, Result};
use crate::checksum;
use std::net::Ipv4Addr;

mod field {
    use super::Field;
    pub(super) const VER_IHL: usize = 0;
    pub(super) const TOS: usize = 1;
    pub(super) const LENGTH: Field = 2..4;
    pub(super) const IDENT: Field = 4..6;
    pub(super) const FLAGS_FRAGMENT: Field = 6..8;
    pub(super) const TTL: usize = 8;
    pub(super) const PROTOCOL: usize = 9;
    pub(super) const CHECKSUM: Field = 10..12;
    pub(super) const SRC: Field = 12..16;
    pub(super) const DST: Field = 16..20;
    /// Both addresses, as the pseudo-header sums them.
    pub(super) const ADDRESSES: Field = 12..20;
}

/// The header without options.
pub(crate) const HEADER_LEN: usize = field::DST.end;

const DONT_FRAGMENT: u16 = 0x4000;
const MORE_FRAGMENTS: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// A view of an IPv4 packet whose header, options included, the buffer holds. The total
/// length is left to the caller to check: a quoted packet is cut short, and a TCP
/// super-packet past 64 KiB has none.
#[derive(Debug)]
pub(crate) struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub(crate) fn new_checked(buffer: T) -> Result<Packet<T>> {
        let data = buffer.as_ref();
        if data.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let packet = Packet { buffer };
        if packet.version() != 4 || packet.header_len() < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if packet.buffer.as_ref().len() < packet.header_len() {
            return Err(Error::Truncated);
        }
        Ok(packet)
    }

    fn data(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub(crate) fn version(&self) -> u8 {
        self.data()[field::VER_IHL] >> 4
    }

    pub(crate) fn header_len(&self) -> usize {
        usize::from(self.data()[field::VER_IHL] & 0x0f) * 4
    }

    pub(crate) fn tos(&self) -> u8 {
        self.data()[field::TOS]
    }

    pub(crate) fn total_len(&self) -> usize {
        usize::from(read_u16(self.data(), field::LENGTH))
    }

    pub(crate) fn ident(&self) -> u16 {
        read_u16(self.data(), field::IDENT)
    }

    pub(crate) fn dont_fragment(&self) -> bool {
        read_u16(self.data(), field::FLAGS_FRAGMENT) & DONT_FRAGMENT != 0
    }

    pub(crate) fn more_fragments(&self) -> bool {
        read_u16(self.data(), field::FLAGS_FRAGMENT) & MORE_FRAGMENTS != 0
    }

    /// In 8-byte units.
    pub(crate) fn fragment_offset(&self) -> u16 {
        read_u16(self.data(), field::FLAGS_FRAGMENT) & OFFSET_MASK
    }

    pub(crate) fn is_fragment(&self) -> bool {
        self.more_fragments() || self.fragment_offset() != 0
    }

    pub(crate) fn ttl(&self) -> u8 {
        self.data()[field::TTL]
    }

    pub(crate) fn protocol(&self) -> u8 {
        self.data()[field::PROTOCOL]
    }

    pub(crate) fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.addr_at(field::SRC))
    }

    pub(crate) fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.addr_at(field::DST))
    }

    fn addr_at(&self, field: Field) -> [u8; 4] {
        self.data()[field].try_into().expect("4 bytes")
    }

    /// The one's complement sum of both addresses, as in the pseudo-header.
    pub(crate) fn addresses_sum(&self) -> u32 {
        checksum::sum(&self.data()[field::ADDRESSES])
    }
}

/// An IPv4 header without options, to append to a packet being built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Repr {
    pub(crate) tos: u8,
    pub(crate) total_len: u16,
    pub(crate) ident: u16,
    pub(crate) dont_fragment: bool,
    pub(crate) more_fragments: bool,
    /// In 8-byte units.
    pub(crate) fragment_offset: u16,
    pub(crate) ttl: u8,
    pub(crate) protocol: u8,
    pub(crate) src: Ipv4Addr,
    pub(crate) dst: Ipv4Addr,
}

impl Repr {
    /// Appends the header to `out`, its checksum computed.
    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + HEADER_LEN, 0);
        let header = &mut out[start..];
        header[field::VER_IHL] = 0x40 | (HEADER_LEN / 4) as u8;
        header[field::TOS] = self.tos;
        write_u16(header, field::LENGTH, self.total_len);
        write_u16(header, field::IDENT, self.ident);
        let mut flags = self.fragment_offset & OFFSET_MASK;
        if self.dont_fragment {
            flags |= DONT_FRAGMENT;
        }
        if self.more_fragments {
            flags |= MORE_FRAGMENTS;
        }
        write_u16(header, field::FLAGS_FRAGMENT, flags);
        header[field::TTL] = self.ttl;
        header[field::PROTOCOL] = self.protocol;
        header[field::SRC].copy_from_slice(&self.src.octets());
        header[field::DST].copy_from_slice(&self.dst.octets());
        let sum = checksum::finish(checksum::sum(header));
        write_u16(header, field::CHECKSUM, sum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr() -> Repr {
        Repr {
            tos: 0xb8,
            total_len: 48,
            ident: 0xbeef,
            dont_fragment: false,
            more_fragments: true,
            fragment_offset: 3,
            ttl: 63,
            protocol: 17,
            src: Ipv4Addr::new(192, 0, 2, 1),
            dst: Ipv4Addr::new(198, 51, 100, 2),
        }
    }

    #[test]
    fn an_emitted_header_reads_back_and_checksums_to_zero() {
        let mut bytes = vec![0xaa];
        repr().emit(&mut bytes);
        let packet = Packet::new_checked(&bytes[1..]).unwrap();
        assert_eq!(checksum::finish(checksum::sum(&bytes[1..])), 0);
        assert_eq!((packet.version(), packet.header_len()), (4, 20));
        assert_eq!(
            (packet.tos(), packet.total_len(), packet.ident()),
            (0xb8, 48, 0xbeef)
        );
        assert!(!packet.dont_fragment() && packet.more_fragments() && packet.is_fragment());
        assert_eq!(
            (packet.fragment_offset(), packet.ttl(), packet.protocol()),
            (3, 63, 17)
        );
        assert_eq!(packet.src_addr(), Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(packet.dst_addr(), Ipv4Addr::new(198, 51, 100, 2));
    }

    #[test]
    fn a_short_buffer_a_bad_version_or_ihl_is_refused() {
        let mut bytes = Vec::new();
        repr().emit(&mut bytes);
        assert_eq!(
            Packet::new_checked(&bytes[..19]).unwrap_err(),
            Error::Truncated
        );
        bytes[0] = 0x65;
        assert_eq!(
            Packet::new_checked(&bytes[..]).unwrap_err(),
            Error::Malformed
        );
        bytes[0] = 0x44;
        assert_eq!(
            Packet::new_checked(&bytes[..]).unwrap_err(),
            Error::Malformed
        );
        bytes[0] = 0x46; // 24 bytes of header, 20 at hand
        assert_eq!(
            Packet::new_checked(&bytes[..]).unwrap_err(),
            Error::Truncated
        );
    }
}

//! The fixed IPv6 header (RFC 8200 section 3).

use super::{read_u16, write_u16, Error, Field, Result};
use crate::checksum;
use std::net::Ipv6Addr;

mod field {
    use super::Field;
    pub(super) const VER_TC_FLOW: Field = 0..4;
    /// Version (4 bits), then the traffic class (8 bits).
    pub(super) const VER_TC: Field = 0..2;
    pub(super) const PAYLOAD_LEN: Field = 4..6;
    pub(super) const NEXT_HEADER: usize = 6;
    pub(super) const HOP_LIMIT: usize = 7;
    pub(super) const SRC: Field = 8..24;
    pub(super) const DST: Field = 24..40;
}

pub(crate) const HEADER_LEN: usize = field::DST.end;

/// A view of an IPv6 packet whose fixed header the buffer holds; as with IPv4, the payload
/// length is the caller's to check against the bytes at hand.
#[derive(Debug)]
pub(crate) struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub(crate) fn new_checked(buffer: T) -> Result<Packet<T>> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let packet = Packet { buffer };
        if packet.version() != 6 {
            return Err(Error::Malformed);
        }
        Ok(packet)
    }

    fn data(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub(crate) fn version(&self) -> u8 {
        self.data()[field::VER_TC_FLOW.start] >> 4
    }

    pub(crate) fn traffic_class(&self) -> u8 {
        (read_u16(self.data(), field::VER_TC) >> 4) as u8
    }

    pub(crate) fn payload_len(&self) -> usize {
        usize::from(read_u16(self.data(), field::PAYLOAD_LEN))
    }

    pub(crate) fn next_header(&self) -> u8 {
        self.data()[field::NEXT_HEADER]
    }

    pub(crate) fn hop_limit(&self) -> u8 {
        self.data()[field::HOP_LIMIT]
    }

    pub(crate) fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.addr_at(field::SRC))
    }

    pub(crate) fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.addr_at(field::DST))
    }

    fn addr_at(&self, field: Field) -> [u8; 16] {
        self.data()[field].try_into().expect("16 bytes")
    }
}

/// An IPv6 header to append to a packet being built; its flow label is zero (RFC 7915
/// section 4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Repr {
    pub(crate) traffic_class: u8,
    pub(crate) payload_len: u16,
    pub(crate) next_header: u8,
    pub(crate) hop_limit: u8,
    pub(crate) src: Ipv6Addr,
    pub(crate) dst: Ipv6Addr,
}

impl Repr {
    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + HEADER_LEN, 0);
        let header = &mut out[start..];
        let first_word = (6u32 << 28) | (u32::from(self.traffic_class) << 20);
        header[field::VER_TC_FLOW].copy_from_slice(&first_word.to_be_bytes());
        write_u16(header, field::PAYLOAD_LEN, self.payload_len);
        header[field::NEXT_HEADER] = self.next_header;
        header[field::HOP_LIMIT] = self.hop_limit;
        header[field::SRC].copy_from_slice(&self.src.octets());
        header[field::DST].copy_from_slice(&self.dst.octets());
    }
}

/// The pseudo-header sum of an upper-layer message between `src` and `dst` (RFC 8200
/// section 8.1).
pub(crate) fn pseudo_sum(src: &Ipv6Addr, dst: &Ipv6Addr, protocol: u8, length: usize) -> u32 {
    checksum::pseudo(&[&src.octets(), &dst.octets()], protocol, length)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emitted_header_reads_back() {
        let repr = Repr {
            traffic_class: 0xb8,
            payload_len: 1240,
            next_header: 44,
            hop_limit: 63,
            src: "fd00::1".parse().unwrap(),
            dst: "64:ff9b::c000:201".parse().unwrap(),
        };
        let mut bytes = Vec::new();
        repr.emit(&mut bytes);
        assert_eq!(
            &bytes[..4],
            &[0x6b, 0x80, 0, 0],
            "version, class, no flow label"
        );
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!((packet.traffic_class(), packet.payload_len()), (0xb8, 1240));
        assert_eq!((packet.next_header(), packet.hop_limit()), (44, 63));
        assert_eq!((packet.src_addr(), packet.dst_addr()), (repr.src, repr.dst));
    }

    #[test]
    fn a_short_buffer_or_another_version_is_refused() {
        assert_eq!(
            Packet::new_checked(&[0x60; 39][..]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            Packet::new_checked(&[0x45; 40][..]).unwrap_err(),
            Error::Malformed
        );
    }
}

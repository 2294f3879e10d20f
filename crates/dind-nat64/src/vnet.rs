//! The virtio-net header a TUN with IFF_VNET_HDR puts before each packet (legacy layout,
//! native byte order): how the packet's checksum is left and how it is segmented.

mod field {
    use std::ops::Range;
    pub(super) const FLAGS: usize = 0;
    pub(super) const GSO_TYPE: usize = 1;
    pub(super) const HDR_LEN: Range<usize> = 2..4;
    pub(super) const GSO_SIZE: Range<usize> = 4..6;
    pub(super) const CSUM_START: Range<usize> = 6..8;
    pub(super) const CSUM_OFFSET: Range<usize> = 8..10;
}

pub const LEN: usize = field::CSUM_OFFSET.end;

/// The L4 checksum is partial: the field holds the pseudo-header sum, the sum of the rest
/// is still to be added (from `csum_start`).
pub const F_NEEDS_CSUM: u8 = 1;
pub const GSO_NONE: u8 = 0;
pub const GSO_TCPV4: u8 = 1;
pub const GSO_TCPV6: u8 = 4;
pub const GSO_ECN: u8 = 0x80;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VnetHdr {
    pub flags: u8,
    pub gso_type: u8,
    pub hdr_len: u16,
    pub gso_size: u16,
    pub csum_start: u16,
    pub csum_offset: u16,
}

impl VnetHdr {
    pub fn parse(bytes: &[u8]) -> Option<VnetHdr> {
        let header = bytes.get(..LEN)?;
        let word = |field: std::ops::Range<usize>| {
            u16::from_ne_bytes(header[field].try_into().expect("2 bytes"))
        };
        Some(VnetHdr {
            flags: header[field::FLAGS],
            gso_type: header[field::GSO_TYPE],
            hdr_len: word(field::HDR_LEN),
            gso_size: word(field::GSO_SIZE),
            csum_start: word(field::CSUM_START),
            csum_offset: word(field::CSUM_OFFSET),
        })
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + LEN, 0);
        let header = &mut out[start..];
        header[field::FLAGS] = self.flags;
        header[field::GSO_TYPE] = self.gso_type;
        for (field, word) in [
            (field::HDR_LEN, self.hdr_len),
            (field::GSO_SIZE, self.gso_size),
            (field::CSUM_START, self.csum_start),
            (field::CSUM_OFFSET, self.csum_offset),
        ] {
            header[field].copy_from_slice(&word.to_ne_bytes());
        }
    }

    pub fn partial_checksum(&self) -> bool {
        self.flags & F_NEEDS_CSUM != 0
    }

    pub fn segmented(&self) -> bool {
        self.gso_type & !GSO_ECN != GSO_NONE
    }

    /// The header of the translated packet: its IP header grew by `delta` bytes (negative:
    /// shrank), a TCP super-packet becomes one of `tcp_gso` (the other family).
    pub fn translated(&self, delta: i32, tcp_gso: u8) -> VnetHdr {
        let shift = |value: u16| (i32::from(value) + delta).clamp(0, 0xffff) as u16;
        let mut out = *self;
        if self.segmented() {
            out.gso_type = tcp_gso | (self.gso_type & GSO_ECN);
            out.hdr_len = shift(self.hdr_len);
        }
        if self.partial_checksum() {
            out.csum_start = shift(self.csum_start);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tcp_super_packet_changes_family_and_its_offsets_move() {
        let v4 = VnetHdr {
            flags: F_NEEDS_CSUM,
            gso_type: GSO_TCPV4 | GSO_ECN,
            hdr_len: 52,
            gso_size: 1448,
            csum_start: 20,
            csum_offset: 16,
        };
        let v6 = v4.translated(20, GSO_TCPV6);
        assert_eq!(v6.gso_type, GSO_TCPV6 | GSO_ECN);
        assert_eq!((v6.hdr_len, v6.csum_start), (72, 40));
        assert_eq!((v6.gso_size, v6.csum_offset), (1448, 16));
        let mut bytes = Vec::new();
        v6.write(&mut bytes);
        assert_eq!(VnetHdr::parse(&bytes), Some(v6));
    }

    #[test]
    fn a_plain_packet_keeps_an_empty_header() {
        let plain = VnetHdr::default();
        assert_eq!(plain.translated(-20, GSO_TCPV4), plain);
        assert!(VnetHdr::parse(&[0; 9]).is_none());
    }
}

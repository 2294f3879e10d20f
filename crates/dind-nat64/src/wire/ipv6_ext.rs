//! IPv6 extension headers (RFC 8200 section 4): the generic layout hop-by-hop, routing and
//! destination options share, the routing header's segments left, and the fragment header.

use super::{read_u16, read_u32, write_u16, Error, Field, Result};

mod field {
    use super::Field;
    pub(super) const NEXT_HEADER: usize = 0;
    /// In 8-byte units, not counting the first 8.
    pub(super) const LENGTH: usize = 1;
    pub(super) const ROUTING_SEGMENTS_LEFT: usize = 3;
    pub(super) const FRAGMENT_OFFSET_FLAGS: Field = 2..4;
    pub(super) const FRAGMENT_IDENT: Field = 4..8;
}

/// The smallest extension header, and the fragment header's length.
pub(crate) const MIN_LEN: usize = 8;
pub(crate) const FRAGMENT_LEN: usize = 8;
/// Where, within a routing header, its segments-left byte is.
pub(crate) const ROUTING_SEGMENTS_LEFT_AT: usize = field::ROUTING_SEGMENTS_LEFT;

const MORE_FRAGMENTS: u16 = 1;

/// A hop-by-hop, routing or destination options header the buffer holds whole.
pub(crate) struct ExtHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ExtHeader<T> {
    pub(crate) fn new_checked(buffer: T) -> Result<ExtHeader<T>> {
        let data = buffer.as_ref();
        if data.len() < MIN_LEN {
            return Err(Error::Truncated);
        }
        let header = ExtHeader { buffer };
        if header.buffer.as_ref().len() < header.header_len() {
            return Err(Error::Truncated);
        }
        Ok(header)
    }

    pub(crate) fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    pub(crate) fn header_len(&self) -> usize {
        (usize::from(self.buffer.as_ref()[field::LENGTH]) + 1) * 8
    }

    /// As a routing header: the segments still to visit.
    pub(crate) fn segments_left(&self) -> u8 {
        self.buffer.as_ref()[field::ROUTING_SEGMENTS_LEFT]
    }
}

/// A fragment header.
pub(crate) struct FragmentHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> FragmentHeader<T> {
    pub(crate) fn new_checked(buffer: T) -> Result<FragmentHeader<T>> {
        if buffer.as_ref().len() < FRAGMENT_LEN {
            return Err(Error::Truncated);
        }
        Ok(FragmentHeader { buffer })
    }

    pub(crate) fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    /// In 8-byte units.
    pub(crate) fn offset(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::FRAGMENT_OFFSET_FLAGS) >> 3
    }

    pub(crate) fn more_fragments(&self) -> bool {
        read_u16(self.buffer.as_ref(), field::FRAGMENT_OFFSET_FLAGS) & MORE_FRAGMENTS != 0
    }

    pub(crate) fn ident(&self) -> u32 {
        read_u32(self.buffer.as_ref(), field::FRAGMENT_IDENT)
    }
}

/// A fragment header to append to a packet being built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FragmentRepr {
    pub(crate) next_header: u8,
    /// In 8-byte units.
    pub(crate) offset: u16,
    pub(crate) more_fragments: bool,
    pub(crate) ident: u32,
}

impl FragmentRepr {
    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + FRAGMENT_LEN, 0);
        let header = &mut out[start..];
        header[field::NEXT_HEADER] = self.next_header;
        let more = if self.more_fragments {
            MORE_FRAGMENTS
        } else {
            0
        };
        let offset_flags = (self.offset << 3) | more;
        write_u16(header, field::FRAGMENT_OFFSET_FLAGS, offset_flags);
        header[field::FRAGMENT_IDENT].copy_from_slice(&self.ident.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emitted_fragment_header_reads_back() {
        let repr = FragmentRepr {
            next_header: 6,
            offset: 181,
            more_fragments: true,
            ident: 0x1234_beef,
        };
        let mut bytes = Vec::new();
        repr.emit(&mut bytes);
        assert_eq!(bytes, [6, 0, 0x05, 0xa9, 0x12, 0x34, 0xbe, 0xef]);
        let header = FragmentHeader::new_checked(&bytes[..]).unwrap();
        assert_eq!((header.next_header(), header.offset()), (6, 181));
        assert!(header.more_fragments());
        assert_eq!(header.ident(), 0x1234_beef);
    }

    #[test]
    fn an_extension_header_is_held_whole_or_refused() {
        let routing = [6, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let header = ExtHeader::new_checked(&routing[..]).unwrap();
        assert_eq!((header.next_header(), header.header_len()), (6, 16));
        assert_eq!(header.segments_left(), 2);
        assert!(ExtHeader::new_checked(&routing[..15]).is_err());
        assert!(ExtHeader::new_checked(&routing[..7]).is_err());
        assert!(FragmentHeader::new_checked(&routing[..7]).is_err());
    }
}

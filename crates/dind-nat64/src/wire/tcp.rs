//! The TCP header (RFC 9293), as far as a translator touches it: the checksum.

use super::{read_u16, write_u16, Error, Field, Result};

mod field {
    use super::Field;
    /// The data offset (header length in 4-byte words), then reserved bits.
    pub(super) const DATA_OFFSET: usize = 12;
    pub(super) const CHECKSUM: Field = 16..18;
    pub(super) const URGENT: Field = 18..20;
}

/// The header without options.
pub(crate) const HEADER_LEN: usize = field::URGENT.end;

/// A view of a TCP segment whose header without options the buffer holds.
#[derive(Debug)]
pub(crate) struct Segment<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Segment<T> {
    pub(crate) fn new_checked(buffer: T) -> Result<Segment<T>> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Segment { buffer })
    }

    pub(crate) fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    pub(crate) fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::DATA_OFFSET] >> 4) * 4
    }

    /// For a whole segment (not a quoted one): its header, options included, is there.
    pub(crate) fn check_whole(&self) -> Result<()> {
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if header_len > self.buffer.as_ref().len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Segment<T> {
    pub(crate) fn set_checksum(&mut self, checksum: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM, checksum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_back() {
        let mut bytes = [0u8; 20];
        let mut segment = Segment::new_checked(&mut bytes[..]).unwrap();
        segment.set_checksum(0x1234);
        assert_eq!(segment.checksum(), 0x1234);
        assert_eq!(bytes[16..18], [0x12, 0x34]);
        assert!(Segment::new_checked(&bytes[..19]).is_err());
    }

    #[test]
    fn a_whole_segment_holds_its_data_offset() {
        let mut bytes = [0u8; 24];
        bytes[12] = 6 << 4;
        let segment = Segment::new_checked(&bytes[..]).unwrap();
        assert_eq!((segment.header_len(), segment.check_whole()), (24, Ok(())));
        assert_eq!(
            Segment::new_checked(&bytes[..22]).unwrap().check_whole(),
            Err(Error::Truncated)
        );
        bytes[12] = 4 << 4;
        let segment = Segment::new_checked(&bytes[..]).unwrap();
        assert_eq!(segment.check_whole(), Err(Error::Malformed));
    }
}

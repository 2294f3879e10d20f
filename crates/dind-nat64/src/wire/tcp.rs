//! The TCP header (RFC 9293), as far as a translator touches it: the checksum.

use super::{read_u16, write_u16, Error, Field, Result};

mod field {
    use super::Field;
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
}

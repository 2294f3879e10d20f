//! The UDP header (RFC 768), as far as a translator touches it: the checksum.

use super::{read_u16, write_u16, Error, Field, Result};

mod field {
    use super::Field;
    pub(super) const LENGTH: Field = 4..6;
    pub(super) const CHECKSUM: Field = 6..8;
}

pub(crate) const HEADER_LEN: usize = field::CHECKSUM.end;

/// A view of a UDP datagram whose header the buffer holds.
#[derive(Debug)]
pub(crate) struct Datagram<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Datagram<T> {
    pub(crate) fn new_checked(buffer: T) -> Result<Datagram<T>> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Datagram { buffer })
    }

    /// Header and data, as the length field says.
    pub(crate) fn len(&self) -> usize {
        usize::from(read_u16(self.buffer.as_ref(), field::LENGTH))
    }

    /// For a whole datagram (not a quoted one or a first fragment): its length is at least
    /// the header's and at most the bytes at hand.
    pub(crate) fn check_whole(&self) -> Result<()> {
        if self.len() < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if self.len() > self.buffer.as_ref().len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Zero: none was computed (IPv4 allows that, IPv6 does not).
    pub(crate) fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Datagram<T> {
    pub(crate) fn set_checksum(&mut self, checksum: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM, checksum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_back() {
        let mut bytes = [0x14, 0xe9, 0, 53, 0, 13, 0xab, 0xcd, b'q'];
        let mut datagram = Datagram::new_checked(&mut bytes[..]).unwrap();
        assert_eq!((datagram.len(), datagram.checksum()), (13, 0xabcd));
        assert_eq!(
            datagram.check_whole(),
            Err(Error::Truncated),
            "9 bytes of 13"
        );
        datagram.set_checksum(0xffff);
        assert_eq!(datagram.checksum(), 0xffff);
        assert!(Datagram::new_checked(&bytes[..7]).is_err());
        bytes[5] = 7;
        let datagram = Datagram::new_checked(&bytes[..]).unwrap();
        assert_eq!(datagram.check_whole(), Err(Error::Malformed));
    }
}

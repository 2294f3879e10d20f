//! ICMPv6 messages (RFC 4443): the header and the message types the translator knows.

use super::{read_u16, read_u32, write_u16, Error, Field, Result};
use crate::checksum;

mod field {
    use super::Field;
    pub(super) const TYPE: usize = 0;
    pub(super) const CODE: usize = 1;
    pub(super) const CHECKSUM: Field = 2..4;
    /// Echo identifier and sequence, a Packet Too Big's MTU, a parameter problem's pointer,
    /// or unused.
    pub(super) const REST: Field = 4..8;
}

pub(crate) const HEADER_LEN: usize = field::REST.end;

pub(crate) const DEST_UNREACHABLE: u8 = 1;
pub(crate) const PACKET_TOO_BIG: u8 = 2;
pub(crate) const TIME_EXCEEDED: u8 = 3;
pub(crate) const PARAMETER_PROBLEM: u8 = 4;
pub(crate) const ECHO_REQUEST: u8 = 128;
pub(crate) const ECHO_REPLY: u8 = 129;

/// Destination unreachable's code for "no route to destination".
pub(crate) const NO_ROUTE: u8 = 0;
/// Parameter problem's code for "erroneous header field encountered".
pub(crate) const ERRONEOUS_HEADER_FIELD: u8 = 0;

/// The four bytes after the checksum holding one number: a Packet Too Big's MTU, a
/// parameter problem's pointer.
pub(crate) fn rest_with(value: u32) -> [u8; 4] {
    value.to_be_bytes()
}

/// Error messages have types below 128 (RFC 4443 section 2.1).
pub(crate) fn is_error(msg_type: u8) -> bool {
    msg_type < 128
}

/// A view of an ICMPv6 message whose 8-byte header the buffer holds.
#[derive(Debug)]
pub(crate) struct Message<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Message<T> {
    pub(crate) fn new_checked(buffer: T) -> Result<Message<T>> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Message { buffer })
    }

    fn data(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub(crate) fn msg_type(&self) -> u8 {
        self.data()[field::TYPE]
    }

    pub(crate) fn code(&self) -> u8 {
        self.data()[field::CODE]
    }

    pub(crate) fn checksum(&self) -> u16 {
        read_u16(self.data(), field::CHECKSUM)
    }

    /// The four bytes after the checksum.
    pub(crate) fn rest(&self) -> [u8; 4] {
        self.data()[field::REST].try_into().expect("4 bytes")
    }

    /// The four bytes after the checksum as one number: a Packet Too Big's MTU, a
    /// parameter problem's pointer.
    pub(crate) fn rest_u32(&self) -> u32 {
        read_u32(self.data(), field::REST)
    }

    pub(crate) fn payload(&self) -> &[u8] {
        &self.data()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Message<T> {
    pub(crate) fn set_msg_type(&mut self, msg_type: u8) {
        self.buffer.as_mut()[field::TYPE] = msg_type;
    }

    pub(crate) fn set_code(&mut self, code: u8) {
        self.buffer.as_mut()[field::CODE] = code;
    }

    pub(crate) fn set_checksum(&mut self, checksum: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM, checksum);
    }

    /// Computes the checksum over the whole message and `pseudo_sum`, the pseudo-header's.
    pub(crate) fn fill_checksum(&mut self, pseudo_sum: u32) {
        let data = self.buffer.as_mut();
        write_u16(data, field::CHECKSUM, 0);
        let sum = checksum::finish(pseudo_sum + checksum::sum(data));
        write_u16(data, field::CHECKSUM, sum);
    }
}

/// Appends a message of `msg_type`, `code` and `rest` with `body`, its checksum computed
/// with `pseudo_sum`.
pub(crate) fn emit(
    out: &mut Vec<u8>,
    (msg_type, code, rest): (u8, u8, [u8; 4]),
    body: &[u8],
    pseudo_sum: u32,
) {
    let start = out.len();
    out.extend_from_slice(&[msg_type, code, 0, 0]);
    out.extend_from_slice(&rest);
    out.extend_from_slice(body);
    Message::new_checked(&mut out[start..])
        .expect("a whole header")
        .fill_checksum(pseudo_sum);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emitted_message_reads_back_and_checksums_with_its_pseudo_header() {
        let pseudo_sum = 0x1_2345;
        let mut bytes = Vec::new();
        emit(
            &mut bytes,
            (PACKET_TOO_BIG, 0, 1400u32.to_be_bytes()),
            b"quoted",
            pseudo_sum,
        );
        assert_eq!(checksum::finish(pseudo_sum + checksum::sum(&bytes)), 0);
        let message = Message::new_checked(&bytes[..]).unwrap();
        assert_eq!((message.msg_type(), message.code()), (2, 0));
        assert_eq!(message.rest_u32(), 1400);
        assert_eq!(message.payload(), b"quoted");
        assert!(Message::new_checked(&bytes[..7]).is_err());
    }

    #[test]
    fn errors_are_the_types_below_128() {
        assert!(is_error(1) && is_error(4) && is_error(127));
        assert!(!is_error(128) && !is_error(129) && !is_error(135));
    }
}

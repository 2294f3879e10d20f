//! ICMPv4 messages (RFC 792): the header and the message types the translator knows.

use super::{read_u16, write_u16, Error, Field, Result};
use crate::checksum;

mod field {
    use super::Field;
    pub(super) const TYPE: usize = 0;
    pub(super) const CODE: usize = 1;
    pub(super) const CHECKSUM: Field = 2..4;
    /// The four bytes after the checksum: echo identifier and sequence, a parameter
    /// problem's pointer, a fragmentation needed's next-hop MTU, or unused.
    pub(super) const REST: Field = 4..8;
    pub(super) const POINTER: usize = 4;
    pub(super) const NEXT_HOP_MTU: Field = 6..8;
}

pub(crate) const HEADER_LEN: usize = field::REST.end;

pub(crate) const ECHO_REPLY: u8 = 0;
pub(crate) const DEST_UNREACHABLE: u8 = 3;
pub(crate) const SOURCE_QUENCH: u8 = 4;
pub(crate) const REDIRECT: u8 = 5;
pub(crate) const ECHO_REQUEST: u8 = 8;
pub(crate) const TIME_EXCEEDED: u8 = 11;
pub(crate) const PARAMETER_PROBLEM: u8 = 12;

/// Destination unreachable codes (RFC 792, RFC 1812 section 5.2.7.1).
pub(crate) const HOST_UNREACHABLE: u8 = 1;
pub(crate) const FRAGMENTATION_NEEDED: u8 = 4;
pub(crate) const HOST_PROHIBITED: u8 = 10;

/// The four bytes after the checksum of a fragmentation needed: unused, next-hop MTU (RFC
/// 1191).
pub(crate) fn rest_with_next_hop_mtu(mtu: u16) -> [u8; 4] {
    let mut rest = [0; 4];
    rest[field::NEXT_HOP_MTU.start - field::REST.start..].copy_from_slice(&mtu.to_be_bytes());
    rest
}

/// The four bytes after the checksum of a parameter problem: the pointer, then unused.
pub(crate) fn rest_with_pointer(pointer: u8) -> [u8; 4] {
    let mut rest = [0; 4];
    rest[field::POINTER - field::REST.start] = pointer;
    rest
}

/// Is a message of this type an error, whose body quotes a packet?
pub(crate) fn is_error(msg_type: u8) -> bool {
    matches!(
        msg_type,
        DEST_UNREACHABLE | SOURCE_QUENCH | REDIRECT | TIME_EXCEEDED | PARAMETER_PROBLEM
    )
}

/// A view of an ICMPv4 message whose 8-byte header the buffer holds.
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

    pub(crate) fn pointer(&self) -> u8 {
        self.data()[field::POINTER]
    }

    pub(crate) fn next_hop_mtu(&self) -> u16 {
        read_u16(self.data(), field::NEXT_HOP_MTU)
    }

    /// What follows the header: an echo's data, an error's quoted packet.
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

    /// Computes the checksum over the whole message.
    pub(crate) fn fill_checksum(&mut self) {
        let data = self.buffer.as_mut();
        write_u16(data, field::CHECKSUM, 0);
        let sum = checksum::finish(checksum::sum(data));
        write_u16(data, field::CHECKSUM, sum);
    }
}

/// Appends a message of `msg_type`, `code` and `rest` with `body`, its checksum computed.
pub(crate) fn emit(out: &mut Vec<u8>, (msg_type, code, rest): (u8, u8, [u8; 4]), body: &[u8]) {
    let start = out.len();
    out.extend_from_slice(&[msg_type, code, 0, 0]);
    out.extend_from_slice(&rest);
    out.extend_from_slice(body);
    Message::new_checked(&mut out[start..])
        .expect("a whole header")
        .fill_checksum();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emitted_message_reads_back_and_checksums_to_zero() {
        let mut bytes = Vec::new();
        emit(
            &mut bytes,
            (DEST_UNREACHABLE, FRAGMENTATION_NEEDED, [0, 0, 5, 0xc8]),
            b"quoted",
        );
        assert_eq!(checksum::finish(checksum::sum(&bytes)), 0);
        let message = Message::new_checked(&bytes[..]).unwrap();
        assert_eq!((message.msg_type(), message.code()), (3, 4));
        assert_eq!((message.next_hop_mtu(), message.pointer()), (1480, 0));
        assert_eq!(message.payload(), b"quoted");
        assert!(Message::new_checked(&bytes[..7]).is_err());
    }

    #[test]
    fn the_rest_of_the_header_holds_an_mtu_or_a_pointer_where_they_belong() {
        assert_eq!(rest_with_next_hop_mtu(1480), [0, 0, 0x05, 0xc8]);
        assert_eq!(rest_with_pointer(9), [9, 0, 0, 0]);
    }

    #[test]
    fn errors_quote_a_packet_and_echo_does_not() {
        for msg_type in [3, 4, 5, 11, 12] {
            assert!(is_error(msg_type));
        }
        for msg_type in [0, 8, 13, 14] {
            assert!(!is_error(msg_type));
        }
    }
}

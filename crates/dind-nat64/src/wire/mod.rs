//! The headers the translator reads and writes, one module each, after smoltcp's `wire`:
//! named field ranges, views that check a buffer holds a header before a field is read,
//! and `Repr`s that append a header to a packet being built.
//!
//! Nothing outside this module indexes a header by byte offset.

pub(crate) mod icmpv4;
pub(crate) mod icmpv6;
pub(crate) mod ipv4;
pub(crate) mod ipv6;
pub(crate) mod ipv6_ext;
pub(crate) mod protocol;
pub(crate) mod tcp;
pub(crate) mod udp;

use std::fmt;
use std::ops::Range;

/// A multi-byte field's bytes in its header.
pub(crate) type Field = Range<usize>;

/// Why a buffer is not the header asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Error {
    /// Shorter than the header (or than a length it declares).
    Truncated,
    /// A version, length or other field no header of the kind has.
    Malformed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated header",
            Error::Malformed => "malformed header",
        })
    }
}

impl std::error::Error for Error {}

pub(crate) type Result<T> = std::result::Result<T, Error>;

/// The IP version in the first nibble of `packet`, if it has a first byte.
pub(crate) fn ip_version(packet: &[u8]) -> Option<u8> {
    packet.first().map(|byte| byte >> 4)
}

pub(crate) fn read_u16(data: &[u8], field: Field) -> u16 {
    u16::from_be_bytes([data[field.start], data[field.start + 1]])
}

pub(crate) fn write_u16(data: &mut [u8], field: Field, value: u16) {
    data[field].copy_from_slice(&value.to_be_bytes());
}

pub(crate) fn read_u32(data: &[u8], field: Field) -> u32 {
    let bytes: [u8; 4] = data[field].try_into().expect("a 4-byte field");
    u32::from_be_bytes(bytes)
}

//! TCP and UDP checksums across a change of IP family: the pseudo-header's addresses change,
//! the segment does not (RFC 7915 sections 4.5 and 5.5).

use crate::checksum::{adjust, finish, fold, sum};
use crate::vnet::VnetHdr;
use crate::wire::protocol::{TCP, UDP};
use crate::wire::{ipv6, tcp, udp, write_u16, Result};
use std::net::Ipv6Addr;

/// How much of a TCP or UDP message the bytes hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Held {
    /// All of it: its lengths are checked.
    Whole,
    /// Its start: a first fragment, or what an ICMP error quoted.
    Start,
}

/// Adjusts the checksum of a TCP or UDP `segment` whose pseudo-header addresses summing to
/// `old` became addresses summing to `new`. `partial`: the field holds the pseudo-header
/// sum only (the kernel's CHECKSUM_PARTIAL). Fails when the header is not all there, or a
/// whole message's lengths do not hold.
pub(crate) fn readdress(
    segment: &mut [u8],
    protocol: u8,
    (old, new): (u32, u32),
    partial: bool,
    held: Held,
) -> Result<()> {
    if protocol == TCP {
        let mut tcp = tcp::Segment::new_checked(segment)?;
        if held == Held::Whole {
            tcp.check_whole()?;
        }
        tcp.set_checksum(adjust(tcp.checksum(), old, new, partial));
        return Ok(());
    }
    let mut udp = udp::Datagram::new_checked(segment)?;
    if held == Held::Whole {
        udp.check_whole()?;
    }
    let field = udp.checksum();
    if protocol == UDP && field == 0 && !partial {
        // Sent without a checksum: left so (IPv4) or filled in by the caller (IPv6).
        return Ok(());
    }
    let mut checksum = adjust(field, old, new, partial);
    if checksum == 0 && !partial {
        checksum = 0xffff;
    }
    udp.set_checksum(checksum);
    Ok(())
}

/// Whether `segment` is a UDP datagram sent without a checksum.
pub(crate) fn udp_without_checksum(segment: &[u8]) -> bool {
    udp::Datagram::new_checked(segment).is_ok_and(|udp| udp.checksum() == 0)
}

/// Whether `segment` holds a whole UDP datagram, its length field right.
pub(crate) fn udp_is_whole(segment: &[u8]) -> bool {
    udp::Datagram::new_checked(segment).is_ok_and(|udp| udp.check_whole().is_ok())
}

/// Computes the checksum of a whole UDP datagram from `src` to `dst` in IPv6.
pub(crate) fn fill_udp_checksum(
    segment: &mut [u8],
    (src, dst): (Ipv6Addr, Ipv6Addr),
) -> Result<()> {
    let mut udp = udp::Datagram::new_checked(&mut *segment)?;
    udp.check_whole()?;
    udp.set_checksum(0);
    let length = udp.len();
    let pseudo_sum = ipv6::pseudo_sum(&src, &dst, UDP, length);
    let whole = finish(pseudo_sum + sum(&segment[..length]));
    let mut udp = udp::Datagram::new_checked(segment)?;
    udp.set_checksum(if whole == 0 { 0xffff } else { whole });
    Ok(())
}

/// Completes a checksum the kernel left partial, as a NIC would: the sum from the virtio-net
/// header's `csum_start`, the pseudo-header sum already in the field at `csum_offset`.
pub(crate) fn complete_partial(packet: &mut [u8], vnet: &VnetHdr) {
    let start = usize::from(vnet.csum_start);
    let at = start + usize::from(vnet.csum_offset);
    if at + 2 > packet.len() {
        return;
    }
    let checksum = !fold(sum(&packet[start..]));
    write_u16(packet, at..at + 2, checksum);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_too_short_for_its_header_is_refused() {
        assert!(readdress(&mut [0; 19], TCP, (1, 2), false, Held::Start).is_err());
        assert!(readdress(&mut [0; 7], UDP, (1, 2), false, Held::Start).is_err());
        assert!(!udp_without_checksum(&[0; 7]));
        assert!(!udp_is_whole(&[0, 53, 0, 53, 0, 0, 0, 0]), "length 0");
        assert!(udp_is_whole(&[0, 53, 0, 53, 0, 8, 0, 0]));
    }

    #[test]
    fn a_whole_message_must_hold_its_lengths_and_a_start_need_not() {
        let mut tcp = [0u8; 20]; // data offset 0
        assert!(readdress(&mut tcp, TCP, (1, 2), false, Held::Whole).is_err());
        assert!(readdress(&mut tcp, TCP, (1, 2), false, Held::Start).is_ok());
        let mut udp = [0, 53, 0, 53, 0, 20, 0, 1]; // 20 bytes said, 8 held
        assert!(readdress(&mut udp, UDP, (1, 2), false, Held::Whole).is_err());
        assert!(readdress(&mut udp, UDP, (1, 2), false, Held::Start).is_ok());
    }

    #[test]
    fn a_filled_udp_checksum_covers_the_datagram_not_what_trails_it() {
        let (src, dst) = ("fd00::1".parse().unwrap(), "fd00::2".parse().unwrap());
        let mut datagram = [0, 53, 0, 53, 0, 9, 0, 0, b'x', 0xee, 0xee];
        fill_udp_checksum(&mut datagram, (src, dst)).unwrap();
        let pseudo_sum = ipv6::pseudo_sum(&src, &dst, UDP, 9);
        assert_eq!(finish(pseudo_sum + sum(&datagram[..9])), 0);
        assert!(fill_udp_checksum(&mut [0; 7], (src, dst)).is_err());
    }
}

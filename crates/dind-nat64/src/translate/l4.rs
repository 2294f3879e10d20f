//! TCP and UDP checksums across a change of IP family: the pseudo-header's addresses change,
//! the segment does not (RFC 7915 sections 4.5 and 5.5).

use crate::checksum::{adjust, finish, fold, sum};
use crate::vnet::VnetHdr;
use crate::wire::protocol::{TCP, UDP};
use crate::wire::{tcp, udp, write_u16, Result};

/// Adjusts the checksum of a TCP or UDP `segment` whose pseudo-header addresses summing to
/// `old` became addresses summing to `new`. `partial`: the field holds the pseudo-header
/// sum only (the kernel's CHECKSUM_PARTIAL). Fails when the header is not all there.
pub(crate) fn readdress(
    segment: &mut [u8],
    protocol: u8,
    (old, new): (u32, u32),
    partial: bool,
) -> Result<()> {
    if protocol == TCP {
        let mut tcp = tcp::Segment::new_checked(segment)?;
        tcp.set_checksum(adjust(tcp.checksum(), old, new, partial));
        return Ok(());
    }
    let mut udp = udp::Datagram::new_checked(segment)?;
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

/// Computes a UDP datagram's checksum, its pseudo-header summing to `pseudo_sum`.
pub(crate) fn fill_udp_checksum(segment: &mut [u8], pseudo_sum: u32) -> Result<()> {
    udp::Datagram::new_checked(&mut *segment)?.set_checksum(0);
    let whole = finish(pseudo_sum + sum(segment));
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
        assert!(readdress(&mut [0; 19], TCP, (1, 2), false).is_err());
        assert!(readdress(&mut [0; 7], UDP, (1, 2), false).is_err());
        assert!(fill_udp_checksum(&mut [0; 7], 0).is_err());
        assert!(!udp_without_checksum(&[0; 7]));
    }

    #[test]
    fn a_udp_datagram_without_checksum_keeps_none_and_a_zero_result_is_sent_as_ffff() {
        let mut datagram = [0, 53, 0, 53, 0, 8, 0, 0];
        readdress(&mut datagram, UDP, (1, 2), false).unwrap();
        assert!(udp_without_checksum(&datagram));
        let pseudo_sum = u32::from(!fold(sum(&datagram)));
        fill_udp_checksum(&mut datagram, pseudo_sum).unwrap();
        assert_eq!(datagram[6..], [0xff, 0xff]);
    }
}

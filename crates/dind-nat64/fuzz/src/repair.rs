//! Fuzzer bytes made into mostly valid packets: each repair is taken or not by a bit of a
//! control byte, so that both valid and broken packets reach the translator.

use crate::with_header_checksum;
use etherparse::{Ipv4Header, NetSlice, SlicedPacket, TransportSlice};

/// Which repairs to make.
#[derive(Clone, Copy, Debug)]
pub struct Repairs(pub u8);

impl Repairs {
    fn lengths(self) -> bool {
        self.0 & 1 == 0
    }
    fn addresses(self) -> bool {
        self.0 & 2 == 0
    }
    fn l4_checksum(self) -> bool {
        self.0 & 4 == 0
    }
    fn header_checksum(self) -> bool {
        self.0 & 8 == 0
    }
    fn hop_limit(self) -> bool {
        self.0 & 16 == 0
    }
}

/// An IPv6 packet from `bytes`, from `src` to `dst` when the repairs say so.
pub fn ipv6(bytes: &[u8], repairs: Repairs, (src, dst): ([u8; 16], [u8; 16])) -> Vec<u8> {
    let mut packet = bytes.to_vec();
    if packet.len() < 40 {
        return packet;
    }
    packet[0] = 0x60 | (packet[0] & 0x0f);
    if repairs.lengths() {
        let payload = (packet.len() - 40).min(usize::from(u16::MAX)) as u16;
        packet.truncate(40 + usize::from(payload));
        packet[4..6].copy_from_slice(&payload.to_be_bytes());
    }
    if repairs.addresses() {
        packet[8..24].copy_from_slice(&src);
        packet[24..40].copy_from_slice(&dst);
    }
    if repairs.hop_limit() {
        packet[7] = packet[7].max(2);
    }
    if repairs.l4_checksum() {
        fix_l4_checksum(&mut packet);
    }
    packet
}

/// An IPv4 packet from `bytes`, from `src` to `dst` when the repairs say so.
pub fn ipv4(bytes: &[u8], repairs: Repairs, (src, dst): ([u8; 4], [u8; 4])) -> Vec<u8> {
    let mut packet = bytes.to_vec();
    if packet.len() < 20 {
        return packet;
    }
    let ihl = (packet[0] & 0x0f).max(5);
    packet[0] = 0x40 | ihl;
    if repairs.lengths() {
        let total = packet.len().min(usize::from(u16::MAX));
        packet.truncate(total);
        packet[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    }
    if repairs.addresses() {
        packet[12..16].copy_from_slice(&src);
        packet[16..20].copy_from_slice(&dst);
    }
    if repairs.hop_limit() {
        packet[8] = packet[8].max(2);
    }
    if repairs.l4_checksum() {
        fix_l4_checksum(&mut packet);
    }
    if repairs.header_checksum() {
        if let Ok((header, _)) = Ipv4Header::from_slice(&packet) {
            let bytes = with_header_checksum(header).to_bytes();
            packet[..bytes.len()].copy_from_slice(&bytes);
        }
    }
    packet
}

/// Sets the TCP, UDP or ICMP checksum of `packet` to what etherparse computes.
fn fix_l4_checksum(packet: &mut [u8]) {
    let Some((at, checksum)) = l4_checksum(packet) else {
        return;
    };
    packet[at..at + 2].copy_from_slice(&checksum.to_be_bytes());
}

/// Where the checksum field is, and its right value.
fn l4_checksum(packet: &[u8]) -> Option<(usize, u16)> {
    let sliced = SlicedPacket::from_ip(packet).ok()?;
    let offset = |slice: &[u8]| slice.as_ptr() as usize - packet.as_ptr() as usize;
    match (&sliced.net, &sliced.transport) {
        (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(tcp))) => {
            let h = ip.header();
            let sum = tcp.calc_checksum_ipv4(h.source(), h.destination()).ok()?;
            Some((offset(tcp.slice()) + 16, sum))
        }
        (Some(NetSlice::Ipv6(ip)), Some(TransportSlice::Tcp(tcp))) => {
            let h = ip.header();
            let sum = tcp.calc_checksum_ipv6(h.source(), h.destination()).ok()?;
            Some((offset(tcp.slice()) + 16, sum))
        }
        (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Udp(udp))) => {
            let h = ip.header();
            let sum = udp
                .to_header()
                .calc_checksum_ipv4_raw(h.source(), h.destination(), udp.payload())
                .ok()?;
            Some((offset(udp.slice()) + 6, sum))
        }
        (Some(NetSlice::Ipv6(ip)), Some(TransportSlice::Udp(udp))) => {
            let h = ip.header();
            let sum = udp
                .to_header()
                .calc_checksum_ipv6_raw(h.source(), h.destination(), udp.payload())
                .ok()?;
            Some((offset(udp.slice()) + 6, sum))
        }
        (_, Some(TransportSlice::Icmpv4(icmp))) => {
            let sum = icmp.icmp_type().calc_checksum(icmp.payload());
            Some((offset(icmp.slice()) + 2, sum))
        }
        (Some(NetSlice::Ipv6(ip)), Some(TransportSlice::Icmpv6(icmp))) => {
            let h = ip.header();
            let sum = icmp
                .icmp_type()
                .calc_checksum(h.source(), h.destination(), icmp.payload())
                .ok()?;
            Some((offset(icmp.slice()) + 2, sum))
        }
        _ => None,
    }
}

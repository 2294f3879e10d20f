//! What the fuzz targets share: a translator with one IPv6 host already mapped, inputs
//! repaired so that most of them are valid packets (right lengths and checksums, the
//! mapped flow's addresses), and the check of every packet that comes out with etherparse,
//! an implementation of the headers and checksums independent of the translator's.

use dind_nat64::addr::Prefix;
use dind_nat64::translate::{Out, Settings, Translator, UdpZeroChecksum};
use dind_nat64::vnet::{self, VnetHdr, F_NEEDS_CSUM};
use etherparse::{
    IpNumber, Ipv4Header, Ipv6FragmentHeader, Ipv6Header, NetSlice, PacketBuilder, SlicedPacket,
    TransportSlice,
};
use std::net::Ipv4Addr;

pub mod repair;

pub const NOW: u64 = 1_700_000_000;
pub const OWN_V4: [u8; 4] = [10, 149, 0, 200];
pub const POOL_FIRST: [u8; 4] = [10, 149, 128, 1];
pub const CLIENT: [u8; 16] = [0xfd, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3];
/// Global addresses, so that the well-known prefix carries them.
pub const SERVER: [u8; 4] = [93, 184, 216, 34];
pub const ROUTER_V4: [u8; 4] = [93, 184, 216, 1];
pub const ROUTER_V6: [u8; 16] = [0xfd, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const NETWORK_SPECIFIC: &str = "fd00:10:64:ff9b::/96";
const WELL_KNOWN: &str = "64:ff9b::/96";

/// A translator, its settings varied by `choice` (prefix, MTUs, UDP checksum mode), with
/// the client mapped to the pool's first address.
pub struct Setup {
    pub t: Translator,
    pub prefix: Prefix,
    /// IPv4 UDP without a checksum crosses without one (`udp-cksum-mode fwd`).
    pub forwards_zero_udp_checksums: bool,
}

impl Setup {
    pub fn new(choice: u8) -> Setup {
        let prefix = if choice & 1 == 0 {
            NETWORK_SPECIFIC
        } else {
            WELL_KNOWN
        };
        let prefix = Prefix::new(prefix.parse().unwrap()).unwrap();
        let mtu = if choice & 2 == 0 { 1500 } else { 9000 };
        let mut settings = Settings::new(
            prefix,
            Ipv4Addr::from(OWN_V4),
            "10.149.128.0/25".parse().unwrap(),
            mtu,
        );
        settings.offlink_mtu = if choice & 4 == 0 { 1280 } else { 1400 };
        settings.udp_zero_checksum = match (choice >> 3) % 3 {
            0 => UdpZeroChecksum::Calculate,
            1 => UdpZeroChecksum::Drop,
            _ => UdpZeroChecksum::Forward,
        };
        settings.wkpf_strict = choice & 0x20 == 0;
        let forwards_zero_udp_checksums = settings.udp_zero_checksum == UdpZeroChecksum::Forward;
        let setup = Setup {
            t: Translator::new(settings),
            prefix,
            forwards_zero_udp_checksums,
        };
        let mut open = Vec::new();
        PacketBuilder::ipv6(CLIENT, setup.embed(SERVER), 64)
            .tcp(40000, 443, 1, 64240)
            .write(&mut open, b"hello")
            .unwrap();
        let mut out = Out::default();
        let mut frame = frame(VnetHdr::default(), &open);
        setup.t.translate_at(&mut frame, &mut out, NOW);
        assert_eq!(out.mapped.len(), 1, "the client is mapped");
        setup
    }

    /// `v4` under the translator's prefix.
    pub fn embed(&self, v4: [u8; 4]) -> [u8; 16] {
        self.prefix.embed(Ipv4Addr::from(v4)).octets()
    }
}

pub fn frame(vnet: VnetHdr, packet: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(vnet::LEN + packet.len());
    vnet.write(&mut frame);
    frame.extend_from_slice(packet);
    frame
}

/// Translates `packet` behind `vnet` and checks every packet that comes out.
pub fn translate_and_check(setup: &Setup, vnet: VnetHdr, packet: &[u8]) {
    let t = &setup.t;
    let input_parses = SlicedPacket::from_ip(packet).is_ok();
    let input_sums_hold = l4_checksum_holds(packet);
    let mut frame = frame(vnet, packet);
    let mut out = Out::default();
    t.translate_at(&mut frame, &mut out, NOW);
    for emitted in &out.packets {
        let head = VnetHdr::parse(&emitted.head).expect("a virtio-net header");
        let packet = [&emitted.head[vnet::LEN..], &frame[emitted.body.clone()]].concat();
        // The translator's own messages must be right whatever came in; what it
        // translated, as right as what came in.
        let made_whole = emitted.body.is_empty();
        let must_parse = input_parses || made_whole;
        let sum_must_hold = input_sums_hold || made_whole;
        if !(setup.forwards_zero_udp_checksums && is_udp_without_checksum(&packet)) {
            check(&packet, head, must_parse, sum_must_hold);
        } else {
            check(&packet, head, must_parse, false);
        }
    }
}

fn is_udp_without_checksum(packet: &[u8]) -> bool {
    let Ok(sliced) = SlicedPacket::from_ip(packet) else {
        return false;
    };
    matches!(sliced.transport, Some(TransportSlice::Udp(udp)) if udp.checksum() == 0)
}

/// Whether the input's TCP, UDP or ICMP checksum holds (as etherparse computes it).
fn l4_checksum_holds(packet: &[u8]) -> bool {
    let Ok(sliced) = SlicedPacket::from_ip(packet) else {
        return false;
    };
    match sliced.net {
        Some(NetSlice::Ipv4(ip)) => {
            let header = ip.header().to_header();
            transport_sum_holds(
                &sliced.transport,
                Family::V4(header.source, header.destination),
            )
        }
        Some(NetSlice::Ipv6(ip)) => {
            let (src, dst) = (ip.header().source(), ip.header().destination());
            transport_sum_holds(&sliced.transport, Family::V6(src, dst))
        }
        _ => false,
    }
}

#[derive(Clone, Copy)]
enum Family {
    V4([u8; 4], [u8; 4]),
    V6([u8; 16], [u8; 16]),
}

/// Does the checksum of `transport` hold? A checksum and its one's complement twin (0x0000
/// and 0xffff) are the same number.
fn transport_sum_holds(transport: &Option<TransportSlice<'_>>, family: Family) -> bool {
    let same = |stored: u16, computed: u16| {
        stored == computed || (stored | computed == 0xffff && stored & computed == 0)
    };
    match (transport, family) {
        (Some(TransportSlice::Tcp(tcp)), Family::V4(src, dst)) => tcp
            .calc_checksum_ipv4(src, dst)
            .is_ok_and(|c| same(tcp.checksum(), c)),
        (Some(TransportSlice::Tcp(tcp)), Family::V6(src, dst)) => tcp
            .calc_checksum_ipv6(src, dst)
            .is_ok_and(|c| same(tcp.checksum(), c)),
        (Some(TransportSlice::Udp(udp)), Family::V4(src, dst)) => {
            let header = udp.to_header();
            udp.checksum() == 0
                || header
                    .calc_checksum_ipv4_raw(src, dst, udp.payload())
                    .is_ok_and(|c| same(udp.checksum(), c))
        }
        (Some(TransportSlice::Udp(udp)), Family::V6(src, dst)) => {
            let header = udp.to_header();
            header
                .calc_checksum_ipv6_raw(src, dst, udp.payload())
                .is_ok_and(|c| same(udp.checksum(), c))
        }
        (Some(TransportSlice::Icmpv4(icmp)), _) => same(
            icmp.checksum(),
            icmp.icmp_type().calc_checksum(icmp.payload()),
        ),
        (Some(TransportSlice::Icmpv6(icmp)), Family::V6(src, dst)) => {
            icmp.is_checksum_valid(src, dst)
        }
        _ => false,
    }
}

/// An emitted packet's IP header parses, with lengths that hold and, for IPv4, its
/// checksum. When it carries what the translator translates (TCP, UDP, ICMP), unless it is
/// a fragment other than the first: the packet parses (`must_parse`) and its transport
/// checksum holds (`sum_must_hold`), unless the checksum is left to the kernel or the
/// packet is a fragment. Other protocols cross as bytes: etherparse's view of them is not
/// the translator's business.
fn check(packet: &[u8], head: VnetHdr, must_parse: bool, sum_must_hold: bool) {
    let (upper, later_fragment) = match packet.first().map(|b| b >> 4) {
        Some(4) => {
            let (header, _) = Ipv4Header::from_slice(packet).unwrap_or_else(|err| {
                panic!("an IPv4 header that does not parse: {err:?}: {packet:02x?}")
            });
            assert_eq!(
                header.header_checksum,
                header.calc_header_checksum(),
                "IPv4 header checksum: {packet:02x?}"
            );
            assert_eq!(
                usize::from(header.total_len),
                packet.len(),
                "IPv4 total length"
            );
            (header.protocol, header.fragment_offset.value() != 0)
        }
        Some(6) => {
            let (header, rest) = Ipv6Header::from_slice(packet).unwrap_or_else(|err| {
                panic!("an IPv6 header that does not parse: {err:?}: {packet:02x?}")
            });
            assert_eq!(
                usize::from(header.payload_length) + 40,
                packet.len(),
                "IPv6 payload length: {packet:02x?}"
            );
            if header.next_header == IpNumber::IPV6_ICMP && rest.first().is_some_and(|t| *t < 128) {
                assert!(packet.len() <= 1280, "an ICMPv6 error fits in 1280 bytes");
            }
            if header.next_header == IpNumber::IPV6_FRAGMENTATION_HEADER {
                let (fragment, _) = Ipv6FragmentHeader::from_slice(rest)
                    .unwrap_or_else(|err| panic!("a fragment header that does not parse: {err:?}"));
                (fragment.next_header, fragment.fragment_offset.value() != 0)
            } else {
                (header.next_header, false)
            }
        }
        _ => panic!("an emitted packet is not IP: {packet:02x?}"),
    };
    let translated = [
        IpNumber::TCP,
        IpNumber::UDP,
        IpNumber::ICMP,
        IpNumber::IPV6_ICMP,
    ];
    if later_fragment || !must_parse || !translated.contains(&upper) {
        return;
    }
    let sliced = SlicedPacket::from_ip(packet)
        .unwrap_or_else(|err| panic!("an emitted packet does not parse: {err:?}: {packet:02x?}"));
    let (family, fragment) = match &sliced.net {
        Some(NetSlice::Ipv4(ip)) => {
            let header = ip.header().to_header();
            let fragment = header.more_fragments;
            (Family::V4(header.source, header.destination), fragment)
        }
        Some(NetSlice::Ipv6(ip)) => {
            let header = ip.header();
            let fragment = ip.payload().fragmented;
            (Family::V6(header.source(), header.destination()), fragment)
        }
        _ => panic!("an emitted packet is not IP: {packet:02x?}"),
    };
    let left_to_kernel = head.flags & F_NEEDS_CSUM != 0 || head.segmented();
    if sum_must_hold && !fragment && !left_to_kernel && sliced.transport.is_some() {
        assert!(
            transport_sum_holds(&sliced.transport, family),
            "a transport checksum does not hold: {packet:02x?}"
        );
    }
}

/// A copy of `header` with its checksum computed.
pub fn with_header_checksum(mut header: Ipv4Header) -> Ipv4Header {
    header.header_checksum = header.calc_header_checksum();
    header
}

//! Each translation rule of RFC 7915 the translator applies, on packets built and checked
//! by etherparse (an independent implementation of the headers and their checksums).

mod gaps;

use super::*;
use crate::checksum;
use crate::vnet::{F_NEEDS_CSUM, GSO_TCPV4, GSO_TCPV6};
use crate::wire::icmpv6;
use crate::wire::protocol::{FRAGMENT, TCP};
use etherparse::{
    Icmpv4Type, IpNumber, Ipv4Header, NetSlice, PacketBuilder, SlicedPacket, TransportSlice,
};

const PREFIX: &str = "fd00:10:64:ff9b::/96";
const OWN_V4: [u8; 4] = [10, 149, 0, 200];
const POOL_FIRST: [u8; 4] = [10, 149, 128, 1];
const CLIENT: [u8; 16] = [0xfd, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3];
const SERVER: [u8; 4] = [198, 18, 0, 10];
const ROUTER: [u8; 4] = [198, 18, 0, 1];
const MTU: usize = 1500;

fn settings(pool: &str) -> Settings {
    Settings::new(
        Prefix::new(PREFIX.parse().unwrap()).unwrap(),
        Ipv4Addr::from(OWN_V4),
        pool.parse().unwrap(),
        MTU,
    )
}

fn translator() -> Translator {
    Translator::new(settings("10.149.128.0/25"))
}

fn be16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

fn embedded(v4: [u8; 4]) -> [u8; 16] {
    let mut v6 = [
        0xfd, 0, 0, 0x10, 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    v6[12..].copy_from_slice(&v4);
    v6
}

/// `packet` behind a plain virtio-net header.
fn frame(packet: &[u8]) -> Vec<u8> {
    let mut frame = vec![0; vnet::LEN];
    frame.extend_from_slice(packet);
    frame
}

/// The packets `t` writes for `packet` (virtio-net headers cut off), and what it did.
fn run(t: &Translator, packet: &[u8]) -> (Vec<Vec<u8>>, Out) {
    run_frame(t, &mut frame(packet))
}

fn run_frame(t: &Translator, frame: &mut [u8]) -> (Vec<Vec<u8>>, Out) {
    let mut out = Out::default();
    t.translate(frame, &mut out);
    let packets = out
        .packets
        .iter()
        .map(|p| [&p.head[vnet::LEN..], &frame[p.body.clone()]].concat())
        .collect();
    (packets, out)
}

fn only(t: &Translator, packet: &[u8]) -> Vec<u8> {
    let (mut packets, out) = run(t, packet);
    assert_eq!(
        packets.len(),
        1,
        "one packet out, got {packets:?} ({:?})",
        out.dropped
    );
    packets.remove(0)
}

fn v6_tcp(src: [u8; 16], dst: [u8; 16], hop: u8, payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ipv6(src, dst, hop)
        .tcp(40000, 80, 7, 64240)
        .ack(9);
    let mut packet = Vec::new();
    builder.write(&mut packet, payload).unwrap();
    packet
}

fn v4_tcp(src: [u8; 4], dst: [u8; 4], ttl: u8, payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ipv4(src, dst, ttl)
        .tcp(80, 40000, 9, 64240)
        .ack(8);
    let mut packet = Vec::new();
    builder.write(&mut packet, payload).unwrap();
    packet
}

/// Parses an IPv4 packet, asserting its header checksum and its TCP, UDP or ICMP one.
fn v4_checked(packet: &[u8]) -> SlicedPacket<'_> {
    let sliced = SlicedPacket::from_ip(packet).expect("an IPv4 packet");
    let Some(NetSlice::Ipv4(ip)) = &sliced.net else {
        panic!("not IPv4: {packet:02x?}")
    };
    let header = ip.header().to_header();
    assert_eq!(
        header.header_checksum,
        header.calc_header_checksum(),
        "IPv4 header checksum"
    );
    let (src, dst) = (header.source, header.destination);
    match &sliced.transport {
        Some(TransportSlice::Tcp(tcp)) => {
            assert_eq!(
                tcp.checksum(),
                tcp.calc_checksum_ipv4(src, dst).unwrap(),
                "TCP checksum"
            )
        }
        Some(TransportSlice::Udp(udp)) => {
            let want = udp
                .to_header()
                .calc_checksum_ipv4_raw(src, dst, udp.payload())
                .unwrap();
            assert_eq!(udp.checksum(), want, "UDP checksum")
        }
        Some(TransportSlice::Icmpv4(icmp)) => {
            assert_eq!(
                icmp.checksum(),
                icmp.icmp_type().calc_checksum(icmp.payload()),
                "ICMP checksum"
            )
        }
        _ => {}
    }
    sliced
}

/// Parses an IPv6 packet, asserting its TCP, UDP or ICMPv6 checksum.
fn v6_checked(packet: &[u8]) -> SlicedPacket<'_> {
    let sliced = SlicedPacket::from_ip(packet).expect("an IPv6 packet");
    let Some(NetSlice::Ipv6(ip)) = &sliced.net else {
        panic!("not IPv6: {packet:02x?}")
    };
    let (src, dst) = (ip.header().source(), ip.header().destination());
    match &sliced.transport {
        Some(TransportSlice::Tcp(tcp)) => {
            assert_eq!(
                tcp.checksum(),
                tcp.calc_checksum_ipv6(src, dst).unwrap(),
                "TCP checksum"
            )
        }
        Some(TransportSlice::Udp(udp)) => {
            let want = udp
                .to_header()
                .calc_checksum_ipv6_raw(src, dst, udp.payload())
                .unwrap();
            assert_eq!(udp.checksum(), want, "UDP checksum")
        }
        Some(TransportSlice::Icmpv6(icmp)) => {
            assert!(icmp.is_checksum_valid(src, dst), "ICMPv6 checksum")
        }
        _ => {}
    }
    sliced
}

fn v4_header(packet: &[u8]) -> Ipv4Header {
    match SlicedPacket::from_ip(packet).unwrap().net {
        Some(NetSlice::Ipv4(ip)) => ip.header().to_header(),
        _ => panic!("not IPv4"),
    }
}

/// The client's first packet, so that the pool maps it; the IPv4 packet it became.
fn client_opens(t: &Translator) -> Vec<u8> {
    only(t, &v6_tcp(CLIENT, embedded(SERVER), 64, b"GET /"))
}

#[test]
fn ipv6_to_ipv4_maps_the_source_into_the_pool_and_takes_the_destination_from_the_prefix() {
    let t = translator();
    let mut packet = v6_tcp(CLIENT, embedded(SERVER), 64, b"GET /");
    packet[0] = 0x6b; // traffic class 0xb8 (EF)
    packet[1] = 0x80;
    let (packets, out) = run(&t, &packet);
    assert_eq!(
        out.mapped,
        [(Ipv4Addr::from(POOL_FIRST), Ipv6Addr::from(CLIENT))]
    );
    let v4 = v4_checked(&packets[0]);
    let header = v4_header(&packets[0]);
    assert_eq!((header.source, header.destination), (POOL_FIRST, SERVER));
    assert_eq!(header.time_to_live, 63, "the hop limit, less one");
    assert_eq!(
        header.dscp.value() << 2 | header.ecn.value(),
        0xb8,
        "TOS = traffic class"
    );
    assert!(
        !header.dont_fragment,
        "a packet up to 1260 bytes may be fragmented in IPv4"
    );
    assert_ne!(header.identification, 0, "so it needs an identification");
    let Some(TransportSlice::Tcp(tcp)) = v4.transport else {
        panic!()
    };
    assert_eq!((tcp.source_port(), tcp.destination_port()), (40000, 80));
    assert_eq!(tcp.payload(), b"GET /");
    // The same host keeps its address.
    let (_, out) = run(&t, &v6_tcp(CLIENT, embedded(SERVER), 64, b"again"));
    assert!(out.mapped.is_empty());
    assert_eq!(t.mappings(), 1);
}

#[test]
fn ipv6_to_ipv4_sets_df_above_1260_bytes() {
    let t = translator();
    let big = only(&t, &v6_tcp(CLIENT, embedded(SERVER), 64, &[7; 1300]));
    let header = v4_header(&big);
    assert!(header.dont_fragment);
    assert_eq!(header.identification, 0);
    v4_checked(&big);
}

#[test]
fn ipv4_to_ipv6_returns_to_the_pool_addresss_host() {
    let t = translator();
    client_opens(&t);
    let mut packet = v4_tcp(SERVER, POOL_FIRST, 50, b"HTTP/1.1 200");
    packet[1] = 0x28; // TOS
    let v6 = only(&t, &packet);
    let sliced = v6_checked(&v6);
    let Some(NetSlice::Ipv6(ip)) = &sliced.net else {
        panic!()
    };
    let header = ip.header();
    assert_eq!(header.source(), embedded(SERVER));
    assert_eq!(header.destination(), CLIENT);
    assert_eq!(header.hop_limit(), 49);
    assert_eq!(header.traffic_class(), 0x28);
    assert_eq!(header.flow_label().value(), 0);
    let Some(TransportSlice::Tcp(tcp)) = sliced.transport else {
        panic!()
    };
    assert_eq!(tcp.payload(), b"HTTP/1.1 200");
}

#[test]
fn what_is_not_for_the_translator_is_dropped() {
    let t = translator();
    // To an IPv4 address outside the pool.
    let (packets, out) = run(&t, &v4_tcp(SERVER, [10, 149, 200, 9], 64, b""));
    assert!(packets.is_empty());
    assert_eq!(out.dropped, Some(Dropped::NotRouted));
    // IPv6 outside the prefix.
    let (packets, out) = run(&t, &v6_tcp(CLIENT, CLIENT, 64, b""));
    assert!(packets.is_empty());
    assert_eq!(out.dropped, Some(Dropped::NotRouted));
    // Garbage.
    let (_, out) = run(&t, &[0x45, 0, 0]);
    assert_eq!(out.dropped, Some(Dropped::Malformed));
}

#[test]
fn a_full_pool_takes_no_new_host() {
    let t = Translator::new(settings("10.149.128.0/30"));
    let mut other = CLIENT;
    for last in 1..=2 {
        other[15] = last;
        assert_eq!(
            run(&t, &v6_tcp(other, embedded(SERVER), 64, b"")).0.len(),
            1
        );
    }
    other[15] = 9;
    let (packets, out) = run(&t, &v6_tcp(other, embedded(SERVER), 64, b""));
    assert!(packets.is_empty());
    assert_eq!(out.dropped, Some(Dropped::PoolExhausted));
}

#[test]
fn udp_crosses_both_ways_and_a_zero_ipv4_checksum_is_computed() {
    let t = translator();
    let mut request = Vec::new();
    PacketBuilder::ipv6(CLIENT, embedded(SERVER), 64)
        .udp(5353, 53)
        .write(&mut request, b"query")
        .unwrap();
    let v4 = only(&t, &request);
    let sliced = v4_checked(&v4);
    let Some(TransportSlice::Udp(udp)) = sliced.transport else {
        panic!()
    };
    assert_eq!((udp.source_port(), udp.payload()), (5353, &b"query"[..]));

    let mut reply = Vec::new();
    PacketBuilder::ipv4(SERVER, POOL_FIRST, 64)
        .udp(53, 5353)
        .write(&mut reply, b"answer")
        .unwrap();
    let at = reply.len() - 6 - 2;
    reply[at..at + 2].copy_from_slice(&[0, 0]); // IPv4 may send UDP without a checksum
    let v6 = only(&t, &reply);
    let sliced = v6_checked(&v6);
    let Some(TransportSlice::Udp(udp)) = sliced.transport else {
        panic!()
    };
    assert_ne!(udp.checksum(), 0, "IPv6 needs the checksum");
    assert_eq!(udp.payload(), b"answer");
}

#[test]
fn echo_requests_and_replies_cross_both_ways() {
    let t = translator();
    let mut request = Vec::new();
    PacketBuilder::ipv6(CLIENT, embedded(SERVER), 64)
        .icmpv6_echo_request(0x1234, 1)
        .write(&mut request, b"ping payload")
        .unwrap();
    let v4 = only(&t, &request);
    let sliced = v4_checked(&v4);
    let Some(TransportSlice::Icmpv4(icmp)) = sliced.transport else {
        panic!()
    };
    assert_eq!((icmp.type_u8(), icmp.code_u8()), (8, 0));
    assert_eq!(
        icmp.bytes5to8(),
        [0x12, 0x34, 0, 1],
        "identifier and sequence kept"
    );
    assert_eq!(icmp.payload(), b"ping payload");

    let mut reply = Vec::new();
    PacketBuilder::ipv4(SERVER, POOL_FIRST, 64)
        .icmpv4_echo_reply(0x1234, 1)
        .write(&mut reply, b"ping payload")
        .unwrap();
    let v6 = only(&t, &reply);
    let sliced = v6_checked(&v6);
    let Some(TransportSlice::Icmpv6(icmp)) = sliced.transport else {
        panic!()
    };
    assert_eq!((icmp.type_u8(), icmp.code_u8()), (129, 0));
    assert_eq!(icmp.payload(), b"ping payload");
}

#[test]
fn the_translators_own_address_answers_echo() {
    let t = translator();
    let mut request = Vec::new();
    PacketBuilder::ipv6(CLIENT, embedded(OWN_V4), 64)
        .icmpv6_echo_request(7, 3)
        .write(&mut request, b"are you there")
        .unwrap();
    let reply = only(&t, &request);
    let sliced = v6_checked(&reply);
    let Some(NetSlice::Ipv6(ip)) = &sliced.net else {
        panic!()
    };
    assert_eq!(
        (ip.header().source(), ip.header().destination()),
        (embedded(OWN_V4), CLIENT)
    );
    let Some(TransportSlice::Icmpv6(icmp)) = sliced.transport else {
        panic!()
    };
    assert_eq!(icmp.type_u8(), 129);
    assert_eq!(icmp.payload(), b"are you there");
    assert_eq!(t.mappings(), 0, "answering maps no one");
}

#[test]
fn an_expiring_hop_limit_or_ttl_gets_time_exceeded_from_the_translator() {
    let t = translator();
    let expiring = v6_tcp(CLIENT, embedded(SERVER), 1, b"x");
    let error = only(&t, &expiring);
    let sliced = v6_checked(&error);
    let Some(NetSlice::Ipv6(ip)) = &sliced.net else {
        panic!()
    };
    assert_eq!(
        (ip.header().source(), ip.header().destination()),
        (embedded(OWN_V4), CLIENT)
    );
    let Some(TransportSlice::Icmpv6(icmp)) = sliced.transport else {
        panic!()
    };
    assert_eq!((icmp.type_u8(), icmp.code_u8()), (3, 0));
    assert_eq!(icmp.payload(), &expiring[..], "the packet, quoted whole");

    client_opens(&t);
    let expiring = v4_tcp(SERVER, POOL_FIRST, 1, b"y");
    let error = only(&t, &expiring);
    let sliced = v4_checked(&error);
    let header = v4_header(&error);
    assert_eq!((header.source, header.destination), (OWN_V4, SERVER));
    let Some(TransportSlice::Icmpv4(icmp)) = sliced.transport else {
        panic!()
    };
    assert_eq!((icmp.type_u8(), icmp.code_u8()), (11, 0));
    assert_eq!(icmp.payload(), &expiring[..]);
}

/// An ICMPv4 error from `from` about `quoted` (a packet the translator sent), to the pool
/// address.
fn icmpv4_error(from: [u8; 4], kind: u8, code: u8, rest: [u8; 4], quoted: &[u8]) -> Vec<u8> {
    let message = Icmpv4Type::Unknown {
        type_u8: kind,
        code_u8: code,
        bytes5to8: rest,
    };
    let mut packet = Vec::new();
    PacketBuilder::ipv4(from, POOL_FIRST, 60)
        .icmpv4(message)
        .write(&mut packet, quoted)
        .unwrap();
    packet
}

#[test]
fn fragmentation_needed_becomes_packet_too_big_with_the_quoted_packet_translated() {
    let t = translator();
    let sent = client_opens(&t);
    // A router on the IPv4 side quotes the header and the first 8 bytes (RFC 792).
    let error = icmpv4_error(ROUTER, 3, 4, [0, 0, 0x05, 0x14], &sent[..28]);
    let v6 = only(&t, &error);
    let sliced = v6_checked(&v6);
    let Some(NetSlice::Ipv6(ip)) = &sliced.net else {
        panic!()
    };
    assert_eq!(ip.header().source(), embedded(ROUTER));
    assert_eq!(ip.header().destination(), CLIENT);
    let Some(TransportSlice::Icmpv6(icmp)) = sliced.transport else {
        panic!()
    };
    assert_eq!(
        (icmp.type_u8(), icmp.code_u8()),
        (icmpv6::PACKET_TOO_BIG, 0)
    );
    assert_eq!(
        u32::from_be_bytes(icmp.bytes5to8()),
        1300 + 20,
        "the MTU in IPv6 terms"
    );
    // The quoted packet is the one the client sent: its addresses and ports.
    let quoted = icmp.payload();
    assert_eq!(quoted[0] >> 4, 6);
    assert_eq!(&quoted[8..24], &CLIENT);
    assert_eq!(&quoted[24..40], &embedded(SERVER));
    assert_eq!(quoted[6], TCP);
    assert_eq!(&quoted[40..44], &[0x9c, 0x40, 0, 80], "ports 40000 -> 80");
}

#[test]
fn a_fragmentation_needed_without_mtu_uses_rfc_1191s_plateau() {
    let t = translator();
    let sent = only(&t, &v6_tcp(CLIENT, embedded(SERVER), 64, &[1; 1400]));
    let error = icmpv4_error(ROUTER, 3, 4, [0; 4], &sent[..28]);
    let v6 = only(&t, &error);
    let Some(TransportSlice::Icmpv6(icmp)) = v6_checked(&v6).transport else {
        panic!()
    };
    // The quoted IPv4 packet was 1440 bytes: the plateau below is 1006, at least 1280 in IPv6.
    assert_eq!(u32::from_be_bytes(icmp.bytes5to8()), 1280);
}

#[test]
fn a_port_unreachable_for_udp_keeps_the_quoted_udp_header_matching_the_socket() {
    let t = translator();
    let mut request = Vec::new();
    PacketBuilder::ipv6(CLIENT, embedded(SERVER), 64)
        .udp(41000, 9)
        .write(&mut request, b"anyone?")
        .unwrap();
    let sent = only(&t, &request);
    let error = icmpv4_error(SERVER, 3, 3, [0; 4], &sent);
    let v6 = only(&t, &error);
    let Some(TransportSlice::Icmpv6(icmp)) = v6_checked(&v6).transport else {
        panic!()
    };
    assert_eq!((icmp.type_u8(), icmp.code_u8()), (1, 4));
    // The quoted packet is the client's request again, checksum and all, but for the hop
    // limit the translator had taken one from.
    let mut expected = request.clone();
    expected[7] -= 1;
    assert_eq!(icmp.payload(), &expected[..]);
}

#[test]
fn packet_too_big_from_the_ipv6_side_becomes_fragmentation_needed() {
    let t = translator();
    client_opens(&t);
    let from_server = only(&t, &v4_tcp(SERVER, POOL_FIRST, 50, &[2; 1400]));
    // A node between the translator and the client sends Packet Too Big toward the server.
    let node: [u8; 16] = [0xfd, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let mut ptb = Vec::new();
    PacketBuilder::ipv6(node, embedded(SERVER), 64)
        .icmpv6(etherparse::Icmpv6Type::PacketTooBig { mtu: 1400 })
        .write(&mut ptb, &from_server[..1240])
        .unwrap();
    let (packets, out) = run(&t, &ptb);
    assert_eq!(packets.len(), 1, "{:?}", out.dropped);
    let sliced = v4_checked(&packets[0]);
    let header = v4_header(&packets[0]);
    assert_eq!(header.destination, SERVER);
    assert_eq!(header.protocol, IpNumber::ICMP);
    let Some(TransportSlice::Icmpv4(icmp)) = sliced.transport else {
        panic!()
    };
    assert_eq!((icmp.type_u8(), icmp.code_u8()), (3, 4));
    assert_eq!(icmp.bytes5to8(), [0, 0, 0x05, 0x64], "MTU 1400 - 20");
    let quoted = icmp.payload();
    assert_eq!(
        &quoted[12..16],
        &SERVER,
        "the quoted packet was the server's"
    );
    assert_eq!(&quoted[16..20], &POOL_FIRST);
    assert_eq!(&quoted[20..24], &[0, 80, 0x9c, 0x40]);
    assert!(packets[0].len() <= IPV4_ERROR_MAX);
}

#[test]
fn ipv4_fragments_carry_their_identification_and_offset_into_a_fragment_header() {
    let t = translator();
    client_opens(&t);
    let mut fragment = v4_tcp(SERVER, POOL_FIRST, 50, &[3; 64]);
    fragment[4..6].copy_from_slice(&0xbeefu16.to_be_bytes());
    fragment[6..8].copy_from_slice(&0x2000u16.to_be_bytes()); // MF, offset 0
    let v6 = only(&t, &fragment);
    assert_eq!(v6[6], FRAGMENT);
    let ext = &v6[40..48];
    assert_eq!(ext[0], TCP);
    assert_eq!(be16(ext, 2), 1, "offset 0, M set");
    assert_eq!(u32::from_be_bytes([ext[4], ext[5], ext[6], ext[7]]), 0xbeef);
    assert_eq!(be16(&v6, 4) as usize, 8 + 20 + 64);

    let mut later = v4_tcp(SERVER, POOL_FIRST, 50, &[3; 64]);
    later[6..8].copy_from_slice(&0x0010u16.to_be_bytes()); // offset 16 (128 bytes), last
    let v6 = only(&t, &later);
    assert_eq!(be16(&v6[40..48], 2), 16 << 3);
}

#[test]
fn ipv6_fragments_carry_theirs_into_the_ipv4_header() {
    let t = translator();
    let mut packet = v6_tcp(CLIENT, embedded(SERVER), 64, &[4; 32]);
    // Insert a fragment header: offset 0, M set, identification 0x1234beef.
    let tcp = packet.split_off(40);
    packet[6] = FRAGMENT;
    packet.extend_from_slice(&[TCP, 0, 0, 1, 0x12, 0x34, 0xbe, 0xef]);
    packet.extend_from_slice(&tcp);
    let len = (packet.len() - 40) as u16;
    packet[4..6].copy_from_slice(&len.to_be_bytes());
    let v4 = only(&t, &packet);
    let header = v4_header(&v4);
    assert_eq!(header.identification, 0xbeef);
    assert!(header.more_fragments && !header.dont_fragment);
    assert_eq!(header.total_len as usize, 20 + tcp.len());
    v4_checked(&v4);
}

#[test]
fn a_big_ipv4_packet_without_df_is_sent_as_ipv6_fragments() {
    let t = translator();
    client_opens(&t);
    let payload: Vec<u8> = (0..1490u32).map(|i| i as u8).collect();
    let mut big = Vec::new();
    PacketBuilder::ipv4(SERVER, POOL_FIRST, 50)
        .udp(53, 5353)
        .write(&mut big, &payload)
        .unwrap();
    big[6] = 0; // DF clear
    let header = Ipv4Header::from_slice(&big).unwrap().0;
    big[10..12].copy_from_slice(&header.calc_header_checksum().to_be_bytes());
    let (packets, out) = run(&t, &big);
    assert!(packets.len() >= 2, "{:?}", out.dropped);
    let mut reassembled = Vec::new();
    for (i, packet) in packets.iter().enumerate() {
        assert!(packet.len() <= MTU);
        assert_eq!(packet[6], FRAGMENT);
        let offset = usize::from(be16(packet, 42) >> 3) * 8;
        assert_eq!(offset, reassembled.len());
        assert_eq!(
            be16(packet, 42) & 1 == 1,
            i + 1 < packets.len(),
            "M on all but the last"
        );
        reassembled.extend_from_slice(&packet[48..]);
    }
    assert_eq!(&reassembled[8..], &payload[..]);
}

#[test]
fn a_big_ipv4_packet_with_df_gets_fragmentation_needed_with_the_ipv6_mtu_less_20() {
    let t = translator();
    client_opens(&t);
    let big = v4_tcp(SERVER, POOL_FIRST, 50, &[5; 1460]);
    assert_eq!(big.len(), 1500);
    let error = only(&t, &big);
    let sliced = v4_checked(&error);
    assert_eq!(v4_header(&error).destination, SERVER);
    let Some(TransportSlice::Icmpv4(icmp)) = sliced.transport else {
        panic!()
    };
    assert_eq!((icmp.type_u8(), icmp.code_u8()), (3, 4));
    assert_eq!(icmp.bytes5to8(), [0, 0, 0x05, 0xc8], "1480");
    let quoted = IPV4_ERROR_MAX - 28;
    assert_eq!(
        icmp.payload(),
        &big[..quoted],
        "the packet as it came, cut to 576 bytes"
    );
}

#[test]
fn extension_headers_are_skipped_and_a_routing_header_with_segments_left_is_refused() {
    let t = translator();
    let base = v6_tcp(CLIENT, embedded(SERVER), 64, b"ext");
    let with = |ext: &[u8], first: u8| {
        let mut packet = base[..40].to_vec();
        packet[6] = first;
        packet.extend_from_slice(ext);
        packet.extend_from_slice(&base[40..]);
        let len = (packet.len() - 40) as u16;
        packet[4..6].copy_from_slice(&len.to_be_bytes());
        packet
    };
    // Hop-by-hop (padding only), then destination options, then TCP.
    let ext = [60, 0, 1, 4, 0, 0, 0, 0, TCP, 0, 1, 4, 0, 0, 0, 0];
    let v4 = only(&t, &with(&ext, 0));
    assert_eq!(v4_header(&v4).protocol, IpNumber::TCP);
    assert_eq!(v4.len(), 20 + base.len() - 40);
    v4_checked(&v4);

    let routing = [TCP, 0, 0, 1, 0, 0, 0, 0]; // type 0, segments left 1
    let error = only(&t, &with(&routing, 43));
    let Some(TransportSlice::Icmpv6(icmp)) = v6_checked(&error).transport else {
        panic!()
    };
    assert_eq!((icmp.type_u8(), icmp.code_u8()), (4, 0));
    assert_eq!(
        u32::from_be_bytes(icmp.bytes5to8()),
        43,
        "the segments left byte"
    );
}

#[test]
fn a_tcp_super_packet_leaves_as_one_ipv6_super_packet_with_its_partial_checksum() {
    let t = translator();
    client_opens(&t);
    let payload = vec![6u8; 20_000];
    let mut packet = v4_tcp(SERVER, POOL_FIRST, 50, &payload);
    // As the kernel hands it over: the checksum field holds the pseudo-header sum only.
    let partial = checksum::fold(checksum::pseudo(
        &[&SERVER, &POOL_FIRST],
        TCP,
        20 + payload.len(),
    ));
    packet[36..38].copy_from_slice(&partial.to_be_bytes());
    let vnet = VnetHdr {
        flags: F_NEEDS_CSUM,
        gso_type: GSO_TCPV4,
        hdr_len: 40,
        gso_size: 1448,
        csum_start: 20,
        csum_offset: 16,
    };
    let mut frame = Vec::new();
    vnet.write(&mut frame);
    frame.extend_from_slice(&packet);
    let mut out = Out::default();
    t.translate(&mut frame, &mut out);
    assert_eq!(out.packets.len(), 1);
    let emitted = &out.packets[0];
    let written = VnetHdr::parse(&emitted.head).unwrap();
    assert_eq!(written.gso_type, GSO_TCPV6);
    assert_eq!(
        (written.hdr_len, written.csum_start, written.gso_size),
        (60, 40, 1448)
    );
    let v6 = [&emitted.head[vnet::LEN..], &frame[emitted.body.clone()]].concat();
    assert_eq!(v6.len(), 40 + 20 + payload.len());
    let want = checksum::fold(checksum::pseudo(
        &[&embedded(SERVER), &CLIENT],
        TCP,
        20 + payload.len(),
    ));
    assert_eq!(be16(&v6, 40 + 16), want, "the IPv6 pseudo-header sum");
}

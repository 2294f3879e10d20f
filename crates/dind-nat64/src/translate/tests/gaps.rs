//! The RFC 7915 and RFC 6052 gaps an independent conformance check found, each closed: on
//! packets built and checked by etherparse.

use super::*;
use crate::pool::DEFAULT_LEASE;
use crate::static_map::StaticMap;
use crate::wire::protocol::{ICMP, ICMPV6, UDP};
use etherparse::{Icmpv6Type, IpNumber};

const T0: Seconds = 1_700_000_000;

fn run_at(t: &Translator, packet: &[u8], now: Seconds) -> (Vec<Vec<u8>>, Out) {
    let mut frame = frame(packet);
    let mut out = Out::default();
    t.translate_at(&mut frame, &mut out, now);
    let packets = out
        .packets
        .iter()
        .map(|p| [&p.head[vnet::LEN..], &frame[p.body.clone()]].concat())
        .collect();
    (packets, out)
}

fn dropped(t: &Translator, packet: &[u8]) -> Option<Dropped> {
    let (packets, out) = run(t, packet);
    assert!(packets.is_empty(), "nothing out, got {packets:02x?}");
    out.dropped
}

fn v4_with_protocol(src: [u8; 4], dst: [u8; 4], protocol: u8, payload: &[u8]) -> Vec<u8> {
    let mut packet = Vec::new();
    PacketBuilder::ipv4(src, dst, 64)
        .write(&mut packet, IpNumber(protocol), payload)
        .unwrap();
    packet
}

fn v6_with_next_header(src: [u8; 16], dst: [u8; 16], next: u8, payload: &[u8]) -> Vec<u8> {
    let mut packet = Vec::new();
    PacketBuilder::ipv6(src, dst, 64)
        .write(&mut packet, IpNumber(next), payload)
        .unwrap();
    packet
}

/// An ICMPv6 error from `from` to the IPv4 server (under the prefix) about `quoted`.
fn icmpv6_error(from: [u8; 16], kind: u8, code: u8, rest: [u8; 4], quoted: &[u8]) -> Vec<u8> {
    let mut packet = Vec::new();
    PacketBuilder::ipv6(from, embedded(SERVER), 64)
        .icmpv6_raw(kind, code, rest)
        .write(&mut packet, quoted)
        .unwrap();
    packet
}

fn icmpv4_of(packet: &[u8]) -> (u8, u8, [u8; 4], Vec<u8>) {
    let Some(TransportSlice::Icmpv4(icmp)) = v4_checked(packet).transport else {
        panic!("not ICMPv4: {packet:02x?}")
    };
    (
        icmp.type_u8(),
        icmp.code_u8(),
        icmp.bytes5to8(),
        icmp.payload().to_vec(),
    )
}

fn icmpv6_of(packet: &[u8]) -> (u8, u8, [u8; 4], Vec<u8>) {
    let Some(TransportSlice::Icmpv6(icmp)) = v6_checked(packet).transport else {
        panic!("not ICMPv6: {packet:02x?}")
    };
    (
        icmp.type_u8(),
        icmp.code_u8(),
        icmp.bytes5to8(),
        icmp.payload().to_vec(),
    )
}

fn v6_addresses(packet: &[u8]) -> ([u8; 16], [u8; 16]) {
    match SlicedPacket::from_ip(packet).unwrap().net {
        Some(NetSlice::Ipv6(ip)) => (ip.header().source(), ip.header().destination()),
        _ => panic!("not IPv6"),
    }
}

// RFC 7915 sections 4.3 and 5.3 (MUST): an ICMP error about an ICMP error is dropped.

#[test]
fn an_icmpv4_error_quoting_an_icmpv4_error_is_dropped() {
    let t = translator();
    client_opens(&t);
    // What the client's translated error looked like to the server...
    let mut inner = Vec::new();
    PacketBuilder::ipv4(POOL_FIRST, SERVER, 64)
        .icmpv4_raw(3, 3, [0; 4])
        .write(&mut inner, &[0x45; 28])
        .unwrap();
    // ... and a router's error about it, back to the pool address.
    let error = icmpv4_error(ROUTER, 11, 0, [0; 4], &inner);
    assert_eq!(dropped(&t, &error), Some(Dropped::Untranslatable));
    // The same error about an echo request crosses.
    let mut echo = Vec::new();
    PacketBuilder::ipv4(POOL_FIRST, SERVER, 64)
        .icmpv4_echo_request(1, 2)
        .write(&mut echo, b"ping")
        .unwrap();
    assert_eq!(
        run(&t, &icmpv4_error(ROUTER, 11, 0, [0; 4], &echo)).0.len(),
        1
    );
}

#[test]
fn an_icmpv6_error_quoting_an_icmpv6_error_is_dropped() {
    let t = translator();
    client_opens(&t);
    let mut inner = Vec::new();
    PacketBuilder::ipv6(embedded(SERVER), CLIENT, 64)
        .icmpv6_raw(1, 4, [0; 4])
        .write(&mut inner, &[0x60; 48])
        .unwrap();
    let router: [u8; 16] = [0xfd, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let error = icmpv6_error(router, 3, 0, [0; 4], &inner);
    assert_eq!(dropped(&t, &error), Some(Dropped::Untranslatable));
}

// RFC 7915 section 4.1: fragments for the lowest IPv6 MTU.

/// A UDP datagram of `total` bytes from the server to the pool address, DF as given.
fn v4_udp_of(total: usize, dont_fragment: bool) -> Vec<u8> {
    let payload: Vec<u8> = (0..total - 28).map(|i| i as u8).collect();
    let mut packet = Vec::new();
    let builder = PacketBuilder::ipv4(SERVER, POOL_FIRST, 50);
    builder.udp(53, 5353).write(&mut packet, &payload).unwrap();
    let mut header = Ipv4Header::from_slice(&packet).unwrap().0;
    header.dont_fragment = dont_fragment;
    header.header_checksum = header.calc_header_checksum();
    packet[..20].copy_from_slice(&header.to_bytes());
    packet
}

/// The IPv6 fragments' sizes, their payloads checked to reassemble to `original`'s.
fn fragment_sizes(packets: &[Vec<u8>], original: &[u8]) -> Vec<usize> {
    let mut reassembled = Vec::new();
    for packet in packets {
        assert_eq!(packet[6], FRAGMENT);
        assert_eq!(usize::from(be16(packet, 42) >> 3) * 8, reassembled.len());
        reassembled.extend_from_slice(&packet[48..]);
    }
    assert_eq!(reassembled[8..], original[28..], "the UDP payload");
    packets.iter().map(Vec::len).collect()
}

#[test]
fn an_ipv4_packet_without_df_is_fragmented_for_1280_bytes_not_the_tun_mtu() {
    let t = translator();
    client_opens(&t);
    let big = v4_udp_of(1500, false);
    let (packets, _) = run(&t, &big);
    assert_eq!(fragment_sizes(&packets, &big), [1280, 40 + 8 + 1480 - 1232]);

    // Up to 1280 bytes in IPv6, it crosses whole.
    let fits = v4_udp_of(1260, false);
    let v6 = only(&t, &fits);
    assert_eq!((v6.len(), v6[6]), (1280, UDP));
    v6_checked(&v6);
    // With DF, path MTU discovery is the sender's: whole up to the TUN's MTU.
    let with_df = v4_udp_of(1460, true);
    assert_eq!(only(&t, &with_df).len(), 1480);
}

#[test]
fn offlink_mtu_sets_the_fragment_size() {
    let mut settings = settings("10.149.128.0/25");
    settings.offlink_mtu = 1400;
    let t = Translator::new(settings);
    client_opens(&t);
    let big = v4_udp_of(1500, false);
    let (packets, _) = run(&t, &big);
    assert_eq!(fragment_sizes(&packets, &big), [1400, 40 + 8 + 1480 - 1352]);
}

#[test]
fn an_echo_request_without_df_too_big_for_1280_is_sent_as_icmpv6_fragments() {
    let t = translator();
    client_opens(&t);
    let mut request = Vec::new();
    PacketBuilder::ipv4(SERVER, POOL_FIRST, 50)
        .icmpv4_echo_request(9, 1)
        .write(&mut request, &[0x5a; 1400])
        .unwrap();
    let mut header = Ipv4Header::from_slice(&request).unwrap().0;
    header.dont_fragment = false;
    header.header_checksum = header.calc_header_checksum();
    request[..20].copy_from_slice(&header.to_bytes());
    let (packets, out) = run(&t, &request);
    assert_eq!(packets.len(), 2, "{:?}", out.dropped);
    let message: Vec<u8> = packets.iter().flat_map(|p| p[48..].to_vec()).collect();
    assert_eq!(packets[0][40], ICMPV6, "the fragment header's next header");
    // Reassembled, it is an echo request whose ICMPv6 checksum holds.
    let whole = {
        let mut whole = Vec::new();
        PacketBuilder::ipv6(embedded(SERVER), CLIENT, 49)
            .write(&mut whole, IpNumber::IPV6_ICMP, &message)
            .unwrap();
        whole
    };
    let (kind, _, rest, data) = icmpv6_of(&whole);
    assert_eq!((kind, rest, data.len()), (128, [0, 9, 0, 1], 1400));
}

// RFC 1812 section 5.3.7, RFC 3927 section 7: martian addresses.

#[test]
fn martian_ipv4_sources_and_destinations_are_dropped_both_ways() {
    let t = translator();
    client_opens(&t);
    for martian in [
        [0, 0, 0, 0],
        [127, 0, 0, 1],
        [169, 254, 9, 9],
        [224, 0, 0, 1],
        [255, 255, 255, 255],
    ] {
        let from = v4_tcp(martian, POOL_FIRST, 64, b"x");
        assert_eq!(
            dropped(&t, &from),
            Some(Dropped::Martian),
            "from {martian:?}"
        );
        let to = v4_tcp(SERVER, martian, 64, b"x");
        assert_eq!(dropped(&t, &to), Some(Dropped::Martian), "to {martian:?}");
        let v6 = v6_tcp(CLIENT, embedded(martian), 64, b"x");
        assert_eq!(
            dropped(&t, &v6),
            Some(Dropped::Martian),
            "to {martian:?} in IPv6"
        );
    }
}

// RFC 7915 section 4.4: a pool address no one holds is unreachable.

#[test]
fn an_ipv4_packet_to_an_unmapped_pool_address_gets_host_unreachable() {
    let t = translator();
    let unmapped = [10, 149, 128, 9];
    let packet = v4_tcp(SERVER, unmapped, 64, b"anyone?");
    let error = only(&t, &packet);
    let header = v4_header(&error);
    assert_eq!((header.source, header.destination), (OWN_V4, SERVER));
    let (kind, code, _, quoted) = icmpv4_of(&error);
    assert_eq!((kind, code), (3, 1));
    assert_eq!(quoted, packet);
    // Not about an ICMP error, though.
    let error_to_pool = icmpv4_error(ROUTER, 3, 1, [0; 4], &packet);
    let mut to_unmapped = error_to_pool.clone();
    to_unmapped[16..20].copy_from_slice(&unmapped);
    let header = Ipv4Header::from_slice(&to_unmapped).unwrap().0;
    to_unmapped[10..12].copy_from_slice(&header.calc_header_checksum().to_be_bytes());
    assert_eq!(dropped(&t, &to_unmapped), Some(Dropped::Untranslatable));
}

// An ICMPv6 error quoting a header whose payload length is zero.

#[test]
fn an_icmpv6_error_quoting_a_header_with_payload_length_0_is_translated() {
    let t = translator();
    client_opens(&t);
    let from_server = only(&t, &v4_tcp(SERVER, POOL_FIRST, 50, b"reply"));
    let mut quoted = from_server.clone();
    quoted[4..6].copy_from_slice(&[0, 0]);
    let router: [u8; 16] = [0xfd, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let error = icmpv6_error(router, 1, 0, [0; 4], &quoted);
    let v4 = only(&t, &error);
    let (kind, code, _, inner) = icmpv4_of(&v4);
    assert_eq!((kind, code), (3, 1));
    let inner_header = Ipv4Header::from_slice(&inner).unwrap().0;
    assert_eq!(
        usize::from(inner_header.total_len),
        20 + from_server.len() - 40,
        "the length quoted"
    );
    assert_eq!(
        (inner_header.source, inner_header.destination),
        (SERVER, POOL_FIRST)
    );
}

// RFC 7915 sections 4.1 and 5.1: protocol numbers of the other family.

#[test]
fn ipv6_only_protocol_numbers_in_ipv4_are_dropped_outer_or_quoted() {
    let t = translator();
    let sent = client_opens(&t);
    for protocol in [0, 43, 44, 58, 60] {
        let packet = v4_with_protocol(SERVER, POOL_FIRST, protocol, &[0; 16]);
        assert_eq!(
            dropped(&t, &packet),
            Some(Dropped::Untranslatable),
            "{protocol}"
        );
        let mut inner = sent[..28].to_vec();
        inner[9] = protocol;
        let header = Ipv4Header::from_slice(&inner).unwrap().0;
        inner[10..12].copy_from_slice(&header.calc_header_checksum().to_be_bytes());
        let error = icmpv4_error(ROUTER, 3, 1, [0; 4], &inner);
        assert_eq!(
            dropped(&t, &error),
            Some(Dropped::Untranslatable),
            "quoted {protocol}"
        );
    }
    // Others cross as they are.
    let sctp = v4_with_protocol(SERVER, POOL_FIRST, 132, &[0; 16]);
    assert_eq!(only(&t, &sctp)[6], 132);
}

#[test]
fn icmpv4s_number_in_ipv6_is_dropped_outer_or_quoted() {
    let t = translator();
    let packet = v6_with_next_header(CLIENT, embedded(SERVER), ICMP, &[8, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(dropped(&t, &packet), Some(Dropped::Untranslatable));
    client_opens(&t);
    let inner = v6_with_next_header(embedded(SERVER), CLIENT, ICMP, &[0; 8]);
    let router: [u8; 16] = [0xfd, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let error = icmpv6_error(router, 1, 0, [0; 4], &inner);
    assert_eq!(dropped(&t, &error), Some(Dropped::Untranslatable));
}

#[test]
fn an_extension_header_after_a_fragment_header_is_not_copied_into_ipv4() {
    let t = translator();
    // Fragment header, then destination options: RFC 7915 translates through neither.
    let ext = [60, 0, 0, 0, 0, 0, 0, 1, TCP, 0, 1, 4, 0, 0, 0, 0];
    let packet = v6_with_next_header(CLIENT, embedded(SERVER), FRAGMENT, &ext);
    assert_eq!(dropped(&t, &packet), Some(Dropped::Untranslatable));
}

// RFC 6791: errors from IPv6 routers without a mapping.

#[test]
fn an_icmpv6_error_from_an_unmapped_router_comes_from_the_translators_address() {
    let t = translator();
    client_opens(&t);
    let from_server = only(&t, &v4_tcp(SERVER, POOL_FIRST, 50, &[2; 1400]));
    let router: [u8; 16] = [0xfd, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let mut ptb = Vec::new();
    PacketBuilder::ipv6(router, embedded(SERVER), 64)
        .icmpv6(Icmpv6Type::PacketTooBig { mtu: 1400 })
        .write(&mut ptb, &from_server[..1232])
        .unwrap();
    let v4 = only(&t, &ptb);
    let header = v4_header(&v4);
    assert_eq!((header.source, header.destination), (OWN_V4, SERVER));
    let (kind, code, _, _) = icmpv4_of(&v4);
    assert_eq!((kind, code), (3, 4));
    assert_eq!(t.mappings(), 1, "the router got no pool address");
    // A host with a mapping is its own source.
    let from_client = icmpv6_error(CLIENT, 1, 4, [0; 4], &from_server[..48]);
    let v4 = only(&t, &from_client);
    assert_eq!(v4_header(&v4).source, POOL_FIRST);
}

// Pool mappings expire after a lease without traffic.

#[test]
fn a_pool_mapping_expires_after_the_lease_and_its_address_serves_a_new_host() {
    let t = Translator::new(settings("10.149.128.0/30"));
    let lease = DEFAULT_LEASE.as_secs();
    let open = v6_tcp(CLIENT, embedded(SERVER), 64, b"GET /");
    let (_, out) = run_at(&t, &open, T0);
    assert_eq!(out.mapped.len(), 1);
    // Traffic from the server keeps it.
    let reply = v4_tcp(SERVER, POOL_FIRST, 50, b"200");
    let (packets, _) = run_at(&t, &reply, T0 + lease);
    assert_eq!(v6_addresses(&packets[0]).1, CLIENT);
    // Idle past the lease: the address answers for no one...
    let late = T0 + 2 * lease + 1;
    let (packets, _) = run_at(&t, &reply, late);
    let (kind, code, _, _) = icmpv4_of(&packets[0]);
    assert_eq!((kind, code), (3, 1), "host unreachable");
    // ... and goes to a new host, the pool's other address being taken.
    let mut other = CLIENT;
    other[15] = 7;
    run_at(&t, &v6_tcp(other, embedded(SERVER), 64, b""), late);
    let mut third = CLIENT;
    third[15] = 8;
    let (packets, out) = run_at(&t, &v6_tcp(third, embedded(SERVER), 64, b""), late);
    assert_eq!(
        out.mapped,
        [(Ipv4Addr::from(POOL_FIRST), Ipv6Addr::from(third))]
    );
    assert_eq!(v4_header(&packets[0]).source, POOL_FIRST);
}

// RFC 6052 section 3.1: the well-known prefix and non-global IPv4 addresses.

fn well_known(wkpf_strict: bool) -> Translator {
    let mut settings = settings("10.149.128.0/25");
    settings.prefix = Prefix::new("64:ff9b::/96".parse().unwrap()).unwrap();
    settings.own_v6 = settings.prefix.embed(Ipv4Addr::from(OWN_V4));
    settings.wkpf_strict = wkpf_strict;
    Translator::new(settings)
}

fn wkp(v4: [u8; 4]) -> [u8; 16] {
    let mut v6 = [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    v6[12..].copy_from_slice(&v4);
    v6
}

#[test]
fn with_the_well_known_prefix_non_global_ipv4_destinations_are_refused() {
    let t = well_known(true);
    for private in [
        [10, 1, 2, 3],
        [192, 168, 1, 1],
        [198, 18, 0, 10],
        [100, 64, 0, 1],
    ] {
        let packet = v6_tcp(CLIENT, wkp(private), 64, b"x");
        let error = only(&t, &packet);
        let (kind, code, _, quoted) = icmpv6_of(&error);
        assert_eq!((kind, code), (1, 0), "to {private:?}");
        assert_eq!(quoted, packet);
        assert_eq!(v6_addresses(&error), (wkp(OWN_V4), CLIENT));
    }
    let global = only(&t, &v6_tcp(CLIENT, wkp([1, 1, 1, 1]), 64, b"x"));
    assert_eq!(v4_header(&global).destination, [1, 1, 1, 1]);
    // Nor may a non-global IPv4 host send to an IPv6 one under it.
    let from_private = v4_tcp([10, 1, 2, 3], POOL_FIRST, 64, b"x");
    let (kind, code, _, quoted) = icmpv4_of(&only(&t, &from_private));
    assert_eq!((kind, code), (3, 10), "host administratively prohibited");
    assert_eq!(quoted, from_private);
}

#[test]
fn wkpf_strict_off_lets_non_global_addresses_through() {
    let t = well_known(false);
    let v4 = only(&t, &v6_tcp(CLIENT, wkp([10, 1, 2, 3]), 64, b"x"));
    assert_eq!(v4_header(&v4).destination, [10, 1, 2, 3]);
}

#[test]
fn a_network_specific_prefix_carries_non_global_addresses() {
    let t = translator();
    let v4 = only(&t, &v6_tcp(CLIENT, embedded([10, 1, 2, 3]), 64, b"x"));
    assert_eq!(v4_header(&v4).destination, [10, 1, 2, 3]);
}

// tayga.conf's map lines, udp-cksum-mode and ipv6-addr.

#[test]
fn a_static_map_gives_an_ipv6_host_a_fixed_ipv4_address_both_ways() {
    let mut settings = settings("10.149.128.0/25");
    let fixed = [10, 149, 128, 1];
    let server6: [u8; 16] = [0xfd, 0, 0, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50];
    let map = StaticMap::parse("10.149.128.1", "fd00:30::50").unwrap();
    settings.static_maps = vec![map];
    let t = Translator::new(settings);
    let v4 = only(&t, &v6_tcp(server6, embedded(SERVER), 64, b"x"));
    assert_eq!(v4_header(&v4).source, fixed);
    assert_eq!(t.mappings(), 0, "no pool address");
    let v6 = only(&t, &v4_tcp(SERVER, fixed, 64, b"y"));
    assert_eq!(v6_addresses(&v6), (embedded(SERVER), server6));
    v6_checked(&v6);
    // The pool does not hand out the mapped address.
    let v4 = client_opens(&t);
    assert_eq!(v4_header(&v4).source, [10, 149, 128, 2]);
}

fn v4_udp_without_checksum(fragment: bool) -> Vec<u8> {
    let mut packet = Vec::new();
    PacketBuilder::ipv4(SERVER, POOL_FIRST, 64)
        .udp(53, 5353)
        .write(&mut packet, b"answer")
        .unwrap();
    packet[26..28].copy_from_slice(&[0, 0]);
    if fragment {
        let mut header = Ipv4Header::from_slice(&packet).unwrap().0;
        header.more_fragments = true;
        header.header_checksum = header.calc_header_checksum();
        packet[..20].copy_from_slice(&header.to_bytes());
    }
    packet
}

#[test]
fn udp_cksum_mode_drops_forwards_or_calculates() {
    for (mode, whole, fragment) in [
        (UdpZeroChecksum::Calculate, Some(true), None),
        (UdpZeroChecksum::Drop, None, None),
        (UdpZeroChecksum::Forward, Some(false), Some(false)),
    ] {
        let mut settings = settings("10.149.128.0/25");
        settings.udp_zero_checksum = mode;
        let t = Translator::new(settings);
        client_opens(&t);
        for (fragmented, want) in [(false, whole), (true, fragment)] {
            let (packets, _) = run(&t, &v4_udp_without_checksum(fragmented));
            let got = packets.first().map(|v6| {
                let at = if fragmented { 48 + 6 } else { 40 + 6 };
                be16(v6, at) != 0
            });
            assert_eq!(got, want, "{mode:?}, fragmented: {fragmented}");
        }
    }
}

#[test]
fn ipv6_addr_is_the_source_of_the_translators_icmpv6_errors() {
    let mut settings = settings("10.149.128.0/25");
    let own6: [u8; 16] = [0xfd, 0, 0, 0x64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    settings.own_v6 = Ipv6Addr::from(own6);
    let t = Translator::new(settings);
    let error = only(&t, &v6_tcp(CLIENT, embedded(SERVER), 1, b"x"));
    assert_eq!(v6_addresses(&error), (own6, CLIENT));
    let mut request = Vec::new();
    PacketBuilder::ipv6(CLIENT, own6, 64)
        .icmpv6_echo_request(1, 1)
        .write(&mut request, b"hi")
        .unwrap();
    assert_eq!(icmpv6_of(&only(&t, &request)).0, 129);
}

#[test]
fn the_translators_ipv4_address_answers_echo() {
    let t = translator();
    let mut request = Vec::new();
    PacketBuilder::ipv4(SERVER, OWN_V4, 64)
        .icmpv4_echo_request(5, 6)
        .write(&mut request, b"there?")
        .unwrap();
    let reply = only(&t, &request);
    let header = v4_header(&reply);
    assert_eq!((header.source, header.destination), (OWN_V4, SERVER));
    let (kind, code, rest, data) = icmpv4_of(&reply);
    assert_eq!((kind, code, rest), (0, 0, [0, 5, 0, 6]));
    assert_eq!(data, b"there?");
}

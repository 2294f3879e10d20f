//! ICMPv6 errors toward an IPv4 host, from a router or the client, quoting a packet the
//! translator sent to the client (or anything): the quoted packet is translated too.
#![no_main]

use dind_nat64::vnet::VnetHdr;
use dind_nat64_fuzz::repair::{self, Repairs};
use dind_nat64_fuzz::{translate_and_check, Setup, CLIENT, ROUTER_V6, SERVER};
use etherparse::PacketBuilder;
use libfuzzer_sys::fuzz_target;

/// The error types and codes RFC 7915 translates, and some it does not.
const MESSAGES: [(u8, u8); 12] = [
    (1, 0),
    (1, 1),
    (1, 3),
    (1, 4),
    (2, 0),
    (3, 0),
    (3, 1),
    (4, 0),
    (4, 1),
    (4, 2),
    (128, 0),
    (135, 0),
];

fuzz_target!(|data: &[u8]| {
    let [choice, repairs, message, from, r0, r1, r2, r3, quoted @ ..] = data else {
        return;
    };
    let setup = Setup::new(*choice);
    let (kind, code) = MESSAGES[usize::from(*message) % MESSAGES.len()];
    let quoted_flow = (setup.embed(SERVER), CLIENT);
    let quoted = repair::ipv6(quoted, Repairs(*repairs), quoted_flow);
    let sender = if from & 1 == 0 { ROUTER_V6 } else { CLIENT };
    let mut packet = Vec::new();
    PacketBuilder::ipv6(sender, setup.embed(SERVER), 64)
        .icmpv6_raw(kind, code, [*r0, *r1, *r2, *r3])
        .write(&mut packet, &quoted)
        .unwrap();
    translate_and_check(&setup, VnetHdr::default(), &packet);
});

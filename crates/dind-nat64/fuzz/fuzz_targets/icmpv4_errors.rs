//! ICMPv4 errors toward the client's pool address, quoting a packet the translator sent
//! to an IPv4 host (or anything): the quoted packet is translated too.
#![no_main]

use dind_nat64::vnet::VnetHdr;
use dind_nat64_fuzz::repair::{self, Repairs};
use dind_nat64_fuzz::{translate_and_check, Setup, POOL_FIRST, ROUTER_V4, SERVER};
use etherparse::PacketBuilder;
use libfuzzer_sys::fuzz_target;

/// The error types and codes RFC 7915 translates, and some it does not.
const MESSAGES: [(u8, u8); 14] = [
    (3, 0),
    (3, 1),
    (3, 2),
    (3, 3),
    (3, 4),
    (3, 9),
    (3, 13),
    (3, 14),
    (11, 0),
    (11, 1),
    (12, 0),
    (12, 2),
    (4, 0),
    (8, 0),
];

fuzz_target!(|data: &[u8]| {
    let [choice, repairs, message, r0, r1, r2, r3, quoted @ ..] = data else {
        return;
    };
    let setup = Setup::new(*choice);
    let (kind, code) = MESSAGES[usize::from(*message) % MESSAGES.len()];
    let quoted = repair::ipv4(quoted, Repairs(*repairs), (POOL_FIRST, SERVER));
    let mut packet = Vec::new();
    PacketBuilder::ipv4(ROUTER_V4, POOL_FIRST, 64)
        .icmpv4_raw(kind, code, [*r0, *r1, *r2, *r3])
        .write(&mut packet, &quoted)
        .unwrap();
    translate_and_check(&setup, VnetHdr::default(), &packet);
});

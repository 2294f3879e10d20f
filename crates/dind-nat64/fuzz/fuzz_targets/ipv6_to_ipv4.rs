//! IPv6 -> IPv4: a packet from the mapped client (or anyone) to an IPv4 host.
#![no_main]

use dind_nat64::vnet::VnetHdr;
use dind_nat64_fuzz::repair::{self, Repairs};
use dind_nat64_fuzz::{translate_and_check, Setup, CLIENT, SERVER};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [choice, repairs, bytes @ ..] = data else {
        return;
    };
    let setup = Setup::new(*choice);
    let flow = (CLIENT, setup.embed(SERVER));
    let packet = repair::ipv6(bytes, Repairs(*repairs), flow);
    translate_and_check(&setup, VnetHdr::default(), &packet);
});

//! IPv4 -> IPv6: a packet from an IPv4 host to the mapped client's pool address (or
//! anywhere).
#![no_main]

use dind_nat64::vnet::VnetHdr;
use dind_nat64_fuzz::repair::{self, Repairs};
use dind_nat64_fuzz::{translate_and_check, Setup, POOL_FIRST, SERVER};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [choice, repairs, bytes @ ..] = data else {
        return;
    };
    let setup = Setup::new(*choice);
    let packet = repair::ipv4(bytes, Repairs(*repairs), (SERVER, POOL_FIRST));
    translate_and_check(&setup, VnetHdr::default(), &packet);
});

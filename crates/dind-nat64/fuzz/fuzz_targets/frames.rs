//! Whole frames as the TUN hands them over: any virtio-net header (checksum offload, TCP
//! segmentation) before an IPv4 or IPv6 packet.
#![no_main]

use dind_nat64::vnet::{self, VnetHdr};
use dind_nat64_fuzz::repair::{self, Repairs};
use dind_nat64_fuzz::{translate_and_check, Setup, CLIENT, POOL_FIRST, SERVER};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [choice, repairs, rest @ ..] = data else {
        return;
    };
    let Some(vnet) = VnetHdr::parse(rest) else {
        return;
    };
    let setup = Setup::new(*choice);
    let bytes = &rest[vnet::LEN..];
    let packet = match bytes.first().map(|b| b >> 4) {
        Some(4) => repair::ipv4(bytes, Repairs(*repairs), (SERVER, POOL_FIRST)),
        _ => repair::ipv6(bytes, Repairs(*repairs), (CLIENT, setup.embed(SERVER))),
    };
    translate_and_check(&setup, vnet, &packet);
});

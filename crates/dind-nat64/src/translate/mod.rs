//! Stateless IP/ICMP translation (RFC 7915) between a dynamic pool of IPv4 addresses and
//! IPv6 hosts, with IPv4 hosts seen under an RFC 6052 prefix: the translator tayga is, for
//! packets in a TUN with virtio-net headers, so that TCP super-packets (GSO) cross it whole.
//!
//! A translated packet is written as a new header (`Emitted::head`: virtio-net header, IP
//! header, maybe a fragment header) followed by a range of the packet read (`body`), which
//! the translation changed in place (checksums, ICMP types). Messages the translator makes
//! itself (ICMP errors, echo replies, translated ICMP errors) are all head.

mod addressing;
mod errors;
mod fragment;
mod icmp_map;
mod icmp_packets;
mod ipv6_headers;
mod l4;
mod quoted;
mod state;
mod to_v4;
mod to_v6;
mod v4_fields;

#[cfg(test)]
mod tests;

use super::addr::Prefix;
use super::pool::{self, Mapping, Seconds};
use super::static_map::StaticMap;
use super::vnet::{self, VnetHdr};
use super::wire;
use addressing::Addressing;
use ipnet::Ipv4Net;
#[cfg(test)]
use state::IPV4_ERROR_MAX;
pub use state::{now, Dropped, Emitted, Out, Translator, UdpZeroChecksum, IPV6_MIN_MTU};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::atomic::AtomicU16;
use std::time::Duration;

pub struct Settings {
    pub prefix: Prefix,
    /// The translator's own IPv4 address (tayga's ipv4-addr): the source of its ICMPv4
    /// errors and of ICMPv6 errors from IPv6 routers without a mapping (RFC 6791).
    pub own_v4: Ipv4Addr,
    /// Its own IPv6 address (tayga's ipv6-addr): by default `own_v4` under the prefix.
    pub own_v6: Ipv6Addr,
    pub pool: Ipv4Net,
    /// The TUN's MTU: the largest IPv6 packet written (GSO super-packets aside).
    pub mtu: usize,
    /// IPv4 packets without DF are fragmented to fit this (tayga's `offlink-mtu`).
    pub offlink_mtu: usize,
    /// With the well-known prefix, non-global IPv4 addresses are refused (tayga's
    /// `wkpf-strict`, on by default).
    pub wkpf_strict: bool,
    pub static_maps: Vec<StaticMap>,
    pub udp_zero_checksum: UdpZeroChecksum,
    /// How long a pool mapping lives without traffic.
    pub pool_lease: Duration,
}

impl Settings {
    /// tayga's defaults for what a config may leave out.
    pub fn new(prefix: Prefix, own_v4: Ipv4Addr, pool: Ipv4Net, mtu: usize) -> Settings {
        Settings {
            prefix,
            own_v4,
            own_v6: prefix.embed(own_v4),
            pool,
            mtu,
            offlink_mtu: IPV6_MIN_MTU,
            wkpf_strict: true,
            static_maps: Vec::new(),
            udp_zero_checksum: UdpZeroChecksum::default(),
            pool_lease: pool::DEFAULT_LEASE,
        }
    }
}

impl Translator {
    pub fn new(settings: Settings) -> Translator {
        let pool = (settings.pool, settings.own_v4, settings.pool_lease);
        Translator {
            addressing: Addressing::new(
                settings.prefix,
                settings.wkpf_strict,
                settings.static_maps,
                pool,
            ),
            own_v4: settings.own_v4,
            own_v6: settings.own_v6,
            mtu: settings.mtu,
            fragment_above: settings.offlink_mtu.min(settings.mtu),
            udp_zero_checksum: settings.udp_zero_checksum,
            next_id: AtomicU16::new(1),
        }
    }

    /// Translates `frame` (a virtio-net header, then an IPv4 or IPv6 packet) into `out`.
    pub fn translate(&self, frame: &mut [u8], out: &mut Out) {
        self.translate_at(frame, out, now());
    }

    /// `translate`, the clock reading `now`.
    pub fn translate_at(&self, frame: &mut [u8], out: &mut Out, now: Seconds) {
        out.clear();
        let Some(vnet) = VnetHdr::parse(frame) else {
            return out.drop(Dropped::Malformed);
        };
        match wire::ip_version(&frame[vnet::LEN..]) {
            Some(6) => to_v4::translate(self, vnet, frame, out, now),
            Some(4) => to_v6::translate(self, vnet, frame, out, now),
            _ => out.drop(Dropped::Malformed),
        }
    }

    /// The pool mappings with traffic within the lease.
    pub fn mappings(&self) -> usize {
        self.addressing.live_mappings(now())
    }

    /// Every pool mapping, as dynamic.map lists them.
    pub fn pool_mappings(&self) -> Vec<Mapping> {
        self.addressing.pool_mappings()
    }

    /// Takes back mappings saved earlier; how many the pool took.
    pub fn restore(&self, mappings: &[Mapping]) -> usize {
        self.addressing.restore(mappings)
    }
}

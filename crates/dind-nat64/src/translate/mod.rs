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
mod to_v4;
mod to_v6;

#[cfg(test)]
mod tests;

use super::addr::Prefix;
use super::pool::{self, Mapping, Seconds};
use super::static_map::StaticMap;
use super::vnet::{self, VnetHdr};
use super::wire;
use addressing::Addressing;
use ipnet::Ipv4Net;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, SystemTime};

/// IPv6's minimum MTU: translated ICMPv6 errors fit in it (RFC 4443 section 2.4 (c)), and
/// IPv4 packets without DF are fragmented for it unless told otherwise (tayga's
/// `offlink-mtu`).
pub const IPV6_MIN_MTU: usize = 1280;
/// IPv4's minimum MTU (RFC 791).
pub(crate) const IPV4_MIN_MTU: usize = 68;
/// How much longer an IPv6 header is than an IPv4 one without options: what an MTU loses
/// or gains in translation (RFC 7915 sections 4.2 and 5.2).
pub(crate) const HEADER_GROWTH: usize = wire::ipv6::HEADER_LEN - wire::ipv4::HEADER_LEN;
/// The hop limit (TTL) of the messages the translator sends itself.
pub(crate) const OWN_HOP_LIMIT: u8 = 64;
/// The size ICMPv4 errors are kept to (RFC 1812 section 4.3.2.3).
pub(crate) const IPV4_ERROR_MAX: usize = 576;

/// What an IPv4 UDP datagram without a checksum becomes (tayga's `udp-cksum-mode`; RFC
/// 7915 section 4.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UdpZeroChecksum {
    /// Computed, but for fragments, which are dropped (they cannot be summed whole).
    #[default]
    Calculate,
    Drop,
    /// Sent on with none, which IPv6 hosts may refuse.
    Forward,
}

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

pub struct Translator {
    addressing: Addressing,
    own_v4: Ipv4Addr,
    own_v6: Ipv6Addr,
    mtu: usize,
    /// The largest IPv6 packet an IPv4 one without DF becomes, unfragmented.
    fragment_above: usize,
    udp_zero_checksum: UdpZeroChecksum,
    next_id: AtomicU16,
}

/// One packet to write: `head`, then `body` of the packet read.
#[derive(Debug, Default)]
pub struct Emitted {
    pub head: Vec<u8>,
    pub body: Range<usize>,
}

/// Why a packet was not translated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// Too short, lengths that disagree, an unknown IP version or a jumbogram.
    Malformed,
    /// IPv6 not to the prefix, IPv4 not to a pool address in use, or to the translator.
    NotRouted,
    /// The pool has no free address for a new IPv6 host.
    PoolExhausted,
    /// A martian IPv4 source or destination (RFC 1812 section 5.3.7).
    Martian,
    /// What RFC 7915 says to drop: ICMP types without a counterpart, fragmented ICMP,
    /// ICMP errors about ICMP errors, protocol numbers of the other family, ...
    Untranslatable,
}

/// What one packet read became.
#[derive(Debug, Default)]
pub struct Out {
    pub packets: Vec<Emitted>,
    /// Pool addresses handed out by this packet: (IPv4, IPv6 host).
    pub mapped: Vec<(Ipv4Addr, Ipv6Addr)>,
    pub dropped: Option<Dropped>,
}

impl Out {
    pub fn clear(&mut self) {
        self.packets.clear();
        self.mapped.clear();
        self.dropped = None;
    }

    fn drop(&mut self, why: Dropped) {
        self.dropped = Some(why);
    }

    /// A message made whole by the translator: a plain virtio-net header, then `packet`.
    fn emit_whole(&mut self, packet: &[u8]) {
        let mut head = Vec::with_capacity(vnet::LEN + packet.len());
        VnetHdr::default().write(&mut head);
        head.extend_from_slice(packet);
        self.packets.push(Emitted { head, body: 0..0 });
    }
}

/// The wall clock in seconds, as pool mappings are dated.
pub fn now() -> Seconds {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
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

    fn fresh_id(&self) -> u16 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

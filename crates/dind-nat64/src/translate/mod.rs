//! Stateless IP/ICMP translation (RFC 7915) between a dynamic pool of IPv4 addresses and
//! IPv6 hosts, with IPv4 hosts seen under an RFC 6052 prefix: the translator tayga is, for
//! packets in a TUN with virtio-net headers, so that TCP super-packets (GSO) cross it whole.
//!
//! A translated packet is written as a new header (`Emitted::head`: virtio-net header, IP
//! header, maybe a fragment header) followed by a range of the packet read (`body`), which
//! the translation changed in place (checksums, ICMP types). Messages the translator makes
//! itself (ICMP errors, echo replies, translated ICMP errors) are all head.

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
use super::pool::{Assigned, Pool};
use super::vnet::{self, VnetHdr};
use super::wire;
use ipnet::Ipv4Net;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::RwLock;

/// IPv6's minimum MTU: translated ICMPv6 errors fit in it (RFC 4443 section 2.4 (c)).
pub(crate) const IPV6_MIN_MTU: usize = 1280;
/// IPv4's minimum MTU (RFC 791).
pub(crate) const IPV4_MIN_MTU: usize = 68;
/// How much longer an IPv6 header is than an IPv4 one without options: what an MTU loses
/// or gains in translation (RFC 7915 sections 4.2 and 5.2).
pub(crate) const HEADER_GROWTH: usize = wire::ipv6::HEADER_LEN - wire::ipv4::HEADER_LEN;
/// The size ICMPv4 errors are kept to (RFC 1812 section 4.3.2.3).
pub(crate) const IPV4_ERROR_MAX: usize = 576;

pub struct Settings {
    pub prefix: Prefix,
    /// The translator's own IPv4 address (tayga's ipv4-addr); under the prefix, its IPv6
    /// address.
    pub own_v4: Ipv4Addr,
    pub pool: Ipv4Net,
    /// The TUN's MTU: the largest IPv6 packet written (GSO super-packets aside).
    pub mtu: usize,
}

pub struct Translator {
    prefix: Prefix,
    own_v4: Ipv4Addr,
    own_v6: Ipv6Addr,
    mtu: usize,
    pool: RwLock<Pool>,
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
    /// What RFC 7915 says to drop: ICMP types without a counterpart, fragmented ICMP,
    /// fragmented UDP with a zero checksum, ...
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

impl Translator {
    pub fn new(settings: Settings) -> Translator {
        Translator {
            prefix: settings.prefix,
            own_v4: settings.own_v4,
            own_v6: settings.prefix.embed(settings.own_v4),
            mtu: settings.mtu,
            pool: RwLock::new(Pool::new(settings.pool, settings.own_v4)),
            next_id: AtomicU16::new(1),
        }
    }

    /// Translates `frame` (a virtio-net header, then an IPv4 or IPv6 packet) into `out`.
    pub fn translate(&self, frame: &mut [u8], out: &mut Out) {
        out.clear();
        let Some(vnet) = VnetHdr::parse(frame) else {
            return out.drop(Dropped::Malformed);
        };
        match wire::ip_version(&frame[vnet::LEN..]) {
            Some(6) => to_v4::translate(self, vnet, frame, out),
            Some(4) => to_v6::translate(self, vnet, frame, out),
            _ => out.drop(Dropped::Malformed),
        }
    }

    /// The pool addresses in use.
    pub fn mappings(&self) -> usize {
        self.pool.read().map(|pool| pool.len()).unwrap_or(0)
    }

    fn pool_v4_of(&self, v6: &Ipv6Addr) -> Option<Ipv4Addr> {
        self.pool.read().ok()?.v4_of(v6)
    }

    fn pool_v6_of(&self, v4: &Ipv4Addr) -> Option<Ipv6Addr> {
        self.pool.read().ok()?.v6_of(v4)
    }

    /// The IPv4 address of IPv6 host `v6`, handing out the next free one to a new host.
    fn assign(&self, v6: Ipv6Addr, out: &mut Out) -> Option<Ipv4Addr> {
        if let Some(v4) = self.pool_v4_of(&v6) {
            return Some(v4);
        }
        match self.pool.write().ok()?.assign(v6) {
            Assigned::Known(v4) => Some(v4),
            Assigned::New(v4) => {
                out.mapped.push((v4, v6));
                Some(v4)
            }
            Assigned::Exhausted => None,
        }
    }

    fn fresh_id(&self) -> u16 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// An IPv6 address in a quoted packet, in IPv4: one under the prefix is the IPv4
    /// host's, another a pool host's.
    fn quoted_v4_address(&self, v6: &Ipv6Addr) -> Option<Ipv4Addr> {
        self.prefix.extract(v6).or_else(|| self.pool_v4_of(v6))
    }

    /// An IPv4 address in a quoted packet, in IPv6: a pool address is its IPv6 host's,
    /// another is the IPv4 host's under the prefix.
    fn quoted_v6_address(&self, v4: Ipv4Addr) -> Ipv6Addr {
        self.pool_v6_of(&v4)
            .unwrap_or_else(|| self.prefix.embed(v4))
    }
}

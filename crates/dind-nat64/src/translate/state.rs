//! What every direction's translation takes: the translator's state, what a packet
//! becomes, why one is dropped, and the limits of both families.

use super::addressing::Addressing;
use crate::pool::Seconds;
use crate::vnet::{self, VnetHdr};
use crate::wire;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::SystemTime;

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

pub struct Translator {
    pub(super) addressing: Addressing,
    pub(super) own_v4: Ipv4Addr,
    pub(super) own_v6: Ipv6Addr,
    pub(super) mtu: usize,
    /// The largest IPv6 packet an IPv4 one without DF becomes, unfragmented.
    pub(super) fragment_above: usize,
    pub(super) udp_zero_checksum: UdpZeroChecksum,
    pub(super) next_id: AtomicU16,
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

    pub(super) fn drop(&mut self, why: Dropped) {
        self.dropped = Some(why);
    }

    /// A message made whole by the translator: a plain virtio-net header, then `packet`.
    pub(super) fn emit_whole(&mut self, packet: &[u8]) {
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
    pub(super) fn fresh_id(&self) -> u16 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

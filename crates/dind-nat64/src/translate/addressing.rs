//! Which address a host has in the other family: IPv4 hosts are under the RFC 6052 prefix,
//! IPv6 hosts hold a static map's IPv4 address or one of the dynamic pool's. Also what is
//! refused: martian IPv4 addresses, and non-global ones under the well-known prefix when
//! `wkpf-strict` (RFC 6052 section 3.1).

use crate::addr::Prefix;
use crate::pool::{Assigned, Mapping, Pool, Seconds};
use crate::static_map::StaticMap;
use crate::v4_scope;
use ipnet::{Ipv4Net, Ipv6Net};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::RwLock;
use std::time::Duration;

/// Why an address has no counterpart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unmapped {
    /// Not the translator's to translate.
    NotRouted,
    /// An IPv4 address no packet may carry.
    Martian,
    /// A non-global IPv4 address under the well-known prefix.
    NonGlobal,
    /// A pool address no host holds.
    NoMapping,
    PoolExhausted,
}

pub(crate) struct Addressing {
    prefix: Prefix,
    /// The prefix is 64:ff9b::/96 and `wkpf-strict` is on.
    refuse_non_global: bool,
    statics: Vec<StaticMap>,
    pool: RwLock<Pool>,
}

impl Addressing {
    pub(crate) fn new(
        prefix: Prefix,
        wkpf_strict: bool,
        statics: Vec<StaticMap>,
        (pool, own_v4, lease): (Ipv4Net, Ipv4Addr, Duration),
    ) -> Addressing {
        let well_known: Ipv6Net = "64:ff9b::/96".parse().expect("the well-known prefix");
        let mut reserved = vec![Ipv4Net::from(own_v4)];
        reserved.extend(statics.iter().map(|map| map.v4()));
        Addressing {
            prefix,
            refuse_non_global: wkpf_strict && prefix.net() == well_known,
            statics,
            pool: RwLock::new(Pool::new(pool, reserved, lease)),
        }
    }

    pub(crate) fn prefix(&self) -> &Prefix {
        &self.prefix
    }

    /// An IPv6 packet's destination: the IPv4 host it embeds.
    pub(crate) fn v4_destination(&self, v6: &Ipv6Addr) -> Result<Ipv4Addr, Unmapped> {
        let v4 = self.prefix.extract(v6).ok_or(Unmapped::NotRouted)?;
        self.check_v4_host(v4)
    }

    /// An IPv4 packet's source: the IPv6 address it has under the prefix.
    pub(crate) fn v6_source(&self, v4: Ipv4Addr) -> Result<Ipv6Addr, Unmapped> {
        self.check_v4_host(v4).map(|v4| self.prefix.embed(v4))
    }

    fn check_v4_host(&self, v4: Ipv4Addr) -> Result<Ipv4Addr, Unmapped> {
        if v4_scope::is_martian(v4) {
            return Err(Unmapped::Martian);
        }
        if self.refuse_non_global && v4_scope::is_non_global(v4) {
            return Err(Unmapped::NonGlobal);
        }
        Ok(v4)
    }

    /// An IPv6 host's IPv4 address, if it has one: a static map's, or a live pool
    /// mapping's.
    pub(crate) fn v4_of_host(&self, v6: &Ipv6Addr, now: Seconds) -> Option<Ipv4Addr> {
        self.statics
            .iter()
            .find_map(|map| map.v4_of(v6))
            .or_else(|| self.pool.read().ok()?.v4_of(v6, now))
    }

    /// An IPv6 packet's source: its host's IPv4 address, a new one from the pool for a
    /// new host (added to `mapped`).
    pub(crate) fn v4_source(
        &self,
        v6: &Ipv6Addr,
        now: Seconds,
        mapped: &mut Vec<(Ipv4Addr, Ipv6Addr)>,
    ) -> Result<Ipv4Addr, Unmapped> {
        if let Some(v4) = self.v4_of_host(v6, now) {
            return Ok(v4);
        }
        let mut pool = self.pool.write().map_err(|_| Unmapped::PoolExhausted)?;
        match pool.assign(*v6, now) {
            Assigned::Known(v4) => Ok(v4),
            Assigned::New(v4) => {
                mapped.push((v4, *v6));
                Ok(v4)
            }
            Assigned::Exhausted => Err(Unmapped::PoolExhausted),
        }
    }

    /// An IPv4 packet's destination: the IPv6 host holding the address.
    pub(crate) fn v6_destination(&self, v4: Ipv4Addr, now: Seconds) -> Result<Ipv6Addr, Unmapped> {
        if let Some(v6) = self.statics.iter().find_map(|map| map.v6_of(v4)) {
            return Ok(v6);
        }
        let pool = self.pool.read().map_err(|_| Unmapped::NotRouted)?;
        if let Some(v6) = pool.v6_of(&v4, now) {
            return Ok(v6);
        }
        Err(if pool.contains(v4) {
            Unmapped::NoMapping
        } else {
            Unmapped::NotRouted
        })
    }

    /// An IPv6 address in a quoted packet, in IPv4: an IPv4 host's under the prefix, or an
    /// IPv6 host's.
    pub(crate) fn quoted_v4(&self, v6: &Ipv6Addr, now: Seconds) -> Option<Ipv4Addr> {
        self.prefix.extract(v6).or_else(|| self.v4_of_host(v6, now))
    }

    /// An IPv4 address in a quoted packet, in IPv6: an IPv6 host's, or under the prefix.
    pub(crate) fn quoted_v6(&self, v4: Ipv4Addr, now: Seconds) -> Ipv6Addr {
        self.v6_destination(v4, now)
            .unwrap_or_else(|_| self.prefix.embed(v4))
    }

    pub(crate) fn live_mappings(&self, now: Seconds) -> usize {
        self.pool.read().map_or(0, |pool| pool.live_count(now))
    }

    pub(crate) fn pool_mappings(&self) -> Vec<Mapping> {
        self.pool.read().map_or(Vec::new(), |pool| pool.mappings())
    }

    pub(crate) fn restore(&self, mappings: &[Mapping]) -> usize {
        let Ok(mut pool) = self.pool.write() else {
            return 0;
        };
        mappings.iter().filter(|m| pool.restore(**m)).count()
    }
}

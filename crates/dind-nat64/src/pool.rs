//! tayga's dynamic pool: each IPv6 host that sends through the translator gets a free IPv4
//! address of the pool, and keeps it while it has traffic. A mapping idle for longer than
//! the lease (tayga's: two hours and four minutes) expires: its address answers for no one
//! and goes to a new host once the never-used ones run out; until then, the same host
//! coming back gets it again. The port NAT is the Docker host's IPv4 masquerade, after the
//! translator.

use ipnet::Ipv4Net;
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// tayga's `dyn_min_lease`: "just over two hours".
pub const DEFAULT_LEASE: Duration = Duration::from_secs(2 * 3600 + 4 * 60);

/// Seconds since the Unix epoch, as dynamic.map dates its entries.
pub type Seconds = u64;

struct Entry {
    v4: Ipv4Addr,
    v6: Ipv6Addr,
    last_use: AtomicU64,
}

impl Entry {
    /// Records traffic at `now`; lookups run under a shared lock, hence the atomic.
    fn touch(&self, now: Seconds) {
        if self.last_use.load(Ordering::Relaxed) < now {
            self.last_use.store(now, Ordering::Relaxed);
        }
    }

    fn live(&self, now: Seconds, lease: Seconds) -> bool {
        now.saturating_sub(self.last_use.load(Ordering::Relaxed)) <= lease
    }
}

/// One mapping, as dynamic.map lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub v4: Ipv4Addr,
    pub v6: Ipv6Addr,
    pub last_use: Seconds,
}

pub(crate) struct Pool {
    net: Ipv4Net,
    never_used: Box<dyn Iterator<Item = Ipv4Addr> + Send + Sync>,
    /// Addresses the pool must not hand out: the translator's own, static maps'.
    reserved: Vec<Ipv4Net>,
    by_v6: HashMap<Ipv6Addr, Arc<Entry>>,
    by_v4: HashMap<Ipv4Addr, Arc<Entry>>,
    lease: Seconds,
}

/// What `assign` did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Assigned {
    Known(Ipv4Addr),
    New(Ipv4Addr),
    Exhausted,
}

impl Pool {
    /// The pool's host addresses, less `reserved` ones.
    pub(crate) fn new(net: Ipv4Net, reserved: Vec<Ipv4Net>, lease: Duration) -> Pool {
        Pool {
            net,
            never_used: Box::new(net.hosts()),
            reserved,
            by_v6: HashMap::new(),
            by_v4: HashMap::new(),
            lease: lease.as_secs(),
        }
    }

    /// Is `v4` one of the addresses the pool hands out (a host address, not reserved)?
    pub(crate) fn contains(&self, v4: Ipv4Addr) -> bool {
        let ends =
            self.net.prefix_len() < 31 && (v4 == self.net.network() || v4 == self.net.broadcast());
        self.net.contains(&v4) && !ends && !self.is_reserved(v4)
    }

    fn is_reserved(&self, v4: Ipv4Addr) -> bool {
        self.reserved.iter().any(|net| net.contains(&v4))
    }

    /// The address of IPv6 host `v6`, if its mapping is live; traffic at `now`.
    pub(crate) fn v4_of(&self, v6: &Ipv6Addr, now: Seconds) -> Option<Ipv4Addr> {
        let entry = self.by_v6.get(v6).filter(|e| e.live(now, self.lease))?;
        entry.touch(now);
        Some(entry.v4)
    }

    /// The IPv6 host holding `v4`, if its mapping is live; traffic at `now`.
    pub(crate) fn v6_of(&self, v4: &Ipv4Addr, now: Seconds) -> Option<Ipv6Addr> {
        let entry = self.by_v4.get(v4).filter(|e| e.live(now, self.lease))?;
        entry.touch(now);
        Some(entry.v6)
    }

    /// The address of `v6`, handing out a free one to a new host.
    pub(crate) fn assign(&mut self, v6: Ipv6Addr, now: Seconds) -> Assigned {
        if let Some(entry) = self.by_v6.get(&v6) {
            entry.touch(now);
            return Assigned::Known(entry.v4);
        }
        let Some(v4) = self.next_free(now) else {
            return Assigned::Exhausted;
        };
        self.insert(v4, v6, now);
        Assigned::New(v4)
    }

    /// A never-used address, else the one whose mapping expired longest ago.
    fn next_free(&mut self, now: Seconds) -> Option<Ipv4Addr> {
        while let Some(v4) = self.never_used.next() {
            if !self.is_reserved(v4) && !self.by_v4.contains_key(&v4) {
                return Some(v4);
            }
        }
        let oldest = self
            .by_v4
            .values()
            .filter(|entry| !entry.live(now, self.lease))
            .min_by_key(|entry| entry.last_use.load(Ordering::Relaxed))
            .map(|entry| (entry.v4, entry.v6))?;
        self.by_v4.remove(&oldest.0);
        self.by_v6.remove(&oldest.1);
        Some(oldest.0)
    }

    fn insert(&mut self, v4: Ipv4Addr, v6: Ipv6Addr, last_use: Seconds) {
        let entry = Arc::new(Entry {
            v4,
            v6,
            last_use: AtomicU64::new(last_use),
        });
        self.by_v6.insert(v6, Arc::clone(&entry));
        self.by_v4.insert(v4, entry);
    }

    /// Takes back a mapping saved earlier (dynamic.map), unless its address is not the
    /// pool's to give or either side is already mapped.
    pub(crate) fn restore(&mut self, mapping: Mapping) -> bool {
        let free = self.contains(mapping.v4)
            && !self.by_v4.contains_key(&mapping.v4)
            && !self.by_v6.contains_key(&mapping.v6);
        if free {
            self.insert(mapping.v4, mapping.v6, mapping.last_use);
        }
        free
    }

    /// Every mapping, live or expired, in address order.
    pub(crate) fn mappings(&self) -> Vec<Mapping> {
        let mut all: Vec<Mapping> = self
            .by_v4
            .values()
            .map(|entry| Mapping {
                v4: entry.v4,
                v6: entry.v6,
                last_use: entry.last_use.load(Ordering::Relaxed),
            })
            .collect();
        all.sort_by_key(|mapping| mapping.v4);
        all
    }

    pub(crate) fn live_count(&self, now: Seconds) -> usize {
        let lease = self.lease;
        self.by_v4.values().filter(|e| e.live(now, lease)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Seconds = 1_700_000_000;
    const LEASE: Seconds = DEFAULT_LEASE.as_secs();

    fn host(last: u16) -> Ipv6Addr {
        Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, last)
    }

    fn small_pool() -> Pool {
        let own = "10.0.0.2/32".parse().unwrap();
        Pool::new("10.0.0.0/30".parse().unwrap(), vec![own], DEFAULT_LEASE)
    }

    #[test]
    fn hosts_get_the_pools_addresses_in_order_and_keep_them() {
        let mut pool = small_pool();
        let first = Ipv4Addr::new(10, 0, 0, 1);
        assert_eq!(pool.assign(host(1), NOW), Assigned::New(first));
        assert_eq!(pool.assign(host(1), NOW), Assigned::Known(first));
        // .2 is the translator's own, .3 the broadcast address: .1 was the only one.
        assert_eq!(pool.assign(host(2), NOW), Assigned::Exhausted);
        assert_eq!(pool.v6_of(&first, NOW), Some(host(1)));
        assert_eq!(pool.v4_of(&host(3), NOW), None);
        assert_eq!(pool.live_count(NOW), 1);
    }

    #[test]
    fn a_mapping_idle_past_the_lease_expires_and_its_address_goes_to_a_new_host() {
        let mut pool = small_pool();
        let first = Ipv4Addr::new(10, 0, 0, 1);
        pool.assign(host(1), NOW);
        // Traffic either way keeps it.
        let later = NOW + LEASE;
        assert_eq!(pool.v6_of(&first, later), Some(host(1)));
        let idle_until = later + LEASE + 1;
        assert_eq!(pool.v6_of(&first, idle_until), None, "expired");
        assert_eq!(pool.v4_of(&host(1), idle_until), None);
        assert_eq!(pool.live_count(idle_until), 0);
        assert_eq!(pool.assign(host(2), idle_until), Assigned::New(first));
        assert_eq!(pool.v6_of(&first, idle_until), Some(host(2)));
    }

    #[test]
    fn an_expired_host_coming_back_before_its_address_is_taken_gets_it_again() {
        let mut pool = small_pool();
        pool.assign(host(1), NOW);
        let back = NOW + LEASE + 60;
        let first = Ipv4Addr::new(10, 0, 0, 1);
        assert_eq!(pool.assign(host(1), back), Assigned::Known(first));
        assert_eq!(pool.v6_of(&first, back), Some(host(1)));
    }

    #[test]
    fn the_longest_expired_address_is_taken_first() {
        let mut pool = Pool::new("10.0.0.0/29".parse().unwrap(), vec![], DEFAULT_LEASE);
        for last in 1..=6 {
            pool.assign(host(last), NOW + u64::from(last));
        }
        // Host 4 was idle longest once host 1 to 3 are heard from again.
        let late = NOW + 10 * LEASE;
        for last in 1..=3 {
            pool.assign(host(last), late);
        }
        assert_eq!(
            pool.assign(host(9), late),
            Assigned::New(Ipv4Addr::new(10, 0, 0, 4))
        );
        assert_eq!(pool.v4_of(&host(4), late), None);
    }

    #[test]
    fn restored_mappings_keep_their_addresses_and_others_are_refused() {
        let mut pool = small_pool();
        let saved = Mapping {
            v4: Ipv4Addr::new(10, 0, 0, 1),
            v6: host(7),
            last_use: NOW - 60,
        };
        assert!(pool.restore(saved));
        assert_eq!(pool.v4_of(&host(7), NOW), Some(saved.v4));
        let own = Mapping {
            v4: Ipv4Addr::new(10, 0, 0, 2),
            ..saved
        };
        assert!(!pool.restore(own), "the translator's own address");
        let outside = Mapping {
            v4: Ipv4Addr::new(10, 9, 0, 1),
            v6: host(8),
            ..saved
        };
        assert!(!pool.restore(outside));
        assert_eq!(
            pool.assign(host(8), NOW),
            Assigned::Exhausted,
            "never handed out twice"
        );
        assert_eq!(
            pool.mappings(),
            [Mapping {
                last_use: NOW,
                ..saved
            }]
        );
    }
}

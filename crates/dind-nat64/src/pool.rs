//! tayga's dynamic pool: each IPv6 host that sends through the translator gets the next
//! free IPv4 address of the pool for as long as the translator runs. The port NAT is the
//! Docker host's IPv4 masquerade, after the translator.

use ipnet::Ipv4Net;
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

pub struct Pool {
    free: Box<dyn Iterator<Item = Ipv4Addr> + Send + Sync>,
    by_v6: HashMap<Ipv6Addr, Ipv4Addr>,
    by_v4: HashMap<Ipv4Addr, Ipv6Addr>,
}

/// What `assign` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Assigned {
    Known(Ipv4Addr),
    New(Ipv4Addr),
    Exhausted,
}

impl Pool {
    /// The pool's host addresses, less the translator's own.
    pub fn new(net: Ipv4Net, own: Ipv4Addr) -> Pool {
        Pool {
            free: Box::new(net.hosts().filter(move |host| *host != own)),
            by_v6: HashMap::new(),
            by_v4: HashMap::new(),
        }
    }

    pub fn v4_of(&self, v6: &Ipv6Addr) -> Option<Ipv4Addr> {
        self.by_v6.get(v6).copied()
    }

    pub fn v6_of(&self, v4: &Ipv4Addr) -> Option<Ipv6Addr> {
        self.by_v4.get(v4).copied()
    }

    pub fn assign(&mut self, v6: Ipv6Addr) -> Assigned {
        if let Some(v4) = self.v4_of(&v6) {
            return Assigned::Known(v4);
        }
        let Some(v4) = self.free.next() else {
            return Assigned::Exhausted;
        };
        self.by_v6.insert(v6, v4);
        self.by_v4.insert(v4, v6);
        Assigned::New(v4)
    }

    pub fn len(&self) -> usize {
        self.by_v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_v6.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_get_the_pools_addresses_in_order_and_keep_them() {
        let own = Ipv4Addr::new(10, 0, 0, 2);
        let mut pool = Pool::new("10.0.0.0/30".parse().unwrap(), own);
        let (a, b, c): (Ipv6Addr, Ipv6Addr, Ipv6Addr) = (
            "fd00::a".parse().unwrap(),
            "fd00::b".parse().unwrap(),
            "fd00::c".parse().unwrap(),
        );
        assert_eq!(pool.assign(a), Assigned::New(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(pool.assign(a), Assigned::Known(Ipv4Addr::new(10, 0, 0, 1)));
        // .2 is the translator's own, .3 the broadcast address: .1 was the only one.
        assert_eq!(pool.assign(b), Assigned::Exhausted);
        assert_eq!(pool.v6_of(&Ipv4Addr::new(10, 0, 0, 1)), Some(a));
        assert_eq!(pool.v4_of(&c), None);
        assert_eq!(pool.len(), 1);
    }
}

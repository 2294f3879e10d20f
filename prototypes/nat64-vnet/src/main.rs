//! Prototype NAT64 translator (dind issue 12, step 2): a TUN device with IFF_VNET_HDR and
//! TCP segmentation offload for IPv4, so a 64 KB TCP super-packet the kernel has not
//! segmented is translated once (RFC 7915 header translation, RFC 6052 /96 embedding) and
//! handed back to the kernel as one IPv6 GSO packet.
//!
//! Scope of the prototype: TCP, UDP and ICMP echo; no fragments, no IPv6 extension
//! headers, no ICMP errors, no persistence of the pool. Each IPv6 source gets the next free
//! address of the dynamic pool (tayga's semantics: the host's IPv4 MASQUERADE does the port
//! NAT afterwards).
//!
//!     nat64-vnet --tun NAME --prefix fd00:10:64:ff9b:: --pool 10.100.49.128/25 [--no-offload]
//!
//! The device is created here (not persistent); the caller brings it up and routes the
//! prefix and the pool onto it.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

const IFF_TUN: libc::c_short = 0x0001;
const IFF_NO_PI: libc::c_short = 0x1000;
const IFF_VNET_HDR: libc::c_short = 0x4000;
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const TUNSETOFFLOAD: libc::c_ulong = 0x4004_54d0;
const TUN_F_CSUM: libc::c_uint = 0x01;
const TUN_F_TSO4: libc::c_uint = 0x02;

/// struct virtio_net_hdr (legacy, native endian).
const VNET_LEN: usize = 10;
const VNET_F_NEEDS_CSUM: u8 = 1;
const GSO_TCPV4: u8 = 1;
const GSO_TCPV6: u8 = 4;
const GSO_ECN: u8 = 0x80;

const HEADROOM: usize = 64;
const BUF: usize = HEADROOM + VNET_LEN + 65536 + 64;

const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;
const ICMP6: u8 = 58;

struct Args {
    tun: String,
    prefix: [u8; 12],
    pool_base: u32,
    pool_size: u32,
    offload: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let (mut tun, mut prefix, mut pool, mut offload) = (None, None, None, true);
    while let Some(flag) = args.next() {
        if flag == "--no-offload" {
            offload = false;
            continue;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--tun" => tun = Some(value),
            "--prefix" => prefix = Some(value),
            "--pool" => pool = Some(value),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    let prefix: Ipv6Addr = prefix
        .ok_or("--prefix missing")?
        .trim_end_matches("/96")
        .parse()
        .map_err(|e| format!("--prefix: {e}"))?;
    let pool = pool.ok_or("--pool missing")?;
    let (base, len) = pool.split_once('/').ok_or("--pool needs A.B.C.D/N")?;
    let base: Ipv4Addr = base.parse().map_err(|e| format!("--pool: {e}"))?;
    let len: u32 = len.parse().map_err(|e| format!("--pool: {e}"))?;
    if !(8..=30).contains(&len) {
        return Err("--pool: prefix length must be 8..=30".into());
    }
    let mut p = [0u8; 12];
    p.copy_from_slice(&prefix.octets()[..12]);
    Ok(Args {
        tun: tun.ok_or("--tun missing")?,
        prefix: p,
        pool_base: u32::from(base),
        pool_size: 1 << (32 - len),
        offload,
    })
}

fn open_tun(name: &str, offload: bool) -> std::io::Result<libc::c_int> {
    #[repr(C)]
    struct IfReq {
        name: [u8; 16],
        flags: libc::c_short,
        _pad: [u8; 22],
    }
    let fd = unsafe { libc::open(c"/dev/net/tun".as_ptr(), libc::O_RDWR) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut req = IfReq {
        name: [0; 16],
        flags: IFF_TUN | IFF_NO_PI | IFF_VNET_HDR,
        _pad: [0; 22],
    };
    req.name[..name.len().min(15)].copy_from_slice(&name.as_bytes()[..name.len().min(15)]);
    if unsafe { libc::ioctl(fd, TUNSETIFF, &mut req) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if unsafe {
        libc::ioctl(
            fd,
            TUNSETOFFLOAD,
            if offload { TUN_F_CSUM | TUN_F_TSO4 } else { 0 },
        )
    } < 0
    {
        return Err(std::io::Error::last_os_error());
    }
    Ok(fd)
}

/// One's complement sum of 16-bit big-endian words.
fn sum16(data: &[u8]) -> u32 {
    let mut sum = 0u32;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The checksum field after the pseudo-header's address words changed from `old` to
/// `new` (sums of 16-bit words). A complete checksum holds the complement of the sum, a
/// partial one (the kernel's CHECKSUM_PARTIAL) the pseudo-header sum itself.
fn adjust(field: u16, old: u32, new: u32, partial: bool) -> u16 {
    let old = fold(old);
    let new = fold(new);
    if partial {
        fold(u32::from(field) + u32::from(!old) + u32::from(new))
    } else {
        !fold(u32::from(!field) + u32::from(!old) + u32::from(new))
    }
}

struct Pool {
    base: u32,
    size: u32,
    next: u32,
    by_v6: HashMap<[u8; 16], [u8; 4]>,
    by_v4: HashMap<[u8; 4], [u8; 16]>,
}

impl Pool {
    fn v4_for(&mut self, v6: [u8; 16]) -> Option<[u8; 4]> {
        if let Some(v4) = self.by_v6.get(&v6) {
            return Some(*v4);
        }
        if self.next >= self.size - 1 {
            return None;
        }
        let v4 = (self.base + self.next).to_be_bytes();
        self.next += 1;
        self.by_v6.insert(v6, v4);
        self.by_v4.insert(v4, v6);
        eprintln!(
            "nat64-vnet: assigned new pool address {} ({})",
            Ipv4Addr::from(v4),
            Ipv6Addr::from(v6)
        );
        Some(v4)
    }
}

struct Translator {
    prefix: [u8; 12],
    pool: Pool,
}

/// Where the translated packet (vnet header first) lies in the buffer.
/// The header offsets' change and the new TCP GSO type go with it.
type Out = (std::ops::Range<usize>, (i32, u8));

impl Translator {
    /// Translates the packet at buf[start..end] (vnet header at `start`) in place.
    /// The new IP header may overlap the old vnet header: that one is read first.
    fn translate(
        &mut self,
        buf: &mut [u8],
        start: usize,
        end: usize,
    ) -> Option<std::ops::Range<usize>> {
        let ip = start + VNET_LEN;
        let vnet: [u8; VNET_LEN] = buf.get(start..ip)?.try_into().ok()?;
        let out = match buf.get(ip)? >> 4 {
            6 => self.six_to_four(buf, start, end),
            4 => self.four_to_six(buf, start, end),
            _ => None,
        }?;
        let (delta, gso) = out.1;
        let v = translated_vnet(vnet, delta, gso);
        buf[out.0.start..out.0.start + VNET_LEN].copy_from_slice(&v);
        Some(out.0)
    }

    fn six_to_four(&mut self, buf: &mut [u8], start: usize, end: usize) -> Option<Out> {
        let ip = start + VNET_LEN;
        if end < ip + 40 {
            return None;
        }
        let h: [u8; 40] = buf[ip..ip + 40].try_into().ok()?;
        let payload_len = usize::from(u16::from_be_bytes([h[4], h[5]]));
        let proto = h[6];
        let hop = h[7];
        if hop <= 1 || ip + 40 + payload_len > end || payload_len + 20 > 0xffff {
            return None;
        }
        if h[24..36] != self.prefix {
            return None;
        }
        let src6: [u8; 16] = h[8..24].try_into().ok()?;
        let dst4: [u8; 4] = h[36..40].try_into().ok()?;
        let src4 = self.pool.v4_for(src6)?;
        let l4 = ip + 40;
        let partial = buf[start] & VNET_F_NEEDS_CSUM != 0;
        let new_proto = match proto {
            TCP | UDP => {
                let (at, field) = checksum_field(buf, l4, proto, end)?;
                let mut c = adjust(
                    field,
                    sum16(&h[8..40]),
                    sum16(&src4) + sum16(&dst4),
                    partial,
                );
                if proto == UDP && c == 0 && !partial {
                    c = 0xffff;
                }
                buf[at..at + 2].copy_from_slice(&c.to_be_bytes());
                proto
            }
            ICMP6 => {
                echo(&mut buf[l4..l4 + payload_len], &[(128, 8), (129, 0)], 0)?;
                ICMP
            }
            _ => return None,
        };
        let v4 = l4 - 20;
        let tos = (h[0] << 4) | (h[1] >> 4);
        let total = (payload_len + 20) as u16;
        let hdr = &mut buf[v4..v4 + 20];
        hdr[0] = 0x45;
        hdr[1] = tos;
        hdr[2..4].copy_from_slice(&total.to_be_bytes());
        hdr[4..6].copy_from_slice(&[0, 0]);
        hdr[6..8].copy_from_slice(&0x4000u16.to_be_bytes());
        hdr[8] = hop - 1;
        hdr[9] = new_proto;
        hdr[10..12].copy_from_slice(&[0, 0]);
        hdr[12..16].copy_from_slice(&src4);
        hdr[16..20].copy_from_slice(&dst4);
        let c = !fold(sum16(hdr));
        hdr[10..12].copy_from_slice(&c.to_be_bytes());
        let vnet = v4 - VNET_LEN;
        Some((vnet..ip + 40 + payload_len, (-20, GSO_TCPV4)))
    }

    fn four_to_six(&mut self, buf: &mut [u8], start: usize, end: usize) -> Option<Out> {
        let ip = start + VNET_LEN;
        if end < ip + 20 {
            return None;
        }
        let ihl = usize::from(buf[ip] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([buf[ip + 2], buf[ip + 3]]));
        let frag = u16::from_be_bytes([buf[ip + 6], buf[ip + 7]]);
        let (tos, ttl, proto) = (buf[ip + 1], buf[ip + 8], buf[ip + 9]);
        // A super-packet from the kernel may carry a total length of 0 when above 64 KB;
        // trust the read length then.
        let total = if total == 0 { end - ip } else { total };
        if ihl < 20 || ip + total > end || total < ihl || frag & 0x3fff != 0 || ttl <= 1 {
            return None;
        }
        let src4: [u8; 4] = buf[ip + 12..ip + 16].try_into().ok()?;
        let dst4: [u8; 4] = buf[ip + 16..ip + 20].try_into().ok()?;
        let dst6 = *self.pool.by_v4.get(&dst4)?;
        let mut src6 = [0u8; 16];
        src6[..12].copy_from_slice(&self.prefix);
        src6[12..].copy_from_slice(&src4);
        let l4 = ip + ihl;
        let payload_len = total - ihl;
        let partial = buf[start] & VNET_F_NEEDS_CSUM != 0;
        let new_proto = match proto {
            TCP | UDP => {
                let (at, field) = checksum_field(buf, l4, proto, end)?;
                let c = if proto == UDP && field == 0 && !partial {
                    let msg = &buf[l4..l4 + payload_len];
                    let pseudo = sum16(&src6)
                        + sum16(&dst6)
                        + payload_len as u32
                        + u32::from(UDP)
                        + sum16(msg);
                    match !fold(pseudo) {
                        0 => 0xffff,
                        c => c,
                    }
                } else {
                    adjust(
                        field,
                        sum16(&src4) + sum16(&dst4),
                        sum16(&src6) + sum16(&dst6),
                        partial,
                    )
                };
                buf[at..at + 2].copy_from_slice(&c.to_be_bytes());
                proto
            }
            ICMP => {
                let pseudo = sum16(&src6) + sum16(&dst6) + payload_len as u32 + u32::from(ICMP6);
                echo(
                    &mut buf[l4..l4 + payload_len],
                    &[(8, 128), (0, 129)],
                    pseudo,
                )?;
                ICMP6
            }
            _ => return None,
        };
        let v6 = l4 - 40;
        let hdr = &mut buf[v6..v6 + 40];
        hdr[0] = 0x60 | (tos >> 4);
        hdr[1] = tos << 4;
        hdr[2..4].copy_from_slice(&[0, 0]);
        hdr[4..6].copy_from_slice(&(payload_len as u16).to_be_bytes());
        hdr[6] = new_proto;
        hdr[7] = ttl - 1;
        hdr[8..24].copy_from_slice(&src6);
        hdr[24..40].copy_from_slice(&dst6);
        let vnet = v6 - VNET_LEN;
        let delta = 40 - ihl as i32;
        Some((vnet..l4 + payload_len, (delta, GSO_TCPV6)))
    }
}

/// Where the TCP or UDP checksum of the segment at `l4` lies, and its value.
fn checksum_field(buf: &[u8], l4: usize, proto: u8, end: usize) -> Option<(usize, u16)> {
    let at = l4 + if proto == TCP { 16 } else { 6 };
    let field = buf.get(at..(at + 2).min(end))?;
    Some((at, u16::from_be_bytes(field.try_into().ok()?)))
}

/// An echo request or reply given the other family's type (`types`: old, new) and a new
/// checksum over `pseudo` (ICMPv6's pseudo-header sum, 0 for ICMPv4) and the message.
fn echo(msg: &mut [u8], types: &[(u8, u8)], pseudo: u32) -> Option<()> {
    if msg.len() < 8 {
        return None;
    }
    msg[0] = types.iter().find(|(old, _)| *old == msg[0])?.1;
    msg[2..4].copy_from_slice(&[0, 0]);
    let c = !fold(pseudo + sum16(msg));
    msg[2..4].copy_from_slice(&c.to_be_bytes());
    Some(())
}

/// The vnet header of the translated packet: offsets moved by `delta`, a TCP GSO type
/// turned into the other family's.
fn translated_vnet(mut v: [u8; VNET_LEN], delta: i32, gso: u8) -> [u8; VNET_LEN] {
    let gso_type = v[1] & !GSO_ECN;
    if gso_type != 0 {
        v[1] = gso | (v[1] & GSO_ECN);
        let hdr_len = u16::from_le_bytes([v[2], v[3]]);
        v[2..4].copy_from_slice(&((i32::from(hdr_len) + delta).max(0) as u16).to_le_bytes());
    }
    if v[0] & VNET_F_NEEDS_CSUM != 0 {
        let csum_start = u16::from_le_bytes([v[6], v[7]]);
        v[6..8].copy_from_slice(&((i32::from(csum_start) + delta) as u16).to_le_bytes());
    }
    v
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("nat64-vnet: {e}");
            std::process::exit(2);
        }
    };
    let fd = match open_tun(&args.tun, args.offload) {
        Ok(fd) => fd,
        Err(e) => {
            eprintln!("nat64-vnet: cannot open tun {}: {e}", args.tun);
            std::process::exit(1);
        }
    };
    eprintln!("nat64-vnet: translating on {}", args.tun);
    let mut t = Translator {
        prefix: args.prefix,
        pool: Pool {
            base: args.pool_base,
            size: args.pool_size,
            next: 1,
            by_v6: HashMap::new(),
            by_v4: HashMap::new(),
        },
    };
    let mut buf = vec![0u8; BUF];
    let (mut dropped, mut failed) = (0u64, 0u64);
    loop {
        let n = unsafe {
            libc::read(
                fd,
                buf[HEADROOM..].as_mut_ptr().cast(),
                (BUF - HEADROOM) as libc::size_t,
            )
        };
        if n < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            eprintln!("nat64-vnet: read: {err}");
            std::process::exit(1);
        }
        let end = HEADROOM + n as usize;
        let Some(out) = t.translate(&mut buf, HEADROOM, end) else {
            dropped += 1;
            if dropped.is_power_of_two() {
                eprintln!("nat64-vnet: {dropped} packets dropped so far");
            }
            continue;
        };
        let w = unsafe { libc::write(fd, buf[out.start..].as_ptr().cast(), out.len()) };
        if w < 0 {
            failed += 1;
            if failed.is_power_of_two() {
                eprintln!(
                    "nat64-vnet: write: {} ({failed} so far), {} bytes, starting {:02x?}",
                    std::io::Error::last_os_error(),
                    out.len(),
                    &buf[out.start..(out.start + 40).min(out.end)]
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjust_matches_a_full_recomputation() {
        // A checksum over (addresses a, payload) adjusted to addresses b equals the one
        // computed over (b, payload).
        let payload = [0x12u8, 0x34, 0xab, 0xcd, 0x00, 0x01];
        let (a, b) = (
            [10u8, 0, 0, 1, 10, 0, 0, 2],
            [0xfdu8, 0, 0, 0x10, 1, 2, 3, 4],
        );
        let full = |addr: &[u8]| !fold(sum16(addr) + sum16(&payload));
        assert_eq!(adjust(full(&a), sum16(&a), sum16(&b), false), full(&b));
        let partial = |addr: &[u8]| fold(sum16(addr) + 6);
        assert_eq!(adjust(partial(&a), sum16(&a), sum16(&b), true), partial(&b));
    }

    const PREFIX: [u8; 12] = [0xfd, 0, 0, 0x10, 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0];
    const CLIENT: [u8; 16] = [0xfd, 0, 0, 0x20, 0, 0x49, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3];
    const SERVER: [u8; 4] = [198, 18, 0, 10];

    fn translator() -> Translator {
        Translator {
            prefix: PREFIX,
            pool: Pool {
                base: u32::from(Ipv4Addr::new(10, 149, 0, 128)),
                size: 128,
                next: 1,
                by_v6: HashMap::new(),
                by_v4: HashMap::new(),
            },
        }
    }

    /// A TCP segment (20-byte header, checksum 0) carrying `payload`.
    fn segment(payload: &[u8]) -> Vec<u8> {
        let mut tcp = vec![0u8; 20];
        tcp[0..4].copy_from_slice(&[0x30, 0x39, 0, 80]);
        tcp[12] = 5 << 4;
        tcp[13] = 0x18;
        tcp.extend_from_slice(payload);
        tcp
    }

    fn tcp_checksum_ok(src: &[u8], dst: &[u8], tcp: &[u8]) -> bool {
        fold(sum16(src) + sum16(dst) + u32::from(TCP) + tcp.len() as u32 + sum16(tcp)) == 0xffff
    }

    /// Puts `packet` behind an all-zero vnet header at HEADROOM: (buffer, end).
    fn framed(packet: &[u8]) -> (Vec<u8>, usize) {
        let mut buf = vec![0u8; BUF];
        let ip = HEADROOM + VNET_LEN;
        buf[ip..ip + packet.len()].copy_from_slice(packet);
        (buf, ip + packet.len())
    }

    #[test]
    fn tcp_round_trip_keeps_valid_checksums() {
        let mut t = translator();
        // Pod -> server: IPv6 to prefix + 198.18.0.10.
        let mut dst6 = [0u8; 16];
        dst6[..12].copy_from_slice(&PREFIX);
        dst6[12..].copy_from_slice(&SERVER);
        let mut tcp = segment(b"hello");
        let c =
            !fold(sum16(&CLIENT) + sum16(&dst6) + u32::from(TCP) + tcp.len() as u32 + sum16(&tcp));
        tcp[16..18].copy_from_slice(&c.to_be_bytes());
        let mut v6 = vec![0x60, 0, 0, 0];
        v6.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
        v6.extend_from_slice(&[TCP, 64]);
        v6.extend_from_slice(&CLIENT);
        v6.extend_from_slice(&dst6);
        v6.extend_from_slice(&tcp);
        let (mut buf, end) = framed(&v6);
        let out = t.translate(&mut buf, HEADROOM, end).expect("translated");
        let v4 = &buf[out.start + VNET_LEN..out.end];
        assert_eq!(v4[0], 0x45);
        assert_eq!(usize::from(u16::from_be_bytes([v4[2], v4[3]])), v4.len());
        assert_eq!(v4[8], 63, "TTL is the hop limit less one");
        assert_eq!(&v4[12..16], &[10, 149, 0, 129], "the pool's first address");
        assert_eq!(&v4[16..20], &SERVER);
        assert_eq!(fold(sum16(&v4[..20])), 0xffff, "IPv4 header checksum");
        assert!(tcp_checksum_ok(&v4[12..16], &v4[16..20], &v4[20..]));

        // Server -> pool address: back to the pod's IPv6 address.
        let mut tcp = segment(b"world!");
        let client4 = [10, 149, 0, 129];
        let c = !fold(
            sum16(&SERVER) + sum16(&client4) + u32::from(TCP) + tcp.len() as u32 + sum16(&tcp),
        );
        tcp[16..18].copy_from_slice(&c.to_be_bytes());
        let mut v4 = vec![0x45, 0];
        v4.extend_from_slice(&((20 + tcp.len()) as u16).to_be_bytes());
        v4.extend_from_slice(&[0, 0, 0x40, 0, 64, TCP, 0, 0]);
        v4.extend_from_slice(&SERVER);
        v4.extend_from_slice(&client4);
        v4.extend_from_slice(&tcp);
        let (mut buf, end) = framed(&v4);
        let out = t.translate(&mut buf, HEADROOM, end).expect("translated");
        let v6 = &buf[out.start + VNET_LEN..out.end];
        assert_eq!(v6[0] >> 4, 6);
        assert_eq!(usize::from(u16::from_be_bytes([v6[4], v6[5]])), tcp.len());
        assert_eq!(&v6[8..20], &PREFIX);
        assert_eq!(&v6[20..24], &SERVER);
        assert_eq!(&v6[24..40], &CLIENT);
        assert!(tcp_checksum_ok(&v6[8..24], &v6[24..40], &v6[40..]));
    }

    #[test]
    fn unknown_pool_address_and_foreign_prefix_are_dropped() {
        let mut t = translator();
        let mut v4 = vec![0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, TCP, 0, 0];
        v4.extend_from_slice(&SERVER);
        v4.extend_from_slice(&[10, 149, 0, 200]);
        v4.extend_from_slice(&segment(b""));
        let (mut buf, end) = framed(&v4);
        assert!(t.translate(&mut buf, HEADROOM, end).is_none());
        let mut v6 = vec![0x60, 0, 0, 0, 0, 20, TCP, 64];
        v6.extend_from_slice(&CLIENT);
        v6.extend_from_slice(&CLIENT);
        v6.extend_from_slice(&segment(b""));
        let (mut buf, end) = framed(&v6);
        assert!(t.translate(&mut buf, HEADROOM, end).is_none());
    }

    #[test]
    fn gso_header_follows_the_family() {
        let v = [
            VNET_F_NEEDS_CSUM,
            GSO_TCPV4 | GSO_ECN,
            72,
            0,
            0xa0,
            0x05,
            20,
            0,
            16,
            0,
        ];
        let w = translated_vnet(v, 20, GSO_TCPV6);
        assert_eq!(w[1], GSO_TCPV6 | GSO_ECN);
        assert_eq!(u16::from_le_bytes([w[2], w[3]]), 92, "hdr_len");
        assert_eq!(&w[4..6], &v[4..6], "gso_size kept");
        assert_eq!(u16::from_le_bytes([w[6], w[7]]), 40, "csum_start");
        assert_eq!(&w[8..10], &v[8..10], "csum_offset kept");
    }
}

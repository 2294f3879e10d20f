//! One queue of a multi-queue TUN with virtio-net headers, attached to a device the
//! container's entrypoint made (`ip tuntap add ... vnet_hdr multi_queue`).
//!
//! Written against the kernel's ioctls directly: the TUN crates do not offer attaching
//! queues with IFF_VNET_HDR and an IPv4-only TSO offload.
//!
//! The crate's one module with `unsafe` code: also where the process, PID 1 of its
//! container, learns to exit on SIGTERM.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const IFF_TUN: libc::c_short = 0x0001;
const IFF_NO_PI: libc::c_short = 0x1000;
const IFF_MULTI_QUEUE: libc::c_short = 0x0100;
const IFF_VNET_HDR: libc::c_short = 0x4000;
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const TUNSETOFFLOAD: libc::c_ulong = 0x4004_54d0;
const TUN_F_CSUM: libc::c_uint = 0x01;
const TUN_F_TSO4: libc::c_uint = 0x02;

#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    /// ifr_flags or ifr_mtu, by request.
    value: libc::c_int,
    _pad: [u8; 20],
}

impl IfReq {
    fn new(name: &str) -> io::Result<IfReq> {
        if name.is_empty() || name.len() >= libc::IFNAMSIZ {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("interface name `{name}` must have 1 to 15 bytes"),
            ));
        }
        let mut req = IfReq {
            name: [0; libc::IFNAMSIZ],
            value: 0,
            _pad: [0; 20],
        };
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        Ok(req)
    }
}

pub struct Queue {
    fd: OwnedFd,
}

impl Queue {
    /// Attaches a new queue to `name`; the kernel then hands it TCP super-packets of
    /// IPv4 and packets whose checksum is partial.
    pub fn attach(name: &str) -> io::Result<Queue> {
        // SAFETY: open(2) with a NUL-terminated path; the fd is owned below.
        let raw = unsafe { libc::open(c"/dev/net/tun".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor no one else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut req = IfReq::new(name)?;
        req.value = libc::c_int::from(IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE);
        // SAFETY: TUNSETIFF reads and writes one struct ifreq, which IfReq lays out.
        if unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF, &mut req) } < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: TUNSETOFFLOAD takes the offload flags by value.
        if unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Queue { fd })
    }

    /// One packet, virtio-net header first.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // SAFETY: reads at most buf.len() bytes into buf.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    /// One packet from two parts: a header and a body.
    pub fn write(&self, head: &[u8], body: &[u8]) -> io::Result<usize> {
        let parts = [
            libc::iovec {
                iov_base: head.as_ptr() as *mut libc::c_void,
                iov_len: head.len(),
            },
            libc::iovec {
                iov_base: body.as_ptr() as *mut libc::c_void,
                iov_len: body.len(),
            },
        ];
        let count = if body.is_empty() { 1 } else { 2 };
        // SAFETY: the iovecs point into live slices for the call's duration.
        let n = unsafe { libc::writev(self.fd.as_raw_fd(), parts.as_ptr(), count) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
}

/// The MTU of interface `name`.
pub fn mtu(name: &str) -> io::Result<usize> {
    // SAFETY: a datagram socket only to ask about an interface; owned below.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh descriptor no one else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut req = IfReq::new(name)?;
    // SAFETY: SIOCGIFMTU fills ifr_mtu of one struct ifreq.
    if unsafe { libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFMTU, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(req.value as usize)
}

/// As PID 1 of its container, the process gets SIGTERM (and SIGINT) only if it handles
/// them: it exits at once.
pub fn exit_on_termination() {
    extern "C" fn exit_now(_: libc::c_int) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(0) }
    }
    for signal in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: installs a handler that only calls _exit.
        unsafe { libc::signal(signal, exit_now as *const () as libc::sighandler_t) };
    }
}

//! dind-nat64: the NAT64 translator of `--nat64-engine dind-nat64`, run in the NAT64
//! container in tayga's place, from the same tayga.conf.
//!
//!     dind-nat64 [--config /etc/tayga.conf]
//!
//! The TUN device named by the config must exist with virtio-net headers and multiple
//! queues (`ip tuntap add dev NAME mode tun vnet_hdr multi_queue`); one thread serves each
//! queue it attaches, up to one per CPU.

use dind_nat64::conf::Conf;
use dind_nat64::translate::{Dropped, Out, Settings, Translator};
use dind_nat64::tun::{self, Queue};
use std::process::ExitCode;
use std::sync::Arc;

const DEFAULT_CONFIG: &str = "/etc/tayga.conf";
const MAX_QUEUES: usize = 4;
/// A virtio-net header and the largest IPv4 packet.
const BUFFER: usize = dind_nat64::vnet::LEN + 65535;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dind-nat64: {err}");
            ExitCode::FAILURE
        }
    }
}

fn config_path() -> Result<String, String> {
    let mut args = std::env::args().skip(1);
    let mut path = DEFAULT_CONFIG.to_string();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" | "-c" => path = args.next().ok_or("--config needs a file")?,
            other => {
                return Err(format!(
                    "unknown argument `{other}`; usage: dind-nat64 [--config FILE]"
                ))
            }
        }
    }
    Ok(path)
}

fn run() -> Result<(), String> {
    let path = config_path()?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let conf = Conf::parse(&text).map_err(|e| format!("{path}: {e}"))?;
    let device = conf.tun_device.as_str();
    let mtu = tun::mtu(device).map_err(|e| format!("no tun device {device}: {e}"))?;
    let wanted = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_QUEUES));
    let mut queues = Vec::new();
    for _ in 0..wanted {
        match Queue::attach(device) {
            Ok(queue) => queues.push(queue),
            Err(err) if queues.is_empty() => {
                return Err(format!(
                    "cannot attach to {device}: {err} (it must be made with `ip tuntap add dev {device} mode tun vnet_hdr multi_queue`)"
                ))
            }
            Err(_) => break,
        }
    }
    let translator = Arc::new(Translator::new(Settings {
        prefix: conf.prefix,
        own_v4: conf.ipv4_addr,
        pool: conf.dynamic_pool,
        mtu,
    }));
    exit_on_termination();
    eprintln!(
        "dind-nat64: translating {} <-> pool {} (own address {}) on {device}: {} queues, MTU {mtu}",
        conf.prefix.net(),
        conf.dynamic_pool,
        conf.ipv4_addr,
        queues.len()
    );
    let threads: Vec<_> = queues
        .into_iter()
        .map(|queue| {
            let translator = Arc::clone(&translator);
            std::thread::spawn(move || serve(&queue, &translator))
        })
        .collect();
    for thread in threads {
        match thread.join() {
            Ok(Err(err)) => return Err(err),
            Ok(Ok(())) => {}
            Err(_) => return Err("a queue's thread panicked".into()),
        }
    }
    Ok(())
}

/// Counts of a kind of event, logged at each power of two.
#[derive(Default)]
struct Counter(u64);

impl Counter {
    fn bump(&mut self, what: impl FnOnce(u64) -> String) {
        self.0 += 1;
        if self.0.is_power_of_two() {
            eprintln!("dind-nat64: {}", what(self.0));
        }
    }
}

fn serve(queue: &Queue, translator: &Translator) -> Result<(), String> {
    let mut buf = vec![0u8; BUFFER];
    let mut out = Out::default();
    let (mut dropped, mut failed) = (Counter::default(), Counter::default());
    loop {
        let n = queue.read(&mut buf).map_err(|e| format!("read: {e}"))?;
        translator.translate(&mut buf[..n], &mut out);
        for (v4, v6) in &out.mapped {
            eprintln!("dind-nat64: assigned new pool address {v4} ({v6})");
        }
        if let Some(why) = out.dropped {
            dropped.bump(|n| format!("{n} packets dropped so far, the last one: {}", reason(why)));
        }
        for packet in &out.packets {
            if let Err(err) = queue.write(&packet.head, &buf[packet.body.clone()]) {
                failed.bump(|n| format!("{n} packets not written so far, the last one: {err}"));
            }
        }
    }
}

fn reason(why: Dropped) -> &'static str {
    match why {
        Dropped::Malformed => "malformed",
        Dropped::NotRouted => "not to the prefix or a pool address in use",
        Dropped::PoolExhausted => "the dynamic pool is exhausted",
        Dropped::Untranslatable => "nothing to translate it to (RFC 7915)",
    }
}

/// As PID 1 of its container, the process gets SIGTERM only if it handles it.
fn exit_on_termination() {
    extern "C" fn exit_now(_: libc::c_int) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(0) }
    }
    for signal in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: installs a handler that only calls _exit.
        unsafe { libc::signal(signal, exit_now as *const () as libc::sighandler_t) };
    }
}

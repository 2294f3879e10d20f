//! The translator as a program: `dind-nat64 [--config /etc/tayga.conf]`, run in the NAT64
//! container in tayga's place, from the same tayga.conf. Both the `dind-nat64` binary and
//! dind itself run it (dind when it is started under that name), so one install of dind
//! carries the translator it uploads.
//!
//! The TUN device named by the config must exist with virtio-net headers and multiple
//! queues (`ip tuntap add dev NAME mode tun vnet_hdr multi_queue`); one thread serves each
//! queue it attaches, up to one per CPU (DIND_NAT64_QUEUES=N sets another count). A panic
//! in any of them ends the process.

use crate::conf::Conf;
use crate::dynamic_map;
use crate::translate::{Dropped, Out, Translator};
use crate::tun::{self, Queue};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DEFAULT_CONFIG: &str = "/etc/tayga.conf";
const MAX_QUEUES: usize = 4;
/// A virtio-net header and the largest IPv4 packet.
const BUFFER: usize = crate::vnet::LEN + 65535;
/// How often the pool is looked at for new mappings to save, and how often it is saved
/// regardless (for the times of last use).
const SAVE_CHECK: Duration = Duration::from_secs(10);
const SAVE_ANYWAY: Duration = Duration::from_secs(15 * 60);

/// The program's name, which dind also answers to.
pub const NAME: &str = "dind-nat64";

/// Runs the translator with the process's arguments; returns when it fails.
pub fn main() -> ExitCode {
    crate::process::exit_on_panic();
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
    let wanted = queue_count()?;
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
    let translator = Arc::new(Translator::new(conf.settings(mtu)));
    if let Some(dir) = &conf.data_dir {
        restore_mappings(dir, &translator);
        let (dir, translator) = (dir.clone(), Arc::clone(&translator));
        std::thread::spawn(move || save_mappings(&dir, &translator));
    }
    tun::exit_on_termination();
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
        // A panicking thread has ended the process already (exit_on_panic).
        if let Ok(Err(err)) = thread.join() {
            return Err(err);
        }
    }
    Ok(())
}

fn queue_count() -> Result<usize, String> {
    match std::env::var("DIND_NAT64_QUEUES") {
        Ok(text) => match text.trim().parse() {
            Ok(n @ 1..=MAX_QUEUES) => Ok(n),
            _ => Err(format!(
                "DIND_NAT64_QUEUES={text}: expected 1 to {MAX_QUEUES}"
            )),
        },
        Err(_) => Ok(std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_QUEUES))),
    }
}

/// The pool mappings of the previous run (tayga's dynamic.map in data-dir).
fn restore_mappings(dir: &Path, translator: &Translator) {
    let file = dir.join(dynamic_map::FILE_NAME);
    match dynamic_map::load(dir) {
        Ok((mappings, malformed)) => {
            let restored = translator.restore(&mappings);
            if restored + malformed > 0 {
                eprintln!(
                    "dind-nat64: restored {restored} pool mappings from {} ({} refused, {malformed} bad lines)",
                    file.display(),
                    mappings.len() - restored
                );
            }
        }
        Err(err) => eprintln!("dind-nat64: cannot read {}: {err}", file.display()),
    }
}

/// Saves the pool's mappings in `dir` when they change, and every quarter hour.
fn save_mappings(dir: &Path, translator: &Translator) {
    let mut saved = Vec::new();
    let mut saved_at: Option<Instant> = None;
    let mut failed = Counter::default();
    loop {
        std::thread::sleep(SAVE_CHECK);
        let mappings = translator.pool_mappings();
        let pairs: Vec<_> = mappings.iter().map(|m| (m.v4, m.v6)).collect();
        let stale = saved_at.is_none_or(|at| at.elapsed() >= SAVE_ANYWAY);
        if pairs == saved && !stale {
            continue;
        }
        match dynamic_map::save(dir, &mappings) {
            Ok(()) => (saved, saved_at) = (pairs, Some(Instant::now())),
            Err(err) => failed.bump(|n| {
                format!(
                    "{n} saves of {} failed so far, the last one: {err}",
                    dir.display()
                )
            }),
        }
    }
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
        Dropped::Martian => "a martian IPv4 source or destination",
        Dropped::Untranslatable => "nothing to translate it to (RFC 7915)",
    }
}

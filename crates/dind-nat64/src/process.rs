//! How the process ends: a panic in any thread ends it whole, so that Docker restarts the
//! container, instead of leaving that thread's TUN queue unserved while the others run.

/// The exit status of a process ended by a panic, as Rust's own.
pub const PANIC_EXIT: i32 = 101;

/// Reports a panic as Rust does, then exits the process.
pub fn exit_on_panic() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        eprintln!("dind-nat64: a thread panicked; exiting so that the container restarts");
        std::process::exit(PANIC_EXIT);
    }));
}

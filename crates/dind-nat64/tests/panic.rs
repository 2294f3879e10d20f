//! A panic in any thread ends the whole process, so that Docker restarts the container,
//! instead of leaving that thread's queue unserved while the others run.

use std::process::Command;
use std::time::{Duration, Instant};

/// Set in the copy of this test that plays the translator.
const CHILD: &str = "DIND_NAT64_PANIC_TEST_CHILD";
const TEST: &str = "a_panic_in_any_thread_ends_the_whole_process";

#[test]
fn a_panic_in_any_thread_ends_the_whole_process() {
    if std::env::var_os(CHILD).is_some() {
        dind_nat64::process::exit_on_panic();
        std::thread::spawn(|| panic!("a queue's thread fails"));
        // The main thread lives on, as the other queues' threads would.
        std::thread::sleep(Duration::from_secs(30));
        return;
    }
    let started = Instant::now();
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert_eq!(
        child.status.code(),
        Some(dind_nat64::process::PANIC_EXIT),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it did not wait"
    );
    assert!(stderr.contains("a queue's thread fails"), "{stderr}");
    assert!(
        stderr.contains("exiting so that the container restarts"),
        "{stderr}"
    );
}

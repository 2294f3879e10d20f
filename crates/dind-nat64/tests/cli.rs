//! The binary's failures before it touches a device: each names what is wrong. (Being an
//! integration test, it also makes `cargo test` build the binary dind uploads.)

use std::process::Command;

fn dind_nat64(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dind-nat64"))
        .args(args)
        .output()
        .expect("run dind-nat64");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs dind-nat64 on a config file holding `text`, in a directory of its own.
fn dind_nat64_with_config(text: &str) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!(
        "dind-nat64-cli-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("tayga.conf");
    std::fs::write(&conf, text).unwrap();
    let outcome = dind_nat64(&["--config", conf.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    outcome
}

#[test]
fn a_missing_config_is_named() {
    let (code, stderr) = dind_nat64(&["--config", "/nonexistent/tayga.conf"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("dind-nat64: cannot read /nonexistent/tayga.conf"),
        "{stderr}"
    );
}

#[test]
fn a_bad_config_line_is_named() {
    let (code, stderr) = dind_nat64_with_config("tun-device nat64\nprefix fd00::/33\n");
    assert_eq!(code, 1);
    assert!(stderr.contains("line 2: prefix `fd00::/33`"), "{stderr}");
    assert!(stderr.contains("RFC 6052"), "{stderr}");
}

#[test]
fn an_unknown_argument_shows_the_usage() {
    let (code, stderr) = dind_nat64(&["--tun", "x"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("usage: dind-nat64 [--config FILE]"),
        "{stderr}"
    );
}

#[test]
fn a_tun_device_that_does_not_exist_is_named() {
    let text = "tun-device dind-absent0\nipv4-addr 10.1.0.200\n\
                prefix fd00:10:64:ff9b::/96\ndynamic-pool 10.1.128.0/17\n";
    let (code, stderr) = dind_nat64_with_config(text);
    assert_eq!(code, 1);
    assert!(stderr.contains("no tun device dind-absent0"), "{stderr}");
}

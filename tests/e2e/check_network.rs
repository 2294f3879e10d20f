//! `dind check network` on healthy clusters under both AAAA policies, and with one thing
//! broken at a time: the right check fails with a useful hint, and passes again after
//! `dind up` repairs it.

use crate::support::*;
use serde_json::Value;

const ALLOW_AAAA_ID: u8 = 9;

fn check(id: u8, names: &[&str]) -> (bool, Vec<Value>) {
    check_network(id, names).unwrap_or_else(|e| panic!("{e:#}"))
}

fn find<'a>(checks: &'a [Value], check: &str, target_prefix: &str) -> &'a Value {
    checks
        .iter()
        .find(|c| {
            c["check"] == check
                && c["target"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with(target_prefix)
        })
        .unwrap_or_else(|| panic!("no {check} check for {target_prefix}: {checks:#?}"))
}

fn up_again(id: u8, extra: &[&str]) {
    let id = id.to_string();
    let mut args = vec![
        "up",
        "--no-kubernetes",
        "--cluster-id",
        &id,
        "--upstream-dns",
        WAN_V4,
    ];
    args.extend_from_slice(extra);
    let out = dind(&args, &[]);
    assert!(
        out.status.success(),
        "dind up did not repair: {}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn default_policy_passes_and_reports_the_nat64_path() {
    let _serial = serial().await;
    let _wan = Wan::start().await.expect("simulated Internet");
    let _cluster = Cluster::up(8, &[]).expect("dind up");
    let (passed, checks) = check(8, &["v4only.example.test", "dual.example.test"]);
    assert!(passed, "failed: {:?}", failed_checks(&checks));
    let dual = &find(&checks, "reach", "dual.example.test")["name"];
    assert_eq!(dual["podAaaa"][0], WAN_V4_SYNTHESIZED);
    assert_eq!(dual["hostAaaa"][0], WAN_V6, "the host sees the real AAAA");
    assert_eq!(dual["synthesized"], true);
    assert_eq!(dual["path"], "nat64");
    assert!(
        dual["nat64Mapping"]
            .as_str()
            .is_some_and(|m| m.starts_with("172.26.0.")),
        "{dual}"
    );
    assert_eq!(find(&checks, "pod→pod", "")["ok"], true);
    assert_eq!(find(&checks, "node→nat64", "")["ok"], true);

    // An AAAA-only name cannot be reached without --allow-aaaa; the hint says so.
    let (passed, checks) = check(8, &["v6only.example.test"]);
    let v6only = find(&checks, "reach", "v6only.example.test");
    assert!(passed, "no answer is what the policy prescribes: {v6only}");
    assert_eq!(v6only["name"]["expected"], "no-answer");
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_aaaa_passes_and_each_breakage_is_named_then_repaired_by_up() {
    let _serial = serial().await;
    let _wan = Wan::start().await.expect("simulated Internet");
    let engine = engine().await;
    let extra = ["--allow-aaaa", "--egress-interface", HOST_IF];
    let cluster = Cluster::up(ALLOW_AAAA_ID, &extra).expect("dind up --allow-aaaa");
    let names = [
        "v4only.example.test",
        "dual.example.test",
        "v6only.example.test",
    ];
    let (passed, checks) = check(ALLOW_AAAA_ID, &names);
    assert!(passed, "failed: {:?}", failed_checks(&checks));
    let dual = &find(&checks, "reach", "dual.example.test")["name"];
    assert_eq!(dual["podAaaa"][0], WAN_V6);
    assert_eq!(dual["path"], "direct");
    assert_eq!(
        find(&checks, "reach", "v4only.example.test")["name"]["path"],
        "nat64"
    );

    // 1. tayga stopped.
    docker()
        .await
        .stop_container(&cluster.name("tayga"), None)
        .await
        .unwrap();
    let (passed, checks) = check(ALLOW_AAAA_ID, &names);
    assert!(!passed);
    let tayga = find(&checks, "running", &cluster.name("tayga"));
    assert_eq!(tayga["ok"], false);
    assert!(
        tayga["hint"]
            .as_str()
            .unwrap()
            .contains("dind up --cluster-id 9"),
        "{tayga}"
    );
    up_again(ALLOW_AAAA_ID, &extra);
    let (passed, checks) = check(ALLOW_AAAA_ID, &names);
    assert!(passed, "after up: {:?}", failed_checks(&checks));

    // 2. The host route to NAT64's pool removed.
    sh(&[
        "ip",
        "route",
        "del",
        "172.27.0.128/25",
        "via",
        "172.27.0.200",
    ])
    .unwrap();
    let (passed, checks) = check(ALLOW_AAAA_ID, &names);
    assert!(!passed);
    assert_eq!(find(&checks, "host-route", "172.27.0.128/25")["ok"], false);
    let v4only = find(&checks, "reach", "v4only.example.test");
    assert_eq!(
        v4only["ok"], false,
        "IPv4 replies cannot come back: {v4only}"
    );
    assert!(
        v4only["hint"].as_str().unwrap().contains("host route"),
        "{v4only}"
    );
    assert_eq!(
        find(&checks, "reach", "dual.example.test")["ok"],
        true,
        "the direct path is unaffected"
    );
    up_again(ALLOW_AAAA_ID, &extra);
    assert!(check(ALLOW_AAAA_ID, &names).0, "the route is back after up");

    // 3. The MASQUERADE rule for the management prefix deleted.
    let masquerade = [
        "-t",
        "nat",
        "-D",
        "POSTROUTING",
        "-s",
        "fd00:20:9::/64",
        "-o",
        HOST_IF,
        "-m",
        "comment",
        "--comment",
        "dind:cluster=9",
        "-j",
        "MASQUERADE",
    ];
    sh(&[&["ip6tables"][..], &masquerade[..]].concat()).unwrap();
    let (passed, checks) = check(ALLOW_AAAA_ID, &names);
    assert!(!passed);
    let rules = find(&checks, "host-rules", "dind:cluster=9");
    assert!(
        rules["detail"].as_str().unwrap().contains("MASQUERADE"),
        "{rules}"
    );
    let dual = find(&checks, "reach", "dual.example.test");
    assert_eq!(
        dual["ok"], false,
        "no reply comes back without the masquerade: {dual}"
    );
    assert!(
        dual["hint"].as_str().unwrap().contains("dind:cluster=9"),
        "{dual}"
    );
    up_again(ALLOW_AAAA_ID, &extra);
    assert!(check(ALLOW_AAAA_ID, &names).0, "the rule is back after up");

    // 4. The probe node's resolv.conf pointed elsewhere.
    let node = cluster.name("kube-node-1");
    engine
        .exec_ok(
            &node,
            &[
                "sh",
                "-c",
                "echo 'nameserver fd00:99::53' > /etc/resolv.conf",
            ],
        )
        .await
        .unwrap();
    let (passed, checks) = check(ALLOW_AAAA_ID, &names);
    assert!(!passed);
    let resolver = find(&checks, "resolver", &node);
    assert!(
        resolver["detail"].as_str().unwrap().contains("fd00:99::53"),
        "{resolver}"
    );
    assert_eq!(find(&checks, "reach", "dual.example.test")["ok"], false);
    up_again(ALLOW_AAAA_ID, &extra);
    let (passed, checks) = check(ALLOW_AAAA_ID, &names);
    assert!(passed, "after up: {:?}", failed_checks(&checks));
}

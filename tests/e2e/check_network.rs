//! `dind check network` on healthy clusters under both AAAA policies, with the
//! expectation of a name taken from the cluster's upstream DNS (split horizon) or unknown,
//! and with one thing broken at a time: exactly the check for it fails (with the checks
//! that need it shown as not run), with a hint and no `error:` line, and all pass again
//! after the repair.
//!
//! Cluster ids 43 (default policy) and 44 (`--allow-aaaa`), with `--nat64-v4-prefix 10.100`
//! (NAT64 networks 10.143.0.0/16 and 10.144.0.0/16).

use crate::support::*;
use bollard::query_parameters::StopContainerOptionsBuilder;
use serde_json::Value;

const DEFAULT_ID: u8 = 43;
const ALLOW_AAAA_ID: u8 = 44;
const NAT64: &str = "10.100";
/// The default cluster's NAT64 pool and tayga's IPv4 address.
const DEFAULT_POOL: &str = "10.143.0.128/25";
const DEFAULT_TAYGA_V4: &str = "10.143.0.200";

fn check(id: u8, names: &[&str]) -> Outcome {
    run_check(id, names, None, "json")
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

/// The run exited 1 and failed exactly the checks `expected` names (check, target prefix),
/// each with a hint; the failed checks, for further assertions.
fn assert_fails_exactly<'a>(outcome: &'a Outcome, expected: &[(&str, &str)]) -> Vec<&'a Value> {
    assert!(
        !outcome.passed,
        "exit code 0 with a failure: {:#?}",
        outcome.checks
    );
    let failing: Vec<&Value> = outcome.checks.iter().filter(|c| c["ok"] == false).collect();
    let matches = |c: &Value, (check, target): (&str, &str)| {
        c["check"] == check && c["target"].as_str().unwrap_or("").starts_with(target)
    };
    let unexpected: Vec<&&Value> = failing
        .iter()
        .filter(|c| !expected.iter().any(|e| matches(c, *e)))
        .collect();
    let missing: Vec<&(&str, &str)> = expected
        .iter()
        .filter(|e| failing.iter().filter(|c| matches(c, **e)).count() != 1)
        .collect();
    assert!(
        unexpected.is_empty() && missing.is_empty(),
        "failed: {:?}\nunexpected: {unexpected:#?}\nnot failed exactly once: {missing:?}\n{}",
        failed_checks(&outcome.checks),
        outcome.stderr
    );
    for check in &failing {
        assert!(
            check["hint"].as_str().is_some_and(|h| !h.is_empty()),
            "a failed check without a hint: {check}"
        );
    }
    failing
}

fn hint(check: &Value) -> &str {
    check["hint"].as_str().unwrap_or("")
}

fn detail(check: &Value) -> &str {
    check["detail"].as_str().unwrap_or("")
}

/// `dind up` with the settings of `Cluster::up(id, extra)`.
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

/// The outcome passed; `what` and the failed checks otherwise.
fn assert_passed(outcome: &Outcome, what: &str) {
    assert!(
        outcome.passed,
        "{what}: {:?}",
        failed_checks(&outcome.checks)
    );
}

/// `dind up` repairs what a step broke: the next check passes.
fn repaired_by_up(id: u8, extra: &[&str], names: &[&str], what: &str) {
    up_again(id, extra);
    assert_passed(&check(id, names), what);
}

#[tokio::test(flavor = "multi_thread")]
async fn default_policy_passes_with_the_upstreams_view_of_names() {
    let _serial = serial().await;
    let _wan = Wan::start().await.expect("simulated Internet");
    let _cluster = Cluster::up(DEFAULT_ID, &["--nat64-v4-prefix", NAT64]).expect("dind up");
    let names = ["v4only.example.test", "dual.example.test"];
    let outcome = run_check(DEFAULT_ID, &names, Some(WAN_V4), "json");
    assert_passed(&outcome, "failed");
    let dual = &find(&outcome.checks, "reach", "dual.example.test")["name"];
    assert_eq!(dual["podAaaa"][0], WAN_V4_SYNTHESIZED);
    assert_eq!(
        dual["hostAaaa"][0], WAN_V6,
        "the resolver sees the real AAAA"
    );
    assert_eq!(dual["synthesized"], true);
    assert_eq!(dual["path"], "nat64");
    assert!(
        dual["nat64Mapping"]
            .as_str()
            .is_some_and(|m| m.starts_with("10.143.0.")),
        "{dual}"
    );
    assert_eq!(find(&outcome.checks, "pod→pod", "")["ok"], true);
    assert_eq!(find(&outcome.checks, "node→nat64", "")["ok"], true);

    // An AAAA-only name cannot be reached without --allow-aaaa; the hint says so.
    let outcome = check(DEFAULT_ID, &["v6only.example.test"]);
    let v6only = find(&outcome.checks, "reach", "v6only.example.test");
    assert!(
        outcome.passed,
        "no answer is what the policy prescribes: {v6only}"
    );
    assert_eq!(v6only["name"]["expected"], "no-answer");

    // Split horizon: app.lab.test is known only to the view the cluster forwards to. With
    // no --host-resolver the expectation comes from the cluster's --upstream-dns.
    let outcome = check(DEFAULT_ID, &[LAB_NAME, "dual.example.test"]);
    assert_passed(&outcome, "failed");
    let lab = find(&outcome.checks, "reach", LAB_NAME);
    assert_eq!(lab["name"]["expected"], "synthesized", "{lab}");
    assert_eq!(lab["name"]["hostA"][0], WAN_V4, "{lab}");
    assert_eq!(lab["name"]["podAaaa"][0], WAN_V4_SYNTHESIZED, "{lab}");
    assert!(
        detail(lab).contains(&format!("upstream {WAN_V4} sees")),
        "the expectation names where it came from: {lab}"
    );

    // Another view (a host resolver outside the lab) does not know the name: asked for it,
    // the expectation is no answer, and the pod's answer is reported as against the policy:
    // what every name showed when the expectation came from the host's own resolver.
    let outcome = run_check(DEFAULT_ID, &[LAB_NAME], Some(WAN_V4_OUTSIDE), "json");
    let lab = assert_fails_exactly(&outcome, &[("reach", LAB_NAME)])[0];
    assert_eq!(lab["name"]["expected"], "no-answer", "{lab}");
    assert!(hint(lab).contains("dns64 exclude clause"), "{lab}");

    // A resolver that refuses the name gives no expectation: unknown, and no failure.
    let outcome = run_check(
        DEFAULT_ID,
        &["dual.example.test"],
        Some(WAN_V4_OUTSIDE),
        "json",
    );
    assert_passed(&outcome, "failed");
    let dual = find(&outcome.checks, "reach", "dual.example.test");
    assert_eq!(dual["name"]["expected"], "unknown", "{dual}");
    assert_eq!(dual["name"]["matchesPolicy"], Value::Null, "{dual}");
    assert_eq!(dual["name"]["tcpConnected"], true, "{dual}");
    assert!(detail(dual).contains("REFUSED"), "{dual}");
    let table = run_check(
        DEFAULT_ID,
        &["dual.example.test"],
        Some(WAN_V4_OUTSIDE),
        "table",
    );
    assert!(table.passed, "{}{}", table.stdout, table.stderr);
    let line = table
        .stdout
        .lines()
        .find(|l| l.contains("reach dual.example.test:80"))
        .unwrap_or_else(|| panic!("no reach line:\n{}", table.stdout));
    assert!(
        line.starts_with('✓') && line.contains("expected unknown"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_breakage_is_one_failed_check_with_a_hint_then_repaired() {
    let _serial = serial().await;
    let _wan = Wan::start().await.expect("simulated Internet");
    let engine = engine().await;
    let extra = ["--nat64-v4-prefix", NAT64];
    let cluster = Cluster::up(DEFAULT_ID, &extra).expect("dind up");
    let names = ["v4only.example.test", "dual.example.test"];
    let reach = [
        ("reach", "v4only.example.test:80"),
        ("reach", "dual.example.test:80"),
    ];
    let outcome = check(DEFAULT_ID, &names);
    assert_passed(&outcome, "failed");
    let probe_node = cluster.name("kube-node-1");
    assert_eq!(find(&outcome.checks, "tools", &probe_node)["ok"], true);

    // (a) A worker stopped: the probes run from the other worker; only its `running` fails.
    let stop = StopContainerOptionsBuilder::default().t(1).build();
    docker()
        .await
        .stop_container(&probe_node, Some(stop.clone()))
        .await
        .unwrap();
    let outcome = check(DEFAULT_ID, &names);
    let stopped = assert_fails_exactly(&outcome, &[("running", probe_node.as_str())])[0];
    assert!(detail(stopped).contains("exited"), "{stopped}");
    assert!(
        hint(stopped).contains("dind up --cluster-id 43"),
        "{stopped}"
    );
    assert!(
        hint(stopped).contains(&format!("docker start {probe_node}")),
        "{stopped}"
    );
    let other = cluster.name("kube-node-2");
    assert_eq!(find(&outcome.checks, "resolver", &other)["ok"], true);
    repaired_by_up(DEFAULT_ID, &extra, &names, "after up");

    // (b) tayga stopped: what needs it is not run (DNS64 forwards through NAT64 too).
    let tayga = cluster.name("tayga");
    docker()
        .await
        .stop_container(&tayga, Some(stop.clone()))
        .await
        .unwrap();
    let outcome = check(DEFAULT_ID, &names);
    let mut expected = vec![("running", tayga.as_str()), ("node→nat64", "")];
    expected.extend(reach);
    let failing = assert_fails_exactly(&outcome, &expected);
    let running = find(&outcome.checks, "running", &tayga);
    assert!(
        hint(running).contains("dind up --cluster-id 43"),
        "{running}"
    );
    for check in failing.iter().filter(|c| c["check"] != "running") {
        assert!(
            detail(check).starts_with(&format!("not run: {tayga} is exited")),
            "{check}"
        );
    }
    repaired_by_up(DEFAULT_ID, &extra, &names, "after up");

    // (c) The host route to NAT64's pool deleted: IPv4 replies cannot come back, so every
    // name (all take NAT64 under this policy) fails with it.
    sh(&["ip", "route", "del", DEFAULT_POOL, "via", DEFAULT_TAYGA_V4]).unwrap();
    let outcome = check(DEFAULT_ID, &names);
    let mut expected = vec![("host-route", DEFAULT_POOL)];
    expected.extend(reach);
    assert_fails_exactly(&outcome, &expected);
    let route = find(&outcome.checks, "host-route", DEFAULT_POOL);
    assert!(hint(route).contains("dind up --cluster-id 43"), "{route}");
    repaired_by_up(DEFAULT_ID, &extra, &names, "the route is back after up");

    // (d) dig missing in the probe node: its `tools` fails, what runs dig there is not run,
    // the rest runs.
    engine
        .exec_ok(&probe_node, &["mv", "/usr/bin/dig", "/usr/bin/dig.away"])
        .await
        .unwrap();
    let outcome = check(DEFAULT_ID, &names);
    let mut expected = vec![("tools", probe_node.as_str()), ("node→dns64", "")];
    expected.extend(reach);
    assert_fails_exactly(&outcome, &expected);
    let tools = find(&outcome.checks, "tools", &probe_node);
    assert!(detail(tools).contains("missing: dig"), "{tools}");
    assert!(hint(tools).contains("dnsutils"), "{tools}");
    let dns64 = find(&outcome.checks, "node→dns64", "");
    assert!(
        detail(dns64).starts_with(&format!("not run: {probe_node} has no `dig`")),
        "{dns64}"
    );
    assert_eq!(find(&outcome.checks, "node→nat64", "")["ok"], true);
    assert_eq!(find(&outcome.checks, "pod→pod", "")["ok"], true);
    engine
        .exec_ok(&probe_node, &["mv", "/usr/bin/dig.away", "/usr/bin/dig"])
        .await
        .unwrap();
    let outcome = check(DEFAULT_ID, &names);
    assert_passed(&outcome, "dig is back");

    // Every node stopped (as a daemon restart leaves nodes with this restart policy): the
    // table still lists every check, nothing stops the run.
    for node in ["kube-master", "kube-node-1", "kube-node-2"] {
        docker()
            .await
            .stop_container(&cluster.name(node), Some(stop.clone()))
            .await
            .unwrap();
    }
    let table = run_check(DEFAULT_ID, &names, None, "table");
    assert!(!table.passed);
    assert!(
        table
            .stdout
            .contains("not run: kube-node-1-cluster-43 is exited"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.trim_end().ends_with("not run"),
        "the summary counts checks not run: {}",
        table.stdout
    );
    repaired_by_up(DEFAULT_ID, &extra, &names, "after up");
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_aaaa_passes_and_each_breakage_is_named_then_repaired_by_up() {
    let _serial = serial().await;
    let _wan = Wan::start().await.expect("simulated Internet");
    let engine = engine().await;
    let extra = [
        "--nat64-v4-prefix",
        NAT64,
        "--allow-aaaa",
        "--egress-interface",
        HOST_IF,
    ];
    let cluster = Cluster::up(ALLOW_AAAA_ID, &extra).expect("dind up --allow-aaaa");
    let names = [
        "v4only.example.test",
        "dual.example.test",
        "v6only.example.test",
    ];
    let outcome = check(ALLOW_AAAA_ID, &names);
    assert_passed(&outcome, "failed");
    let dual = &find(&outcome.checks, "reach", "dual.example.test")["name"];
    assert_eq!(dual["podAaaa"][0], WAN_V6);
    assert_eq!(dual["path"], "direct");
    assert_eq!(
        find(&outcome.checks, "reach", "v4only.example.test")["name"]["path"],
        "nat64"
    );

    // The MASQUERADE of the management prefix deleted, whoever wrote it: the direct path
    // fails. Docker 20.10 writes no IPv6 rules, so that MASQUERADE is dind's own. Docker 27
    // and later masquerade the network's prefix themselves, and dind adds no second rule;
    // then it is Docker's that goes, and dind's check wants its own in its place.
    let prefix = "fd00:20:44::/64";
    let ours: Vec<String> = ip6tables_lines_with("dind:cluster=44")
        .into_iter()
        .filter(|r| r.contains(&format!("-s {prefix} ")) && r.contains("MASQUERADE"))
        .collect();
    let masquerade: Vec<&str> = if docker_writes_ipv6_rules() {
        assert!(
            ours.is_empty(),
            "Docker masquerades {prefix} itself; dind must add no rule of its own: {ours:#?}"
        );
        let dockers = format!("-A POSTROUTING -s {prefix} ! -o br-dind44 -j MASQUERADE");
        assert!(
            sh(&["ip6tables-save", "-t", "nat"])
                .unwrap()
                .lines()
                .any(|l| l == dockers),
            "Docker's own `{dockers}` is missing"
        );
        vec![
            "-t",
            "nat",
            "-D",
            "POSTROUTING",
            "-s",
            prefix,
            "!",
            "-o",
            "br-dind44",
            "-j",
            "MASQUERADE",
        ]
    } else {
        assert_eq!(ours.len(), 1, "dind's MASQUERADE of {prefix}: {ours:#?}");
        vec![
            "-t",
            "nat",
            "-D",
            "POSTROUTING",
            "-s",
            prefix,
            "-o",
            HOST_IF,
            "-m",
            "comment",
            "--comment",
            "dind:cluster=44",
            "-j",
            "MASQUERADE",
        ]
    };
    sh(&[&["ip6tables"][..], &masquerade[..]].concat()).unwrap();
    let outcome = check(ALLOW_AAAA_ID, &names);
    assert_fails_exactly(
        &outcome,
        &[
            ("host-rules", "dind:cluster=44"),
            ("reach", "dual.example.test:80"),
            ("reach", "v6only.example.test:80"),
        ],
    );
    let rules = find(&outcome.checks, "host-rules", "dind:cluster=44");
    assert!(detail(rules).contains("MASQUERADE"), "{rules}");
    assert!(detail(rules).contains(prefix), "{rules}");
    let dual = find(&outcome.checks, "reach", "dual.example.test");
    assert!(hint(dual).contains("dind:cluster=44"), "{dual}");
    // `up` adds dind's own MASQUERADE of the prefix (Docker writes its rule again only when
    // it makes the network again).
    repaired_by_up(ALLOW_AAAA_ID, &extra, &names, "the rule is back after up");
    assert_eq!(
        ip6tables_lines_with("dind:cluster=44")
            .iter()
            .filter(|r| r.contains(&format!("-s {prefix} ")) && r.contains("MASQUERADE"))
            .count(),
        1,
        "dind's own MASQUERADE of {prefix} after up"
    );

    // The probe node's resolv.conf pointed elsewhere: no name resolves from its pods.
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
    let outcome = check(ALLOW_AAAA_ID, &names);
    assert_fails_exactly(
        &outcome,
        &[
            ("resolver", node.as_str()),
            ("reach", "v4only.example.test:80"),
            ("reach", "dual.example.test:80"),
            ("reach", "v6only.example.test:80"),
        ],
    );
    let resolver = find(&outcome.checks, "resolver", &node);
    assert!(detail(resolver).contains("fd00:99::53"), "{resolver}");
    repaired_by_up(ALLOW_AAAA_ID, &extra, &names, "after up");
}

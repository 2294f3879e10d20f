//! What the command line prints and how it exits, against real Docker: `get clusters` and
//! `get nodes` of a `--no-kubernetes` cluster, phase lines when stderr is a pipe (plain, and
//! GitHub Actions groups), `-q` silent on success, `-v` showing a build's output, exit code
//! 2 for invalid input with nothing created, 1 for a Docker failure, and a failed image
//! build naming its step. Needs root and a Docker daemon (`bash .ci/setup`).
//!
//! Cluster ids 68 and 69 only; ids above 13 need `--nat64-v4-prefix 10.100`.

use crate::support::*;
use dind::engine::docker::Engine;
use dind::engine::images::{self, ImageSpec};
use dind::progress::Progress;
use pretty_assertions::assert_eq;
use std::process::Output;

const NAT64: [&str; 2] = ["--nat64-v4-prefix", "10.100"];
/// Not GitHub Actions, even when the suite runs there: plain lines.
const PLAIN: (&str, &str) = ("GITHUB_ACTIONS", "false");

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

/// The container and network names Docker holds.
fn docker_objects() -> (String, String) {
    let names = |argv: &[&str]| {
        let mut names = lines(&sh(argv).expect("docker lists"))
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>();
        names.sort();
        names.join("\n")
    };
    (
        names(&["docker", "ps", "-a", "--format", "{{.Names}}"]),
        names(&["docker", "network", "ls", "--format", "{{.Name}}"]),
    )
}

/// Every phase that starts (`NAME ...`) ends (`NAME: done in 1.2s`), and the other way
/// round; returns the phase names.
fn assert_phases_start_and_end(err: &str) -> Vec<String> {
    let started: Vec<String> = err
        .lines()
        .filter_map(|l| l.strip_suffix(" ..."))
        .map(str::to_string)
        .collect();
    assert!(started.len() >= 4, "too few phases:\n{err}");
    for name in &started {
        let prefix = format!("{name}: done in ");
        let end = err.lines().find(|l| l.starts_with(&prefix));
        let seconds = end
            .and_then(|l| l[prefix.len()..].strip_suffix('s'))
            .and_then(|s| s.parse::<f64>().ok());
        assert!(seconds.is_some(), "no end line for {name:?}:\n{err}");
    }
    let ended = err.lines().filter(|l| l.contains(": done in ")).count();
    assert_eq!(ended, started.len(), "an end line without a start:\n{err}");
    assert!(
        !err.contains('✓') && !err.contains('✗') && !err.contains('\x1b'),
        "marks or escapes in plain lines:\n{err}"
    );
    started
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}",
        out.status.code(),
        stderr(out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn get_lists_clusters_and_their_nodes_and_piped_up_shows_each_phase() {
    let _serial = serial().await;
    let none = dind(&["get", "nodes", "--cluster-id", "69"], &[]);
    assert_ok(&none, "get nodes of a cluster that does not exist");
    assert_eq!(stdout(&none), "", "no nodes, no output");
    let before = dind(&["get", "clusters"], &[]);
    assert_ok(&before, "get clusters");
    assert!(
        !lines(&stdout(&before)).contains(&"68"),
        "{}",
        stdout(&before)
    );
    if stdout(&before).is_empty() {
        assert!(
            stderr(&before).contains("no dind clusters here"),
            "{}",
            stderr(&before)
        );
    }

    let mut args = up_args("68", &["--nodes", "2"]);
    args.extend(NAT64);
    let cluster = Cluster {
        id: 68,
        suffix: "-cluster-68".into(),
    };
    let out = dind(&args, &[PLAIN]);
    assert_ok(&out, "dind up");
    assert_phases_start_and_end(&stderr(&out));
    assert!(!stderr(&out).contains("::group::"), "{}", stderr(&out));

    let clusters = dind(&["get", "clusters"], &[]);
    assert_ok(&clusters, "get clusters");
    let ids: Vec<u8> = lines(&stdout(&clusters))
        .iter()
        .map(|l| l.parse().unwrap_or_else(|_| panic!("not an id: {l:?}")))
        .collect();
    assert!(ids.contains(&68), "{ids:?}");
    assert!(ids.is_sorted(), "{ids:?}");

    let expected = "kube-master-cluster-68\nkube-node-1-cluster-68\nkube-node-2-cluster-68\n";
    let nodes = dind(&["get", "nodes", "--cluster-id", "68"], &[]);
    assert_ok(&nodes, "get nodes");
    assert_eq!(stdout(&nodes), expected);
    let from_env = dind(&["get", "nodes"], &[("CLUSTER_ID", "68")]);
    assert_eq!(stdout(&from_env), expected, "CLUSTER_ID picks the cluster");
    // Each name is a container Docker runs.
    for name in lines(expected) {
        let state = sh(&["docker", "inspect", "-f", "{{.State.Running}}", name]).unwrap();
        assert_eq!(state.trim(), "true", "{name}");
    }

    let down = cluster.down();
    assert_ok(&down, "dind down");
    let after = dind(&["get", "clusters"], &[]);
    assert!(
        !lines(&stdout(&after)).contains(&"68"),
        "{}",
        stdout(&after)
    );
    assert_eq!(
        stdout(&dind(&["get", "nodes", "--cluster-id", "68"], &[])),
        ""
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn github_actions_groups_top_level_phases_and_quiet_prints_nothing() {
    let _serial = serial().await;
    let mut args = up_args("69", &["--nodes", "1"]);
    args.extend(NAT64);
    let _cluster = Cluster {
        id: 69,
        suffix: "-cluster-69".into(),
    };
    let out = dind(&args, &[("GITHUB_ACTIONS", "true")]);
    assert_ok(&out, "dind up on GitHub Actions");
    let err = stderr(&out);
    assert_phases_start_and_end(&err);
    // Groups open and close in turn, never nested, and each names the phase it holds.
    let mut open: Option<&str> = None;
    let mut groups = 0;
    for line in err.lines() {
        if let Some(name) = line.strip_prefix("::group::") {
            assert_eq!(open, None, "a group inside a group:\n{err}");
            open = Some(name);
            groups += 1;
        } else if line == "::endgroup::" {
            assert!(open.is_some(), "an endgroup without a group:\n{err}");
            open = None;
        }
    }
    assert_eq!(open, None, "a group left open:\n{err}");
    assert!(groups >= 4, "{groups} groups:\n{err}");
    for name in err.lines().filter_map(|l| l.strip_prefix("::group::")) {
        assert!(
            err.contains(&format!("::group::{name}\n{name} ...\n")),
            "group {name:?} does not start with its phase:\n{err}"
        );
    }

    // A second `up -q` changes nothing and says nothing.
    let mut quiet = args.clone();
    quiet.push("-q");
    let out = dind(&quiet, &[PLAIN]);
    assert_ok(&out, "dind up -q");
    assert_eq!(stderr(&out), "");
    assert_eq!(stdout(&out), "");
    let out = dind(&["down", "-q", "--cluster-id", "69"], &[PLAIN]);
    assert_ok(&out, "dind down -q");
    assert_eq!((stdout(&out), stderr(&out)), (String::new(), String::new()));
    assert_eq!(
        stdout(&dind(&["get", "nodes", "--cluster-id", "69"], &[])),
        ""
    );

    // A fresh `up -q` too: no phases, no notes, no summary.
    let out = dind(&quiet, &[PLAIN]);
    assert_ok(&out, "fresh dind up -q");
    assert_eq!(stderr(&out), "");
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stdout(&dind(&["get", "nodes", "--cluster-id", "69"], &[])),
        "kube-master-cluster-69\nkube-node-1-cluster-69\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_input_exits_2_naming_the_field_and_creates_nothing() {
    let _serial = serial().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cluster.yaml");
    std::fs::write(
        &file,
        "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nworkerCount: 1\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let up = |extra: &[&'static str]| {
        let mut args: Vec<&str> = up_args("68", extra);
        args.extend(NAT64);
        args.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    type Env = Vec<(&'static str, &'static str)>;
    let cases: Vec<(Vec<String>, Env, Vec<&str>)> = vec![
        (
            up(&["--nodes", "abc"]),
            vec![],
            vec!["invalid --nodes 'abc' (from flag --nodes)"],
        ),
        (
            up(&[]),
            vec![("NUM_NODES", "x")],
            vec!["invalid --nodes 'x' (from environment variable NUM_NODES)"],
        ),
        (
            [up(&[]), vec!["--config".into(), file.into()]].concat(),
            vec![],
            vec!["unknown field `workerCount`", file],
        ),
        (
            vec!["down".into(), "--cluster-id".into(), "300".into()],
            vec![],
            vec!["invalid --cluster-id '300'"],
        ),
        (
            vec!["get".into(), "nodes".into()],
            vec![("CLUSTER_ID", "sixty-eight")],
            vec!["from environment variable CLUSTER_ID"],
        ),
    ];
    let before = docker_objects();
    for (args, env, fragments) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = dind(&args, &env);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "dind {args:?} {env:?}:\n{err}");
        assert!(err.starts_with("error: "), "{err}");
        for fragment in fragments {
            assert!(err.contains(fragment), "no {fragment:?} in:\n{err}");
        }
        assert_eq!(docker_objects(), before, "dind {args:?} changed Docker");
    }
    // clap's own refusals exit 2 as well.
    let out = dind(&["up", "--no-such-flag"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = dind(&["completion", "tcsh"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // Docker out of reach is a failure, not bad input.
    let out = dind(
        &["get", "clusters"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot reach the Docker daemon"),
        "{}",
        stderr(&out)
    );
    assert_eq!(docker_objects(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn verbose_shows_the_build_output_and_a_failed_step_is_named() {
    let _serial = serial().await;
    // `-v` streams the classic builder's lines (cached layers make this quick).
    let out = dind(&["-v", "images", "build", "--no-kubernetes"], &[PLAIN]);
    assert_ok(&out, "dind -v images build --no-kubernetes");
    let err = stderr(&out);
    for image in ["dns64", "nat64", "node-base"] {
        assert!(
            err.lines()
                .any(|l| l.starts_with(&format!("  {image}| Step 1/"))),
            "no build output of {image}:\n{err}"
        );
    }
    let quiet = dind(&["images", "build", "--no-kubernetes"], &[PLAIN]);
    assert_ok(&quiet, "dind images build --no-kubernetes");
    assert!(!stderr(&quiet).contains("| Step "), "{}", stderr(&quiet));

    // A Kubernetes-style target whose RUN fails as an offline apt or curl would.
    // One RUN only: a step that succeeded would leave its layer behind as an untagged image.
    // (The builder counts the labels dind adds as a third step.)
    let dockerfile = "FROM debian:bookworm-slim AS kubernetes\n\
                      RUN echo step output before the failure && \
                          echo Could not resolve host: example.invalid >&2; exit 100\n";
    let spec = ImageSpec::new(
        "e2e-offline",
        vec![("Dockerfile".into(), dockerfile.as_bytes().to_vec())],
        Some("kubernetes"),
        Vec::new(),
    );
    let engine = Engine::connect().await.expect("docker");
    let result = Progress::hidden()
        .run("build", async |phase| {
            images::build(&engine, &spec, phase).await
        })
        .await;
    let err = format!("{:#}", result.expect_err("the RUN fails"));
    for fragment in [
        "failed at step 2/3 (RUN echo step output before the failure && echo Could not",
        "…): exit code 100",
        // The step's stdout and stderr, in the order the daemon read them.
        "its last output lines:\n",
        "\n    step output before the failure",
        "\n    Could not resolve host: example.invalid",
        "`dind up --no-kubernetes`",
        "`--node-image IMAGE`",
    ] {
        assert!(err.contains(fragment), "no {fragment:?} in:\n{err}");
    }
    assert!(
        !err.contains("pkgs.k8s.io/core"),
        "an earlier step's output:\n{err}"
    );
    assert!(!images::exists(&engine, &spec.tag).await.unwrap());
    assert!(
        !images::exists(&engine, &format!("{}-unlabelled", spec.tag))
            .await
            .unwrap()
    );
}

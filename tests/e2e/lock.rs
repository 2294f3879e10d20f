//! The per-cluster lock: a lock whose holder is gone never blocks, a live holder makes a
//! second command wait, naming it, or fail after --lock-timeout having changed nothing, and
//! other clusters never wait. Cluster ids: 41 and 42.

use crate::support::*;
use dind::engine::lock::{lock_name, ClusterLock};
use dind::labels::LockHolder;
use dind::progress::Progress;
use std::io::BufRead;
use std::time::{Duration, Instant, SystemTime};

const NAT64: &str = "10.100";

fn up_of(id: &str) -> Vec<&str> {
    up_args(id, &["--nat64-v4-prefix", NAT64, "--nodes", "1"])
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("the host name")
        .trim()
        .to_string()
}

/// A process id that has just exited: nothing runs under it.
fn gone_pid() -> u32 {
    let mut gone = std::process::Command::new("true")
        .spawn()
        .expect("true runs");
    gone.wait().expect("true ends");
    gone.id()
}

/// The state and owner label of cluster `id`'s lock container; None when there is none.
async fn lock_of(id: u8) -> Option<(String, String)> {
    let engine = engine().await;
    let inspect = engine.inspect_container(&lock_name(id)).await.unwrap()?;
    let owner = inspect
        .config
        .and_then(|c| c.labels)
        .and_then(|l| l.get(dind::labels::OWNER).cloned())
        .unwrap_or_default();
    let state = inspect
        .state
        .and_then(|s| s.status)
        .map(|s| s.to_string())
        .unwrap_or_default();
    Some((state, owner))
}

/// Makes a lock container for cluster `id` by hand, as a holder that died would leave it:
/// created and never started, or (`exited`) run to its end and not removed.
async fn leave_lock(id: u8, holder: &LockHolder, exited: bool) {
    let name = lock_name(id);
    engine().await.remove_container(&name).await.unwrap();
    let body = bollard::models::ContainerCreateBody {
        image: Some("debian:bookworm-slim".into()),
        entrypoint: Some(vec!["true".into()]),
        labels: Some(holder.labels(id).into_iter().collect()),
        host_config: Some(bollard::models::HostConfig {
            network_mode: Some("none".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let options = bollard::query_parameters::CreateContainerOptionsBuilder::default()
        .name(&name)
        .build();
    let docker = docker().await;
    docker
        .create_container(Some(options), body)
        .await
        .expect("create a stale lock");
    if exited {
        docker.start_container(&name, None).await.expect("start it");
        wait_for(
            &format!("{name} to exit"),
            Duration::from_secs(30),
            async || {
                Ok(match lock_of(id).await {
                    Some((state, _)) if state == "exited" => Check::Done(()),
                    other => Check::NotYet(format!("{other:?}")),
                })
            },
        )
        .await
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lock_whose_holder_is_gone_does_not_block() {
    let _serial = serial().await;
    let engine = engine().await;
    let _cluster = Cluster {
        id: 41,
        suffix: "-cluster-41".into(),
    };
    engine.remove_container(&lock_name(41)).await.unwrap();

    // 1. `dind up`, killed (SIGKILL) while it holds the lock: its connection closes, and
    // the lock ends with it (Docker may still be removing it when the next up looks).
    let mut up = spawn_dind(&up_of("41"), &[]);
    let owner = format!("{}/{}", this_host(), up.id());
    let held = wait_for(
        "the killed up's lock to run",
        Duration::from_secs(60),
        async || {
            if let Some(status) = up.try_wait().unwrap() {
                anyhow::bail!("up ended ({status}) before its lock was seen");
            }
            Ok(match lock_of(41).await {
                Some((state, by)) if state == "running" && by == owner => Check::Done(()),
                other => Check::NotYet(format!("{other:?}")),
            })
        },
    )
    .await;
    up.kill().expect("SIGKILL");
    up.wait().expect("the killed up ends");
    held.unwrap();
    let out = dind(&[&up_of("41")[..], &["--lock-timeout", "60"]].concat(), &[]);
    assert!(
        out.status.success(),
        "the next up resumes: {}",
        stderr(&out)
    );
    assert_eq!(lock_of(41).await, None, "the lock ends with its command");
    assert_eq!(
        labelled(&engine, 41).await.1,
        ["kubeadm-dind-net-cluster-41"]
    );

    // 2. Created and never started by a process of this machine that is gone: removed at once.
    let pid = gone_pid();
    let dead_here = LockHolder::new("up", &this_host(), pid, SystemTime::now());
    leave_lock(41, &dead_here, false).await;
    let out = dind(&["down", "--cluster-id", "41", "--lock-timeout", "0"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "removed cluster 41's lock left by `dind up` (pid {pid} on {}",
            this_host()
        )) && stderr(&out).contains("it was never started and its holder is gone"),
        "{}",
        stderr(&out)
    );
    assert_eq!(labelled(&engine, 41).await, (vec![], vec![]), "down ran");

    // 3. Exited and not removed, its holder on another machine: removed at once.
    let elsewhere = LockHolder::new("clean", "another-host", 1, SystemTime::now());
    leave_lock(41, &elsewhere, true).await;
    let out = dind(&["down", "--cluster-id", "41", "--lock-timeout", "0"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("removed cluster 41's lock left by `dind clean` (pid 1 on another-host")
            && stderr(&out).contains("it has exited"),
        "{}",
        stderr(&out)
    );

    // 4. Created and never started, its holder on another machine (whose processes cannot
    // be seen from here): the waiter gives its start a grace period, then removes it.
    leave_lock(41, &elsewhere, false).await;
    let out = dind(&["down", "--cluster-id", "41", "--lock-timeout", "60"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cluster 41 is locked by `dind clean` (pid 1 on another-host")
            && err.contains(": it was never started\n"),
        "{err}"
    );
    assert_eq!(lock_of(41).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_lock_times_out_naming_its_holder_and_changes_nothing() {
    let _serial = serial().await;
    let engine = engine().await;
    engine.remove_container(&lock_name(42)).await.unwrap();
    let host_before = HostState::capture();
    let lock = ClusterLock::acquire(&engine, 42, "e2e-hold", Duration::ZERO, &Progress::hidden())
        .await
        .expect("the test takes the lock");
    let objects = docker_objects(&engine).await;
    let holder = format!(
        "cluster 42 is locked by `dind e2e-hold` (pid {} on {}, since ",
        std::process::id(),
        this_host()
    );
    let how = "wait longer with --lock-timeout SECONDS or DIND_LOCK_TIMEOUT=SECONDS";

    type Run<'a> = (Vec<&'a str>, &'a [(&'a str, &'a str)]);
    let runs: [Run; 3] = [
        ([&up_of("42")[..], &["--lock-timeout", "2"]].concat(), &[]),
        (
            vec!["down", "--cluster-id", "42"],
            &[("DIND_LOCK_TIMEOUT", "1")],
        ),
        (
            vec!["clean", "--cluster-id", "42", "--lock-timeout", "0"],
            &[],
        ),
    ];
    for (args, env) in runs {
        let out = dind(&args, env);
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?} went past the lock: {err}");
        assert!(
            err.contains(&format!("error: {holder}")) && err.contains(how),
            "{args:?}: {err}"
        );
    }
    assert_eq!(labelled(&engine, 42).await, (vec![], vec![]));
    assert_eq!(
        docker_objects(&engine).await,
        objects,
        "nothing was created or removed"
    );
    assert_eq!(HostState::capture(), host_before);

    // Another cluster's command does not wait.
    let out = dind(&["down", "--cluster-id", "41", "--lock-timeout", "0"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));

    lock.release().await;
    assert_eq!(lock_of(42).await, None, "released");
    let out = dind(&["down", "--cluster-id", "42", "--lock-timeout", "0"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_waiter_names_the_holder_and_goes_on_when_it_lets_go() {
    let _serial = serial().await;
    let engine = engine().await;
    engine.remove_container(&lock_name(42)).await.unwrap();
    let lock = ClusterLock::acquire(&engine, 42, "e2e-hold", Duration::ZERO, &Progress::hidden())
        .await
        .expect("the test takes the lock");

    let mut down = spawn_dind(
        &["down", "--cluster-id", "42", "--lock-timeout", "120"],
        &[],
    );
    let (lines, seen) = std::sync::mpsc::channel();
    let stderr_pipe = down.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr_pipe).lines() {
            let Ok(line) = line else { break };
            let _ = lines.send(line);
        }
    });
    let expected = format!(
        "  cluster 42 is locked by `dind e2e-hold` (pid {} on {}, since ",
        std::process::id(),
        this_host()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut stderr_lines = Vec::new();
    let line = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match seen.recv_timeout(left) {
            Ok(line) if line.starts_with(&expected) => break line,
            Ok(line) => stderr_lines.push(line),
            Err(err) => panic!("no line naming the holder ({err}); stderr: {stderr_lines:?}"),
        }
    };
    assert!(
        line.ends_with("); waiting up to 2m for it (--lock-timeout)"),
        "{line}"
    );
    assert!(
        down.try_wait().unwrap().is_none(),
        "down waits while the lock is held"
    );

    lock.release().await;
    let status = down.wait().expect("down ends");
    reader.join().expect("the reader ends");
    let mut summary = String::new();
    std::io::Read::read_to_string(&mut down.stdout.take().expect("piped stdout"), &mut summary)
        .expect("read down's stdout");
    let rest: Vec<String> = seen.try_iter().collect();
    assert!(status.success(), "{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.starts_with("Waiting for the lock of cluster 42: done in ")),
        "{rest:?}"
    );
    assert_eq!(summary, "no dind cluster 42 here; nothing to remove\n");
}

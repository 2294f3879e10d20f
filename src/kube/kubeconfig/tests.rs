//! src/kube/kubeconfig.rs: admin.conf rewritten into dind's entry, merged into and removed
//! from the user's kubeconfig. Inputs and expected outputs are in tests/golden/kubeconfig/.

use crate::kube::kubeconfig::{
    merge, merge_into_file, rewrite_admin, target_path, unmerge, unmerge_from_file,
};
use crate::test_support::assert_golden;
use pretty_assertions::assert_eq;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use yaml_serde::Value;

const SERVER: &str = "https://[::1]:40123";

/// An input file of tests/golden/kubeconfig/.
fn input(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/kubeconfig")
        .join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn admin_conf() -> String {
    input("admin.conf")
}

fn existing_kind() -> String {
    input("existing-kind.yaml")
}

/// dind's entry for cluster `name`, from the golden admin.conf.
fn ours(name: &str, server: &str) -> String {
    rewrite_admin(&admin_conf(), name, server).expect("the golden admin.conf is accepted")
}

fn parse(text: &str) -> Value {
    yaml_serde::from_str(text).unwrap_or_else(|e| panic!("not YAML ({e}):\n{text}"))
}

/// The names of the entries of `section` ("clusters", "users", "contexts"), in order.
fn names(text: &str, section: &str) -> Vec<String> {
    parse(text)[section]
        .as_sequence()
        .unwrap_or_else(|| panic!("no {section} list in:\n{text}"))
        .iter()
        .map(|e| e["name"].as_str().expect("entry name").to_string())
        .collect()
}

/// The entry of `section` named `name`.
fn entry(text: &str, section: &str, name: &str) -> Value {
    parse(text)[section]
        .as_sequence()
        .and_then(|list| list.iter().find(|e| e["name"].as_str() == Some(name)))
        .unwrap_or_else(|| panic!("no {section} entry {name} in:\n{text}"))
        .clone()
}

fn current_context(text: &str) -> Option<String> {
    parse(text)
        .get("current-context")
        .map(|v| v.as_str().expect("current-context is a string").to_string())
}

/// The error and its causes, as anyhow's `{:#}` prints them.
fn error_text<T: std::fmt::Debug>(result: anyhow::Result<T>) -> String {
    format!("{:#}", result.expect_err("expected an error"))
}

fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected {needle:?} in:\n{haystack}"
    );
}

// ---- rewrite_admin ----

#[test]
fn golden_rewrite_admin_ipv6() {
    let out = ours("dind", SERVER);
    assert_golden("kubeconfig/rewrite-ipv6.yaml", &out);

    let doc = parse(&out);
    assert_eq!(doc["apiVersion"], "v1");
    assert_eq!(doc["kind"], "Config");
    assert_eq!(doc["current-context"], "dind");
    for section in ["clusters", "users", "contexts"] {
        assert_eq!(names(&out, section), ["dind"], "{section}");
    }
    let admin = parse(&admin_conf());
    let cluster = &doc["clusters"][0]["cluster"];
    assert_eq!(cluster["server"], SERVER);
    assert_eq!(
        cluster["certificate-authority-data"],
        admin["clusters"][0]["cluster"]["certificate-authority-data"]
    );
    assert_eq!(doc["users"][0]["user"], admin["users"][0]["user"]);
    let context = &doc["contexts"][0]["context"];
    assert_eq!(context["cluster"], "dind");
    assert_eq!(context["user"], "dind");
    // Nothing of kubeadm's names is left.
    assert!(!out.contains("kubernetes-admin"), "{out}");
    assert!(!out.contains("fd00:20::2"), "{out}");
}

#[test]
fn rewrite_admin_names_everything_after_the_cluster() {
    let out = ours("dind-cluster-3", "https://[::1]:40999");
    for section in ["clusters", "users", "contexts"] {
        assert_eq!(names(&out, section), ["dind-cluster-3"], "{section}");
    }
    assert_eq!(current_context(&out).as_deref(), Some("dind-cluster-3"));
    assert_eq!(
        parse(&out)["clusters"][0]["cluster"]["server"],
        "https://[::1]:40999"
    );
}

#[test]
fn rewrite_admin_takes_the_cluster_and_user_of_the_current_context() {
    // A second cluster and user ahead of kubeadm's: the current context decides.
    let admin = admin_conf()
        .replace(
            "clusters:\n",
            "clusters:\n- cluster:\n    certificate-authority-data: T1RIRVI=\n    server: https://other:6443\n  name: other\n",
        )
        .replace(
            "users:\n",
            "users:\n- name: other-admin\n  user:\n    client-certificate-data: T1RIRVI=\n    client-key-data: T1RIRVI=\n",
        );
    assert_eq!(names(&admin, "clusters"), ["other", "kubernetes"]);
    let out = rewrite_admin(&admin, "dind", SERVER).unwrap();
    assert_eq!(out, ours("dind", SERVER));
}

#[test]
fn rewrite_admin_refuses_text_that_is_not_yaml() {
    let err = error_text(rewrite_admin(
        "apiVersion: v1\nclusters: [\n",
        "dind",
        SERVER,
    ));
    assert_contains(&err, "admin.conf is not valid YAML");
    let err = error_text(rewrite_admin("- just\n- a list\n", "dind", SERVER));
    assert_contains(&err, "admin.conf is not a kubeconfig");
}

#[test]
fn rewrite_admin_refuses_admin_conf_without_cluster() {
    let admin = admin_conf();
    let start = admin.find("clusters:").unwrap();
    let end = admin.find("contexts:").unwrap();
    let without_clusters = format!("{}{}", &admin[..start], &admin[end..]);
    let err = error_text(rewrite_admin(&without_clusters, "dind", SERVER));
    assert_contains(&err, "admin.conf has no cluster");
}

#[test]
fn rewrite_admin_refuses_cluster_without_ca_data() {
    let without_ca: String = admin_conf()
        .lines()
        .filter(|l| !l.contains("certificate-authority-data"))
        .map(|l| format!("{l}\n"))
        .collect();
    let err = error_text(rewrite_admin(&without_ca, "dind", SERVER));
    assert_eq!(
        err,
        "admin.conf: cluster `kubernetes` has no certificate-authority-data"
    );
}

#[test]
fn rewrite_admin_refuses_admin_conf_without_user() {
    let admin = admin_conf();
    let without_users = &admin[..admin.find("users:").unwrap()];
    let err = error_text(rewrite_admin(without_users, "dind", SERVER));
    assert_contains(&err, "admin.conf has no user");
}

#[test]
fn rewrite_admin_refuses_user_without_client_credentials() {
    let without_key: String = admin_conf()
        .lines()
        .filter(|l| !l.contains("client-key-data"))
        .map(|l| format!("{l}\n"))
        .collect();
    let err = error_text(rewrite_admin(&without_key, "dind", SERVER));
    assert_eq!(
        err,
        "admin.conf: user `kubernetes-admin` has no client credentials (missing client-key-data)"
    );

    let token_only: String = admin_conf()
        .lines()
        .map(|l| match l.trim_start() {
            s if s.starts_with("client-certificate-data") => "    token: abc.def\n".to_string(),
            s if s.starts_with("client-key-data") => String::new(),
            _ => format!("{l}\n"),
        })
        .collect();
    let err = error_text(rewrite_admin(&token_only, "dind", SERVER));
    assert_contains(&err, "missing client-certificate-data and client-key-data");
}

// ---- merge ----

#[test]
fn golden_merge_into_no_file() {
    let merged = merge(None, &ours("dind", SERVER)).unwrap();
    assert_golden("kubeconfig/merge-into-empty.yaml", &merged);
    let doc = parse(&merged);
    assert_eq!(doc["apiVersion"], "v1");
    assert_eq!(doc["kind"], "Config");
    assert_eq!(doc["preferences"], parse("{}"));
    assert_eq!(doc["current-context"], "dind");
    // An empty or blank file, or one with only comments, is no file yet.
    for empty in ["", "  \n\n", "# nothing here yet\n"] {
        assert_eq!(
            merge(Some(empty), &ours("dind", SERVER)).unwrap(),
            merged,
            "{empty:?}"
        );
    }
}

#[test]
fn golden_merge_into_a_file_with_other_clusters() {
    let existing = existing_kind();
    let merged = merge(Some(&existing), &ours("dind", SERVER)).unwrap();
    assert_golden("kubeconfig/merge-into-kind.yaml", &merged);

    // Ours appended, theirs kept in order and unchanged.
    assert_eq!(names(&merged, "clusters"), ["kind-kind", "example", "dind"]);
    assert_eq!(names(&merged, "contexts"), ["kind-kind", "example", "dind"]);
    assert_eq!(names(&merged, "users"), ["kind-kind", "oidc", "dind"]);
    for (section, name) in [
        ("clusters", "kind-kind"),
        ("clusters", "example"),
        ("contexts", "kind-kind"),
        ("contexts", "example"),
        ("users", "kind-kind"),
        ("users", "oidc"),
    ] {
        assert_eq!(
            entry(&merged, section, name),
            entry(&existing, section, name),
            "{section} {name}"
        );
    }
    assert_eq!(
        entry(&merged, "clusters", "dind")["cluster"]["server"],
        SERVER
    );
    assert_eq!(parse(&merged)["preferences"], parse("colors: true"));
    assert_eq!(current_context(&merged).as_deref(), Some("dind"));
    // Top-level keys keep their order.
    let keys = |text: &str| -> Vec<String> {
        parse(text)
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(keys(&merged), keys(&existing));
}

#[test]
fn remerge_replaces_our_entries_in_place() {
    let first = merge(Some(&existing_kind()), &ours("dind", SERVER)).unwrap();
    // The same entry again: nothing changes.
    assert_eq!(merge(Some(&first), &ours("dind", SERVER)).unwrap(), first);
    // A new port: only the server line changes, nothing is duplicated.
    let again = merge(Some(&first), &ours("dind", "https://[::1]:40777")).unwrap();
    assert_eq!(
        again,
        first.replace("https://[::1]:40123", "https://[::1]:40777")
    );
    assert_ne!(again, first);
    for section in ["clusters", "users", "contexts"] {
        assert_eq!(
            names(&again, section)
                .iter()
                .filter(|n| *n == "dind")
                .count(),
            1,
            "{section}"
        );
    }
}

#[test]
fn remerge_keeps_the_position_of_our_entries_and_makes_them_current() {
    let both = merge(
        Some(&merge(None, &ours("dind", SERVER)).unwrap()),
        &ours("dind-cluster-1", "https://[::1]:40200"),
    )
    .unwrap();
    assert_eq!(names(&both, "clusters"), ["dind", "dind-cluster-1"]);
    assert_eq!(current_context(&both).as_deref(), Some("dind-cluster-1"));

    let again = merge(Some(&both), &ours("dind", "https://[::1]:40300")).unwrap();
    for section in ["clusters", "users", "contexts"] {
        assert_eq!(
            names(&again, section),
            ["dind", "dind-cluster-1"],
            "{section}"
        );
    }
    assert_eq!(current_context(&again).as_deref(), Some("dind"));
    assert_eq!(
        entry(&again, "clusters", "dind")["cluster"]["server"],
        "https://[::1]:40300"
    );
    assert_eq!(
        entry(&again, "clusters", "dind-cluster-1"),
        entry(&both, "clusters", "dind-cluster-1")
    );
}

#[test]
fn merge_leaves_a_single_entry_of_our_name() {
    // A hand-edited file with our name twice: ours replaces the first, the other goes.
    let doubled = merge(None, &ours("dind", SERVER)).unwrap().replace(
        "clusters:\n",
        "clusters:\n- cluster:\n    server: https://stale\n  name: dind\n",
    );
    assert_eq!(names(&doubled, "clusters"), ["dind", "dind"]);
    let merged = merge(Some(&doubled), &ours("dind", SERVER)).unwrap();
    assert_eq!(names(&merged, "clusters"), ["dind"]);
    assert!(!merged.contains("stale"), "{merged}");
}

#[test]
fn merge_fills_in_missing_lists_and_header() {
    let merged = merge(
        Some("users:\n- name: someone\n  user: {}\n"),
        &ours("dind", SERVER),
    )
    .unwrap();
    let doc = parse(&merged);
    assert_eq!(doc["apiVersion"], "v1");
    assert_eq!(doc["kind"], "Config");
    assert_eq!(names(&merged, "users"), ["someone", "dind"]);
    assert_eq!(names(&merged, "clusters"), ["dind"]);
    assert_eq!(names(&merged, "contexts"), ["dind"]);
    // `clusters: null` (as kubectl writes an empty list) is an empty list.
    let merged = merge(
        Some("apiVersion: v1\nkind: Config\nclusters: null\n"),
        &ours("dind", SERVER),
    )
    .unwrap();
    assert_eq!(names(&merged, "clusters"), ["dind"]);
}

#[test]
fn merge_refuses_a_malformed_kubeconfig() {
    let ours = ours("dind", SERVER);
    let err = error_text(merge(Some("clusters: [\n"), &ours));
    assert_contains(&err, "the kubeconfig is not valid YAML");
    let err = error_text(merge(Some("- a\n- b\n"), &ours));
    assert_contains(&err, "not a mapping");
    let err = error_text(merge(Some("apiVersion: v1\nclusters: oops\n"), &ours));
    assert_contains(&err, "the kubeconfig's `clusters` is not a list");
    let err = error_text(merge(None, "apiVersion: v1\nkind: Config\n"));
    assert_contains(&err, "dind's kubeconfig entry has no `clusters` list");
}

// ---- unmerge ----

#[test]
fn golden_unmerge_back_out_of_a_file_with_other_clusters() {
    let existing = existing_kind();
    let merged = merge(Some(&existing), &ours("dind", SERVER)).unwrap();

    // current-context was ours: it goes with our entries.
    let (out, removed) = unmerge(&merged, "dind").unwrap();
    assert!(removed);
    assert_golden("kubeconfig/unmerge-from-kind.yaml", &out);
    assert_eq!(current_context(&out), None);
    assert_eq!(
        out,
        existing.replace("current-context: kind-kind\n", ""),
        "only the current context differs from the file before the merge"
    );

    // current-context was switched back to theirs: it stays, and the file is the one
    // before the merge, byte for byte.
    let switched = merged.replace("current-context: dind\n", "current-context: kind-kind\n");
    assert_ne!(switched, merged);
    let (out, removed) = unmerge(&switched, "dind").unwrap();
    assert!(removed);
    assert_eq!(out, existing);
}

#[test]
fn golden_unmerge_dind_leaves_dind_cluster_1() {
    let both = merge(
        Some(&merge(None, &ours("dind", SERVER)).unwrap()),
        &ours("dind-cluster-1", "https://[::1]:40200"),
    )
    .unwrap();
    let (out, removed) = unmerge(&both, "dind").unwrap();
    assert!(removed);
    assert_golden("kubeconfig/unmerge-keeps-dind-cluster-1.yaml", &out);
    for section in ["clusters", "users", "contexts"] {
        assert_eq!(names(&out, section), ["dind-cluster-1"], "{section}");
        assert_eq!(
            entry(&out, section, "dind-cluster-1"),
            entry(&both, section, "dind-cluster-1")
        );
    }
    assert_eq!(current_context(&out).as_deref(), Some("dind-cluster-1"));

    // And the other way round: removing dind-cluster-1 leaves dind.
    let (out, removed) = unmerge(&both, "dind-cluster-1").unwrap();
    assert!(removed);
    assert_eq!(names(&out, "clusters"), ["dind"]);
    assert_eq!(current_context(&out), None);
}

#[test]
fn unmerge_without_our_entries_changes_nothing() {
    let existing = existing_kind();
    assert_eq!(
        unmerge(&existing, "dind").unwrap(),
        (existing.clone(), false)
    );
    // Names that merely start or end like ours are not ours.
    let (out, removed) = unmerge(&existing, "kind").unwrap();
    assert!(!removed);
    assert_eq!(out, existing);
    assert_eq!(unmerge("", "dind").unwrap(), (String::new(), false));
    assert_eq!(
        unmerge("# just a comment\n", "dind").unwrap(),
        ("# just a comment\n".to_string(), false)
    );
}

#[test]
fn unmerge_removes_a_dangling_current_context() {
    let (out, removed) = unmerge(
        "apiVersion: v1\ncurrent-context: dind\nkind: Config\n",
        "dind",
    )
    .unwrap();
    assert!(removed);
    assert_eq!(out, "apiVersion: v1\nkind: Config\n");
}

#[test]
fn unmerge_refuses_a_malformed_kubeconfig() {
    let err = error_text(unmerge("users: {\n", "dind"));
    assert_contains(&err, "not valid YAML");
    let err = error_text(unmerge("apiVersion: v1\nusers: 3\n", "dind"));
    assert_contains(&err, "the kubeconfig's `users` is not a list");
}

// ---- target_path ----

#[test]
fn target_path_takes_the_first_kubeconfig_path() {
    let home = Some(Path::new("/home/alice"));
    assert_eq!(
        target_path(Some("/a/config:/b/config"), home).unwrap(),
        PathBuf::from("/a/config")
    );
    assert_eq!(
        target_path(Some("/only/config"), None).unwrap(),
        PathBuf::from("/only/config")
    );
    // Empty entries are skipped.
    assert_eq!(
        target_path(Some("::/b/config:/c/config"), home).unwrap(),
        PathBuf::from("/b/config")
    );
}

#[test]
fn target_path_falls_back_to_home() {
    let home = Some(Path::new("/home/alice"));
    let default = PathBuf::from("/home/alice/.kube/config");
    assert_eq!(target_path(None, home).unwrap(), default);
    assert_eq!(target_path(Some(""), home).unwrap(), default);
    assert_eq!(target_path(Some(":::"), home).unwrap(), default);
}

#[test]
fn target_path_needs_kubeconfig_or_home() {
    for (env, home) in [
        (None, None),
        (Some(""), None),
        (Some("::"), None),
        (None, Some(Path::new(""))),
    ] {
        let err = error_text(target_path(env, home));
        assert_contains(&err, "KUBECONFIG names no file and HOME is not set");
    }
}

// ---- files ----

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The files in `dir`, sorted: no temporary file may be left behind.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn merge_into_file_creates_the_file_0600_and_its_parents() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("home/.kube/config");
    merge_into_file(&path, &ours("dind", SERVER)).unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        merge(None, &ours("dind", SERVER)).unwrap()
    );
    assert_eq!(mode(&path), 0o600);
    assert_eq!(listing(path.parent().unwrap()), ["config"]);
}

#[test]
fn merge_into_a_pipe_writes_through_it_and_leaves_it_a_pipe() {
    // What `--kubeconfig /dev/null` relies on, on a pipe of the test's own: a file renamed
    // over the device left the machine with a regular file for /dev/null.
    use std::os::unix::fs::FileTypeExt;
    let tmp = tempfile::tempdir().unwrap();
    let pipe = tmp.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let pipe = pipe.clone();
        std::thread::spawn(move || fs::read_to_string(pipe).unwrap())
    };
    merge_into_file(&pipe, &ours("dind", SERVER)).unwrap();
    assert_eq!(
        reader.join().unwrap(),
        merge(None, &ours("dind", SERVER)).unwrap()
    );
    assert!(fs::symlink_metadata(&pipe).unwrap().file_type().is_fifo());
    assert!(!unmerge_from_file(&pipe, "dind").unwrap());
    assert_eq!(listing(tmp.path()), ["pipe"]);
}

#[test]
fn merge_into_file_keeps_the_mode_of_an_existing_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("config");
    fs::write(&path, existing_kind()).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    merge_into_file(&path, &ours("dind", SERVER)).unwrap();
    assert_eq!(mode(&path), 0o640);
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        merge(Some(&existing_kind()), &ours("dind", SERVER)).unwrap()
    );
    assert!(unmerge_from_file(&path, "dind").unwrap());
    assert_eq!(mode(&path), 0o640);
    assert_eq!(listing(tmp.path()), ["config"]);
}

#[test]
fn merge_into_file_keeps_the_owner_of_an_existing_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("config");
    fs::write(&path, existing_kind()).unwrap();
    // Only root can give a file away; elsewhere the owner is ours before and after.
    let owner = match std::os::unix::fs::chown(&path, Some(4242), Some(4343)) {
        Ok(()) => (4242, 4343),
        Err(_) => {
            let meta = fs::metadata(&path).unwrap();
            (meta.uid(), meta.gid())
        }
    };
    merge_into_file(&path, &ours("dind", SERVER)).unwrap();
    let meta = fs::metadata(&path).unwrap();
    assert_eq!((meta.uid(), meta.gid()), owner);
    assert!(unmerge_from_file(&path, "dind").unwrap());
    let meta = fs::metadata(&path).unwrap();
    assert_eq!((meta.uid(), meta.gid()), owner);
}

#[test]
fn unmerge_from_an_absent_file_is_nothing_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("no/such/config");
    assert!(!unmerge_from_file(&path, "dind").unwrap());
    assert!(!path.exists());
    assert!(!tmp.path().join("no").exists());
}

#[test]
fn unmerge_from_file_without_our_entries_leaves_it_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("config");
    // Not in yaml_serde's own layout: a rewrite would show.
    let text = "# alice's clusters\napiVersion: v1\nkind: Config\nclusters: []\n";
    fs::write(&path, text).unwrap();
    assert!(!unmerge_from_file(&path, "dind").unwrap());
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn file_round_trip_leaves_the_other_entries_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(".kube/config");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let existing = existing_kind();
    fs::write(&path, &existing).unwrap();

    merge_into_file(&path, &ours("dind", SERVER)).unwrap();
    merge_into_file(&path, &ours("dind-cluster-1", "https://[::1]:40200")).unwrap();
    let merged = fs::read_to_string(&path).unwrap();
    assert_eq!(
        names(&merged, "clusters"),
        ["kind-kind", "example", "dind", "dind-cluster-1"]
    );

    assert!(unmerge_from_file(&path, "dind-cluster-1").unwrap());
    assert!(unmerge_from_file(&path, "dind").unwrap());
    assert!(!unmerge_from_file(&path, "dind").unwrap());
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        existing.replace("current-context: kind-kind\n", "")
    );
    assert_eq!(listing(path.parent().unwrap()), ["config"]);
}

#[test]
fn merge_into_file_writes_through_a_symlink() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("dotfiles/kubeconfig");
    fs::create_dir_all(real.parent().unwrap()).unwrap();
    fs::write(&real, existing_kind()).unwrap();
    let link = tmp.path().join("config");
    std::os::unix::fs::symlink("dotfiles/kubeconfig", &link).unwrap();

    merge_into_file(&link, &ours("dind", SERVER)).unwrap();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        names(&fs::read_to_string(&real).unwrap(), "clusters").len(),
        3
    );
    assert!(unmerge_from_file(&link, "dind").unwrap());
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn file_errors_name_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("config");
    fs::write(&path, "clusters: [\n").unwrap();
    let err = error_text(merge_into_file(&path, &ours("dind", SERVER)));
    assert_contains(&err, &format!("cannot merge into {}", path.display()));
    assert_contains(&err, "not valid YAML");
    let err = error_text(unmerge_from_file(&path, "dind"));
    assert_contains(&err, &format!("cannot remove dind from {}", path.display()));
    // The broken file is left as it was.
    assert_eq!(fs::read_to_string(&path).unwrap(), "clusters: [\n");

    // A directory where the file should be.
    let dir = tmp.path().join("dir");
    fs::create_dir(&dir).unwrap();
    let err = error_text(merge_into_file(&dir, &ours("dind", SERVER)));
    assert_contains(&err, &format!("cannot read {}", dir.display()));
}

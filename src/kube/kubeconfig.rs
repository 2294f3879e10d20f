//! The user's kubeconfig: kubeadm's admin.conf rewritten into one entry dind owns (cluster,
//! user and context all named [`context_name`]), merged into and removed from the user's
//! kubeconfig file.
//!
//! Everything works on [`yaml_serde::Value`], whose mappings keep their key order, so keys
//! dind does not know (extensions, preferences, exec users, ...) survive a merge. Comments
//! do not: like `kubectl config`, a rewritten file is re-serialized.

use anyhow::{bail, ensure, Context, Result};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use yaml_serde::{Mapping, Sequence, Value};

/// The three named lists of a kubeconfig, with the key of each entry's body.
const SECTIONS: [(&str, &str); 3] = [
    ("clusters", "cluster"),
    ("contexts", "context"),
    ("users", "user"),
];

/// The mode of a kubeconfig dind creates: it holds a client key.
const NEW_FILE_MODE: u32 = 0o600;

/// kubeadm's admin.conf -> a kubeconfig with exactly one cluster, one user and one context,
/// all named `name`, the cluster's `server` replaced by `server` (e.g. "https://[::1]:40123"),
/// current-context `name`.
///
/// The cluster and user are those of admin.conf's current context, else the first of each.
/// Errors (a clear message naming what is missing) when admin.conf is not YAML or lacks a
/// cluster with certificate-authority-data or a user with client credentials
/// (client-certificate-data and client-key-data).
pub(crate) fn rewrite_admin(admin_conf: &str, name: &str, server: &str) -> Result<String> {
    ensure!(!name.is_empty(), "the kubeconfig entry name is empty");
    ensure!(
        !server.is_empty(),
        "the API server address for {name} is empty"
    );
    let doc: Value = yaml_serde::from_str(admin_conf).context("admin.conf is not valid YAML")?;
    let doc = doc
        .as_mapping()
        .context("admin.conf is not a kubeconfig: its top level is not a mapping")?;

    // The cluster and user the current context refers to, when it names one.
    let context = str_value(doc, "current-context")
        .and_then(|current| find_body(doc, "contexts", "context", current));
    let wanted = |key: &str| context.and_then(|c| str_value(c, key));

    let (cluster_name, cluster) = pick_body(doc, "clusters", "cluster", wanted("cluster"))
        .context("admin.conf has no cluster (clusters[].cluster)")?;
    ensure!(
        has_text(cluster, "certificate-authority-data"),
        "admin.conf: cluster `{cluster_name}` has no certificate-authority-data"
    );
    let (user_name, user) = pick_body(doc, "users", "user", wanted("user"))
        .context("admin.conf has no user (users[].user)")?;
    let missing: Vec<&str> = ["client-certificate-data", "client-key-data"]
        .into_iter()
        .filter(|key| !has_text(user, key))
        .collect();
    ensure!(
        missing.is_empty(),
        "admin.conf: user `{user_name}` has no client credentials (missing {})",
        missing.join(" and ")
    );

    let mut cluster = cluster.clone();
    cluster.insert(key("server"), key(server));
    let mut context = Mapping::new();
    context.insert(key("cluster"), key(name));
    context.insert(key("user"), key(name));

    // Keys in the order kubeadm and kubectl write them.
    let mut out = Mapping::new();
    out.insert(key("apiVersion"), key("v1"));
    out.insert(key("clusters"), list_of(entry("cluster", cluster, name)));
    out.insert(key("contexts"), list_of(entry("context", context, name)));
    out.insert(key("current-context"), key(name));
    out.insert(key("kind"), key("Config"));
    out.insert(key("preferences"), Value::Mapping(Mapping::new()));
    out.insert(key("users"), list_of(entry("user", user.clone(), name)));
    to_text(out)
}

/// Merges `ours` (output of [`rewrite_admin`]) into `existing` (None or empty/whitespace: no
/// file yet): entries of the same name in clusters/users/contexts are replaced in place,
/// others appended; every other entry, key and the order of entries are kept;
/// current-context becomes ours. A new file gets apiVersion v1, kind Config, preferences {}.
pub(crate) fn merge(existing: Option<&str>, ours: &str) -> Result<String> {
    let ours = Ours::parse(ours)?;
    let mut doc = match parse_existing(existing.unwrap_or(""))? {
        Some(doc) => doc,
        None => new_config(),
    };
    // A file without them still loads in kubectl; add them all the same, at the top.
    if !doc.contains_key("apiVersion") && !doc.contains_key("kind") {
        let mut with_header = Mapping::new();
        with_header.insert(key("apiVersion"), key("v1"));
        with_header.insert(key("kind"), key("Config"));
        with_header.extend(doc);
        doc = with_header;
    }

    for (section, entries) in &ours.sections {
        let list = doc.entry(key(section)).or_insert(Value::Null);
        if list.is_null() {
            *list = Value::Sequence(Sequence::new());
        }
        let list = list
            .as_sequence_mut()
            .with_context(|| format!("the kubeconfig's `{section}` is not a list"))?;
        for ours_entry in entries {
            let name = entry_name(ours_entry);
            let same: Vec<usize> = (0..list.len())
                .filter(|&i| entry_name(&list[i]) == name)
                .collect();
            match same.first() {
                None => list.push(ours_entry.clone()),
                Some(&first) => {
                    list[first] = ours_entry.clone();
                    // A hand-edited file may hold our name twice: only ours is left.
                    for &i in same[1..].iter().rev() {
                        list.remove(i);
                    }
                }
            }
        }
    }
    doc.insert(key("current-context"), key(&ours.current_context));
    to_text(doc)
}

/// Removes the cluster, user and context named `name` (exactly those; an entry named e.g.
/// `dind-cluster-1` is not touched when removing `dind`); current-context is removed when it
/// was `name`, kept otherwise. Returns the new text and whether anything was removed; when
/// nothing was, the text is `existing` unchanged.
pub(crate) fn unmerge(existing: &str, name: &str) -> Result<(String, bool)> {
    let Some(mut doc) = parse_existing(existing)? else {
        return Ok((existing.to_string(), false));
    };
    let mut removed = false;
    for (section, _) in SECTIONS {
        match doc.get_mut(section) {
            None | Some(Value::Null) => {}
            Some(Value::Sequence(list)) => {
                let before = list.len();
                list.retain(|e| entry_name(e) != Some(name));
                removed |= list.len() != before;
            }
            Some(_) => bail!("the kubeconfig's `{section}` is not a list"),
        }
    }
    if str_value(&doc, "current-context") == Some(name) {
        doc.shift_remove("current-context");
        removed = true;
    }
    if !removed {
        return Ok((existing.to_string(), false));
    }
    Ok((to_text(doc)?, true))
}

/// Where to merge: the first non-empty path of $KUBECONFIG (colon-separated), else
/// <home>/.kube/config. Error if neither is available.
pub(crate) fn target_path(kubeconfig_env: Option<&str>, home: Option<&Path>) -> Result<PathBuf> {
    if let Some(first) = kubeconfig_env.and_then(|v| v.split(':').find(|p| !p.is_empty())) {
        return Ok(PathBuf::from(first));
    }
    match home {
        Some(home) if !home.as_os_str().is_empty() => Ok(home.join(".kube").join("config")),
        _ => bail!(
            "cannot tell where the kubeconfig goes: KUBECONFIG names no file and HOME is not set"
        ),
    }
}

/// File level: read (absent = None), merge, write atomically (tempfile in the same directory,
/// then persist), mode 0600 for a new file (keep the mode and owner of an existing one),
/// parent directories created. A symlink is followed: its target is rewritten. Anything
/// else that is no regular file (`/dev/null`, to keep no kubeconfig; a pipe) is written
/// through, never replaced and never read.
pub(crate) fn merge_into_file(path: &Path, ours: &str) -> Result<()> {
    let target = follow_symlinks(path)?;
    let (text, meta) = match inspect(&target)? {
        Existing::Special => {
            let merged = merge(None, ours)?;
            return fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .and_then(|mut file| file.write_all(merged.as_bytes()))
                .with_context(|| format!("cannot write {}", target.display()));
        }
        Existing::Absent => (None, None),
        Existing::File(text, meta) => (Some(text), Some(meta)),
    };
    let merged = merge(text.as_deref(), ours)
        .with_context(|| format!("cannot merge into {}", target.display()))?;
    write_atomically(&target, &merged, meta.as_ref())
}

/// File level: absent file -> Ok(false); else unmerge and write back atomically (keeping mode
/// and owner) if changed. Returns whether anything was removed.
pub(crate) fn unmerge_from_file(path: &Path, name: &str) -> Result<bool> {
    let target = follow_symlinks(path)?;
    let Existing::File(text, meta) = inspect(&target)? else {
        return Ok(false);
    };
    let (new_text, removed) = unmerge(&text, name)
        .with_context(|| format!("cannot remove {name} from {}", target.display()))?;
    if removed {
        write_atomically(&target, &new_text, Some(&meta))?;
    }
    Ok(removed)
}

/// The entries of [`rewrite_admin`]'s output, by section, and its current context.
struct Ours {
    sections: Vec<(&'static str, Vec<Value>)>,
    current_context: String,
}

impl Ours {
    fn parse(ours: &str) -> Result<Ours> {
        const NOT_OURS: &str = "dind's kubeconfig entry is not a kubeconfig";
        let doc: Value = yaml_serde::from_str(ours).context(NOT_OURS)?;
        let doc = doc.as_mapping().context(NOT_OURS)?;
        let mut sections = Vec::new();
        for (section, body) in SECTIONS {
            let entries = doc
                .get(section)
                .and_then(Value::as_sequence)
                .with_context(|| format!("dind's kubeconfig entry has no `{section}` list"))?;
            for e in entries {
                ensure!(
                    entry_name(e).is_some() && e.get(body).is_some_and(Value::is_mapping),
                    "dind's kubeconfig entry has a `{section}` entry without name or {body}"
                );
            }
            sections.push((section, entries.clone()));
        }
        let current_context = str_value(doc, "current-context")
            .context("dind's kubeconfig entry has no current-context")?
            .to_string();
        Ok(Ours {
            sections,
            current_context,
        })
    }
}

/// The kubeconfig in `text`; None for no content yet (empty, whitespace or only comments).
fn parse_existing(text: &str) -> Result<Option<Mapping>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let doc: Value = yaml_serde::from_str(text).context("the kubeconfig is not valid YAML")?;
    match doc {
        Value::Null => Ok(None),
        Value::Mapping(doc) => Ok(Some(doc)),
        _ => bail!("the kubeconfig is not a mapping at its top level"),
    }
}

fn new_config() -> Mapping {
    let mut doc = Mapping::new();
    doc.insert(key("apiVersion"), key("v1"));
    doc.insert(key("clusters"), Value::Sequence(Sequence::new()));
    doc.insert(key("contexts"), Value::Sequence(Sequence::new()));
    doc.insert(key("current-context"), key(""));
    doc.insert(key("kind"), key("Config"));
    doc.insert(key("preferences"), Value::Mapping(Mapping::new()));
    doc.insert(key("users"), Value::Sequence(Sequence::new()));
    doc
}

fn key(s: &str) -> Value {
    Value::String(s.to_string())
}

fn str_value<'a>(map: &'a Mapping, k: &str) -> Option<&'a str> {
    map.get(k).and_then(Value::as_str)
}

fn has_text(map: &Mapping, k: &str) -> bool {
    str_value(map, k).is_some_and(|v| !v.trim().is_empty())
}

/// The `name` of a clusters/users/contexts entry.
fn entry_name(entry: &Value) -> Option<&str> {
    entry.get("name").and_then(Value::as_str)
}

/// `{<body_key>: body, name: name}`, keys in kubectl's order.
fn entry(body_key: &str, body: Mapping, name: &str) -> Value {
    let mut e = Mapping::new();
    if body_key == "user" {
        e.insert(key("name"), key(name));
        e.insert(key(body_key), Value::Mapping(body));
    } else {
        e.insert(key(body_key), Value::Mapping(body));
        e.insert(key("name"), key(name));
    }
    Value::Mapping(e)
}

fn list_of(entry: Value) -> Value {
    Value::Sequence(vec![entry])
}

/// The body of the `section` entry named `name`.
fn find_body<'a>(
    doc: &'a Mapping,
    section: &str,
    body: &'static str,
    name: &str,
) -> Option<&'a Mapping> {
    bodies(doc, section, body)
        .find(|(n, _)| *n == name)
        .map(|(_, b)| b)
}

/// The body of the entry named `wanted` when there is one, else the first body.
fn pick_body<'a>(
    doc: &'a Mapping,
    section: &str,
    body: &'static str,
    wanted: Option<&str>,
) -> Option<(&'a str, &'a Mapping)> {
    wanted
        .and_then(|w| bodies(doc, section, body).find(|(n, _)| *n == w))
        .or_else(|| bodies(doc, section, body).next())
}

/// (name, body) of each well-formed entry of `section`.
fn bodies<'a>(
    doc: &'a Mapping,
    section: &str,
    body: &'static str,
) -> impl Iterator<Item = (&'a str, &'a Mapping)> {
    doc.get(section)
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(move |e| Some((entry_name(e)?, e.get(body)?.as_mapping()?)))
}

fn to_text(doc: Mapping) -> Result<String> {
    yaml_serde::to_string(&Value::Mapping(doc)).context("cannot write the kubeconfig as YAML")
}

/// `path` with symlinks followed (also a dangling one: its target is the file to create).
fn follow_symlinks(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)
                    .with_context(|| format!("cannot read the symlink {}", current.display()))?;
                current = match current.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    bail!("too many levels of symlinks at {}", path.display())
}

/// What a kubeconfig path holds.
enum Existing {
    Absent,
    /// A regular file: its text, and the metadata a rewrite keeps.
    File(String, fs::Metadata),
    /// Neither a regular file nor a directory (`/dev/null`, a pipe): never read.
    Special,
}

fn inspect(path: &Path) -> Result<Existing> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Absent),
        Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", path.display())),
    };
    if !meta.is_file() && !meta.is_dir() {
        return Ok(Existing::Special);
    }
    // A directory fails here, which names the problem.
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Existing::File(text, meta))
}

/// Writes `text` to a temporary file next to `path` and renames it over `path`: a reader
/// sees the old or the new file, never half of one. `existing` is the metadata of the file
/// being replaced, whose mode and owner are kept; a new file gets mode 0600.
fn write_atomically(path: &Path, text: &str, existing: Option<&fs::Metadata>) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .with_context(|| format!("{} names no file", path.display()))?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", file_name.to_string_lossy()))
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    let tmp_display = tmp.path().display().to_string();

    let mode = existing.map_or(NEW_FILE_MODE, |m| m.permissions().mode() & 0o777);
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {tmp_display}"))?;
    if let Some(meta) = existing {
        let tmp_meta = tmp
            .as_file()
            .metadata()
            .with_context(|| format!("cannot inspect {tmp_display}"))?;
        if (tmp_meta.uid(), tmp_meta.gid()) != (meta.uid(), meta.gid()) {
            std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid()))
                .with_context(|| {
                    format!(
                        "cannot give {tmp_display} the owner {}:{} of {}",
                        meta.uid(),
                        meta.gid(),
                        path.display()
                    )
                })?;
        }
    }
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {tmp_display}"))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    // The rename itself is durable once the directory is synced.
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests;

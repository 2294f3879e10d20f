//! The labels of a cluster's lock container: which cluster it locks and who holds it, so
//! that a waiter can say whom it waits for and tell a holder that is gone.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// On a lock container: the id of the cluster it locks. Not [`super::CLUSTER`]: what has
/// that label is the cluster's, and `down` removes it.
pub const LOCK: &str = "io.github.dind.lock";
/// The dind command that holds the lock (`up`, `down`, `clean`).
pub const LOCK_COMMAND: &str = "io.github.dind.lock.command";
/// When the holder took the lock, RFC 3339 in UTC to the second.
pub const LOCK_SINCE: &str = "io.github.dind.lock.since";

/// Who holds a cluster's lock. Its host and process id are in [`super::OWNER`], as
/// `HOST/PID`, the form the host helpers carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockHolder {
    pub command: String,
    pub host: String,
    pub pid: u32,
    /// Whole seconds: what the label keeps.
    pub since: SystemTime,
}

impl LockHolder {
    pub fn new(command: &str, host: &str, pid: u32, since: SystemTime) -> LockHolder {
        let seconds = since
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        LockHolder {
            command: command.to_string(),
            host: host.to_string(),
            pid,
            since: UNIX_EPOCH + Duration::from_secs(seconds),
        }
    }

    /// The labels of the lock container of `cluster_id` that this holder takes.
    pub fn labels(&self, cluster_id: u8) -> BTreeMap<String, String> {
        BTreeMap::from([
            (LOCK.to_string(), cluster_id.to_string()),
            (
                super::OWNER.to_string(),
                format!("{}/{}", self.host, self.pid),
            ),
            (LOCK_COMMAND.to_string(), self.command.clone()),
            (
                LOCK_SINCE.to_string(),
                humantime::format_rfc3339_seconds(self.since).to_string(),
            ),
        ])
    }

    /// The holder the labels name; None when a label is missing or unreadable.
    pub(crate) fn from_labels(labels: &HashMap<String, String>) -> Option<LockHolder> {
        let (host, pid) = labels.get(super::OWNER)?.rsplit_once('/')?;
        let since = humantime::parse_rfc3339(labels.get(LOCK_SINCE)?).ok()?;
        Some(LockHolder {
            command: labels.get(LOCK_COMMAND)?.clone(),
            host: host.to_string(),
            pid: pid.parse().ok()?,
            since,
        })
    }
}

/// The cluster id a lock container's labels name; None on anything that is not one.
pub(crate) fn locked_cluster(labels: &HashMap<String, String>) -> Option<u8> {
    labels.get(LOCK)?.parse().ok()
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`dind {}` (pid {} on {}, since {})",
            self.command,
            self.pid,
            if self.host.is_empty() {
                "an unnamed host"
            } else {
                &self.host
            },
            humantime::format_rfc3339_seconds(self.since)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder() -> LockHolder {
        LockHolder::new(
            "up",
            "box",
            4242,
            UNIX_EPOCH + Duration::from_millis(1_764_636_045_900),
        )
    }

    #[test]
    fn a_holder_is_written_to_labels_and_read_back() {
        let holder = holder();
        let labels = holder.labels(40);
        assert_eq!(labels[LOCK], "40");
        assert_eq!(labels[super::super::OWNER], "box/4242");
        assert_eq!(labels[LOCK_COMMAND], "up");
        assert_eq!(labels[LOCK_SINCE], "2025-12-02T00:40:45Z");
        assert!(
            !labels.contains_key(super::super::CLUSTER),
            "`down` would remove the lock with the cluster"
        );
        let read: HashMap<String, String> = labels.into_iter().collect();
        assert_eq!(LockHolder::from_labels(&read), Some(holder));
        assert_eq!(locked_cluster(&read), Some(40));
    }

    #[test]
    fn a_host_name_with_a_slash_keeps_it() {
        let holder = LockHolder::new("down", "a/b", 7, UNIX_EPOCH);
        let read: HashMap<String, String> = holder.labels(1).into_iter().collect();
        assert_eq!(LockHolder::from_labels(&read), Some(holder));
    }

    #[test]
    fn missing_or_garbled_labels_name_no_holder() {
        let good: HashMap<String, String> = holder().labels(3).into_iter().collect();
        let with = |key: &str, value: Option<&str>| {
            let mut labels = good.clone();
            match value {
                Some(value) => labels.insert(key.to_string(), value.to_string()),
                None => labels.remove(key),
            };
            LockHolder::from_labels(&labels)
        };
        assert_eq!(with(super::super::OWNER, None), None);
        assert_eq!(with(super::super::OWNER, Some("box")), None);
        assert_eq!(with(super::super::OWNER, Some("box/pid")), None);
        assert_eq!(with(LOCK_COMMAND, None), None);
        assert_eq!(with(LOCK_SINCE, None), None);
        assert_eq!(with(LOCK_SINCE, Some("yesterday")), None);
        let mut labels = good.clone();
        labels.insert(LOCK.to_string(), "cluster".to_string());
        assert_eq!(locked_cluster(&labels), None);
        labels.remove(LOCK);
        assert_eq!(locked_cluster(&labels), None);
    }

    #[test]
    fn a_holder_reads_as_its_command_pid_host_and_time() {
        assert_eq!(
            holder().to_string(),
            "`dind up` (pid 4242 on box, since 2025-12-02T00:40:45Z)"
        );
        let mut nameless = holder();
        nameless.host.clear();
        assert!(nameless.to_string().contains("pid 4242 on an unnamed host"));
    }
}

//! The durations of `--wait` and `--lock-timeout`.

use std::time::Duration;

/// `--wait`: a duration like 5m, or 0 not to wait.
pub(super) fn parse_wait(text: &str) -> Result<Duration, String> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("{e}; use a duration like 5m, 90s or 1h30m, or 0 not to wait"))
}

/// `--lock-timeout` and DIND_LOCK_TIMEOUT: seconds, or a duration like 10m.
pub(super) fn parse_lock_timeout(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text).map_err(|_| {
        "use a number of seconds like 600, or a duration like 10m; 0 does not wait".to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::{parse_lock_timeout, parse_wait};
    use std::time::Duration;

    #[test]
    fn lock_timeouts_are_seconds_or_durations() {
        assert_eq!(parse_lock_timeout("0"), Ok(Duration::ZERO));
        assert_eq!(parse_lock_timeout(" 30 "), Ok(Duration::from_secs(30)));
        assert_eq!(parse_lock_timeout("1m30s"), Ok(Duration::from_secs(90)));
        assert!(parse_lock_timeout("-5").is_err());
    }

    #[test]
    fn wait_takes_durations_and_zero() {
        assert_eq!(parse_wait("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_wait("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_wait("0"), Ok(Duration::ZERO));
        let err = parse_wait("soon").unwrap_err();
        assert!(
            err.contains("use a duration like 5m, 90s or 1h30m, or 0 not to wait"),
            "{err}"
        );
    }
}

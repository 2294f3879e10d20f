//! What a Docker error means, decided here and nowhere else: from the HTTP status code of
//! the daemon's answer, or from how the connection to it failed; from the words of its
//! message only where Docker gives nothing else (said where).

use bollard::errors::Error as DockerError;
use std::io;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// 304: the object is in that state already (a stopped container stopped again).
    /// bollard passes 304 as success on the calls dind makes; an error carrying it would
    /// still mean this.
    NotModified,
    /// 400: the request is invalid (a bind mount whose source is missing, ...).
    BadRequest,
    /// 404: no such container, network, image or path.
    NotFound,
    /// 409: the object is busy (removal under way, name taken, container not running).
    Conflict,
    /// runc could not grant a container the capabilities it asks for (the daemon itself
    /// runs with a reduced bounding set, as in some CI sandboxes).
    PrivilegeRefused,
    /// Any other answer of the daemon (5xx).
    Server,
    /// No answer: no socket, the connection refused or cut, or no answer in time.
    DaemonUnreachable,
    /// Neither an answer nor a failed connection (decoding, a stream's error), or no Docker
    /// error at all.
    Other,
}

/// The kind of a bollard error.
pub(crate) fn kind(err: &DockerError) -> ErrorKind {
    match err {
        // runc's refusal comes back as a plain server error: only runc's words, passed on
        // in the message, tell it apart.
        DockerError::DockerResponseServerError { message, .. }
            if message.contains("unable to apply caps") =>
        {
            ErrorKind::PrivilegeRefused
        }
        DockerError::DockerResponseServerError { status_code, .. } => match status_code {
            304 => ErrorKind::NotModified,
            400 => ErrorKind::BadRequest,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            _ => ErrorKind::Server,
        },
        DockerError::SocketNotFoundError(_) | DockerError::RequestTimeoutError => {
            ErrorKind::DaemonUnreachable
        }
        // Transparent: the I/O error's own causes follow, not the I/O error itself.
        DockerError::IOError { err } if is_connection_failure(err) => ErrorKind::DaemonUnreachable,
        _ if failed_to_connect(err) => ErrorKind::DaemonUnreachable,
        _ => ErrorKind::Other,
    }
}

/// True when an I/O error under `err` (the HTTP client's, for one) says the connection to
/// the daemon could not be made or was lost.
fn failed_to_connect(err: &DockerError) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        if e.downcast_ref::<io::Error>()
            .is_some_and(is_connection_failure)
        {
            return true;
        }
        cause = e.source();
    }
    false
}

fn is_connection_failure(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::TimedOut
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            // A socket path that is gone by the time of the request.
            | io::ErrorKind::NotFound
    )
}

/// The kind of the first Docker error in `err`'s chain, under whatever context dind added;
/// [`ErrorKind::Other`] when there is none.
pub(crate) fn kind_of(err: &anyhow::Error) -> ErrorKind {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<DockerError>())
        .map_or(ErrorKind::Other, kind)
}

/// The daemon's answer somewhere in `err`'s chain: its kind and message.
fn answer(err: &anyhow::Error) -> Option<(ErrorKind, &str)> {
    err.chain()
        .find_map(|cause| match cause.downcast_ref::<DockerError>()? {
            e @ DockerError::DockerResponseServerError { message, .. } => {
                Some((kind(e), message.as_str()))
            }
            _ => None,
        })
}

/// Docker refused to create a container because a bind mount's source `path` is missing on
/// its host: a bad request, and since 400 covers every invalid mount, only the message says
/// which one.
pub(crate) fn is_missing_bind_source(err: &anyhow::Error, path: &str) -> bool {
    answer(err).is_some_and(|(kind, message)| {
        kind == ErrorKind::BadRequest
            && message.contains(&format!("bind source path does not exist: {path}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    fn answered(status_code: u16, message: &str) -> DockerError {
        DockerError::DockerResponseServerError {
            status_code,
            message: message.to_string(),
        }
    }

    /// Docker's answer as dind passes it up: under the context of what it was doing.
    fn answered_to(doing: &str, status_code: u16, message: &str) -> anyhow::Error {
        anyhow::Error::new(answered(status_code, message)).context(doing.to_string())
    }

    #[test]
    fn the_status_code_decides_the_kind_whatever_the_message_says() {
        let cases = [
            (304, ErrorKind::NotModified),
            (400, ErrorKind::BadRequest),
            (404, ErrorKind::NotFound),
            (409, ErrorKind::Conflict),
            (500, ErrorKind::Server),
            (503, ErrorKind::Server),
        ];
        for (code, expected) in cases {
            // A misleading message does not change the kind.
            assert_eq!(
                kind(&answered(code, "No such container: x")),
                expected,
                "{code}"
            );
        }
        assert_eq!(
            kind(&DockerError::DockerContainerWaitError {
                error: "exited".into(),
                code: 1
            }),
            ErrorKind::Other
        );
    }

    #[test]
    fn the_kind_is_found_under_added_context() {
        let err = Err::<(), _>(answered(404, "no such network"))
            .context("cannot inspect network n")
            .context("cannot create the cluster")
            .unwrap_err();
        assert_eq!(kind_of(&err), ErrorKind::NotFound);
        assert_eq!(answer(&err), Some((ErrorKind::NotFound, "no such network")));
        // Words alone are not Docker's answer.
        assert_eq!(kind_of(&anyhow::anyhow!("404 not found")), ErrorKind::Other);
        assert_eq!(answer(&anyhow::anyhow!("404 not found")), None);
    }

    #[test]
    fn a_missing_host_path_is_a_bad_request_naming_it() {
        let missing = answered_to(
            "cannot create container kube-master",
            400,
            "invalid mount config for type \"bind\": bind source path does not exist: /lib/modules",
        );
        assert_eq!(kind_of(&missing), ErrorKind::BadRequest);
        assert!(is_missing_bind_source(&missing, "/lib/modules"));
        assert!(!is_missing_bind_source(&missing, "/dev"));
        // The same words without Docker's answer, or with another status, are something else.
        assert!(!is_missing_bind_source(
            &anyhow::anyhow!("bind source path does not exist: /lib/modules"),
            "/lib/modules"
        ));
        let other = anyhow::Error::new(answered(
            500,
            "bind source path does not exist: /lib/modules",
        ));
        assert!(!is_missing_bind_source(&other, "/lib/modules"));
        assert!(!is_missing_bind_source(
            &anyhow::Error::new(answered(404, "no such image")),
            "/lib/modules"
        ));
    }

    #[test]
    fn a_taken_name_is_a_conflict_under_added_context() {
        let taken = answered_to(
            "cannot create container dind-lock-3",
            409,
            "Conflict. The container name \"/dind-lock-3\" is already in use",
        );
        assert_eq!(kind_of(&taken), ErrorKind::Conflict);
        let not_found = anyhow::Error::new(answered(404, "conflict"));
        assert_eq!(kind_of(&not_found), ErrorKind::NotFound);
        assert_eq!(kind_of(&anyhow::anyhow!("409 Conflict")), ErrorKind::Other);
    }

    #[test]
    fn a_refused_privilege_is_told_by_runcs_words_in_dockers_answer() {
        let refused = answered_to(
            "cannot start container kube-master",
            500,
            "failed to create task: OCI runtime create failed: unable to apply caps: operation not permitted",
        );
        assert_eq!(kind_of(&refused), ErrorKind::PrivilegeRefused);
        let full = anyhow::Error::new(answered(500, "no space left on device"));
        assert_eq!(kind_of(&full), ErrorKind::Server);
        // runc's words outside Docker's answer are not Docker refusing anything.
        assert_eq!(
            kind_of(&anyhow::anyhow!("unable to apply caps")),
            ErrorKind::Other
        );
    }

    #[test]
    fn a_failed_connection_is_an_unreachable_daemon() {
        let io = |kind: io::ErrorKind| DockerError::IOError {
            err: io::Error::from(kind),
        };
        for unreachable in [
            io(io::ErrorKind::ConnectionRefused),
            io(io::ErrorKind::ConnectionReset),
            io(io::ErrorKind::NotFound),
            DockerError::SocketNotFoundError("/var/run/docker.sock".into()),
            DockerError::RequestTimeoutError,
        ] {
            assert_eq!(
                kind(&unreachable),
                ErrorKind::DaemonUnreachable,
                "{unreachable:?}"
            );
        }
        assert_eq!(kind(&io(io::ErrorKind::InvalidData)), ErrorKind::Other);
    }

    /// bollard's own errors, from a socket nobody listens on and from one that is not there.
    #[tokio::test]
    async fn a_socket_nobody_listens_on_is_an_unreachable_daemon() {
        let dir = std::env::temp_dir().join(format!("dind-error-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("docker.sock");
        let _ = std::fs::remove_file(&path);
        // Bound, then closed: the socket file stays, and connecting to it is refused.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let docker = bollard::Docker::connect_with_unix(
            path.to_str().unwrap(),
            5,
            bollard::API_DEFAULT_VERSION,
        )
        .unwrap();
        let refused = docker.ping().await.unwrap_err();
        assert_eq!(kind(&refused), ErrorKind::DaemonUnreachable, "{refused:?}");
        let refused = Err::<(), _>(refused)
            .context("cannot reach the Docker daemon")
            .unwrap_err();
        assert_eq!(kind_of(&refused), ErrorKind::DaemonUnreachable);

        std::fs::remove_file(&path).unwrap();
        let missing = bollard::Docker::connect_with_unix(
            path.to_str().unwrap(),
            5,
            bollard::API_DEFAULT_VERSION,
        )
        .map(|_| ())
        .unwrap_err();
        assert_eq!(kind(&missing), ErrorKind::DaemonUnreachable, "{missing:?}");
        std::fs::remove_dir(&dir).unwrap();
    }
}

//! What a Docker error means, from the HTTP status code of the daemon's answer rather than
//! from the words of its message.

use bollard::errors::Error as DockerError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DockerErrorKind {
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
    /// Any other answer of the daemon (5xx).
    Server,
    /// Not an answer of the daemon: connection, I/O, decoding.
    Transport,
}

/// The kind of a bollard error.
pub(crate) fn kind(err: &DockerError) -> DockerErrorKind {
    match err {
        DockerError::DockerResponseServerError { status_code, .. } => match status_code {
            304 => DockerErrorKind::NotModified,
            400 => DockerErrorKind::BadRequest,
            404 => DockerErrorKind::NotFound,
            409 => DockerErrorKind::Conflict,
            _ => DockerErrorKind::Server,
        },
        _ => DockerErrorKind::Transport,
    }
}

/// The daemon's answer somewhere in `err`'s chain: its kind and message.
fn answer(err: &anyhow::Error) -> Option<(DockerErrorKind, &str)> {
    err.chain()
        .find_map(|cause| match cause.downcast_ref::<DockerError>()? {
            e @ DockerError::DockerResponseServerError { message, .. } => {
                Some((kind(e), message.as_str()))
            }
            _ => None,
        })
}

/// Docker refused to create a container because a bind mount's source `path` is missing on
/// its host. 400 covers every invalid mount; the message says which.
pub(crate) fn is_missing_bind_source(err: &anyhow::Error, path: &str) -> bool {
    answer(err).is_some_and(|(kind, message)| {
        kind == DockerErrorKind::BadRequest
            && message.contains(&format!("bind source path does not exist: {path}"))
    })
}

/// Docker refused the request because the object is in the way or busy (409): a container
/// name that is taken, above all.
pub(crate) fn is_conflict(err: &anyhow::Error) -> bool {
    answer(err).is_some_and(|(kind, _)| kind == DockerErrorKind::Conflict)
}

/// runc could not grant a container the capabilities it asks for (the daemon itself runs
/// with a reduced bounding set, as in some CI sandboxes). Docker answers this with a plain
/// server error, which only the message tells apart.
pub(crate) fn is_privilege_refused(err: &anyhow::Error) -> bool {
    answer(err).is_some_and(|(_, message)| message.contains("unable to apply caps"))
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
            (304, DockerErrorKind::NotModified),
            (400, DockerErrorKind::BadRequest),
            (404, DockerErrorKind::NotFound),
            (409, DockerErrorKind::Conflict),
            (500, DockerErrorKind::Server),
            (503, DockerErrorKind::Server),
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
            DockerErrorKind::Transport
        );
    }

    #[test]
    fn the_kind_is_found_under_added_context() {
        let err = Err::<(), _>(answered(404, "no such network"))
            .context("cannot inspect network n")
            .context("cannot create the cluster")
            .unwrap_err();
        assert_eq!(
            answer(&err),
            Some((DockerErrorKind::NotFound, "no such network"))
        );
        assert_eq!(answer(&anyhow::anyhow!("404 not found")), None);
    }

    #[test]
    fn a_missing_host_path_is_a_bad_request_naming_it() {
        let missing = answered_to(
            "cannot create container kube-master",
            400,
            "invalid mount config for type \"bind\": bind source path does not exist: /lib/modules",
        );
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
        assert!(is_conflict(&taken));
        assert!(!is_conflict(&anyhow::Error::new(answered(404, "conflict"))));
        assert!(!is_conflict(&anyhow::anyhow!("409 Conflict")));
    }

    #[test]
    fn a_refused_privilege_is_told_by_runcs_words_in_dockers_answer() {
        let refused = answered_to(
            "cannot start container kube-master",
            500,
            "failed to create task: OCI runtime create failed: unable to apply caps: operation not permitted",
        );
        assert!(is_privilege_refused(&refused));
        assert!(!is_privilege_refused(&anyhow::Error::new(answered(
            500,
            "no space left on device"
        ))));
    }
}

//! Exit codes: 0 success, 1 failure, 2 invalid input (bad flags, environment variables or
//! config file), 130 interrupted. An error is invalid input when [`InvalidInput`] is in its
//! chain.

use std::fmt;
use std::process::ExitCode;

/// Exit code of a command stopped by a signal (128 + SIGINT).
pub const INTERRUPTED: u8 = 130;
/// Exit code of invalid input, as clap exits for a bad flag.
pub const INVALID_INPUT: u8 = 2;

/// Marks an error as caused by what the user gave (a flag, an environment variable, a
/// config file), not by Docker or the host. It shows as the error it wraps.
pub struct InvalidInput(anyhow::Error);

impl InvalidInput {
    /// `err` marked as invalid input, its message and causes unchanged.
    pub fn wrap(err: impl Into<anyhow::Error>) -> anyhow::Error {
        anyhow::Error::new(InvalidInput(err.into()))
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl std::error::Error for InvalidInput {
    // The wrapped error's own causes: the chain shows each message once.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// The exit code for a command that failed with `err`.
pub fn code_of(err: &anyhow::Error) -> u8 {
    if err.is::<crate::interrupt::Interrupted>() {
        INTERRUPTED
    } else if err.chain().any(|cause| cause.is::<InvalidInput>()) {
        INVALID_INPUT
    } else {
        1
    }
}

/// [`code_of`] as the process's exit code.
pub fn exit_code_of(err: &anyhow::Error) -> ExitCode {
    ExitCode::from(code_of(err))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn invalid_input_exits_2_under_any_context_and_keeps_its_message() {
        let err = InvalidInput::wrap(anyhow::anyhow!("invalid --nodes 'abc'"));
        let err = Err::<(), _>(err).context("up failed").unwrap_err();
        assert_eq!(code_of(&err), INVALID_INPUT);
        let messages: Vec<String> = err.chain().map(|c| c.to_string()).collect();
        assert_eq!(messages, ["up failed", "invalid --nodes 'abc'"]);
    }

    #[test]
    fn other_failures_exit_1_and_an_interruption_130() {
        assert_eq!(
            code_of(&anyhow::anyhow!("cannot reach the Docker daemon")),
            1
        );
        let interrupted = anyhow::Error::new(crate::interrupt::Interrupted);
        assert_eq!(code_of(&interrupted), INTERRUPTED);
    }
}

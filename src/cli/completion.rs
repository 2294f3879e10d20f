//! `dind completion SHELL`.

use anyhow::{Context, Result};
use clap_complete::Shell;
use std::io::Write;
use std::process::ExitCode;

pub(super) fn completion(shell: Shell, cli: &mut clap::Command) -> Result<ExitCode> {
    std::io::stdout()
        .write_all(&script(shell, cli))
        .context("cannot write the completion script")?;
    Ok(ExitCode::SUCCESS)
}

/// The completion script of `shell` for the command line `cli`.
fn script(shell: Shell, cli: &mut clap::Command) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, cli, "dind", &mut script);
    script
}

#[cfg(test)]
mod tests {
    use super::script;
    use crate::cli::Cli;
    use clap::CommandFactory;
    use clap_complete::Shell;

    /// The bash script `dind completion bash` prints.
    fn bash_completion() -> String {
        String::from_utf8(script(Shell::Bash, &mut Cli::command())).expect("UTF-8")
    }

    #[test]
    fn the_bash_completion_is_a_script_naming_the_subcommands() {
        let script = bash_completion();
        assert!(script.contains("complete -F _dind"), "{script}");
        for word in [
            "up",
            "down",
            "clean",
            "status",
            "kubeconfig",
            "get",
            "clusters",
            "nodes",
            "completion",
            "--internal",
            "--cluster-id",
            "--quiet",
        ] {
            assert!(
                script.split_whitespace().any(|w| w.contains(word)),
                "{word} missing"
            );
        }
        // bash itself accepts it, where there is a bash.
        let path =
            std::env::temp_dir().join(format!("dind-completion-{}.bash", std::process::id()));
        std::fs::write(&path, &script).unwrap();
        match std::process::Command::new("bash")
            .arg("-n")
            .arg(&path)
            .output()
        {
            Ok(out) => assert!(
                out.status.success(),
                "bash -n: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => eprintln!("no bash to check the script with: {e}"),
        }
        let _ = std::fs::remove_file(&path);
    }
}

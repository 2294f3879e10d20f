//! Moving images from the Docker host into node containers: `docker save` through the
//! Engine API, and an exec whose stdin is streamed (for `ctr images import -`).

use crate::engine::docker::{Engine, ExecOutput};
use crate::engine::error::{kind, ErrorKind};
use anyhow::{bail, Context, Result};
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

/// An image of the Docker host, as `docker image inspect` gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HostImage {
    /// Docker's id: the config digest (classic store), or the index's (containerd store).
    pub(crate) id: String,
    pub(crate) repo_tags: Vec<String>,
}

/// The first Engine API version whose `images/get` takes a `platform` (Docker 28).
pub(crate) const SAVE_PLATFORM_API: (u32, u32) = (1, 48);

impl Engine {
    /// The image named `name` on the Docker host; None when there is none.
    pub(crate) async fn host_image(&self, name: &str) -> Result<Option<HostImage>> {
        match self.api().inspect_image(name).await {
            Ok(inspect) => Ok(Some(HostImage {
                id: inspect.id.unwrap_or_default(),
                repo_tags: inspect.repo_tags.unwrap_or_default(),
            })),
            Err(e) if kind(&e) == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot inspect image {name}")),
        }
    }

    /// Whether the daemon's `docker save` can be asked for one platform.
    pub(crate) fn save_takes_platform(&self) -> bool {
        api_at_least(&self.api_version, SAVE_PLATFORM_API)
    }

    /// The Docker host's platform, `linux/amd64`, as OCI names it.
    pub(crate) async fn platform(&self) -> Result<String> {
        let version = self
            .api()
            .version()
            .await
            .context("cannot ask Docker its version")?;
        let os = version.os.unwrap_or_else(|| "linux".into());
        let arch = match version.arch.as_deref() {
            Some("x86_64") => "amd64".to_string(),
            Some("aarch64") => "arm64".to_string(),
            Some(arch) => arch.to_string(),
            None => "amd64".to_string(),
        };
        Ok(format!("{os}/{arch}"))
    }

    /// `docker save NAMES...` (the archive of `images/get`) into `out`.
    pub(crate) async fn save_images(
        &self,
        names: &[&str],
        out: &mut (impl AsyncWrite + Unpin),
    ) -> Result<u64> {
        let mut stream = self.api().export_images(names);
        let mut written = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.with_context(|| format!("cannot export {}", names.join(" ")))?;
            out.write_all(&chunk).await?;
            written += chunk.len() as u64;
        }
        out.flush().await?;
        Ok(written)
    }

    /// Runs `argv` in a running container with `stdin` streamed to it (closed at its end),
    /// and collects its output and exit code.
    pub(crate) async fn exec_with_stdin(
        &self,
        container: &str,
        argv: &[&str],
        mut stdin: impl AsyncRead + Unpin,
    ) -> Result<ExecOutput> {
        let what = || format!("cannot run `{}` in container {container}", argv.join(" "));
        let created = self
            .api()
            .create_exec(
                container,
                CreateExecOptions {
                    cmd: Some(argv.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
                    attach_stdin: Some(true),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .with_context(what)?;
        let StartExecResults::Attached {
            mut output,
            mut input,
        } = self
            .api()
            .start_exec(&created.id, None)
            .await
            .with_context(what)?
        else {
            bail!(
                "Docker did not attach to `{}` in {container}",
                argv.join(" ")
            );
        };
        let feed = async {
            let copied = tokio::io::copy(&mut stdin, &mut input).await;
            // End of stdin for the process, also after a failed copy.
            let closed = input.shutdown().await;
            copied.and(closed.map(|_| 0))
        };
        let collect = async {
            let mut stdout = Vec::new();
            let mut stderr = Vec::new();
            while let Some(chunk) = output.next().await {
                match chunk? {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        stdout.extend_from_slice(&message)
                    }
                    LogOutput::StdErr { message } => stderr.extend_from_slice(&message),
                    LogOutput::StdIn { .. } => {}
                }
            }
            Ok::<_, anyhow::Error>((stdout, stderr))
        };
        let (fed, collected) = tokio::join!(feed, collect);
        let (stdout, stderr) = collected.with_context(what)?;
        let inspect = self.api().inspect_exec(&created.id).await?;
        let out = ExecOutput {
            code: inspect.exit_code.unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        };
        // A process that exits early closes its stdin: its own error says more.
        if let Err(e) = fed {
            if out.success() {
                return Err(e).with_context(what);
            }
        }
        Ok(out)
    }
}

/// `1.41` against `(1, 48)`; an unreadable version is the oldest.
fn api_at_least(version: &str, wanted: (u32, u32)) -> bool {
    let mut parts = version
        .trim()
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= wanted
}

#[cfg(test)]
mod tests {
    use super::{api_at_least, SAVE_PLATFORM_API};

    #[test]
    fn the_platform_of_a_save_is_for_api_1_48_and_later() {
        assert!(!api_at_least("1.41", SAVE_PLATFORM_API));
        assert!(!api_at_least("1.47", SAVE_PLATFORM_API));
        assert!(api_at_least("1.48", SAVE_PLATFORM_API));
        assert!(api_at_least("1.53", SAVE_PLATFORM_API));
        assert!(api_at_least("2.0", SAVE_PLATFORM_API));
        assert!(!api_at_least("", SAVE_PLATFORM_API));
    }
}

//! Several commands that only read in one exec: a shell script runs them side by side and
//! then prints each one's exit code, stdout and stderr, length-prefixed, in order, so that
//! one Docker exec (three API calls) reads what took one exec per command.

use crate::engine::docker::ExecOutput;
use anyhow::{bail, Context, Result};

/// Starts the header line of each command's output.
const MARK: &str = "@dind-batch";

/// The `sh -c` script that runs `commands` side by side, each with stdin closed, and
/// prints what each printed, in order.
pub(super) fn script(commands: &[Vec<String>]) -> Result<String> {
    let mut script = String::from("d=$(mktemp -d) || exit 125\n");
    for (k, argv) in commands.iter().enumerate() {
        let words = argv
            .iter()
            .map(|word| shlex::try_quote(word).map(|q| q.into_owned()))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("cannot quote `{}` for the shell", argv.join(" ")))?;
        script.push_str(&format!(
            "({} >\"$d/o{k}\" 2>\"$d/e{k}\" </dev/null; echo $? >\"$d/c{k}\") &\n",
            words.join(" ")
        ));
    }
    script.push_str("wait\n");
    for k in 0..commands.len() {
        script.push_str(&format!(
            "printf '{MARK} %d %d %d\\n' \"$(cat \"$d/c{k}\")\" \"$(wc -c <\"$d/o{k}\")\" \"$(wc -c <\"$d/e{k}\")\"\n\
             cat \"$d/o{k}\" \"$d/e{k}\"\n"
        ));
    }
    script.push_str("rm -rf \"$d\"\n");
    Ok(script)
}

/// The outputs of the `count` commands of [`script`], from what it printed.
pub(super) fn parse(printed: &[u8], count: usize) -> Result<Vec<ExecOutput>> {
    let mut rest = printed;
    let mut outputs = Vec::with_capacity(count);
    for _ in 0..count {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .context("the batch's output ends early")?;
        let header = std::str::from_utf8(&rest[..end]).context("a batch header is not text")?;
        let fields: Vec<&str> = header.split_whitespace().collect();
        let [MARK, code, stdout_len, stderr_len] = fields[..] else {
            bail!("unexpected batch header {header:?}");
        };
        let number = |text: &str| -> Result<usize> {
            text.parse()
                .with_context(|| format!("unexpected batch header {header:?}"))
        };
        let (code, stdout_len, stderr_len) =
            (number(code)?, number(stdout_len)?, number(stderr_len)?);
        rest = &rest[end + 1..];
        if rest.len() < stdout_len + stderr_len {
            bail!("the batch's output ends early");
        }
        let (stdout, tail) = rest.split_at(stdout_len);
        let (stderr, tail) = tail.split_at(stderr_len);
        outputs.push(ExecOutput {
            code: code as i64,
            stdout: String::from_utf8_lossy(stdout).into_owned(),
            stderr: String::from_utf8_lossy(stderr).into_owned(),
        });
        rest = tail;
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn each_command_is_quoted_and_framed() {
        let script =
            script(&[argv(&["cat", "/proc/x"]), argv(&["sh", "-c", "echo 'a b'"])]).unwrap();
        assert!(script.contains("(cat /proc/x >\"$d/o0\""), "{script}");
        assert!(
            script.contains(r#"(sh -c "echo 'a b'" >"$d/o1""#),
            "{script}"
        );
        assert_eq!(script.matches("printf '@dind-batch").count(), 2);
    }

    #[test]
    fn outputs_are_read_back_by_length_whatever_they_hold() {
        let printed = b"@dind-batch 0 6 0\nline\n\n@dind-batch 1 0 13\nno such file\n\
                        @dind-batch 2 12 1\n@dind-batch \nxy";
        let outputs = parse(printed, 3).unwrap();
        assert_eq!(
            outputs
                .iter()
                .map(|o| (o.code, o.stdout.as_str(), o.stderr.as_str()))
                .collect::<Vec<_>>(),
            [
                (0, "line\n\n", ""),
                (1, "", "no such file\n"),
                (2, "@dind-batch ", "\n")
            ]
        );
        assert!(parse(printed, 4).is_err());
        assert!(parse(b"@dind-batch 0 9 0\nshort", 1).is_err());
        assert!(parse(b"something else\n", 1).is_err());
    }

    #[test]
    fn the_script_runs_in_a_shell() {
        let commands = [
            argv(&["printf", "%s", "out"]),
            argv(&["sh", "-c", "echo err >&2; exit 3"]),
            argv(&["printf", "it's"]),
        ];
        let script = script(&commands).unwrap();
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .unwrap();
        let outputs = parse(&out.stdout, 3).unwrap();
        assert_eq!(outputs[0].stdout, "out");
        assert_eq!((outputs[1].code, outputs[1].stderr.as_str()), (3, "err\n"));
        assert_eq!(outputs[2].stdout, "it's");
    }
}

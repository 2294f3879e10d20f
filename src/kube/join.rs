//! The output of `kubeadm token create --print-join-command`, parsed and checked.
//!
//! The command prints one line, `kubeadm join <endpoint> --token <token>
//! --discovery-token-ca-cert-hash sha256:<hex>`, but its stdout and stderr may arrive merged,
//! so klog warnings (`W1126 07:00:00.123  1234 join.go:...] ...`) and info lines can come
//! first. The join itself is done with a configuration file rendered elsewhere; this module
//! only extracts and validates the three values that file needs.

use crate::render::kubeadm::JoinCommand;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why the output of `kubeadm token create --print-join-command` was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JoinParseError {
    #[error(
        "no `kubeadm join` line in the output of `kubeadm token create --print-join-command`; \
         it ended with:\n{tail}"
    )]
    NoJoinLine {
        /// The last (at most [`TAIL_LINES`]) non-empty lines of the output, trimmed.
        tail: String,
    },
    #[error("the join command has no API server endpoint: `{line}`")]
    MissingEndpoint { line: String },
    #[error("bad API server endpoint `{endpoint}` in the join command: {reason}")]
    BadEndpoint { endpoint: String, reason: String },
    #[error("unexpected argument `{arg}` in the join command (the endpoint is `{endpoint}`)")]
    UnexpectedArgument { arg: String, endpoint: String },
    #[error("the join command has no --token: `{line}`")]
    MissingToken { line: String },
    #[error(
        "bad bootstrap token `{token}` in the join command: expected [a-z0-9]{{6}}.[a-z0-9]{{16}}"
    )]
    BadToken { token: String },
    #[error("the join command gives --token twice: `{first}` and `{second}`")]
    RepeatedToken { first: String, second: String },
    #[error("the join command has no --discovery-token-ca-cert-hash: `{line}`")]
    MissingCaCertHash { line: String },
    #[error(
        "bad --discovery-token-ca-cert-hash `{hash}` in the join command: \
         expected sha256: and 64 lowercase hex digits"
    )]
    BadCaCertHash { hash: String },
    #[error("unknown flag `{flag}` in the join command: `{line}`")]
    UnknownFlag { flag: String, line: String },
    #[error("flag `{flag}` has no value in the join command: `{line}`")]
    MissingValue { flag: String, line: String },
}

/// How many lines of the output [`JoinParseError::NoJoinLine`] quotes.
pub(crate) const TAIL_LINES: usize = 10;

/// Finds the `kubeadm join ...` line in `output` (the last one if there are several; a
/// trailing `\` continues it on the next line) and checks its endpoint, token and hashes.
///
/// Accepted flags: `--token`, `--discovery-token-ca-cert-hash` (repeatable), and, tolerated
/// and ignored, `--control-plane` and `--certificate-key <key>`; values may also be given as
/// `--flag=value`. Any other flag is an error naming it.
pub(crate) fn parse_join_command(output: &str) -> Result<JoinCommand, JoinParseError> {
    let line = find_join_line(output).ok_or_else(|| JoinParseError::NoJoinLine {
        tail: tail(output, TAIL_LINES),
    })?;
    JoinArgs::read(&line)?.check(line)
}

/// What the join line gives, before it is checked.
#[derive(Default)]
struct JoinArgs {
    endpoint: Option<String>,
    token: Option<String>,
    /// Each hash once, in the line's order.
    hashes: Vec<String>,
}

impl JoinArgs {
    fn read(line: &str) -> Result<JoinArgs, JoinParseError> {
        let mut args = JoinArgs::default();
        // The first two words are `kubeadm join`.
        let mut words = line.split_whitespace().skip(2);
        while let Some(word) = words.next() {
            match word.strip_prefix("--") {
                Some(flag) => args.flag(flag, &mut words, line)?,
                None => args.endpoint(word)?,
            }
        }
        Ok(args)
    }

    /// The one word that is no flag nor a flag's value.
    fn endpoint(&mut self, word: &str) -> Result<(), JoinParseError> {
        if let Some(endpoint) = &self.endpoint {
            return Err(JoinParseError::UnexpectedArgument {
                arg: word.to_string(),
                endpoint: endpoint.clone(),
            });
        }
        self.endpoint = Some(word.to_string());
        Ok(())
    }

    /// A flag (without its `--`), taking its value from `words` unless it is inline.
    fn flag<'a>(
        &mut self,
        flag: &str,
        words: &mut impl Iterator<Item = &'a str>,
        line: &str,
    ) -> Result<(), JoinParseError> {
        let (name, inline_value) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (flag, None),
        };
        let mut value = || flag_value(name, inline_value, words, line);
        match name {
            "token" => self.token(value()?),
            "discovery-token-ca-cert-hash" => {
                let v = value()?;
                if !self.hashes.contains(&v) {
                    self.hashes.push(v);
                }
                Ok(())
            }
            "certificate-key" => value().map(drop),
            "control-plane" => Ok(()),
            _ => Err(JoinParseError::UnknownFlag {
                flag: format!("--{name}"),
                line: line.to_string(),
            }),
        }
    }

    /// `--token`, which may be given again only with the same value.
    fn token(&mut self, v: String) -> Result<(), JoinParseError> {
        if let Some(first) = &self.token {
            if *first != v {
                return Err(JoinParseError::RepeatedToken {
                    first: first.clone(),
                    second: v,
                });
            }
        }
        self.token = Some(v);
        Ok(())
    }

    /// The endpoint, the token and the hashes, each there and well-formed.
    fn check(self, line: String) -> Result<JoinCommand, JoinParseError> {
        let endpoint = self
            .endpoint
            .ok_or_else(|| JoinParseError::MissingEndpoint { line: line.clone() })?;
        if let Err(reason) = check_endpoint(&endpoint) {
            return Err(JoinParseError::BadEndpoint { endpoint, reason });
        }
        let token = self
            .token
            .ok_or_else(|| JoinParseError::MissingToken { line: line.clone() })?;
        if !is_token(&token) {
            return Err(JoinParseError::BadToken { token });
        }
        if self.hashes.is_empty() {
            return Err(JoinParseError::MissingCaCertHash { line });
        }
        if let Some(bad) = self.hashes.iter().find(|h| !is_ca_cert_hash(h)) {
            return Err(JoinParseError::BadCaCertHash { hash: bad.clone() });
        }
        Ok(JoinCommand {
            api_server_endpoint: endpoint,
            token,
            ca_cert_hashes: self.hashes,
        })
    }
}

/// A flag's value: inline (`--flag=value`) or the next word, which must be no flag.
fn flag_value<'a>(
    name: &str,
    inline_value: Option<&str>,
    words: &mut impl Iterator<Item = &'a str>,
    line: &str,
) -> Result<String, JoinParseError> {
    match inline_value {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        Some(_) => Err(missing_value(name, line)),
        None => match words.next() {
            Some(v) if !v.starts_with("--") => Ok(v.to_string()),
            _ => Err(missing_value(name, line)),
        },
    }
}

fn missing_value(name: &str, line: &str) -> JoinParseError {
    JoinParseError::MissingValue {
        flag: format!("--{name}"),
        line: line.to_string(),
    }
}

/// The last line that starts (after blanks) with `kubeadm join`, with its `\` continuations
/// joined, trimmed.
fn find_join_line(output: &str) -> Option<String> {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines.iter().rposition(|l| {
        let mut words = l.split_whitespace();
        words.next() == Some("kubeadm") && words.next() == Some("join")
    })?;
    let mut joined = String::new();
    for l in &lines[start..] {
        let l = l.trim();
        match l.strip_suffix('\\') {
            Some(continued) => {
                joined.push_str(continued);
                joined.push(' ');
            }
            None => {
                joined.push_str(l);
                break;
            }
        }
    }
    Some(joined.trim().to_string())
}

/// The last `n` non-empty lines of `output`, each trimmed, or `(no output)`.
fn tail(output: &str, n: usize) -> String {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return "(no output)".to_string();
    }
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `host:port`: an IPv6 address in brackets, an IPv4 address or a DNS name, and a port 1-65535.
fn check_endpoint(endpoint: &str) -> Result<(), String> {
    let port = if let Some(rest) = endpoint.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "no `]` closing the IPv6 address".to_string())?;
        host.parse::<Ipv6Addr>()
            .map_err(|_| format!("`{host}` is not an IPv6 address"))?;
        after
            .strip_prefix(':')
            .ok_or_else(|| "no `:port` after the bracketed address".to_string())?
    } else {
        let (host, port) = endpoint
            .rsplit_once(':')
            .ok_or_else(|| "no `:port`".to_string())?;
        if host.contains(':') {
            return Err("an IPv6 address must be written in brackets, `[addr]:port`".to_string());
        }
        if host.parse::<Ipv4Addr>().is_err() && !is_dns_name(host) {
            return Err(format!("`{host}` is neither an IP address nor a DNS name"));
        }
        port
    };
    match port.parse::<u16>() {
        Ok(p) if p != 0 && port.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        _ => Err(format!("port `{port}` is not a number from 1 to 65535")),
    }
}

fn is_dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.trim_end_matches('.').split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn is_lower_alnum(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `[a-z0-9]{6}\.[a-z0-9]{16}`, the bootstrap token format.
fn is_token(token: &str) -> bool {
    matches!(token.split_once('.'), Some((id, secret)) if is_lower_alnum(id, 6) && is_lower_alnum(secret, 16))
}

/// `sha256:` and 64 lowercase hex digits.
fn is_ca_cert_hash(hash: &str) -> bool {
    hash.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

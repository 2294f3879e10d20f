//! CoreDNS's Corefile: point the root zone's `forward .` at the cluster's DNS64 server.
//!
//! kubeadm's default Corefile forwards to `/etc/resolv.conf`, which CoreDNS inherits from the
//! node (`dnsPolicy: Default`); on IPv6 clusters that is the wrong resolver (kind's IPv6
//! clusters break here with an IPv4 one). The fix edits the one directive and leaves every
//! other byte alone, so the rest of the Corefile stays exactly as kubeadm (or a user) wrote it.

use anyhow::{bail, Result};
use std::net::IpAddr;
use std::ops::Range;

/// Replaces the upstream of the `forward .` directive in the server block for the root zone (`.:53 {`)
/// with `upstreams` (IPv6 written as `[addr]:53`, IPv4 as `addr:53`), keeping the directive's own
/// block (e.g. `max_concurrent 1000`) and everything else byte for byte. Errors when there is no
/// root server block or no `forward .` line in it, or when upstreams is empty.
///
/// The root server block is the one whose keys include `.` or `.:53` (optionally `dns://`);
/// more than one such block, or more than one `forward .` in it, is an error, as are
/// unbalanced braces.
pub(crate) fn forward_to(corefile: &str, upstreams: &[IpAddr]) -> Result<String> {
    if upstreams.is_empty() {
        bail!("no upstream DNS server to forward the root zone to");
    }
    let replaced = root_forward_upstreams(corefile)?;
    let new: Vec<String> = upstreams
        .iter()
        .map(|ip| match ip {
            IpAddr::V6(v6) => format!("[{v6}]:53"),
            IpAddr::V4(v4) => format!("{v4}:53"),
        })
        .collect();
    let new = new.join(" ");
    let mut out = String::with_capacity(corefile.len() + new.len());
    out.push_str(&corefile[..replaced.start]);
    if replaced.is_empty() {
        // `forward .` without upstreams: insert them after the dot.
        out.push(' ');
    }
    out.push_str(&new);
    out.push_str(&corefile[replaced.end..]);
    Ok(out)
}

/// One token of a Corefile: its text and byte range, and the line it is on.
#[derive(Debug)]
struct Token<'a> {
    text: &'a str,
    span: Range<usize>,
    line: usize,
}

/// Splits a Corefile into whitespace-separated tokens the way CoreDNS's (Caddy's) lexer does
/// for our purposes: `#` at the start of a token comments out the rest of the line, and a
/// token starting with `"` runs to the closing unescaped `"` (so braces in quotes do not count).
fn tokens(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut line = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' {
            line += 1;
            i += 1;
        } else if b.is_ascii_whitespace() {
            i += 1;
        } else if b == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else {
            let start = i;
            let start_line = line;
            if b == b'"' {
                i += 1;
                let mut escaped = false;
                while i < bytes.len() {
                    let c = bytes[i];
                    i += 1;
                    if c == b'\n' {
                        line += 1;
                    }
                    if escaped {
                        escaped = false;
                    } else if c == b'\\' {
                        escaped = true;
                    } else if c == b'"' {
                        break;
                    }
                }
            }
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            out.push(Token {
                text: &text[start..i],
                span: start..i,
                line: start_line,
            });
        }
    }
    out
}

/// Whether a server block key names the root zone on port 53.
fn is_root_key(key: &str) -> bool {
    let key = key.trim_end_matches(',');
    let key = key.strip_prefix("dns://").unwrap_or(key);
    key == "." || key == ".:53"
}

/// The byte range of the upstreams of the root server block's `forward .` directive (empty,
/// just after the dot, when the directive has none).
fn root_forward_upstreams(corefile: &str) -> Result<Range<usize>> {
    let toks = tokens(corefile);
    let mut scan = RootScan::default();
    let mut i = 0;
    while i < toks.len() {
        i += scan.token(&toks, i)? + 1;
    }
    scan.upstreams()
}

/// Where a scan of the Corefile's tokens is: the block depth, the server block keys read
/// before the next brace, and what it found of the root zone.
#[derive(Default)]
struct RootScan<'a> {
    depth: usize,
    keys: Vec<&'a str>,
    /// Inside a server block for the root zone.
    in_root: bool,
    root_blocks: usize,
    /// The upstreams of every `forward .` in a root block.
    found: Vec<Range<usize>>,
}

impl<'a> RootScan<'a> {
    /// Reads token `i`; returns how many tokens after it it consumed too.
    fn token(&mut self, toks: &[Token<'a>], i: usize) -> Result<usize> {
        let tok = &toks[i];
        match (self.depth, tok.text) {
            (0, "}") => bail!(
                "unbalanced braces in the Corefile: `}}` on line {} closes nothing",
                tok.line + 1
            ),
            (0, text) => self.server_key(text),
            (_, "{") => self.depth += 1,
            (_, "}") => {
                self.depth -= 1;
                if self.depth == 0 {
                    self.in_root = false;
                }
            }
            (1, directive) => {
                let args = arguments(toks, i);
                if directive == "forward" && self.in_root {
                    self.forward(args);
                }
                return Ok(args.len());
            }
            _ => {}
        }
        Ok(0)
    }

    /// Server block keys, up to the opening brace (`.:53 {` or `.:53{`).
    fn server_key(&mut self, text: &'a str) {
        let (key, opens) = match text.strip_suffix('{') {
            Some(key) => (key, true),
            None => (text, false),
        };
        if !key.is_empty() {
            self.keys.push(key);
        }
        if opens {
            self.in_root = self.keys.iter().any(|k| is_root_key(k));
            if self.in_root {
                self.root_blocks += 1;
            }
            self.keys.clear();
            self.depth = 1;
        }
    }

    /// A `forward` directive of a root block: its upstreams when it forwards `.`.
    fn forward(&mut self, args: &[Token<'a>]) {
        if args.first().map(|t| t.text) == Some(".") {
            let dot = args[0].span.clone();
            let range = match (args.get(1), args.last()) {
                (Some(first), Some(last)) => first.span.start..last.span.end,
                _ => dot.end..dot.end,
            };
            self.found.push(range);
        }
    }

    /// The one root block's one `forward .`, once the whole Corefile is read.
    fn upstreams(mut self) -> Result<Range<usize>> {
        if self.depth != 0 {
            bail!(
                "unbalanced braces in the Corefile: {} block(s) not closed",
                self.depth
            );
        }
        if !self.keys.is_empty() {
            bail!(
                "the Corefile ends with server block keys but no block: `{}`",
                self.keys.join(" ")
            );
        }
        match self.root_blocks {
            0 => bail!("the Corefile has no server block for the root zone (`.:53 {{`)"),
            1 => {}
            n => {
                bail!("the Corefile has {n} server blocks for the root zone (`.:53 {{`), expected one")
            }
        }
        match self.found.len() {
            0 => bail!("the root zone's server block (`.:53 {{`) has no `forward .` directive"),
            1 => Ok(self.found.remove(0)),
            n => bail!(
                "the root zone's server block (`.:53 {{`) has {n} `forward .` directives, expected one"
            ),
        }
    }
}

/// A directive's arguments: the tokens after token `i` on its line, up to a brace.
fn arguments<'t, 'a>(toks: &'t [Token<'a>], i: usize) -> &'t [Token<'a>] {
    let line = toks[i].line;
    let rest = &toks[i + 1..];
    let count = rest
        .iter()
        .take_while(|t| t.line == line && t.text != "{" && t.text != "}")
        .count();
    &rest[..count]
}

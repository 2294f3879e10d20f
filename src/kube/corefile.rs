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
    let mut depth = 0usize;
    let mut keys: Vec<&str> = Vec::new();
    let mut in_root = false;
    let mut root_blocks = 0;
    let mut found: Vec<Range<usize>> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let tok = &toks[i];
        match (depth, tok.text) {
            (0, "}") => bail!(
                "unbalanced braces in the Corefile: `}}` on line {} closes nothing",
                tok.line + 1
            ),
            (0, text) => {
                // Server block keys, up to the opening brace (`.:53 {` or `.:53{`).
                let (key, opens) = match text.strip_suffix('{') {
                    Some(key) => (key, true),
                    None => (text, false),
                };
                if !key.is_empty() {
                    keys.push(key);
                }
                if opens {
                    in_root = keys.iter().any(|k| is_root_key(k));
                    if in_root {
                        root_blocks += 1;
                    }
                    keys.clear();
                    depth = 1;
                }
            }
            (_, "{") => depth += 1,
            (_, "}") => {
                depth -= 1;
                if depth == 0 {
                    in_root = false;
                }
            }
            (1, "forward") if in_root => {
                // The directive's arguments: the rest of its line, up to a brace.
                let args: Vec<&Token> = toks[i + 1..]
                    .iter()
                    .take_while(|t| t.line == tok.line && t.text != "{" && t.text != "}")
                    .collect();
                if args.first().map(|t| t.text) == Some(".") {
                    let dot = args[0].span.clone();
                    let range = match (args.get(1), args.last()) {
                        (Some(first), Some(last)) => first.span.start..last.span.end,
                        _ => dot.end..dot.end,
                    };
                    found.push(range);
                }
                i += args.len();
            }
            (1, _) => {
                // Another directive: skip its arguments on the same line.
                let line = tok.line;
                while toks
                    .get(i + 1)
                    .is_some_and(|t| t.line == line && t.text != "{" && t.text != "}")
                {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if depth != 0 {
        bail!("unbalanced braces in the Corefile: {depth} block(s) not closed");
    }
    if !keys.is_empty() {
        bail!(
            "the Corefile ends with server block keys but no block: `{}`",
            keys.join(" ")
        );
    }
    match root_blocks {
        0 => bail!("the Corefile has no server block for the root zone (`.:53 {{`)"),
        1 => {}
        n => {
            bail!("the Corefile has {n} server blocks for the root zone (`.:53 {{`), expected one")
        }
    }
    match found.len() {
        0 => bail!("the root zone's server block (`.:53 {{`) has no `forward .` directive"),
        1 => Ok(found.remove(0)),
        n => bail!(
            "the root zone's server block (`.:53 {{`) has {n} `forward .` directives, expected one"
        ),
    }
}

//! Every relative link in README.md and docs/*.md leads somewhere: to a file that exists and,
//! when it names a `#section` of a Markdown file, to a heading of that file.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every Markdown file of docs/.
fn documents() -> Vec<PathBuf> {
    let mut found = vec![root().join("README.md")];
    for entry in fs::read_dir(root().join("docs")).expect("read docs/") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|ext| ext == "md") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// The lines outside fenced code blocks.
fn prose(text: &str) -> impl Iterator<Item = &str> {
    let mut fenced = false;
    text.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            return false;
        }
        !fenced
    })
}

/// The targets of inline links, `[text](target)`, outside code.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose(text) {
        // Inline code may hold `](`; only the text between code spans can link.
        for (index, part) in line.split('`').enumerate() {
            if index % 2 == 1 {
                continue;
            }
            let mut rest = part;
            while let Some(at) = rest.find("](") {
                rest = &rest[at + 2..];
                if let Some(end) = rest.find(')') {
                    targets.push(rest[..end].trim().to_string());
                    rest = &rest[end..];
                }
            }
        }
    }
    targets
}

/// GitHub's anchor for a heading: lower case, without punctuation, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings; a repeated heading gets `-1`, `-2`, ...
fn anchors(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in prose(text) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let base = anchor(heading);
        let mut name = base.clone();
        let mut n = 0;
        while found.contains(&name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        found.insert(name);
    }
    found
}

/// What is wrong with one link of `document`, if anything.
fn broken(document: &Path, target: &str) -> Option<String> {
    if target.contains("://") || target.starts_with("mailto:") {
        return None;
    }
    let (file, section) = match target.split_once('#') {
        Some((file, section)) => (file, Some(section)),
        None => (target, None),
    };
    let path = if file.is_empty() {
        document.to_path_buf()
    } else {
        document.parent().expect("a directory").join(file)
    };
    if !path.exists() {
        return Some(format!("{target}: no file {}", path.display()));
    }
    let section = section?;
    if path.extension().is_none_or(|ext| ext != "md") {
        return None;
    }
    let text = fs::read_to_string(&path).expect("read a linked document");
    (!anchors(&text).contains(section))
        .then(|| format!("{target}: {} has no heading `#{section}`", path.display()))
}

#[test]
fn every_relative_link_of_the_documentation_resolves() {
    let mut problems = Vec::new();
    let mut links = 0;
    for document in documents() {
        let text = fs::read_to_string(&document).expect("read a document");
        for target in link_targets(&text) {
            links += 1;
            if let Some(problem) = broken(&document, &target) {
                problems.push(format!("{}: {problem}", document.display()));
            }
        }
    }
    assert!(links > 0, "no links found: the scanner is broken");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn anchors_follow_githubs_rules() {
    let text = "# dind\n## Control plane: `dind up` against a script\n## Nodes in kind's shape\n\
                ```\n# not a heading\n```\n## Nodes in kind's shape\n#nospace\n";
    let found: Vec<String> = anchors(text).into_iter().collect();
    assert_eq!(
        found,
        [
            "control-plane-dind-up-against-a-script",
            "dind",
            "nodes-in-kinds-shape",
            "nodes-in-kinds-shape-1",
        ]
    );
}

#[test]
fn links_are_read_outside_code_only() {
    let text = "See [a](a.md) and `[b](b.md)`, [c](c.md#x).\n```\n[d](d.md)\n```\n";
    assert_eq!(link_targets(text), ["a.md", "c.md#x"]);
}

#[test]
fn a_missing_file_or_heading_is_named() {
    let readme = root().join("README.md");
    assert_eq!(broken(&readme, "https://example.com/x"), None);
    assert_eq!(broken(&readme, "docs/configuration.md"), None);
    assert!(
        broken(&readme, "docs/no-such-page.md").is_some_and(|problem| problem.contains("no file"))
    );
    assert!(broken(&readme, "docs/configuration.md#no-such-heading")
        .is_some_and(|problem| problem.contains("no heading `#no-such-heading`")));
}

//! The crate's layers, checked on its own source: data flows config -> plan -> render ->
//! apply, and no import runs back. docs/design.md describes the same table.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Each top-level module and its layer. A module may import only modules of lower layers;
/// modules of one layer do not import each other.
const LAYERS: &[(&str, u8)] = &[
    ("progress", 0),
    ("interrupt", 0),
    ("exit", 1),
    ("config", 1),
    ("plan", 2),
    ("labels", 3),
    ("render", 4),
    ("kube", 5),
    ("engine", 5),
    ("state", 6),
    ("preflight", 7),
    ("cluster", 8),
    ("diagnose", 8),
    ("cli", 9),
];

/// The only modules that may name the Docker client library.
const DOCKER_CLIENT_USERS: &[&str] = &["engine"];

fn layer_of(module: &str) -> Option<u8> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, layer)| *layer)
}

fn source_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            source_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The top-level module a file belongs to: `src/render/kubeadm.rs` -> `render`.
fn owning_module(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("under src");
    let first = relative.components().next().expect("a component");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

/// The file's code without its unit tests: a `tests.rs` file has none, others are cut at
/// their `#[cfg(test)]` module.
fn production_code(file: &Path, text: &str) -> Option<String> {
    if file.file_name().is_some_and(|name| name == "tests.rs") {
        return None;
    }
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let without_comments = code
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    Some(without_comments)
}

/// Every top-level module the code names through `crate::`, including the items of
/// `use crate::{a, b::c}` groups.
fn imported_modules(code: &str) -> BTreeSet<String> {
    let mut modules = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item_start = true;
            let mut word = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => item_start = true,
                    _ => {}
                }
                if depth == 0 {
                    if !word.is_empty() {
                        modules.insert(std::mem::take(&mut word));
                    }
                    break;
                }
                if item_start && (c.is_alphanumeric() || c == '_') {
                    word.push(c);
                } else if !word.is_empty() {
                    modules.insert(std::mem::take(&mut word));
                    item_start = false;
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            modules.insert(name);
        }
    }
    modules
}

struct Violation {
    file: PathBuf,
    why: String,
}

fn violations() -> Vec<Violation> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let module = owning_module(&src, &file);
        let Some(own_layer) = layer_of(&module) else {
            continue;
        };
        let text = fs::read_to_string(&file).expect("read source");
        let Some(code) = production_code(&file, &text) else {
            continue;
        };
        for imported in imported_modules(&code) {
            if imported == module {
                continue;
            }
            match layer_of(&imported) {
                Some(layer) if layer < own_layer => {}
                Some(layer) => found.push(Violation {
                    file: file.clone(),
                    why: format!("{module} (layer {own_layer}) imports {imported} (layer {layer})"),
                }),
                None => found.push(Violation {
                    file: file.clone(),
                    why: format!("{module} imports {imported}, which has no layer"),
                }),
            }
        }
        if !DOCKER_CLIENT_USERS.contains(&module.as_str()) && code.contains("bollard") {
            found.push(Violation {
                file: file.clone(),
                why: format!("{module} names bollard; only engine/ talks to Docker"),
            });
        }
    }
    found
}

#[test]
fn imports_follow_the_flow_and_only_the_engine_names_bollard() {
    let found = violations();
    let report: Vec<String> = found
        .iter()
        .map(|v| format!("{}: {}", v.file.display(), v.why))
        .collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn every_top_level_module_has_a_layer() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let unplaced: BTreeSet<String> = files
        .iter()
        .map(|file| owning_module(&src, file))
        .filter(|module| {
            layer_of(module).is_none()
                && !["lib", "main", "layering", "test_support", "docs_links"]
                    .contains(&module.as_str())
        })
        .collect();
    assert!(unplaced.is_empty(), "modules without a layer: {unplaced:?}");
}

#[test]
fn the_import_scanner_sees_groups_and_paths() {
    let code = "use crate::{config::{self, Config}, plan};\nlet x = crate::render::kubeadm::f();";
    let found: Vec<String> = imported_modules(code).into_iter().collect();
    assert_eq!(found, ["config", "plan", "render"]);
}

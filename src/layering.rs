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
/// their inline `#[cfg(test)]` module (`mod tests;`, the declaration of a tests.rs, may
/// stand above the file's code).
fn production_code(file: &Path, text: &str) -> Option<String> {
    if file.file_name().is_some_and(|name| name == "tests.rs") {
        return None;
    }
    let code = match text.find("#[cfg(test)]\nmod tests {") {
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

// ---------------------------------------------------------------- cycles inside a folder

/// The files of one folder as units: each `x.rs` is `x`, each subfolder one unit of its
/// name, and the folder's own module file (`mod.rs`, or `folder.rs` beside it) is `mod`.
struct Folder {
    /// The folder's module path: `crate::config`.
    module: Vec<String>,
    /// (unit, file, the file's module path) for every production file of the folder.
    files: Vec<(String, PathBuf, Vec<String>)>,
    /// Names the module file imports from a unit: `Config` -> `validated`.
    reexports: Vec<(String, String)>,
}

const MOD_UNIT: &str = "mod";

fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("under src");
    let mut path = vec!["crate".to_string()];
    for component in relative.components() {
        let name = component.as_os_str().to_string_lossy();
        let name = name.trim_end_matches(".rs");
        if name != "mod" {
            path.push(name.to_string());
        }
    }
    path
}

fn folder(src: &Path, dir: &Path) -> Folder {
    let module = module_path(src, dir);
    let mut all = Vec::new();
    source_files(dir, &mut all);
    let crate_root = dir == src;
    let own_file = if crate_root {
        dir.join("lib.rs")
    } else if dir.join("mod.rs").exists() {
        dir.join("mod.rs")
    } else {
        dir.with_extension("rs")
    };
    all.push(own_file.clone());
    all.sort();
    let mut files = Vec::new();
    for file in all {
        let test_code = file.file_name().is_some_and(|name| name == "tests.rs")
            || file
                .strip_prefix(dir)
                .is_ok_and(|relative| relative.parent().is_some_and(is_tests_folder));
        // A crate root's main.rs is a crate of its own, the binary.
        let binary = crate_root && file.file_name().is_some_and(|name| name == "main.rs");
        if test_code || binary || !file.exists() {
            continue;
        }
        let unit = if file == own_file {
            MOD_UNIT.to_string()
        } else {
            let relative = file.strip_prefix(dir).expect("in the folder");
            let first = relative.components().next().expect("a component");
            first
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        };
        let path = module_path(src, &file);
        files.push((unit, file, path));
    }
    let units: BTreeSet<String> = files.iter().map(|(unit, ..)| unit.clone()).collect();
    let own_text = fs::read_to_string(&own_file).unwrap_or_default();
    let mut reexports = Vec::new();
    for statement in use_statements(&own_text) {
        for leaf in expand(&statement) {
            let (Some(first), Some(last)) = (leaf.first(), leaf.last()) else {
                continue;
            };
            if units.contains(first) && leaf.len() > 1 && last != "self" {
                reexports.push((last.clone(), first.clone()));
            }
        }
    }
    Folder {
        module,
        files,
        reexports,
    }
}

/// The `use` statements of a file's top level, without `use` and `;` (and `pub(...)`).
fn use_statements(text: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("use ") {
        let line_start = rest[..at].rfind('\n').map_or(0, |n| n + 1);
        let before = rest[line_start..at].trim();
        let starts_statement = before.is_empty() || before.starts_with("pub");
        let after = &rest[at + 4..];
        let end = after.find(';').unwrap_or(after.len());
        if starts_statement && line_start == rest[..at].len() - rest[line_start..at].len() {
            statements.push(
                after[..end]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        rest = &after[end..];
    }
    statements
}

/// The paths a `use` tree (or a path with a group) names, each as its segments: `a::{b, c::d}`
/// -> `[a, b]`, `[a, c, d]`. An alias names the path it renames.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let Some(open) = tree.find('{') else {
        let tree = tree.split(" as ").next().unwrap_or(tree);
        return vec![tree
            .split("::")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()];
    };
    let prefix: Vec<String> = tree[..open]
        .split("::")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    let mut paths = Vec::new();
    for item in items.into_iter().map(str::trim).filter(|s| !s.is_empty()) {
        for leaf in expand(item) {
            let mut path = prefix.clone();
            path.extend(leaf.into_iter().filter(|s| s != "self"));
            paths.push(path);
        }
    }
    paths
}

/// Every path the code names from `crate::`, `super::` or `self::`, made absolute
/// (`crate::...`), groups expanded.
fn absolute_paths(code: &str, own: &[String]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start).map(|a| a + from) {
            from = at + start.len();
            let preceded =
                at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
            if preceded || (at > 0 && bytes[at - 1] == b':') {
                continue;
            }
            // The path: identifiers, `::`, and one balanced group.
            let mut end = at;
            let mut depth = 0;
            for (i, c) in code[at..].char_indices() {
                let inside = c.is_alphanumeric() || c == '_' || c == ':' || c == '*';
                match c {
                    '{' => depth += 1,
                    '}' if depth > 0 => depth -= 1,
                    _ if depth > 0 || inside => {}
                    _ => {
                        end = at + i;
                        break;
                    }
                }
                end = at + i + c.len_utf8();
                if depth == 0 && c == '}' {
                    break;
                }
            }
            let text = code[at..end]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            for mut path in expand(&text) {
                // `self` of a module file is its module; of another file, the file's.
                let base: Vec<String> = match path.first().map(String::as_str) {
                    Some("crate") => Vec::new(),
                    Some("self") => own.to_vec(),
                    Some("super") => {
                        let mut base = own.to_vec();
                        while path.first().map(String::as_str) == Some("super") {
                            path.remove(0);
                            base.pop();
                        }
                        path.insert(0, "super".into());
                        base
                    }
                    _ => continue,
                };
                path.remove(0);
                let mut absolute = base;
                absolute.extend(path);
                if absolute.first().map(String::as_str) != Some("crate") {
                    absolute.insert(0, "crate".into());
                }
                found.push(absolute);
            }
        }
    }
    found
}

/// A `mod` or `use` line, public or not (the continuation lines of a long `use` group are
/// left, and name nothing as `unit::`).
fn declares_or_imports(line: &str) -> bool {
    let mut line = line.trim_start();
    if let Some(rest) = line.strip_prefix("pub") {
        line = match rest.strip_prefix('(') {
            Some(inner) => inner.split_once(')').map_or("", |(_, after)| after),
            None => rest,
        }
        .trim_start();
    }
    line.starts_with("use ") || line.starts_with("mod ")
}

/// Whether `code` names `name` as a whole word.
fn names(code: &str, name: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back().is_none_or(|c| !word(c));
        let after = code[at + name.len()..]
            .chars()
            .next()
            .is_none_or(|c| !word(c));
        before && after
    })
}

/// unit -> the units it uses, inside one folder.
fn folder_graph(folder: &Folder) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let mut graph: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    let units: BTreeSet<String> = folder.files.iter().map(|(u, ..)| u.clone()).collect();
    let unit_of_name = |name: &str| -> String {
        if units.contains(name) {
            return name.to_string();
        }
        folder
            .reexports
            .iter()
            .find(|(item, _)| item == name)
            .map_or(MOD_UNIT.to_string(), |(_, unit)| unit.clone())
    };
    for (unit, file, own) in &folder.files {
        graph.entry(unit.clone()).or_default();
        let text = fs::read_to_string(file).expect("read source");
        let code = production_code(file, &text).unwrap_or_default();
        let is_module_file = unit == MOD_UNIT;
        // A module file's own `use` lines of its units are its re-exports, not uses.
        let code: String = if is_module_file {
            code.lines()
                .filter(|line| !declares_or_imports(line))
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            code
        };
        let own_module = if is_module_file {
            folder.module.clone()
        } else {
            own.clone()
        };
        // A file's `self`/`super` are its module's; a module file's `super` is the folder's
        // parent, its `self` the folder.
        let mut uses = BTreeSet::new();
        for path in absolute_paths(&code, &own_module) {
            if path.len() <= folder.module.len() || path[..folder.module.len()] != folder.module[..]
            {
                continue;
            }
            uses.insert(unit_of_name(&path[folder.module.len()]));
        }
        if is_module_file {
            for unit_name in &units {
                if code.contains(&format!("{unit_name}::")) {
                    uses.insert(unit_name.clone());
                }
            }
            for (name, from) in &folder.reexports {
                if names(&code, name) {
                    uses.insert(from.clone());
                }
            }
        }
        uses.remove(unit);
        graph.entry(unit.clone()).or_default().extend(uses);
    }
    graph
}

/// The cycles of a graph: its strongly connected components of more than one unit.
fn cycles(graph: &std::collections::BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reaches = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(unit) = todo.pop() {
            for next in graph.get(&unit).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reach: std::collections::BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|unit| (unit, reaches(unit))).collect();
    let mut found: Vec<Vec<String>> = Vec::new();
    for unit in graph.keys() {
        if found.iter().any(|cycle| cycle.contains(unit)) {
            continue;
        }
        let cycle: Vec<String> = graph
            .keys()
            .filter(|other| {
                *other == unit || (reach[unit].contains(*other) && reach[other].contains(unit))
            })
            .cloned()
            .collect();
        if cycle.len() > 1 {
            found.push(cycle);
        }
    }
    found
}

fn folders(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read a folder") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            found.push(path.clone());
            folders(&path, found);
        }
    }
}

/// Whether `path` is, or lies in, a `tests` folder: test code, as a `tests.rs` file is.
fn is_tests_folder(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "tests")
}

/// The source folders whose files may not import each other in a cycle: every folder of
/// dind's src/ (its top level is the layer table's), and all of dind-nat64's src/, its top
/// level included.
const CYCLE_FREE_ROOTS: &[(&str, bool)] = &[("src", false), ("crates/dind-nat64/src", true)];

/// Every folder's cycles: (the folder, as `src/config`; the units of one cycle).
fn folder_cycles() -> Vec<(String, Vec<String>)> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for &(root, with_top_level) in CYCLE_FREE_ROOTS {
        let src = manifest.join(root);
        let mut dirs = Vec::new();
        if with_top_level {
            dirs.push(src.clone());
        }
        folders(&src, &mut dirs);
        dirs.retain(|dir| !is_tests_folder(dir.strip_prefix(&src).expect("under src")));
        dirs.sort();
        for dir in dirs {
            let folder = folder(&src, &dir);
            let name = Path::new(root)
                .join(dir.strip_prefix(&src).expect("under src"))
                .display()
                .to_string();
            for cycle in cycles(&folder_graph(&folder)) {
                found.push((name.clone(), cycle));
            }
        }
    }
    found
}

#[test]
fn no_folder_has_an_import_cycle_between_its_files() {
    let lines: Vec<String> = folder_cycles()
        .iter()
        .map(|(folder, units)| format!("{folder}/: {}", units.join(", ")))
        .collect();
    assert!(
        lines.is_empty(),
        "import cycles between the files of a folder: {lines:#?}; break each by moving what \
         its files share into a module below them"
    );
}

#[test]
fn production_code_ends_at_the_inline_test_module_only() {
    let file = Path::new("translate/mod.rs");
    let text =
        "mod a;\n#[cfg(test)]\nmod tests;\nuse a::B;\n#[cfg(test)]\nmod tests {\nuse c::D;\n}\n";
    let code = production_code(file, text).expect("not a tests.rs");
    assert!(code.contains("use a::B;"), "{code}");
    assert!(!code.contains("use c::D;"), "{code}");
    assert_eq!(production_code(Path::new("x/tests.rs"), text), None);
}

#[test]
fn the_cycle_finder_covers_dind_nat64_and_skips_test_folders() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let src = manifest.join("crates/dind-nat64/src");
    let top = folder(&src, &src);
    let units: BTreeSet<&str> = top.files.iter().map(|(unit, ..)| unit.as_str()).collect();
    assert!(
        units.contains(MOD_UNIT) && units.contains("translate"),
        "{units:?}"
    );
    assert!(
        !units.contains("main"),
        "main.rs is the binary's crate: {units:?}"
    );
    let translate = folder(&src, &src.join("translate"));
    assert!(
        translate.files.iter().all(|(unit, ..)| unit != "tests"),
        "test code is no unit"
    );
    assert!(is_tests_folder(Path::new("translate/tests")));
    assert!(!is_tests_folder(Path::new("translate")));
}

#[test]
fn the_cycle_finder_sees_super_crate_and_reexports() {
    let own = vec!["crate".to_string(), "config".into(), "check".into()];
    let paths = absolute_paths(
        "use super::{table::Basis, Config};\nlet x = crate::config::layer::Sourced::new();",
        &own,
    );
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        joined,
        [
            "crate::config::layer::Sourced::new",
            "crate::config::table::Basis",
            "crate::config::Config"
        ]
    );
    let mut graph = std::collections::BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    graph.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    graph.insert("d".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycles(&graph), [vec!["a", "b", "c"]]);
}

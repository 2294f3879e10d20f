//! docs/configuration.md's settings table, rendered from the rows of settings.rs and compared
//! with the text between its two markers, so the documentation cannot drift from the code.
//! `UPDATE_GOLDEN=1 cargo test --lib config::docs_table` rewrites it, as for golden files.

use super::table::{Fallback, Flag, Setting};
use super::SETTINGS;
use std::path::PathBuf;

const BEGIN: &str = "<!-- settings table: generated from src/config/settings.rs -->";
const END: &str = "<!-- end of the settings table -->";

fn code(text: &str) -> String {
    format!("`{}`", text.replace('|', "\\|"))
}

fn flag_cell(row: &Setting) -> String {
    match row.flag {
        Flag::None => String::new(),
        Flag::Value(value_name) => code(&format!("{} {value_name}", row.name)),
        Flag::Switch { long, .. } => code(long),
    }
}

fn env_cell(row: &Setting) -> String {
    let names: Vec<String> = row.env.names().into_iter().map(code).collect();
    names.join(" + ")
}

fn default_cell(row: &Setting) -> String {
    match row.fallback {
        Fallback::Value(value) => value.to_string(),
        Fallback::PerMode {
            ipv4,
            ipv6,
            dual_stack,
        } => format!("ipv6: {ipv6}; ipv4: {ipv4}; dual-stack: {dual_stack}"),
        Fallback::PerClusterId { text, .. } => text.to_string(),
        Fallback::Absent("") => "none".to_string(),
        Fallback::Absent(meaning) => meaning.to_string(),
    }
}

fn table_row(row: &Setting) -> String {
    let cells = [
        flag_cell(row),
        env_cell(row),
        code(row.file.key()),
        default_cell(row).replace('|', "\\|"),
        row.help.replace('|', "\\|"),
    ];
    format!("| {} |", cells.join(" | "))
}

/// The table as docs/configuration.md holds it: a header, then one line per row.
fn render(rows: &[&Setting]) -> String {
    let mut text = String::from(
        "| flag | environment | file key | default | what it sets |\n|---|---|---|---|---|\n",
    );
    for row in rows {
        text.push_str(&table_row(row));
        text.push('\n');
    }
    text
}

fn doc_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join("configuration.md")
}

/// The document split around its table: what comes before, the table, what comes after.
fn split(doc: &str) -> Option<(&str, &str, &str)> {
    let (before, rest) = doc.split_once(BEGIN)?;
    let (table, after) = rest.split_once(END)?;
    Some((before, table, after))
}

#[test]
fn the_documented_settings_table_is_the_one_in_settings_rs() {
    let path = doc_path();
    let doc = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let Some((before, table, after)) = split(&doc) else {
        panic!(
            "{} lacks the markers `{BEGIN}` and `{END}` around its settings table",
            path.display()
        );
    };
    let expected = format!("\n{}", render(SETTINGS));
    if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::write(&path, format!("{before}{BEGIN}{expected}{END}{after}"))
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        return;
    }
    pretty_assertions::assert_eq!(
        table,
        expected,
        "{}'s settings table differs from the rows of src/config/settings.rs; run \
         `UPDATE_GOLDEN=1 cargo test --lib config::docs_table` to rewrite it, then review the diff",
        path.display()
    );
}

#[test]
fn a_row_shows_its_flag_variables_key_default_and_help() {
    use super::table::{Env, File};
    let switch = Setting {
        field: "registry",
        name: "--registry",
        flag: Flag::Switch {
            long: "--registry",
            sets: "true",
        },
        env: Env::Var("DIND_REGISTRY"),
        file: File::Scalar("registry"),
        fallback: Fallback::Value("false"),
        help: "Run a registry",
    };
    let per_mode = Setting {
        field: "pod_cidrs",
        name: "--pod-cidrs",
        flag: Flag::Value("CIDRS"),
        env: Env::Var("POD_NETWORK_CIDR"),
        file: File::List("podCIDRs"),
        fallback: Fallback::PerMode {
            ipv4: "10.244.0.0/16",
            ipv6: "fd00:40::/72",
            dual_stack: "10.244.0.0/16,fd00:40::/72",
        },
        help: "Pod CIDRs | split per node",
    };
    let file_only = Setting {
        field: "probes",
        name: "probes",
        flag: Flag::None,
        env: Env::None,
        file: File::List("probes"),
        fallback: Fallback::Absent(""),
        help: "Names to probe",
    };
    assert_eq!(
        render(&[&switch, &per_mode, &file_only]),
        "| flag | environment | file key | default | what it sets |\n\
         |---|---|---|---|---|\n\
         | `--registry` | `DIND_REGISTRY` | `registry` | false | Run a registry |\n\
         | `--pod-cidrs CIDRS` | `POD_NETWORK_CIDR` | `podCIDRs` | ipv6: fd00:40::/72; ipv4: \
         10.244.0.0/16; dual-stack: 10.244.0.0/16,fd00:40::/72 | Pod CIDRs \\| split per node |\n\
         |  |  | `probes` | none | Names to probe |\n"
    );
}

#[test]
fn the_table_is_found_between_its_markers_only() {
    let doc = format!("intro\n{BEGIN}\n| a |\n{END}\nrest\n");
    assert_eq!(split(&doc), Some(("intro\n", "\n| a |\n", "\nrest\n")));
    assert_eq!(split("no markers here"), None);
    assert_eq!(split(&format!("{BEGIN} but no end")), None);
}

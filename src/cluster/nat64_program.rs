//! The `dind-nat64` program (crates/dind-nat64, a package of dind's workspace) that `up` copies into the NAT64 container for engine
//! dind-nat64: where it is looked for, and reading it before anything is created.

use crate::exit::InvalidInput;
use anyhow::{anyhow, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Names the program's path, instead of the one beside dind's executable.
pub(crate) const PROGRAM_ENV: &str = "DIND_NAT64_BINARY";
/// The program's file name; cargo builds it beside `dind` (the workspace's target directory),
/// and `cargo install --path crates/dind-nat64` installs it beside an installed `dind`.
pub(crate) const PROGRAM_NAME: &str = "dind-nat64";

/// Where the program is looked for, and who said so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Location {
    /// `DIND_NAT64_BINARY`.
    Named(PathBuf),
    /// Beside dind's own executable.
    BesideDind(PathBuf),
}

impl Location {
    pub(crate) fn path(&self) -> &Path {
        match self {
            Location::Named(path) | Location::BesideDind(path) => path,
        }
    }
}

/// `DIND_NAT64_BINARY` when set (not blank), else `dind-nat64` in the directory of dind's
/// executable (`exe`); None when neither is known.
pub(crate) fn locate(named: Option<OsString>, exe: Option<&Path>) -> Option<Location> {
    if let Some(named) = named.filter(|n| !n.to_string_lossy().trim().is_empty()) {
        return Some(Location::Named(PathBuf::from(named)));
    }
    let dir = exe?.parent()?;
    Some(Location::BesideDind(dir.join(PROGRAM_NAME)))
}

/// The program's bytes: an ELF executable, else an error naming the path and the fix.
pub(crate) fn check(location: &Location, read: std::io::Result<Vec<u8>>) -> Result<Vec<u8>> {
    let path = location.path().display();
    let problem = match read {
        Ok(bytes) if bytes.starts_with(b"\x7fELF") => return Ok(bytes),
        Ok(_) => "is not an executable (ELF) file".to_string(),
        Err(err) => format!("cannot be read ({err})"),
    };
    match location {
        Location::Named(_) => Err(InvalidInput::wrap(anyhow!(
            "invalid {PROGRAM_ENV} '{path}': {problem}; --nat64-engine dind-nat64 copies that \
             program into the NAT64 container. Point {PROGRAM_ENV} at a built dind-nat64 \
             (`cargo build --release --bin dind-nat64` makes target/release/dind-nat64), or unset it"
        ))),
        Location::BesideDind(_) => Err(anyhow!(
            "--nat64-engine dind-nat64 copies the dind-nat64 program into the NAT64 container, \
             and {path} {problem}; build it beside dind (`cargo build --bin dind-nat64` in dind's \
             workspace; for an installed dind, `cargo install --path crates/dind-nat64`), or \
             set {PROGRAM_ENV} to its path"
        )),
    }
}

/// The program for this run, read from this machine; nothing is created yet.
pub(crate) fn load() -> Result<(Location, Vec<u8>)> {
    let exe = std::env::current_exe().ok();
    let location = locate(std::env::var_os(PROGRAM_ENV), exe.as_deref()).ok_or_else(|| {
        anyhow!(
            "--nat64-engine dind-nat64 copies the dind-nat64 program into the NAT64 container, \
             and dind cannot tell where its own executable is to look beside it; set \
             {PROGRAM_ENV} to the program's path"
        )
    })?;
    let bytes = check(&location, std::fs::read(location.path()))?;
    Ok((location, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_wins_over_the_program_beside_dind() {
        let exe = Path::new("/opt/dind/bin/dind");
        assert_eq!(
            locate(Some("/srv/dind-nat64".into()), Some(exe)),
            Some(Location::Named("/srv/dind-nat64".into()))
        );
        assert_eq!(
            locate(None, Some(exe)),
            Some(Location::BesideDind("/opt/dind/bin/dind-nat64".into()))
        );
        assert_eq!(
            locate(Some("  ".into()), Some(exe)),
            Some(Location::BesideDind("/opt/dind/bin/dind-nat64".into()))
        );
        assert_eq!(locate(None, None), None);
    }

    #[test]
    fn a_missing_program_names_the_path_and_the_fix() {
        let missing = || Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        let beside = Location::BesideDind("/opt/dind/bin/dind-nat64".into());
        let err = check(&beside, missing()).unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("/opt/dind/bin/dind-nat64 cannot be read"),
            "{text}"
        );
        assert!(text.contains("`cargo build --bin dind-nat64`"), "{text}");
        assert!(text.contains(PROGRAM_ENV), "{text}");
        assert_eq!(crate::exit::code_of(&err), 1);

        let named = Location::Named("/nonexistent".into());
        let err = check(&named, missing()).unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.starts_with("invalid DIND_NAT64_BINARY '/nonexistent'"),
            "{text}"
        );
        assert_eq!(crate::exit::code_of(&err), crate::exit::INVALID_INPUT);
    }

    #[test]
    fn only_an_elf_file_is_taken() {
        let beside = Location::BesideDind("/x/dind-nat64".into());
        let err = check(&beside, Ok(b"#!/bin/sh\n".to_vec())).unwrap_err();
        assert!(format!("{err:#}").contains("is not an executable (ELF) file"));
        let elf = b"\x7fELF\x02\x01\x01".to_vec();
        assert_eq!(check(&beside, Ok(elf.clone())).unwrap(), elf);
    }
}

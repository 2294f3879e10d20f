//! The translator `up` copies into the NAT64 container for engine dind-nat64: dind's own
//! executable, which runs the translator when started as `dind-nat64` (crates/dind-nat64
//! is a library dind links), so one install of dind carries it and the two never differ in
//! version. `DIND_NAT64_BINARY` names another program instead (a `dind-nat64` built on its
//! own, say). It is read before anything is created.

use crate::exit::InvalidInput;
use anyhow::{anyhow, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Names the program's path, instead of dind's own executable.
pub(crate) const PROGRAM_ENV: &str = "DIND_NAT64_BINARY";
/// The name the program runs under in the container (dind answers to it).
pub(crate) const PROGRAM_NAME: &str = dind_nat64::program::NAME;

/// Where the program is taken from, and who said so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Location {
    /// `DIND_NAT64_BINARY`.
    Named(PathBuf),
    /// dind's own executable.
    Dind(PathBuf),
}

impl Location {
    pub(crate) fn path(&self) -> &Path {
        match self {
            Location::Named(path) | Location::Dind(path) => path,
        }
    }
}

/// `DIND_NAT64_BINARY` when set (not blank), else dind's executable (`exe`); None when
/// neither is known.
pub(crate) fn locate(named: Option<OsString>, exe: Option<&Path>) -> Option<Location> {
    if let Some(named) = named.filter(|n| !n.to_string_lossy().trim().is_empty()) {
        return Some(Location::Named(PathBuf::from(named)));
    }
    Some(Location::Dind(exe?.to_path_buf()))
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
             (`cargo build --release --bin dind-nat64` makes target/release/dind-nat64), or \
             unset it to copy dind itself"
        ))),
        Location::Dind(_) => Err(anyhow!(
            "--nat64-engine dind-nat64 copies dind's own executable into the NAT64 container, \
             and {path} {problem}; set {PROGRAM_ENV} to a dind-nat64 program, or pass \
             --nat64-engine tayga"
        )),
    }
}

/// The program for this run, read from this machine; nothing is created yet.
pub(crate) fn load() -> Result<(Location, Vec<u8>)> {
    let exe = std::env::current_exe().ok();
    let location = locate(std::env::var_os(PROGRAM_ENV), exe.as_deref()).ok_or_else(|| {
        anyhow!(
            "--nat64-engine dind-nat64 copies dind's own executable into the NAT64 container, \
             and dind cannot tell where it is; set {PROGRAM_ENV} to a dind-nat64 program"
        )
    })?;
    let bytes = check(&location, std::fs::read(location.path()))?;
    Ok((location, bytes))
}

/// Whether this process was started as the translator (`dind-nat64`, in the NAT64
/// container), by the file name of its first argument.
pub fn started_as_translator(argv0: Option<OsString>) -> bool {
    argv0
        .as_deref()
        .and_then(|arg| Path::new(arg).file_name())
        .is_some_and(|name| name == PROGRAM_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_wins_over_dinds_own_executable() {
        let exe = Path::new("/opt/dind/bin/dind");
        assert_eq!(
            locate(Some("/srv/dind-nat64".into()), Some(exe)),
            Some(Location::Named("/srv/dind-nat64".into()))
        );
        assert_eq!(
            locate(None, Some(exe)),
            Some(Location::Dind("/opt/dind/bin/dind".into()))
        );
        assert_eq!(
            locate(Some("  ".into()), Some(exe)),
            Some(Location::Dind("/opt/dind/bin/dind".into()))
        );
        assert_eq!(locate(None, None), None);
    }

    #[test]
    fn a_missing_program_names_the_path_and_the_fix() {
        let missing = || Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        let own = Location::Dind("/opt/dind/bin/dind".into());
        let err = check(&own, missing()).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("/opt/dind/bin/dind cannot be read"), "{text}");
        assert!(text.contains(PROGRAM_ENV), "{text}");
        assert!(text.contains("--nat64-engine tayga"), "{text}");
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
        let own = Location::Dind("/x/dind".into());
        let err = check(&own, Ok(b"#!/bin/sh\n".to_vec())).unwrap_err();
        assert!(format!("{err:#}").contains("is not an executable (ELF) file"));
        let elf = b"\x7fELF\x02\x01\x01".to_vec();
        assert_eq!(check(&own, Ok(elf.clone())).unwrap(), elf);
    }

    #[test]
    fn dind_runs_the_translator_under_its_name_only() {
        let started = |arg: &str| started_as_translator(Some(arg.into()));
        assert!(started("/usr/local/bin/dind-nat64"));
        assert!(started("dind-nat64"));
        assert!(!started("/usr/local/bin/dind"));
        assert!(!started("dind-nat64-old"));
        assert!(!started_as_translator(None));
    }
}

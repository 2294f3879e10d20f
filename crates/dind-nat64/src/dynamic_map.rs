//! tayga's dynamic.map, kept in the config's `data-dir`: one line per pool mapping, "IPv4
//! address, IPv6 address, last use in seconds since the epoch", so that mappings outlive a
//! restart of the translator (and `dind diagnose` finds them where it finds tayga's).

use super::pool::{Mapping, Seconds};
use std::io;
use std::path::Path;

pub const FILE_NAME: &str = "dynamic.map";

/// The mappings saved in `dir`, none if it has no file yet; and the count of bad lines.
pub fn load(dir: &Path) -> io::Result<(Vec<Mapping>, usize)> {
    match std::fs::read_to_string(dir.join(FILE_NAME)) {
        Ok(text) => Ok(parse(&text)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok((Vec::new(), 0)),
        Err(err) => Err(err),
    }
}

/// Saves `mappings` in `dir`, whole or not at all (written aside, then renamed).
pub fn save(dir: &Path, mappings: &[Mapping]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let aside = dir.join(format!("{FILE_NAME}~~"));
    std::fs::write(&aside, render(mappings))?;
    std::fs::rename(&aside, dir.join(FILE_NAME))
}

/// The file's text for `mappings`.
pub fn render(mappings: &[Mapping]) -> String {
    let mut text = String::from(
        "###\n### dind-nat64 dynamic map database (tayga's format: IPv4, IPv6, last use)\n###\n\n",
    );
    for mapping in mappings {
        text.push_str(&format!(
            "{}\t{}\t{}\n",
            mapping.v4, mapping.v6, mapping.last_use
        ));
    }
    text
}

/// The mappings in `text`, and how many lines were not mappings (as tayga, they are
/// skipped).
pub fn parse(text: &str) -> (Vec<Mapping>, usize) {
    let (mut mappings, mut malformed) = (Vec::new(), 0);
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.first().is_none_or(|first| first.starts_with('#')) {
            continue;
        }
        match parse_line(&fields) {
            Some(mapping) => mappings.push(mapping),
            None => malformed += 1,
        }
    }
    (mappings, malformed)
}

fn parse_line(fields: &[&str]) -> Option<Mapping> {
    let [v4, v6, last_use] = fields else {
        return None;
    };
    let last_use: Seconds = last_use.parse().ok().filter(|seconds| *seconds > 0)?;
    Some(Mapping {
        v4: v4.parse().ok()?,
        v6: v6.parse().ok()?,
        last_use,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_survive_a_round_trip() {
        let mappings = [
            Mapping {
                v4: "172.18.128.1".parse().unwrap(),
                v6: "fd00:20::3".parse().unwrap(),
                last_use: 1_700_000_000,
            },
            Mapping {
                v4: "172.18.128.2".parse().unwrap(),
                v6: "fd00:20::4".parse().unwrap(),
                last_use: 1_700_000_100,
            },
        ];
        let text = render(&mappings);
        assert!(
            text.contains("172.18.128.1\tfd00:20::3\t1700000000\n"),
            "{text}"
        );
        assert_eq!(parse(&text), (mappings.to_vec(), 0));
    }

    #[test]
    fn saved_mappings_load_back_and_a_missing_file_is_none() {
        let dir = std::env::temp_dir().join(format!("dind-nat64-map-{}", std::process::id()));
        assert_eq!(load(&dir).unwrap(), (Vec::new(), 0));
        let mapping = Mapping {
            v4: "10.0.0.1".parse().unwrap(),
            v6: "fd00::1".parse().unwrap(),
            last_use: 42,
        };
        save(&dir, &[mapping]).unwrap();
        assert_eq!(load(&dir).unwrap(), (vec![mapping], 0));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn taygas_own_file_is_read_and_bad_lines_are_counted() {
        let text = "###\n### tayga dynamic map database\n###\n\n\
                    172.18.128.5\tfd00:20::9\t1700000000\n\
                    172.18.128.6 fd00:20::a\n\
                    not-an-address fd00:20::b 1700000000\n\
                    172.18.128.7 fd00:20::c 0\n";
        let (mappings, malformed) = parse(text);
        assert_eq!(mappings.len(), 1);
        assert_eq!(
            mappings[0].v6,
            "fd00:20::9".parse::<std::net::Ipv6Addr>().unwrap()
        );
        assert_eq!(malformed, 3);
    }
}

//! What a name's answer should be. The expectation comes from the resolver the cluster
//! itself forwards to (its recorded `--upstream-dns`, or `--host-resolver` when given),
//! asked from the Docker host, and the cluster's AAAA policy. A host's own resolver may
//! hold another view of the same names (split horizon), so it is never asked in its place:
//! with nobody to ask, or no answer, the expectation is unknown, which is no failure.

use crate::config::IpMode;
use ipnet::Ipv6Net;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What DNS64 should answer for a name, under the cluster's AAAA policy.
#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Expected {
    /// An address under the DNS64 prefix.
    Synthesized,
    /// The name's real AAAA record.
    RealAaaa,
    /// Nothing: the policy leaves no IPv6 address for this name.
    NoAnswer,
    /// Cannot be told: no resolver to ask, or it did not answer.
    Unknown,
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Expected::Synthesized => "synthesized",
            Expected::RealAaaa => "real-aaaa",
            Expected::NoAnswer => "no-answer",
            Expected::Unknown => "unknown",
        })
    }
}

/// The resolver whose answers the expectation is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ViewSource {
    /// `--host-resolver`.
    Given(IpAddr),
    /// The cluster's recorded `--upstream-dns`: what DNS64 forwards to.
    Upstream(Ipv4Addr),
}

impl ViewSource {
    /// `--host-resolver` wins over the record; without either there is nobody to ask.
    pub(crate) fn choose(given: Option<IpAddr>, upstream: Option<Ipv4Addr>) -> Option<Self> {
        given
            .map(ViewSource::Given)
            .or(upstream.map(ViewSource::Upstream))
    }

    pub(crate) fn address(self) -> IpAddr {
        match self {
            ViewSource::Given(ip) => ip,
            ViewSource::Upstream(ip) => IpAddr::V4(ip),
        }
    }
}

impl std::fmt::Display for ViewSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ViewSource::Given(ip) => write!(f, "--host-resolver {ip}"),
            ViewSource::Upstream(ip) => write!(f, "upstream {ip}"),
        }
    }
}

/// Why there is no view without asking: what the table says instead.
pub(crate) const NO_VIEW_SOURCE: &str =
    "no --upstream-dns recorded and no --host-resolver given: nobody to ask what the cluster's resolver sees";

/// One query's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Lookup<T> {
    /// The resolver answered (NOERROR or NXDOMAIN): these records, maybe none.
    Answered(Vec<T>),
    /// It did not answer, refused or failed: what dig said.
    Unanswered(String),
}

impl<T: Clone> Lookup<T> {
    pub(crate) fn records(&self) -> Vec<T> {
        match self {
            Lookup::Answered(records) => records.clone(),
            Lookup::Unanswered(_) => Vec::new(),
        }
    }
}

/// dig's arguments for one host-side query: the header (for the status) and the answer.
pub(crate) fn lookup_argv(server: IpAddr, name: &str, record_type: &str) -> Vec<String> {
    [
        "dig",
        "+noall",
        "+comments",
        "+answer",
        "+time=2",
        "+tries=2",
        &format!("@{server}"),
        name,
        record_type,
    ]
    .map(String::from)
    .to_vec()
}

/// The records of `record_type` in the output of [`lookup_argv`]'s dig, or why there are
/// none to trust.
pub(crate) fn parse_lookup<T: std::str::FromStr>(output: &str, record_type: &str) -> Lookup<T> {
    let status = output.lines().rev().find_map(|line| {
        let (_, after) = line.split_once("status: ")?;
        Some(after.split(',').next().unwrap_or(after).trim().to_string())
    });
    match status.as_deref() {
        Some("NOERROR" | "NXDOMAIN") => Lookup::Answered(
            output
                .lines()
                .filter(|line| !line.starts_with(';'))
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    match fields[..] {
                        [_, _, _, kind, value] if kind.eq_ignore_ascii_case(record_type) => {
                            value.parse().ok()
                        }
                        _ => None,
                    }
                })
                .collect(),
        ),
        Some(other) => Lookup::Unanswered(format!("answered {other}")),
        None => Lookup::Unanswered(
            output
                .lines()
                .map(|l| l.trim_start_matches(';').trim())
                .rfind(|l| !l.is_empty())
                .unwrap_or("no answer")
                .to_string(),
        ),
    }
}

/// What the resolver the cluster forwards to says about a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HostView {
    Seen {
        source: ViewSource,
        aaaa: Lookup<Ipv6Addr>,
        a: Lookup<Ipv4Addr>,
    },
    /// Not asked: why.
    Unavailable(String),
}

impl HostView {
    pub(crate) fn aaaa(&self) -> Vec<Ipv6Addr> {
        match self {
            HostView::Seen { aaaa, .. } => aaaa.records(),
            HostView::Unavailable(_) => Vec::new(),
        }
    }

    pub(crate) fn a(&self) -> Vec<Ipv4Addr> {
        match self {
            HostView::Seen { a, .. } => a.records(),
            HostView::Unavailable(_) => Vec::new(),
        }
    }

    /// Why the view tells nothing, when it does not: the first query it lacks.
    pub(crate) fn gap(&self) -> Option<String> {
        match self {
            HostView::Unavailable(why) => Some(why.clone()),
            HostView::Seen { source, aaaa, a } => match (aaaa, a) {
                (Lookup::Unanswered(why), _) => Some(format!("{source} AAAA: {why}")),
                (_, Lookup::Unanswered(why)) => Some(format!("{source} A: {why}")),
                _ => None,
            },
        }
    }
}

/// The answer DNS64 should give for a name with `real_aaaa` and `a` records.
pub(crate) fn expected_answer(
    ip_mode: IpMode,
    allow_aaaa: bool,
    real_aaaa: bool,
    a: bool,
) -> Expected {
    match (ip_mode, real_aaaa, a) {
        (IpMode::Ipv6, true, _) if allow_aaaa => Expected::RealAaaa,
        (IpMode::Ipv6, _, true) => Expected::Synthesized,
        (IpMode::Ipv6, _, false) => Expected::NoAnswer,
        (_, true, _) => Expected::RealAaaa,
        (_, false, _) => Expected::NoAnswer,
    }
}

/// The expectation a view gives. A query that went unanswered may still not matter (an A
/// record is synthesized from whatever the AAAA query said); it is unknown only when the
/// missing answer could change it.
pub(crate) fn expectation(ip_mode: IpMode, allow_aaaa: bool, view: &HostView) -> Expected {
    let HostView::Seen { aaaa, a, .. } = view else {
        return Expected::Unknown;
    };
    let mut outcomes = present(aaaa).iter().flat_map(|&real_aaaa| {
        present(a)
            .iter()
            .map(move |&a| expected_answer(ip_mode, allow_aaaa, real_aaaa, a))
    });
    let first = outcomes.next().expect("at least one outcome");
    if outcomes.all(|o| o == first) {
        first
    } else {
        Expected::Unknown
    }
}

/// Whether a lookup found records: one value when it was answered, both when it was not.
fn present<T>(lookup: &Lookup<T>) -> &'static [bool] {
    match lookup {
        Lookup::Answered(records) if records.is_empty() => &[false],
        Lookup::Answered(_) => &[true],
        Lookup::Unanswered(_) => &[false, true],
    }
}

/// How a pod's answer compares with the expectation.
pub(crate) fn classify(
    pod: &[Ipv6Addr],
    prefix: Option<Ipv6Net>,
    host_aaaa: &[Ipv6Addr],
) -> Expected {
    match pod.first() {
        None => Expected::NoAnswer,
        Some(addr) if prefix.is_some_and(|p| p.contains(addr)) => Expected::Synthesized,
        Some(addr) if host_aaaa.contains(addr) => Expected::RealAaaa,
        // An answer that is neither synthesized nor the real record: treat it as real, the
        // mismatch with the host's answer is reported in the detail.
        Some(_) => Expected::RealAaaa,
    }
}

/// The addresses in `dig +short` output (CNAME lines and comments left out).
pub(crate) fn parse_dig<T: std::str::FromStr>(output: &str) -> Vec<T> {
    output
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_answers_follow_the_policy() {
        use Expected::*;
        let cases = [
            // mode, allow_aaaa, real AAAA, A, expected
            (IpMode::Ipv6, false, false, true, Synthesized),
            (IpMode::Ipv6, false, true, true, Synthesized),
            (IpMode::Ipv6, false, true, false, NoAnswer),
            (IpMode::Ipv6, true, true, true, RealAaaa),
            (IpMode::Ipv6, true, true, false, RealAaaa),
            (IpMode::Ipv6, true, false, true, Synthesized),
            (IpMode::Ipv6, true, false, false, NoAnswer),
            (IpMode::DualStack, true, true, true, RealAaaa),
            (IpMode::DualStack, true, false, true, NoAnswer),
        ];
        for (mode, allow, real, a, want) in cases {
            assert_eq!(
                expected_answer(mode, allow, real, a),
                want,
                "{mode} allow={allow} aaaa={real} a={a}"
            );
        }
    }

    #[test]
    fn the_view_comes_from_the_given_resolver_else_the_recorded_upstream() {
        let upstream = Ipv4Addr::new(198, 18, 0, 10);
        let given: IpAddr = "198.18.0.11".parse().unwrap();
        assert_eq!(
            ViewSource::choose(Some(given), Some(upstream)),
            Some(ViewSource::Given(given))
        );
        assert_eq!(
            ViewSource::choose(None, Some(upstream)),
            Some(ViewSource::Upstream(upstream))
        );
        assert_eq!(ViewSource::choose(None, None), None);
        assert_eq!(
            ViewSource::Upstream(upstream).to_string(),
            "upstream 198.18.0.10"
        );
        assert_eq!(
            lookup_argv(ViewSource::Upstream(upstream).address(), "a.test", "AAAA")[6..],
            ["@198.18.0.10", "a.test", "AAAA"]
        );
    }

    const ANSWERED: &str = "\
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4242
;; flags: qr aa rd; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 1
;; WARNING: recursion requested but not available

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags:; udp: 1232
;; ANSWER SECTION:
www.example.test.\t60\tIN\tCNAME\tdual.example.test.
dual.example.test.\t60\tIN\tAAAA\tfd00:ee::10
";

    #[test]
    fn lookups_keep_the_records_of_their_type_and_tell_silence_from_no_records() {
        assert_eq!(
            parse_lookup::<Ipv6Addr>(ANSWERED, "AAAA"),
            Lookup::Answered(vec!["fd00:ee::10".parse().unwrap()])
        );
        let nxdomain = ";; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 7\n";
        assert_eq!(
            parse_lookup::<Ipv4Addr>(nxdomain, "A"),
            Lookup::Answered(vec![])
        );
        let refused = ";; ->>HEADER<<- opcode: QUERY, status: REFUSED, id: 7\n";
        assert_eq!(
            parse_lookup::<Ipv4Addr>(refused, "A"),
            Lookup::Unanswered("answered REFUSED".into())
        );
        let silent = ";; communications error to 198.18.0.99#53: timed out\n\
                      ;; no servers could be reached\n";
        assert_eq!(
            parse_lookup::<Ipv4Addr>(silent, "A"),
            Lookup::Unanswered("no servers could be reached".into())
        );
        assert_eq!(
            parse_lookup::<Ipv4Addr>("", "A"),
            Lookup::Unanswered("no answer".into())
        );
    }

    fn seen(aaaa: Lookup<Ipv6Addr>, a: Lookup<Ipv4Addr>) -> HostView {
        HostView::Seen {
            source: ViewSource::Upstream(Ipv4Addr::new(198, 18, 0, 10)),
            aaaa,
            a,
        }
    }

    #[test]
    fn an_expectation_is_unknown_only_when_a_missing_answer_could_change_it() {
        use Expected::*;
        let real = || Lookup::Answered(vec!["fd00:ee::10".parse().unwrap()]);
        let none6 = || Lookup::Answered(vec![]);
        let a = || Lookup::Answered(vec![Ipv4Addr::new(198, 18, 0, 10)]);
        let none4 = || Lookup::Answered(vec![]);
        let silent6 = || Lookup::Unanswered("no servers could be reached".into());
        let silent4 = || Lookup::Unanswered("no servers could be reached".into());
        let cases = [
            // allow_aaaa, view, expected
            (false, seen(real(), a()), Synthesized),
            (false, seen(none6(), none4()), NoAnswer),
            // Without --allow-aaaa the A record alone decides.
            (false, seen(silent6(), a()), Synthesized),
            (false, seen(real(), silent4()), Unknown),
            // With it, a real AAAA decides whatever A is.
            (true, seen(real(), silent4()), RealAaaa),
            (true, seen(silent6(), a()), Unknown),
            (true, seen(silent6(), silent4()), Unknown),
            (false, HostView::Unavailable(NO_VIEW_SOURCE.into()), Unknown),
        ];
        for (allow, view, want) in cases {
            assert_eq!(
                expectation(IpMode::Ipv6, allow, &view),
                want,
                "allow={allow} {view:?}"
            );
        }
        assert_eq!(
            seen(real(), silent4()).gap().unwrap(),
            "upstream 198.18.0.10 A: no servers could be reached"
        );
        assert_eq!(seen(real(), a()).gap(), None);
        assert!(seen(silent6(), a()).aaaa().is_empty());
        for expected in [Synthesized, RealAaaa, NoAnswer, Unknown] {
            assert_eq!(
                serde_json::to_value(expected).unwrap(),
                expected.to_string()
            );
        }
    }

    #[test]
    fn answers_are_classified_by_prefix() {
        let prefix: Ipv6Net = "fd00:10:64:ff9b::/96".parse().unwrap();
        let real: Ipv6Addr = "fd00:ee::10".parse().unwrap();
        let synth: Ipv6Addr = "fd00:10:64:ff9b::c612:a".parse().unwrap();
        assert_eq!(
            classify(&[synth], Some(prefix), &[real]),
            Expected::Synthesized
        );
        assert_eq!(classify(&[real], Some(prefix), &[real]), Expected::RealAaaa);
        assert_eq!(classify(&[], Some(prefix), &[real]), Expected::NoAnswer);
        assert_eq!(classify(&[real], None, &[real]), Expected::RealAaaa);
    }

    #[test]
    fn dig_output_keeps_only_addresses() {
        let out = "alias.example.test.\nfd00:ee::10\n;; connection timed out\n";
        assert_eq!(
            parse_dig::<Ipv6Addr>(out),
            vec!["fd00:ee::10".parse::<Ipv6Addr>().unwrap()]
        );
        assert!(parse_dig::<Ipv4Addr>(out).is_empty());
    }
}

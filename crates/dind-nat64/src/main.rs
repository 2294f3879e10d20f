//! dind-nat64: the NAT64 translator of `--nat64-engine dind-nat64` (see the library's
//! `program` module), as a program of its own.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    dind_nat64::program::main()
}

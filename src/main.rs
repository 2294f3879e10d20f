use std::process::ExitCode;

fn main() -> ExitCode {
    // In the NAT64 container dind is the translator (--nat64-engine dind-nat64).
    if dind::cluster::nat64_program::started_as_translator(std::env::args_os().next()) {
        return dind_nat64::program::main();
    }
    run()
}

#[tokio::main]
async fn run() -> ExitCode {
    // A signal stops the command (see dind::interrupt); its host helpers are removed before
    // the process ends.
    match dind::engine::host::removing_helpers(dind::cli::run()).await {
        Ok(code) => code,
        Err(err) => {
            if err.is::<dind::interrupt::Interrupted>() {
                // The outermost context says what became of the run's changes.
                match err.chain().count() {
                    1 => eprintln!("interrupted"),
                    _ => eprintln!("interrupted: {err}"),
                }
            } else {
                eprintln!("error: {err}");
                for cause in err.chain().skip(1) {
                    eprintln!("  caused by: {cause}");
                }
            }
            dind::exit::exit_code_of(&err)
        }
    }
}

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
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

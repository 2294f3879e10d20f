use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // Ctrl-C stops the command; its host helpers are removed before the process ends.
    match dind::engine::host::removing_helpers(dind::cli::run()).await {
        Ok(code) => code,
        Err(err) if err.is::<dind::engine::host::Interrupted>() => {
            eprintln!("interrupted");
            ExitCode::from(130)
        }
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

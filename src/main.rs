use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match dind::cli::run().await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

//! How commands print their reports.

use anyhow::Result;
use clap::ValueEnum;
use serde::Serialize;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum OutputFormat {
    Table,
    Json,
}

impl OutputFormat {
    /// The report as a table, or its data as pretty JSON.
    pub(super) fn print(self, table: impl FnOnce() -> String, data: &impl Serialize) -> Result<()> {
        match self {
            OutputFormat::Table => print!("{}", table()),
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(data)?),
        }
        Ok(())
    }
}

/// One item a line.
pub(super) fn lines<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items.into_iter().map(|item| format!("{item}\n")).collect()
}

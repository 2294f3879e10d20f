//! The user's containerd patches (`containerdConfigPatches`): TOML documents merged into a
//! node's /etc/containerd/config.toml, as kind's are. Parsed once when the config is
//! validated; records keep the text.

use serde::{Deserialize, Serialize};

/// One TOML document to merge into containerd's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContainerdPatch {
    text: String,
    table: toml::Table,
}

// toml's tables are only PartialEq (a float may be NaN); a patch's text decides, and the
// same text parses to the same table.
impl Eq for ContainerdPatch {}

impl ContainerdPatch {
    /// Parses one patch; the error is the reason it is refused, with TOML's line and column.
    pub(crate) fn parse(text: &str) -> Result<ContainerdPatch, String> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let at = e
                .span()
                .map(|span| {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                    format!("line {line}, column {column}: ")
                })
                .unwrap_or_default();
            format!(
                "not a TOML document: {at}{}",
                e.message().trim().replace('\n', " ")
            )
        })?;
        Ok(ContainerdPatch {
            text: text.to_string(),
            table,
        })
    }

    /// The patch as parsed.
    pub(crate) fn table(&self) -> &toml::Table {
        &self.table
    }
}

impl TryFrom<String> for ContainerdPatch {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        ContainerdPatch::parse(&text)
    }
}

impl From<ContainerdPatch> for String {
    fn from(patch: ContainerdPatch) -> String {
        patch.text
    }
}

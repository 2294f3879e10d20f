//! The settings flags of `up`, `doctor` and `images build`, and their merge with the
//! environment and the config file.

use crate::config::{self, Config, Layer};
use crate::exit::InvalidInput;
use anyhow::{anyhow, Context, Result};
use clap::Args;
use std::io::Read;

/// Settings of a cluster. Precedence: flag > environment > config file > default. The
/// flags are built from the settings table (`config::SETTINGS`), each with its help.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConfigArgs {
    /// YAML config file; `-` reads stdin.
    pub(crate) config: Option<String>,
    /// The settings given as flags.
    pub(crate) flags: Layer,
}

const CONFIG_FILE_ARG: &str = "config";

impl clap::FromArgMatches for ConfigArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(ConfigArgs {
            config: matches.get_one::<String>(CONFIG_FILE_ARG).cloned(),
            flags: Layer::from_flags(
                |id| matches.get_one::<String>(id).cloned(),
                |id| matches.get_flag(id),
            ),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for ConfigArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let config_file = clap::Arg::new(CONFIG_FILE_ARG)
            .long("config")
            .value_name("FILE")
            .help(
                "YAML config file (apiVersion dind.k8s.io/v1alpha1, kind Cluster); `-` reads stdin",
            );
        config::SETTINGS
            .iter()
            .fold(cmd.arg(config_file), |cmd, row| match row.flag {
                config::Flag::None => cmd,
                config::Flag::Value(value_name) => cmd.arg(
                    clap::Arg::new(row.field)
                        .long(row.name.trim_start_matches("--"))
                        .value_name(value_name)
                        .help(row.help_text()),
                ),
                config::Flag::Switch { long, .. } => cmd.arg(
                    clap::Arg::new(row.field)
                        .long(long.trim_start_matches("--"))
                        .action(clap::ArgAction::SetTrue)
                        .help(row.help_text()),
                ),
            })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl ConfigArgs {
    /// All four layers merged and validated; every error is [`InvalidInput`].
    pub(crate) fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let (file, mut file_problems) = match &self.config {
            None => (Layer::default(), Vec::new()),
            Some(path) => {
                let text = read_config_file(path)?;
                config::read_file(path, &text).map_err(InvalidInput::wrap)?
            }
        };
        let upper = self.flags.clone().over(Layer::from_env(env));
        file_problems.extend(config::list_overridden(&upper, &file));
        let layer = upper.over(file);
        let validated = config::validate(layer);
        if file_problems.is_empty() {
            return validated.map_err(InvalidInput::wrap);
        }
        // Every problem at once: the file's own, then the refusals of what it did give.
        let refusals = validated.err().map(|e| e.to_string());
        Err(InvalidInput::wrap(anyhow!(
            "{}",
            file_problems
                .into_iter()
                .chain(refusals)
                .collect::<Vec<_>>()
                .join("\n")
        )))
    }
}

/// The text of `--config`'s file, or of stdin for `-`.
fn read_config_file(path: &str) -> Result<String> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the config from stdin")
            .map_err(InvalidInput::wrap)?;
        return Ok(text);
    }
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {path}"))
        .map_err(InvalidInput::wrap)
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use crate::config::{Layer, Origin, Sourced};
    use clap::Parser;

    fn up_flags(args: &[&str]) -> Layer {
        let cli = Cli::try_parse_from(["dind", "up"].iter().chain(args)).expect("parses");
        match cli.command {
            Command::Up(up) => up.config.flags,
            other => panic!("not up: {other:?}"),
        }
    }

    #[test]
    fn setting_flags_come_from_the_table_with_their_origin() {
        let flag = |value: &str, name| Some(Sourced::new(value, Origin::Flag(name)));
        assert_eq!(
            up_flags(&[
                "--cluster-id",
                "3",
                "--service-cidr",
                "fd00:31::/110",
                "--no-kubernetes",
                "--allow-aaaa"
            ]),
            Layer {
                cluster_id: flag("3", "--cluster-id"),
                service_cidrs: flag("fd00:31::/110", "--service-cidr"),
                kubernetes: flag("false", "--no-kubernetes"),
                allow_aaaa: flag("true", "--allow-aaaa"),
                ..Layer::default()
            }
        );
        assert_eq!(up_flags(&[]), Layer::default());
        // File-only settings have no flag.
        assert!(Cli::try_parse_from(["dind", "up", "--probes", "a"]).is_err());
    }

    #[test]
    fn the_registry_is_a_switch_of_the_settings_table() {
        assert_eq!(
            up_flags(&["--registry"]).registry,
            Some(Sourced::new("true", Origin::Flag("--registry")))
        );
    }
}

//! What a row of the settings table says, and the macro that turns the table (in
//! settings.rs) into the [`Layer`](super::Layer) struct, its readers and its checks.

use super::layer::Sourced;
use super::refusal::Refusal;
use super::IpMode;

/// One setting: its names in every source, its default and its help. How its value is
/// checked is the row's `required` (the given value or the fallback), `optional` (unset: the
/// Config field's empty value; the fallback is `Absent`) or `each` (a list, each checked).
#[derive(Debug)]
pub(crate) struct Setting {
    /// The field of `Layer` and `Config` it fills; also the clap argument id.
    pub(crate) field: &'static str,
    /// How errors name it: the flag, or the file key for settings only a file can give.
    pub(crate) name: &'static str,
    pub(crate) flag: Flag,
    pub(crate) env: Env,
    pub(crate) file: File,
    pub(crate) fallback: Fallback,
    pub(crate) help: &'static str,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Flag {
    /// Not a command-line setting.
    None,
    /// `name VALUE`, the flag named like the setting; the text is clap's value name.
    Value(&'static str),
    /// A flag without a value that sets the setting to `sets`.
    Switch {
        long: &'static str,
        sets: &'static str,
    },
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Env {
    /// Not read from the environment.
    None,
    /// One variable; blank means unset.
    Var(&'static str),
    /// Variables read by a function of their own; `origin` names them in errors.
    Read {
        names: &'static [&'static str],
        origin: &'static str,
        read: EnvReader,
    },
}

/// Reads a setting from the environment, given a lookup of trimmed, non-blank variables.
pub(crate) type EnvReader = fn(&dyn Fn(&str) -> Option<String>) -> Option<String>;

impl Env {
    pub(crate) fn names(&self) -> Vec<&'static str> {
        match *self {
            Env::None => Vec::new(),
            Env::Var(name) => vec![name],
            Env::Read { names, .. } => names.to_vec(),
        }
    }
}

/// The config-file key and the YAML shapes it takes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum File {
    /// A string, number or boolean.
    Scalar(&'static str),
    /// A string.
    Text(&'static str),
    /// A string or a list of strings (joined with commas).
    List(&'static str),
    /// A mapping of names to booleans, or `Name=true,...` text.
    Gates(&'static str),
    /// A list of YAML documents, one value each.
    Documents(&'static str),
    /// A number, or a list of mappings: one YAML document each, with its line.
    Nodes(&'static str),
}

impl File {
    pub(crate) fn key(&self) -> &'static str {
        match self {
            File::Scalar(key)
            | File::Text(key)
            | File::List(key)
            | File::Gates(key)
            | File::Documents(key)
            | File::Nodes(key) => key,
        }
    }
}

/// What a setting is when no source gives it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Fallback {
    Value(&'static str),
    PerMode {
        ipv4: &'static str,
        ipv6: &'static str,
        dual_stack: &'static str,
    },
    /// A value that depends on the cluster id; `text` describes the rule for the help.
    PerClusterId {
        value: fn(u8) -> &'static str,
        text: &'static str,
    },
    /// No value; the text says what that means, for the help ("" says nothing).
    Absent(&'static str),
}

/// The settings others are judged against; None while unknown (not yet checked, or refused).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Basis {
    pub(crate) ip_mode: Option<IpMode>,
    pub(crate) cluster_id: Option<u8>,
}

impl Setting {
    /// The given value, else the fallback; None when the fallback depends on an IP mode or
    /// a cluster id that is not known, or there is none.
    pub(crate) fn or_fallback(&self, raw: Option<&Sourced>, basis: &Basis) -> Option<Sourced> {
        use super::layer::Origin;
        if let Some(raw) = raw {
            return Some(raw.clone());
        }
        let value = match (self.fallback, basis.ip_mode) {
            (Fallback::Value(value), _) => value,
            (Fallback::PerMode { ipv4, .. }, Some(IpMode::Ipv4)) => ipv4,
            (Fallback::PerMode { ipv6, .. }, Some(IpMode::Ipv6)) => ipv6,
            (Fallback::PerMode { dual_stack, .. }, Some(IpMode::DualStack)) => dual_stack,
            (Fallback::PerClusterId { value, .. }, _) => value(basis.cluster_id?),
            (Fallback::PerMode { .. }, None) | (Fallback::Absent(_), _) => return None,
        };
        Some(Sourced::new(value, Origin::Default))
    }

    /// The flag as typed: `--ip-mode`, or a switch's own name.
    pub(crate) fn flag_name(&self) -> Option<&'static str> {
        match self.flag {
            Flag::None => None,
            Flag::Value(_) => Some(self.name),
            Flag::Switch { long, .. } => Some(long),
        }
    }

    /// The help line: the row's text, the variables that set it and its default.
    pub(crate) fn help_text(&self) -> String {
        let mut text = self.help.to_string();
        let names = self.env.names();
        if !names.is_empty() {
            text.push_str(&format!(" [env: {}]", names.join(" + ")));
        }
        // A switch only ever turns its default over.
        if matches!(self.flag, Flag::Switch { .. }) {
            return text;
        }
        let default = match self.fallback {
            Fallback::Value(value) => value.to_string(),
            Fallback::PerMode {
                ipv4,
                ipv6,
                dual_stack,
            } => {
                format!("{ipv6} in ipv6 mode, {ipv4} in ipv4 mode, {dual_stack} in dual-stack mode")
            }
            Fallback::PerClusterId { text, .. } => text.to_string(),
            Fallback::Absent("") => return text,
            Fallback::Absent(meaning) => meaning.to_string(),
        };
        text.push_str(&format!(" [default: {default}]"));
        text
    }
}

/// A setting's check: the raw text and the basis in, the value or the reason out.
pub(crate) type Check<T> = fn(&str, &Basis) -> Result<T, String>;

fn run<T>(
    row: &Setting,
    raw: &Sourced,
    basis: &Basis,
    check: Check<T>,
    refusals: &mut Vec<Refusal>,
) -> Option<T> {
    match check(&raw.value, basis) {
        Ok(value) => Some(value),
        Err(reason) => {
            refusals.push(Refusal::new(row.name, raw, reason));
            None
        }
    }
}

/// A required setting: the given value or the fallback, checked.
pub(crate) fn required<T>(
    row: &Setting,
    raw: Option<&Sourced>,
    basis: &Basis,
    check: Check<T>,
    refusals: &mut Vec<Refusal>,
) -> Option<T> {
    let raw = row.or_fallback(raw, basis)?;
    run(row, &raw, basis, check, refusals)
}

/// An optional setting: checked when given, else its type's empty value.
pub(crate) fn optional<T: Default>(
    row: &Setting,
    raw: Option<&Sourced>,
    basis: &Basis,
    check: Check<T>,
    refusals: &mut Vec<Refusal>,
) -> Option<T> {
    match raw {
        Some(raw) => run(row, raw, basis, check, refusals),
        None => Some(T::default()),
    }
}

/// A list setting: every value checked, every refusal kept.
pub(crate) fn each<T>(
    row: &Setting,
    raw: Option<&Vec<Sourced>>,
    basis: &Basis,
    check: Check<T>,
    refusals: &mut Vec<Refusal>,
) -> Option<Vec<T>> {
    let mut values = Vec::new();
    let mut all_valid = true;
    for (index, raw) in raw.into_iter().flatten().enumerate() {
        match check(&raw.value, basis) {
            Ok(value) => values.push(value),
            Err(reason) => {
                refusals.push(Refusal::new(row.name, raw, reason).at(index));
                all_valid = false;
            }
        }
    }
    all_valid.then_some(values)
}

/// A check that sees every value of a setting at once and makes its own refusals.
pub(crate) type ListCheck<T> = fn(&Setting, &[Sourced], &Basis, &mut Vec<Refusal>) -> Option<T>;

/// A setting checked as a whole: the given values, else the fallback as one value.
pub(crate) fn whole<T>(
    row: &Setting,
    raw: Option<&Vec<Sourced>>,
    basis: &Basis,
    check: ListCheck<T>,
    refusals: &mut Vec<Refusal>,
) -> Option<T> {
    match raw {
        Some(raw) => check(row, raw, basis, refusals),
        None => {
            let fallback = row.or_fallback(None, basis)?;
            check(row, &[fallback], basis, refusals)
        }
    }
}

/// Turns the rows of settings.rs into: `Layer` (one field per row), `ROWS` (the rows by field
/// name), `SETTINGS` (the rows in order), `Layer::over`/`Layer::read` (fill a layer from
/// any source, row by row), and `check_rows`/`Checked::into_config` (check every row in
/// table order, then fill the `Config` field of the same name).
macro_rules! settings_table {
    ($(
        $(#[$doc:meta])*
        $field:ident : $out:ty = $kind:ident $check:path { $($row:tt)* }
    )*) => {
        /// Raw settings of one source (text as the user wrote it, with where it came from).
        /// Lists (CIDRs) are comma- or space-separated, as in k-d-c.
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct Layer {
            $( $(#[$doc])* pub $field: Option<settings_table!(@raw $kind)>, )*
        }

        /// The rows of the table by field name.
        pub(crate) struct Rows {
            $( pub $field: Setting, )*
        }

        pub(crate) static ROWS: Rows = Rows {
            $( $field: Setting {
                field: stringify!($field),
                $($row)*
            }, )*
        };

        /// Every row, in the order the settings are checked.
        pub(crate) static SETTINGS: &[&Setting] = &[ $( &ROWS.$field, )* ];

        impl Layer {
            /// `self` wins where it has a value.
            pub(crate) fn over(self, lower: Layer) -> Layer {
                Layer { $( $field: self.$field.or(lower.$field), )* }
            }

            /// A layer of what `read` gives for each row (None: the source does not set it).
            pub(crate) fn read<E>(
                mut read: impl FnMut(&'static Setting) -> Result<Option<Vec<Sourced>>, E>,
            ) -> Result<Layer, E> {
                Ok(Layer {
                    $( $field: read(&ROWS.$field)?.and_then(settings_table!(@from $kind)), )*
                })
            }
        }

        /// Every setting checked; None where it was refused or could not be judged.
        pub(super) struct Checked {
            $( pub $field: Option<$out>, )*
        }

        /// Checks every row in table order; each row sees the basis checked before it.
        pub(super) fn check_rows(layer: &Layer, refusals: &mut Vec<Refusal>) -> Checked {
            let mut checked = Checked { $( $field: None, )* };
            $(
                let judged_against = basis(&checked);
                checked.$field = settings_table!(@check $kind)(
                    &ROWS.$field,
                    layer.$field.as_ref(),
                    &judged_against,
                    $check,
                    refusals,
                );
            )*
            checked
        }

        impl Checked {
            /// The configuration, when every setting was accepted.
            pub(super) fn into_config(self) -> Option<Config> {
                Some(Config { $( $field: self.$field?, )* })
            }
        }
    };
    (@raw required) => { Sourced };
    (@raw optional) => { Sourced };
    (@raw each) => { Vec<Sourced> };
    (@raw whole) => { Vec<Sourced> };
    (@from required) => { |values: Vec<Sourced>| values.into_iter().next() };
    (@from optional) => { |values: Vec<Sourced>| values.into_iter().next() };
    (@from each) => { Some };
    (@from whole) => { Some };
    (@check required) => { $crate::config::table::required };
    (@check optional) => { $crate::config::table::optional };
    (@check each) => { $crate::config::table::each };
    (@check whole) => { $crate::config::table::whole };
}

pub(crate) use settings_table;

#[cfg(test)]
mod tests;

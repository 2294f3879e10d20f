//! A decoded configuration checked again, as `up` checked it: a record that Docker holds
//! passes here before anything plans or renders from it.

use crate::config::{recheck, Config};
use crate::plan;

/// Every problem of `config`, in words; empty when it is one `up` accepts.
pub fn check_config(config: &Config) -> Vec<String> {
    let mut problems = recheck(config);
    // What config's rules imply; kept so that a record never reaches the plan without them.
    problems.extend(plan::plannable(config).iter().map(ToString::to_string));
    problems.dedup();
    problems
}

//! Where in an entry's text a field is written, for the line a refusal names.

/// One step of a field's path inside a node entry.
#[derive(Debug, PartialEq)]
enum Step<'a> {
    Key(&'a str),
    Item(usize),
}

/// `nodes[1].extraPortMappings[0].hostPort` as the steps after the entry; a label's key
/// (which may hold dots) is one step.
fn steps(path: &str) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    let Some((_, mut rest)) = path.split_once("].") else {
        return steps;
    };
    loop {
        if let Some(label) = rest.strip_prefix("labels.") {
            steps.push(Step::Key("labels"));
            steps.push(Step::Key(label));
            return steps;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        steps.push(Step::Key(&rest[..end]));
        rest = &rest[end..];
        while let Some(inner) = rest.strip_prefix('[') {
            let Some((index, after)) = inner.split_once(']') else {
                return steps;
            };
            steps.extend(index.parse().ok().map(Step::Item));
            rest = after;
        }
        match rest.strip_prefix('.') {
            Some(next) => rest = next,
            None => return steps,
        }
    }
}

/// How many lines below the entry's first the field at `path` is written, as far as its
/// steps can be followed in the block-style text (the line of the last step found).
pub(super) fn field_line(entry: &str, path: &str) -> usize {
    let lines: Vec<&str> = entry.lines().collect();
    let key_at = |line: &str, key: &str| {
        let content = line.trim_start().trim_start_matches("- ").trim_start();
        [key.to_string(), format!("\"{key}\""), format!("'{key}'")]
            .iter()
            .any(|spelled| {
                content
                    .strip_prefix(spelled.as_str())
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
    };
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut at = 0;
    for step in steps(path) {
        let found = match step {
            Step::Key(key) => (at..lines.len()).find(|&i| key_at(lines[i], key)),
            Step::Item(n) => {
                let items: Vec<usize> = (at + 1..lines.len())
                    .filter(|&i| {
                        let content = lines[i].trim_start();
                        content == "-" || content.starts_with("- ")
                    })
                    .collect();
                let depth = items.first().map(|&i| indent(lines[i]));
                items
                    .into_iter()
                    .filter(|&i| Some(indent(lines[i])) == depth)
                    .nth(n)
            }
        };
        match found {
            Some(line) => at = line,
            None => break,
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_its_keys_and_items_and_a_labels_key_stays_whole() {
        assert_eq!(
            steps("nodes[1].extraPortMappings[0].hostPort"),
            [
                Step::Key("extraPortMappings"),
                Step::Item(0),
                Step::Key("hostPort")
            ]
        );
        assert_eq!(
            steps("nodes[0].labels.example.com/tier"),
            [Step::Key("labels"), Step::Key("example.com/tier")]
        );
        assert_eq!(steps("nodes[2]"), []);
    }

    #[test]
    fn the_line_is_the_fields_or_the_last_one_found() {
        let entry = "  role: worker\n  extraMounts:\n  - hostPath: /a\n    containerPath: b\n  \
                     - hostPath: /c\n    containerPath: d\n  labels: {tier: x}\n";
        assert_eq!(field_line(entry, "nodes[1].role"), 0);
        assert_eq!(
            field_line(entry, "nodes[1].extraMounts[1].containerPath"),
            5
        );
        assert_eq!(field_line(entry, "nodes[1].extraMounts[0].hostPath"), 2);
        // Flow style: the line of the mapping that holds it.
        assert_eq!(field_line(entry, "nodes[1].labels.tier"), 6);
        // Not written at all (missing): where its parent is.
        assert_eq!(field_line(entry, "nodes[1].extraMounts[1].readOnly"), 4);
    }
}

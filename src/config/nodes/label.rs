//! Kubernetes label keys and values, as the API server and the kubelet check them.

/// A name segment of a label key or a value: up to 63 characters, alphanumerics with `-`,
/// `_` and `.` inside.
fn is_label_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !name.is_empty()
        && name.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_dns_subdomain(prefix: &str) -> bool {
    prefix.len() <= 253
        && prefix.split('.').all(|label| {
            let bytes = label.as_bytes();
            !label.is_empty()
                && label.len() <= 63
                && bytes[0].is_ascii_alphanumeric()
                && bytes[bytes.len() - 1].is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        })
}

/// Why `key` is not a label key the kubelet may set; None when it is.
pub(super) fn label_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if !is_label_name(name) {
        return Some(
            "a label name has 1-63 characters: letters, digits, '-', '_' and '.', starting and \
             ending with a letter or digit"
                .into(),
        );
    }
    // Without a prefix the name alone is the key.
    let prefix = prefix?;
    if !is_dns_subdomain(prefix) {
        return Some(format!(
            "the prefix '{prefix}' is not a DNS subdomain like example.com"
        ));
    }
    let kubernetes = |domain: &str| prefix == domain || prefix.ends_with(&format!(".{domain}"));
    let allowed = ["kubelet.kubernetes.io", "node.kubernetes.io"]
        .iter()
        .any(|ok| prefix == *ok || prefix.ends_with(&format!(".{ok}")));
    if (kubernetes("kubernetes.io") || kubernetes("k8s.io")) && !allowed {
        return Some(
            "the kubelet may set labels under kubernetes.io and k8s.io only with the prefixes \
             kubelet.kubernetes.io/ and node.kubernetes.io/; use a prefix of your own"
                .into(),
        );
    }
    None
}

/// Why `value` is not a label value; None when it is (empty is one).
pub(super) fn label_value_problem(value: &str) -> Option<String> {
    (!value.is_empty() && !is_label_name(value)).then(|| {
        "a label value is empty or has up to 63 characters: letters, digits, '-', '_' and \
         '.', starting and ending with a letter or digit"
            .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_keys_and_values_follow_kubernetes_rules() {
        for key in [
            "tier",
            "example.com/tier",
            "node.kubernetes.io/exclude-from-external-load-balancers",
            "kubelet.kubernetes.io/x",
            "a.b-c_d",
        ] {
            assert_eq!(label_key_problem(key), None, "{key}");
        }
        for key in [
            "",
            "-tier",
            "tier-",
            "a/b/c",
            "Example.com/tier",
            "/tier",
            "node-role.kubernetes.io/worker",
            "kubernetes.io/hostname",
            "x.k8s.io/y",
            &"n".repeat(64),
        ] {
            assert!(label_key_problem(key).is_some(), "{key}");
        }
        for value in ["", "db", "v1.2_3-x"] {
            assert_eq!(label_value_problem(value), None, "{value}");
        }
        for value in ["a,b", "a=b", "front end", "-x", &"v".repeat(64)] {
            assert!(label_value_problem(value).is_some(), "{value}");
        }
    }
}

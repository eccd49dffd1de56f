//! Properties of the YAML flattening on arbitrary input.

use confd_backend::file::flatten_yaml;
use proptest::prelude::*;

/// Text made of YAML's structural characters, words that resolve specially, and noise.
fn yamlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n".to_string()),
        Just("  ".to_string()),
        Just("- ".to_string()),
        Just(": ".to_string()),
        Just("? ".to_string()),
        Just("<<: ".to_string()),
        Just("&a ".to_string()),
        Just("*a".to_string()),
        Just("!!int ".to_string()),
        Just("!!binary ".to_string()),
        Just("---\n".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just(", ".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("|\n".to_string()),
        Just("#".to_string()),
        Just("yes".to_string()),
        Just("~".to_string()),
        Just("0x1F".to_string()),
        Just("1e3".to_string()),
        Just(".inf".to_string()),
        Just("2001-12-14".to_string()),
        Just("a/b".to_string()),
        Just("..".to_string()),
        "[a-z0-9_./]{1,6}",
        any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Never panics; errors point inside the text; keys are absolute and unique.
    #[test]
    fn flatten_is_total_and_well_formed(text in yamlish()) {
        match flatten_yaml(&text) {
            Ok(pairs) => {
                let mut seen = std::collections::HashSet::new();
                for (k, _) in &pairs {
                    prop_assert!(k.starts_with('/'), "{k:?}");
                    prop_assert!(seen.insert(k.clone()), "repeated key {k:?}");
                }
            }
            Err(e) => {
                prop_assert!(e.line >= 1 && e.column >= 1);
                // YAML breaks lines at \n, \r and \r\n; the parser may report an error at
                // end of input on the line after the last one.
                let breaks = text.matches('\n').count() + text.matches('\r').count();
                prop_assert!(e.line <= breaks + 2, "{e} for {text:?}");
            }
        }
    }

    /// A mapping of plain keys to quoted values flattens to exactly those pairs.
    #[test]
    fn quoted_values_round_trip(
        entries in proptest::collection::btree_map("k[a-z0-9]{0,8}", "[ -~]{0,20}", 0..10)
    ) {
        let text: String = entries
            .iter()
            .map(|(k, v)| format!("{k}: \"{}\"\n", v.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect();
        let mut got = flatten_yaml(&text).unwrap();
        got.sort();
        let want: Vec<(String, String)> =
            entries.iter().map(|(k, v)| (format!("/{k}"), v.clone())).collect();
        prop_assert_eq!(got, want);
    }
}

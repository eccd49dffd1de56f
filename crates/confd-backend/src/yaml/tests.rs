//! Unit tests of the pure YAML flattening. The bulk of the confd comparison lives in
//! `tests/yaml_golden.rs` (cases recorded from confd itself).

use super::*;

fn flat(text: &str) -> Vec<(String, String)> {
    flatten_yaml(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn err(text: &str) -> YamlError {
    flatten_yaml(text).expect_err(text)
}

#[test]
fn nested_maps_and_lists_in_document_order() {
    let text = "\
database:
  host: 127.0.0.1
  port: 3306
servers:
  - name: web1
    tags: [a, b]
  - name: web2
empty: []
none: {}
";
    assert_eq!(
        flat(text),
        pairs(&[
            ("/database/host", "127.0.0.1"),
            ("/database/port", "3306"),
            ("/servers/0/name", "web1"),
            ("/servers/0/tags/0", "a"),
            ("/servers/0/tags/1", "b"),
            ("/servers/1/name", "web2"),
        ])
    );
}

#[test]
fn scalar_kinds() {
    let text = "\
s: text
i: 42
o: 0777
h: 0x1F
u: 1_000
b1: yes
b2: Off
f1: 1.50
f2: 1e3
inf: .inf
ts: 2001-12-14
q: \"yes\"
n: ~
";
    assert_eq!(
        flat(text),
        pairs(&[
            ("/s", "text"),
            ("/i", "42"),
            ("/o", "511"),
            ("/h", "31"),
            ("/u", "1000"),
            ("/b1", "true"),
            ("/b2", "false"),
            ("/f1", "1.5"),
            ("/f2", "1000"),
            ("/inf", "+Inf"),
            ("/ts", "2001-12-14"),
            ("/q", "yes"),
        ])
    );
}

#[test]
fn keys_are_joined_like_go_path_join() {
    let text = "\
a/b: 1
/x: 2
c//d/: 3
up:
  ..: 4
  .: 5
\"\": 6
";
    // `"": 6` joins to "/" like `..: 4` did; the later pair wins and keeps its place.
    assert_eq!(
        flat(text),
        pairs(&[("/a/b", "1"), ("/x", "2"), ("/c/d", "3"), ("/up", "5"), ("/", "6")])
    );
}

#[test]
fn later_entry_wins_when_keys_collide() {
    // confd's result depends on Go's random map order here; ours is "written later wins".
    assert_eq!(flat("a/b: 1\na:\n  b: 2\n"), pairs(&[("/a/b", "2")]));
    assert_eq!(flat("a:\n  b: 2\na/b: 1\n"), pairs(&[("/a/b", "1")]));
    // A repeated key replaces the whole earlier entry.
    assert_eq!(flat("a: {x: 1}\nb: 2\na: {z: 3}\n"), pairs(&[("/b", "2"), ("/a/z", "3")]));
    // (Beware YAML 1.1: a key `y` would be the boolean true.)
    assert_eq!(flat("y: 1\n"), pairs(&[("/true", "1")]));
    // "80" and 80 are different Go map keys but the same path: the later one wins.
    assert_eq!(flat("\"80\": a\n80: b\n"), pairs(&[("/80", "b")]));
    // A null never removes a value set by another entry.
    assert_eq!(flat("a/b: 1\na: {b: ~}\n"), pairs(&[("/a/b", "1")]));
    // Go map identity: 0.0 and -0.0 are one key, so the later entry replaces the earlier one
    // whole (its own spelling included); a key repeated three times keeps its last entry, at
    // that entry's place.
    assert_eq!(flat("0.0: a\n-0.0: b\n"), pairs(&[("/-0", "b")]));
    assert_eq!(
        flat("k: 1\nx: 2\nk: 3\nz: 4\nk: 5\n"),
        pairs(&[("/x", "2"), ("/z", "4"), ("/k", "5")])
    );
}

#[test]
fn non_string_keys_are_stringified() {
    let text = "\
ports:
  80: http
  0x1BB: https
flags:
  yes: on
  off: n
floats:
  1.50: x
  .inf: inf-key
big:
  18446744073709551615: max
";
    assert_eq!(
        flat(text),
        pairs(&[
            ("/ports/80", "http"),
            ("/ports/443", "https"),
            ("/flags/true", "true"),
            ("/flags/false", "false"),
            ("/floats/1.5", "x"),
            ("/floats/+Inf", "inf-key"),
            ("/big/18446744073709551615", "max"),
        ])
    );
}

#[test]
fn null_and_collection_keys_are_errors() {
    let e = err("a:\n  ~: x\n");
    assert_eq!((e.line, e.column), (2, 3));
    assert!(e.message.contains("null mapping key"), "{e}");
    let e = err("? [a]\n: x\n");
    assert!(e.message.contains("invalid map key"), "{e}");
    let e = err("? {a: b}\n: x\n");
    assert!(e.message.contains("invalid map key"), "{e}");
}

#[test]
fn anchors_aliases_and_merges() {
    let text = "\
defaults: &d
  adapter: postgres
  host: localhost
dev:
  host: before
  <<: *d
  database: dev
list: &l [1, 2]
copy: *l
";
    assert_eq!(
        flat(text),
        pairs(&[
            ("/defaults/adapter", "postgres"),
            ("/defaults/host", "localhost"),
            ("/dev/adapter", "postgres"),
            // The merge overrides the key written before it (yaml.v2).
            ("/dev/host", "localhost"),
            ("/dev/database", "dev"),
            ("/list/0", "1"),
            ("/list/1", "2"),
            ("/copy/0", "1"),
            ("/copy/1", "2"),
        ])
    );
    // Earlier maps of a merge sequence take precedence.
    assert_eq!(
        flat("a: &a {x: 1}\nb: &b {x: 2, w: 2}\nc:\n  <<: [*a, *b]\n")
            .into_iter()
            .filter(|(k, _)| k.starts_with("/c/"))
            .collect::<Vec<_>>(),
        pairs(&[("/c/w", "2"), ("/c/x", "1")])
    );
    // A quoted "<<" is an ordinary key.
    assert_eq!(flat("c:\n  \"<<\": {x: 1}\n"), pairs(&[("/c/<</x", "1")]));
}

#[test]
fn merge_errors() {
    let e = err("a: &a 1\nb:\n  <<: *a\n");
    assert_eq!((e.line, e.column), (3, 7));
    assert_eq!(e.message, "map merge requires map or sequence of maps as the value");
    assert!(err("a: &s [{x: 1}]\nb:\n  <<: *s\n").message.contains("map merge"));
    assert!(err("b:\n  <<: [1]\n").message.contains("map merge"));
}

#[test]
fn only_the_first_document_counts() {
    assert_eq!(flat("a: 1\n---\nb: 2\n"), pairs(&[("/a", "1")]));
    assert_eq!(flat("---\n---\nb: 2\n"), pairs(&[]));
    // Even a broken second document: yaml.v2 does not read it either.
    assert_eq!(flat("a: 1\n---\nb: [\n"), pairs(&[("/a", "1")]));
}

#[test]
fn empty_and_null_documents() {
    for text in ["", "# comment\n", "~\n", "---\n", "null\n", "\u{feff}"] {
        assert_eq!(flat(text), pairs(&[]), "{text:?}");
    }
}

#[test]
fn top_level_must_be_a_mapping() {
    for (text, what) in [
        ("hello\n", "a string"),
        ("- a\n", "a sequence"),
        ("42\n", "an integer"),
        ("yes\n", "a boolean"),
    ] {
        let e = err(text);
        assert_eq!((e.line, e.column), (1, 1));
        assert!(e.message.ends_with(what), "{e}");
    }
}

#[test]
fn syntax_errors_have_line_and_column() {
    let e = err("a: 1\nb: 2\nc: d: e\n");
    assert_eq!((e.line, e.column), (3, 5));
    assert_eq!(e.to_string(), format!("line 3, column 5: {}", e.message));
    assert!(e.message.contains("mapping values are not allowed"), "{e}");
    let e = err("a:\n  b: 1\n c: 2\n");
    assert_eq!(e.line, 3);
}

#[test]
fn crlf_and_bom() {
    assert_eq!(
        flat("\u{feff}a: 1\r\nb: |\r\n  x\r\n  y\r\n"),
        pairs(&[("/a", "1"), ("/b", "x\ny\n")])
    );
}

#[test]
fn control_characters_are_rejected_with_position() {
    let e = err("a: 1\nb: x\u{1}y\n");
    assert_eq!((e.line, e.column), (2, 5));
    assert!(e.message.contains("U+0001"), "{e}");
    // Tabs, NEL and non-BMP characters are fine.
    assert_eq!(flat("a: \"x\ty\"\nb: 😀\n"), pairs(&[("/a", "x\ty"), ("/b", "😀")]));
}

#[test]
fn decode_bytes_utf8_utf16() {
    assert_eq!(decode_yaml_bytes(b"a: 1\n").unwrap(), "a: 1\n");
    let utf16le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("a: é\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert_eq!(flat(&decode_yaml_bytes(&utf16le).unwrap()), pairs(&[("/a", "é")]));
    let utf16be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain("a: 1\n".encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    assert_eq!(decode_yaml_bytes(&utf16be).unwrap(), "a: 1\n");
    let e = decode_yaml_bytes(b"a: 1\nbb: x\xffy\n").unwrap_err();
    assert_eq!((e.line, e.column), (2, 6));
    assert!(e.message.contains("UTF-8"));
    assert!(decode_yaml_bytes(&[0xFF, 0xFE, 0x00, 0xD8]).is_err());
}

#[test]
fn depth_limits() {
    // Block nesting: up to MAX_DEPTH collections (compact nested sequences `- - - x`).
    let nested = |levels: usize| format!("a:\n  {}x\n", "- ".repeat(levels));
    let got = flat(&nested(MAX_DEPTH - 1));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0], (format!("/a{}", "/0".repeat(MAX_DEPTH - 1)), "x".to_string()));
    let e = err(&nested(MAX_DEPTH));
    assert!(e.message.contains("exceeded max depth of 10000"), "{e}");
    // Flow nesting: saphyr-parser stops at 255 levels (yaml.v2 allows 10000).
    let flow = |levels: usize| format!("a: {}x{}\n", "[".repeat(levels), "]".repeat(levels));
    assert_eq!(flat(&flow(255)).len(), 1);
    assert!(err(&flow(256)).message.contains("recursion limit"));
}

#[test]
fn alias_expansion_is_bounded() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let prev = format!("*a{}", i - 1);
        let items = [prev.as_str(); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{items}]\n"));
    }
    let e = err(&text);
    assert!(e.message.contains("excessive aliasing"), "{e}");
    // Moderate reuse is fine: 10^4 leaves from 5 lines.
    let small: String = text.lines().take(4).map(|l| format!("{l}\n")).collect();
    assert_eq!(flat(&small).len(), 10 + 100 + 1000 + 10_000);
}

#[test]
fn error_display() {
    let e = YamlError { line: 3, column: 5, message: "mapping values are not allowed here".into() };
    assert_eq!(e.to_string(), "line 3, column 5: mapping values are not allowed here");
}

#[test]
fn child_path_is_go_path_join() {
    for parent in ["/", "/a", "/a/b", "/0"] {
        for seg in ["x", "0", "", ".", "..", "...", "a/b", "/x", "x/", "a//b", " ", "..x"] {
            assert_eq!(
                child_path(parent, seg),
                gopath::join(&[parent, seg]),
                "{parent:?} + {seg:?}"
            );
        }
    }
}

// ---- the simple reader: the tree's pairs, or hands the document over ----------------------

/// The simple reader's pairs for `text`, after checking them against the tree's.
fn simple_agrees(text: &str) -> Option<Vec<(String, String)>> {
    let fast = simple::flatten_simple(text)?;
    assert_eq!(Ok(fast.clone()), flatten_tree(text), "{text:?}");
    Some(fast)
}

#[test]
fn simple_reader_takes_the_usual_data_file() {
    let text = "\
# services of data centre 1
service_sgin:
  subdomain:
    svc1: \"www.svc1.example.com  api.svc1.example.com\"
    svc2: 'www.svc2.example.com'   # quoted, then a comment
  upstream:

    svc1:
      server1: 10.0.0.1:8080
      server2: \"10.0.0.2:8080\"
    svc2:
      server1: http://10.0.0.3:8080/#frag # a comment
      port: 0x1F
      on_call: yes
      ratio: 1.50
      empty:
      none: ~
      when: 2001-12-14
  tail.key-1: v
";
    let pairs = simple_agrees(text).expect("the simple reader takes it");
    assert_eq!(pairs.len(), 10, "{pairs:?}");
    assert_eq!(
        pairs[4],
        ("/service_sgin/upstream/svc2/server1".into(), "http://10.0.0.3:8080/#frag".into())
    );
    assert_eq!(pairs[5].1, "31");
    assert_eq!(pairs[6].1, "true");
    assert_eq!(pairs[7].1, "1.5");
}

#[test]
fn simple_reader_hands_over_what_it_does_not_take() {
    let cases = [
        "a:\n\tb: 1\n",           // a tab
        "a: 1\r\nb: 2\r\n",       // CR
        "\u{feff}a: 1\n",         // byte order mark
        "a: x\u{85}y\n",          // NEL
        "---\na: 1\n",            // document marker
        "a: 1\n...\n",            // document end
        "%YAML 1.1\n---\na: 1\n", // directive
        "a:\n- 1\n",              // a sequence at the key's indentation
        "a:\n  - 1\n",            // a sequence
        "a: [1, 2]\n",            // flow
        "a: {b: 1}\n",
        "a: &x 1\nb: *x\n", // anchor and alias
        "a: !!str 1\n",     // tag
        "<<: {a: 1}\n",     // merge
        "a: |\n  text\n",   // block scalar
        "a: >\n  text\n",
        "a: one\n  two\n",     // a multi-line plain scalar
        "a: one\n   # more\n", // a more-indented comment after a scalar
        "a: \"x\\ty\"\n",      // escapes
        "a: \"x\n  y\"\n",     // multi-line quoted
        "a: 'it''s'\n",        // escaped single quote
        "a: \"x\" y\n",        // text after a quoted scalar
        "a/b: 1\n",            // a key with a slash
        "yes: 1\n",            // a key that is not a string
        "80: http\n",
        "\"a\": 1\n",   // a quoted key
        "a : 1\n",      // space before the colon
        "a:b\n",        // no space after the colon
        "a: b: c\n",    // mapping in a plain scalar: an error
        "a: 1\na: 2\n", // a repeated key
        "a:\n  x: 1\na:\n  y: 2\n",
        "a:\n  x: 1\n b: 2\n", // indentation between levels: an error
        "  a: 1\nb: 2\n",      // less indented than the document
        "",                    // empty
        "# only a comment\n",
        "just text\n",
    ];
    for text in cases {
        assert_eq!(simple::flatten_simple(text), None, "{text:?}");
    }
    // A repeated key at any depth, in or out of order.
    assert_eq!(simple::flatten_simple("a:\n  y: 1\n  x: 2\n  y: 3\n"), None);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
    /// Whatever the simple reader takes, it reads as the tree does: documents built from lines
    /// that are each valid on their own, in every order and indentation.
    #[test]
    fn simple_reader_matches_the_tree(
        lines in proptest::collection::vec((0usize..7, 0usize..40, 0usize..45), 1..14),
        final_newline in proptest::bool::ANY,
    ) {
        const INDENTS: [usize; 7] = [0, 0, 2, 4, 1, 3, 6];
        const KEYS: [&str; 40] = [
            "a", "b", "c", "svc1", "x.y", "a-b", "_k", "k9", "yes", "on", "Off", "y", "n",
            "80", "1.5", "0x1F", "~", "null", "Null", "2001-12-14", "k/v", "a b", "-k", ".k",
            "1_0", "+1", "0", "t", "true1", "nope", "..", "a..b", "<<", "? a", "- a", "# c",
            "\"q\"", "'s'", "é", "K",
        ];
        const AFTER: [&str; 45] = [
            ":", ": ", ":  # c", ":x", ": 1", ": 0777", ": yes", ": ~", ": null", ": text",
            ": a b", ": x:y", ": x: y", ": http://h:1/p", ": v #c", ": v#c", ": 'q'",
            ": 'it''s'", ": \"d\"", ": \"e\\n\"", ": \"x\" y", ": [1, 2]", ": {a: 1}", ": &a x",
            ": *a", ": !!str 1", ": |", ": -1", ": - x", ": 1e3", ": .inf", ": a,b", ": x:",
            ": 'a' # c", ": \"a\"#c", ": 08", ": 1e400", ": é ü", ": a  ", ": 'x", ": \"",
            ": @x", ": %x", ": 99999999999999999999", ": -.inf",
        ];
        let mut text = String::new();
        for (i, (indent, key, after)) in lines.iter().enumerate() {
            if i > 0 {
                text.push('\n');
            }
            text.push_str(&" ".repeat(INDENTS[*indent]));
            match *key {
                33 => text.push_str("# comment"),
                34 => {}
                _ => {
                    text.push_str(KEYS[*key]);
                    text.push_str(AFTER[*after]);
                }
            }
        }
        if final_newline {
            text.push('\n');
        }
        if check_characters(&text).is_ok() {
            simple_agrees(&text);
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
    /// The same on well-formed nesting: each entry either opens a mapping under the key before
    /// it (when that key had no value) or goes back up some levels, with a few keys, so that
    /// repeats, nulls, empty mappings and odd values all come up.
    #[test]
    fn simple_reader_matches_the_tree_on_nested_mappings(
        entries in proptest::collection::vec((0usize..3, 0usize..12, 0usize..26, 1usize..4), 1..30),
    ) {
        const KEYS: [&str; 12] =
            ["a", "b", "c", "svc1", "x.y", "a-b", "_k", "on", "t", "Yes1", "0a", "a/b"];
        const AFTER: [&str; 26] = [
            ":", ":", ":", ":  # c", ": 1", ": 0777", ": yes", ": ~", ": text", ": a b",
            ": x:y", ": v #c", ": 'q'", ": \"d\"", ": http://h:1/p", ": 1.50", ": 1e3",
            ": 2001-12-14", ": -1", ": é", ": 'a' # c", ": .5", ": 0b101", ": x # y: z",
            ": ---", ": -x y",
        ];
        let mut text = String::new();
        // Per open mapping: its indentation and its keys so far.
        let mut open: Vec<(usize, Vec<&str>)> = vec![(0, Vec::new())];
        let mut opened = false;
        let mut takeable = true;
        for (up, key, after, step) in entries {
            if opened && up == 0 {
                let indent = open.last().map_or(0, |m| m.0) + step;
                open.push((indent, Vec::new()));
            } else {
                for _ in 0..up.min(open.len() - 1) {
                    open.pop();
                }
            }
            let Some((indent, keys)) = open.last_mut() else { break };
            let key = KEYS[key];
            // What it hands over: a repeated key, a key with `/`, a key that is not a string.
            takeable &= !keys.contains(&key) && key != "a/b" && key != "on";
            keys.push(key);
            text.push_str(&format!("{}{}{}\n", " ".repeat(*indent), key, AFTER[after]));
            opened = after < 4;
        }
        let taken = simple_agrees(&text).is_some();
        proptest::prop_assert_eq!(taken, takeable, "{:?}", text);
    }
}

proptest::proptest! {
    /// Passing over plain runs finds what a walk over every character finds.
    #[test]
    fn first_char_where_is_a_plain_search(
        pieces in proptest::collection::vec(
            proptest::sample::select(vec!["a", "abcdefgh", "\n", "\t", "\r", "é", "\u{85}", "\u{2028}", "\u{feff}", "\u{7f}", "~ ", "漢字"]),
            0..80,
        ),
    ) {
        let text = pieces.concat();
        for wanted in [|c: char| c == '\t', |c: char| !c.is_ascii(), |c: char| c == '\u{2028}' || c == '\r'] {
            proptest::prop_assert_eq!(first_char_where(&text, wanted), text.char_indices().find(|&(_, c)| wanted(c)));
        }
    }
}

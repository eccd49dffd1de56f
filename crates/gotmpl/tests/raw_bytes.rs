//! Templates that are not UTF-8 render as Go renders them. The expected bytes were printed by
//! Go 1.19.8's `text/template` (Debian golang-go) for exactly these templates.

use gotmpl::{Template, Value};

fn render(template: &[u8]) -> Vec<u8> {
    Template::new("t").parse_bytes(template).unwrap().execute_bytes(&Value::Missing).unwrap()
}

#[test]
fn bytes_outside_actions_pass_through() {
    assert_eq!(render(b"a\xe9b"), b"a\xe9b");
    assert_eq!(render(b"{{print 1}}\xc3"), b"1\xc3");
    let mut want = b"x\xff\xfe".to_vec();
    want.extend_from_slice(" \u{fffd} ".as_bytes());
    want.push(0xe9);
    assert_eq!(render(b"x\xff\xfe{{- \" \xe9 \" -}}\xe9"), want);
}

#[test]
fn a_latin1_comment_is_skipped() {
    assert_eq!(render(b"{{/* caf\xe9 */}}x"), b"x");
}

#[test]
fn literals_decode_as_in_go() {
    // A double-quoted literal decodes the byte to U+FFFD (strconv.Unquote); a raw one keeps it.
    assert_eq!(render(b"{{\"caf\xe9\"}}"), "caf\u{fffd}".as_bytes());
    assert_eq!(render(b"{{printf \"%q\" \"\xe9\"}}"), "\"\u{fffd}\"".as_bytes());
    assert_eq!(render(b"{{len \"\xe9\"}}"), b"3");
    assert_eq!(render(b"{{`r\xe9`}}"), b"r\xe9");
}

#[test]
fn utf8_templates_are_unaffected() {
    let text = "caf\u{e9} {{\"\u{10ff80}\"}}";
    assert_eq!(render(text.as_bytes()), text.replace("{{\"", "").replace("\"}}", "").as_bytes());
}

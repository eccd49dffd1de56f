//! confd's template functions, rendered through gotmpl with a fake host.
//!
//! The tables `GO_CASES`, `GO_TIME` and `GO_JSON` were produced by Go 1.19 itself:
//! `tools/funcs-oracle` renders the same templates with Go's `text/template` and a confd-like
//! function map over the same store and fake host (see its `main.go`), and prints these rows:
//!
//!     cd tools/funcs-oracle
//!     GOPROXY=off go run . funcs   # GO_CASES
//!     GOPROXY=off go run . time    # GO_TIME
//!     GOPROXY=off go run . json    # GO_JSON
//!
//! Where we differ from Go on purpose, `DIVERGENCES` gives our output and the reason.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use confd_core::funcs::{self, confd_funcs, kv_pair_type, GoTime, Host, Now, Srv};
use confd_kv::Store;
use gotmpl::{Template, Type, Value};

/// The store of the Go oracle.
const STORE: &[(&str, &str)] = &[
    ("/key", "foobar"),
    ("/test/key", "abc"),
    ("/test/user", "mary"),
    ("/test/pass", "abc"),
    ("/nada/url", "http://example.com"),
    ("/test/data/1", r#"{"Id":"1","IP":"10.0.0.1"}"#),
    ("/test/data/2", r#"{"Id":"2","IP":"10.0.0.2"}"#),
    ("/test/array/", r#"["1","2","3"]"#),
    ("/ls/abc", "1"),
    ("/ls/def/ghi", "2"),
    ("/ls/jkl/mno", "3"),
    ("/vals/a", "a-val"),
    ("/vals/b", "B-val"),
    ("/empty", ""),
    ("/upstream/app1", "10.0.1.10:8080"),
    ("/upstream/app2", "10.0.1.11:8080"),
    ("/len/aaa", "3"),
    ("/len/b", "1"),
    ("/len/cc", "2"),
    ("/len/dd", "2b"),
    ("/num", "42"),
];

/// The fake host of the Go oracle.
struct FakeHost {
    env: HashMap<&'static str, &'static str>,
    ips: HashMap<&'static str, Vec<IpAddr>>,
    srv: HashMap<&'static str, Vec<Srv>>,
    now: Now,
}

impl FakeHost {
    fn new() -> FakeHost {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let srv = |target: &str, port, priority, weight| Srv {
            target: target.into(),
            port,
            priority,
            weight,
        };
        FakeHost {
            env: HashMap::from([("HOSTNAME", "localhost"), ("EMPTY", "")]),
            ips: HashMap::from([
                ("localhost", vec![ip("127.0.0.1"), ip("::1")]),
                (
                    "multi",
                    ["192.168.0.1", "fe80::1", "10.0.0.10", "2001:db8::1", "10.0.0.2"]
                        .map(ip)
                        .to_vec(),
                ),
                ("mapped", vec![ip("::ffff:10.1.2.3")]),
            ]),
            srv: HashMap::from([(
                "_http._tcp.example.com",
                vec![
                    srv("web2.example.com.", 80, 10, 5),
                    srv("web1.example.com.", 8080, 10, 5),
                    srv("web1.example.com.", 80, 20, 0),
                ],
            )]),
            // 2026-11-27 17:35:32.89898681 UTC, without a monotonic reading.
            now: Now::utc(1_795_800_932, 898_986_810),
        }
    }
}

impl Host for FakeHost {
    fn getenv(&self, name: &str) -> Option<String> {
        self.env.get(name).map(|v| v.to_string())
    }
    fn lookup_ip(&self, host: &str) -> Vec<IpAddr> {
        self.ips.get(host).cloned().unwrap_or_default()
    }
    fn lookup_srv(&self, service: &str, proto: &str, name: &str) -> Vec<Srv> {
        self.srv.get(format!("_{service}._{proto}.{name}").as_str()).cloned().unwrap_or_default()
    }
    fn file_exists(&self, path: &str) -> bool {
        path == "/etc/passwd"
    }
    fn now(&self) -> Now {
        self.now.clone()
    }
}

fn store() -> Arc<Store> {
    Arc::new(STORE.iter().copied().collect())
}

fn render_with(host: FakeHost, store: Arc<Store>, text: &str) -> String {
    let tmpl = match Template::new("t").funcs(confd_funcs(store, Arc::new(host))).parse(text) {
        Ok(t) => t,
        Err(e) => return format!("ERR {e}"),
    };
    match tmpl.execute(&Value::Nil) {
        Ok(out) => out,
        Err(e) => format!("ERR {e}"),
    }
}

fn render(text: &str) -> String {
    render_with(FakeHost::new(), store(), text)
}

/// Cases where we differ from Go on purpose: template, our output, why.
const DIVERGENCES: &[(&str, &str, &str)] = &[
    (
        "{{printf \"%T %T %v %s\" datetime datetime.Unix datetime.Month datetime.Weekday}}",
        "time.Time int November Friday",
        "the engine has no int64 type; Unix() returns an int (prints the same)",
    ),
    (
        "{{printf \"%T\" (index (lookupSRV \"http\" \"tcp\" \"example.com\") 0).Port}}",
        "uint",
        "gotmpl values carry no uint16: a uint16 field reads back as a uint (prints the same)",
    ),
];

#[test]
fn every_case_matches_go() {
    let mut failures = Vec::new();
    for (text, go) in GO_CASES {
        let want = match DIVERGENCES.iter().find(|d| d.0 == *text) {
            Some((_, ours, _)) => *ours,
            None => *go,
        };
        let got = render(text);
        if got != want {
            failures.push(format!("template {text:?}\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        GO_CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn every_function_is_registered_once() {
    let names: Vec<String> =
        confd_funcs(store(), Arc::new(FakeHost::new())).into_iter().map(|(n, _)| n).collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "duplicate names");
    // confd master's newFuncMap has 32 entries (the behaviour notes say 33; they list 32);
    // ours adds the five that check stored values for their context.
    assert_eq!(names.len(), 7 + 32 + 5);
    for ours in ["addr", "ipAddr", "serverNames", "token", "globEscape"] {
        assert!(names.iter().any(|n| n == ours), "{ours} missing");
    }
    for name in [
        "get",
        "gets",
        "getv",
        "getvs",
        "exists",
        "ls",
        "lsdir",
        "base",
        "dir",
        "split",
        "join",
        "json",
        "jsonArray",
        "map",
        "getenv",
        "datetime",
        "toUpper",
        "toLower",
        "contains",
        "replace",
        "trimSuffix",
        "lookupIP",
        "lookupIPV4",
        "lookupIPV6",
        "lookupSRV",
        "fileExists",
        "base64Encode",
        "base64Decode",
        "parseBool",
        "reverse",
        "sortByLength",
        "sortKVByLength",
        "add",
        "sub",
        "mul",
        "div",
        "mod",
        "seq",
        "atoi",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} missing");
    }
}

// ---- confd's own unit tests (resource/template/template_test.go), as our cases -------------

#[test]
fn confd_unit_test_cases() {
    let store: Arc<Store> = Arc::new(
        [
            ("/test/key", "abc"),
            ("/test/user", "mary"),
            ("/test/pass", "abc"),
            ("/nada/url", "url"),
            ("/test/data/1", r#"{"Id":"1","IP":"10.0.0.1"}"#),
            ("/test/data/2", r#"{"Id":"2","IP":"10.0.0.2"}"#),
            ("/test/ls/abc", "1"),
            ("/test/ls/def", "2"),
            ("/test/ls/ghi", "3"),
            ("/test/lsdir/abc", "1"),
            ("/test/lsdir/def/ghi", "2"),
            ("/test/lsdir/jkl/mno", "3"),
        ]
        .into_iter()
        .collect(),
    );
    let r = |text: &str| render_with(FakeHost::new(), store.clone(), text);
    assert_eq!(
        r("{{with get \"/test/key\"}}key: {{base .Key}}\nval: {{.Value}}\n{{end}}"),
        "key: key\nval: abc\n"
    );
    assert_eq!(
        r("{{range gets \"/test/*\"}}\nkey: {{.Key}}\nval: {{.Value}}\n{{end}}"),
        "\nkey: /test/key\nval: abc\n\nkey: /test/pass\nval: abc\n\nkey: /test/user\nval: mary\n"
    );
    assert_eq!(r("{{getv \"/test/user\"}}"), "mary");
    assert_eq!(
        r("{{range getvs \"/test/*\"}}\nval: {{.}}\n{{end}}"),
        "\nval: abc\n\nval: abc\n\nval: mary\n"
    );
    assert_eq!(
        r("{{$data := split \"foo:bar:baz\" \":\"}}{{index $data 0}}|{{index $data 2}}"),
        "foo|baz"
    );
    assert_eq!(r("{{toUpper (getv \"/test/user\")}} {{toLower \"ABC\"}}"), "MARY abc");
    assert_eq!(
        r("{{range getvs \"/test/data/*\"}}{{$data := json .}}\nid: {{$data.Id}}\nip: {{$data.IP}}\n{{end}}"),
        "\nid: 1\nip: 10.0.0.1\n\nid: 2\nip: 10.0.0.2\n"
    );
    // A stored key may end in "/" (it is a literal key); in its own store, as `/test/data/*`
    // would match it.
    let arrays: Arc<Store> = Arc::new([("/test/data/", r#"["1","2","3"]"#)].into_iter().collect());
    assert_eq!(
        render_with(
            FakeHost::new(),
            arrays,
            "{{range jsonArray (getv \"/test/data/\")}}\nnum: {{.}}\n{{end}}"
        ),
        "\nnum: 1\n\nnum: 2\n\nnum: 3\n"
    );
    assert_eq!(
        r("{{range ls \"/test/ls\"}}\nvalue: {{.}}\n{{end}}"),
        "\nvalue: abc\n\nvalue: def\n\nvalue: ghi\n"
    );
    assert_eq!(
        r("{{range lsdir \"/test/lsdir\"}}\nvalue: {{.}}\n{{end}}"),
        "\nvalue: def\n\nvalue: jkl\n"
    );
    assert_eq!(r("{{dir \"/test/data/abc\"}}"), "/test/data");
    assert_eq!(r("{{range lookupIPV4 \"localhost\"}}\nip: {{.}}\n{{end}}"), "\nip: 127.0.0.1\n");
    assert_eq!(r("{{base64Encode \"Value\"}} {{base64Decode \"VmFsdWU=\"}}"), "VmFsdWU= Value");
    assert_eq!(r("{{seq 1 3}}"), "[1 2 3]");
    assert_eq!(r("{{range $i := seq 1 (atoi \"3\")}}{{$i}} {{end}}"), "1 2 3 ");
}

#[test]
fn missing_key_error_text() {
    assert_eq!(
        render("{{getv \"/x\"}}"),
        "ERR template: t:1:2: executing \"t\" at <getv \"/x\">: error calling getv: key does not exist: /x"
    );
}

// ---- datetime ----------------------------------------------------------------------------

#[test]
fn datetime_format_with_a_fixed_clock() {
    assert_eq!(render("{{datetime.Format \"2006-01-02\"}}"), "2026-11-27");
    assert_eq!(render("{{datetime}}"), "2026-11-27 17:35:32.89898681 +0000 UTC");
}

#[test]
fn datetime_prints_the_monotonic_reading_like_go() {
    let mut host = FakeHost::new();
    host.now.monotonic_nanos = Some(19_231_305);
    assert_eq!(
        render_with(host, store(), "{{datetime}}"),
        "2026-11-27 17:35:32.89898681 +0000 UTC m=+0.019231305"
    );
    let mut host = FakeHost::new();
    host.now.monotonic_nanos = Some(3_600_000_000_001);
    assert_eq!(
        render_with(host, store(), "{{datetime}}|{{datetime.UTC}}|{{datetime.Local}}"),
        "2026-11-27 17:35:32.89898681 +0000 UTC m=+3600.000000001|\
         2026-11-27 17:35:32.89898681 +0000 UTC|2026-11-27 17:35:32.89898681 +0000 UTC"
    );
}

#[test]
fn datetime_in_another_zone() {
    let mut host = FakeHost::new();
    host.now.offset_secs = 3600;
    host.now.zone = "CET".into();
    assert_eq!(
        render_with(host, store(), "{{datetime}}|{{datetime.UTC.Format \"15:04 MST\"}}|{{datetime.UTC.Local.Format \"15:04 MST\"}}"),
        "2026-11-27 18:35:32.89898681 +0100 CET|17:35 UTC|18:35 CET"
    );
}

#[test]
fn time_format_matches_go() {
    let mut failures = Vec::new();
    for &(secs, nanos, offset, zone, layout, want) in GO_TIME {
        let t = GoTime::from_now(&Now {
            unix_secs: secs,
            nanos,
            offset_secs: offset,
            zone: zone.into(),
            monotonic_nanos: None,
        });
        let got = if layout == "String" { t.go_string() } else { t.format(layout) };
        if got != want {
            failures.push(format!(
                "{secs}.{nanos:09} {zone}{offset:+} layout {layout:?}: want {want:?} got {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        GO_TIME.len(),
        failures.join("\n")
    );
}

// ---- json --------------------------------------------------------------------------------

#[test]
fn json_decoding_matches_go() {
    let show = |r: Result<Value, String>| match r {
        Ok(v) => gotmpl::gofmt::sprint(&[v]),
        Err(e) => format!("ERR {e}"),
    };
    let mut failures = Vec::new();
    for &(input, want_object, want_array) in GO_JSON {
        let object = show(funcs::json::unmarshal_object(input));
        let array = show(funcs::json::unmarshal_array(input));
        if object != want_object || array != want_array {
            failures.push(format!(
                "input {input:?}\n  json:      want {want_object:?} got {object:?}\n  jsonArray: want {want_array:?} got {array:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        GO_JSON.len(),
        failures.join("\n")
    );
}

#[test]
fn json_null_is_a_nil_map_and_nested_values_have_go_types() {
    let Value::Map(m) = funcs::json::unmarshal_object("null").unwrap() else { panic!() };
    assert!(m.nil);
    assert_eq!(m.ty, Type::map(Type::Any));
    let v = funcs::json::unmarshal_object(r#"{"a":[1,{"b":null}]}"#).unwrap();
    let Value::Map(m) = v else { panic!() };
    let Value::List(l) = &m.entries["a"] else { panic!() };
    assert_eq!(l.ty, Type::slice(Type::Any));
    assert_eq!(l.items[0], Value::Float(1.0));
    let Value::Map(inner) = &l.items[1] else { panic!() };
    assert_eq!(inner.entries["b"], Value::Nil);
}

#[test]
fn json_nesting_limit() {
    let depth = funcs::json::MAX_DEPTH;
    let ok = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let deep = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let v = funcs::json::unmarshal_array(&ok).map(|v| gotmpl::gofmt::sprint(&[v]).len());
            drop(ok);
            v
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(deep, Ok(2 * depth));
    let too_deep = format!("{}{}", "[".repeat(depth + 1), "]".repeat(depth + 1));
    assert_eq!(
        funcs::json::unmarshal_array(&too_deep).unwrap_err(),
        "invalid character '[' exceeded max depth"
    );
}

#[test]
fn case_mapping_matches_go_for_every_code_point() {
    // `go-oracle casemap`: FNV-1a 64 over "cp upper lower\n" (hex) for each changing rune.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut count = 0;
    for c in (0..=0x10FFFF).filter_map(char::from_u32) {
        let s = c.to_string();
        let u = funcs::text::to_upper(&s);
        let l = funcs::text::to_lower(&s);
        assert_eq!((u.chars().count(), l.chars().count()), (1, 1), "{c:?}");
        let (u, l) = (u.chars().next().unwrap(), l.chars().next().unwrap());
        if u != c || l != c {
            count += 1;
            for b in format!("{:x} {:x} {:x}\n", c as u32, u as u32, l as u32).bytes() {
                hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    assert_eq!((count, hash), (2799, 0x66cf_00cd_76e2_0561));
}

// ---- deliberate differences from Go, pinned ------------------------------------------------

#[test]
fn reverse_returns_a_new_list_and_leaves_its_argument_alone() {
    // Go reverses in place, so Go prints "[c b a] [c b a]".
    assert_eq!(render("{{$s := split \"a,b,c\" \",\"}}{{reverse $s}} {{$s}}"), "[c b a] [a b c]");
    // The named memkv.KVPairs from gets is not reversed (as in confd).
    assert_eq!(render("{{reverse (gets \"/vals/*\")}}"), "[{/vals/a a-val} {/vals/b B-val}]");
}

#[test]
fn sorts_by_length_are_stable() {
    // 14 elements: Go's sort.Sort would not use its (stable) insertion sort for more than 12.
    let words = "bb,aa,c,dd,e,ff,g,hh,i,jj,k,ll,m,nn";
    assert_eq!(
        render(&format!("{{{{sortByLength (split \"{words}\" \",\")}}}}")),
        "[c e g i k m bb aa dd ff hh jj ll nn]"
    );
    let store: Arc<Store> =
        Arc::new([("/x/bb", ""), ("/x/a", ""), ("/x/cc", ""), ("/x/d", "")].into_iter().collect());
    assert_eq!(
        render_with(
            FakeHost::new(),
            store,
            "{{range sortKVByLength (gets \"/x/*\")}}{{.Key}} {{end}}"
        ),
        "/x/a /x/d /x/bb /x/cc "
    );
}

#[test]
fn seq_is_bounded() {
    assert_eq!(
        render("{{len (seq 1 100000000)}}"),
        format!(
            "ERR template: t:1:7: executing \"t\" at <seq 1 100000000>: error calling seq: seq: 100000000 elements is more than the limit of {}",
            funcs::MAX_SEQ
        )
    );
    assert_eq!(render("{{len (seq -5 5)}}"), "11");
}

#[test]
fn base64_decode_of_non_utf8_bytes_is_lossy() {
    assert_eq!(render("{{base64Decode \"/w==\"}}"), "\u{fffd}");
}

// ---- values and types ----------------------------------------------------------------------

#[test]
fn kv_pair_type_is_memkv_kvpair() {
    let t = kv_pair_type();
    assert_eq!(&*t.name, "memkv.KVPair");
    let fields: Vec<(&str, Type)> = t.fields.iter().map(|(n, ty)| (&**n, ty.clone())).collect();
    assert_eq!(fields, [("Key", Type::String), ("Value", Type::String)]);
    assert!(Arc::ptr_eq(&t, &kv_pair_type()));
}

#[test]
fn getv_default_only_for_absent_keys() {
    assert_eq!(render("{{getv \"/empty\" \"d\"}}|{{getv \"/nope\" \"d\"}}"), "|d");
}

#[test]
fn map_values_keep_their_types() {
    let mut m = BTreeMap::new();
    m.insert(Arc::<str>::from("a"), Value::Int(1));
    assert_eq!(
        render("{{(map \"a\" 1 \"b\" true).b}} {{index (map \"x\" (seq 1 2)) \"x\"}}"),
        "true [1 2]"
    );
}

// ---- tables produced by Go -----------------------------------------------------------------

/// (template, Go's output or "ERR " + Go's error).
#[rustfmt::skip]
const GO_CASES: &[(&str, &str)] = &[
    ("{{get \"/test/key\"}}", "{/test/key abc}"),
    ("key: {{base (get \"/test/key\").Key}} / val: {{(get \"/test/key\").Value}}", "key: key / val: abc"),
    ("{{get \"/x\"}}", "ERR template: t:1:2: executing \"t\" at <get \"/x\">: error calling get: key does not exist: /x"),
    ("{{get 1}}", "ERR template: t:1:6: executing \"t\" at <1>: expected string; found 1"),
    ("{{range gets \"/test/*\"}}{{.Key}}={{.Value}} {{end}}", "/test/key=abc /test/pass=abc /test/user=mary "),
    ("{{gets \"/test/*\"}}", "[{/test/key abc} {/test/pass abc} {/test/user mary}]"),
    ("{{gets \"/none/*\"}}|{{len (gets \"/none/*\")}}", "[]|0"),
    ("{{gets \"/test/[\"}}", "ERR template: t:1:2: executing \"t\" at <gets \"/test/[\">: error calling gets: syntax error in pattern"),
    ("{{range gets \"/*/*\"}}{{.Key}} {{end}}", "/len/aaa /len/b /len/cc /len/dd /ls/abc /nada/url /test/key /test/pass /test/user /upstream/app1 /upstream/app2 /vals/a /vals/b "),
    ("{{getv \"/test/user\"}}", "mary"),
    ("{{getv \"/x\"}}", "ERR template: t:1:2: executing \"t\" at <getv \"/x\">: error calling getv: key does not exist: /x"),
    ("{{getv \"/x\" \"default\"}}|{{getv \"/x\" \"\"}}|{{getv \"/empty\" \"default\"}}|{{getv \"/x\" \"a\" \"b\"}}", "default|||a"),
    ("{{getv}}", "ERR template: t:1:2: executing \"t\" at <getv>: wrong number of args for getv: want at least 1 got 0"),
    ("{{getvs \"/test/*\"}} {{getvs \"/vals/*\"}} {{getvs \"/none/*\"}}", "[abc abc mary] [B-val a-val] []"),
    ("{{range getvs \"/test/*\"}}{{.}} {{end}}", "abc abc mary "),
    ("{{getvs \"/test/[\"}}", "ERR template: t:1:2: executing \"t\" at <getvs \"/test/[\">: error calling getvs: syntax error in pattern"),
    ("{{exists \"/key\"}} {{exists \"/test\"}} {{exists \"/test/\"}} {{exists \"/nope\"}}", "true false false false"),
    ("{{ls \"/ls\"}} {{lsdir \"/ls\"}} {{ls \"/ls/abc\"}} {{ls \"/nope\"}} {{ls \"ls\"}} {{ls \"/ls/\"}} {{lsdir \"/nope\"}}", "[abc def jkl] [def jkl] [abc] [] [] [abc def jkl] []"),
    ("{{range lsdir \"/ls\"}}{{.}};{{end}}", "def;jkl;"),
    ("{{ls \"/test/data\"}} {{lsdir \"/test\"}}", "[1 2] [array data]"),
    ("{{printf \"%T %T %T %T\" (get \"/key\") (gets \"/test/*\") (getvs \"/test/*\") (ls \"/\")}}", "memkv.KVPair memkv.KVPairs []string []string"),
    ("{{ if exists \"/key\" }}value: {{ getv \"/key\" }}{{ end }}\n{{- if exists \"/doesnotexist\" }}\nvalue: {{ getv \"/doesnotexist\" }}\n{{ end }}\n", "value: foobar\n"),
    ("upstream app {\n{{- range gets \"/upstream/*\" }}\n  server {{ .Value }};\n{{- end }}\n}\n", "upstream app {\n  server 10.0.1.10:8080;\n  server 10.0.1.11:8080;\n}\n"),
    ("{{base \"/a/b/c\"}} {{base \"/\"}} {{base \"\"}} {{base \"a/b/\"}} {{dir \"/a/b/c\"}} {{dir \"x\"}} {{dir \"/test/data/abc\"}} {{dir \"/\"}} {{dir \"\"}}", "c / . b /a/b . /test/data / ."),
    ("{{split \"foo:bar:baz\" \":\"}} {{index (split \"foo:bar:baz\" \":\") 1}}", "[foo bar baz] bar"),
    ("{{range split \"foo:bar:baz\" \":\"}}{{.}} {{end}}", "foo bar baz "),
    ("{{split \"\" \":\"}} {{len (split \"\" \":\")}} {{split \"héllo\" \"\"}} {{len (split \"\" \"\")}} {{split \"a,b,,c\" \",\"}} {{len (split \"a,b,,c\" \",\")}}", "[] 1 [h é l l o] 0 [a b  c] 4"),
    ("{{split \"a:b\" \":\" \"x\"}}", "ERR template: t:1:2: executing \"t\" at <split>: wrong number of args for split: want 2 got 3"),
    ("{{join (split \"a:b:c\" \":\") \", \"}} {{join (ls \"/ls\") \"-\"}}|{{join (split \"\" \",\") \"-\"}}", "a, b, c abc-def-jkl|"),
    ("{{join \"abc\" \"-\"}}", "ERR template: t:1:7: executing \"t\" at <\"abc\">: can't handle \"abc\" for arg of type []string"),
    ("{{toUpper \"hello ß ǆ ᾳ ﬀ ŉ\"}} {{toLower \"HELLO İ Σ ǅ ΣΑΣ\"}} {{toUpper (getv \"/test/user\")}} {{toLower \"MaRy\"}}", "HELLO ß Ǆ ᾼ ﬀ ŉ hello i σ ǆ σασ MARY mary"),
    ("{{contains \"foobar\" \"oba\"}} {{contains \"foobar\" \"x\"}} {{contains \"\" \"\"}} {{contains \"abc\" \"\"}}", "true false true true"),
    ("{{replace \"a-b-c\" \"-\" \"+\" -1}} {{replace \"a-b-c\" \"-\" \"+\" 1}} {{replace \"abc\" \"\" \".\" -1}} {{replace \"abc\" \"\" \".\" 2}} {{replace \"aaa\" \"a\" \"a\" -1}} {{replace \"aaa\" \"a\" \"b\" 0}} {{replace \"héé\" \"\" \"|\" -1}} {{replace \"\" \"\" \"x\" -1}}", "a+b+c a+b-c .a.b.c. .a.bc aaa aaa |h|é|é| x"),
    ("{{replace \"a\" \"a\" \"b\"}}", "ERR template: t:1:2: executing \"t\" at <replace>: wrong number of args for replace: want 4 got 3"),
    ("{{trimSuffix \"file.conf\" \".conf\"}} {{trimSuffix \"file\" \".conf\"}} {{trimSuffix \".conf\" \".conf\"}}|", "file file |"),
    ("{{$d := json (getv \"/test/data/1\")}}{{$d.Id}} {{$d.IP}}", "1 10.0.0.1"),
    ("{{range gets \"/test/data/*\"}}{{$d := json .Value}}{{$d.Id}}={{$d.IP}} {{end}}", "1=10.0.0.1 2=10.0.0.2 "),
    ("{{json \"{\\\"a\\\":1,\\\"b\\\":[1,2.5,{\\\"c\\\":null}],\\\"d\\\":\\\"x\\\",\\\"e\\\":true,\\\"f\\\":1e21,\\\"g\\\":1000000}\"}}", "map[a:1 b:[1 2.5 map[c:<nil>]] d:x e:true f:1e+21 g:1e+06]"),
    ("{{printf \"%T %T %T\" (json \"{\\\"a\\\":1}\") (json \"{\\\"a\\\":1}\").a (json \"{\\\"a\\\":[1]}\").a}}", "map[string]interface {} float64 []interface {}"),
    ("{{(json \"{\\\"a\\\":{\\\"b\\\":\\\"deep\\\"}}\").a.b}} {{(json \"{\\\"a\\\":1}\").missing}} {{(json \"{\\\"n\\\":null}\").n}}", "deep <no value> <no value>"),
    ("{{json \"null\"}} {{len (json \"null\")}}", "map[] 0"),
    ("{{json \"x\"}}", "ERR template: t:1:2: executing \"t\" at <json \"x\">: error calling json: invalid character 'x' looking for beginning of value"),
    ("{{json \"\"}}", "ERR template: t:1:2: executing \"t\" at <json \"\">: error calling json: unexpected end of JSON input"),
    ("{{json \"[1]\"}}", "ERR template: t:1:2: executing \"t\" at <json \"[1]\">: error calling json: json: cannot unmarshal array into Go value of type map[string]interface {}"),
    ("{{json \"{\\\"a\\\":1e400}\"}}", "ERR template: t:1:2: executing \"t\" at <json \"{\\\"a\\\":1e400}\">: error calling json: json: cannot unmarshal number 1e400 into Go value of type float64"),
    ("{{json \"{\\\"a\\\" 1}\"}}", "ERR template: t:1:2: executing \"t\" at <json \"{\\\"a\\\" 1}\">: error calling json: invalid character '1' after object key"),
    ("{{json \"{\\\"s\\\":\\\"\\\\ud83d\\\\ude00 \\\\u00e9 \\\\ud800\\\"}\"}}", "map[s:😀 é \u{fffd}]"),
    ("{{range jsonArray (getv \"/test/array/\")}}{{.}} {{end}}", "1 2 3 "),
    ("{{jsonArray \"[1,\\\"a\\\",null,true,{\\\"k\\\":[]}]\"}} {{printf \"%T\" (jsonArray \"[]\")}} {{jsonArray \"null\"}}", "[1 a <nil> true map[k:[]]] []interface {} []"),
    ("{{jsonArray \"{}\"}}", "ERR template: t:1:2: executing \"t\" at <jsonArray \"{}\">: error calling jsonArray: json: cannot unmarshal object into Go value of type []interface {}"),
    ("{{jsonArray \"[1,\"}}", "ERR template: t:1:2: executing \"t\" at <jsonArray \"[1,\">: error calling jsonArray: unexpected end of JSON input"),
    ("{{$m := map \"a\" 1 \"b\" \"x\"}}{{$m}} {{$m.a}} {{printf \"%T %T\" $m $m.a}}", "map[a:1 b:x] 1 map[string]interface {} int"),
    ("{{map}} {{map \"k\" nil}} {{map \"k\" (split \"a,b\" \",\")}}", "map[] map[k:<nil>] map[k:[a b]]"),
    ("{{map \"a\"}}", "ERR template: t:1:2: executing \"t\" at <map \"a\">: error calling map: invalid map call"),
    ("{{map 1 2}}", "ERR template: t:1:2: executing \"t\" at <map 1 2>: error calling map: map keys must be strings"),
    ("{{getenv \"HOSTNAME\"}} {{getenv \"NOPE\"}}|{{getenv \"NOPE\" \"dflt\"}} {{getenv \"EMPTY\" \"dflt\"}} {{getenv \"HOSTNAME\" \"dflt\"}} {{getenv \"EMPTY\"}}|", "localhost |dflt dflt localhost |"),
    ("hostname: {{ getenv \"HOSTNAME\" }}", "hostname: localhost"),
    ("{{datetime}}", "2026-11-27 17:35:32.89898681 +0000 UTC"),
    ("{{datetime.Format \"2006-01-02\"}} {{datetime.Format \"Mon Jan _2 15:04:05 MST 2006\"}} {{datetime.Format \"2006-01-02T15:04:05.000Z07:00\"}}", "2026-11-27 Fri Nov 27 17:35:32 UTC 2026 2026-11-27T17:35:32.898Z"),
    ("{{datetime.Unix}} {{datetime.UnixMilli}} {{datetime.UnixMicro}} {{datetime.UnixNano}}", "1795800932 1795800932898 1795800932898986 1795800932898986810"),
    ("{{datetime.Year}} {{datetime.Month}} {{datetime.Day}} {{datetime.Weekday}} {{datetime.YearDay}} {{datetime.Hour}}:{{datetime.Minute}}:{{datetime.Second}} {{datetime.Nanosecond}} {{datetime.IsZero}}", "2026 November 27 Friday 331 17:35:32 898986810 false"),
    ("{{datetime.UTC}} {{datetime.UTC.Year}} {{datetime.Local.Format \"15:04\"}} {{datetime.String}}", "2026-11-27 17:35:32.89898681 +0000 UTC 2026 17:35 2026-11-27 17:35:32.89898681 +0000 UTC"),
    ("{{printf \"%T %T %v %s\" datetime datetime.Unix datetime.Month datetime.Weekday}}", "time.Time int64 November Friday"),
    ("{{datetime.Nope}}", "ERR template: t:1:2: executing \"t\" at <datetime>: can't evaluate field Nope in type time.Time"),
    ("{{datetime.Format}}", "ERR template: t:1:2: executing \"t\" at <datetime>: wrong number of args for Format: want 1 got 0"),
    ("{{lookupIP \"multi\"}} {{lookupIPV4 \"multi\"}} {{lookupIPV6 \"multi\"}}", "[10.0.0.10 10.0.0.2 192.168.0.1 2001:db8::1 fe80::1] [10.0.0.10 10.0.0.2 192.168.0.1] [2001:db8::1 fe80::1]"),
    ("{{lookupIP \"nope\"}} {{len (lookupIPV4 \"nope\")}} {{lookupIPV4 \"localhost\"}} {{lookupIPV6 \"localhost\"}} {{lookupIP \"mapped\"}}", "[] 0 [127.0.0.1] [::1] [10.1.2.3]"),
    ("{{range lookupSRV \"http\" \"tcp\" \"example.com\"}}{{.Target}}:{{.Port}} {{.Priority}} {{.Weight}}; {{end}}", "web1.example.com.:80 20 0; web1.example.com.:8080 10 5; web2.example.com.:80 10 5; "),
    ("{{range lookupSRV \"http\" \"tcp\" \"example.com\"}}{{.}} {{end}}{{lookupSRV \"x\" \"tcp\" \"nope\"}}", "{web1.example.com. 80 20 0} {web1.example.com. 8080 10 5} {web2.example.com. 80 10 5} []"),
    ("{{printf \"%T %v\" (lookupSRV \"http\" \"tcp\" \"example.com\") (index (lookupSRV \"http\" \"tcp\" \"example.com\") 0)}}", "[]*net.SRV &{web1.example.com. 80 20 0}"),
    ("{{printf \"%T\" (index (lookupSRV \"http\" \"tcp\" \"example.com\") 0).Port}}", "uint16"),
    ("{{fileExists \"/etc/passwd\"}} {{fileExists \"/nope\"}}", "true false"),
    ("{{base64Encode \"Value\"}} {{base64Decode \"VmFsdWU=\"}} {{base64Decode (base64Encode \"héllo wörld\")}} {{base64Encode \"\"}}|{{base64Decode \"\"}}|", "VmFsdWU= Value héllo wörld ||"),
    ("{{base64Decode \"Zm9v\\nYmFy\\r\\n\"}}", "foobar"),
    ("{{base64Decode \"VmFsdWU\"}}", "ERR template: t:1:2: executing \"t\" at <base64Decode \"VmFsdWU\">: error calling base64Decode: illegal base64 data at input byte 4"),
    ("{{base64Decode \"Vm!s\"}}", "ERR template: t:1:2: executing \"t\" at <base64Decode \"Vm!s\">: error calling base64Decode: illegal base64 data at input byte 2"),
    ("{{base64Decode \"QQ==QQ==\"}}", "ERR template: t:1:2: executing \"t\" at <base64Decode \"QQ==QQ==\">: error calling base64Decode: illegal base64 data at input byte 4"),
    ("{{base64Decode \"QQ=\"}}", "ERR template: t:1:2: executing \"t\" at <base64Decode \"QQ=\">: error calling base64Decode: illegal base64 data at input byte 3"),
    ("{{base64Decode \"Q===\"}}", "ERR template: t:1:2: executing \"t\" at <base64Decode \"Q===\">: error calling base64Decode: illegal base64 data at input byte 1"),
    ("{{parseBool \"true\"}} {{parseBool \"F\"}} {{parseBool \"1\"}} {{parseBool \"False\"}} {{if parseBool \"t\"}}yes{{end}}", "true false true false yes"),
    ("{{parseBool \"yes\"}}", "ERR template: t:1:2: executing \"t\" at <parseBool \"yes\">: error calling parseBool: strconv.ParseBool: parsing \"yes\": invalid syntax"),
    ("{{parseBool \"\"}}", "ERR template: t:1:2: executing \"t\" at <parseBool \"\">: error calling parseBool: strconv.ParseBool: parsing \"\": invalid syntax"),
    ("{{atoi \"42\"}} {{atoi \"-7\"}} {{atoi \"+3\"}} {{add (atoi (getv \"/num\")) 1}} {{printf \"%T\" (atoi \"1\")}}", "42 -7 3 43 int"),
    ("{{atoi \"x\"}}", "ERR template: t:1:2: executing \"t\" at <atoi \"x\">: error calling atoi: strconv.Atoi: parsing \"x\": invalid syntax"),
    ("{{atoi \"\"}}", "ERR template: t:1:2: executing \"t\" at <atoi \"\">: error calling atoi: strconv.Atoi: parsing \"\": invalid syntax"),
    ("{{atoi \"99999999999999999999\"}}", "ERR template: t:1:2: executing \"t\" at <atoi \"99999999999999999999\">: error calling atoi: strconv.Atoi: parsing \"99999999999999999999\": value out of range"),
    ("{{atoi \"1_000\"}}", "ERR template: t:1:2: executing \"t\" at <atoi \"1_000\">: error calling atoi: strconv.Atoi: parsing \"1_000\": invalid syntax"),
    ("{{reverse (split \"a,b,c\" \",\")}} {{reverse (gets \"/test/*\")}} {{reverse (sortKVByLength (gets \"/len/*\"))}}", "[c b a] [{/test/key abc} {/test/pass abc} {/test/user mary}] [{/len/aaa 3} {/len/dd 2b} {/len/cc 2} {/len/b 1}]"),
    ("{{reverse (seq 1 3)}} {{reverse \"abc\"}} {{reverse (jsonArray \"[1,2]\")}} {{reverse (ls \"/ls\")}} {{reverse nil}}", "[1 2 3] abc [1 2] [jkl def abc] <no value>"),
    ("{{sortByLength (split \"ccc,a,bb,dd,e\" \",\")}} {{sortByLength (ls \"/ls\")}} {{sortByLength (split \"\" \",\")}}", "[a e bb dd ccc] [abc def jkl] []"),
    ("{{range sortKVByLength (gets \"/len/*\")}}{{.Key}} {{end}}{{printf \"%T\" (sortKVByLength (gets \"/len/*\"))}}", "/len/b /len/cc /len/dd /len/aaa []memkv.KVPair"),
    ("{{sortByLength (gets \"/test/*\")}}", "ERR template: t:1:21: executing \"t\" at <\"/test/*\">: wrong type for value; expected []string; got memkv.KVPairs"),
    ("{{sortKVByLength (split \"a\" \",\")}}", "ERR template: t:1:28: executing \"t\" at <\",\">: wrong type for value; expected []memkv.KVPair; got []string"),
    ("{{add 1 2}} {{sub 1 2}} {{mul 3 4}} {{div 7 2}} {{mod 7 2}} {{div -7 2}} {{mod -7 2}} {{add 9223372036854775807 1}} {{div -9223372036854775808 -1}} {{mod -9223372036854775808 -1}}", "3 -1 12 3 1 -3 -1 -9223372036854775808 -9223372036854775808 0"),
    ("{{div 1 0}}", "ERR template: t:1:2: executing \"t\" at <div 1 0>: error calling div: runtime error: integer divide by zero"),
    ("{{mod 1 0}}", "ERR template: t:1:2: executing \"t\" at <mod 1 0>: error calling mod: runtime error: integer divide by zero"),
    ("{{add 1.5 2}}", "ERR template: t:1:6: executing \"t\" at <1.5>: expected integer; found 1.5"),
    ("{{add \"1\" 2}}", "ERR template: t:1:6: executing \"t\" at <\"1\">: expected integer; found \"1\""),
    ("{{seq 1 3}} {{seq 3 1}} {{seq -1 1}} {{seq 5 5}} {{range seq 1 3}}{{.}}{{end}} {{printf \"%T\" (seq 1 2)}}", "[1 2 3] [] [-1 0 1] [5] 123 []int"),
    ("{{range $i := seq 1 (atoi \"3\")}}{{$i}}{{end}}", "123"),
    ("{{trimPrefix \"a\" \"b\"}}", "ERR template: t:1: function \"trimPrefix\" not defined"),
];

/// (unix seconds, nanoseconds, zone offset, zone name, layout or "String", Go's text).
#[rustfmt::skip]
const GO_TIME: &[(i64, u32, i32, &str, &str, &str)] = &[
    (1795800932, 898986810, 0, "UTC", "Mon Jan _2 15:04:05 2006", "Fri Nov 27 17:35:32 2026"),
    (1795800932, 898986810, 0, "UTC", "Mon Jan _2 15:04:05 MST 2006", "Fri Nov 27 17:35:32 UTC 2026"),
    (1795800932, 898986810, 0, "UTC", "Mon Jan 02 15:04:05 -0700 2006", "Fri Nov 27 17:35:32 +0000 2026"),
    (1795800932, 898986810, 0, "UTC", "02 Jan 06 15:04 MST", "27 Nov 26 17:35 UTC"),
    (1795800932, 898986810, 0, "UTC", "02 Jan 06 15:04 -0700", "27 Nov 26 17:35 +0000"),
    (1795800932, 898986810, 0, "UTC", "Monday, 02-Jan-06 15:04:05 MST", "Friday, 27-Nov-26 17:35:32 UTC"),
    (1795800932, 898986810, 0, "UTC", "Mon, 02 Jan 2006 15:04:05 MST", "Fri, 27 Nov 2026 17:35:32 UTC"),
    (1795800932, 898986810, 0, "UTC", "Mon, 02 Jan 2006 15:04:05 -0700", "Fri, 27 Nov 2026 17:35:32 +0000"),
    (1795800932, 898986810, 0, "UTC", "2006-01-02T15:04:05Z07:00", "2026-11-27T17:35:32Z"),
    (1795800932, 898986810, 0, "UTC", "2006-01-02T15:04:05.999999999Z07:00", "2026-11-27T17:35:32.89898681Z"),
    (1795800932, 898986810, 0, "UTC", "3:04PM", "5:35PM"),
    (1795800932, 898986810, 0, "UTC", "Jan _2 15:04:05", "Nov 27 17:35:32"),
    (1795800932, 898986810, 0, "UTC", "Jan _2 15:04:05.000", "Nov 27 17:35:32.898"),
    (1795800932, 898986810, 0, "UTC", "Jan _2 15:04:05.000000", "Nov 27 17:35:32.898986"),
    (1795800932, 898986810, 0, "UTC", "Jan _2 15:04:05.000000000", "Nov 27 17:35:32.898986810"),
    (1795800932, 898986810, 0, "UTC", "2006-01-02", "2026-11-27"),
    (1795800932, 898986810, 0, "UTC", "02/01/06 03:04:05 PM pm", "27/11/26 05:35:32 PM pm"),
    (1795800932, 898986810, 0, "UTC", "Jan January Mon Monday Month Mond Janu", "Nov November Fri Friday Month Mond Janu"),
    (1795800932, 898986810, 0, "UTC", "__2 002 _2 2 _2006 2006", "331 331 27 27 _2026 2026"),
    (1795800932, 898986810, 0, "UTC", "1 01 Jan 15 3 03 4 04 5 05 06", "11 11 Nov 17 5 05 35 35 32 32 26"),
    (1795800932, 898986810, 0, "UTC", "15:04:05.000 .999 ,000 ,999 .9 .0 .000000000 .999999999 .0000000000", "17:35:32.898 .898 ,898 ,898 .8 .8 .898986810 .89898681 .898986810"),
    (1795800932, 898986810, 0, "UTC", "-07 -07:00 -0700 -070000 -07:00:00", "+00 +00:00 +0000 +000000 +00:00:00"),
    (1795800932, 898986810, 0, "UTC", "Z07 Z07:00 Z0700 Z070000 Z07:00:00", "Z Z Z Z Z"),
    (1795800932, 898986810, 0, "UTC", "MST", "UTC"),
    (1795800932, 898986810, 0, "UTC", "05.00001", "32.00011"),
    (1795800932, 898986810, 0, "UTC", "05.99x", "32.89x"),
    (1795800932, 898986810, 0, "UTC", ".9x", ".8x"),
    (1795800932, 898986810, 0, "UTC", "Jant Mont Monda Janua", "Jant Mont Monda Janua"),
    (1795800932, 898986810, 0, "UTC", "", ""),
    (1795800932, 898986810, 0, "UTC", "no tokens here", "no tokens here"),
    (1795800932, 898986810, 0, "UTC", "ÄÖÜ 2006 ✓", "ÄÖÜ 2026 ✓"),
    (1795800932, 898986810, 0, "UTC", "2006年01月02日", "2026年11月27日"),
    (1795800932, 898986810, 0, "UTC", "Z", "Z"),
    (1795800932, 898986810, 0, "UTC", "-", "-"),
    (1795800932, 898986810, 0, "UTC", ".", "."),
    (1795800932, 898986810, 0, "UTC", "0", "0"),
    (1795800932, 898986810, 0, "UTC", "00", "00"),
    (1795800932, 898986810, 0, "UTC", "000", "000"),
    (1795800932, 898986810, 0, "UTC", "PM pm Pm pM", "PM pm Pm pM"),
    (1795800932, 898986810, 0, "UTC", "_", "_"),
    (1795800932, 898986810, 0, "UTC", "__", "__"),
    (1795800932, 898986810, 0, "UTC", "___2", "_331"),
    (1795800932, 898986810, 0, "UTC", "-07:0", "+00:0"),
    (1795800932, 898986810, 0, "UTC", "Z07:0", "Z:0"),
    (1795800932, 898986810, 0, "UTC", "2006-01-02 15:04:05.999999999 -0700 MST", "2026-11-27 17:35:32.89898681 +0000 UTC"),
    (1795800932, 898986810, 0, "UTC", "String", "2026-11-27 17:35:32.89898681 +0000 UTC"),
    (1230948245, 12000, 3600, "CET", "Mon Jan _2 15:04:05 2006", "Sat Jan  3 03:04:05 2009"),
    (1230948245, 12000, 3600, "CET", "Mon Jan _2 15:04:05 MST 2006", "Sat Jan  3 03:04:05 CET 2009"),
    (1230948245, 12000, 3600, "CET", "Mon Jan 02 15:04:05 -0700 2006", "Sat Jan 03 03:04:05 +0100 2009"),
    (1230948245, 12000, 3600, "CET", "02 Jan 06 15:04 MST", "03 Jan 09 03:04 CET"),
    (1230948245, 12000, 3600, "CET", "02 Jan 06 15:04 -0700", "03 Jan 09 03:04 +0100"),
    (1230948245, 12000, 3600, "CET", "Monday, 02-Jan-06 15:04:05 MST", "Saturday, 03-Jan-09 03:04:05 CET"),
    (1230948245, 12000, 3600, "CET", "Mon, 02 Jan 2006 15:04:05 MST", "Sat, 03 Jan 2009 03:04:05 CET"),
    (1230948245, 12000, 3600, "CET", "Mon, 02 Jan 2006 15:04:05 -0700", "Sat, 03 Jan 2009 03:04:05 +0100"),
    (1230948245, 12000, 3600, "CET", "2006-01-02T15:04:05Z07:00", "2009-01-03T03:04:05+01:00"),
    (1230948245, 12000, 3600, "CET", "2006-01-02T15:04:05.999999999Z07:00", "2009-01-03T03:04:05.000012+01:00"),
    (1230948245, 12000, 3600, "CET", "3:04PM", "3:04AM"),
    (1230948245, 12000, 3600, "CET", "Jan _2 15:04:05", "Jan  3 03:04:05"),
    (1230948245, 12000, 3600, "CET", "Jan _2 15:04:05.000", "Jan  3 03:04:05.000"),
    (1230948245, 12000, 3600, "CET", "Jan _2 15:04:05.000000", "Jan  3 03:04:05.000012"),
    (1230948245, 12000, 3600, "CET", "Jan _2 15:04:05.000000000", "Jan  3 03:04:05.000012000"),
    (1230948245, 12000, 3600, "CET", "2006-01-02", "2009-01-03"),
    (1230948245, 12000, 3600, "CET", "02/01/06 03:04:05 PM pm", "03/01/09 03:04:05 AM am"),
    (1230948245, 12000, 3600, "CET", "Jan January Mon Monday Month Mond Janu", "Jan January Sat Saturday Month Mond Janu"),
    (1230948245, 12000, 3600, "CET", "__2 002 _2 2 _2006 2006", "  3 003  3 3 _2009 2009"),
    (1230948245, 12000, 3600, "CET", "1 01 Jan 15 3 03 4 04 5 05 06", "1 01 Jan 03 3 03 4 04 5 05 09"),
    (1230948245, 12000, 3600, "CET", "15:04:05.000 .999 ,000 ,999 .9 .0 .000000000 .999999999 .0000000000", "03:04:05.000  ,000   .0 .000012000 .000012 .000012000"),
    (1230948245, 12000, 3600, "CET", "-07 -07:00 -0700 -070000 -07:00:00", "+01 +01:00 +0100 +010000 +01:00:00"),
    (1230948245, 12000, 3600, "CET", "Z07 Z07:00 Z0700 Z070000 Z07:00:00", "+01 +01:00 +0100 +010000 +01:00:00"),
    (1230948245, 12000, 3600, "CET", "MST", "CET"),
    (1230948245, 12000, 3600, "CET", "05.00001", "05.00001"),
    (1230948245, 12000, 3600, "CET", "05.99x", "05x"),
    (1230948245, 12000, 3600, "CET", ".9x", "x"),
    (1230948245, 12000, 3600, "CET", "Jant Mont Monda Janua", "Jant Mont Monda Janua"),
    (1230948245, 12000, 3600, "CET", "", ""),
    (1230948245, 12000, 3600, "CET", "no tokens here", "no tokens here"),
    (1230948245, 12000, 3600, "CET", "ÄÖÜ 2006 ✓", "ÄÖÜ 2009 ✓"),
    (1230948245, 12000, 3600, "CET", "2006年01月02日", "2009年01月03日"),
    (1230948245, 12000, 3600, "CET", "Z", "Z"),
    (1230948245, 12000, 3600, "CET", "-", "-"),
    (1230948245, 12000, 3600, "CET", ".", "."),
    (1230948245, 12000, 3600, "CET", "0", "0"),
    (1230948245, 12000, 3600, "CET", "00", "00"),
    (1230948245, 12000, 3600, "CET", "000", "000"),
    (1230948245, 12000, 3600, "CET", "PM pm Pm pM", "AM am Pm pM"),
    (1230948245, 12000, 3600, "CET", "_", "_"),
    (1230948245, 12000, 3600, "CET", "__", "__"),
    (1230948245, 12000, 3600, "CET", "___2", "_  3"),
    (1230948245, 12000, 3600, "CET", "-07:0", "+01:0"),
    (1230948245, 12000, 3600, "CET", "Z07:0", "+01:0"),
    (1230948245, 12000, 3600, "CET", "2006-01-02 15:04:05.999999999 -0700 MST", "2009-01-03 03:04:05.000012 +0100 CET"),
    (1230948245, 12000, 3600, "CET", "String", "2009-01-03 03:04:05.000012 +0100 CET"),
    (-62135596800, 0, 0, "UTC", "Mon Jan _2 15:04:05 2006", "Mon Jan  1 00:00:00 0001"),
    (-62135596800, 0, 0, "UTC", "Mon Jan _2 15:04:05 MST 2006", "Mon Jan  1 00:00:00 UTC 0001"),
    (-62135596800, 0, 0, "UTC", "Mon Jan 02 15:04:05 -0700 2006", "Mon Jan 01 00:00:00 +0000 0001"),
    (-62135596800, 0, 0, "UTC", "02 Jan 06 15:04 MST", "01 Jan 01 00:00 UTC"),
    (-62135596800, 0, 0, "UTC", "02 Jan 06 15:04 -0700", "01 Jan 01 00:00 +0000"),
    (-62135596800, 0, 0, "UTC", "Monday, 02-Jan-06 15:04:05 MST", "Monday, 01-Jan-01 00:00:00 UTC"),
    (-62135596800, 0, 0, "UTC", "Mon, 02 Jan 2006 15:04:05 MST", "Mon, 01 Jan 0001 00:00:00 UTC"),
    (-62135596800, 0, 0, "UTC", "Mon, 02 Jan 2006 15:04:05 -0700", "Mon, 01 Jan 0001 00:00:00 +0000"),
    (-62135596800, 0, 0, "UTC", "2006-01-02T15:04:05Z07:00", "0001-01-01T00:00:00Z"),
    (-62135596800, 0, 0, "UTC", "2006-01-02T15:04:05.999999999Z07:00", "0001-01-01T00:00:00Z"),
    (-62135596800, 0, 0, "UTC", "3:04PM", "12:00AM"),
    (-62135596800, 0, 0, "UTC", "Jan _2 15:04:05", "Jan  1 00:00:00"),
    (-62135596800, 0, 0, "UTC", "Jan _2 15:04:05.000", "Jan  1 00:00:00.000"),
    (-62135596800, 0, 0, "UTC", "Jan _2 15:04:05.000000", "Jan  1 00:00:00.000000"),
    (-62135596800, 0, 0, "UTC", "Jan _2 15:04:05.000000000", "Jan  1 00:00:00.000000000"),
    (-62135596800, 0, 0, "UTC", "2006-01-02", "0001-01-01"),
    (-62135596800, 0, 0, "UTC", "02/01/06 03:04:05 PM pm", "01/01/01 12:00:00 AM am"),
    (-62135596800, 0, 0, "UTC", "Jan January Mon Monday Month Mond Janu", "Jan January Mon Monday Month Mond Janu"),
    (-62135596800, 0, 0, "UTC", "__2 002 _2 2 _2006 2006", "  1 001  1 1 _0001 0001"),
    (-62135596800, 0, 0, "UTC", "1 01 Jan 15 3 03 4 04 5 05 06", "1 01 Jan 00 12 12 0 00 0 00 01"),
    (-62135596800, 0, 0, "UTC", "15:04:05.000 .999 ,000 ,999 .9 .0 .000000000 .999999999 .0000000000", "00:00:00.000  ,000   .0 .000000000  .000000000"),
    (-62135596800, 0, 0, "UTC", "-07 -07:00 -0700 -070000 -07:00:00", "+00 +00:00 +0000 +000000 +00:00:00"),
    (-62135596800, 0, 0, "UTC", "Z07 Z07:00 Z0700 Z070000 Z07:00:00", "Z Z Z Z Z"),
    (-62135596800, 0, 0, "UTC", "MST", "UTC"),
    (-62135596800, 0, 0, "UTC", "05.00001", "00.00001"),
    (-62135596800, 0, 0, "UTC", "05.99x", "00x"),
    (-62135596800, 0, 0, "UTC", ".9x", "x"),
    (-62135596800, 0, 0, "UTC", "Jant Mont Monda Janua", "Jant Mont Monda Janua"),
    (-62135596800, 0, 0, "UTC", "", ""),
    (-62135596800, 0, 0, "UTC", "no tokens here", "no tokens here"),
    (-62135596800, 0, 0, "UTC", "ÄÖÜ 2006 ✓", "ÄÖÜ 0001 ✓"),
    (-62135596800, 0, 0, "UTC", "2006年01月02日", "0001年01月01日"),
    (-62135596800, 0, 0, "UTC", "Z", "Z"),
    (-62135596800, 0, 0, "UTC", "-", "-"),
    (-62135596800, 0, 0, "UTC", ".", "."),
    (-62135596800, 0, 0, "UTC", "0", "0"),
    (-62135596800, 0, 0, "UTC", "00", "00"),
    (-62135596800, 0, 0, "UTC", "000", "000"),
    (-62135596800, 0, 0, "UTC", "PM pm Pm pM", "AM am Pm pM"),
    (-62135596800, 0, 0, "UTC", "_", "_"),
    (-62135596800, 0, 0, "UTC", "__", "__"),
    (-62135596800, 0, 0, "UTC", "___2", "_  1"),
    (-62135596800, 0, 0, "UTC", "-07:0", "+00:0"),
    (-62135596800, 0, 0, "UTC", "Z07:0", "Z:0"),
    (-62135596800, 0, 0, "UTC", "2006-01-02 15:04:05.999999999 -0700 MST", "0001-01-01 00:00:00 +0000 UTC"),
    (-62135596800, 0, 0, "UTC", "String", "0001-01-01 00:00:00 +0000 UTC"),
    (12599, 500000000, -12600, "", "Mon Jan _2 15:04:05 2006", "Wed Dec 31 23:59:59 1969"),
    (12599, 500000000, -12600, "", "Mon Jan _2 15:04:05 MST 2006", "Wed Dec 31 23:59:59 -0330 1969"),
    (12599, 500000000, -12600, "", "Mon Jan 02 15:04:05 -0700 2006", "Wed Dec 31 23:59:59 -0330 1969"),
    (12599, 500000000, -12600, "", "02 Jan 06 15:04 MST", "31 Dec 69 23:59 -0330"),
    (12599, 500000000, -12600, "", "02 Jan 06 15:04 -0700", "31 Dec 69 23:59 -0330"),
    (12599, 500000000, -12600, "", "Monday, 02-Jan-06 15:04:05 MST", "Wednesday, 31-Dec-69 23:59:59 -0330"),
    (12599, 500000000, -12600, "", "Mon, 02 Jan 2006 15:04:05 MST", "Wed, 31 Dec 1969 23:59:59 -0330"),
    (12599, 500000000, -12600, "", "Mon, 02 Jan 2006 15:04:05 -0700", "Wed, 31 Dec 1969 23:59:59 -0330"),
    (12599, 500000000, -12600, "", "2006-01-02T15:04:05Z07:00", "1969-12-31T23:59:59-03:30"),
    (12599, 500000000, -12600, "", "2006-01-02T15:04:05.999999999Z07:00", "1969-12-31T23:59:59.5-03:30"),
    (12599, 500000000, -12600, "", "3:04PM", "11:59PM"),
    (12599, 500000000, -12600, "", "Jan _2 15:04:05", "Dec 31 23:59:59"),
    (12599, 500000000, -12600, "", "Jan _2 15:04:05.000", "Dec 31 23:59:59.500"),
    (12599, 500000000, -12600, "", "Jan _2 15:04:05.000000", "Dec 31 23:59:59.500000"),
    (12599, 500000000, -12600, "", "Jan _2 15:04:05.000000000", "Dec 31 23:59:59.500000000"),
    (12599, 500000000, -12600, "", "2006-01-02", "1969-12-31"),
    (12599, 500000000, -12600, "", "02/01/06 03:04:05 PM pm", "31/12/69 11:59:59 PM pm"),
    (12599, 500000000, -12600, "", "Jan January Mon Monday Month Mond Janu", "Dec December Wed Wednesday Month Mond Janu"),
    (12599, 500000000, -12600, "", "__2 002 _2 2 _2006 2006", "365 365 31 31 _1969 1969"),
    (12599, 500000000, -12600, "", "1 01 Jan 15 3 03 4 04 5 05 06", "12 12 Dec 23 11 11 59 59 59 59 69"),
    (12599, 500000000, -12600, "", "15:04:05.000 .999 ,000 ,999 .9 .0 .000000000 .999999999 .0000000000", "23:59:59.500 .5 ,500 ,5 .5 .5 .500000000 .5 .500000000"),
    (12599, 500000000, -12600, "", "-07 -07:00 -0700 -070000 -07:00:00", "-03 -03:30 -0330 -033000 -03:30:00"),
    (12599, 500000000, -12600, "", "Z07 Z07:00 Z0700 Z070000 Z07:00:00", "-03 -03:30 -0330 -033000 -03:30:00"),
    (12599, 500000000, -12600, "", "MST", "-0330"),
    (12599, 500000000, -12600, "", "05.00001", "59.00012"),
    (12599, 500000000, -12600, "", "05.99x", "59.5x"),
    (12599, 500000000, -12600, "", ".9x", ".5x"),
    (12599, 500000000, -12600, "", "Jant Mont Monda Janua", "Jant Mont Monda Janua"),
    (12599, 500000000, -12600, "", "", ""),
    (12599, 500000000, -12600, "", "no tokens here", "no tokens here"),
    (12599, 500000000, -12600, "", "ÄÖÜ 2006 ✓", "ÄÖÜ 1969 ✓"),
    (12599, 500000000, -12600, "", "2006年01月02日", "1969年12月31日"),
    (12599, 500000000, -12600, "", "Z", "Z"),
    (12599, 500000000, -12600, "", "-", "-"),
    (12599, 500000000, -12600, "", ".", "."),
    (12599, 500000000, -12600, "", "0", "0"),
    (12599, 500000000, -12600, "", "00", "00"),
    (12599, 500000000, -12600, "", "000", "000"),
    (12599, 500000000, -12600, "", "PM pm Pm pM", "PM pm Pm pM"),
    (12599, 500000000, -12600, "", "_", "_"),
    (12599, 500000000, -12600, "", "__", "__"),
    (12599, 500000000, -12600, "", "___2", "_365"),
    (12599, 500000000, -12600, "", "-07:0", "-03:0"),
    (12599, 500000000, -12600, "", "Z07:0", "-03:0"),
    (12599, 500000000, -12600, "", "2006-01-02 15:04:05.999999999 -0700 MST", "1969-12-31 23:59:59.5 -0330 -0330"),
    (12599, 500000000, -12600, "", "String", "1969-12-31 23:59:59.5 -0330 -0330"),
    (1709187270, 100, 20730, "LMT", "Mon Jan _2 15:04:05 2006", "Thu Feb 29 12:00:00 2024"),
    (1709187270, 100, 20730, "LMT", "Mon Jan _2 15:04:05 MST 2006", "Thu Feb 29 12:00:00 LMT 2024"),
    (1709187270, 100, 20730, "LMT", "Mon Jan 02 15:04:05 -0700 2006", "Thu Feb 29 12:00:00 +0545 2024"),
    (1709187270, 100, 20730, "LMT", "02 Jan 06 15:04 MST", "29 Feb 24 12:00 LMT"),
    (1709187270, 100, 20730, "LMT", "02 Jan 06 15:04 -0700", "29 Feb 24 12:00 +0545"),
    (1709187270, 100, 20730, "LMT", "Monday, 02-Jan-06 15:04:05 MST", "Thursday, 29-Feb-24 12:00:00 LMT"),
    (1709187270, 100, 20730, "LMT", "Mon, 02 Jan 2006 15:04:05 MST", "Thu, 29 Feb 2024 12:00:00 LMT"),
    (1709187270, 100, 20730, "LMT", "Mon, 02 Jan 2006 15:04:05 -0700", "Thu, 29 Feb 2024 12:00:00 +0545"),
    (1709187270, 100, 20730, "LMT", "2006-01-02T15:04:05Z07:00", "2024-02-29T12:00:00+05:45"),
    (1709187270, 100, 20730, "LMT", "2006-01-02T15:04:05.999999999Z07:00", "2024-02-29T12:00:00.0000001+05:45"),
    (1709187270, 100, 20730, "LMT", "3:04PM", "12:00PM"),
    (1709187270, 100, 20730, "LMT", "Jan _2 15:04:05", "Feb 29 12:00:00"),
    (1709187270, 100, 20730, "LMT", "Jan _2 15:04:05.000", "Feb 29 12:00:00.000"),
    (1709187270, 100, 20730, "LMT", "Jan _2 15:04:05.000000", "Feb 29 12:00:00.000000"),
    (1709187270, 100, 20730, "LMT", "Jan _2 15:04:05.000000000", "Feb 29 12:00:00.000000100"),
    (1709187270, 100, 20730, "LMT", "2006-01-02", "2024-02-29"),
    (1709187270, 100, 20730, "LMT", "02/01/06 03:04:05 PM pm", "29/02/24 12:00:00 PM pm"),
    (1709187270, 100, 20730, "LMT", "Jan January Mon Monday Month Mond Janu", "Feb February Thu Thursday Month Mond Janu"),
    (1709187270, 100, 20730, "LMT", "__2 002 _2 2 _2006 2006", " 60 060 29 29 _2024 2024"),
    (1709187270, 100, 20730, "LMT", "1 01 Jan 15 3 03 4 04 5 05 06", "2 02 Feb 12 12 12 0 00 0 00 24"),
    (1709187270, 100, 20730, "LMT", "15:04:05.000 .999 ,000 ,999 .9 .0 .000000000 .999999999 .0000000000", "12:00:00.000  ,000   .0 .000000100 .0000001 .000000100"),
    (1709187270, 100, 20730, "LMT", "-07 -07:00 -0700 -070000 -07:00:00", "+05 +05:45 +0545 +054530 +05:45:30"),
    (1709187270, 100, 20730, "LMT", "Z07 Z07:00 Z0700 Z070000 Z07:00:00", "+05 +05:45 +0545 +054530 +05:45:30"),
    (1709187270, 100, 20730, "LMT", "MST", "LMT"),
    (1709187270, 100, 20730, "LMT", "05.00001", "00.00002"),
    (1709187270, 100, 20730, "LMT", "05.99x", "00x"),
    (1709187270, 100, 20730, "LMT", ".9x", "x"),
    (1709187270, 100, 20730, "LMT", "Jant Mont Monda Janua", "Jant Mont Monda Janua"),
    (1709187270, 100, 20730, "LMT", "", ""),
    (1709187270, 100, 20730, "LMT", "no tokens here", "no tokens here"),
    (1709187270, 100, 20730, "LMT", "ÄÖÜ 2006 ✓", "ÄÖÜ 2024 ✓"),
    (1709187270, 100, 20730, "LMT", "2006年01月02日", "2024年02月29日"),
    (1709187270, 100, 20730, "LMT", "Z", "Z"),
    (1709187270, 100, 20730, "LMT", "-", "-"),
    (1709187270, 100, 20730, "LMT", ".", "."),
    (1709187270, 100, 20730, "LMT", "0", "0"),
    (1709187270, 100, 20730, "LMT", "00", "00"),
    (1709187270, 100, 20730, "LMT", "000", "000"),
    (1709187270, 100, 20730, "LMT", "PM pm Pm pM", "PM pm Pm pM"),
    (1709187270, 100, 20730, "LMT", "_", "_"),
    (1709187270, 100, 20730, "LMT", "__", "__"),
    (1709187270, 100, 20730, "LMT", "___2", "_ 60"),
    (1709187270, 100, 20730, "LMT", "-07:0", "+05:0"),
    (1709187270, 100, 20730, "LMT", "Z07:0", "+05:0"),
    (1709187270, 100, 20730, "LMT", "2006-01-02 15:04:05.999999999 -0700 MST", "2024-02-29 12:00:00.0000001 +0545 LMT"),
    (1709187270, 100, 20730, "LMT", "String", "2024-02-29 12:00:00.0000001 +0545 LMT"),
    (327427662600, 0, 0, "UTC", "Mon Jan _2 15:04:05 2006", "Tue Oct  9 00:30:00 12345"),
    (327427662600, 0, 0, "UTC", "Mon Jan _2 15:04:05 MST 2006", "Tue Oct  9 00:30:00 UTC 12345"),
    (327427662600, 0, 0, "UTC", "Mon Jan 02 15:04:05 -0700 2006", "Tue Oct 09 00:30:00 +0000 12345"),
    (327427662600, 0, 0, "UTC", "02 Jan 06 15:04 MST", "09 Oct 45 00:30 UTC"),
    (327427662600, 0, 0, "UTC", "02 Jan 06 15:04 -0700", "09 Oct 45 00:30 +0000"),
    (327427662600, 0, 0, "UTC", "Monday, 02-Jan-06 15:04:05 MST", "Tuesday, 09-Oct-45 00:30:00 UTC"),
    (327427662600, 0, 0, "UTC", "Mon, 02 Jan 2006 15:04:05 MST", "Tue, 09 Oct 12345 00:30:00 UTC"),
    (327427662600, 0, 0, "UTC", "Mon, 02 Jan 2006 15:04:05 -0700", "Tue, 09 Oct 12345 00:30:00 +0000"),
    (327427662600, 0, 0, "UTC", "2006-01-02T15:04:05Z07:00", "12345-10-09T00:30:00Z"),
    (327427662600, 0, 0, "UTC", "2006-01-02T15:04:05.999999999Z07:00", "12345-10-09T00:30:00Z"),
    (327427662600, 0, 0, "UTC", "3:04PM", "12:30AM"),
    (327427662600, 0, 0, "UTC", "Jan _2 15:04:05", "Oct  9 00:30:00"),
    (327427662600, 0, 0, "UTC", "Jan _2 15:04:05.000", "Oct  9 00:30:00.000"),
    (327427662600, 0, 0, "UTC", "Jan _2 15:04:05.000000", "Oct  9 00:30:00.000000"),
    (327427662600, 0, 0, "UTC", "Jan _2 15:04:05.000000000", "Oct  9 00:30:00.000000000"),
    (327427662600, 0, 0, "UTC", "2006-01-02", "12345-10-09"),
    (327427662600, 0, 0, "UTC", "02/01/06 03:04:05 PM pm", "09/10/45 12:30:00 AM am"),
    (327427662600, 0, 0, "UTC", "Jan January Mon Monday Month Mond Janu", "Oct October Tue Tuesday Month Mond Janu"),
    (327427662600, 0, 0, "UTC", "__2 002 _2 2 _2006 2006", "282 282  9 9 _12345 12345"),
    (327427662600, 0, 0, "UTC", "1 01 Jan 15 3 03 4 04 5 05 06", "10 10 Oct 00 12 12 30 30 0 00 45"),
    (327427662600, 0, 0, "UTC", "15:04:05.000 .999 ,000 ,999 .9 .0 .000000000 .999999999 .0000000000", "00:30:00.000  ,000   .0 .000000000  .000000000"),
    (327427662600, 0, 0, "UTC", "-07 -07:00 -0700 -070000 -07:00:00", "+00 +00:00 +0000 +000000 +00:00:00"),
    (327427662600, 0, 0, "UTC", "Z07 Z07:00 Z0700 Z070000 Z07:00:00", "Z Z Z Z Z"),
    (327427662600, 0, 0, "UTC", "MST", "UTC"),
    (327427662600, 0, 0, "UTC", "05.00001", "00.00010"),
    (327427662600, 0, 0, "UTC", "05.99x", "00x"),
    (327427662600, 0, 0, "UTC", ".9x", "x"),
    (327427662600, 0, 0, "UTC", "Jant Mont Monda Janua", "Jant Mont Monda Janua"),
    (327427662600, 0, 0, "UTC", "", ""),
    (327427662600, 0, 0, "UTC", "no tokens here", "no tokens here"),
    (327427662600, 0, 0, "UTC", "ÄÖÜ 2006 ✓", "ÄÖÜ 12345 ✓"),
    (327427662600, 0, 0, "UTC", "2006年01月02日", "12345年10月09日"),
    (327427662600, 0, 0, "UTC", "Z", "Z"),
    (327427662600, 0, 0, "UTC", "-", "-"),
    (327427662600, 0, 0, "UTC", ".", "."),
    (327427662600, 0, 0, "UTC", "0", "0"),
    (327427662600, 0, 0, "UTC", "00", "00"),
    (327427662600, 0, 0, "UTC", "000", "000"),
    (327427662600, 0, 0, "UTC", "PM pm Pm pM", "AM am Pm pM"),
    (327427662600, 0, 0, "UTC", "_", "_"),
    (327427662600, 0, 0, "UTC", "__", "__"),
    (327427662600, 0, 0, "UTC", "___2", "_282"),
    (327427662600, 0, 0, "UTC", "-07:0", "+00:0"),
    (327427662600, 0, 0, "UTC", "Z07:0", "Z:0"),
    (327427662600, 0, 0, "UTC", "2006-01-02 15:04:05.999999999 -0700 MST", "12345-10-09 00:30:00 +0000 UTC"),
    (327427662600, 0, 0, "UTC", "String", "12345-10-09 00:30:00 +0000 UTC"),
    (-63549320400, 0, 0, "UTC", "Mon Jan _2 15:04:05 2006", "Thu Mar 15 11:00:00 -0044"),
    (-63549320400, 0, 0, "UTC", "Mon Jan _2 15:04:05 MST 2006", "Thu Mar 15 11:00:00 UTC -0044"),
    (-63549320400, 0, 0, "UTC", "Mon Jan 02 15:04:05 -0700 2006", "Thu Mar 15 11:00:00 +0000 -0044"),
    (-63549320400, 0, 0, "UTC", "02 Jan 06 15:04 MST", "15 Mar 44 11:00 UTC"),
    (-63549320400, 0, 0, "UTC", "02 Jan 06 15:04 -0700", "15 Mar 44 11:00 +0000"),
    (-63549320400, 0, 0, "UTC", "Monday, 02-Jan-06 15:04:05 MST", "Thursday, 15-Mar-44 11:00:00 UTC"),
    (-63549320400, 0, 0, "UTC", "Mon, 02 Jan 2006 15:04:05 MST", "Thu, 15 Mar -0044 11:00:00 UTC"),
    (-63549320400, 0, 0, "UTC", "Mon, 02 Jan 2006 15:04:05 -0700", "Thu, 15 Mar -0044 11:00:00 +0000"),
    (-63549320400, 0, 0, "UTC", "2006-01-02T15:04:05Z07:00", "-0044-03-15T11:00:00Z"),
    (-63549320400, 0, 0, "UTC", "2006-01-02T15:04:05.999999999Z07:00", "-0044-03-15T11:00:00Z"),
    (-63549320400, 0, 0, "UTC", "3:04PM", "11:00AM"),
    (-63549320400, 0, 0, "UTC", "Jan _2 15:04:05", "Mar 15 11:00:00"),
    (-63549320400, 0, 0, "UTC", "Jan _2 15:04:05.000", "Mar 15 11:00:00.000"),
    (-63549320400, 0, 0, "UTC", "Jan _2 15:04:05.000000", "Mar 15 11:00:00.000000"),
    (-63549320400, 0, 0, "UTC", "Jan _2 15:04:05.000000000", "Mar 15 11:00:00.000000000"),
    (-63549320400, 0, 0, "UTC", "2006-01-02", "-0044-03-15"),
    (-63549320400, 0, 0, "UTC", "02/01/06 03:04:05 PM pm", "15/03/44 11:00:00 AM am"),
    (-63549320400, 0, 0, "UTC", "Jan January Mon Monday Month Mond Janu", "Mar March Thu Thursday Month Mond Janu"),
    (-63549320400, 0, 0, "UTC", "__2 002 _2 2 _2006 2006", " 75 075 15 15 _-0044 -0044"),
    (-63549320400, 0, 0, "UTC", "1 01 Jan 15 3 03 4 04 5 05 06", "3 03 Mar 11 11 11 0 00 0 00 44"),
    (-63549320400, 0, 0, "UTC", "15:04:05.000 .999 ,000 ,999 .9 .0 .000000000 .999999999 .0000000000", "11:00:00.000  ,000   .0 .000000000  .000000000"),
    (-63549320400, 0, 0, "UTC", "-07 -07:00 -0700 -070000 -07:00:00", "+00 +00:00 +0000 +000000 +00:00:00"),
    (-63549320400, 0, 0, "UTC", "Z07 Z07:00 Z0700 Z070000 Z07:00:00", "Z Z Z Z Z"),
    (-63549320400, 0, 0, "UTC", "MST", "UTC"),
    (-63549320400, 0, 0, "UTC", "05.00001", "00.00003"),
    (-63549320400, 0, 0, "UTC", "05.99x", "00x"),
    (-63549320400, 0, 0, "UTC", ".9x", "x"),
    (-63549320400, 0, 0, "UTC", "Jant Mont Monda Janua", "Jant Mont Monda Janua"),
    (-63549320400, 0, 0, "UTC", "", ""),
    (-63549320400, 0, 0, "UTC", "no tokens here", "no tokens here"),
    (-63549320400, 0, 0, "UTC", "ÄÖÜ 2006 ✓", "ÄÖÜ -0044 ✓"),
    (-63549320400, 0, 0, "UTC", "2006年01月02日", "-0044年03月15日"),
    (-63549320400, 0, 0, "UTC", "Z", "Z"),
    (-63549320400, 0, 0, "UTC", "-", "-"),
    (-63549320400, 0, 0, "UTC", ".", "."),
    (-63549320400, 0, 0, "UTC", "0", "0"),
    (-63549320400, 0, 0, "UTC", "00", "00"),
    (-63549320400, 0, 0, "UTC", "000", "000"),
    (-63549320400, 0, 0, "UTC", "PM pm Pm pM", "AM am Pm pM"),
    (-63549320400, 0, 0, "UTC", "_", "_"),
    (-63549320400, 0, 0, "UTC", "__", "__"),
    (-63549320400, 0, 0, "UTC", "___2", "_ 75"),
    (-63549320400, 0, 0, "UTC", "-07:0", "+00:0"),
    (-63549320400, 0, 0, "UTC", "Z07:0", "Z:0"),
    (-63549320400, 0, 0, "UTC", "2006-01-02 15:04:05.999999999 -0700 MST", "-0044-03-15 11:00:00 +0000 UTC"),
    (-63549320400, 0, 0, "UTC", "String", "-0044-03-15 11:00:00 +0000 UTC"),
    (1704063600, 999999999, 0, "", "Mon Jan _2 15:04:05 2006", "Sun Dec 31 23:00:00 2023"),
    (1704063600, 999999999, 0, "", "Mon Jan _2 15:04:05 MST 2006", "Sun Dec 31 23:00:00 +0000 2023"),
    (1704063600, 999999999, 0, "", "Mon Jan 02 15:04:05 -0700 2006", "Sun Dec 31 23:00:00 +0000 2023"),
    (1704063600, 999999999, 0, "", "02 Jan 06 15:04 MST", "31 Dec 23 23:00 +0000"),
    (1704063600, 999999999, 0, "", "02 Jan 06 15:04 -0700", "31 Dec 23 23:00 +0000"),
    (1704063600, 999999999, 0, "", "Monday, 02-Jan-06 15:04:05 MST", "Sunday, 31-Dec-23 23:00:00 +0000"),
    (1704063600, 999999999, 0, "", "Mon, 02 Jan 2006 15:04:05 MST", "Sun, 31 Dec 2023 23:00:00 +0000"),
    (1704063600, 999999999, 0, "", "Mon, 02 Jan 2006 15:04:05 -0700", "Sun, 31 Dec 2023 23:00:00 +0000"),
    (1704063600, 999999999, 0, "", "2006-01-02T15:04:05Z07:00", "2023-12-31T23:00:00Z"),
    (1704063600, 999999999, 0, "", "2006-01-02T15:04:05.999999999Z07:00", "2023-12-31T23:00:00.999999999Z"),
    (1704063600, 999999999, 0, "", "3:04PM", "11:00PM"),
    (1704063600, 999999999, 0, "", "Jan _2 15:04:05", "Dec 31 23:00:00"),
    (1704063600, 999999999, 0, "", "Jan _2 15:04:05.000", "Dec 31 23:00:00.999"),
    (1704063600, 999999999, 0, "", "Jan _2 15:04:05.000000", "Dec 31 23:00:00.999999"),
    (1704063600, 999999999, 0, "", "Jan _2 15:04:05.000000000", "Dec 31 23:00:00.999999999"),
    (1704063600, 999999999, 0, "", "2006-01-02", "2023-12-31"),
    (1704063600, 999999999, 0, "", "02/01/06 03:04:05 PM pm", "31/12/23 11:00:00 PM pm"),
    (1704063600, 999999999, 0, "", "Jan January Mon Monday Month Mond Janu", "Dec December Sun Sunday Month Mond Janu"),
    (1704063600, 999999999, 0, "", "__2 002 _2 2 _2006 2006", "365 365 31 31 _2023 2023"),
    (1704063600, 999999999, 0, "", "1 01 Jan 15 3 03 4 04 5 05 06", "12 12 Dec 23 11 11 0 00 0 00 23"),
    (1704063600, 999999999, 0, "", "15:04:05.000 .999 ,000 ,999 .9 .0 .000000000 .999999999 .0000000000", "23:00:00.999 .999 ,999 ,999 .9 .9 .999999999 .999999999 .999999999"),
    (1704063600, 999999999, 0, "", "-07 -07:00 -0700 -070000 -07:00:00", "+00 +00:00 +0000 +000000 +00:00:00"),
    (1704063600, 999999999, 0, "", "Z07 Z07:00 Z0700 Z070000 Z07:00:00", "Z Z Z Z Z"),
    (1704063600, 999999999, 0, "", "MST", "+0000"),
    (1704063600, 999999999, 0, "", "05.00001", "00.00012"),
    (1704063600, 999999999, 0, "", "05.99x", "00.99x"),
    (1704063600, 999999999, 0, "", ".9x", ".9x"),
    (1704063600, 999999999, 0, "", "Jant Mont Monda Janua", "Jant Mont Monda Janua"),
    (1704063600, 999999999, 0, "", "", ""),
    (1704063600, 999999999, 0, "", "no tokens here", "no tokens here"),
    (1704063600, 999999999, 0, "", "ÄÖÜ 2006 ✓", "ÄÖÜ 2023 ✓"),
    (1704063600, 999999999, 0, "", "2006年01月02日", "2023年12月31日"),
    (1704063600, 999999999, 0, "", "Z", "Z"),
    (1704063600, 999999999, 0, "", "-", "-"),
    (1704063600, 999999999, 0, "", ".", "."),
    (1704063600, 999999999, 0, "", "0", "0"),
    (1704063600, 999999999, 0, "", "00", "00"),
    (1704063600, 999999999, 0, "", "000", "000"),
    (1704063600, 999999999, 0, "", "PM pm Pm pM", "PM pm Pm pM"),
    (1704063600, 999999999, 0, "", "_", "_"),
    (1704063600, 999999999, 0, "", "__", "__"),
    (1704063600, 999999999, 0, "", "___2", "_365"),
    (1704063600, 999999999, 0, "", "-07:0", "+00:0"),
    (1704063600, 999999999, 0, "", "Z07:0", "Z:0"),
    (1704063600, 999999999, 0, "", "2006-01-02 15:04:05.999999999 -0700 MST", "2023-12-31 23:00:00.999999999 +0000 +0000"),
    (1704063600, 999999999, 0, "", "String", "2023-12-31 23:00:00.999999999 +0000 +0000"),
];

/// (input, json result, jsonArray result), as Go's fmt.Sprint prints them, or "ERR " + error.
#[rustfmt::skip]
const GO_JSON: &[(&str, &str, &str)] = &[
    ("", "ERR unexpected end of JSON input", "ERR unexpected end of JSON input"),
    (" ", "ERR unexpected end of JSON input", "ERR unexpected end of JSON input"),
    ("{}", "map[]", "ERR json: cannot unmarshal object into Go value of type []interface {}"),
    ("[]", "ERR json: cannot unmarshal array into Go value of type map[string]interface {}", "[]"),
    ("null", "map[]", "[]"),
    (" null ", "map[]", "[]"),
    ("true", "ERR json: cannot unmarshal bool into Go value of type map[string]interface {}", "ERR json: cannot unmarshal bool into Go value of type []interface {}"),
    ("false", "ERR json: cannot unmarshal bool into Go value of type map[string]interface {}", "ERR json: cannot unmarshal bool into Go value of type []interface {}"),
    ("1", "ERR json: cannot unmarshal number into Go value of type map[string]interface {}", "ERR json: cannot unmarshal number into Go value of type []interface {}"),
    ("\"s\"", "ERR json: cannot unmarshal string into Go value of type map[string]interface {}", "ERR json: cannot unmarshal string into Go value of type []interface {}"),
    ("{\"a\":1,\"b\":[1,2,{\"c\":null}],\"d\":\"x\"}", "map[a:1 b:[1 2 map[c:<nil>]] d:x]", "ERR json: cannot unmarshal object into Go value of type []interface {}"),
    ("[1,\"2\",true,null,{\"k\":\"v\"}]", "ERR json: cannot unmarshal array into Go value of type map[string]interface {}", "[1 2 true <nil> map[k:v]]"),
    ("{\"a\":1e400}", "ERR json: cannot unmarshal number 1e400 into Go value of type float64", "ERR json: cannot unmarshal object into Go value of type []interface {}"),
    ("[1e400, \"x\"]", "ERR json: cannot unmarshal array into Go value of type map[string]interface {}", "ERR json: cannot unmarshal number 1e400 into Go value of type float64"),
    ("[1, 1e400, -1e400]", "ERR json: cannot unmarshal array into Go value of type map[string]interface {}", "ERR json: cannot unmarshal number 1e400 into Go value of type float64"),
    ("{\"a\":1e-400}", "map[a:0]", "ERR json: cannot unmarshal object into Go value of type []interface {}"),
    ("{\"a\":-0}", "map[a:-0]", "ERR json: cannot unmarshal object into Go value of type []interface {}"),
    ("{\"a\":1000000, \"b\": 1e21, \"c\": 123456789012345678901234567890, \"d\": 0.000001, \"e\": 1.5e-7}", "map[a:1e+06 b:1e+21 c:1.2345678901234568e+29 d:1e-06 e:1.5e-07]", "ERR json: cannot unmarshal object into Go value of type []interface {}"),
    ("{", "ERR unexpected end of JSON input", "ERR unexpected end of JSON input"),
    ("[", "ERR unexpected end of JSON input", "ERR unexpected end of JSON input"),
    ("[1,", "ERR unexpected end of JSON input", "ERR unexpected end of JSON input"),
    ("[1", "ERR unexpected end of JSON input", "ERR unexpected end of JSON input"),
    ("{\"a\"", "ERR unexpected end of JSON input", "ERR unexpected end of JSON input"),
    ("{\"a\":", "ERR unexpected end of JSON input", "ERR unexpected end of JSON input"),
    ("{\"a\":1", "ERR unexpected end of JSON input", "ERR unexpected end of JSON input"),
    ("{\"a\":1,", "ERR unexpected end of JSON input", "ERR unexpected end of JSON input"),
    ("tru", "ERR invalid character ' ' in literal true (expecting 'e')", "ERR invalid character ' ' in literal true (expecting 'e')"),
    ("t", "ERR invalid character ' ' in literal true (expecting 'r')", "ERR invalid character ' ' in literal true (expecting 'r')"),
    ("nul", "ERR invalid character ' ' in literal null (expecting 'l')", "ERR invalid character ' ' in literal null (expecting 'l')"),
    ("fals", "ERR invalid character ' ' in literal false (expecting 'e')", "ERR invalid character ' ' in literal false (expecting 'e')"),
    ("-", "ERR invalid character ' ' in numeric literal", "ERR invalid character ' ' in numeric literal"),
    ("1.", "ERR invalid character ' ' after decimal point in numeric literal", "ERR invalid character ' ' after decimal point in numeric literal"),
    ("1e", "ERR invalid character ' ' in exponent of numeric literal", "ERR invalid character ' ' in exponent of numeric literal"),
    ("1e+", "ERR invalid character ' ' in exponent of numeric literal", "ERR invalid character ' ' in exponent of numeric literal"),
    ("01", "ERR invalid character '1' after top-level value", "ERR invalid character '1' after top-level value"),
    ("-01", "ERR invalid character '1' after top-level value", "ERR invalid character '1' after top-level value"),
    ("1.5.2", "ERR invalid character '.' after top-level value", "ERR invalid character '.' after top-level value"),
    ("{a:1}", "ERR invalid character 'a' looking for beginning of object key string", "ERR invalid character 'a' looking for beginning of object key string"),
    ("{\"a\" 1}", "ERR invalid character '1' after object key", "ERR invalid character '1' after object key"),
    ("{\"a\":1 \"b\":2}", "ERR invalid character '\"' after object key:value pair", "ERR invalid character '\"' after object key:value pair"),
    ("[1 2]", "ERR invalid character '2' after array element", "ERR invalid character '2' after array element"),
    ("[1}", "ERR invalid character '}' after array element", "ERR invalid character '}' after array element"),
    ("{\"a\":1]", "ERR invalid character ']' after object key:value pair", "ERR invalid character ']' after object key:value pair"),
    ("x", "ERR invalid character 'x' looking for beginning of value", "ERR invalid character 'x' looking for beginning of value"),
    ("é", "ERR invalid character 'Ã' looking for beginning of value", "ERR invalid character 'Ã' looking for beginning of value"),
    ("{}x", "ERR invalid character 'x' after top-level value", "ERR invalid character 'x' after top-level value"),
    ("{} {}", "ERR invalid character '{' after top-level value", "ERR invalid character '{' after top-level value"),
    ("[] ", "ERR json: cannot unmarshal array into Go value of type map[string]interface {}", "[]"),
    ("\"abc", "ERR unexpected end of JSON input", "ERR unexpected end of JSON input"),
    ("\"a\tb\"", "ERR invalid character '\\t' in string literal", "ERR invalid character '\\t' in string literal"),
    ("\"\\x\"", "ERR invalid character 'x' in string escape code", "ERR invalid character 'x' in string escape code"),
    ("\"\\u12g4\"", "ERR invalid character 'g' in \\u hexadecimal character escape", "ERR invalid character 'g' in \\u hexadecimal character escape"),
    ("\"\\ud800\"", "ERR json: cannot unmarshal string into Go value of type map[string]interface {}", "ERR json: cannot unmarshal string into Go value of type []interface {}"),
    ("\"\\ud83d\\ude00\"", "ERR json: cannot unmarshal string into Go value of type map[string]interface {}", "ERR json: cannot unmarshal string into Go value of type []interface {}"),
    ("\"\\ude00\\ud83d\"", "ERR json: cannot unmarshal string into Go value of type map[string]interface {}", "ERR json: cannot unmarshal string into Go value of type []interface {}"),
    ("\"\\ud83d\\u0041\"", "ERR json: cannot unmarshal string into Go value of type map[string]interface {}", "ERR json: cannot unmarshal string into Go value of type []interface {}"),
    ("[\"\\ud83d\\ude00\",\"\\u00e9\\n\\t\\\\\\/\\\"\"]", "ERR json: cannot unmarshal array into Go value of type map[string]interface {}", "[😀 é\n\t\\/\"]"),
    ("{\"a\":1,\"a\":2}", "map[a:2]", "ERR json: cannot unmarshal object into Go value of type []interface {}"),
    ("[tRue]", "ERR invalid character 'R' in literal true (expecting 'r')", "ERR invalid character 'R' in literal true (expecting 'r')"),
    ("[nulL]", "ERR invalid character 'L' in literal null (expecting 'l')", "ERR invalid character 'L' in literal null (expecting 'l')"),
    ("[-]", "ERR invalid character ']' in numeric literal", "ERR invalid character ']' in numeric literal"),
    ("[-a]", "ERR invalid character 'a' in numeric literal", "ERR invalid character 'a' in numeric literal"),
    ("[1.e5]", "ERR invalid character 'e' after decimal point in numeric literal", "ERR invalid character 'e' after decimal point in numeric literal"),
    ("[.5]", "ERR invalid character '.' looking for beginning of value", "ERR invalid character '.' looking for beginning of value"),
    ("[1e5x]", "ERR invalid character 'x' after array element", "ERR invalid character 'x' after array element"),
    ("'", "ERR invalid character '\\'' looking for beginning of value", "ERR invalid character '\\'' looking for beginning of value"),
    ("\u{1}", "ERR invalid character '\\x01' looking for beginning of value", "ERR invalid character '\\x01' looking for beginning of value"),
    ("\u{a0}", "ERR invalid character 'Â' looking for beginning of value", "ERR invalid character 'Â' looking for beginning of value"),
    ("\u{80}", "ERR invalid character 'Â' looking for beginning of value", "ERR invalid character 'Â' looking for beginning of value"),
    ("{\"a\":1,}", "ERR invalid character '}' looking for beginning of object key string", "ERR invalid character '}' looking for beginning of object key string"),
    ("[1,]", "ERR invalid character ']' looking for beginning of value", "ERR invalid character ']' looking for beginning of value"),
    ("[,1]", "ERR invalid character ',' looking for beginning of value", "ERR invalid character ',' looking for beginning of value"),
    ("{,}", "ERR invalid character ',' looking for beginning of object key string", "ERR invalid character ',' looking for beginning of object key string"),
    ("\u{feff}{}", "ERR invalid character 'ï' looking for beginning of value", "ERR invalid character 'ï' looking for beginning of value"),
    ("{\"x\":{\"y\":{\"z\":[[[]]]}}}", "map[x:map[y:map[z:[[[]]]]]]", "ERR json: cannot unmarshal object into Go value of type []interface {}"),
    ("[1e400, {]", "ERR invalid character ']' looking for beginning of object key string", "ERR invalid character ']' looking for beginning of object key string"),
    ("{\"a\":[1e400], \"b\":2e400}", "ERR json: cannot unmarshal number 1e400 into Go value of type float64", "ERR json: cannot unmarshal object into Go value of type []interface {}"),
    ("{\"a\":\"\\ud83d\"}", "map[a:\u{fffd}]", "ERR json: cannot unmarshal object into Go value of type []interface {}"),
    ("[\"\\u0000\"]", "ERR json: cannot unmarshal array into Go value of type map[string]interface {}", "[\u{0}]"),
    ("{\"\":1, \"k k\": {}}", "map[:1 k k:map[]]", "ERR json: cannot unmarshal object into Go value of type []interface {}"),
    ("[[[[[[[[[[1]]]]]]]]]]", "ERR json: cannot unmarshal array into Go value of type map[string]interface {}", "[[[[[[[[[[1]]]]]]]]]]"),
    ("-0.0e-0", "ERR json: cannot unmarshal number into Go value of type map[string]interface {}", "ERR json: cannot unmarshal number into Go value of type []interface {}"),
    ("[1E2, 1e+2, 0.1, 12345678901234567890]", "ERR json: cannot unmarshal array into Go value of type map[string]interface {}", "[100 100 0.1 1.2345678901234567e+19]"),
    ("\t\n\r {\"a\" \t:\n[ ]\r}\n", "map[a:[]]", "ERR json: cannot unmarshal object into Go value of type []interface {}"),
];

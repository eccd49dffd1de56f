//! `execute_to` writes what `execute_bytes` returns, in chunks, and keeps the output limit,
//! Go's partial output on error, and the writer's own errors.

use gotmpl::{ErrorKind, Function, Limits, Signature, Template, Type, Value};

fn ints(n: i64) -> Value {
    Value::list((0..n).map(Value::Int).collect())
}

fn streamed(t: &Template, data: &Value) -> (Vec<u8>, Result<(), gotmpl::Error>) {
    let mut out = Vec::new();
    let result = t.execute_to(&mut out, data);
    (out, result)
}

/// A writer that counts the calls it gets and can be told to fail after some bytes.
struct Recording {
    bytes: Vec<u8>,
    writes: usize,
    fail_after: Option<usize>,
}

impl std::io::Write for Recording {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.fail_after.is_some_and(|n| self.bytes.len() + buf.len() > n) {
            return Err(std::io::Error::other("disk full"));
        }
        self.writes += 1;
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_large_output_arrives_whole_in_several_writes() {
    let t = Template::new("t")
        .parse("{{range .}}server 10.0.{{.}}.1:80 weight={{len (printf \"%v\" .)}};\n{{end}}")
        .unwrap();
    let data = ints(40_000);
    let whole = t.execute_bytes(&data).unwrap();
    assert!(whole.len() > 1 << 20);
    let mut rec = Recording { bytes: Vec::new(), writes: 0, fail_after: None };
    t.execute_to(&mut rec, &data).unwrap();
    assert_eq!(rec.bytes, whole);
    assert!(rec.writes > 10, "written in chunks, not at the end: {} writes", rec.writes);
}

#[test]
fn bytes_that_are_not_utf8_are_put_back_in_every_chunk() {
    // Each iteration writes a stand-in; chunk borders fall between and beside them.
    let t = Template::new("t").parse_bytes(b"{{range .}}\xe9{{.}}\xff\n{{end}}").unwrap();
    let data = ints(30_000);
    let (out, result) = streamed(&t, &data);
    result.unwrap();
    assert_eq!(out, t.execute_bytes(&data).unwrap());
    assert!(out.starts_with(b"\xe90\xff\n\xe91\xff\n"));
}

#[test]
fn an_error_leaves_the_partial_output_as_go_does() {
    let t = Template::new("t").parse("{{range .}}{{.}},{{end}}{{index . 99999}}").unwrap();
    let data = ints(20_000);
    let (out, result) = streamed(&t, &data);
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Exec);
    let mut in_memory = String::new();
    let memory_err = t.execute_into(&mut in_memory, &data).unwrap_err();
    assert_eq!(err, memory_err);
    assert_eq!(out, in_memory.as_bytes());
}

#[test]
fn the_output_limit_counts_what_was_already_written() {
    let limits = Limits { max_output_bytes: 200_000, ..Limits::default() };
    let t = Template::new("t").with_limits(limits).parse("{{range .}}0123456789{{end}}").unwrap();
    let (out, result) = streamed(&t, &ints(20_001));
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert!(err.to_string().contains("output exceeds the limit of 200000 bytes"), "{err}");
    assert_eq!(out.len(), 200_000);
    // Exactly at the limit is allowed.
    let (out, result) = streamed(&t, &ints(20_000));
    result.unwrap();
    assert_eq!(out.len(), 200_000);
}

#[test]
fn a_printed_value_is_bounded_by_the_room_left_after_what_was_written() {
    let pair = Function::new(Signature::new(vec![Type::Any], Type::slice(Type::Any)), |a| {
        Ok(Value::list(vec![a[0].clone(), a[0].clone()]))
    });
    let t = Template::new("t")
        .func("pair", pair)
        .with_limits(Limits { max_output_bytes: 1 << 20, ..Limits::default() })
        .parse(
            r#"{{range .}}0123456789{{end}}{{$m := "x"}}{{range .}}{{$m = pair $m}}{{end}}{{$m}}"#,
        )
        .unwrap();
    let (out, result) = streamed(&t, &ints(100));
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert!(err.to_string().ends_with("output exceeds the limit of 1048576 bytes"), "{err}");
    assert!(out.len() <= 1 << 20, "{}", out.len());
}

#[test]
fn a_failing_writer_stops_execution_with_its_error() {
    let t = Template::new("t").parse("{{range .}}0123456789{{end}}").unwrap();
    let mut rec = Recording { bytes: Vec::new(), writes: 0, fail_after: Some(100_000) };
    let err = t.execute_to(&mut rec, &ints(1_000_000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Write);
    assert_eq!(err.to_string(), "disk full");
    assert!(rec.bytes.len() <= 100_000);
}

#[test]
fn a_small_output_is_written_once_at_the_end() {
    let t = Template::new("t").parse("hello {{.}}").unwrap();
    let mut rec = Recording { bytes: Vec::new(), writes: 0, fail_after: None };
    t.execute_to(&mut rec, &Value::from("nginx")).unwrap();
    assert_eq!(rec.bytes, b"hello nginx");
    assert_eq!(rec.writes, 1);
}

//! TEMPORARY stub; replaced by the real Go fmt implementation.
use crate::value::Value;
pub fn sprint(args: &[Value]) -> String {
    let mut s = String::new();
    for a in args {
        write_value(&mut s, a);
    }
    s
}
pub fn sprintln(args: &[Value]) -> String {
    sprint(args) + "\n"
}
pub fn sprintf(format: &str, _args: &[Value]) -> String {
    format.to_string()
}
pub fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(&b.to_string()),
        other => out.push_str(&format!("{other:?}")),
    }
}
pub fn quote(s: &str) -> String {
    format!("{s:?}")
}
pub fn is_print(c: char) -> bool {
    !c.is_control()
}

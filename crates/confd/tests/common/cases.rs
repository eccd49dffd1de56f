//! confd's own integration cases (basic, exists, iteration, manykeys, nested), written here
//! from the prose description of its suite (behaviour notes §6.2), with the outputs that suite
//! checks; and its data set, for the backends that take it as keys and values.

use super::{mode_of, Sandbox};

/// confd's data set, as its etcd scripts write it.
#[allow(unused_imports)] // not every test binary loads a store
pub use testkit::CONFD_DATA_SET as DATA_SET;

/// What `nested` renders from [`DATA_SET`]: `*` does not cross `/` and nothing sits directly
/// under `/nested`, so the outer range is empty.
pub const NESTED_EMPTY_OUT: &str = "upstream nested {\n\n}\n";

pub const DB_KEYS: [&str; 4] =
    ["/database/host", "/database/password", "/database/port", "/database/username"];

/// `hostname` from the environment, then the four database settings.
pub const DB_TEMPLATE: &str = "\
hostname: {{ getenv \"HOSTNAME\" }}
[database]
host={{ getv \"/database/host\" }}
password={{ getv \"/database/password\" }}
port={{ getv \"/database/port\" }}
username={{ getv \"/database/username\" }}
";

/// The first line prints `/key` when it exists; the second one trims the first line's newline
/// and prints nothing, since `/doesnotexist` does not.
pub const EXISTS_TEMPLATE: &str = "\
{{ if exists \"/key\" }}value: {{ getv \"/key\" }}{{ end }}
{{- if exists \"/doesnotexist\" }}
unexpected: {{ getv \"/doesnotexist\" }}
{{ end }}
";

/// One server line per upstream, in key order; the trim markers leave no blank lines.
pub const ITERATION_TEMPLATE: &str = "\
upstream app {
{{- range gets \"/upstream/*\" }}
  server {{ .Value }};
{{- end }}
}

server {
  listen 80;
  location / {
    proxy_pass http://app;
  }
}
";

/// Two levels of `gets`: the outer one over `/nested/*`, the inner one over each key found.
/// No trim markers, so every action line leaves its newline.
pub const NESTED_TEMPLATE: &str = "\
upstream nested {
{{ range gets \"/nested/*\" }}
{{ range gets .Key }}
    server {{ .Value }};
{{ end }}
{{ end }}
}
";

pub const BASIC_OUT: &str =
    "hostname: localhost\n[database]\nhost=127.0.0.1\npassword=p@sSw0rd\nport=3306\nusername=confd\n";
pub const EXISTS_OUT: &str = "value: foobar\n";
pub const ITERATION_OUT: &str = "\
upstream app {
  server 10.0.1.10:8080;
  server 10.0.1.11:8080;
}

server {
  listen 80;
  location / {
    proxy_pass http://app;
  }
}
";

fn toml_list(keys: &[&str]) -> String {
    let items: Vec<String> = keys.iter().map(|k| format!("  \"{k}\",\n")).collect();
    format!("[\n{}]", items.concat())
}

/// The five resources and four templates of the case set, writing to `out/confd-<case>-test.conf`.
pub fn write_cases(sb: &Sandbox) {
    sb.template("db.conf.tmpl", DB_TEMPLATE);
    sb.template("exists.conf.tmpl", EXISTS_TEMPLATE);
    sb.template("iteration.conf.tmpl", ITERATION_TEMPLATE);
    sb.template("nested.conf.tmpl", NESTED_TEMPLATE);
    let dest = |case: &str| sb.p(&format!("out/confd-{case}-test.conf"));
    sb.resource(
        "basic.toml",
        &format!(
            "[template]\nsrc = \"db.conf.tmpl\"\ndest = \"{}\"\nmode = \"0644\"\nkeys = {}\n",
            dest("basic"),
            toml_list(&DB_KEYS)
        ),
    );
    sb.resource(
        "exists.toml",
        &format!(
            "[template]\nsrc = \"exists.conf.tmpl\"\ndest = \"{}\"\nkeys = [\"/key\"]\n",
            dest("exists")
        ),
    );
    sb.resource(
        "iteration.toml",
        &format!(
            "[template]\nsrc = \"iteration.conf.tmpl\"\ndest = \"{}\"\nkeys = [\"/upstream\"]\n",
            dest("iteration")
        ),
    );
    // The four keys 48 times over: 192 entries (etcd's Txn limit is 128 operations).
    let many: Vec<&str> = DB_KEYS.iter().copied().cycle().take(4 * 48).collect();
    assert_eq!(many.len(), 192);
    sb.resource(
        "manykeys.toml",
        &format!(
            "[template]\nsrc = \"db.conf.tmpl\"\ndest = \"{}\"\nmode = \"0644\"\nkeys = {}\n",
            dest("manykeys"),
            toml_list(&many)
        ),
    );
    sb.resource(
        "nested.toml",
        &format!(
            "[template]\nsrc = \"nested.conf.tmpl\"\ndest = \"{}\"\nkeys = [\"/nested\"]\n",
            dest("nested")
        ),
    );
}

pub fn assert_cases(sb: &Sandbox, nested_out: &str) {
    assert_eq!(sb.read("out/confd-basic-test.conf"), BASIC_OUT);
    assert_eq!(sb.read("out/confd-exists-test.conf"), EXISTS_OUT);
    assert_eq!(sb.read("out/confd-iteration-test.conf"), ITERATION_OUT);
    assert_eq!(sb.read("out/confd-manykeys-test.conf"), BASIC_OUT);
    assert_eq!(sb.read("out/confd-nested-test.conf"), nested_out);
    assert_eq!(mode_of(&sb.path("out/confd-basic-test.conf")), 0o644);
    assert_eq!(mode_of(&sb.path("out/confd-manykeys-test.conf")), 0o644);
}

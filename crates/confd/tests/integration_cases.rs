//! End-to-end renders through the real binary: the seed nginx example (golden output from the
//! original confd), and confd's own five integration cases (basic, exists, iteration,
//! manykeys, nested) on the file backend and on the env backend.
//!
//! The case fixtures are written here from the prose description of confd's integration
//! suite (behaviour notes §6.2); the expected outputs are the ones that suite checks.

mod common;

use std::path::PathBuf;

use common::{mode_of, Sandbox};

fn seed_data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/seed").join(name)
}

fn read_seed(name: &str) -> String {
    std::fs::read_to_string(seed_data(name)).unwrap()
}

/// `-onetime -backend file` on the seed example renders exactly what the original confd
/// rendered (65 lines, md5 512fa0bc…), runs the check (`test -s {{.src}}`) and the reload
/// exactly once; a second run finds dest in sync and reloads nothing.
#[test]
fn seed_example_renders_byte_identical_to_confd() {
    let sb = Sandbox::new();
    sb.template("seed-nginx.conf.tmpl", &read_seed("seed-nginx.conf.tmpl"));
    let shipped = read_seed("seed-nginx.toml");
    assert!(shipped.contains("dest = \"OUT/nginx.conf\"\n"), "seed TOML changed:\n{shipped}");
    assert!(
        shipped.contains("check_cmd = \"test -s {{.src}}\"\n"),
        "seed TOML changed:\n{shipped}"
    );
    assert!(shipped.contains("reload_cmd = \"true\"\n"), "seed TOML changed:\n{shipped}");
    let toml = shipped
        .replace("dest = \"OUT/nginx.conf\"", &format!("dest = \"{}\"", sb.p("out/nginx.conf")))
        .replace(
            "reload_cmd = \"true\"",
            &format!("reload_cmd = \"echo reloaded >> {}\"", sb.p("reloads")),
        );
    sb.resource("seed-nginx.toml", &toml);
    let yaml = seed_data("seed-nginx.yaml");
    let confdir = sb.confdir();
    let args = [
        "-onetime".as_ref(),
        "-backend".as_ref(),
        "file".as_ref(),
        "-file".as_ref(),
        yaml.as_os_str(),
        "-confdir".as_ref(),
        confdir.as_os_str(),
    ];

    let first = sb.run_confd(&args);
    first.assert_code(0);
    let expected = std::fs::read(seed_data("expected-nginx.conf")).unwrap();
    let got = std::fs::read(sb.path("out/nginx.conf")).unwrap();
    assert!(
        got == expected,
        "rendered nginx.conf differs from confd's:\n--- got ---\n{}\n--- want ---\n{}",
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(sb.read("reloads"), "reloaded\n", "the reload must run exactly once");
    first.assert_logged("INFO", &["Target config", "out/nginx.conf has been updated"]);
    assert!(first.messages("ERROR").is_empty(), "stderr:\n{}", first.stderr);
    // No stage file is left beside dest.
    assert_eq!(common::list_dir(&sb.path("out")), ["nginx.conf"]);

    let second = sb.run_confd(&args);
    second.assert_code(0);
    assert_eq!(std::fs::read(sb.path("out/nginx.conf")).unwrap(), expected);
    assert_eq!(sb.read("reloads"), "reloaded\n", "in sync: no second reload");
}

// ---------------------------------------------------------------------------------------------
// confd's integration cases, in our own words.

const DB_KEYS: [&str; 4] =
    ["/database/host", "/database/password", "/database/port", "/database/username"];

/// `hostname` from the environment, then the four database settings.
const DB_TEMPLATE: &str = "\
hostname: {{ getenv \"HOSTNAME\" }}
[database]
host={{ getv \"/database/host\" }}
password={{ getv \"/database/password\" }}
port={{ getv \"/database/port\" }}
username={{ getv \"/database/username\" }}
";

/// The first line prints `/key` when it exists; the second one trims the first line's newline
/// and prints nothing, since `/doesnotexist` does not.
const EXISTS_TEMPLATE: &str = "\
{{ if exists \"/key\" }}value: {{ getv \"/key\" }}{{ end }}
{{- if exists \"/doesnotexist\" }}
unexpected: {{ getv \"/doesnotexist\" }}
{{ end }}
";

/// One server line per upstream, in key order; the trim markers leave no blank lines.
const ITERATION_TEMPLATE: &str = "\
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
const NESTED_TEMPLATE: &str = "\
upstream nested {
{{ range gets \"/nested/*\" }}
{{ range gets .Key }}
    server {{ .Value }};
{{ end }}
{{ end }}
}
";

const BASIC_OUT: &str =
    "hostname: localhost\n[database]\nhost=127.0.0.1\npassword=p@sSw0rd\nport=3306\nusername=confd\n";
const EXISTS_OUT: &str = "value: foobar\n";
const ITERATION_OUT: &str = "\
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
fn write_cases(sb: &Sandbox) {
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

fn assert_cases(sb: &Sandbox, nested_out: &str) {
    assert_eq!(sb.read("out/confd-basic-test.conf"), BASIC_OUT);
    assert_eq!(sb.read("out/confd-exists-test.conf"), EXISTS_OUT);
    assert_eq!(sb.read("out/confd-iteration-test.conf"), ITERATION_OUT);
    assert_eq!(sb.read("out/confd-manykeys-test.conf"), BASIC_OUT);
    assert_eq!(sb.read("out/confd-nested-test.conf"), nested_out);
    assert_eq!(mode_of(&sb.path("out/confd-basic-test.conf")), 0o644);
    assert_eq!(mode_of(&sb.path("out/confd-manykeys-test.conf")), 0o644);
}

/// The file backend with the data split over four YAML files in two directories, both given
/// with `-file` (as confd's file/test.sh does). `port` is quoted so it stays the string 3306.
#[test]
fn integration_cases_on_the_file_backend() {
    let sb = Sandbox::new();
    write_cases(&sb);
    sb.write("yaml-a/1.yaml", "key: foobar\n");
    sb.write(
        "yaml-a/2.yaml",
        "database:\n  host: 127.0.0.1\n  password: p@sSw0rd\n  port: \"3306\"\n  username: confd\n",
    );
    sb.write("yaml-b/1.yaml", "upstream:\n  app1: 10.0.1.10:8080\n  app2: 10.0.1.11:8080\n");
    sb.write("yaml-b/2.yaml", "nested:\n  app1: 10.0.1.10:8080\n  app2: 10.0.1.11:8080\n");
    let mut cmd = sb.confd(&[
        "-onetime",
        "-log-level",
        "debug",
        "-backend",
        "file",
        "-file",
        &sb.p("yaml-a"),
        "-file",
        &sb.p("yaml-b"),
        "-confdir",
        &sb.p("confdir"),
    ]);
    cmd.env("HOSTNAME", "localhost");
    let run = sb.run(cmd);
    run.assert_code(0);
    assert!(run.messages("ERROR").is_empty(), "stderr:\n{}", run.stderr);
    // The file data is flat: `/nested/app1` and `/nested/app2` sit directly under `/nested`.
    // So `gets "/nested/*"` finds both, and `gets .Key` (a plain key, no wildcard) finds
    // exactly that key again: one server line per leaf. Without trim markers each action line
    // leaves its newline: per outer pass "\n" + inner ("\n    server X;\n") + "\n".
    let nested = "upstream nested {\n\
                  \n\n    server 10.0.1.10:8080;\n\n\
                  \n\n    server 10.0.1.11:8080;\n\n\
                  \n}\n";
    assert_cases(&sb, nested);
}

/// The env backend: the data as DATABASE_HOST etc., set on the child process only.
#[test]
fn integration_cases_on_the_env_backend() {
    let sb = Sandbox::new();
    write_cases(&sb);
    let mut cmd = sb.confd(&[
        "-onetime",
        "-log-level",
        "debug",
        "-backend",
        "env",
        "-confdir",
        &sb.p("confdir"),
    ]);
    cmd.envs([
        ("HOSTNAME", "localhost"),
        ("KEY", "foobar"),
        ("DATABASE_HOST", "127.0.0.1"),
        ("DATABASE_PASSWORD", "p@sSw0rd"),
        ("DATABASE_PORT", "3306"),
        ("DATABASE_USERNAME", "confd"),
        ("UPSTREAM_APP1", "10.0.1.10:8080"),
        ("UPSTREAM_APP2", "10.0.1.11:8080"),
        // `_` is always a path separator for the env backend: these are /nested/east/app1 and
        // /nested/west/app2, like the etcd data of confd's suite.
        ("NESTED_EAST_APP1", "10.0.1.10:8080"),
        ("NESTED_WEST_APP2", "10.0.1.11:8080"),
    ]);
    let run = sb.run(cmd);
    run.assert_code(0);
    assert!(run.messages("ERROR").is_empty(), "stderr:\n{}", run.stderr);
    // `*` does not cross `/` and nothing sits directly under /nested, so the outer range is
    // empty: an empty upstream, as confd renders it from the etcd data.
    assert_cases(&sb, "upstream nested {\n\n}\n");
}

//! End-to-end renders through the real binary: the seed nginx example (golden output from the
//! original confd), and confd's own five integration cases (basic, exists, iteration,
//! manykeys, nested) on every backend we have: file, env, etcd v3, the etcd v2 API, redis
//! (plain; and with a database number, a password and a separator, with `/database` as a
//! hash) and zookeeper, each against the real server started by the test.
//!
//! The case fixtures (`common/cases.rs`) are written from the prose description of confd's
//! integration suite (behaviour notes §6.2); the expected outputs are the ones that suite
//! checks.

mod common;

use std::path::PathBuf;

use common::cases::{assert_cases, write_cases, DATA_SET, NESTED_EMPTY_OUT};
use common::Sandbox;
use testkit::redis::{RedisOptions, RedisServer};
use testkit::zookeeper::ZookeeperServer;
use testkit::{gateway::Gateway, EtcdCluster, EtcdOptions};

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
// confd's integration cases (fixtures in common/cases.rs) on every backend.

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
    assert_cases(&sb, NESTED_EMPTY_OUT);
}

/// `confd -onetime -log-level debug -backend <backend> -confdir … <extra>` with
/// `HOSTNAME=localhost`, as every script of confd's suite runs it; exit 0, no ERROR.
fn run_cases(sb: &Sandbox, backend: &str, extra: &[String]) {
    let mut args: Vec<String> = ["-onetime", "-log-level", "debug", "-backend", backend]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["-confdir".to_string(), sb.p("confdir")]);
    args.extend(extra.iter().cloned());
    let mut cmd = sb.confd(&args);
    cmd.env("HOSTNAME", "localhost");
    let run = sb.run(cmd);
    run.assert_code(0);
    assert!(run.messages("ERROR").is_empty(), "stderr:\n{}", run.stderr);
}

fn node(n: &str) -> Vec<String> {
    vec!["-node".to_string(), n.to_string()]
}

/// etcd v3 (`etcdctl put`), as confd's etcdv3/test.sh. manykeys' 192 keys exceed etcd's
/// 128 operations per transaction.
#[test]
fn integration_cases_on_etcd_v3() {
    let etcd = EtcdCluster::start(1);
    let mut gw = Gateway::new(&etcd.endpoints()[0]);
    for (k, v) in DATA_SET {
        gw.put(k, v).unwrap();
    }
    let sb = Sandbox::new();
    write_cases(&sb);
    run_cases(&sb, "etcdv3", &node(&etcd.endpoints()[0]));
    assert_cases(&sb, NESTED_EMPTY_OUT);
}

/// The etcd v2 API (`PUT /v2/keys/…`, as confd's etcd/test.sh writes with curl), etcd started
/// with `--enable-v2`, `-backend etcdv2`.
#[test]
fn integration_cases_on_etcd_v2() {
    let etcd = EtcdCluster::start_with(EtcdOptions::new(1).arg("--enable-v2"));
    let mut gw = Gateway::new(&etcd.endpoints()[0]);
    for (k, v) in DATA_SET {
        gw.v2_set(k, v).unwrap();
    }
    let sb = Sandbox::new();
    write_cases(&sb);
    run_cases(&sb, "etcdv2", &node(&etcd.endpoints()[0]));
    assert_cases(&sb, NESTED_EMPTY_OUT);
}

/// redis with string keys named like the paths (`SET /database/host …`), as confd's
/// redis/test.sh.
#[test]
fn integration_cases_on_redis() {
    let redis = RedisServer::start(RedisOptions::default());
    for (k, v) in DATA_SET {
        redis.cli(&["SET", k, v]);
    }
    let sb = Sandbox::new();
    write_cases(&sb);
    run_cases(&sb, "redis", &node(&redis.addr()));
    assert_cases(&sb, NESTED_EMPTY_OUT);
}

/// redis with what confd's redis backend also takes: database 3 (`host:port/3`), a password
/// (from `-client-key`, as confd reads it; and from `-password`), the separator `:` (keys
/// `database:host`), and `/upstream` stored as one hash (the iteration case reads the key
/// `/upstream`, so its fields become `/upstream/app1` …). Database 0 holds decoys.
#[test]
fn integration_cases_on_redis_with_database_password_and_separator() {
    let redis = RedisServer::start(RedisOptions::default().password("s3cret"));
    for (k, v) in DATA_SET {
        if let Some(field) = k.strip_prefix("/upstream/") {
            redis.cli_db(3, &["HSET", "upstream", field, v]);
        } else {
            let name = k.trim_start_matches('/').replace('/', ":");
            redis.cli_db(3, &["SET", &name, v]);
        }
        redis.cli_db(0, &["SET", &k.trim_start_matches('/').replace('/', ":"), "decoy"]);
    }
    let target = format!("{}/3", redis.addr());
    for password_flag in ["-client-key", "-password"] {
        let sb = Sandbox::new();
        write_cases(&sb);
        let mut extra = node(&target);
        extra.extend([password_flag.to_string(), "s3cret".to_string()]);
        extra.extend(["-separator".to_string(), ":".to_string()]);
        run_cases(&sb, "redis", &extra);
        assert_cases(&sb, NESTED_EMPTY_OUT);
    }
}

/// zookeeper, one znode per key (parents created empty), as confd's zookeeper/test.sh.
#[test]
fn integration_cases_on_zookeeper() {
    let zk = ZookeeperServer::start();
    for (k, v) in DATA_SET {
        zk.put(k, v);
    }
    let sb = Sandbox::new();
    write_cases(&sb);
    run_cases(&sb, "zookeeper", &node(&zk.addr()));
    assert_cases(&sb, NESTED_EMPTY_OUT);
}

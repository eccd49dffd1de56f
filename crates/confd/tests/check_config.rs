//! `-check-config`: a confdir checked without a store — every error listed with its file and
//! line, exit 1; a valid confdir (the shipped examples) exit 0. Nothing is written, and no
//! backend is contacted (the etcd node given does not exist).

mod common;

use common::Sandbox;

fn check(sb: &Sandbox, extra: &[&str]) -> common::Finished {
    let confdir = sb.p("confdir");
    let mut args = vec!["-check-config", "-confdir", &confdir, "-backend", "etcdv3"];
    args.extend_from_slice(&["-node", "http://127.0.0.1:1"]);
    args.extend_from_slice(extra);
    sb.run_confd(&args)
}

#[test]
fn every_error_is_listed_with_file_and_line() {
    let sb = Sandbox::new();
    let dest = sb.p("out/x.conf");
    let resource = |name: &str, src: &str, extra: &str| {
        sb.resource(
            &format!("{name}.toml"),
            &format!("[template]\nsrc = \"{src}\"\ndest = \"{dest}\"\n{extra}"),
        );
    };
    resource("a-type", "ok.tmpl", "keys = \"/not-a-list\"\n");
    resource("b-unknown-func", "unknown.tmpl", "");
    resource("c-syntax", "syntax.tmpl", "");
    resource("d-missing", "missing.tmpl", "");
    resource("e-check", "ok.tmpl", "check_cmd = \"test {{.src\"\n");
    resource("f-ok", "ok.tmpl", "reload_comd = \"typo\"\n");
    sb.template("ok.tmpl", "{{range gets \"/x/*\"}}{{.Value}}{{end}}\n");
    sb.template("unknown.tmpl", "line one\n{{if false}}{{nosuchfunc 1}}{{end}}\n");
    sb.template("syntax.tmpl", "a\nb\n{{range $x := ls \"/\"}}\n");

    let done = check(&sb, &[]);
    done.assert_code(1);
    let errors = done.messages("ERROR");
    let has = |parts: &[&str]| errors.iter().any(|e| parts.iter().all(|p| e.contains(p)));
    assert!(has(&["a-type.toml:4", "keys"]), "{errors:#?}");
    assert!(has(&["unknown.tmpl", ":2:", "nosuchfunc"]), "{errors:#?}");
    assert!(has(&["syntax.tmpl", ":4: unexpected EOF"]), "{errors:#?}"); // Go counts the last newline
    assert!(has(&["d-missing.toml", "missing.tmpl"]), "{errors:#?}");
    assert!(has(&["e-check.toml", "check_cmd"]), "{errors:#?}");
    assert!(has(&["-check-config: 5 errors"]), "{errors:#?}");
    done.assert_logged("WARNING", &["f-ok.toml:4", "reload_comd", "reload_cmd"]);
    assert!(!sb.exists("out/x.conf"));
}

#[test]
fn the_shipped_confdirs_are_valid() {
    let sb = Sandbox::new();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for example in ["examples/seed/production", "examples/seed/dynamic", "examples/seed/confdir"] {
        let confdir = repo.join(example);
        let done = sb.run_confd(&["-check-config", "-confdir", confdir.to_str().unwrap()]);
        done.assert_code(0);
        done.assert_logged("INFO", &["-check-config:", "are valid"]);
    }
}

#[test]
fn a_bad_confd_toml_is_an_error_and_no_confdir_is_one_too() {
    let sb = Sandbox::new();
    sb.write("confd.toml", "backend = \"etcdv3\"\ninterval = \"often\"\n");
    let mut cmd = sb.bare_confd();
    cmd.args(["-check-config", "-config-file", &sb.p("confd.toml")]);
    let done = sb.run(cmd);
    done.assert_code(1);
    done.assert_logged("ERROR", &["confd.toml", "interval"]);

    let done = sb.run_confd(&["-check-config", "-confdir", &sb.p("nowhere")]);
    done.assert_code(1);
    done.assert_logged("ERROR", &["nowhere/conf.d"]);
}

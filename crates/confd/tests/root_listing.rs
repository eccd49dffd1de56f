//! `ls "/"` and `lsdir "/"`: confd's answer by default (its issue #725), with one WARNING per
//! template naming what the corrected listing would be; the corrected answer with
//! `-fix-root-listing` (or `fix_root_listing = true` in confd.toml), without a warning.

mod common;

use common::Sandbox;

fn setup() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("data.yaml", "top: t\napp:\n  x: 1\n  y: 2\n");
    sb.template(
        "root.tmpl",
        "ls:{{range ls \"/\"}} {{.}}{{end}}\nlsdir:{{range lsdir \"/\"}} {{.}}{{end}}\n",
    );
    let dest = sb.p("out/root.conf");
    sb.resource(
        "root.toml",
        &format!("[template]\nsrc = \"root.tmpl\"\ndest = \"{dest}\"\nkeys = [\"/\"]\n"),
    );
    sb.write("out/.keep", "");
    sb
}

fn onetime(sb: &Sandbox, extra: &[&str]) -> common::Finished {
    let (confdir, data) = (sb.p("confdir"), sb.p("data.yaml"));
    let mut args = vec!["-onetime", "-backend", "file", "-file", &data, "-confdir", &confdir];
    args.extend_from_slice(extra);
    sb.run_confd(&args)
}

#[test]
fn the_root_is_listed_as_confd_does_and_the_difference_is_warned_about() {
    let sb = setup();
    let done = onetime(&sb, &[]);
    done.assert_code(0);
    assert_eq!(sb.read("out/root.conf"), "ls: top\nlsdir:\n");
    done.assert_logged(
        "WARNING",
        &["root.tmpl", "ls \"/\" gives [top] as confd does", "[app top]", "-fix-root-listing"],
    );
    done.assert_logged("WARNING", &["root.tmpl", "lsdir \"/\" gives []", "[app]"]);
}

#[test]
fn fix_root_listing_lists_the_whole_top_level() {
    let sb = setup();
    let done = onetime(&sb, &["-fix-root-listing"]);
    done.assert_code(0);
    assert_eq!(sb.read("out/root.conf"), "ls: app top\nlsdir: app\n");
    assert!(!done.stderr.contains("issue #725"), "{}", done.stderr);

    // The same from confd.toml.
    let sb = setup();
    sb.write("confd.toml", "fix_root_listing = true\n");
    let (confdir, data, config) = (sb.p("confdir"), sb.p("data.yaml"), sb.p("confd.toml"));
    let mut cmd = sb.bare_confd();
    cmd.args(["-onetime", "-backend", "file", "-file", &data, "-confdir", &confdir]);
    cmd.args(["-config-file", &config]);
    let done = sb.run(cmd);
    done.assert_code(0);
    assert_eq!(sb.read("out/root.conf"), "ls: app top\nlsdir: app\n");
}

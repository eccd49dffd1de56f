//! The Debian package (`scripts/package-deb.sh`), built from the binaries this test run built
//! and the docs generated from the flag tables, unpacked with `dpkg-deb -x`: the binaries
//! run, the man pages render without warnings, the completions parse, the systemd units pass
//! `systemd-analyze verify`, and the shipped example confdirs pass `-check-config`.

mod seed;

use std::path::{Path, PathBuf};
use std::process::Command;

use seed::{register_bin, repo, CONFD};

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// Builds and unpacks the package; the root it was unpacked into.
fn unpacked(work: &Path) -> PathBuf {
    let docs = work.join("docs");
    std::fs::create_dir(&docs).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    let pages = [
        (
            "confd",
            confd::docs::man_page(version),
            confd::docs::bash_completion(),
            confd::docs::zsh_completion(),
        ),
        (
            "confd-register",
            confd_register::docs::man_page(version),
            confd_register::docs::bash_completion(),
            confd_register::docs::zsh_completion(),
        ),
    ];
    for (name, man, bash, zsh) in pages {
        std::fs::write(docs.join(format!("{name}.man")), man).unwrap();
        std::fs::write(docs.join(format!("{name}.bash")), bash).unwrap();
        std::fs::write(docs.join(format!("{name}.zsh")), zsh).unwrap();
    }
    let bin_dir = Path::new(CONFD).parent().unwrap();
    assert!(register_bin().exists());
    let out = work.join("out");
    let deb = run(Command::new(repo().join("scripts/package-deb.sh"))
        .arg("--bin-dir")
        .arg(bin_dir)
        .arg("--docs")
        .arg(&docs)
        .arg("--out")
        .arg(&out));
    let deb = PathBuf::from(deb.trim());
    assert!(deb.starts_with(&out) && deb.exists(), "{}", deb.display());
    let root = work.join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    let info = run(Command::new("dpkg-deb").arg("-f").arg(&deb).arg("Package"));
    assert_eq!(info.trim(), "confd-rs");
    root
}

#[test]
fn the_debian_package_installs_what_it_says() {
    let work = tempfile::tempdir().unwrap();
    let root = unpacked(work.path());

    // The binaries.
    let version = run(Command::new(root.join("usr/bin/confd")).arg("-version"));
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");
    let help = run(Command::new(root.join("usr/bin/confd-register")).arg("--help"));
    assert!(help.contains("--start-interval"), "{help}");

    // The man pages: render, and without a warning from groff.
    for page in ["confd", "confd-register"] {
        let gz = root.join(format!("usr/share/man/man1/{page}.1.gz"));
        let text = run(Command::new("man")
            .arg("-l")
            .arg(&gz)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80"));
        assert!(text.contains("NAME") && text.contains("SYNOPSIS"), "{text}");
        let check = format!("zcat {} | groff -ww -man -Tutf8 -z", gz.display());
        let warnings = run(Command::new("sh").arg("-c").arg(&check));
        assert_eq!(warnings, "", "groff warns about {page}.1");
    }
    let confd_man = run(Command::new("man")
        .arg("-l")
        .arg(root.join("usr/share/man/man1/confd.1.gz"))
        .env("MANPAGER", "cat"));
    assert!(confd_man.contains("-metrics-addr") && confd_man.contains("-check-config"));

    // The completions parse.
    for name in ["confd", "confd-register"] {
        run(Command::new("bash")
            .arg("-n")
            .arg(root.join(format!("usr/share/bash-completion/completions/{name}"))));
        run(Command::new("zsh")
            .arg("-n")
            .arg(root.join(format!("usr/share/zsh/vendor-completions/_{name}"))));
    }

    // The units, pointing at the unpacked files (verify checks that they exist).
    let units = work.path().join("units");
    std::fs::create_dir(&units).unwrap();
    let mut paths = Vec::new();
    for unit in ["confd.service", "confd-register.service", "confd-register-docker.service"] {
        let text = std::fs::read_to_string(root.join("lib/systemd/system").join(unit)).unwrap();
        let text = text
            .replace("/usr/bin/confd", &root.join("usr/bin/confd").display().to_string())
            .replace("/etc/default/", &format!("{}/", root.join("etc/default").display()));
        let path = units.join(unit);
        std::fs::write(&path, text).unwrap();
        paths.push(path);
    }
    run(Command::new("systemd-analyze").arg("verify").arg("--man=no").args(&paths));

    // The example confdirs it ships are valid, and confd.toml loads.
    for example in ["production", "dynamic"] {
        let confdir = root.join("usr/share/doc/confd-rs/examples").join(example);
        run(Command::new(root.join("usr/bin/confd"))
            .arg("-check-config")
            .arg("-confdir")
            .arg(&confdir)
            .arg("-config-file")
            .arg(root.join("etc/confd/confd.toml")));
    }
}

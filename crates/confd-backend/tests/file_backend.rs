//! The file backend against real files: directory walking, filters, overriding, errors, and
//! confd's integration data set (integration/file/test.sh, rewritten as our own test).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use confd_backend::file::{self, FileBackendError, DEFAULT_FILTER};
use confd_backend::filter_by_keys;

fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    path
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn keys(ks: &[&str]) -> Vec<String> {
    ks.iter().map(|k| k.to_string()).collect()
}

fn rel(root: &Path, files: &[PathBuf]) -> Vec<String> {
    files.iter().map(|f| f.strip_prefix(root).unwrap().to_string_lossy().into_owned()).collect()
}

/// confd's integration/file/test.sh data: two directories given as two `-file` flags.
fn integration_dirs(root: &Path) -> Vec<PathBuf> {
    write(
        root,
        "backends1/1.yaml",
        "key: foobar\ndatabase:\n  host: 127.0.0.1\n  password: p@sSw0rd\n  port: \"3306\"\n  username: confd\n",
    );
    write(root, "backends1/2.yaml", "upstream:\n  app1: 10.0.1.10:8080\n  app2: 10.0.1.11:8080\n");
    write(root, "backends2/1.yaml", "nested:\n  app1: 10.0.1.10:8080\n  app2: 10.0.1.11:8080\n");
    write(
        root,
        "backends2/2.yaml",
        "prefix:\n  database:\n    host: 127.0.0.1\n    password: p@sSw0rd\n    port: \"3306\"\n    username: confd\n  upstream:\n    app1: 10.0.1.10:8080\n    app2: 10.0.1.11:8080\n",
    );
    vec![root.join("backends1/"), root.join("backends2/")]
}

#[test]
fn integration_data_set_per_resource() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = integration_dirs(tmp.path());

    let all = file::load(&paths, DEFAULT_FILTER).unwrap();
    assert_eq!(all.len(), 4 + 1 + 2 + 2 + 6);
    assert_eq!(all["/prefix/upstream/app2"], "10.0.1.11:8080");

    let database = ["/database/host", "/database/password", "/database/port", "/database/username"];
    // basic.toml
    let basic = file::get_values(&paths, DEFAULT_FILTER, &keys(&database)).unwrap();
    assert_eq!(
        basic,
        map(&[
            ("/database/host", "127.0.0.1"),
            ("/database/password", "p@sSw0rd"),
            ("/database/port", "3306"),
            ("/database/username", "confd"),
        ])
    );
    // manykeys.toml: the four keys 48 times.
    let many: Vec<String> = database.iter().cycle().take(192).map(|k| k.to_string()).collect();
    assert_eq!(file::get_values(&paths, DEFAULT_FILTER, &many).unwrap(), basic);
    // exists.toml
    assert_eq!(
        file::get_values(&paths, DEFAULT_FILTER, &keys(&["/key"])).unwrap(),
        map(&[("/key", "foobar")])
    );
    // iteration.toml
    assert_eq!(
        file::get_values(&paths, DEFAULT_FILTER, &keys(&["/upstream"])).unwrap(),
        map(&[("/upstream/app1", "10.0.1.10:8080"), ("/upstream/app2", "10.0.1.11:8080")])
    );
    // nested.toml: the file backend's flat `nested:` gives two leaves right under /nested.
    assert_eq!(
        file::get_values(&paths, DEFAULT_FILTER, &keys(&["/nested"])).unwrap(),
        map(&[("/nested/app1", "10.0.1.10:8080"), ("/nested/app2", "10.0.1.11:8080")])
    );
    // A resource prefix is just part of the key.
    assert_eq!(
        file::get_values(&paths, DEFAULT_FILTER, &keys(&["/prefix/database/port"])).unwrap(),
        map(&[("/prefix/database/port", "3306")])
    );
}

#[test]
fn raw_prefix_selection_like_confd() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "d.yaml", "app: 1\napp2: 2\napple:\n  x: 3\nb: 4\n");
    let got = file::get_values(&[f], DEFAULT_FILTER, &keys(&["/app"])).unwrap();
    assert_eq!(got, map(&[("/app", "1"), ("/app2", "2"), ("/apple/x", "3")]));
    let all = file::load(&[tmp.path().to_path_buf()], "*").unwrap();
    assert_eq!(
        confd_backend::filter_by_keys_path_aware(&all, &keys(&["/app"])),
        map(&[("/app", "1")])
    );
    assert_eq!(filter_by_keys(&all, &keys(&["/b"])), map(&[("/b", "4")]));
}

#[test]
fn later_files_override_earlier_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let a = write(tmp.path(), "a.yaml", "x: 1\ny2: 1\nz: 1\nlist: [a, b, c]\n");
    let b = write(tmp.path(), "b.yaml", "x: 2\nz: ~\nlist: [d]\n");
    let got = file::load(&[a.clone(), b.clone()], DEFAULT_FILTER).unwrap();
    // A null in a later file does not remove the earlier value; list items are keys of their
    // own, so a shorter list leaves the earlier tail.
    assert_eq!(
        got,
        map(&[
            ("/x", "2"),
            ("/y2", "1"),
            ("/z", "1"),
            ("/list/0", "d"),
            ("/list/1", "b"),
            ("/list/2", "c"),
        ])
    );
    // The order of -file flags decides.
    let got = file::load(&[b, a], DEFAULT_FILTER).unwrap();
    assert_eq!(got["/x"], "1");
    assert_eq!(got["/list/0"], "a");
}

#[test]
fn directories_are_walked_in_lexical_order() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("conf");
    for (rel, n) in [
        ("b.yaml", 1),
        ("a.yaml", 2),
        ("a/z.yaml", 3),
        ("a/sub/c.yaml", 4),
        ("A.yaml", 5),
        ("a.yaml.d/x.yaml", 6),
        ("10.yaml", 7),
        ("9.yaml", 8),
        (".hidden.yaml", 9),
    ] {
        write(&root, rel, &format!("num: {n}\nfrom{n}: x\n"));
    }
    let files = file::list_files(&[&root], DEFAULT_FILTER).unwrap();
    // Byte order of names, a directory's contents right after its name (Go filepath.Walk).
    assert_eq!(
        rel(&root, &files),
        [
            ".hidden.yaml",
            "10.yaml",
            "9.yaml",
            "A.yaml",
            "a/sub/c.yaml",
            "a/z.yaml",
            "a.yaml",
            "a.yaml.d/x.yaml",
            "b.yaml",
        ]
    );
    // The last file read wins.
    assert_eq!(file::load(&[root], DEFAULT_FILTER).unwrap()["/num"], "1");
}

#[test]
fn filter_applies_to_base_names_in_directories_only() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("conf");
    write(&root, "app.yaml", "a: 1\n");
    write(&root, "app.yml", "b: 1\n");
    write(&root, "notes.txt", "c: 1\n");
    write(&root, "yaml.d/inner.yaml", "d: 1\n");
    write(&root, "x.yaml/inner.txt", "e: 1\n");
    let direct = write(tmp.path(), "direct.txt", "f: 1\n");

    let files = file::list_files(&[&root], "*.yaml").unwrap();
    // Directory names are not filtered (x.yaml is walked into, yaml.d too).
    assert_eq!(rel(&root, &files), ["app.yaml", "yaml.d/inner.yaml"]);
    let files = file::list_files(&[&root], "*.y*ml").unwrap();
    assert_eq!(rel(&root, &files), ["app.yaml", "app.yml", "yaml.d/inner.yaml"]);
    let files = file::list_files(&[&root], "[an]*").unwrap();
    assert_eq!(rel(&root, &files), ["app.yaml", "app.yml", "notes.txt"]);

    // A path given directly is read whatever the filter says.
    let got = file::load(&[direct.clone(), root.clone()], "*.yaml").unwrap();
    assert_eq!(got, map(&[("/f", "1"), ("/a", "1"), ("/d", "1")]));
    assert_eq!(file::list_files(&[&direct], "*.yaml").unwrap(), [direct]);

    // Go filepath.Match: `*` also matches dot-files, `[^...]` negates, `[!...]` does not.
    for (name, filter, want) in [
        ("app.yaml", "*.yaml", true),
        ("app.yaml.swp", "*.yaml", false),
        (".app.yaml", "*.yaml", true),
        ("b.yaml", "[^a]*", true),
        ("a.yaml", "[^a]*", false),
        ("!.yaml", "[!a]*", true),
        ("b.yaml", "[!a]*", false),
        ("*.yaml", "\\*.yaml", true),
        ("x.yaml", "\\*.yaml", false),
        ("app-1.yaml", "app-?.yaml", true),
        ("app-10.yaml", "app-[0-9].yaml", false),
    ] {
        assert_eq!(file::matches_filter(name, filter).unwrap(), want, "{filter:?} {name:?}");
    }
    for bad in ["[", "[]a]", "[a-]", "\\", "*.yaml["] {
        assert!(file::matches_filter("a", bad).is_err(), "{bad:?}");
    }
}

#[test]
fn bad_filter_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "a.yaml", "a: 1\n");
    let e = file::load(&[tmp.path().to_path_buf()], "[").unwrap_err();
    assert!(matches!(e, FileBackendError::BadFilter { .. }));
    assert_eq!(e.to_string(), "invalid -filter pattern \"[\": syntax error in pattern");
    assert!(e.path().is_none());
    assert!(file::watch_paths(&[tmp.path().to_path_buf()], "a[").is_err());
}

#[test]
fn yaml_errors_name_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "config/good.yaml", "a: 1\n");
    let bad = write(tmp.path(), "config/z-app.yaml", "a: 1\nb: 2\nc: d: e\n");
    let e = file::load(&[tmp.path().join("config")], DEFAULT_FILTER).unwrap_err();
    match &e {
        FileBackendError::Yaml { path, line, column, message } => {
            assert_eq!(path, &bad);
            assert_eq!((*line, *column), (3, 5));
            assert!(message.contains("mapping values are not allowed"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.to_string(),
        format!(
            "file {}: line 3, column 5: mapping values are not allowed in this context",
            bad.display()
        )
    );
    assert_eq!(e.path(), Some(bad.as_path()));

    // Not UTF-8.
    let bin = write(tmp.path(), "bin.yaml", "");
    fs::write(&bin, b"a: \xff\n").unwrap();
    let e = file::load(&[bin], DEFAULT_FILTER).unwrap_err();
    assert!(e.to_string().ends_with("line 1, column 4: invalid UTF-8 text"), "{e}");
}

#[test]
fn missing_paths_are_io_errors_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope.yaml");
    let e = file::load(&[&missing], DEFAULT_FILTER).unwrap_err();
    match &e {
        FileBackendError::Io { path, source } => {
            assert_eq!(path, &missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().starts_with(&format!("file {}: ", missing.display())), "{e}");
    assert!(file::watch_paths(&[missing], DEFAULT_FILTER).is_err());
}

#[test]
fn empty_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(file::load::<PathBuf>(&[], DEFAULT_FILTER).unwrap().is_empty());
    assert!(file::load(&[tmp.path().to_path_buf()], DEFAULT_FILTER).unwrap().is_empty());
    write(tmp.path(), "empty.yaml", "");
    write(tmp.path(), "comment.yaml", "# nothing\n");
    assert!(file::load(&[tmp.path().to_path_buf()], DEFAULT_FILTER).unwrap().is_empty());
}

#[cfg(unix)]
#[test]
fn symbolic_links() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    write(&real, "r.yaml", "r: 1\n");
    let conf = tmp.path().join("conf");
    write(&conf, "a.yaml", "a: 1\n");
    symlink(real.join("r.yaml"), conf.join("b-link.yaml")).unwrap();
    symlink(&real, conf.join("c-dirlink")).unwrap();

    // A link to a file is read; a link to a directory is not entered (Go's filepath.Walk).
    let files = file::list_files(&[&conf], DEFAULT_FILTER).unwrap();
    assert_eq!(rel(&conf, &files), ["a.yaml", "b-link.yaml"]);
    assert_eq!(file::load(&[&conf], DEFAULT_FILTER).unwrap(), map(&[("/a", "1"), ("/r", "1")]));

    // A -file path that is itself a link to a directory is walked (confd finds nothing).
    let root_link = tmp.path().join("root-link");
    symlink(&conf, &root_link).unwrap();
    let files = file::list_files(&[&root_link], DEFAULT_FILTER).unwrap();
    assert_eq!(rel(&root_link, &files), ["a.yaml", "b-link.yaml"]);

    // Watching: the directory, its subdirectories and links to directories.
    let watched = file::watch_paths(&[&conf], DEFAULT_FILTER).unwrap();
    assert_eq!(watched, [conf.clone(), conf.join("c-dirlink")]);

    // A broken link whose name passes the filter is an error, as in confd.
    symlink(tmp.path().join("gone.yaml"), conf.join("d-broken.yaml")).unwrap();
    let e = file::load(&[&conf], DEFAULT_FILTER).unwrap_err();
    assert!(matches!(&e, FileBackendError::Io { path, .. } if path == &conf.join("d-broken.yaml")));
    // ... but not when the filter skips it.
    assert_eq!(file::load(&[conf], "[ab]*").unwrap(), map(&[("/a", "1"), ("/r", "1")]));
}

#[test]
fn watch_paths_lists_dirs_recursively_and_files_as_given() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("conf");
    write(&root, "a.yaml", "a: 1\n");
    write(&root, "sub/b.yaml", "b: 1\n");
    write(&root, "sub/deeper/c.yaml", "c: 1\n");
    write(&root, "other/d.yaml", "d: 1\n");
    let single = write(tmp.path(), "single.yaml", "s: 1\n");
    let watched = file::watch_paths(&[single.clone(), root.clone()], "*.yaml").unwrap();
    assert_eq!(
        watched,
        [single, root.clone(), root.join("other"), root.join("sub"), root.join("sub/deeper"),]
    );
}

#[test]
fn seed_nginx_data() {
    // §8 of the behaviour notes: the blog post's data for -backend file.
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "seed-nginx.yaml",
        "service_sgin:\n  upstream:\n    server1: 10.0.0.1:8080\n    server2: 10.0.0.2:8080\n  subdomain: \"www.service2.com  page.service2.com\"\n",
    );
    let got = file::get_values(
        &[f],
        DEFAULT_FILTER,
        &keys(&["/service_sgin/upstream", "/service_sgin/subdomain"]),
    )
    .unwrap();
    assert_eq!(
        got,
        map(&[
            ("/service_sgin/subdomain", "www.service2.com  page.service2.com"),
            ("/service_sgin/upstream/server1", "10.0.0.1:8080"),
            ("/service_sgin/upstream/server2", "10.0.0.2:8080"),
        ])
    );
}

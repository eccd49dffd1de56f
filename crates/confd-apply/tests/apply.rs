//! The apply path against a real filesystem and real /bin/sh commands.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use confd_apply::{
    apply, run_command, ApplyError, CommandError, Difference, Options, Outcome, Request,
};

fn req(dest: &Path) -> Request<'_> {
    Request {
        dest,
        mode: None,
        uid: None,
        gid: None,
        check_cmd: None,
        check_timeout: Duration::from_secs(10),
        options: Options::default(),
        cancel: None,
    }
}

fn mode_of(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Files in `dir` other than `keep` (stage files left behind show up here).
fn stray_files(dir: &Path, keep: &[&str]) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect()
}

#[test]
fn creates_a_missing_dest_with_mode_0644() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("nginx.conf");
    let out = apply(&req(&dest), b"hello\n").unwrap();
    assert_eq!(
        out,
        Outcome::Updated {
            differences: vec![Difference::Missing],
            check_output: None,
            previous: None
        }
    );
    assert_eq!(fs::read(&dest).unwrap(), b"hello\n");
    assert_eq!(mode_of(&dest), 0o644);
    assert!(stray_files(dir.path(), &["nginx.conf"]).is_empty());
}

#[test]
fn same_bytes_mode_and_owner_is_in_sync_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.conf");
    apply(&req(&dest), b"x").unwrap();
    let before = fs::metadata(&dest).unwrap().modified().unwrap();
    let marker = dir.path().join("CHECKED");
    let check = format!("touch {}", marker.display());
    let r = Request { check_cmd: Some(&check), ..req(&dest) };
    assert_eq!(apply(&r, b"x").unwrap(), Outcome::InSync);
    assert_eq!(fs::metadata(&dest).unwrap().modified().unwrap(), before);
    assert!(!marker.exists(), "no command runs when in sync");
}

#[test]
fn keeps_an_existing_dests_mode_unless_one_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.conf");
    fs::write(&dest, "old").unwrap();
    fs::set_permissions(&dest, fs::Permissions::from_mode(0o600)).unwrap();
    apply(&req(&dest), b"new").unwrap();
    assert_eq!(mode_of(&dest), 0o600);
    let out = apply(&Request { mode: Some(0o640), ..req(&dest) }, b"new").unwrap();
    let Outcome::Updated { differences, check_output: None, previous: Some(previous) } = out else {
        panic!("{out:?}")
    };
    assert_eq!(differences, vec![Difference::Mode { is: 0o600, should_be: 0o640 }]);
    assert_eq!(previous.contents().unwrap(), b"new");
    assert_eq!(mode_of(&dest), 0o640);
}

#[test]
fn restore_puts_back_the_previous_bytes_and_mode() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.conf");
    fs::write(&dest, "loaded by the server\n").unwrap();
    fs::set_permissions(&dest, fs::Permissions::from_mode(0o640)).unwrap();
    let out = apply(&Request { mode: Some(0o644), ..req(&dest) }, b"new\n").unwrap();
    let Outcome::Updated { previous: Some(previous), .. } = out else { panic!("{out:?}") };
    assert_eq!(fs::read(&dest).unwrap(), b"new\n");
    confd_apply::restore(&dest, previous).unwrap();
    assert_eq!(fs::read(&dest).unwrap(), b"loaded by the server\n");
    assert_eq!(mode_of(&dest), 0o640);
    assert!(stray_files(dir.path(), &["a.conf"]).is_empty(), "no stage file is left");
}

#[test]
fn the_previous_dest_is_kept_as_a_link_not_a_copy_and_restored_by_rename() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.conf");
    fs::write(&dest, "old\n").unwrap();
    let old_inode = fs::metadata(&dest).unwrap().ino();
    let before_apply = std::time::SystemTime::now() - Duration::from_secs(1);
    let out = apply(&req(&dest), b"new\n").unwrap();
    let Outcome::Updated { previous: Some(previous), .. } = out else { panic!("{out:?}") };
    assert_eq!(fs::metadata(previous.path()).unwrap().ino(), old_inode, "a link to the old file");
    assert_eq!(previous.path().parent(), Some(dir.path()));
    // A confd started before this one kept it leaves it alone (it is not an earlier run's).
    assert!(confd_apply::remove_stale_stage_files(&dest, before_apply).is_empty());
    assert!(previous.path().exists());
    confd_apply::restore(&dest, previous).unwrap();
    assert_eq!(fs::metadata(&dest).unwrap().ino(), old_inode, "the old file itself is back");
    assert_eq!(fs::read(&dest).unwrap(), b"old\n");
    assert!(stray_files(dir.path(), &["a.conf"]).is_empty());
}

#[test]
fn dropping_the_previous_dest_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.conf");
    fs::write(&dest, "old\n").unwrap();
    let out = apply(&req(&dest), b"new\n").unwrap();
    assert_eq!(stray_files(dir.path(), &["a.conf"]).len(), 1, "the previous dest, kept");
    drop(out);
    assert!(stray_files(dir.path(), &["a.conf"]).is_empty());
    assert_eq!(fs::read(&dest).unwrap(), b"new\n");
}

#[test]
fn a_symlinked_dest_is_kept_as_a_copy_of_what_it_pointed_to() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.conf");
    let dest = dir.path().join("link.conf");
    fs::write(&target, "target\n").unwrap();
    std::os::unix::fs::symlink(&target, &dest).unwrap();
    let out = apply(&req(&dest), b"new\n").unwrap();
    let Outcome::Updated { previous: Some(previous), .. } = out else { panic!("{out:?}") };
    assert!(fs::symlink_metadata(previous.path()).unwrap().file_type().is_file());
    confd_apply::restore(&dest, previous).unwrap();
    assert_eq!(fs::read(&dest).unwrap(), b"target\n");
    assert_eq!(fs::read(&target).unwrap(), b"target\n");
}

#[test]
fn contents_written_in_pieces_are_compared_with_dest() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("big.conf");
    // Larger than one comparison chunk, differing only in the last byte.
    let mut old: Vec<u8> = (0..300_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    fs::write(&dest, &old).unwrap();
    let r = req(&dest);
    let stage_pieces = |contents: &[u8]| {
        let mut staged = confd_apply::Staged::create(&r).unwrap();
        for piece in contents.chunks(7_001) {
            staged.write_all(piece).unwrap();
        }
        staged.apply().unwrap()
    };
    assert_eq!(stage_pieces(&old), Outcome::InSync);
    *old.last_mut().unwrap() = b'!';
    let Outcome::Updated { differences, .. } = stage_pieces(&old) else { panic!() };
    assert_eq!(differences, vec![Difference::Contents]);
    assert_eq!(fs::read(&dest).unwrap(), old);
    old.push(b'\n');
    assert!(matches!(stage_pieces(&old), Outcome::Updated { .. }), "a longer file differs");
    assert_eq!(fs::read(&dest).unwrap(), old);
}

#[test]
fn a_large_change_is_installed_whole_after_its_background_writeback() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("big.conf");
    fs::write(&dest, "old\n").unwrap();
    let r = req(&dest);
    // 20 MiB in 64 KiB pieces: the background writeback is asked several times.
    let new: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| b'a' + (i % 23) as u8).collect();
    let mut staged = confd_apply::Staged::create(&r).unwrap();
    for piece in new.chunks(64 * 1024) {
        staged.write_all(piece).unwrap();
    }
    let Outcome::Updated { differences, previous, .. } = staged.apply().unwrap() else { panic!() };
    assert_eq!(differences, vec![Difference::Contents]);
    assert!(fs::read(&dest).unwrap() == new, "dest is the whole new file");
    assert_eq!(previous.unwrap().contents().unwrap(), b"old\n");
}

#[test]
fn a_dest_replaced_while_the_stage_file_is_written_is_compared_again() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.conf");
    let other = dir.path().join("other");
    fs::write(&dest, "same\n").unwrap();
    let r = req(&dest);
    let stage_then_replace_dest_with = |replacement: &str| {
        let mut staged = confd_apply::Staged::create(&r).unwrap();
        staged.write_all(b"same\n").unwrap();
        fs::write(&other, replacement).unwrap();
        fs::rename(&other, &dest).unwrap();
        staged.apply().unwrap()
    };
    // Written equal to the dest that was; by the apply, dest is another file of the same
    // length: the contents differ.
    let Outcome::Updated { differences, .. } = stage_then_replace_dest_with("diff\n") else {
        panic!()
    };
    assert_eq!(differences, vec![Difference::Contents]);
    assert_eq!(fs::read(&dest).unwrap(), b"same\n");
    // Another file with the same bytes is in sync.
    assert_eq!(stage_then_replace_dest_with("same\n"), Outcome::InSync);
}

#[test]
fn a_stage_file_dropped_before_it_is_applied_is_removed_unless_kept() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.conf");
    fs::write(&dest, "live\n").unwrap();
    let r = req(&dest);
    let mut staged = confd_apply::Staged::create(&r).unwrap();
    staged.write_all(b"half a ren").unwrap();
    assert!(staged.path().exists());
    drop(staged);
    assert!(stray_files(dir.path(), &["a.conf"]).is_empty());
    let kept = Request { options: Options { keep_stage_file: true, ..Options::default() }, ..r };
    let staged = confd_apply::Staged::create(&kept).unwrap();
    let path = staged.path().to_path_buf();
    drop(staged);
    assert!(path.exists(), "-keep-stage-file keeps it");
    assert_eq!(fs::read(&dest).unwrap(), b"live\n");
}

#[test]
fn check_cmd_sees_the_stage_file_beside_dest_and_its_output_is_returned() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("nginx.conf");
    let r = Request { check_cmd: Some("echo checking {{.src}}; cat {{.src}}"), ..req(&dest) };
    let Outcome::Updated { check_output: Some(out), .. } = apply(&r, b"new body").unwrap() else {
        panic!("not updated")
    };
    let staged = out.lines().next().unwrap().strip_prefix("checking ").unwrap();
    let staged = PathBuf::from(staged);
    assert_eq!(staged.parent().unwrap(), dir.path(), "stage file lives in dest's directory");
    assert!(staged.file_name().unwrap().to_string_lossy().starts_with(".nginx.conf"));
    assert!(out.ends_with("new body"));
    assert!(!staged.exists(), "stage file was renamed over dest");
}

#[test]
fn failing_check_leaves_dest_untouched_and_removes_the_stage_file() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("nginx.conf");
    fs::write(&dest, "good config").unwrap();
    let r = Request { check_cmd: Some("echo 'syntax error' >&2; exit 3"), ..req(&dest) };
    let err = apply(&r, b"bad config").unwrap_err();
    let ApplyError::Check(CommandError::Failed { status, output }) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(status.to_string(), "exit status 3");
    assert_eq!(output, "syntax error\n");
    assert_eq!(err.to_string(), "config check failed: exit status 3");
    assert_eq!(fs::read_to_string(&dest).unwrap(), "good config");
    assert!(stray_files(dir.path(), &["nginx.conf"]).is_empty());
}

#[test]
fn a_hung_check_is_killed_at_its_timeout_and_dest_stays() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.conf");
    fs::write(&dest, "old").unwrap();
    let r = Request {
        check_cmd: Some("sleep 30 & sleep 30"),
        check_timeout: Duration::from_millis(300),
        ..req(&dest)
    };
    let started = Instant::now();
    let err = apply(&r, b"new").unwrap_err();
    assert!(matches!(err, ApplyError::Check(CommandError::TimedOut { .. })), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "the whole process group was killed");
    assert_eq!(fs::read_to_string(&dest).unwrap(), "old");
    assert!(stray_files(dir.path(), &["a.conf"]).is_empty());
}

#[test]
fn noop_reports_a_diff_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.conf");
    fs::write(&dest, "one\ntwo\n").unwrap();
    let r = Request {
        check_cmd: Some("touch {{.src}}.checked"),
        options: Options { noop: true, ..Options::default() },
        ..req(&dest)
    };
    let Outcome::WouldChange { diff, .. } = apply(&r, b"one\nthree\n").unwrap() else {
        panic!("expected a change")
    };
    assert!(diff.contains("-two\n") && diff.contains("+three\n"), "{diff}");
    assert_eq!(fs::read_to_string(&dest).unwrap(), "one\ntwo\n");
    assert!(stray_files(dir.path(), &["a.conf"]).is_empty(), "no check ran, no stage file left");
}

#[test]
fn sync_only_replaces_without_running_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.conf");
    let r = Request {
        check_cmd: Some("exit 1"),
        options: Options { sync_only: true, ..Options::default() },
        ..req(&dest)
    };
    assert!(matches!(apply(&r, b"new").unwrap(), Outcome::Updated { check_output: None, .. }));
    assert_eq!(fs::read_to_string(&dest).unwrap(), "new");
}

#[test]
fn keep_stage_file_leaves_it_when_no_rename_happened() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.conf");
    let r = Request {
        check_cmd: Some("exit 1"),
        options: Options { keep_stage_file: true, ..Options::default() },
        ..req(&dest)
    };
    assert!(apply(&r, b"new").is_err());
    let left = stray_files(dir.path(), &[]);
    assert_eq!(left.len(), 1);
    assert!(left[0].starts_with(".a.conf"));
}

#[test]
fn a_missing_dest_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("nope/a.conf");
    let err = apply(&req(&dest), b"x").unwrap_err();
    assert!(matches!(err, ApplyError::Stage { .. }));
    assert!(err.to_string().starts_with(&format!(
        "cannot create stage file in {}",
        dir.path().join("nope").display()
    )));
}

/// Makes `dest` impossible to replace: for root (which ignores permissions) the file is made
/// immutable with `chattr +i`; otherwise its directory is made read-only. Returns an undo.
fn make_read_only(dest: &Path) -> Option<Box<dyn FnOnce()>> {
    let is_root = std::os::unix::fs::MetadataExt::uid(&fs::metadata("/proc/self").unwrap()) == 0;
    if is_root {
        let ok = std::process::Command::new("chattr")
            .arg("+i")
            .arg(dest)
            .status()
            .is_ok_and(|s| s.success());
        let dest = dest.to_path_buf();
        return ok.then(|| {
            Box::new(move || {
                let _ = std::process::Command::new("chattr").arg("-i").arg(&dest).status();
            }) as Box<dyn FnOnce()>
        });
    }
    let dir = dest.parent().unwrap().to_path_buf();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
    Some(Box::new(move || fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap()))
}

#[test]
fn a_read_only_dest_is_an_error_and_stays_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.conf");
    fs::write(&dest, "old").unwrap();
    let Some(undo) = make_read_only(&dest) else {
        eprintln!("skipped: running as root on a filesystem without chattr +i support");
        return;
    };
    let result = apply(&req(&dest), b"new");
    undo();
    let err = result.unwrap_err();
    assert!(matches!(err, ApplyError::Replace { .. } | ApplyError::Stage { .. }), "{err:?}");
    assert_eq!(fs::read_to_string(&dest).unwrap(), "old");
    assert!(stray_files(dir.path(), &["a.conf"]).is_empty(), "the stage file was removed");
}

#[test]
fn a_symlinked_dest_is_replaced_by_a_file_and_the_target_kept() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.conf");
    let dest = dir.path().join("link.conf");
    fs::write(&target, "target").unwrap();
    std::os::unix::fs::symlink(&target, &dest).unwrap();
    apply(&req(&dest), b"new").unwrap();
    assert!(!fs::symlink_metadata(&dest).unwrap().file_type().is_symlink());
    assert_eq!(fs::read_to_string(&target).unwrap(), "target");
    assert_eq!(fs::read_to_string(&dest).unwrap(), "new");
}

#[test]
fn run_command_reports_output_and_go_style_status() {
    let out = run_command("echo out; echo err >&2", Duration::from_secs(5), None).unwrap();
    assert_eq!(out.output, "out\nerr\n");
    let err = run_command("kill -9 $$", Duration::from_secs(5), None).unwrap_err();
    assert_eq!(err.to_string(), "signal: killed");
}

/// The process applying a config dies (SIGKILL) while the check runs, i.e. between staging
/// and the rename: dest must be the old file, whole.
#[test]
fn a_crash_between_stage_and_rename_leaves_dest_whole() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.conf");
    fs::write(&dest, "old config\n").unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--ignored", "--nocapture", "--test-threads=1"])
        .env("CONFD_APPLY_CRASH_DEST", &dest)
        .status()
        .unwrap();
    assert!(!status.success(), "the child must have been killed");
    assert_eq!(fs::read_to_string(&dest).unwrap(), "old config\n");
}

#[test]
#[ignore = "helper process for a_crash_between_stage_and_rename_leaves_dest_whole"]
fn crash_child() {
    let dest =
        PathBuf::from(std::env::var_os("CONFD_APPLY_CRASH_DEST").expect("run by the crash test"));
    let r = Request { check_cmd: Some("kill -9 $PPID; sleep 5"), ..req(&dest) };
    let _ = apply(&r, b"new config\n");
    unreachable!("the check command kills this process");
}

#[test]
fn cancelling_kills_a_running_check_and_leaves_dest() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.conf");
    fs::write(&dest, "old").unwrap();
    let cancel = confd_apply::Cancel::new();
    let canceller = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            cancel.cancel();
        })
    };
    let r = Request { check_cmd: Some("sleep 30"), cancel: Some(&cancel), ..req(&dest) };
    let started = Instant::now();
    let err = apply(&r, b"new").unwrap_err();
    canceller.join().unwrap();
    assert!(matches!(err, ApplyError::Check(CommandError::Cancelled { .. })), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(fs::read_to_string(&dest).unwrap(), "old");
    assert!(stray_files(dir.path(), &["a.conf"]).is_empty());
}

/// A dest that is a bind mount (`/etc/hosts` in a container) cannot be renamed over (EBUSY);
/// like confd, the new contents are written in place.
#[test]
fn a_bind_mounted_dest_is_written_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    let dest = dir.path().join("hosts");
    fs::write(&source, "old\n").unwrap();
    fs::write(&dest, "").unwrap();
    let mounted = std::process::Command::new("mount")
        .arg("--bind")
        .arg(&source)
        .arg(&dest)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot bind-mount here (needs root with mount rights)");
        return;
    }
    let result = apply(&req(&dest), b"new\n");
    let _ = std::process::Command::new("umount").arg(&dest).status();
    let Ok(Outcome::Updated { previous: Some(previous), .. }) = result else {
        panic!("{result:?}")
    };
    assert_eq!(fs::read_to_string(&source).unwrap(), "new\n", "written through the mount");
    // Written in place, dest's old bytes survive only in a copy, not a link to dest.
    assert_eq!(previous.contents().unwrap(), b"old\n");
    drop(previous);
    assert!(stray_files(dir.path(), &["source", "hosts"]).is_empty());
}

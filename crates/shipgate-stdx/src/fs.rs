//! Atomic file writes: readers see the old file or the new one, never half of one.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The name prefix of the temporary files [`write_atomic`] makes (`.shipgate-<pid>-<n>.tmp`);
/// a process killed between create and rename leaves one, which a re-run may remove.
pub const TEMP_PREFIX: &str = ".shipgate-";

/// Writes `bytes` to `path` atomically: a temp file beside it (same directory, so the
/// rename stays on one filesystem), written, synced, given the old file's permissions,
/// then renamed over `path`. On any error the temp file is removed and `path` is as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (tmp, mut file) = create_temp(dir)?;
    let written = (|| {
        file.write_all(bytes)?;
        file.sync_all()?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A new file `.shipgate-<pid>-<n>.tmp` in `dir` that did not exist before.
fn create_temp(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!("{TEMP_PREFIX}{}-{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(file) => return Ok((tmp, file)),
            // Left behind by a killed process that had the same pid: take the next name.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("shipgate-stdx-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temp_file() {
        let dir = scratch("replace");
        let path = dir.join("out.txt");
        write_atomic(&path, b"one").expect("first write");
        write_atomic(&path, b"two").expect("second write");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["out.txt"]);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn keeps_the_permissions_of_the_file_it_replaces() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = scratch("perms");
        let path = dir.join("run.sh");
        std::fs::write(&path, "old").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).expect("chmod");
        write_atomic(&path, b"new").expect("write");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o750);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_missing_directory_is_an_error_and_writes_nothing() {
        let dir = scratch("missing");
        let err = write_atomic(&dir.join("no/such/dir/f"), b"x").expect_err("no directory");
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(std::fs::read_dir(&dir).expect("list").count(), 0);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn temp_files_are_hidden_new_and_distinct() {
        let dir = scratch("temp");
        let (a, _fa) = create_temp(&dir).expect("temp");
        let (b, _fb) = create_temp(&dir).expect("temp");
        assert_ne!(a, b);
        for t in [&a, &b] {
            let name = t.file_name().expect("name").to_string_lossy().into_owned();
            assert!(
                name.starts_with(".shipgate-") && name.ends_with(".tmp"),
                "{name}"
            );
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}

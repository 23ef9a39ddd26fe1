//! Atomic file writes: a temp file in the same directory, then a rename.

use std::io::Write;
use std::path::Path;

use crate::ReleaseError;

/// The name prefix of the temporary files; a re-run after a kill removes those it left.
pub(crate) const TEMP_PREFIX: &str = ".shipgate-";

/// Writes `bytes` to `path` so that readers see the old or the new file, never half of one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReleaseError> {
    let io = |action, source| ReleaseError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(|e| io("create a temp file beside", e))?;
    tmp.write_all(bytes).map_err(|e| io("write", e))?;
    tmp.as_file().sync_all().map_err(|e| io("sync", e))?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(tmp.path(), meta.permissions());
    }
    tmp.persist(path).map_err(|e| io("replace", e.error))?;
    Ok(())
}

/// Reads a file that may be absent.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, ReleaseError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ReleaseError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Reads a file that must exist.
pub(crate) fn read(path: &Path) -> Result<String, ReleaseError> {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|source| ReleaseError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })
}

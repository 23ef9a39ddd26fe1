//! Atomic file writes: a temp file in the same directory, then a rename.

use std::path::Path;

use crate::ReleaseError;

/// The name prefix of the temporary files; a re-run after a kill removes those it left.
pub(crate) use shipgate_stdx::fs::TEMP_PREFIX;

/// Writes `bytes` to `path` so that readers see the old or the new file, never half of one
/// ([`shipgate_stdx::fs::write_atomic`]).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReleaseError> {
    shipgate_stdx::fs::write_atomic(path, bytes).map_err(|source| ReleaseError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
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

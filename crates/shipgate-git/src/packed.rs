//! Tags (and HEAD's branch) straight from `packed-refs`, when that file is all there is to
//! read.
//!
//! libgit2 lists tags by loading every packed ref into its sorted cache (an allocation and
//! a hex parse per ref, whatever its kind) and then asking each for its name and peeled id:
//! 0.6 ms of the next version's 12 ms on 990 tags. When no tag is a loose file, the answer
//! is exactly the `refs/tags/` lines of `packed-refs`, in name order, so they are read here
//! in one pass. Anything this reader does not expect (a loose tag, a line of another shape,
//! a name twice, a carriage return) gives `None`, and the caller asks libgit2 as before;
//! one parser serves both, so they take the same file as libgit2 would or none of it:
//! this is a shortcut to the same answer, never a second opinion.

use std::path::Path;

use git2::Oid;

use crate::rawcommit::oid;

/// A packed tag ref: its full name's part after `refs/tags/`, the object it names, and the
/// object that object peels to when `packed-refs` records it (a `^` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PackedTag {
    pub name: String,
    pub target: Oid,
    pub peeled: Option<Oid>,
}

/// The tags of the repository whose shared git directory is `common` (its `.git`, or the
/// main one for a linked work tree) and whose own is `own`, when they are all packed; in
/// the order libgit2 lists them (by full name, byte order).
pub(crate) fn tags(common: &Path, own: &Path) -> Option<Vec<PackedTag>> {
    if has_loose(&common.join("refs/tags"))?
        || (own != common && has_loose(&own.join("refs/tags"))?)
    {
        return None;
    }
    let bytes = match std::fs::read(common.join("packed-refs")) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(Vec::new()),
        Err(_) => return None,
    };
    parse(&bytes)?
        .into_iter()
        .filter_map(|e| {
            let short = e.name.strip_prefix(b"refs/tags/")?;
            Some(std::str::from_utf8(short).map(|name| PackedTag {
                name: name.to_string(),
                target: e.target,
                peeled: e.peeled,
            }))
        })
        .collect::<Result<_, _>>()
        .ok()
}

/// The id `packed-refs` gives the ref `name` (a full name), read as [`tags`] reads the file.
pub(crate) fn find(common: &Path, name: &str) -> Option<Oid> {
    let bytes = std::fs::read(common.join("packed-refs")).ok()?;
    let entries = parse(&bytes)?;
    let at = entries
        .binary_search_by(|e| e.name.cmp(name.as_bytes()))
        .ok()?;
    Some(entries[at].target)
}

/// Whether `dir` holds any file, at any depth: `Some(false)` when it is absent or holds
/// only (empty) directories; `None` when it cannot be read.
fn has_loose(dir: &Path) -> Option<bool> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(false),
        Err(_) => return None,
    };
    for entry in entries {
        let entry = entry.ok()?;
        if !entry.file_type().ok()?.is_dir() || has_loose(&entry.path())? {
            return Some(true);
        }
    }
    Some(false)
}

/// One line of `packed-refs`: a full ref name, its id, and what it peels to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry<'a> {
    name: &'a [u8],
    target: Oid,
    peeled: Option<Oid>,
}

/// `packed-refs`: leading `#` lines (the traits header), then `<hex> <name>` lines, each
/// optionally followed by `^<hex>` (what it peels to). Every line is checked, as libgit2
/// refuses the whole file for one bad line; the entries come sorted by name, each once.
fn parse(bytes: &[u8]) -> Option<Vec<Entry<'_>>> {
    let mut lines = bytes.split_inclusive(|b| *b == b'\n').peekable();
    while lines.next_if(|l| l.first() == Some(&b'#')).is_some() {}
    let mut out: Vec<Entry<'_>> = Vec::new();
    let mut sorted = true;
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\n")?;
        let (hex, name) = (line.get(..40)?, line.get(40..)?.strip_prefix(b" ")?);
        let target = oid(hex)?;
        let peeled = match lines.next_if(|l| l.first() == Some(&b'^')) {
            Some(peel) => Some(oid(peel.strip_suffix(b"\n").unwrap_or(peel).get(1..)?)?),
            None => None,
        };
        if name.is_empty() || name.contains(&b'\r') || name.contains(&0) {
            return None;
        }
        if let Some(last) = out.last() {
            sorted &= last.name < name;
        }
        out.push(Entry {
            name,
            target,
            peeled,
        });
    }
    if !sorted {
        out.sort_by(|a, b| a.name.cmp(b.name));
        if out.windows(2).any(|w| w[0].name == w[1].name) {
            return None; // a name twice: libgit2 merges the lines; let it
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "40551cbb48a9cde003e2d19714b3f576ebd55a0d";
    const B: &str = "9e5461695f64d747d6ba69324668f6f6585a01fc";

    fn tag(name: &str, target: &str, peeled: Option<&str>) -> PackedTag {
        PackedTag {
            name: name.into(),
            target: target.parse().expect("oid"),
            peeled: peeled.map(|p| p.parse().expect("oid")),
        }
    }

    /// What [`tags`] makes of a `packed-refs` file's bytes.
    fn tags_of(bytes: &[u8]) -> Option<Vec<PackedTag>> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("packed-refs"), bytes).expect("write");
        tags(dir.path(), dir.path())
    }

    #[test]
    fn keeps_tags_with_their_peeled_ids_in_name_order() {
        let file = format!(
            "# pack-refs with: peeled fully-peeled sorted \n{B} refs/heads/main\n{A} refs/tags/v2.0.0\n^{B}\n{B} refs/tags/v1.0.0\n{A} refs/tags/nested/v3\n"
        );
        assert_eq!(
            tags_of(file.as_bytes()),
            Some(vec![
                tag("nested/v3", A, None),
                tag("v1.0.0", B, None),
                tag("v2.0.0", A, Some(B)),
            ])
        );
    }

    #[test]
    fn anything_unexpected_is_left_to_libgit2() {
        for file in [
            format!("{A} refs/tags/v1\r\n"),
            format!("{A} refs/tags/v1"),
            format!("{} refs/tags/v1\n", A.to_uppercase()),
            format!("{A} refs/tags/v1\n^{B} junk\n"),
            format!("{A} refs/tags/v1\n^zz\n"),
            format!("{A} refs/tags/v2\n{B} refs/tags/v1\n{A} refs/tags/v2\n"),
            format!("{A}\n"),
            "garbage\n".to_string(),
        ] {
            assert_eq!(tags_of(file.as_bytes()), None, "{file:?}");
        }
        assert_eq!(tags_of(b""), Some(Vec::new()));
    }

    #[test]
    fn a_branch_is_found_only_in_a_file_libgit2_would_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let write = |text: String| std::fs::write(d.join("packed-refs"), text).expect("write");
        write(format!("{A} refs/heads/main\n{B} refs/tags/v1\n^{A}\n"));
        assert_eq!(find(d, "refs/heads/main"), Some(A.parse().expect("oid")));
        assert_eq!(find(d, "refs/heads/other"), None);
        // one bad line anywhere: libgit2 refuses the file, and says so
        write(format!("{A} refs/heads/main\n{B} refs/tags/v1\n^zz\n"));
        assert_eq!(find(d, "refs/heads/main"), None);
    }

    #[test]
    fn a_loose_tag_anywhere_below_refs_tags_means_libgit2_lists_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let git = dir.path();
        std::fs::write(git.join("packed-refs"), format!("{A} refs/tags/v1\n")).expect("write");
        assert_eq!(tags(git, git), Some(vec![tag("v1", A, None)]));
        std::fs::create_dir_all(git.join("refs/tags/team/empty")).expect("mkdir");
        assert_eq!(tags(git, git), Some(vec![tag("v1", A, None)]));
        std::fs::write(git.join("refs/tags/team/v2"), format!("{B}\n")).expect("write");
        assert_eq!(tags(git, git), None);
        std::fs::remove_dir_all(git.join("refs")).expect("rm");
        std::fs::remove_file(git.join("packed-refs")).expect("rm");
        assert_eq!(tags(git, git), Some(Vec::new()));
    }
}

//! Commit objects read from the object database and parsed here, in one pass over the
//! bytes libgit2 inflated, instead of through libgit2's commit parser.
//!
//! libgit2 parses every field of a commit into allocations of its own (the tree id, each
//! parent, both signatures' names and e-mails, the raw header, the message), which the
//! walk then copies again; about a tenth of the next version's time on 1,000 commits. This
//! parser reads what the walk needs, with libgit2's exact rules for the canonical shape git
//! writes (`tree`, `parent`s, one `author`, `committer` as `Name <e-mail> 1700000000
//! +0100`, other headers, a blank line, the message). Anything else (no canonical time
//! zone, a second author line, a NUL byte, a repository with grafts or a shallow edge,
//! where libgit2 rewrites parents) goes through libgit2: a shortcut to the same answer,
//! never a second opinion. Tests compare the two on generated and odd commits.

use git2::Oid;

/// What the walk reads of a commit before it knows whether the commit is listed: its
/// parents and its committer time, and where the rest is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub parents: Vec<Oid>,
    /// Committer time, seconds since the epoch (the walk's order).
    pub commit_time: i64,
    author: Signature,
    /// Where the message starts (before libgit2's trimming of leading newlines).
    message_at: usize,
}

/// A signature line's name and e-mail (byte ranges of the object) and its time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signature {
    name: std::ops::Range<usize>,
    email: std::ops::Range<usize>,
    time: i64,
    offset_minutes: i32,
}

/// Parses a commit object's header; `None` when it is not the canonical shape (read it
/// through libgit2 then).
pub(crate) fn header(data: &[u8]) -> Option<Header> {
    if memchr::memchr(0, data).is_some() {
        return None; // libgit2 cuts C strings there
    }
    let mut at = 0;
    let mut line = || -> Option<(usize, &[u8])> {
        let start = at;
        let end = start + memchr::memchr(b'\n', data.get(start..)?)?;
        at = end + 1;
        Some((start, &data[start..end]))
    };
    let (_, tree) = line()?;
    oid(tree.strip_prefix(b"tree ")?)?;
    let mut parents = Vec::with_capacity(1);
    let (author_at, author) = loop {
        let (start, l) = line()?;
        match l.strip_prefix(b"parent ") {
            Some(hex) => parents.push(oid(hex)?),
            None => break (start, l),
        }
    };
    let author = signature(author_at, author, b"author ")?;
    let (committer_at, committer) = line()?;
    let committer = signature(committer_at, committer, b"committer ")?;
    // The header ends at the first empty line; the message follows it.
    let mut eol = at - 1;
    let message_at = loop {
        match data.get(eol + 1) {
            None => break data.len(),
            Some(b'\n') => break eol + 2,
            Some(_) => match memchr::memchr(b'\n', &data[eol + 1..]) {
                Some(k) => eol += 1 + k,
                None => break data.len(),
            },
        }
    };
    Some(Header {
        parents,
        commit_time: committer.time,
        author,
        message_at,
    })
}

/// A commit's metadata as libgit2 gives it: the message without its leading newlines, the
/// author's name and e-mail as bytes, and the author time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fields<'a> {
    pub message: &'a [u8],
    pub author_name: &'a [u8],
    pub author_email: &'a [u8],
    /// Author time, seconds since the epoch, and its UTC offset in minutes.
    pub time: i64,
    pub offset_minutes: i32,
}

impl Header {
    /// The fields of the object `data` this header was parsed from.
    pub(crate) fn fields<'a>(&self, data: &'a [u8]) -> Fields<'a> {
        let message = &data[self.message_at.min(data.len())..];
        let lead = message.iter().take_while(|b| **b == b'\n').count();
        Fields {
            message: &message[lead..],
            author_name: &data[self.author.name.clone()],
            author_email: &data[self.author.email.clone()],
            time: self.author.time,
            offset_minutes: self.author.offset_minutes,
        }
    }
}

impl<'a> Fields<'a> {
    /// The same fields of a commit libgit2 parsed (`author` is its author).
    pub(crate) fn of_commit(c: &'a git2::Commit<'_>, author: &'a git2::Signature<'_>) -> Self {
        Fields {
            message: c.message_bytes(),
            author_name: author.name_bytes(),
            author_email: author.email_bytes(),
            time: author.when().seconds(),
            offset_minutes: author.when().offset_minutes(),
        }
    }
}

/// `<prefix>Name <e-mail> <seconds> <+|-><hhmm>`, the line starting at `at` in the object.
/// libgit2's rules: the e-mail is between the last `<` and the last `>`; name and e-mail
/// lose leading and trailing "crud" (spaces, control bytes, `,:;<>"\'`); a zone past
/// 14:59 counts as UTC.
fn signature(at: usize, line: &[u8], prefix: &[u8]) -> Option<Signature> {
    let rest = line.strip_prefix(prefix)?;
    let base = at + prefix.len();
    let lt = memchr::memrchr(b'<', rest)?;
    let gt = memchr::memrchr(b'>', rest)?;
    if gt <= lt {
        return None;
    }
    // " 1700000000 +0100" and nothing else after the e-mail
    let tail = &rest[gt + 1..];
    let tail = tail.strip_prefix(b" ")?;
    let space = tail.iter().position(|b| *b == b' ')?;
    let (seconds, zone) = (&tail[..space], &tail[space + 1..]);
    if seconds.is_empty() || seconds.len() > 15 || !seconds.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let time = std::str::from_utf8(seconds).ok()?.parse::<i64>().ok()?;
    let (sign, digits) = zone.split_first()?;
    if !matches!(sign, b'+' | b'-') || digits.len() != 4 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let zone: i32 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    let (hours, minutes) = (zone / 100, zone % 100);
    let offset_minutes = if hours <= 14 && minutes <= 59 {
        let m = hours * 60 + minutes;
        if *sign == b'-' { -m } else { m }
    } else {
        0
    };
    Some(Signature {
        name: trimmed(base, &rest[..lt]),
        email: trimmed(base + lt + 1, &rest[lt + 1..gt]),
        time,
        offset_minutes,
    })
}

/// The range of `bytes` (at `at` in the object) without libgit2's crud at either end.
fn trimmed(at: usize, bytes: &[u8]) -> std::ops::Range<usize> {
    let crud = |b: &u8| *b <= 32 || b",:;<>\"\\'".contains(b);
    let start = bytes.iter().position(|b| !crud(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !crud(b))
        .map_or(start, |e| e + 1);
    at + start..at + end
}

/// Forty lowercase hex digits, as git writes object ids.
pub(crate) fn oid(hex: &[u8]) -> Option<Oid> {
    /// Each byte's value as a hex digit; 0xff for anything else (upper case included).
    const DIGIT: [u8; 256] = {
        let mut t = [0xff; 256];
        let mut i = 0;
        while i < 10 {
            t[b'0' as usize + i] = i as u8;
            i += 1;
        }
        let mut i = 0;
        while i < 6 {
            t[b'a' as usize + i] = 10 + i as u8;
            i += 1;
        }
        t
    };
    let hex: &[u8; 40] = hex.try_into().ok()?;
    let mut raw = [0u8; 20];
    let mut bad = 0u8;
    for (out, pair) in raw.iter_mut().zip(hex.chunks_exact(2)) {
        let (hi, lo) = (DIGIT[pair[0] as usize], DIGIT[pair[1] as usize]);
        bad |= hi | lo;
        *out = (hi << 4) | (lo & 0x0f);
    }
    if bad & 0xf0 != 0 {
        return None;
    }
    Oid::from_bytes(&raw).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    const P1: &str = "40551cbb48a9cde003e2d19714b3f576ebd55a0d";
    const P2: &str = "9e5461695f64d747d6ba69324668f6f6585a01fc";

    /// Writes `bytes` as a commit object and compares this parser with libgit2 on it:
    /// `Some(true)` when both give the same parents, committer time and metadata,
    /// `None` when this parser leaves the object to libgit2 (or libgit2 cannot parse it).
    fn same_as_libgit2(repo: &git2::Repository, bytes: &[u8]) -> Option<bool> {
        let odb = repo.odb().expect("odb");
        let id = odb
            .write(git2::ObjectType::Commit, bytes)
            .expect("write object");
        let ours = header(bytes);
        let theirs = repo.find_commit(id).ok();
        let (ours, theirs) = match (ours, theirs) {
            (Some(ours), Some(theirs)) => (ours, theirs),
            (Some(_), None) => return Some(false), // we read what libgit2 refuses
            _ => return None,
        };
        let author = theirs.author();
        let same = ours.fields(bytes) == Fields::of_commit(&theirs, &author)
            && ours.commit_time == theirs.time().seconds()
            && ours.parents == theirs.parent_ids().collect::<Vec<_>>();
        if !same {
            eprintln!(
                "differs on {:?}:\n ours   {:?} at {}\n libgit2 {:?} at {}",
                String::from_utf8_lossy(bytes),
                ours.fields(bytes),
                ours.commit_time,
                Fields::of_commit(&theirs, &author),
                theirs.time().seconds()
            );
        }
        Some(same)
    }

    fn scratch() -> (tempfile::TempDir, git2::Repository) {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = git2::Repository::init_bare(dir.path()).expect("init");
        (dir, repo)
    }

    fn commit(parents: &[&str], author: &str, committer: &str, rest: &str) -> Vec<u8> {
        let mut out = format!("tree {TREE}\n");
        for p in parents {
            out.push_str(&format!("parent {p}\n"));
        }
        out.push_str(&format!("author {author}\ncommitter {committer}\n{rest}"));
        out.into_bytes()
    }

    #[test]
    fn canonical_commits_read_as_libgit2_reads_them() {
        let (_dir, repo) = scratch();
        let ada = "Ada Lovelace <ada@example.com> 1700000000 +0100";
        let cases: Vec<Vec<u8>> = vec![
            commit(&[], ada, ada, "\nfeat: first\n"),
            commit(&[P1], ada, ada, "\nfix: one parent\n\nbody\n"),
            commit(&[P1, P2], ada, "Bob <b@x> 1700000100 -0530", "\nMerge\n"),
            commit(
                &[P1],
                ada,
                ada,
                "encoding ISO-8859-1\n\n\n\nleading newlines\n",
            ),
            commit(
                &[P1],
                ada,
                ada,
                "gpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n\nsigned\n",
            ),
            commit(&[P1], ada, ada, ""),
            commit(&[P1], ada, ada, "\n"),
            commit(
                &[P1],
                ada,
                ada,
                "mergetag object x\n type commit\n\nno message blank\n",
            ),
            commit(&[P1], " <> 0 +0000", "x <y> 1 -0000", "\nempty name\n"),
            commit(
                &[P1],
                "  \"Ada\", :; <  <ada@x> > 1 +1500",
                ada,
                "\ncrud and a zone past 14:59\n",
            ),
            commit(&[P1], "A <a> 1 +0960", ada, "\nminutes past 59\n"),
            commit(&[P1], "A>B <a> 1 +1400", ada, "\nangle in the name\n"),
            commit(
                &[P1],
                "Zo\u{eb} \u{1f600} <z@x> 1 +0000",
                ada,
                "\nnon-ASCII\n",
            ),
            commit(&[P1], "A <a> 999999999999999 +0000", ada, "\nfar future\n"),
        ];
        for case in &cases {
            assert_eq!(
                same_as_libgit2(&repo, case),
                Some(true),
                "{:?}",
                String::from_utf8_lossy(case)
            );
        }
        // invalid UTF-8 in the name and message, read lossily by both
        let mut bytes = commit(
            &[P1],
            "A\u{e9} <a> 1 +0000",
            "A <a> 1 +0000",
            "\nmsg \u{e9}\n",
        );
        for b in bytes.iter_mut() {
            if *b == 0xc3 {
                *b = 0xff;
            }
        }
        assert_eq!(same_as_libgit2(&repo, &bytes), Some(true));
    }

    #[test]
    fn odd_commits_are_left_to_libgit2() {
        let (_dir, repo) = scratch();
        let ada = "Ada <ada@example.com> 1700000000 +0100";
        let upper = P1.to_uppercase();
        let cases: Vec<Vec<u8>> = vec![
            commit(&[P1], "Ada <ada@x> 1700000000", ada, "\nno zone\n"),
            commit(&[P1], "Ada <ada@x>", ada, "\nno time\n"),
            commit(&[P1], "Ada <ada@x>  1700000000 +0100", ada, "\ntwo spaces\n"),
            commit(&[P1], "Ada <ada@x> 1700000000 0100", ada, "\nno sign\n"),
            commit(&[P1], "Ada <ada@x> 1700000000 +01", ada, "\nshort zone\n"),
            commit(&[P1], "Ada ada@x> 1 +0000", ada, "\nno <\n"),
            commit(&[&upper], ada, ada, "\nupper-case parent\n"),
            commit(&[P1], ada, ada, "\nnul \0 inside\n"),
            format!("tree {TREE}\nparent {P1}\nauthor {ada}\nauthor {ada}\ncommitter {ada}\n\ntwo authors\n").into_bytes(),
            format!("tree {TREE}\nauthor {ada}\n").into_bytes(),
            b"not a commit at all".to_vec(),
        ];
        for case in &cases {
            assert_eq!(header(case), None, "{:?}", String::from_utf8_lossy(case));
            // and libgit2, which reads them, is what the walk uses then
            let _ = same_as_libgit2(&repo, case);
        }
    }

    #[test]
    fn cut_and_corrupted_commits_never_panic_and_still_agree_with_libgit2() {
        let (_dir, repo) = scratch();
        let good = commit(
            &[P1, P2],
            "Ada <ada@example.com> 1700000000 +0100",
            "Bob <b@x> 1700000100 -0530",
            "gpgsig x\n y\n\nfeat: a message\n\nwith a body\n",
        );
        // every prefix: a commit cut anywhere
        for end in 0..=good.len() {
            let cut = &good[..end];
            if header(cut).is_some() {
                assert_eq!(same_as_libgit2(&repo, cut), Some(true), "cut at {end}");
            }
        }
        // every position overwritten with bytes that matter to the parser
        for at in 0..good.len() {
            for b in [b'\n', b' ', b'<', b'>', b'-', b'0', b'A', 0u8, 0xff] {
                let mut bad = good.clone();
                bad[at] = b;
                if header(&bad).is_some() {
                    assert_eq!(same_as_libgit2(&repo, &bad), Some(true), "{b} at {at}");
                }
            }
        }
    }

    #[test]
    fn generated_signatures_read_as_libgit2_reads_them() {
        let (_dir, repo) = scratch();
        // A small deterministic generator: names and e-mails from an alphabet heavy in
        // what libgit2 trims, times and zones across their ranges.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet: Vec<char> = " \t,:;\"\\'<>aZ.-_\u{e9}\u{1f600}".chars().collect();
        let word = |next: &mut dyn FnMut() -> u64| -> String {
            let len = next() % 8;
            let mut out = String::new();
            for _ in 0..len {
                let c = alphabet[(next() % alphabet.len() as u64) as usize];
                if c != '<' || next().is_multiple_of(4) {
                    out.push(c);
                }
            }
            out
        };
        let (mut ours, mut total) = (0, 0);
        for _ in 0..400 {
            let zone = format!(
                "{}{:02}{:02}",
                if next().is_multiple_of(2) { '+' } else { '-' },
                next() % 20,
                next() % 70
            );
            let author = format!(
                "{} <{}> {} {zone}",
                word(&mut next),
                word(&mut next).replace('>', ""),
                next() % 5_000_000_000
            );
            let message = format!(
                "{}{}\n",
                "\n".repeat((next() % 3) as usize),
                word(&mut next)
            );
            let bytes = commit(
                &[P1],
                &author,
                "C <c> 1700000000 +0000",
                &format!("\n{message}"),
            );
            total += 1;
            match same_as_libgit2(&repo, &bytes) {
                Some(true) => ours += 1,
                Some(false) => panic!("differs from libgit2: {author:?}"),
                None => {}
            }
        }
        // most generated commits take the shortcut (the rest have no `<…>` pair)
        assert!(ours * 2 > total, "{ours} of {total} parsed here");
    }
}

#[cfg(test)]
mod history_tests {
    use super::*;

    /// Every commit of this repository's own history (the checkout the tests run in, when
    /// it is one) reads here as libgit2 reads it; `SHIPGATE_RAWCOMMIT_REPO` names another.
    #[test]
    fn every_commit_of_a_real_history_reads_as_libgit2_reads_it() {
        let Some((repo, history)) = crate::test_repos::real_history("SHIPGATE_RAWCOMMIT_REPO")
        else {
            return; // a source archive without its history
        };
        let odb = repo.odb().expect("odb");
        let (mut ours, mut total) = (0usize, 0usize);
        for id in history {
            let object = odb.read(id).expect("read");
            let theirs = repo.find_commit(id).expect("commit");
            total += 1;
            if let Some(h) = header(object.data()) {
                ours += 1;
                let author = theirs.author();
                assert_eq!(
                    h.fields(object.data()),
                    Fields::of_commit(&theirs, &author),
                    "{id}"
                );
                assert_eq!(h.parents, theirs.parent_ids().collect::<Vec<_>>(), "{id}");
                assert_eq!(h.commit_time, theirs.time().seconds(), "{id}");
            }
        }
        eprintln!("{ours} of {total} commits parsed here");
        assert!(
            ours * 10 >= total * 9,
            "{ours} of {total} commits parsed here"
        );
    }
}

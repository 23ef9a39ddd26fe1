//! Revert cancellation: which commits of a range cancel out. The one rule, shared by the
//! bump (shipgate-release) and the release notes (shipgate-changelog), so that they never
//! disagree.
//!
//! A revert names the commits it reverts (git's `This reverts commit <sha>.` line, or the
//! `Refs: <sha>` footer of a `revert:` commit; see [`reverted_ids`]). Ids match
//! case-insensitively, by prefix (at least 7 hex digits). Then:
//!
//! - a commit is **undone** when a revert in the range that is not undone itself names it
//!   (so reverting a revert brings the original change back);
//! - undone commits are cancelled, and so is every revert that is not undone and names a
//!   commit in the range: a commit reverted twice is cancelled once, with both reverts;
//! - a revert of a commit outside the range (an earlier release) is a change like any other.
//!
//! The answer does not depend on the order of the commits.

use crate::commit::{parse_message, reverted_ids};

/// Whether a message can name reverted commits at all: git's `This reverts commit` line, or
/// a `revert` type. Cheap, and exact: [`reverted_ids`] finds nothing in any other message,
/// so the whole-history changelog parses only these messages a second time.
fn may_revert(message: &str) -> bool {
    message.contains("This reverts commit ")
        || message
            .trim_start()
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("revert"))
}

/// For each commit of a range (`(id, message)`, the id as hex text or an object id; an
/// empty id matches nothing), whether it is cancelled by the revert rule above.
pub fn cancelled<'a, Id: std::fmt::Display>(
    commits: impl IntoIterator<Item = (Id, &'a str)>,
) -> Vec<bool> {
    let commits: Vec<(Id, &str)> = commits.into_iter().collect();
    // Most ranges hold no revert at all: then nothing is cancelled, and no id is written out.
    if !commits.iter().any(|(_, message)| may_revert(message)) {
        return vec![false; commits.len()];
    }
    let commits: Vec<(String, &str)> = commits
        .into_iter()
        .map(|(id, message)| (id.to_string().to_ascii_lowercase(), message))
        .collect();
    let n = commits.len();
    // ids sorted once: a prefix is a range of the sorted list
    let mut sorted: Vec<(&str, usize)> = commits
        .iter()
        .enumerate()
        .filter(|(_, (id, _))| !id.is_empty())
        .map(|(i, (id, _))| (id.as_str(), i))
        .collect();
    sorted.sort_unstable();
    let find = |prefix: &str| -> Option<usize> {
        let start = sorted.partition_point(|(id, _)| *id < prefix);
        sorted[start..]
            .iter()
            .take_while(|(id, _)| id.starts_with(prefix))
            .map(|(_, i)| *i)
            .min()
    };
    let mut targets: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut reverters: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, (_, message)) in commits.iter().enumerate() {
        if !may_revert(message) {
            continue;
        }
        for id in reverted_ids(message, &parse_message(message)) {
            if let Some(j) = find(&id).filter(|j| *j != i && !targets[i].contains(j)) {
                targets[i].push(j);
                reverters[j].push(i);
            }
        }
    }
    let undone = undone(&reverters);
    (0..n)
        .map(|i| undone[i] || !targets[i].is_empty())
        .collect()
}

/// `undone[j]`: some reverter of `j` is not undone itself. Computed without recursion; a
/// cycle (only ambiguous short ids can make one) counts as not undone where it closes.
fn undone(reverters: &[Vec<usize>]) -> Vec<bool> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done(bool),
    }
    let n = reverters.len();
    let mut state = vec![State::New; n];
    for root in 0..n {
        if state[root] != State::New {
            continue;
        }
        let mut stack = vec![root];
        while let Some(&j) = stack.last() {
            if state[j] == State::New {
                state[j] = State::Open;
                stack.extend(
                    reverters[j]
                        .iter()
                        .copied()
                        .filter(|r| state[*r] == State::New),
                );
                continue;
            }
            stack.pop();
            if state[j] == State::Open {
                let by_live_revert = reverters[j]
                    .iter()
                    .any(|r| matches!(state[*r], State::Done(false)));
                state[j] = State::Done(by_live_revert);
            }
        }
    }
    state
        .into_iter()
        .map(|s| matches!(s, State::Done(true)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> String {
        format!("{n:02x}").repeat(20)
    }

    fn revert_of(n: u8) -> String {
        format!(
            "Revert \"something\"\n\nThis reverts commit {}.",
            id(n).to_ascii_uppercase()
        )
    }

    /// Cancelled ids (by number) of commits given as (number, message).
    fn run(commits: &[(u8, &str)]) -> Vec<u8> {
        let ids: Vec<String> = commits.iter().map(|(n, _)| id(*n)).collect();
        let flags = cancelled(
            ids.iter()
                .map(String::as_str)
                .zip(commits.iter().map(|c| c.1)),
        );
        commits
            .iter()
            .zip(flags)
            .filter(|(_, c)| *c)
            .map(|((n, _), _)| *n)
            .collect()
    }

    #[test]
    fn a_revert_and_its_commit_cancel() {
        let r = revert_of(1);
        assert_eq!(
            run(&[(3, &r), (2, "fix: kept"), (1, "feat: gone")]),
            vec![3, 1]
        );
    }

    #[test]
    fn a_revert_type_with_refs_cancels_by_short_id_in_any_case() {
        let r = format!(
            "revert: feat x\n\nRefs: {}",
            &id(1)[..10].to_ascii_uppercase()
        );
        assert_eq!(run(&[(2, &r), (1, "feat!: x")]), vec![2, 1]);
        let r = format!("  Revert(api): x\n\nRefs: {}", &id(1)[..7]);
        assert_eq!(
            run(&[(2, &r), (1, "feat: x")]),
            vec![2, 1],
            "leading blanks"
        );
    }

    #[test]
    fn a_revert_of_a_commit_outside_the_range_is_kept() {
        let r = revert_of(9);
        assert_eq!(run(&[(2, &r), (1, "feat: x")]), Vec::<u8>::new());
    }

    #[test]
    fn a_commit_reverted_twice_cancels_with_both_reverts() {
        let (a, b) = (
            revert_of(1),
            format!("fix: drop x again\n\nThis reverts commit {}.", id(1)),
        );
        assert_eq!(run(&[(3, &b), (2, &a), (1, "feat: x")]), vec![3, 2, 1]);
    }

    #[test]
    fn reverting_a_revert_brings_the_change_back() {
        let (undo, redo) = (revert_of(1), revert_of(2));
        assert_eq!(run(&[(3, &redo), (2, &undo), (1, "feat: x")]), vec![3, 2]);
        // and a third level takes it away again
        let again = revert_of(3);
        assert_eq!(
            run(&[(4, &again), (3, &redo), (2, &undo), (1, "feat: x")]),
            vec![4, 3, 2, 1]
        );
    }

    #[test]
    fn the_order_of_the_commits_does_not_matter() {
        let (undo, redo) = (revert_of(1), revert_of(2));
        let mut got = run(&[(1, "feat: x"), (2, &undo), (3, &redo)]);
        got.sort_unstable();
        assert_eq!(got, vec![2, 3]);
    }

    #[test]
    fn a_self_reference_or_an_empty_id_never_cancels() {
        let own = format!("revert: x\n\nRefs: {}", id(1));
        assert_eq!(run(&[(1, &own)]), Vec::<u8>::new());
        let r = revert_of(1);
        assert_eq!(
            cancelled([("", r.as_str()), ("", "feat: x")]),
            vec![false, false]
        );
    }

    #[test]
    fn a_cycle_of_ambiguous_ids_terminates() {
        let (a, b) = (revert_of(2), revert_of(1));
        assert_eq!(run(&[(1, &a), (2, &b)]).len(), 2);
    }
}

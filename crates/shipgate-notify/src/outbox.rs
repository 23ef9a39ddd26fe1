//! What was delivered and what is left to deliver, in the repository's git directory
//! (`.git/shipgate/notify/`): `sent/<id>` for each delivery done, `pending/<id>.json` for
//! each that failed, with the event and the last answer. A delivery's id is a hash of its
//! channel and its event, so one event is sent at most once to a channel however often it
//! is retried; `shipgate notify retry` and the next command send what is pending.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shipgate_pipeline::Record;

/// A delivery that failed, kept to be sent again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub id: String,
    pub channel: String,
    pub record: Record,
    /// The last failure, in words (no secret in it).
    pub error: String,
    pub attempts: u32,
}

/// The id of delivering `record` to `channel`: 24 hex digits.
pub fn delivery_id(channel: &str, record: &Record) -> String {
    let mut hash = Sha256::new();
    hash.update(channel.as_bytes());
    hash.update([0]);
    hash.update(serde_json::to_vec(record).unwrap_or_default());
    hash.finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn is_id(id: &str) -> bool {
    id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The outbox of one repository.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    /// The outbox under `git_dir` (`.git`).
    pub fn in_git_dir(git_dir: &Path) -> Outbox {
        Outbox {
            dir: git_dir.join("shipgate").join("notify"),
        }
    }

    /// Whether the delivery `id` was made.
    pub fn was_sent(&self, id: &str) -> bool {
        is_id(id) && self.dir.join("sent").join(id).exists()
    }

    /// Records the delivery `id` as made, and forgets it as pending.
    pub fn mark_sent(&self, id: &str) -> std::io::Result<()> {
        if !is_id(id) {
            return Ok(());
        }
        let sent = self.dir.join("sent");
        std::fs::create_dir_all(&sent)?;
        shipgate_stdx::fs::write_atomic(&sent.join(id), b"")?;
        match std::fs::remove_file(self.pending_path(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Keeps a failed delivery to send again.
    pub fn keep(&self, pending: &Pending) -> std::io::Result<()> {
        if !is_id(&pending.id) {
            return Ok(());
        }
        std::fs::create_dir_all(self.dir.join("pending"))?;
        let json = serde_json::to_vec_pretty(pending).map_err(std::io::Error::other)?;
        shipgate_stdx::fs::write_atomic(&self.pending_path(&pending.id), &json)
    }

    /// A pending delivery by its id.
    pub fn get(&self, id: &str) -> Option<Pending> {
        if !is_id(id) {
            return None;
        }
        let text = std::fs::read(self.pending_path(id)).ok()?;
        serde_json::from_slice::<Pending>(&text)
            .ok()
            .filter(|p| p.id == id)
    }

    /// Every pending delivery, oldest event first; `channel`'s only when given. Files that
    /// are not deliveries are skipped.
    pub fn pending(&self, channel: Option<&str>) -> Vec<Pending> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("pending")) else {
            return Vec::new();
        };
        let mut out: Vec<Pending> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                self.get(name.strip_suffix(".json")?)
            })
            .filter(|p| channel.is_none_or(|c| p.channel == c))
            .collect();
        out.sort_by(|a, b| (a.record.at, &a.id).cmp(&(b.record.at, &b.id)));
        out
    }

    fn pending_path(&self, id: &str) -> PathBuf {
        self.dir.join("pending").join(format!("{id}.json"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipgate_pipeline::Event;

    fn record(env: &str) -> Record {
        Record {
            at: jiff::Timestamp::UNIX_EPOCH,
            by: "alice".into(),
            run_url: None,
            event: Event::Frozen {
                env: env.into(),
                reason: "incident".into(),
            },
        }
    }

    #[test]
    fn a_delivery_is_pending_until_sent_and_then_never_again() {
        let dir = tempfile::tempdir().expect("tmp");
        let outbox = Outbox::in_git_dir(dir.path());
        let r = record("prod");
        let id = delivery_id("slack-1", &r);
        assert_eq!(id.len(), 24);
        assert_ne!(id, delivery_id("slack-2", &r), "per channel");
        assert_ne!(id, delivery_id("slack-1", &record("dev")), "per event");
        outbox
            .keep(&Pending {
                id: id.clone(),
                channel: "slack-1".into(),
                record: r.clone(),
                error: "answered 500".into(),
                attempts: 3,
            })
            .expect("kept");
        assert_eq!(outbox.pending(None).len(), 1);
        assert_eq!(outbox.pending(Some("teams-1")).len(), 0);
        assert!(!outbox.was_sent(&id));
        outbox.mark_sent(&id).expect("sent");
        assert!(outbox.was_sent(&id));
        assert!(outbox.pending(None).is_empty());
    }

    #[test]
    fn a_hostile_file_in_the_outbox_is_no_delivery() {
        let dir = tempfile::tempdir().expect("tmp");
        let outbox = Outbox::in_git_dir(dir.path());
        let pending = dir.path().join("shipgate/notify/pending");
        std::fs::create_dir_all(&pending).expect("dir");
        std::fs::write(pending.join("../../../evil.json"), "{}").expect("write");
        std::fs::write(pending.join("zz.json"), "not json").expect("write");
        assert!(outbox.pending(None).is_empty());
        assert!(!outbox.was_sent("../../HEAD"));
    }
}

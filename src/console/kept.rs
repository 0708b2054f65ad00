//! The files an upload gives back (its rejected rows and its changes),
//! kept in memory for a while under a random name for the session that
//! made them: nothing personal is written to the server's disk, and a
//! name seen by someone else opens nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::session::{random_token, same};

/// How long a result's files can be downloaded.
pub const KEPT_FOR: Duration = Duration::from_secs(30 * 60);
/// Results kept at most (the oldest goes first): a bound on memory.
pub const MAX_KEPT: usize = 64;

/// The files of one upload.
#[derive(Debug, Clone)]
pub struct Files {
    /// The uploaded file's name without its extension.
    pub stem: String,
    /// The rejected rows (xlsx), if any row was.
    pub rejected: Option<Vec<u8>>,
    /// What each accepted row did (xlsx), if any row was.
    pub changes: Option<Vec<u8>>,
}

struct Entry {
    /// The CSRF token of the session that made it (one per session).
    owner: String,
    made: Instant,
    files: Files,
}

/// The kept results, by name.
#[derive(Default)]
pub struct Kept {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Kept {
    /// Keeps `files` for the session whose CSRF token is `owner`; answers
    /// the name to fetch them by.
    pub fn keep(&self, owner: &str, files: Files) -> String {
        let name = random_token();
        let now = Instant::now();
        let mut entries = self.entries.lock().expect("kept files lock");
        entries.retain(|_, e| now.duration_since(e.made) < KEPT_FOR);
        while entries.len() >= MAX_KEPT {
            let oldest = entries
                .iter()
                .min_by_key(|(_, e)| e.made)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => entries.remove(&k),
                None => break,
            };
        }
        entries.insert(
            name.clone(),
            Entry {
                owner: owner.to_string(),
                made: now,
                files,
            },
        );
        name
    }

    /// The files kept as `name` for the session whose CSRF token is
    /// `owner`, while they last.
    pub fn get(&self, owner: &str, name: &str) -> Option<Files> {
        let entries = self.entries.lock().expect("kept files lock");
        entries
            .get(name)
            .filter(|e| same(&e.owner, owner) && e.made.elapsed() < KEPT_FOR)
            .map(|e| e.files.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Files {
        Files {
            stem: "ledger".into(),
            rejected: Some(vec![1]),
            changes: None,
        }
    }

    #[test]
    fn only_the_owner_gets_them_and_the_oldest_go_first() {
        let kept = Kept::default();
        let name = kept.keep("a", files());
        assert!(kept.get("a", &name).is_some());
        assert!(kept.get("b", &name).is_none());
        assert!(kept.get("a", "other").is_none());
        for _ in 0..MAX_KEPT {
            kept.keep("a", files());
        }
        assert!(kept.get("a", &name).is_none(), "the oldest was dropped");
        assert_eq!(kept.entries.lock().unwrap().len(), MAX_KEPT);
    }
}

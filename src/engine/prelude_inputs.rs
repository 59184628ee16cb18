//! The host files a snapshotted prelude read through mounts.
//!
//! A prelude snapshot holds whatever the prelude read: modules imported
//! from a mounted package directory, data files it parsed. Its cache entry
//! must not outlive those files' contents, yet the files are known only
//! after the prelude ran. So the cache holds two things per prelude
//! snapshot key (runtime, prelude, settings): a list of the host paths the
//! prelude looked at, with the identity each had then (device, inode, size,
//! modification and change times, or "absent"), and the compiled snapshot
//! under a key that also covers that list ([`entry_key`]). A later template
//! build stats the listed paths; if any changed, appeared or vanished, the
//! key differs, the entry is not found and the prelude runs again.
//!
//! A path that changed within the file-system timestamp granularity before
//! it was recorded could change again without its identity showing it; the
//! list is then not written, so the next build runs the prelude again.

use std::{
    fmt::Write as _,
    io::Write as _,
    os::unix::ffi::{OsStrExt, OsStringExt},
    path::{Path, PathBuf},
};

use super::{
    cache::{self, FileIdentity, PRELUDE_INPUTS_EXT},
    vfs::ReadSet,
};

fn list_path(dir: &Path, snapshot_key: &[u8; 32]) -> PathBuf {
    let name: String = snapshot_key[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    dir.join(format!("prelude-{name}.{PRELUDE_INPUTS_EXT}"))
}

/// One line per path: the path's bytes in hex, then its identity or
/// `absent`. Sorted by path (a `ReadSet` is ordered).
fn encode(reads: &ReadSet) -> String {
    let mut out = String::new();
    for (path, identity) in reads {
        for byte in path.as_os_str().as_bytes() {
            let _ = write!(out, "{byte:02x}");
        }
        match identity {
            Some(id) => {
                let _ = writeln!(
                    out,
                    " {} {} {} {} {}",
                    id.dev, id.ino, id.size, id.mtime, id.ctime
                );
            }
            None => out.push_str(" absent\n"),
        }
    }
    out
}

/// The paths of a list written by [`encode`]; `None` if it is malformed.
fn decode_paths(list: &str) -> Option<Vec<PathBuf>> {
    list.lines()
        .map(|line| {
            let hex = line.split(' ').next()?;
            if hex.len() % 2 != 0 {
                return None;
            }
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect::<Option<Vec<u8>>>()?;
            Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
        })
        .collect()
}

/// The cache key of the compiled snapshot taken under `snapshot_key` with
/// the prelude having read `list` (as [`encode`] writes it).
fn entry_key(snapshot_key: &[u8; 32], list: &str) -> [u8; 32] {
    let mut material = Vec::with_capacity(32 + list.len());
    material.extend_from_slice(snapshot_key);
    material.extend_from_slice(list.as_bytes());
    cache::sha256(&material)
}

/// The key under which `dir` would hold a still valid snapshot for
/// `snapshot_key`: `None` when no input list was recorded for it or a
/// listed path changed since.
pub(crate) fn current_entry_key(dir: &Path, snapshot_key: &[u8; 32]) -> Option<[u8; 32]> {
    let recorded = std::fs::read_to_string(list_path(dir, snapshot_key)).ok()?;
    let now: ReadSet = decode_paths(&recorded)?
        .into_iter()
        .map(|path| {
            let identity = FileIdentity::of_path(&path);
            (path, identity)
        })
        .collect();
    let current = encode(&now);
    (current == recorded).then(|| entry_key(snapshot_key, &current))
}

/// What a prelude read through mounts, as recorded after it ran.
pub(crate) struct PreludeInputs {
    list: String,
    /// No path changed so recently that its identity could hide a change.
    trustworthy: bool,
}

impl PreludeInputs {
    /// The inputs `reads`, as the guest's mounts recorded them.
    pub(crate) fn new(reads: &ReadSet) -> Self {
        Self::at(reads, cache::now_nanos())
    }

    fn at(reads: &ReadSet, now: i128) -> Self {
        Self {
            list: encode(reads),
            trustworthy: reads
                .values()
                .flatten()
                .all(|id| !id.changed_within_granularity_of(now)),
        }
    }

    /// The key to cache the snapshot taken under `snapshot_key` under.
    pub(crate) fn entry_key(&self, snapshot_key: &[u8; 32]) -> [u8; 32] {
        entry_key(snapshot_key, &self.list)
    }

    /// Record in `dir` that the snapshot taken under `snapshot_key` read
    /// these inputs. Best effort: a list that cannot be written, or that
    /// is not trustworthy (and so not written), only means the next build
    /// runs the prelude again.
    pub(crate) fn save(&self, dir: &Path, snapshot_key: &[u8; 32]) {
        if self.trustworthy && std::fs::create_dir_all(dir).is_ok() {
            let _ = cache::write_atomically(dir, &list_path(dir, snapshot_key), |file| {
                file.write_all(self.list.as_bytes())
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Record `reads` as if the check ran a few seconds after they were
    /// taken (the files of a test are all brand new).
    fn record_later(dir: &Path, key: &[u8; 32], reads: &ReadSet) -> [u8; 32] {
        let inputs = PreludeInputs::at(reads, cache::now_nanos() + 3_000_000_000);
        inputs.save(dir, key);
        inputs.entry_key(key)
    }

    fn reads_of(paths: &[&Path]) -> ReadSet {
        paths
            .iter()
            .map(|p| (p.to_path_buf(), FileIdentity::of_path(p)))
            .collect()
    }

    #[test]
    fn lists_round_trip_any_path_bytes() {
        let reads: ReadSet = [
            (PathBuf::from("/a b/c\nd"), None),
            (
                PathBuf::from(std::ffi::OsString::from_vec(vec![b'/', 0xff])),
                None,
            ),
        ]
        .into_iter()
        .collect();
        let paths = decode_paths(&encode(&reads)).unwrap();
        assert_eq!(paths, reads.keys().cloned().collect::<Vec<_>>());
        assert!(decode_paths("abc absent\n").is_none());
        assert!(decode_paths("zz absent\n").is_none());
    }

    #[test]
    fn a_changed_added_or_removed_input_changes_the_key() {
        let cache = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let module = data.path().join("m.py");
        std::fs::write(&module, "X = 1\n").unwrap();
        let missing = data.path().join("n.py");
        let key = [3; 32];
        let reads = reads_of(&[data.path(), &module, &missing]);
        let recorded = record_later(cache.path(), &key, &reads);
        assert_eq!(current_entry_key(cache.path(), &key), Some(recorded));
        assert_eq!(current_entry_key(cache.path(), &[4; 32]), None);

        let changes: [&dyn Fn(); 3] = [
            &|| std::fs::write(&module, "X = 22\n").unwrap(),
            &|| std::fs::write(&missing, "").unwrap(),
            &|| std::fs::remove_file(&module).unwrap(),
        ];
        for change in changes {
            change();
            assert_eq!(current_entry_key(cache.path(), &key), None);
            // Recorded afresh, the new state is valid, under another key.
            let again = record_later(
                cache.path(),
                &key,
                &reads_of(&[data.path(), &module, &missing]),
            );
            assert_eq!(current_entry_key(cache.path(), &key), Some(again));
            assert_ne!(again, recorded);
        }
    }

    #[test]
    fn a_recently_changed_input_is_not_trusted_later() {
        let cache = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let fresh = data.path().join("fresh.py");
        std::fs::write(&fresh, "X = 1\n").unwrap();
        let key = [5; 32];
        let inputs = PreludeInputs::new(&reads_of(&[&fresh]));
        inputs.save(cache.path(), &key);
        assert_eq!(current_entry_key(cache.path(), &key), None);
        // The same inputs a few seconds later are recorded.
        record_later(cache.path(), &key, &reads_of(&[&fresh]));
        assert_eq!(
            current_entry_key(cache.path(), &key),
            Some(inputs.entry_key(&key))
        );
    }
}

//! On-disk cache of compiled components.
//!
//! Compiling the CPython component takes seconds; loading a cached artifact
//! takes about a millisecond, because it is mapped, not read. Entries are
//! keyed by the SHA-256 of the wasm bytes, the wasmtime version and the
//! engine's compatibility hash, and written atomically (temp file + rename),
//! so a reader never sees a half-written entry.
//!
//! Integrity without hashing 45 MiB on every load: next to each entry a
//! small stamp records the entry's SHA-256 and the file's identity at the
//! time it was verified (device, inode, size, modification and change
//! times). A load whose file still has that identity trusts the stamp; any
//! other load (the file was rewritten, copied, or touched; or the stamp is
//! younger than the file-system timestamp granularity, see [`Stamp::racy`])
//! hashes the file in full and recompiles when the digest differs. A change
//! time cannot be set from user space, so an entry modified in place always
//! fails the quick check.
//!
//! Runtime files given by path are vouched for the same way (a source
//! stamp per path, [`stamped_source_digest`]), so a warm load of such a
//! file neither reads nor hashes it.
use std::{
    hash::{Hash, Hasher},
    io::{Read, Write},
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    time::Duration,
};

use sha2::{Digest, Sha256};
use wasmtime::{Engine, component::Component};

use super::EngineError;

const DIGEST_LEN: usize = 32;

/// Feeds `Hash` implementations into SHA-256 so the key is stable across
/// processes (unlike `DefaultHasher`).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        0 // unused: the digest is read with `finalize`
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// SHA-256 of a byte slice.
pub(crate) fn sha256(bytes: &[u8]) -> [u8; DIGEST_LEN] {
    Sha256::digest(bytes).into()
}

/// The default cache directory: `$ISOLA_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/isola`, else `$HOME/.cache/isola`.
pub(crate) fn default_dir() -> Option<PathBuf> {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    from_env("ISOLA_CACHE_DIR")
        .or_else(|| from_env("XDG_CACHE_HOME").map(|p| p.join("isola")))
        .or_else(|| from_env("HOME").map(|p| p.join(".cache").join("isola")))
}

/// Bumped when the layout of entries or stamps changes, so old entries are
/// not read (they are pruned instead).
const FORMAT: &str = "isola-cache-2";

fn cache_key(engine: &Engine, wasm_digest: &[u8; DIGEST_LEN]) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    hasher.write(wasm_digest);
    hasher.write(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.write(FORMAT.as_bytes());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let digest = hasher.0.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn entry_path(engine: &Engine, wasm_digest: &[u8; DIGEST_LEN], dir: &Path) -> PathBuf {
    dir.join(format!("{}.cwasm", cache_key(engine, wasm_digest)))
}

/// The compiled component with SHA-256 `wasm_digest` if `dir` holds it;
/// never compiles.
pub(crate) fn load_cached(
    engine: &Engine,
    wasm_digest: &[u8; DIGEST_LEN],
    dir: &Path,
) -> Option<Component> {
    load(engine, &entry_path(engine, wasm_digest, dir))
}

/// Runtime files loaded from a path get a stamp of their own in the cache
/// directory (named after the path): their SHA-256 and the identity they had
/// when hashed. A later template load of the same, unchanged file finds its
/// compiled entry without reading and hashing the file, which is most of a
/// warm load of the 52 MB scientific runtime.
const SOURCE_STAMP_EXT: &str = "srcstamp";

/// Extension of the files listing what a prelude snapshot read from
/// mounts (`super::prelude_inputs`); pruned with the source stamps.
pub(crate) const PRELUDE_INPUTS_EXT: &str = "inputs";

/// Source stamps kept per cache directory (newest first), and as many
/// prelude input lists.
const MAX_SOURCE_STAMPS: usize = 32;

fn source_stamp_path(dir: &Path, source: &Path) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let canonical = source
        .canonicalize()
        .unwrap_or_else(|_| source.to_path_buf());
    let key = sha256(canonical.as_os_str().as_bytes());
    let name: String = key[..16].iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("source-{name}.{SOURCE_STAMP_EXT}"))
}

/// The SHA-256 of the file at `source` as its stamp in `dir` records it,
/// when the file still has the identity it was hashed with and the stamp is
/// not racy (see [`Stamp::racy`]); `None` means: read and hash it.
pub(crate) fn stamped_source_digest(dir: &Path, source: &Path) -> Option<[u8; DIGEST_LEN]> {
    let stamp = Stamp::decode(&std::fs::read(source_stamp_path(dir, source)).ok()?)?;
    let identity = FileIdentity::of(&std::fs::metadata(source).ok()?);
    (identity == stamp.identity && !stamp.racy()).then_some(stamp.digest)
}

/// Read the file at `source` and hash it; with a cache `dir`, also stamp
/// the digest there for [`stamped_source_digest`] (best effort, and only
/// when the file is old enough for its timestamps to reveal later changes).
/// The identity recorded is the one taken before reading, from the file
/// read, so a change during the read fails the next quick check.
pub(crate) fn read_source(
    source: &Path,
    dir: Option<&Path>,
) -> std::io::Result<(Vec<u8>, [u8; DIGEST_LEN])> {
    let mut file = std::fs::File::open(source)?;
    let identity = FileIdentity::of(&file.metadata()?);
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let digest = sha256(&bytes);
    if let Some(dir) = dir {
        let stamp = Stamp {
            digest,
            identity,
            stamped_at: now_nanos(),
        };
        if !stamp.racy() && std::fs::create_dir_all(dir).is_ok() {
            let _ = write_atomically(dir, &source_stamp_path(dir, source), |file| {
                file.write_all(&stamp.encode())
            });
        }
    }
    Ok((bytes, digest))
}

/// Load the compiled form of `wasm` from `dir`, or compile it and store it.
/// Cache problems never fail the load: they fall back to compiling.
pub(crate) fn load_or_compile(
    engine: &Engine,
    wasm: &[u8],
    wasm_digest: &[u8; DIGEST_LEN],
    dir: Option<&Path>,
) -> Result<Component, EngineError> {
    let Some(dir) = dir else {
        return Ok(Component::new(engine, wasm)?);
    };
    let path = entry_path(engine, wasm_digest, dir);
    if let Some(component) = load(engine, &path) {
        return Ok(component);
    }
    let component = Component::new(engine, wasm)?;
    // A read-only or full cache directory only costs speed, not correctness.
    if store(&component, dir, &path).is_ok() {
        prune(dir, &path);
        // Use the stored entry, mapped, so the process shares its pages
        // (code and memory images) with every other process using it.
        if let Some(mapped) = load(engine, &path) {
            return Ok(mapped);
        }
    }
    Ok(component)
}

/// Entries kept per cache directory; those idle longest (other runtimes,
/// other library versions, templates no longer built) are removed when a
/// new entry is written.
const MAX_ENTRIES: usize = 8;

/// Remove all but the [`MAX_ENTRIES`] entries most recently written or
/// loaded (an entry every process loads is never the one removed, however
/// old, so a host with many prelude templates does not make its runtime
/// compile again), stamps whose entry is gone, and temp files left by
/// writers that died. Best effort: concurrent pruning by another process
/// only makes removals fail.
fn prune(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let mut artifacts = Vec::new();
    let mut stamps = Vec::new();
    let mut source_stamps = Vec::new();
    let mut prelude_inputs = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(modified) = entry.metadata().and_then(|m| m.modified()).ok() else {
            continue;
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".tmp") && name.starts_with('.') && modified < hour_ago {
            let _ = std::fs::remove_file(&path);
        } else if name.ends_with(".cwasm") && path != keep {
            artifacts.push((last_used(&path, modified), path));
        } else if name.ends_with(".stamp") {
            stamps.push(path);
        } else if path.extension().is_some_and(|e| e == SOURCE_STAMP_EXT) {
            source_stamps.push((modified, path));
        } else if path.extension().is_some_and(|e| e == PRELUDE_INPUTS_EXT) {
            prelude_inputs.push((modified, path));
        }
    }
    for (list, keep) in [
        (&mut artifacts, MAX_ENTRIES - 1),
        (&mut source_stamps, MAX_SOURCE_STAMPS),
        (&mut prelude_inputs, MAX_SOURCE_STAMPS),
    ] {
        list.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
        for (_, path) in list.drain(..).skip(keep) {
            let _ = std::fs::remove_file(path);
        }
    }
    for stamp in stamps {
        if !stamp.with_extension("cwasm").exists() {
            let _ = std::fs::remove_file(stamp);
        }
    }
}

/// File-system timestamps are at most this coarse (FAT: 2 s); a stamp
/// written sooner than this after the file last changed cannot tell a later
/// in-place change from none (git's "racily clean" problem).
const TIMESTAMP_GRANULARITY: Duration = Duration::from_secs(2);

const STAMP_MAGIC: &[u8; 8] = b"isolastm";

/// What was verified about an entry: its digest and the identity of the
/// file that had it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    digest: [u8; DIGEST_LEN],
    identity: FileIdentity,
    /// When the stamp was written (wall clock, nanoseconds since the epoch).
    stamped_at: i128,
}

/// The fields of a file's metadata that change whenever its content can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileIdentity {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub(crate) size: u64,
    pub(crate) mtime: i128,
    pub(crate) ctime: i128,
}

impl FileIdentity {
    /// The identity of the file `meta` describes.
    pub(crate) fn of(meta: &std::fs::Metadata) -> Self {
        let nanos = |secs: i64, nsecs: i64| i128::from(secs) * 1_000_000_000 + i128::from(nsecs);
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: nanos(meta.mtime(), meta.mtime_nsec()),
            ctime: nanos(meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// The identity of the file at `path` (symbolic links followed), or
    /// `None` when it cannot be examined (missing, no permission).
    pub(crate) fn of_path(path: &Path) -> Option<Self> {
        std::fs::metadata(path).ok().map(|meta| Self::of(&meta))
    }

    /// Whether the file last changed so shortly before `at` (nanoseconds
    /// since the epoch) that a later change could leave this identity as
    /// it is (the change time might fall in the same timestamp tick).
    pub(crate) fn changed_within_granularity_of(&self, at: i128) -> bool {
        at - self.ctime < TIMESTAMP_GRANULARITY.as_nanos() as i128
    }
}

/// The wall clock, in nanoseconds since the epoch.
pub(crate) fn now_nanos() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
}

impl Stamp {
    const LEN: usize = 8 + DIGEST_LEN + 8 * 3 + 16 * 3;

    /// Whether a later in-place change could leave the file's identity as
    /// recorded (the change time might fall in the same timestamp tick).
    fn racy(&self) -> bool {
        self.identity.changed_within_granularity_of(self.stamped_at)
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.extend_from_slice(STAMP_MAGIC);
        out.extend_from_slice(&self.digest);
        let id = &self.identity;
        for n in [id.dev, id.ino, id.size] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        for n in [id.mtime, id.ctime, self.stamped_at] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::LEN || !bytes.starts_with(STAMP_MAGIC) {
            return None;
        }
        let mut rest = &bytes[STAMP_MAGIC.len()..];
        let mut take = |n: usize| {
            let (head, tail) = rest.split_at(n);
            rest = tail;
            head
        };
        let digest = take(DIGEST_LEN).try_into().ok()?;
        let mut u64s = [0u64; 3];
        for n in &mut u64s {
            *n = u64::from_le_bytes(take(8).try_into().ok()?);
        }
        let mut i128s = [0i128; 3];
        for n in &mut i128s {
            *n = i128::from_le_bytes(take(16).try_into().ok()?);
        }
        Some(Self {
            digest,
            identity: FileIdentity {
                dev: u64s[0],
                ino: u64s[1],
                size: u64s[2],
                mtime: i128s[0],
                ctime: i128s[1],
            },
            stamped_at: i128s[2],
        })
    }
}

fn stamp_path(path: &Path) -> PathBuf {
    path.with_extension("stamp")
}

fn write_stamp(dir: &Path, path: &Path, stamp: &Stamp) -> std::io::Result<()> {
    write_atomically(dir, &stamp_path(path), |file| {
        file.write_all(&stamp.encode())
    })
}

/// The entry at `path`, mapped into memory, if its stamp vouches for it (or
/// a full check of its digest does).
fn load(engine: &Engine, path: &Path) -> Option<Component> {
    let mut stamp_file = std::fs::File::open(stamp_path(path)).ok()?;
    let mut stamp_bytes = Vec::new();
    stamp_file.read_to_end(&mut stamp_bytes).ok()?;
    let stamp = Stamp::decode(&stamp_bytes)?;
    let mut file = std::fs::File::open(path).ok()?;
    let identity = FileIdentity::of(&file.metadata().ok()?);
    if identity != stamp.identity || stamp.racy() {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).ok()?;
        if sha256(&bytes) != stamp.digest {
            return None;
        }
        // Verified in full: vouch for this file from now on, unless it
        // changed too recently for its timestamps to tell later changes.
        let fresh = Stamp {
            digest: stamp.digest,
            identity,
            stamped_at: now_nanos(),
        };
        if !fresh.racy()
            && let Some(dir) = path.parent()
        {
            let _ = write_stamp(dir, path, &fresh);
        }
    }
    // Map the very file that was checked, even if the path is replaced
    // meanwhile (a concurrent writer renames a new entry over it).
    let mapped = proc_fd_path(&file).unwrap_or_else(|| path.to_path_buf());
    // SAFETY: the file was written by `store` below from
    // `Component::serialize` of an engine with the same compatibility hash
    // (part of the file name), and its identity or digest matches the stamp
    // written after it was verified. Entries are only ever replaced by
    // rename, never modified in place, so the mapping stays what was
    // checked for as long as the component lives (a user editing a cache
    // file in place while a process maps it is outside this contract, as
    // for wasmtime's own cache). wasmtime additionally checks the header and
    // engine settings.
    let component = unsafe { Component::deserialize_file(engine, mapped) }.ok()?;
    mark_used(&stamp_file);
    Some(component)
}

/// Record that an entry was just used: its stamp's modification time (not
/// the entry's, which is part of the identity the stamp vouches for, and
/// not the stamp's contents) is when the entry was last loaded, so
/// [`prune`] keeps the entries in use and removes those idle longest.
/// Best effort: a read-only cache directory only loses the ordering.
fn mark_used(stamp: &std::fs::File) {
    let _ = stamp.set_modified(std::time::SystemTime::now());
}

/// When an entry was last written or loaded (see [`mark_used`]).
fn last_used(entry: &Path, written: std::time::SystemTime) -> std::time::SystemTime {
    std::fs::metadata(stamp_path(entry))
        .and_then(|m| m.modified())
        .map_or(written, |used| used.max(written))
}

/// `/proc/self/fd/N` for an open file, where that names the same file.
fn proc_fd_path(file: &std::fs::File) -> Option<PathBuf> {
    use std::os::fd::AsRawFd;
    let path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    let same = std::fs::metadata(&path)
        .ok()
        .zip(file.metadata().ok())
        .is_some_and(|(a, b)| a.dev() == b.dev() && a.ino() == b.ino());
    same.then_some(path)
}

fn store(component: &Component, dir: &Path, path: &Path) -> Result<(), EngineError> {
    let io = |context: &str| {
        let context = format!("{context} {}", dir.display());
        move |source| EngineError::Io { context, source }
    };
    std::fs::create_dir_all(dir).map_err(io("creating cache directory"))?;
    let artifact = component.serialize()?;
    let digest = sha256(&artifact);
    write_atomically(dir, path, |file| file.write_all(&artifact))
        .map_err(io("writing cache entry in"))?;
    let identity = FileIdentity::of(&std::fs::metadata(path).map_err(io("reading entry in"))?);
    let stamp = Stamp {
        digest,
        identity,
        stamped_at: now_nanos(),
    };
    write_stamp(dir, path, &stamp).map_err(io("writing cache stamp in"))
}

/// Write a file through a temp file in `dir` renamed over `path`.
pub(crate) fn write_atomically(
    dir: &Path,
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), unique_suffix()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        fill(&mut file)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn unique_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(ctime: i128, stamped_at: i128) -> Stamp {
        Stamp {
            digest: [7; DIGEST_LEN],
            identity: FileIdentity {
                dev: 1,
                ino: 2,
                size: 3,
                mtime: 4,
                ctime,
            },
            stamped_at,
        }
    }

    #[test]
    fn stamps_round_trip_and_reject_garbage() {
        let s = stamp(5, 6);
        assert_eq!(Stamp::decode(&s.encode()), Some(s.clone()));
        let mut bad = s.encode();
        bad[0] ^= 1;
        assert_eq!(Stamp::decode(&bad), None);
        assert_eq!(Stamp::decode(&s.encode()[1..]), None);
    }

    #[test]
    fn a_stamp_written_right_after_the_change_is_racy() {
        let second = 1_000_000_000;
        assert!(stamp(10 * second, 10 * second + 5).racy());
        assert!(!stamp(10 * second, 13 * second).racy());
    }

    #[test]
    fn a_source_stamp_vouches_only_for_the_unchanged_file() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let source = dir.path().join("runtime.wasm");
        std::fs::write(&source, b"first").unwrap();
        // Just written: the stamp would be racy, so none is kept.
        let (bytes, digest) = read_source(&source, Some(&cache)).unwrap();
        assert_eq!(
            (bytes.as_slice(), digest),
            (&b"first"[..], sha256(b"first"))
        );
        assert_eq!(stamped_source_digest(&cache, &source), None);

        // An old enough stamp is trusted while the file keeps its identity.
        let identity = FileIdentity::of(&std::fs::metadata(&source).unwrap());
        let aged = Stamp {
            digest,
            identity,
            stamped_at: identity.ctime + 10 * 1_000_000_000,
        };
        std::fs::create_dir_all(&cache).unwrap();
        write_atomically(&cache, &source_stamp_path(&cache, &source), |f| {
            f.write_all(&aged.encode())
        })
        .unwrap();
        assert_eq!(stamped_source_digest(&cache, &source), Some(digest));

        // Rewritten in place, same size: the timestamps tell.
        std::thread::sleep(Duration::from_millis(50));
        std::fs::write(&source, b"other").unwrap();
        assert_eq!(stamped_source_digest(&cache, &source), None);
        // Another path has no stamp at all.
        assert_eq!(
            stamped_source_digest(&cache, &dir.path().join("x.wasm")),
            None
        );
    }

    #[test]
    fn in_place_change_is_caught_even_with_a_trusted_stamp() {
        let engine = Engine::default();
        let dir = tempfile::tempdir().unwrap();
        let component = Component::new(&engine, b"\0asm\x0d\0\x01\0").unwrap();
        let path = dir.path().join("e.cwasm");
        store(&component, dir.path(), &path).unwrap();
        // Age the stamp so the quick check applies.
        let mut s = Stamp::decode(&std::fs::read(stamp_path(&path)).unwrap()).unwrap();
        s.stamped_at += 10 * 1_000_000_000;
        write_stamp(dir.path(), &path, &s).unwrap();
        assert!(load(&engine, &path).is_some());

        // Same size, same inode: only the timestamps tell. Let a clock tick
        // pass (kernel timestamps are at most a jiffy coarse) so they can.
        std::thread::sleep(Duration::from_millis(50));
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert!(
            load(&engine, &path).is_none(),
            "a modified entry must not load"
        );
        std::fs::remove_file(stamp_path(&path)).unwrap();
        assert!(load(&engine, &path).is_none(), "no stamp, no trust");
    }
}

//! On-disk cache of compiled components.
//!
//! Compiling the CPython component takes seconds; loading a cached artifact
//! takes milliseconds. Entries are keyed by the SHA-256 of the wasm bytes,
//! the wasmtime version and the engine's compatibility hash, written
//! atomically (temp file + rename) and carry a trailing SHA-256 of their
//! content, so a truncated, corrupt or foreign file is recompiled instead of
//! being trusted.

use std::{
    hash::{Hash, Hasher},
    io::Write,
    path::{Path, PathBuf},
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

fn cache_key(engine: &Engine, wasm_digest: &[u8; DIGEST_LEN]) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    hasher.write(wasm_digest);
    hasher.write(env!("CARGO_PKG_VERSION").as_bytes());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let digest = hasher.0.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
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
    let path = dir.join(format!("{}.cwasm", cache_key(engine, wasm_digest)));
    if let Some(component) = load(engine, &path) {
        return Ok(component);
    }
    let component = Component::new(engine, wasm)?;
    // A read-only or full cache directory only costs speed, not correctness.
    if store(&component, dir, &path).is_ok() {
        prune(dir, &path);
    }
    Ok(component)
}

/// Entries kept per cache directory; older ones (other runtimes, other
/// library versions) are removed when a new entry is written.
const MAX_ENTRIES: usize = 8;

/// Remove all but the newest [`MAX_ENTRIES`] entries, and temp files left by
/// writers that died. Best effort: concurrent pruning by another process
/// only makes removals fail.
fn prune(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let mut artifacts = Vec::new();
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
            artifacts.push((modified, path));
        }
    }
    artifacts.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    for (_, path) in artifacts.into_iter().skip(MAX_ENTRIES - 1) {
        let _ = std::fs::remove_file(path);
    }
}

fn load(engine: &Engine, path: &Path) -> Option<Component> {
    let bytes = std::fs::read(path).ok()?;
    let split = bytes.len().checked_sub(DIGEST_LEN)?;
    let (artifact, digest) = bytes.split_at(split);
    if sha256(artifact) != digest {
        return None;
    }
    // SAFETY: the artifact was written by `store` below from
    // `Component::serialize` of an engine with the same compatibility hash
    // (part of the file name), and its trailing digest proves it is intact.
    // wasmtime additionally checks the header and engine settings.
    unsafe { Component::deserialize(engine, artifact) }.ok()
}

fn store(component: &Component, dir: &Path, path: &Path) -> Result<(), EngineError> {
    let io = |context: &str| {
        let context = format!("{context} {}", dir.display());
        move |source| EngineError::Io { context, source }
    };
    std::fs::create_dir_all(dir).map_err(io("creating cache directory"))?;
    let artifact = component.serialize()?;
    let digest = sha256(&artifact);
    let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), unique_suffix()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&artifact)?;
        file.write_all(&digest)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io("writing cache entry in"))
}

fn unique_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

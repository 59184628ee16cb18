//! Runtime components chosen by name: `"sci"` is the scientific runtime
//! (numpy), installed as a file beside the library rather than embedded in
//! it (it is several times the size of the default runtime, and only the
//! hosts that use it should pay for reading it).

use std::path::{Path, PathBuf};

use super::{Error, Result};

/// Environment variable naming the directory searched first for named
/// runtimes.
pub const RUNTIME_DIR_ENV: &str = "ISOLA_RUNTIME_DIR";

/// The file a runtime called `name` is installed as:
/// `isola-python-NAME.wasm` (so `"sci"` is `isola-python-sci.wasm`).
#[must_use]
pub fn named_runtime_file(name: &str) -> String {
    format!("isola-python-{name}.wasm")
}

/// Find the runtime component called `name` (e.g. `"sci"`): the file
/// [`named_runtime_file`] in `$ISOLA_RUNTIME_DIR` when that is set, else in
/// each of `dirs` in order (the C library passes its own directory). Only
/// looks at the file system; the component is read by
/// [`SandboxTemplateBuilder::build`](super::SandboxTemplateBuilder::build).
///
/// # Errors
/// [`Error::InvalidArgument`] when `name` is not made of ASCII letters,
/// digits, `-` and `_`, or when no searched directory holds the file (the
/// message lists the places searched).
pub fn find_named_runtime(name: &str, dirs: &[PathBuf]) -> Result<PathBuf> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::InvalidArgument(format!(
            "runtime name {name:?}: use letters, digits, '-' and '_' (e.g. \"sci\"), or give a path"
        )));
    }
    let file = named_runtime_file(name);
    let from_env = std::env::var_os(RUNTIME_DIR_ENV)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from);
    let searched: Vec<PathBuf> = from_env
        .into_iter()
        .chain(dirs.iter().cloned())
        .map(|d| d.join(&file))
        .collect();
    searched
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "runtime {name:?} not found: no {file} in {} (set ${RUNTIME_DIR_ENV} to the \
                 directory holding it)",
                if searched.is_empty() {
                    format!("any directory (${RUNTIME_DIR_ENV} is not set)")
                } else {
                    searched
                        .iter()
                        .map(|p| p.parent().unwrap_or(Path::new("")).display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_are_refused_before_any_lookup() {
        for name in ["", "../sci", "a/b", "sci.wasm", "s c"] {
            let err = find_named_runtime(name, &[]).unwrap_err();
            assert!(
                matches!(err, Error::InvalidArgument(ref m) if m.contains("runtime name")),
                "{name:?}: {err}"
            );
        }
    }

    #[test]
    fn a_name_resolves_in_the_given_directories_in_order() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::write(b.path().join("isola-python-sci.wasm"), b"x").unwrap();
        let dirs = [a.path().to_path_buf(), b.path().to_path_buf()];
        // $ISOLA_RUNTIME_DIR is not set in the unit-test process unless the
        // caller set it; then it is searched first and may hold the file.
        if std::env::var_os(RUNTIME_DIR_ENV).is_none() {
            assert_eq!(
                find_named_runtime("sci", &dirs).unwrap(),
                b.path().join("isola-python-sci.wasm")
            );
            let err = find_named_runtime("other", &dirs).unwrap_err().to_string();
            assert!(err.contains("isola-python-other.wasm"), "{err}");
            assert!(err.contains(&a.path().display().to_string()), "{err}");
        }
    }
}

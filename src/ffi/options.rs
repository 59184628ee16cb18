//! `isola_sandbox_options_t` and `isola_template_options_t`: settings
//! objects filled by setters, then passed to `isola_sandbox_new` /
//! `isola_template_new` (which copy them; the options may be freed after).

use std::{ffi::c_char, path::PathBuf, time::Duration};

use super::{
    args::{
        BoxedHandle, Castable, OwnedByBox, bytes, c_str, c_str_array, handle, handle_mut, opt_c_str,
    },
    error::{FfiError, isola_error_t},
    guard, guard_value,
};
use crate::sandbox::{FsPerms, SandboxOptions};

/// Mount mode: the guest may read files and list directories.
pub const ISOLA_MOUNT_READ_ONLY: u32 = 0;
/// Mount mode: the guest may also create, write and delete.
pub const ISOLA_MOUNT_READ_WRITE: u32 = 1;

/// Per-sandbox settings (memory, time, output caps, mounts, env). Not
/// thread-safe: fill it from one thread.
#[derive(Default, Clone)]
pub struct isola_sandbox_options_t {
    pub(crate) inner: SandboxOptions,
    pub(crate) host: Option<std::sync::Arc<super::host::CHost>>,
    /// Set on the defaults inside template options: that object is
    /// borrowed (`isola_template_options_defaults`), never freed on its own.
    borrowed: bool,
}

impl Castable for isola_sandbox_options_t {
    type Ownership = OwnedByBox;
}

/// Template settings: which runtime, the compile cache, the prelude, and
/// the default sandbox options.
pub struct isola_template_options_t {
    pub(crate) runtime_path: Option<PathBuf>,
    pub(crate) cache_dir: Option<Option<PathBuf>>,
    pub(crate) prelude: Option<String>,
    pub(crate) prelude_snapshot: bool,
    pub(crate) defaults: isola_sandbox_options_t,
}

impl Default for isola_template_options_t {
    fn default() -> Self {
        Self {
            runtime_path: None,
            cache_dir: None,
            prelude: None,
            prelude_snapshot: false,
            defaults: isola_sandbox_options_t {
                borrowed: true,
                ..isola_sandbox_options_t::default()
            },
        }
    }
}

impl Castable for isola_template_options_t {
    type Ownership = OwnedByBox;
}

/// Create empty sandbox options (every setting inherits the template's).
/// Free with `isola_sandbox_options_free`. Returns NULL only if allocation
/// fails.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_options_new() -> *mut isola_sandbox_options_t {
    guard_value(std::ptr::null_mut(), || {
        isola_sandbox_options_t::default().into_raw()
    })
}

/// Free sandbox options. NULL is ignored, and so are the template
/// defaults (`isola_template_options_defaults`), which belong to their
/// template options and are freed with them.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_options_free(options: *mut isola_sandbox_options_t) {
    guard_value((), || {
        if handle(options.cast_const(), "options").is_ok_and(|o| o.borrowed) {
            return;
        }
        isola_sandbox_options_t::free_raw(options);
    });
}

/// Cap the sandbox's memory at `bytes` (> 0). Allocation past it raises
/// Python `MemoryError`; the sandbox stays usable.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_options_set_max_memory(
    options: *mut isola_sandbox_options_t,
    bytes: u64,
) -> *mut isola_error_t {
    guard(|| {
        let options = handle_mut(options, "options")?;
        let bytes = positive_usize(bytes, "max memory")?;
        options.inner.max_memory(bytes);
        Ok(())
    })
}

/// Time limit of each eval or call in milliseconds; 0 removes the limit.
/// A call past it fails with `ISOLA_ERROR_TIMEOUT` and the sandbox must be
/// discarded.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_options_set_timeout_ms(
    options: *mut isola_sandbox_options_t,
    milliseconds: u64,
) -> *mut isola_error_t {
    guard(|| {
        let options = handle_mut(options, "options")?;
        options.inner.timeout(timeout_ms(milliseconds));
        Ok(())
    })
}

/// Cap one emitted value and one HTTP response body at `bytes` (> 0).
/// Default 16 MiB.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_options_set_max_value_bytes(
    options: *mut isola_sandbox_options_t,
    bytes: u64,
) -> *mut isola_error_t {
    guard(|| {
        let options = handle_mut(options, "options")?;
        options
            .inner
            .max_value_bytes(positive_usize(bytes, "max value bytes")?);
        Ok(())
    })
}

/// Cap everything one call emits (values, stdout, stderr, logs) at
/// `bytes` (> 0). Default 64 MiB.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_options_set_max_output_bytes(
    options: *mut isola_sandbox_options_t,
    bytes: u64,
) -> *mut isola_error_t {
    guard(|| {
        let options = handle_mut(options, "options")?;
        options
            .inner
            .max_output_bytes(positive_usize(bytes, "max output bytes")?);
        Ok(())
    })
}

/// Cap the bytes of file contents in the sandbox's in-memory scratch file
/// system (`/tmp`, `/home/user`); 0 removes the cap. Default 64 MiB. Past
/// it the guest gets `OSError(ENOSPC)` and `isola_sandbox_write_file`
/// fails with `ISOLA_ERROR_IO`; the sandbox carries on.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_options_set_max_scratch_bytes(
    options: *mut isola_sandbox_options_t,
    bytes: u64,
) -> *mut isola_error_t {
    guard(|| {
        handle_mut(options, "options")?
            .inner
            .max_scratch_bytes(bytes);
        Ok(())
    })
}

/// Cap the files and directories in the scratch file system; 0 removes
/// the cap. Default 4096. Past it creating one fails with `ENOSPC`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_options_set_max_scratch_files(
    options: *mut isola_sandbox_options_t,
    files: u64,
) -> *mut isola_error_t {
    guard(|| {
        handle_mut(options, "options")?
            .inner
            .max_scratch_files(files);
        Ok(())
    })
}

/// Cap the host files (inside mounts) the guest may hold open at once; 0
/// removes the per-sandbox cap (a process-wide cap of half the
/// `RLIMIT_NOFILE` soft limit still applies). Default 128.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_options_set_max_open_files(
    options: *mut isola_sandbox_options_t,
    files: u64,
) -> *mut isola_error_t {
    guard(|| {
        let files = usize::try_from(files)
            .map_err(|_| FfiError::invalid_argument("max open files does not fit in size_t"))?;
        handle_mut(options, "options")?.inner.max_open_files(files);
        Ok(())
    })
}

/// Make host directory `host_path` visible at absolute guest path
/// `guest_path`; `mode` is `ISOLA_MOUNT_READ_ONLY` or
/// `ISOLA_MOUNT_READ_WRITE`. A later mount at the same guest path replaces
/// an earlier one. The directory is opened when a sandbox is created.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_options_add_mount(
    options: *mut isola_sandbox_options_t,
    host_path: *const c_char,
    guest_path: *const c_char,
    mode: u32,
) -> *mut isola_error_t {
    guard(|| {
        let options = handle_mut(options, "options")?;
        let (host_path, guest_path) = mount_paths(host_path, guest_path)?;
        let perms = match mode {
            ISOLA_MOUNT_READ_ONLY => FsPerms::ReadOnly,
            ISOLA_MOUNT_READ_WRITE => FsPerms::ReadWrite,
            other => {
                return Err(FfiError::invalid_argument(format!(
                    "unknown mount mode {other}"
                )));
            }
        };
        options.inner.mount(host_path, guest_path, perms);
        Ok(())
    })
}

/// Mount host directory `host_path` read-write at absolute guest path
/// `guest_path` with a byte quota: the guest may add at most `quota_bytes`
/// to it (growth of the files it writes, less what it deletes); past that
/// its writes fail with `OSError(EDQUOT)` and the sandbox carries on.
/// Replaces an earlier mount at the same guest path, like
/// `isola_sandbox_options_add_mount`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_options_add_mount_with_quota(
    options: *mut isola_sandbox_options_t,
    host_path: *const c_char,
    guest_path: *const c_char,
    quota_bytes: u64,
) -> *mut isola_error_t {
    guard(|| {
        let options = handle_mut(options, "options")?;
        let (host_path, guest_path) = mount_paths(host_path, guest_path)?;
        options
            .inner
            .mount_with_quota(host_path, guest_path, quota_bytes);
        Ok(())
    })
}

/// The host and (absolute) guest path of a mount.
fn mount_paths<'a>(
    host_path: *const c_char,
    guest_path: *const c_char,
) -> Result<(&'a str, &'a str), FfiError> {
    let host_path = c_str(host_path, "host path")?;
    let guest_path = c_str(guest_path, "guest path")?;
    if !guest_path.starts_with('/') {
        return Err(FfiError::invalid_argument(format!(
            "guest path '{guest_path}' must be absolute"
        )));
    }
    Ok((host_path, guest_path))
}

/// Set environment variable `key` (non-empty, no `=`) to `value` in the
/// guest's `os.environ`. Setting a key again replaces its value.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_options_set_env(
    options: *mut isola_sandbox_options_t,
    key: *const c_char,
    value: *const c_char,
) -> *mut isola_error_t {
    guard(|| {
        let options = handle_mut(options, "options")?;
        let key = c_str(key, "key")?;
        let value = c_str(value, "value")?;
        if key.is_empty() || key.contains('=') {
            return Err(FfiError::invalid_argument(format!(
                "environment key '{key}' must be non-empty and contain no '='"
            )));
        }
        options.inner.env(key, value);
        Ok(())
    })
}

/// Give the guest `len` bytes at `data` as its standard input (descriptor
/// 0, `sys.stdin`, `input()`); after them it reads end-of-file. The bytes
/// are copied. They are read once over the sandbox's life, across calls.
/// Without this, stdin is empty. `data` may be NULL when `len` is 0 (an
/// explicitly empty stdin, e.g. to override template defaults).
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_options_set_stdin(
    options: *mut isola_sandbox_options_t,
    data: *const u8,
    len: usize,
) -> *mut isola_error_t {
    guard(|| {
        let options = handle_mut(options, "options")?;
        let data = bytes(data, len, "data")?;
        options.inner.stdin(bytes::Bytes::copy_from_slice(data));
        Ok(())
    })
}

/// Set the guest's command line, `sys.argv`: `argc` NUL-terminated UTF-8
/// strings at `argv`, `argv[0]` being the program (script) name, as a
/// native program's `main` gets them. The strings are copied; the caller
/// keeps ownership of `argv` and may free it after this returns. Without
/// this, `sys.argv` is `['sandbox']`. Set per sandbox, it replaces the
/// template default's whole list.
///
/// `ISOLA_ERROR_INVALID_ARGUMENT` (the options unchanged) when `argc` is 0
/// (Python always has `sys.argv[0]`), `argv` or one of its first `argc`
/// strings is NULL, or a string is not valid UTF-8; the message names the
/// index.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_options_set_argv(
    options: *mut isola_sandbox_options_t,
    argv: *const *const c_char,
    argc: usize,
) -> *mut isola_error_t {
    guard(|| {
        let options = handle_mut(options, "options")?;
        if argc == 0 {
            return Err(FfiError::invalid_argument(
                "argc is 0: argv must hold at least the program name (argv[0])",
            ));
        }
        let args = c_str_array(argv, argc, "argv")?;
        options.inner.argv(args).map_err(FfiError::from)?;
        Ok(())
    })
}

/// Create template options: embedded runtime, default cache directory, no
/// prelude. Free with `isola_template_options_free`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_template_options_new() -> *mut isola_template_options_t {
    guard_value(std::ptr::null_mut(), || {
        isola_template_options_t::default().into_raw()
    })
}

/// Free template options. NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn isola_template_options_free(options: *mut isola_template_options_t) {
    guard_value((), || isola_template_options_t::free_raw(options));
}

/// Use the runtime component at `path` instead of the embedded default
/// runtime; NULL goes back to the embedded one.
#[unsafe(no_mangle)]
pub extern "C" fn isola_template_options_set_runtime_path(
    options: *mut isola_template_options_t,
    path: *const c_char,
) -> *mut isola_error_t {
    guard(|| {
        let options = handle_mut(options, "options")?;
        options.runtime_path = opt_c_str(path, "runtime path")?.map(PathBuf::from);
        Ok(())
    })
}

/// Use the runtime component called `name`, installed as
/// `isola-python-NAME.wasm` beside the library: `"sci"` is the scientific
/// runtime (numpy; see the README for its size and load time). Looked up
/// now, in `$ISOLA_RUNTIME_DIR` if set, else in the directory holding
/// libisola (the executable's, when linked statically); the found path
/// replaces any runtime path set before. `ISOLA_ERROR_INVALID_ARGUMENT`
/// (listing where it looked) when `name` is malformed or no such file
/// exists; the options are unchanged then.
#[unsafe(no_mangle)]
pub extern "C" fn isola_template_options_set_runtime_name(
    options: *mut isola_template_options_t,
    name: *const c_char,
) -> *mut isola_error_t {
    guard(|| {
        let options = handle_mut(options, "options")?;
        let name = c_str(name, "runtime name")?;
        let dirs: Vec<PathBuf> = library_dir().into_iter().collect();
        let path = crate::sandbox::find_named_runtime(name, &dirs).map_err(FfiError::from)?;
        options.runtime_path = Some(path);
        Ok(())
    })
}

/// The directory of the file this library was loaded from (libisola.so, or
/// the executable it is linked into), as the dynamic loader reports it.
fn library_dir() -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut info = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    let address = isola_template_options_set_runtime_name as *const std::ffi::c_void;
    // SAFETY: `address` is a function of this library, and `info` is a
    // writable Dl_info that dladdr fills when it returns non-zero.
    let found = unsafe { libc::dladdr(address, info.as_mut_ptr()) };
    if found == 0 {
        return None;
    }
    // SAFETY: dladdr returned non-zero, so it initialised `info`.
    let info = unsafe { info.assume_init() };
    if info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the dynamic loader,
    // valid while this library is loaded (it is: this code is running).
    let file = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    let path = std::path::Path::new(std::ffi::OsStr::from_bytes(file.to_bytes()));
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    path.parent().map(std::path::Path::to_path_buf)
}

/// Cache compiled runtimes in `dir` (created if missing); NULL disables the
/// cache. Without this call: `$ISOLA_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/isola`, else `~/.cache/isola`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_template_options_set_cache_dir(
    options: *mut isola_template_options_t,
    dir: *const c_char,
) -> *mut isola_error_t {
    guard(|| {
        let options = handle_mut(options, "options")?;
        options.cache_dir = Some(opt_c_str(dir, "cache dir")?.map(PathBuf::from));
        Ok(())
    })
}

/// Python source run in every new sandbox before it is returned; the names
/// it defines are visible to guest code. NULL removes the prelude. See
/// `isola_template_options_set_prelude_snapshot` to run it once per
/// template instead.
#[unsafe(no_mangle)]
pub extern "C" fn isola_template_options_set_prelude(
    options: *mut isola_template_options_t,
    code: *const c_char,
) -> *mut isola_error_t {
    guard(|| {
        let options = handle_mut(options, "options")?;
        options.prelude = opt_c_str(code, "prelude")?.map(str::to_owned);
        Ok(())
    })
}

/// Whether to run the prelude once, when the template is built, and start
/// every sandbox of the template from a snapshot taken after it, instead
/// of running it in each new sandbox (default false). Sandboxes then see
/// what the prelude left in memory (modules, definitions, data) without
/// paying for it; each still gets its own environment variables and
/// `random` seed. The prelude runs with the template's default options.
///
/// With it, `isola_template_new` fails with the prelude's error
/// (`ISOLA_ERROR_GUEST_EXCEPTION`) when the prelude raises, and with
/// `ISOLA_ERROR_INVALID_ARGUMENT` when it leaves open files, unfinished
/// asyncio tasks, host call futures or files in the scratch file system
/// behind (files written to a mount are fine). The first build of a given
/// runtime, prelude and template settings compiles the runtime twice
/// (tens of seconds for the Python runtime); with a cache directory later
/// builds load the result from the cache, unless a host file the prelude
/// read through a mount changed since (then the prelude runs again).
#[unsafe(no_mangle)]
pub extern "C" fn isola_template_options_set_prelude_snapshot(
    options: *mut isola_template_options_t,
    enabled: bool,
) -> *mut isola_error_t {
    guard(|| {
        handle_mut(options, "options")?.prelude_snapshot = enabled;
        Ok(())
    })
}

/// The default sandbox options of the template, to fill with the
/// `isola_sandbox_options_set_*` functions. Borrowed: owned by `options`,
/// valid until it is freed; do not free it. NULL when `options` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn isola_template_options_defaults(
    options: *mut isola_template_options_t,
) -> *mut isola_sandbox_options_t {
    guard_value(std::ptr::null_mut(), || {
        handle_mut(options, "options").map_or(std::ptr::null_mut(), |o| &raw mut o.defaults)
    })
}

fn positive_usize(value: u64, what: &str) -> Result<usize, FfiError> {
    match usize::try_from(value) {
        Ok(0) => Err(FfiError::invalid_argument(format!(
            "{what} must be greater than 0"
        ))),
        Ok(v) => Ok(v),
        Err(_) => Err(FfiError::invalid_argument(format!(
            "{what} {value} is too large"
        ))),
    }
}

pub(crate) fn timeout_ms(milliseconds: u64) -> Option<Duration> {
    (milliseconds > 0).then(|| Duration::from_millis(milliseconds))
}

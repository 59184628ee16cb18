//! `isola_template_t`: a compiled runtime shared by many sandboxes.

use super::{
    args::{BoxedHandle, Castable, OwnedByBox, handle, write_out},
    error::{FfiError, isola_error_t},
    guard, guard_value,
    options::isola_template_options_t,
    runtime::block_on_with_runtime_if,
};
use crate::sandbox::SandboxTemplate;

/// A compiled Python runtime plus default options. Thread-safe: share one
/// template between all threads and create sandboxes from it concurrently.
pub struct isola_template_t {
    pub(crate) inner: SandboxTemplate,
    /// Host callbacks of sandboxes whose own options set none.
    pub(crate) default_host: Option<std::sync::Arc<super::host::CHost>>,
}

impl Castable for isola_template_t {
    type Ownership = OwnedByBox;
}

/// Build a template. `options` may be NULL (embedded default Python runtime,
/// default cache, no limits); it is copied and may be freed afterwards. On
/// success `*out` receives a template to free with `isola_template_free`.
/// The first build on a machine compiles the runtime (seconds); later
/// builds load the cached artifact (milliseconds).
#[unsafe(no_mangle)]
pub extern "C" fn isola_template_new(
    options: *const isola_template_options_t,
    out: *mut *mut isola_template_t,
) -> *mut isola_error_t {
    guard(|| {
        super::args::check_out(out, "out")?;
        let default_options = isola_template_options_t::default();
        let options = if options.is_null() {
            &default_options
        } else {
            handle(options, "options")?
        };
        let mut builder = SandboxTemplate::builder()
            .options(options.defaults.inner.clone())
            .prelude(options.prelude.clone())
            .prelude_snapshot(options.prelude_snapshot);
        if let Some(cache) = &options.cache_dir {
            builder = builder.cache(cache.clone());
        }
        // Only a prelude snapshot runs guest code while the template is
        // built; any other build needs no async runtime.
        let runs_guest = options.prelude_snapshot && options.prelude.is_some();
        let template = match &options.runtime_path {
            Some(path) => block_on_with_runtime_if(runs_guest, builder.build(path))?,
            None => build_embedded(runs_guest, builder)?,
        }
        .map_err(FfiError::from)?;
        let default_host = options.defaults.host.clone();
        write_out(
            out,
            isola_template_t {
                inner: template,
                default_host,
            }
            .into_raw(),
            "out",
        )
    })
}

#[cfg(feature = "embedded-runtime")]
fn build_embedded(
    runs_guest: bool,
    builder: crate::sandbox::SandboxTemplateBuilder,
) -> Result<crate::sandbox::Result<SandboxTemplate>, FfiError> {
    block_on_with_runtime_if(runs_guest, builder.build_embedded())
}

#[cfg(not(feature = "embedded-runtime"))]
fn build_embedded(
    _runs_guest: bool,
    _builder: crate::sandbox::SandboxTemplateBuilder,
) -> Result<crate::sandbox::Result<SandboxTemplate>, FfiError> {
    Err(FfiError::invalid_argument(
        "this libisola was built without the embedded runtime; set a runtime path",
    ))
}

/// Free a template. NULL is ignored. Sandboxes created from it stay valid
/// (they keep what they need alive).
#[unsafe(no_mangle)]
pub extern "C" fn isola_template_free(template: *mut isola_template_t) {
    guard_value((), || isola_template_t::free_raw(template));
}

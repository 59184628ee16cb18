//! Host bindings of `wasi:filesystem/{types,preopens}` with isola's own
//! descriptor types; `wasi:io` and `wasi:clocks` stay wasmtime-wasi's.

pub use super::wasi::{Descriptor, DirEntries, VfsError};

wasmtime::component::bindgen!({
    path: "wit",
    world: "wasi:filesystem/imports",
    imports: { default: trappable },
    trappable_error_type: {
        "wasi:filesystem/types.error-code" => VfsError,
    },
    with: {
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:filesystem/types.descriptor": Descriptor,
        "wasi:filesystem/types.directory-entry-stream": DirEntries,
    },
    require_store_data_send: true,
});

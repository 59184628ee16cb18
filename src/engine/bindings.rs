//! Rust bindings generated from `wit/` (world `sandbox`).

wasmtime::component::bindgen!({
    path: "wit",
    world: "sandbox",
    imports: { default: async | trappable },
    exports: { default: async },
    with: {
        "wasi": wasmtime_wasi::p2::bindings,
        "isola:sandbox/host.value-iterator": crate::engine::streams::ChunkStream,
        "isola:sandbox/host.hostcall-future": crate::engine::streams::HostcallFuture,
        "isola:sandbox/host.http-future": crate::engine::streams::HttpFuture,
    },
});

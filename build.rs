//! Build script: embeds the default Python runtime and regenerates
//! `include/isola.h` from `src/ffi` with cbindgen.

use std::{
    env,
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};

fn main() {
    let root =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    if env::var_os("CARGO_FEATURE_EMBEDDED_RUNTIME").is_some() {
        embed_runtime(&root);
    }
    generate_header(&root);
    set_soname();
}

/// Give the shared library a versioned SONAME, so programs linked against
/// it keep working across compatible updates and refuse incompatible
/// ones: `libisola.so.MAJOR`, and while the ABI is unstable (0.x, where a
/// minor release may break it) `libisola.so.0.MINOR`. CMakeLists.txt lays
/// out the library under the same rule.
fn set_soname() {
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets the version");
        let minor = env::var("CARGO_PKG_VERSION_MINOR").expect("cargo sets the version");
        let soname = if major == "0" {
            format!("libisola.so.0.{minor}")
        } else {
            format!("libisola.so.{major}")
        };
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
}

fn embed_runtime(root: &Path) {
    println!("cargo:rerun-if-env-changed=ISOLA_RUNTIME_WASM");
    let wasm = env::var_os("ISOLA_RUNTIME_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("runtime/python/out/isola-python.wasm"));
    println!("cargo:rerun-if-changed={}", wasm.display());
    let bytes = std::fs::read(&wasm).unwrap_or_else(|e| {
        panic!(
            "the default Python runtime {} is missing ({e}); build it first with `make runtime` \
             (or disable the `embedded-runtime` feature)",
            wasm.display()
        )
    });
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    println!("cargo:rustc-env=ISOLA_RUNTIME_WASM={}", wasm.display());
    println!("cargo:rustc-env=ISOLA_RUNTIME_SHA256={digest}");
}

fn generate_header(root: &Path) {
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("reading cbindgen.toml");
    let bindings = match cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => bindings,
        Err(e) => panic!("generating include/isola.h: {e}"),
    };
    // Only touches the file when the content changes, so builds stay incremental.
    bindings.write_to_file(root.join("include/isola.h"));
}

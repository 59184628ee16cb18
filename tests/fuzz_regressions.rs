//! Every stored fuzz input — the seed corpus (`fuzz/corpus/<target>/`) and
//! each former finding (`fuzz/regressions/<target>/`) — run through the fuzz
//! targets' own bodies on the stable toolchain. `make fuzz` (nightly,
//! cargo-fuzz) explores further from the same corpus.

#[path = "../fuzz/src/targets.rs"]
mod targets;

use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut count = 0;
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join(target)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            body(&std::fs::read(&path).unwrap());
            count += 1;
        }
    }
    assert!(count > 0, "no stored inputs for {target}");
}

#[test]
fn cbor_value_inputs() {
    replay("cbor_value", targets::cbor_value);
}

#[test]
fn json_value_inputs() {
    replay("json_value", targets::json_value);
}

#[test]
fn c_buffers_inputs() {
    replay("c_buffers", targets::c_buffers);
}

#[test]
fn sandbox_events_inputs() {
    replay("sandbox_events", targets::sandbox_events);
}

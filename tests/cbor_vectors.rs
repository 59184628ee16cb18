//! The guest CBOR codec and the host (ciborium) agree on shared vectors.

mod common;

use common::{eval, sandbox, text};
use isola::{Arg, Value};

/// `{"$bytes": "<hex>"}` in the vector file stands for a byte string, which
/// the host's JSON form spells as an array of numbers.
fn expand_bytes(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::Object(map) if map.len() == 1 && map.contains_key("$bytes") => J::Array(
            unhex(map["$bytes"].as_str().unwrap())
                .into_iter()
                .map(J::from)
                .collect(),
        ),
        J::Object(map) => J::Object(map.into_iter().map(|(k, v)| (k, expand_bytes(v))).collect()),
        J::Array(items) => J::Array(items.into_iter().map(expand_bytes).collect()),
        other => other,
    }
}

/// Vectors with a JSON form (the int-keyed map has none).
fn vectors() -> Vec<(String, serde_json::Value)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/runtime/python/tests/cbor_vectors.json"
    );
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let list = raw
        .as_array()
        .cloned()
        .or_else(|| raw["vectors"].as_array().cloned())
        .unwrap();
    list.into_iter()
        .filter(|v| v.get("python").is_none())
        .map(|v| {
            (
                v["hex"].as_str().unwrap().to_string(),
                expand_bytes(v["json"].clone()),
            )
        })
        .collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn host_decodes_every_vector_to_its_json() {
    let vectors = vectors();
    assert!(vectors.len() >= 15);
    for (hex, expected) in vectors {
        let value = Value::from_cbor(unhex(&hex)).unwrap_or_else(|e| panic!("{hex}: {e}"));
        let json = value.to_json().unwrap();
        // Compare as numbers where JSON may spell floats differently.
        assert_eq!(
            json.to_string(),
            Value::from_json(&expected)
                .unwrap()
                .to_json()
                .unwrap()
                .to_string(),
            "{hex}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn guest_echo_preserves_every_vector() {
    let mut sb = sandbox().await;
    eval(&mut sb, "def echo(v):\n    return v\n").await;
    for (hex, _) in vectors() {
        let value = Value::from_cbor(unhex(&hex)).unwrap();
        let out = sb
            .call("echo", [Arg::Positional(value.clone())])
            .await
            .unwrap();
        let back = out.result.unwrap();
        assert_eq!(text(&back), text(&value), "{hex}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_cbor_argument_is_refused_by_the_host() {
    assert!(Value::from_cbor(vec![0x9f, 0x01]).is_err());
    assert!(Value::from_cbor(vec![0xff]).is_err());
}

//! Values exchanged with the guest: CBOR bytes, with JSON conversions.
//!
//! A [`Value`] always holds one complete, well-formed CBOR data item. JSON
//! conversion goes through `ciborium::Value` so integers keep full precision
//! (bignums included) and byte strings survive as base64-free arrays only
//! when asked.

use ciborium::value::Value as Cbor;
use serde_json::Value as Json;

mod cbor;
mod json;

pub(crate) use cbor::{Event, Events};

/// Deepest nesting of arrays and maps in any value crossing the sandbox
/// boundary, in either direction: a value holds at most this many
/// containers inside each other. The guest codec
/// (`runtime/python/src/isola_guest/cbor.py`, `MAX_DEPTH`) enforces the
/// same number; the host refuses anything deeper with
/// [`ValueError::TooDeep`]. Every host-side walk of a value is iterative,
/// so the limit protects consumers of the value, not isola's own stack.
pub const MAX_DEPTH: usize = 100;

/// Largest magnitude of a CBOR bignum (tags 2 and 3), in bytes (integers
/// up to 2^8192). Decimal conversion is quadratic in this length, so it is
/// bounded like depth; the guest codec enforces the same number.
pub const MAX_BIGNUM_BYTES: usize = 1024;

/// Why a value could not be built or converted.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    /// The bytes are not one well-formed CBOR item of the supported data
    /// model (integers, bignums, floats, strings, arrays, maps, booleans,
    /// null).
    #[error("invalid CBOR: {0}")]
    InvalidCbor(String),
    /// The text is not valid JSON.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// The value has no JSON representation.
    #[error("value has no JSON representation: {0}")]
    NotJson(String),
    /// Nesting exceeds [`MAX_DEPTH`].
    #[error("value nested deeper than {MAX_DEPTH} levels of arrays and maps")]
    TooDeep,
}

/// One CBOR-encoded value (RFC 8949), the unit of data crossing the sandbox
/// boundary. Cheap to move; cloning copies the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Value {
    cbor: Vec<u8>,
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to_json_string() {
            Ok(json) => write!(f, "Value({json})"),
            Err(_) => write!(f, "Value(<{} CBOR bytes>)", self.cbor.len()),
        }
    }
}

impl Value {
    /// Wrap CBOR bytes after checking they hold exactly one well-formed item
    /// of the supported data model, nested at most [`MAX_DEPTH`] deep.
    ///
    /// # Errors
    /// [`ValueError::InvalidCbor`] when the bytes are malformed, use an
    /// unsupported tag or simple value, or have trailing data;
    /// [`ValueError::TooDeep`] for hostile nesting.
    pub fn from_cbor(bytes: impl Into<Vec<u8>>) -> Result<Self, ValueError> {
        let cbor = bytes.into();
        Events::new(&cbor).validate()?;
        Ok(Self { cbor })
    }

    /// Wrap bytes already validated (a slice of a validated value).
    fn from_validated(cbor: &[u8]) -> Self {
        Self {
            cbor: cbor.to_vec(),
        }
    }

    /// Parse JSON text into a value (without recursion; safe on small
    /// thread stacks).
    ///
    /// # Errors
    /// [`ValueError::InvalidJson`] for malformed text, [`ValueError::TooDeep`]
    /// for hostile nesting.
    pub fn from_json_str(json: &str) -> Result<Self, ValueError> {
        Ok(Self {
            cbor: json::to_cbor(json)?,
        })
    }

    /// Convert a parsed JSON value.
    ///
    /// # Errors
    /// [`ValueError::TooDeep`] for hostile nesting.
    pub fn from_json(json: &Json) -> Result<Self, ValueError> {
        Self::from_json_str(&json.to_string())
    }

    /// Encode a `ciborium` value.
    ///
    /// # Errors
    /// As [`Value::from_cbor`]: the value must fit the supported data model.
    pub fn from_cbor_value(value: &Cbor) -> Result<Self, ValueError> {
        let mut cbor = Vec::new();
        ciborium::into_writer(value, &mut cbor)
            .map_err(|e| ValueError::InvalidCbor(e.to_string()))?;
        Self::from_cbor(cbor)
    }

    /// The CBOR bytes.
    #[must_use]
    pub fn as_cbor(&self) -> &[u8] {
        &self.cbor
    }

    /// Take the CBOR bytes.
    #[must_use]
    pub fn into_cbor(self) -> Vec<u8> {
        self.cbor
    }

    /// Decode into a `ciborium` value.
    ///
    /// # Errors
    /// [`ValueError::InvalidCbor`] when the bytes are malformed.
    pub fn to_cbor_value(&self) -> Result<Cbor, ValueError> {
        Events::new(&self.cbor).validate()?;
        ciborium::de::from_reader_with_recursion_limit(self.cbor.as_slice(), MAX_DEPTH + 2)
            .map_err(|e| ValueError::InvalidCbor(e.to_string()))
    }

    /// Convert to a JSON value. Byte strings become arrays of numbers,
    /// non-string map keys become their JSON text, NaN and infinities
    /// become `null`; map order is kept.
    ///
    /// # Errors
    /// [`ValueError::InvalidCbor`] when the bytes are malformed.
    pub fn to_json(&self) -> Result<Json, ValueError> {
        serde_json::from_str(&self.to_json_string()?)
            .map_err(|e| ValueError::NotJson(e.to_string()))
    }

    /// Convert to compact JSON text (without recursion; safe on small
    /// thread stacks).
    ///
    /// # Errors
    /// As [`Value::to_json`].
    pub fn to_json_string(&self) -> Result<String, ValueError> {
        cbor::to_json_text(&self.cbor)
    }

    /// The elements of a top-level array, or `None` for another kind of value.
    ///
    /// # Errors
    /// [`ValueError::InvalidCbor`] when the bytes are malformed.
    pub fn array_items(&self) -> Result<Option<Vec<Value>>, ValueError> {
        Ok(cbor::children(&self.cbor, false)?
            .map(|items| items.into_iter().map(Self::from_validated).collect()))
    }

    /// The entries of a top-level map, in order, or `None` for another kind
    /// of value.
    ///
    /// # Errors
    /// [`ValueError::InvalidCbor`] when the bytes are malformed.
    pub fn map_entries(&self) -> Result<Option<Vec<(Value, Value)>>, ValueError> {
        Ok(cbor::children(&self.cbor, true)?.map(|items| {
            items
                .chunks_exact(2)
                .map(|kv| (Self::from_validated(kv[0]), Self::from_validated(kv[1])))
                .collect()
        }))
    }

    /// The text of a value that is a CBOR text string.
    #[must_use]
    pub fn as_text(&self) -> Option<String> {
        match Events::new(&self.cbor).next_event() {
            Ok(Some((_, Event::Text(text)))) => Some(text.into_owned()),
            _ => None,
        }
    }
}

/// Write a CBOR head in its shortest form (preferred serialization).
pub(crate) fn write_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let mt = major << 5;
    if n < 24 {
        out.push(mt | n as u8);
    } else if let Ok(n) = u8::try_from(n) {
        out.extend_from_slice(&[mt | 24, n]);
    } else if let Ok(n) = u16::try_from(n) {
        out.push(mt | 25);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = u32::try_from(n) {
        out.push(mt | 26);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(mt | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Encode a JSON number: 64-bit integers as CBOR integers, larger ones as
/// bignums, everything else as a float64.
fn write_json_number(out: &mut Vec<u8>, n: &serde_json::Number) -> Result<(), ValueError> {
    if let Some(u) = n.as_u64() {
        write_head(out, 0, u);
        return Ok(());
    }
    if let Some(i) = n.as_i64() {
        // Negative here: CBOR stores -1 - i.
        write_head(out, 1, (-1 - i128::from(i)) as u64);
        return Ok(());
    }
    let text = n.to_string();
    if !text.contains(['.', 'e', 'E']) {
        // An integer beyond 64 bits.
        let digits = text.trim_start_matches('-').len();
        if digits > MAX_BIGNUM_BYTES * 5 / 2 {
            return Err(ValueError::InvalidJson(format!(
                "integer of {digits} digits is larger than the supported 2^{}",
                MAX_BIGNUM_BYTES * 8
            )));
        }
        let (tag, magnitude) = big_integer_magnitude(&text);
        if magnitude.len() > MAX_BIGNUM_BYTES {
            return Err(ValueError::InvalidJson(format!(
                "integer larger than the supported 2^{}",
                MAX_BIGNUM_BYTES * 8
            )));
        }
        write_head(out, 6, tag);
        write_head(out, 2, magnitude.len() as u64);
        out.extend_from_slice(&magnitude);
        return Ok(());
    }
    let float = text
        .parse::<f64>()
        .map_err(|e| ValueError::InvalidJson(format!("number {text}: {e}")))?;
    out.push(0xfb);
    out.extend_from_slice(&float.to_be_bytes());
    Ok(())
}

/// The bignum tag (2, or 3 for negatives) and magnitude of an integer
/// outside the 64-bit range.
fn big_integer_magnitude(text: &str) -> (u64, Vec<u8>) {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut magnitude = decimal_to_be_bytes(digits);
    if negative {
        // CBOR negative bignums store -1 - n, i.e. magnitude - 1.
        decrement_be(&mut magnitude);
    }
    (if negative { 3 } else { 2 }, magnitude)
}

fn decimal_to_be_bytes(digits: &str) -> Vec<u8> {
    let mut out: Vec<u8> = vec![0];
    for d in digits.bytes().map(|b| u32::from(b - b'0')) {
        let mut carry = d;
        for byte in out.iter_mut().rev() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = (v & 0xff) as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            out.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    strip_leading_zeros(out)
}

fn decrement_be(bytes: &mut Vec<u8>) {
    for byte in bytes.iter_mut().rev() {
        if *byte > 0 {
            *byte -= 1;
            break;
        }
        *byte = 0xff;
    }
    let stripped = strip_leading_zeros(std::mem::take(bytes));
    *bytes = stripped;
}

fn strip_leading_zeros(bytes: Vec<u8>) -> Vec<u8> {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes[first..].to_vec()
}

fn be_bytes_to_decimal(bytes: &[u8]) -> String {
    let mut digits: Vec<u8> = vec![0]; // little-endian base-10 digits
    for byte in bytes {
        let mut carry = u32::from(*byte);
        for d in &mut digits {
            let v = u32::from(*d) * 256 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

fn increment_decimal(text: &str) -> String {
    let mut digits: Vec<u8> = text.bytes().map(|b| b - b'0').collect();
    let mut i = digits.len();
    loop {
        if i == 0 {
            digits.insert(0, 1);
            break;
        }
        i -= 1;
        if digits[i] == 9 {
            digits[i] = 0;
        } else {
            digits[i] += 1;
            break;
        }
    }
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(json: &str) -> String {
        Value::from_json_str(json)
            .unwrap()
            .to_json_string()
            .unwrap()
    }

    #[test]
    fn json_roundtrips_through_cbor() {
        assert_eq!(
            roundtrip(r#"{"a":[1,2.5,"x",null,true]}"#),
            r#"{"a":[1,2.5,"x",null,true]}"#
        );
        assert_eq!(roundtrip("-18446744073709551616"), "-18446744073709551616");
        assert_eq!(roundtrip("18446744073709551615"), "18446744073709551615");
        assert_eq!(
            roundtrip("123456789012345678901234567890"),
            "123456789012345678901234567890"
        );
        assert_eq!(
            roundtrip("-123456789012345678901234567890"),
            "-123456789012345678901234567890"
        );
    }

    #[test]
    fn big_integers_use_bignum_tags() {
        let v = Value::from_json_str("18446744073709551616").unwrap();
        assert_eq!(v.as_cbor(), &[0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn non_finite_floats_become_null_in_place() {
        let v = Value::from_cbor_value(&Cbor::Array(vec![
            Cbor::Integer(1.into()),
            Cbor::Float(f64::NAN),
            Cbor::Map(vec![
                (Cbor::Text("z".into()), Cbor::Float(f64::INFINITY)),
                (Cbor::Text("a".into()), Cbor::Null),
            ]),
        ]))
        .unwrap();
        assert_eq!(
            v.to_json_string().unwrap(),
            r#"[1,null,{"z":null,"a":null}]"#
        );
    }

    #[test]
    fn malformed_input_is_refused() {
        assert!(matches!(
            Value::from_cbor(vec![0x82, 0x01]),
            Err(ValueError::InvalidCbor(_))
        ));
        assert!(matches!(
            Value::from_cbor(vec![0x01, 0x02]),
            Err(ValueError::InvalidCbor(_))
        ));
        assert!(matches!(
            Value::from_json_str("[1,"),
            Err(ValueError::InvalidJson(_))
        ));
        let deep = "[".repeat(1000) + &"]".repeat(1000);
        assert!(Value::from_json_str(&deep).is_err());
    }

    fn nested_arrays(depth: usize) -> Vec<u8> {
        let mut bytes = vec![0x81; depth];
        bytes.push(0x01);
        bytes
    }

    #[test]
    fn depth_limit_is_exact_in_both_formats() {
        let ok = Value::from_cbor(nested_arrays(MAX_DEPTH)).unwrap();
        let json = ok.to_json_string().unwrap();
        assert_eq!(json, "[".repeat(MAX_DEPTH) + "1" + &"]".repeat(MAX_DEPTH));
        assert_eq!(Value::from_json_str(&json).unwrap(), ok);
        assert!(ok.to_json().is_ok());
        assert!(ok.to_cbor_value().is_ok());
        assert!(matches!(
            Value::from_cbor(nested_arrays(MAX_DEPTH + 1)),
            Err(ValueError::TooDeep)
        ));
        let deeper = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(matches!(
            Value::from_json_str(&deeper),
            Err(ValueError::TooDeep)
        ));
        let maps = "{\"a\":".repeat(MAX_DEPTH + 1) + "1" + &"}".repeat(MAX_DEPTH + 1);
        assert!(matches!(
            Value::from_json_str(&maps),
            Err(ValueError::TooDeep)
        ));
    }

    #[test]
    fn non_text_keys_become_their_json_text() {
        // {[1, {2: "x"}]: 3, 4: [5]}
        let v = Value::from_cbor(vec![
            0xa2, 0x82, 0x01, 0xa1, 0x02, 0x61, b'x', 0x03, 0x04, 0x81, 0x05,
        ])
        .unwrap();
        assert_eq!(
            v.to_json_string().unwrap(),
            r#"{"[1,{\"2\":\"x\"}]":3,"4":[5]}"#
        );
    }

    /// `{{…{0: 0}…: 0}: 0}`: `levels` maps, each the only key of the next.
    fn maps_as_keys(levels: usize) -> Value {
        let mut cbor = vec![0xa1; levels];
        cbor.extend(std::iter::repeat_n(0x00, levels + 1));
        Value::from_cbor(cbor).unwrap()
    }

    #[test]
    fn keys_nested_in_keys_cannot_blow_up_the_json_text() {
        // Three levels: each key is the JSON text of the map inside it.
        let json = maps_as_keys(3).to_json_string().unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        let (key, _) = parsed.as_object().unwrap().iter().next().unwrap();
        assert_eq!(key, r#"{"{\"0\":0}":0}"#);
        // Forty levels would double the escaping forty times (a fuzzing
        // find): refused at once instead.
        let err = maps_as_keys(40).to_json_string().unwrap_err();
        assert!(
            matches!(&err, ValueError::NotJson(m) if m.contains("nest so deeply")),
            "{err}"
        );
    }

    #[test]
    fn indefinite_lengths_are_read() {
        // [_ 1, {_ "a": h'0102'}, (_ "b", "c")]
        let v = Value::from_cbor(vec![
            0x9f, 0x01, 0xbf, 0x61, b'a', 0x42, 1, 2, 0xff, 0x7f, 0x61, b'b', 0x61, b'c', 0xff,
            0xff,
        ])
        .unwrap();
        assert_eq!(v.to_json_string().unwrap(), r#"[1,{"a":[1,2]},"bc"]"#);
        let items = v.array_items().unwrap().unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].to_json_string().unwrap(), r#"{"a":[1,2]}"#);
    }

    #[test]
    fn unsupported_cbor_is_refused() {
        for bad in [
            vec![0xc1, 0x01],                                           // tag 1 (epoch time)
            vec![0xc2, 0x01],                                           // bignum around an integer
            vec![0xe0],                                                 // simple value 0
            vec![0xbf, 0x01, 0xff],                                     // map key without value
            vec![0xff],                                                 // stray break
            vec![0x7f, 0x41, 0x00, 0xff], // byte chunk in a text string
            vec![0x62, 0xc3, 0x28],       // invalid UTF-8
            vec![0x1c],                   // reserved additional information
            vec![0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // huge length
        ] {
            assert!(
                matches!(
                    Value::from_cbor(bad.clone()),
                    Err(ValueError::InvalidCbor(_))
                ),
                "{bad:02x?}"
            );
        }
        let mut huge = vec![0xc2, 0x59, 0x04, 0x01];
        huge.extend(std::iter::repeat_n(0xff, MAX_BIGNUM_BYTES + 1));
        assert!(Value::from_cbor(huge).is_err());
        let big = "9".repeat(MAX_BIGNUM_BYTES * 3);
        assert!(matches!(
            Value::from_json_str(&big),
            Err(ValueError::InvalidJson(_))
        ));
    }

    #[test]
    fn malformed_json_is_refused() {
        for bad in [
            "",
            " ",
            "[",
            "]",
            "[1,]",
            "[1 2]",
            "{\"a\"}",
            "{\"a\":}",
            "{1:2}",
            "{\"a\":1,}",
            "[}",
            "{]",
            "nul",
            "01",
            "-",
            "1.",
            "\"\\x\"",
            "\"\u{1}\"",
            "\"\\ud800\"",
            "1 2",
            "[1]]",
            "\"abc",
        ] {
            assert!(
                matches!(Value::from_json_str(bad), Err(ValueError::InvalidJson(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            roundtrip(" { \"a\" : [ ] , \"b\" : { } , \"c\":\"\\u00e9\\n\" } "),
            r#"{"a":[],"b":{},"c":"é\n"}"#
        );
    }
}

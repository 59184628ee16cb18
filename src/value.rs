//! Values exchanged with the guest: CBOR bytes, with JSON conversions.
//!
//! A [`Value`] always holds one complete, well-formed CBOR data item. JSON
//! conversion goes through `ciborium::Value` so integers keep full precision
//! (bignums included) and byte strings survive as base64-free arrays only
//! when asked.

use ciborium::value::{Integer, Value as Cbor};
use serde_json::Value as Json;

/// Largest nesting depth accepted when converting values; deeper input is
/// refused instead of exhausting the host stack.
const MAX_DEPTH: usize = 512;

/// Why a value could not be built or converted.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    /// The bytes are not one well-formed CBOR item.
    #[error("invalid CBOR: {0}")]
    InvalidCbor(String),
    /// The text is not valid JSON.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// The value has no JSON form (for example a non-finite float or a tag).
    #[error("value has no JSON representation: {0}")]
    NotJson(String),
    /// Nesting exceeds the supported depth.
    #[error("value nesting deeper than {MAX_DEPTH} levels")]
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
    /// Wrap CBOR bytes after checking they hold exactly one well-formed item.
    ///
    /// # Errors
    /// [`ValueError::InvalidCbor`] when the bytes are malformed or have trailing data.
    pub fn from_cbor(bytes: impl Into<Vec<u8>>) -> Result<Self, ValueError> {
        let cbor = bytes.into();
        decode_one(&cbor)?;
        Ok(Self { cbor })
    }

    /// Wrap CBOR bytes produced by trusted code (the guest codec is checked
    /// again wherever the bytes are decoded).
    pub(crate) fn from_cbor_unchecked(cbor: Vec<u8>) -> Self {
        Self { cbor }
    }

    /// Parse JSON text into a value.
    ///
    /// # Errors
    /// [`ValueError::InvalidJson`] for malformed text, [`ValueError::TooDeep`]
    /// for hostile nesting.
    pub fn from_json_str(json: &str) -> Result<Self, ValueError> {
        let parsed: Json =
            serde_json::from_str(json).map_err(|e| ValueError::InvalidJson(e.to_string()))?;
        Self::from_json(&parsed)
    }

    /// Convert a parsed JSON value.
    ///
    /// # Errors
    /// [`ValueError::TooDeep`] for hostile nesting.
    pub fn from_json(json: &Json) -> Result<Self, ValueError> {
        let cbor = json_to_cbor(json, 0)?;
        Ok(Self::from_cbor_value(&cbor))
    }

    /// Encode a `ciborium` value.
    #[must_use]
    pub fn from_cbor_value(value: &Cbor) -> Self {
        let mut cbor = Vec::new();
        ciborium::into_writer(value, &mut cbor).expect("writing CBOR to a Vec cannot fail");
        Self { cbor }
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
        decode_one(&self.cbor)
    }

    /// Convert to a JSON value. Byte strings become arrays of numbers,
    /// non-string map keys become their JSON text, NaN and infinities
    /// become `null`; map order is kept.
    ///
    /// # Errors
    /// [`ValueError::NotJson`] for CBOR tags other than bignums.
    pub fn to_json(&self) -> Result<Json, ValueError> {
        cbor_to_json(&self.to_cbor_value()?, 0)
    }

    /// Convert to compact JSON text.
    ///
    /// # Errors
    /// As [`Value::to_json`].
    pub fn to_json_string(&self) -> Result<String, ValueError> {
        Ok(self.to_json()?.to_string())
    }
}

fn decode_one(bytes: &[u8]) -> Result<Cbor, ValueError> {
    let mut reader = bytes;
    let value: Cbor = ciborium::de::from_reader_with_recursion_limit(&mut reader, MAX_DEPTH)
        .map_err(|e| ValueError::InvalidCbor(e.to_string()))?;
    if !reader.is_empty() {
        return Err(ValueError::InvalidCbor(format!(
            "{} trailing bytes after the value",
            reader.len()
        )));
    }
    Ok(value)
}

fn json_to_cbor(json: &Json, depth: usize) -> Result<Cbor, ValueError> {
    if depth > MAX_DEPTH {
        return Err(ValueError::TooDeep);
    }
    Ok(match json {
        Json::Null => Cbor::Null,
        Json::Bool(b) => Cbor::Bool(*b),
        Json::Number(n) => json_number_to_cbor(n)?,
        Json::String(s) => Cbor::Text(s.clone()),
        Json::Array(items) => Cbor::Array(
            items
                .iter()
                .map(|item| json_to_cbor(item, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(map) => Cbor::Map(
            map.iter()
                .map(|(k, v)| Ok((Cbor::Text(k.clone()), json_to_cbor(v, depth + 1)?)))
                .collect::<Result<_, ValueError>>()?,
        ),
    })
}

fn json_number_to_cbor(n: &serde_json::Number) -> Result<Cbor, ValueError> {
    if let Some(i) = n.as_i64() {
        return Ok(Cbor::Integer(i.into()));
    }
    if let Some(u) = n.as_u64() {
        return Ok(Cbor::Integer(u.into()));
    }
    let text = n.to_string();
    let is_integer = !text.contains(['.', 'e', 'E']);
    if is_integer {
        return Ok(big_integer_to_cbor(&text));
    }
    text.parse::<f64>()
        .map(Cbor::Float)
        .map_err(|e| ValueError::InvalidJson(format!("number {text}: {e}")))
}

/// Encode an integer outside the 64-bit range as a CBOR bignum (tag 2 or 3).
fn big_integer_to_cbor(text: &str) -> Cbor {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut magnitude = decimal_to_be_bytes(digits);
    if negative {
        // CBOR negative bignums store -1 - n, i.e. magnitude - 1.
        decrement_be(&mut magnitude);
    }
    let tag = if negative { 3 } else { 2 };
    Cbor::Tag(tag, Box::new(Cbor::Bytes(magnitude)))
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

fn json_number_from_text(text: &str) -> Result<Json, ValueError> {
    serde_json::from_str::<Json>(text).map_err(|e| ValueError::NotJson(format!("{text}: {e}")))
}

fn cbor_to_json(value: &Cbor, depth: usize) -> Result<Json, ValueError> {
    if depth > MAX_DEPTH {
        return Err(ValueError::TooDeep);
    }
    Ok(match value {
        Cbor::Null => Json::Null,
        Cbor::Bool(b) => Json::Bool(*b),
        Cbor::Integer(i) => integer_to_json(*i)?,
        // JSON has no NaN or infinities: they become null where they stand.
        Cbor::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Cbor::Text(s) => Json::String(s.clone()),
        Cbor::Bytes(b) => Json::Array(b.iter().map(|x| Json::from(*x)).collect()),
        Cbor::Array(items) => Json::Array(
            items
                .iter()
                .map(|item| cbor_to_json(item, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Cbor::Map(entries) => {
            let mut map = serde_json::Map::with_capacity(entries.len());
            for (k, v) in entries {
                let key = match k {
                    Cbor::Text(s) => s.clone(),
                    other => cbor_to_json(other, depth + 1)?.to_string(),
                };
                map.insert(key, cbor_to_json(v, depth + 1)?);
            }
            Json::Object(map)
        }
        Cbor::Tag(tag @ (2 | 3), inner) => match inner.as_ref() {
            Cbor::Bytes(magnitude) => {
                let unsigned = be_bytes_to_decimal(magnitude);
                let text = if *tag == 2 {
                    unsigned
                } else {
                    format!("-{}", increment_decimal(&unsigned))
                };
                json_number_from_text(&text)?
            }
            _ => return Err(ValueError::NotJson(format!("malformed bignum tag {tag}"))),
        },
        Cbor::Tag(tag, _) => return Err(ValueError::NotJson(format!("CBOR tag {tag}"))),
        other => return Err(ValueError::NotJson(format!("{other:?}"))),
    })
}

fn integer_to_json(i: Integer) -> Result<Json, ValueError> {
    let wide = i128::from(i);
    if let Ok(small) = i64::try_from(wide) {
        return Ok(Json::from(small));
    }
    if let Ok(unsigned) = u64::try_from(wide) {
        return Ok(Json::from(unsigned));
    }
    json_number_from_text(&wide.to_string())
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
        ]));
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
}

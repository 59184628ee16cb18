//! An iterative reader of the CBOR data model isola exchanges with the
//! guest, and the CBOR → JSON text conversion built on it.
//!
//! Nothing here recurses: nesting lives in an explicit stack bounded by
//! [`MAX_DEPTH`], so a hostile value cannot exhaust the stack of whatever
//! host thread converts it (tests run these walks on 64 KiB threads).

use std::borrow::Cow;

use super::{MAX_BIGNUM_BYTES, MAX_DEPTH, ValueError};

/// Where an event sits in its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// The top-level value.
    Root,
    /// An array element; `first` for the first one.
    Item { first: bool },
    /// A map key; `first` for the first entry.
    Key { first: bool },
    /// A map value (always after its key).
    Value,
}

/// One step of a walk over a CBOR value, in document order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event<'a> {
    /// An unsigned integer.
    Uint(u64),
    /// The negative integer `-1 - n`.
    Nint(u64),
    /// A bignum (tag 2, or tag 3 for `-1 - magnitude`), big-endian magnitude.
    Bignum {
        negative: bool,
        magnitude: Cow<'a, [u8]>,
    },
    /// Any float, widened to f64.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `null` or `undefined`.
    Null,
    /// A byte string.
    Bytes(Cow<'a, [u8]>),
    /// A text string (valid UTF-8).
    Text(Cow<'a, str>),
    /// The start of an array; its items follow, then [`Event::End`].
    ArrayStart,
    /// The start of a map; keys and values alternate, then [`Event::End`].
    MapStart,
    /// The end of the innermost open array (`map: false`) or map.
    End { map: bool },
}

struct Frame {
    map: bool,
    /// Items (keys and values for maps) still to read; `None` until a break.
    left: Option<u64>,
    /// Items read so far.
    seen: u64,
}

/// Reads one CBOR value as a flat sequence of [`Event`]s.
pub(crate) struct Events<'a> {
    bytes: &'a [u8],
    pos: usize,
    item_start: usize,
    stack: Vec<Frame>,
    started: bool,
}

impl<'a> Events<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            item_start: 0,
            stack: Vec::new(),
            started: false,
        }
    }

    /// Bytes consumed so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Offset where the item of the last non-`End` event began.
    pub(crate) fn item_start(&self) -> usize {
        self.item_start
    }

    /// The next event, or `None` after the top-level value is complete.
    pub(crate) fn next_event(&mut self) -> Result<Option<(Slot, Event<'a>)>, ValueError> {
        let slot = match self.stack.last_mut() {
            None if self.started => return Ok(None),
            None => {
                self.started = true;
                Slot::Root
            }
            Some(frame) => {
                let ended = match frame.left {
                    Some(left) => left == 0,
                    None => self.bytes.get(self.pos) == Some(&0xff),
                };
                if ended {
                    if frame.left.is_none() {
                        if frame.map && frame.seen % 2 == 1 {
                            return Err(invalid(self.pos, "map key without a value"));
                        }
                        self.pos += 1;
                    }
                    let map = frame.map;
                    self.stack.pop();
                    return Ok(Some((Slot::Root, Event::End { map })));
                }
                if let Some(left) = &mut frame.left {
                    *left -= 1;
                }
                frame.seen += 1;
                let first = frame.seen <= 2;
                match (frame.map, frame.seen % 2 == 1) {
                    (false, _) => Slot::Item {
                        first: frame.seen == 1,
                    },
                    (true, true) => Slot::Key { first },
                    (true, false) => Slot::Value,
                }
            }
        };
        self.item_start = self.pos;
        let event = self.item()?;
        Ok(Some((slot, event)))
    }

    /// Walk to the end; `Ok` when the bytes hold exactly one valid value.
    pub(crate) fn validate(mut self) -> Result<(), ValueError> {
        while self.next_event()?.is_some() {}
        self.finish()
    }

    /// Fail when bytes remain after the value.
    pub(crate) fn finish(&self) -> Result<(), ValueError> {
        let trailing = self.bytes.len() - self.pos;
        if trailing > 0 {
            return Err(ValueError::InvalidCbor(format!(
                "{trailing} trailing bytes after the value"
            )));
        }
        Ok(())
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], ValueError> {
        let available = self.bytes.len() - self.pos;
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n <= available)
            .ok_or_else(|| invalid(self.pos, "truncated input"))?;
        let chunk = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(chunk)
    }

    fn byte(&mut self) -> Result<u8, ValueError> {
        Ok(self.take(1)?[0])
    }

    /// The argument of a head with additional information `info`
    /// (`None` for the indefinite marker 31).
    fn argument(&mut self, info: u8) -> Result<Option<u64>, ValueError> {
        let width = match info {
            0..=23 => return Ok(Some(u64::from(info))),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            31 => return Ok(None),
            _ => return Err(invalid(self.pos - 1, "reserved additional information")),
        };
        let raw = self.take(width)?;
        Ok(Some(raw.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b))))
    }

    fn definite(&mut self, info: u8, what: &str) -> Result<u64, ValueError> {
        self.argument(info)?
            .ok_or_else(|| invalid(self.pos - 1, &format!("indefinite length for {what}")))
    }

    fn item(&mut self) -> Result<Event<'a>, ValueError> {
        let at = self.pos;
        let initial = self.byte()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        match major {
            0 => Ok(Event::Uint(self.definite(info, "an integer")?)),
            1 => Ok(Event::Nint(self.definite(info, "an integer")?)),
            2 => Ok(Event::Bytes(self.string(2, info)?)),
            3 => {
                let raw = self.string(3, info)?;
                let text = match raw {
                    Cow::Borrowed(b) => Cow::Borrowed(utf8(b, at)?),
                    Cow::Owned(b) => Cow::Owned(
                        String::from_utf8(b).map_err(|_| invalid(at, "text is not UTF-8"))?,
                    ),
                };
                Ok(Event::Text(text))
            }
            4 | 5 => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(ValueError::TooDeep);
                }
                let map = major == 5;
                let left = match self.argument(info)? {
                    Some(n) if map => Some(
                        n.checked_mul(2)
                            .ok_or_else(|| invalid(at, "map length overflows"))?,
                    ),
                    other => other,
                };
                self.stack.push(Frame { map, left, seen: 0 });
                Ok(if map {
                    Event::MapStart
                } else {
                    Event::ArrayStart
                })
            }
            6 => {
                let tag = self.definite(info, "a tag")?;
                if tag != 2 && tag != 3 {
                    return Err(invalid(at, &format!("unsupported tag {tag}")));
                }
                let inner = self.pos;
                let head = self.byte()?;
                if head >> 5 != 2 {
                    return Err(invalid(inner, "a bignum tag must wrap a byte string"));
                }
                let magnitude = self.string(2, head & 0x1f)?;
                if magnitude.len() > MAX_BIGNUM_BYTES {
                    return Err(invalid(
                        at,
                        &format!("bignum longer than {MAX_BIGNUM_BYTES} bytes"),
                    ));
                }
                Ok(Event::Bignum {
                    negative: tag == 3,
                    magnitude,
                })
            }
            _ => self.simple(info, at),
        }
    }

    fn simple(&mut self, info: u8, at: usize) -> Result<Event<'a>, ValueError> {
        Ok(match info {
            20 => Event::Bool(false),
            21 => Event::Bool(true),
            22 | 23 => Event::Null,
            25 => {
                let raw = self.take(2)?;
                Event::Float(f16_to_f64(u16::from_be_bytes([raw[0], raw[1]])))
            }
            26 => {
                let raw = self.take(4)?;
                Event::Float(f64::from(f32::from_be_bytes([
                    raw[0], raw[1], raw[2], raw[3],
                ])))
            }
            27 => {
                let raw = self.take(8)?;
                let mut b = [0u8; 8];
                b.copy_from_slice(raw);
                Event::Float(f64::from_be_bytes(b))
            }
            31 => return Err(invalid(at, "unexpected break")),
            other => {
                return Err(invalid(
                    at,
                    &format!("unsupported simple value (additional information {other})"),
                ));
            }
        })
    }

    /// A byte or text string's bytes; indefinite strings are joined.
    fn string(&mut self, major: u8, info: u8) -> Result<Cow<'a, [u8]>, ValueError> {
        if let Some(len) = self.argument(info)? {
            return Ok(Cow::Borrowed(self.take(len)?));
        }
        let mut joined = Vec::new();
        loop {
            let at = self.pos;
            let head = self.byte()?;
            if head == 0xff {
                return Ok(Cow::Owned(joined));
            }
            if head >> 5 != major || head & 0x1f == 31 {
                return Err(invalid(at, "invalid chunk in an indefinite-length string"));
            }
            let len = self.definite(head & 0x1f, "a string chunk")?;
            let chunk = self.take(len)?;
            if major == 3 {
                utf8(chunk, at)?;
            }
            joined.extend_from_slice(chunk);
        }
    }
}

fn utf8(bytes: &[u8], at: usize) -> Result<&str, ValueError> {
    std::str::from_utf8(bytes).map_err(|_| invalid(at, "text is not UTF-8"))
}

fn invalid(at: usize, what: &str) -> ValueError {
    ValueError::InvalidCbor(format!("{what} at offset {at}"))
}

/// IEEE 754 half precision to f64.
fn f16_to_f64(half: u16) -> f64 {
    let sign = if half & 0x8000 == 0 { 1.0 } else { -1.0 };
    let exponent = i32::from((half >> 10) & 0x1f);
    let fraction = f64::from(half & 0x3ff);
    sign * match exponent {
        0 => fraction * 2f64.powi(-24),
        31 if fraction == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + fraction / 1024.0) * 2f64.powi(e - 15),
    }
}

/// Most bytes of JSON text per byte of CBOR (plus [`JSON_SLACK`]) that
/// [`to_json_text`] writes. Ordinary values stay well below (at most about
/// 8: `false,` for `0xf4`, a half float's digits, `\u0001` for a control
/// character, escaped once more inside a non-text key). Only non-text keys
/// nested inside non-text keys grow faster: every level escapes the quotes
/// and backslashes of the one inside again, doubling them, so a value of a
/// hundred bytes could otherwise spell gigabytes of JSON.
const JSON_EXPANSION: usize = 16;
/// Bytes of JSON text any value may take beyond its [`JSON_EXPANSION`] share.
const JSON_SLACK: usize = 1024;

/// Convert one CBOR value to compact JSON text without recursion.
pub(crate) fn to_json_text(bytes: &[u8]) -> Result<String, ValueError> {
    let limit = bytes
        .len()
        .saturating_mul(JSON_EXPANSION)
        .saturating_add(JSON_SLACK);
    let mut events = Events::new(bytes);
    let mut out = String::new();
    // Non-text map keys become the JSON text of the key: their output goes to
    // a fresh buffer, turned into a JSON string once the key is complete.
    let mut captures: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    while let Some((slot, event)) = events.next_event()? {
        match slot {
            Slot::Item { first: false } | Slot::Key { first: false } => out.push(','),
            Slot::Value => out.push(':'),
            _ => {}
        }
        if matches!(slot, Slot::Key { .. }) {
            if let Event::Text(key) = &event {
                push_json_string(&mut out, key);
                continue;
            }
            captures.push((std::mem::take(&mut out), depth));
        }
        match event {
            Event::ArrayStart => {
                out.push('[');
                depth += 1;
                continue;
            }
            Event::MapStart => {
                out.push('{');
                depth += 1;
                continue;
            }
            Event::End { map } => {
                out.push(if map { '}' } else { ']' });
                depth -= 1;
            }
            scalar => push_json_scalar(&mut out, scalar),
        }
        if captures.last().is_some_and(|(_, at)| *at == depth) {
            let (outer, _) = captures.pop().expect("checked above");
            let key = std::mem::replace(&mut out, outer);
            push_json_string(&mut out, &key);
            // Only escaping a key can grow the text faster than the input.
            if out.len() > limit {
                return Err(ValueError::NotJson(format!(
                    "non-text map keys nest so deeply that the JSON text would exceed \
                     {JSON_EXPANSION} times the value's {} bytes",
                    bytes.len()
                )));
            }
        }
    }
    events.finish()?;
    Ok(out)
}

fn push_json_string(out: &mut String, text: &str) {
    out.push_str(&serde_json::to_string(text).expect("a string always serializes"));
}

fn push_json_scalar(out: &mut String, event: Event<'_>) {
    use std::fmt::Write;
    match event {
        Event::Uint(n) => write!(out, "{n}").expect("writing to a String"),
        Event::Nint(n) => write!(out, "{}", -1 - i128::from(n)).expect("writing to a String"),
        Event::Bignum {
            negative,
            magnitude,
        } => {
            let unsigned = super::be_bytes_to_decimal(&magnitude);
            if negative {
                out.push('-');
                out.push_str(&super::increment_decimal(&unsigned));
            } else {
                out.push_str(&unsigned);
            }
        }
        // JSON has no NaN or infinities: they become null where they stand.
        Event::Float(f) => match serde_json::Number::from_f64(f) {
            Some(n) => out.push_str(&n.to_string()),
            None => out.push_str("null"),
        },
        Event::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Event::Null => out.push_str("null"),
        Event::Bytes(bytes) => {
            out.push('[');
            for (i, b) in bytes.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write!(out, "{b}").expect("writing to a String");
            }
            out.push(']');
        }
        Event::Text(text) => push_json_string(out, &text),
        Event::ArrayStart | Event::MapStart | Event::End { .. } => {
            unreachable!("containers are handled by the caller")
        }
    }
}

/// The byte ranges of the direct children of a top-level array (`map:
/// false`) or map (keys and values alternate); `None` when the value is
/// something else.
pub(crate) fn children(bytes: &[u8], map: bool) -> Result<Option<Vec<&[u8]>>, ValueError> {
    let mut events = Events::new(bytes);
    match events.next_event()? {
        Some((_, Event::MapStart)) if map => {}
        Some((_, Event::ArrayStart)) if !map => {}
        _ => {
            events.validate()?;
            return Ok(None);
        }
    }
    let mut children = Vec::new();
    let mut depth = 1usize;
    let mut start = 0usize;
    while let Some((_, event)) = events.next_event()? {
        match event {
            Event::ArrayStart | Event::MapStart => {
                if depth == 1 {
                    start = events.item_start();
                }
                depth += 1;
            }
            Event::End { .. } => {
                depth -= 1;
                if depth == 1 {
                    children.push(&bytes[start..events.pos()]);
                }
            }
            _ if depth == 1 => children.push(&bytes[events.item_start()..events.pos()]),
            _ => {}
        }
    }
    events.finish()?;
    Ok(Some(children))
}

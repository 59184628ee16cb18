//! JSON text → CBOR without recursion: one pass tokenizes and checks the
//! grammar with an explicit stack bounded by [`MAX_DEPTH`], recording each
//! container's length; a second pass writes definite-length CBOR.
//! Scalars are decoded by `serde_json` (escapes, surrogates, numbers).

use std::borrow::Cow;

use super::{MAX_DEPTH, ValueError};

enum Token<'a> {
    Open { map: bool, len: u64 },
    Text(Cow<'a, str>),
    Number(&'a str),
    Bool(bool),
    Null,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Value,
    ValueOrEnd,
    Key,
    KeyOrEnd,
    Colon,
    CommaOrEnd,
    Nothing,
}

/// Convert JSON text to one CBOR value.
pub(crate) fn to_cbor(text: &str) -> Result<Vec<u8>, ValueError> {
    let tokens = tokenize(text)?;
    let mut out = Vec::with_capacity(text.len());
    for token in tokens {
        match token {
            Token::Open { map, len } => super::write_head(&mut out, if map { 5 } else { 4 }, len),
            Token::Text(s) => {
                super::write_head(&mut out, 3, s.len() as u64);
                out.extend_from_slice(s.as_bytes());
            }
            Token::Number(raw) => {
                let n: serde_json::Number = serde_json::from_str(raw)
                    .map_err(|e| ValueError::InvalidJson(format!("number {raw}: {e}")))?;
                super::write_json_number(&mut out, &n)?;
            }
            Token::Bool(b) => out.push(if b { 0xf5 } else { 0xf4 }),
            Token::Null => out.push(0xf6),
        }
    }
    Ok(out)
}

fn tokenize(text: &str) -> Result<Vec<Token<'_>>, ValueError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    // Open containers: index of their token and whether they are maps.
    let mut stack: Vec<(usize, bool)> = Vec::new();
    let mut expect = Expect::Value;
    let mut pos = 0usize;
    loop {
        while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t' | b'\n' | b'\r') {
            pos += 1;
        }
        let Some(&c) = bytes.get(pos) else { break };
        let at = pos;
        match expect {
            Expect::Nothing => return Err(bad(at, "trailing characters after the value")),
            Expect::Colon if c == b':' => {
                pos += 1;
                expect = Expect::Value;
            }
            Expect::Colon => return Err(bad(at, "expected ':'")),
            Expect::CommaOrEnd if c == b',' => {
                pos += 1;
                let map = stack.last().is_some_and(|(_, map)| *map);
                expect = if map { Expect::Key } else { Expect::Value };
            }
            Expect::CommaOrEnd | Expect::ValueOrEnd | Expect::KeyOrEnd
                if (c == b']' || c == b'}') && expect != Expect::Key =>
            {
                let closes_map = c == b'}';
                match stack.pop() {
                    Some((_, map)) if map == closes_map => {}
                    _ => return Err(bad(at, &format!("unexpected '{}'", char::from(c)))),
                }
                if expect == Expect::ValueOrEnd && closes_map
                    || expect == Expect::KeyOrEnd && !closes_map
                {
                    return Err(bad(at, &format!("unexpected '{}'", char::from(c))));
                }
                pos += 1;
                expect = if stack.is_empty() {
                    Expect::Nothing
                } else {
                    Expect::CommaOrEnd
                };
            }
            Expect::CommaOrEnd => return Err(bad(at, "expected ',' or the end of a container")),
            Expect::Key | Expect::KeyOrEnd => {
                if c != b'"' {
                    return Err(bad(at, "expected a string key"));
                }
                let (token, end) = string(text, at)?;
                tokens.push(token);
                count(&mut tokens, &stack);
                pos = end;
                expect = Expect::Colon;
            }
            Expect::Value | Expect::ValueOrEnd => {
                if let Some(&(_, false)) = stack.last() {
                    count(&mut tokens, &stack);
                }
                let (token, end) = match c {
                    b'[' | b'{' => {
                        if stack.len() >= MAX_DEPTH {
                            return Err(ValueError::TooDeep);
                        }
                        let map = c == b'{';
                        stack.push((tokens.len(), map));
                        tokens.push(Token::Open { map, len: 0 });
                        pos += 1;
                        expect = if map {
                            Expect::KeyOrEnd
                        } else {
                            Expect::ValueOrEnd
                        };
                        continue;
                    }
                    b'"' => string(text, at)?,
                    b'-' | b'0'..=b'9' => {
                        let end = bytes[at..]
                            .iter()
                            .position(|b| {
                                !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                            })
                            .map_or(bytes.len(), |n| at + n);
                        (Token::Number(&text[at..end]), end)
                    }
                    _ => literal(bytes, at)?,
                };
                tokens.push(token);
                pos = end;
                expect = if stack.is_empty() {
                    Expect::Nothing
                } else {
                    Expect::CommaOrEnd
                };
            }
        }
    }
    match expect {
        Expect::Nothing => Ok(tokens),
        _ if tokens.is_empty() => Err(bad(pos, "expected a value")),
        _ => Err(bad(pos, "unexpected end of input")),
    }
}

/// Count one more element (array item or map key) in the open container.
fn count(tokens: &mut [Token<'_>], stack: &[(usize, bool)]) {
    if let Some(&(index, _)) = stack.last()
        && let Token::Open { len, .. } = &mut tokens[index]
    {
        *len += 1;
    }
}

/// The string starting at `at` (a `"`) and the offset after it.
fn string(text: &str, at: usize) -> Result<(Token<'_>, usize), ValueError> {
    let bytes = text.as_bytes();
    let mut i = at + 1;
    let mut plain = true;
    loop {
        match bytes.get(i) {
            None => return Err(bad(at, "unterminated string")),
            Some(b'"') => break,
            Some(b'\\') => {
                plain = false;
                i += 2;
            }
            Some(b) => {
                plain &= *b >= 0x20;
                i += 1;
            }
        }
    }
    let raw = &text[at..=i];
    let value = if plain {
        Cow::Borrowed(&text[at + 1..i])
    } else {
        Cow::Owned(
            serde_json::from_str::<String>(raw)
                .map_err(|e| bad(at, &format!("invalid string ({e})")))?,
        )
    };
    Ok((Token::Text(value), i + 1))
}

fn literal(bytes: &[u8], at: usize) -> Result<(Token<'static>, usize), ValueError> {
    for (word, token) in [
        (&b"true"[..], Token::Bool(true)),
        (b"false", Token::Bool(false)),
        (b"null", Token::Null),
    ] {
        if bytes[at..].starts_with(word) {
            return Ok((token, at + word.len()));
        }
    }
    Err(bad(at, "expected a value"))
}

fn bad(at: usize, what: &str) -> ValueError {
    ValueError::InvalidJson(format!("{what} at offset {at}"))
}

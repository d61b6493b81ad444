//! JSON made readable without changing a byte of its values: the tokens of the text as received,
//! re-indented. Parsing into numbers and maps would turn `12.50` into `12.5`, a 23-digit account
//! number into `1.2345678901234568e+22` and sort the keys — for a gateway of financial webhooks,
//! a view that lies. Here every string and number is copied as it was sent, keys stay in their
//! order (duplicates too), and only the whitespace between tokens changes.

/// `text` indented by two spaces per level, or `None` when it is not one valid JSON value.
pub fn reindent(text: &str) -> Option<String> {
    // Validity first, by serde_json's parser (trailing data, bad escapes, `01`, `NaN`: refused),
    // so the walk below can trust the token boundaries.
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                let next = next_token(bytes, i + 1);
                if bytes.get(next) == Some(&close) {
                    // An empty container stays on one line.
                    out.push(char::from(open));
                    out.push(char::from(close));
                    i = next + 1;
                } else {
                    out.push(char::from(open));
                    depth += 1;
                    newline(&mut out, depth);
                    i += 1;
                }
            }
            close @ (b'}' | b']') => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(char::from(close));
                i += 1;
            }
            b',' => {
                out.push(',');
                newline(&mut out, depth);
                i += 1;
            }
            b':' => {
                out.push_str(": ");
                i += 1;
            }
            b'"' => {
                let end = string_end(bytes, i);
                out.push_str(&text[i..end]);
                i = end;
            }
            _ => {
                // A number or a literal: up to the next structural character or whitespace.
                let end = bytes[i..]
                    .iter()
                    .position(|b| matches!(b, b',' | b']' | b'}' | b':' | b' ' | b'\t' | b'\n' | b'\r'))
                    .map_or(bytes.len(), |p| i + p);
                out.push_str(&text[i..end]);
                i = end;
            }
        }
    }
    Some(out)
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// The index of the first byte that is not JSON whitespace, from `i`.
fn next_token(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The index just past the string starting at `start` (its opening quote).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::reindent;

    #[test]
    fn digits_and_key_order_are_kept() {
        let body = r#"{"Amount":12.50,"AccountNumber":12345678901234567890123,"b":1,"a":2,"e":1E400,"z":-0.0}"#;
        assert_eq!(
            reindent(body).unwrap(),
            "{\n  \"Amount\": 12.50,\n  \"AccountNumber\": 12345678901234567890123,\n  \"b\": 1,\n  \"a\": 2,\n  \"e\": 1E400,\n  \"z\": -0.0\n}"
        );
    }

    #[test]
    fn strings_duplicates_and_nesting_as_received() {
        let body = "{ \"s\" : \"a\\\"b,c:{}[]\\u00e9\\\\\" , \"s\" : [ ] , \"o\" : { } , \"l\" : [1,[true,null],{\"k\":\"v\"}] }";
        assert_eq!(
            reindent(body).unwrap(),
            "{\n  \"s\": \"a\\\"b,c:{}[]\\u00e9\\\\\",\n  \"s\": [],\n  \"o\": {},\n  \"l\": [\n    1,\n    [\n      true,\n      null\n    ],\n    {\n      \"k\": \"v\"\n    }\n  ]\n}"
        );
        assert_eq!(reindent(" 12.50 \n").unwrap(), "12.50");
        assert_eq!(reindent("\"x\"").unwrap(), "\"x\"");
    }

    #[test]
    fn what_is_not_json_is_refused() {
        for bad in ["", "{\"a\":}", "[1,]", "{\"a\":1} x", "01", "NaN", "\"open", "{\"a\" 1}", "[1 2]", "\u{1b}[31m"] {
            assert_eq!(reindent(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn reindenting_twice_changes_nothing() {
        let once = reindent(r#"{"a":[1,2,{"b":"c"}],"d":{}}"#).unwrap();
        assert_eq!(reindent(&once).unwrap(), once);
    }
}

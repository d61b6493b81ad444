//! A JSON document read with its key order and number text kept, and written back the ways
//! common serializers write it (compact, pretty, Python's separators, sorted keys, `\u` escapes).
//!
//! `serde_json::Value` would sort keys (without `preserve_order`, which would change the whole
//! workspace's maps) and reformat numbers, so the body's own re-serializations could not be
//! reproduced with it. This reader is bounded (depth, input size checked by the caller) and
//! never panics; anything it cannot read is simply not JSON for diagnosis.

/// A JSON value, in document order.
#[derive(Debug)]
pub(super) enum Node {
    Null,
    Bool(bool),
    /// The number exactly as written (serializers in every language keep integers as they are).
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

/// Deeper documents are not diagnosed (no provider nests this deep; the bound keeps the
/// recursion's stack small).
const MAX_DEPTH: usize = 64;

/// Reads a whole document (surrounding whitespace allowed, nothing after it).
pub(super) fn parse(text: &str) -> Option<Node> {
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    p.ws();
    let node = p.value(0)?;
    p.ws();
    (p.i == p.s.len()).then_some(node)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.s.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        match *self.s.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut fields = Vec::new();
                self.ws();
                if self.eat(b'}').is_some() {
                    return Some(Node::Object(fields));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    fields.push((key, self.value(depth + 1)?));
                    self.ws();
                    if self.eat(b'}').is_some() {
                        return Some(Node::Object(fields));
                    }
                    self.eat(b',')?;
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat(b']').is_some() {
                    return Some(Node::Array(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat(b']').is_some() {
                        return Some(Node::Array(items));
                    }
                    self.eat(b',')?;
                }
            }
            b'"' => self.string().map(Node::String),
            b't' => self.word("true", Node::Bool(true)),
            b'f' => self.word("false", Node::Bool(false)),
            b'n' => self.word("null", Node::Null),
            _ => self.number(),
        }
    }

    fn word(&mut self, w: &str, node: Node) -> Option<Node> {
        if self.s[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            Some(node)
        } else {
            None
        }
    }

    fn number(&mut self) -> Option<Node> {
        let start = self.i;
        while self.i < self.s.len() && matches!(self.s[self.i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        // The loose scan above accepts `1-2`; the grammar check is left to serde_json's reader.
        serde_json::from_str::<serde_json::Number>(text).ok()?;
        Some(Node::Number(text.to_owned()))
    }

    fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i] != b'"' && self.s[self.i] != b'\\' {
                if self.s[self.i] < 0x20 {
                    return None;
                }
                self.i += 1;
            }
            // The input is a `&str`, and `"` and `\` are ASCII, so this slice is on char boundaries.
            out.push_str(std::str::from_utf8(&self.s[start..self.i]).ok()?);
            match *self.s.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some(out);
                }
                _ => {
                    self.i += 1;
                    let c = match *self.s.get(self.i)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            if (0xd800..0xdc00).contains(&hi) {
                                // A surrogate pair: `\uD83D\uDE00`.
                                self.i += 1;
                                self.eat(b'\\')?;
                                if self.s.get(self.i) != Some(&b'u') {
                                    return None;
                                }
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return None;
                                }
                                char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))?
                            } else {
                                char::from_u32(hi)?
                            }
                        }
                        _ => return None,
                    };
                    self.i += 1;
                    out.push(c);
                }
            }
        }
    }

    /// Reads `uXXXX` with `self.i` on the `u`, leaving it on the last hex digit.
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.s.get(self.i + 1..self.i + 5)?;
        let text = std::str::from_utf8(digits).ok()?;
        let v = u32::from_str_radix(text, 16).ok()?;
        self.i += 4;
        Some(v)
    }
}

/// How to write a document back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Style {
    /// Spaces per level; `None` writes everything on one line.
    pub(super) indent: Option<usize>,
    /// Python's `json.dumps` default separators (`", "` and `": "`) on one line.
    pub(super) spaced: bool,
    /// Keys sorted by code point (Python `sort_keys=True`, Go maps, `jq -S`).
    pub(super) sort_keys: bool,
    /// Non-ASCII written as `\u` escapes (Python's default `ensure_ascii`, PHP).
    pub(super) ascii: bool,
}

/// Writes `node` in `style`, or `None` once the text would pass `cap` bytes: indentation can
/// make a deeply nested document many times its size, and a diagnosis never hashes more than its
/// budget anyway.
pub(super) fn write(node: &Node, style: Style, cap: usize) -> Option<String> {
    let mut out = String::new();
    emit(node, style, 0, &mut out, cap);
    (out.len() <= cap).then_some(out)
}

fn emit(node: &Node, style: Style, level: usize, out: &mut String, cap: usize) {
    if out.len() > cap {
        return;
    }
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Number(n) => out.push_str(n),
        Node::String(s) => quote(s, style.ascii, out),
        Node::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                separate(i, style, level + 1, out);
                emit(item, style, level + 1, out, cap);
            }
            close(style, level, out);
            out.push(']');
        }
        Node::Object(fields) => {
            if fields.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut order: Vec<&(String, Node)> = fields.iter().collect();
            if style.sort_keys {
                order.sort_by(|a, b| a.0.cmp(&b.0));
            }
            out.push('{');
            for (i, (key, value)) in order.into_iter().enumerate() {
                separate(i, style, level + 1, out);
                quote(key, style.ascii, out);
                out.push_str(if style.indent.is_some() || style.spaced { ": " } else { ":" });
                emit(value, style, level + 1, out, cap);
            }
            close(style, level, out);
            out.push('}');
        }
    }
}

/// What comes before item `i` of a container at `level`.
fn separate(i: usize, style: Style, level: usize, out: &mut String) {
    if i > 0 {
        out.push(',');
    }
    match style.indent {
        Some(n) => {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', n * level));
        }
        None if i > 0 && style.spaced => out.push(' '),
        None => {}
    }
}

fn close(style: Style, level: usize, out: &mut String) {
    if let Some(n) = style.indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', n * level));
    }
}

/// A JSON string as JavaScript's `JSON.stringify` and Python's `json.dumps` write it: the short
/// escapes, other control characters as `\u00XX`, and with `ascii` every non-ASCII character as
/// `\uXXXX` (surrogate pairs above the BMP).
pub(super) fn quote(s: &str, ascii: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => escape_unit(c as u32, out),
            c if ascii && !c.is_ascii() => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    escape_unit(u32::from(*u), out);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn escape_unit(u: u32, out: &mut String) {
    out.push_str(&format!("\\u{u:04x}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str =
        "{\"b\": [1, 2.50, {\"z\": null}], \"a\": \"caf\u{e9} \\u00e9 \\ud83d\\ude00\\n\", \"e\": {}, \"t\": true}";

    fn style(indent: Option<usize>, spaced: bool, sort_keys: bool, ascii: bool) -> Style {
        Style { indent, spaced, sort_keys, ascii }
    }

    #[test]
    fn compact_keeps_order_and_numbers_as_written() {
        let n = parse(DOC).unwrap();
        assert_eq!(
            write(&n, style(None, false, false, false), usize::MAX).unwrap(),
            "{\"b\":[1,2.50,{\"z\":null}],\"a\":\"caf\u{e9} \u{e9} \u{1f600}\\n\",\"e\":{},\"t\":true}"
        );
    }

    #[test]
    fn python_defaults_are_spaced_and_ascii() {
        let n = parse(DOC).unwrap();
        // Python: json.dumps(json.loads(DOC)) (numbers aside: Python would print 2.5).
        assert_eq!(
            write(&n, style(None, true, false, true), usize::MAX).unwrap(),
            "{\"b\": [1, 2.50, {\"z\": null}], \"a\": \"caf\\u00e9 \\u00e9 \\ud83d\\ude00\\n\", \"e\": {}, \"t\": true}"
        );
    }

    #[test]
    fn pretty_and_sorted() {
        let n = parse(DOC).unwrap();
        // JavaScript: JSON.stringify(JSON.parse(DOC), null, 2) with sorted keys.
        assert_eq!(
            write(&n, style(Some(2), false, true, false), usize::MAX).unwrap(),
            "{\n  \"a\": \"caf\u{e9} \u{e9} \u{1f600}\\n\",\n  \"b\": [\n    1,\n    2.50,\n    {\n      \"z\": null\n    }\n  ],\n  \"e\": {},\n  \"t\": true\n}"
        );
    }

    #[test]
    fn anything_else_is_not_json() {
        for bad in
            ["", "{", "{\"a\":1,}", "[1 2]", "\"\\ud800\"", "{\"a\":01x}", "1-2", "nul", "{\"a\":1} x", "\"\u{1}\""]
        {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert!(parse(&deep).is_none());
        assert!(parse(" [ ] ").is_some());
    }

    #[test]
    fn writing_stops_at_the_cap() {
        // Deep nesting under a 4-space indent grows a document many times over.
        let deep = "[".repeat(60) + &"0,".repeat(1000) + "0" + &"]".repeat(60);
        let n = parse(&deep).unwrap();
        let pretty = style(Some(4), false, false, false);
        assert!(write(&n, pretty, 10 * deep.len()).is_none());
        assert!(write(&n, pretty, usize::MAX).unwrap().len() > 100 * deep.len());
    }
}

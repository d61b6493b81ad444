//! Sender-controlled text made safe for a terminal or a text log line. An event type, a header
//! value or a Tag key is chosen by whoever sends the webhook; printed raw, an ESC or OSC sequence
//! would drive the operator's terminal (recolour, retitle, hide lines, write a clipboard) and a
//! CR or LF would forge log lines. Control characters, DEL, C1 controls and the bidirectional
//! overrides are shown as `\u{…}` escapes (tab, CR and LF as `\t`, `\r`, `\n`).

use std::borrow::Cow;
use std::fmt::Write as _;

fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| unsafe_char(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if keep(c) || !unsafe_char(c) => out.push(c),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

/// One line's worth: every control character escaped, line breaks included.
pub fn line(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// A block of text (a body): line breaks and tabs kept, every other control character escaped.
pub fn block(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n' || c == '\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_plain_text_is_borrowed() {
        assert!(matches!(line("invoice.paid é"), Cow::Borrowed(_)));
        assert_eq!(line("a\u{1b}]0;pwned\u{7}b\r\nc\td"), "a\\u{1b}]0;pwned\\u{7}b\\r\\nc\\td");
        assert_eq!(line("x\u{9b}31m\u{7f}\u{202e}"), "x\\u{9b}31m\\u{7f}\\u{202e}");
        assert_eq!(block("a\n\tb\r\n\u{1b}[2J"), "a\n\tb\\r\n\\u{1b}[2J");
    }
}

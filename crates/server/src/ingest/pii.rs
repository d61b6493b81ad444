//! Whether a Flinks `Tag` value looks like personal data.
//!
//! Flinks' webhook guide says not to put personally identifiable information in `Tag` (the
//! integrator's own `k=v,k=v` string, echoed back on every webhook). Hookgate cannot take it out
//! of a signed body, but it can warn: [`classify`] looks at one value and says which [`PiiKind`]
//! it resembles, so the warning can name the key and the kind — never the value itself.
//!
//! Flagged, checked in this order (the first match wins):
//! - `email`: `local@domain.tld`, also with the `@` percent-encoded as `%40`, since Tag values
//!   may arrive URL-encoded;
//! - `card`: 13–19 digits, bare or in groups split by single spaces or dashes, with a known
//!   issuer's prefix and length, and a valid Luhn check digit;
//! - `sin`: a Canadian Social Insurance Number, 9 digits bare or as 3-3-3, Luhn-valid, not
//!   starting with 0 or 8;
//! - `phone`: `+` and 11–15 digits (E.164), or a North American number written with
//!   separators (`(514) 555-0199`, `514-555-0199`, `1 514 555 0199`, …);
//! - `postal_code`: a Canadian postal code, `A1A 1A1`.
//!
//! A warning that fires on ordinary ids is one people learn to ignore, so look-alikes of ids are
//! left out on purpose, even though that misses some real personal data:
//! - a bare run of 10 digits (or 11 starting with `1`) is not a phone number: `5145550199` is
//!   indistinguishable from an order or account number; only a `+` or the separators of a
//!   written phone number tell one apart;
//! - US ZIP codes are not flagged: 5 digits (or ZIP+4, `12345-6789`) are ordinary ids too.
//!
//! Cheap and total: values longer than [`MAX_LEN`] bytes are none of these kinds and are
//! refused at once; each check is a single pass over the bytes into a small stack buffer, with no
//! allocation. It works on bytes, never slicing a `str`, so non-ASCII input simply fails every
//! check instead of risking a panic on a char boundary.

/// What kind of personal data a value looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum PiiKind {
    /// An email address.
    Email,
    /// A phone number, international (E.164) or North American.
    Phone,
    /// A Canadian Social Insurance Number.
    Sin,
    /// A payment card number.
    Card,
    /// A Canadian postal code.
    PostalCode,
}

impl PiiKind {
    /// Every kind.
    pub(crate) const ALL: [PiiKind; 5] = [Self::Email, Self::Phone, Self::Sin, Self::Card, Self::PostalCode];

    /// A position per kind for per-kind state, from its code; an unknown code shares the last.
    pub(crate) fn index_of(code: &str) -> usize {
        Self::ALL.iter().position(|k| k.code() == code).unwrap_or(Self::ALL.len() - 1)
    }

    /// Stable code for logs, metrics labels and the API: `"email"`, `"phone"`, `"sin"`, `"card"`,
    /// `"postal_code"`.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Sin => "sin",
            Self::Card => "card",
            Self::PostalCode => "postal_code",
        }
    }
}

/// The longest value (after trimming) that can be any of the kinds: an email address is at most
/// 254 bytes (RFC 5321's path limit) and every other kind is far shorter. Anything longer is
/// refused without a look, which also bounds the work per value.
const MAX_LEN: usize = 254;

/// The kind of PII `value` looks like, if any. Surrounding whitespace is ignored.
pub(crate) fn classify(value: &str) -> Option<PiiKind> {
    let v = value.trim().as_bytes();
    if v.is_empty() || v.len() > MAX_LEN {
        return None;
    }
    // Card and SIN before phone: their Luhn check is the stronger evidence, so a Luhn-valid
    // 3-3-3 group of digits is reported as a SIN.
    if is_email(v) {
        Some(PiiKind::Email)
    } else if is_card(v) {
        Some(PiiKind::Card)
    } else if is_sin(v) {
        Some(PiiKind::Sin)
    } else if is_phone(v) {
        Some(PiiKind::Phone)
    } else if is_postal_code(v) {
        Some(PiiKind::PostalCode)
    } else {
        None
    }
}

// ---- email ----

/// RFC 5321's limits: a local part of at most 64 bytes, domain labels of at most 63.
const MAX_LOCAL: usize = 64;
const MAX_LABEL: usize = 63;

fn is_email(v: &[u8]) -> bool {
    split_at_sign(v).is_some_and(|(local, domain)| is_local_part(local) && is_domain(domain))
}

/// The local part and domain around the first `@`, or, when there is none, around the first
/// percent-encoded `%40` (a URL-encoded Tag).
fn split_at_sign(v: &[u8]) -> Option<(&[u8], &[u8])> {
    if let Some(i) = v.iter().position(|&b| b == b'@') {
        return Some((v.get(..i)?, v.get(i + 1..)?));
    }
    let i = v.windows(3).position(|w| w == b"%40")?;
    Some((v.get(..i)?, v.get(i + 3..)?))
}

/// RFC 5322's `atext` plus `.`. `%` is among them, so other percent-escapes in an encoded local
/// part (`bob%2Btag%40example.com`) pass as they are.
fn is_local_part(local: &[u8]) -> bool {
    const SPECIALS: &[u8] = b".!#$%&'*+/=?^_`{|}~-";
    (1..=MAX_LOCAL).contains(&local.len()) && local.iter().all(|b| b.is_ascii_alphanumeric() || SPECIALS.contains(b))
}

/// Dot-separated labels of letters, digits and inner dashes, at least two of them, the last (the
/// TLD) of two or more letters. A single-label host (`localhost`) is not an address anyone's
/// personal mail lives at, and one-letter TLDs do not exist.
fn is_domain(domain: &[u8]) -> bool {
    let mut labels = 0_usize;
    let mut last: &[u8] = &[];
    for label in domain.split(|&b| b == b'.') {
        let ok = (1..=MAX_LABEL).contains(&label.len())
            && label.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && label.first() != Some(&b'-')
            && label.last() != Some(&b'-');
        if !ok {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels >= 2 && last.len() >= 2 && last.iter().all(u8::is_ascii_alphabetic)
}

// ---- digit groups, Luhn ----

/// The shape of a value that is digit groups split by single separators.
struct Grouped {
    /// How many digits, stored in the caller's buffer.
    len: usize,
    /// How many groups (1 when there is no separator).
    groups: usize,
    /// The length of the shortest group.
    shortest: usize,
}

/// `v` as groups of ASCII digits split by single bytes from `seps`, all the same one, with no
/// separator first or last. The digits' values go into `out`; more digits than `out` holds, or
/// any other byte, is `None`.
fn grouped_digits(v: &[u8], seps: &[u8], out: &mut [u8]) -> Option<Grouped> {
    let mut len = 0;
    let mut groups = 1;
    let mut run = 0;
    let mut shortest = usize::MAX;
    let mut sep = None;
    for &b in v {
        if b.is_ascii_digit() {
            *out.get_mut(len)? = b - b'0';
            len += 1;
            run += 1;
        } else if run > 0 && seps.contains(&b) && sep.is_none_or(|s| s == b) {
            sep = Some(b);
            shortest = shortest.min(run);
            run = 0;
            groups += 1;
        } else {
            return None;
        }
    }
    // `run == 0` here: the value was empty or ended with a separator.
    (run > 0).then(|| Grouped { len, groups, shortest: shortest.min(run) })
}

/// The Luhn (mod 10) check over digit values, as cards and SINs use it.
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

// ---- card ----

/// Cards are at most 19 digits (ISO/IEC 7812).
const MAX_CARD: usize = 19;

fn is_card(v: &[u8]) -> bool {
    let mut buf = [0_u8; MAX_CARD];
    let Some(g) = grouped_digits(v, b" -", &mut buf) else {
        return false;
    };
    let Some(digits) = buf.get(..g.len) else {
        return false;
    };
    // Cards are printed in groups of 4 to 6 (the last of a 19-digit number: 3); groups of one or
    // two digits are some other numbering.
    (13..=MAX_CARD).contains(&g.len) && (g.groups == 1 || g.shortest >= 3) && issuer_accepts(digits) && luhn(digits)
}

/// Whether a known issuer uses this prefix with this many digits. Each network only issues some
/// lengths (Mastercard only 16, Amex only 15); holding numbers to them rejects more ids that merely
/// happen to pass Luhn.
fn issuer_accepts(digits: &[u8]) -> bool {
    let prefix = |k: usize| digits.iter().take(k).fold(0_u32, |acc, &d| acc * 10 + u32::from(d));
    let (p1, p2, p3, p4) = (prefix(1), prefix(2), prefix(3), prefix(4));
    let n = digits.len();
    let long = (16..=19).contains(&n);
    if p1 == 4 {
        // Visa
        matches!(n, 13 | 16 | 19)
    } else if (51..=55).contains(&p2) || (2221..=2720).contains(&p4) {
        // Mastercard
        n == 16
    } else if p2 == 34 || p2 == 37 {
        // American Express
        n == 15
    } else if p4 == 6011 || p2 == 65 || (644..=649).contains(&p3) {
        // Discover
        long
    } else if (3528..=3589).contains(&p4) {
        // JCB
        long
    } else if (300..=305).contains(&p3) || p2 == 36 || p2 == 38 {
        // Diners Club
        (14..=19).contains(&n)
    } else if p2 == 62 {
        // UnionPay
        long
    } else {
        false
    }
}

// ---- SIN ----

fn is_sin(v: &[u8]) -> bool {
    let mut buf = [0_u8; 9];
    let Some(g) = grouped_digits(v, b" -", &mut buf) else {
        return false;
    };
    // Nine digits and three groups means the groups are 3-3-3.
    let shaped = g.len == 9 && (g.groups == 1 || (g.groups == 3 && g.shortest == 3));
    // No SIN starts with 0 (never issued; the government's fictitious example 046 454 286 does)
    // or 8 (that range is used for business numbers).
    shaped && !matches!(buf.first(), Some(0 | 8)) && luhn(&buf)
}

// ---- phone ----

fn is_phone(v: &[u8]) -> bool {
    match v.split_first() {
        Some((b'+', rest)) => is_international(rest),
        // Only the written form: a bare run of 10 digits is as likely an order or account id.
        _ => is_north_american(v),
    }
}

/// NANP: area code and exchange both start with 2–9 (a leading 1 is the trunk prefix, 0 and 1
/// are never the first digit of either).
fn nanp_digits_ok(area_first: u8, exchange_first: u8) -> bool {
    (2..=9).contains(&area_first) && (2..=9).contains(&exchange_first)
}

/// What came before the current byte of an international number.
#[derive(Clone, Copy)]
enum Prev {
    Start,
    Digit,
    Sep,
    Open,
    Close,
}

/// The part after `+`: 11–15 digits (E.164's maximum is 15), the first (country code) not 0,
/// with single spaces, dashes or dots between digits and at most one level of parentheses around
/// digits (`+1 (514) 555-0199`, `+44 (0) 20 7946 0958`). Country code 1 is NANP: exactly 11
/// digits, held to its rules.
fn is_international(v: &[u8]) -> bool {
    const MAX_E164: usize = 15;
    let mut digits = [0_u8; MAX_E164];
    let mut n = 0;
    let mut prev = Prev::Start;
    let mut open = false;
    for &b in v {
        prev = match (b, prev) {
            (b'0'..=b'9', _) => {
                let Some(slot) = digits.get_mut(n) else {
                    return false;
                };
                *slot = b - b'0';
                n += 1;
                Prev::Digit
            }
            (b' ' | b'-' | b'.', Prev::Digit | Prev::Close) => Prev::Sep,
            (b'(', Prev::Digit | Prev::Sep) if !open => {
                open = true;
                Prev::Open
            }
            // Only after a digit, so a pair of parentheses always holds one.
            (b')', Prev::Digit) if open => {
                open = false;
                Prev::Close
            }
            _ => return false,
        };
    }
    if open || !matches!(prev, Prev::Digit) || !(11..=MAX_E164).contains(&n) {
        return false;
    }
    match digits {
        [0, ..] => false,
        [1, a, _, _, e, ..] => n == 11 && nanp_digits_ok(a, e),
        _ => true,
    }
}

/// A North American number written as one: an optional trunk `1` and separator, an area code
/// either in parentheses (an optional space after) or followed by a separator, the exchange, a
/// separator and the four-digit line. Separators are a space, a dash or a dot.
fn is_north_american(v: &[u8]) -> bool {
    let mut c = Cursor { b: v, i: 0 };
    // No area code starts with 1, so a leading 1 can only be the trunk prefix, and a written one
    // is set apart: `1-514-…`, `1 (514) …`, `1(514)…`.
    if c.peek() == Some(b'1') {
        c.i += 1;
        if !(c.eat_sep() || c.peek() == Some(b'(')) {
            return false;
        }
    }
    let area = if c.eat(b'(') {
        let area = c.digits(3);
        if !c.eat(b')') {
            return false;
        }
        c.eat(b' ');
        area
    } else {
        let area = c.digits(3);
        if !c.eat_sep() {
            return false;
        }
        area
    };
    let Some(area) = area else {
        return false;
    };
    let Some(exchange) = c.digits(3) else {
        return false;
    };
    c.eat_sep() && c.digits(4).is_some() && c.at_end() && nanp_digits_ok(area, exchange)
}

/// A read position in a byte string.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Consumes `want` if it is next.
    fn eat(&mut self, want: u8) -> bool {
        let found = self.peek() == Some(want);
        if found {
            self.i += 1;
        }
        found
    }

    /// Consumes one phone separator (space, dash, dot) if it is next.
    fn eat_sep(&mut self) -> bool {
        let found = matches!(self.peek(), Some(b' ' | b'-' | b'.'));
        if found {
            self.i += 1;
        }
        found
    }

    /// Consumes exactly `n` ASCII digits (what follows is the caller's to check) and returns the
    /// first one's value.
    fn digits(&mut self, n: usize) -> Option<u8> {
        let run = self.b.get(self.i..self.i.checked_add(n)?)?;
        if !run.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        run.first().map(|d| d - b'0')
    }

    fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }
}

// ---- postal code ----

/// Canada Post's rules: the first letter (the province or region) is never D, F, I, O, Q, U, W
/// or Z; the others are never D, F, I, O, Q or U.
fn is_postal_code(v: &[u8]) -> bool {
    const FIRST: &[u8] = b"ABCEGHJKLMNPRSTVXY";
    const NEVER: &[u8] = b"DFIOQU";
    let chars = match *v {
        [a, b, c, d, e, f] | [a, b, c, b' ' | b'-', d, e, f] => [a, b, c, d, e, f],
        _ => return false,
    };
    let [l1, d1, l2, d2, l3, d3] = chars.map(|b| b.to_ascii_uppercase());
    let later = |l: u8| l.is_ascii_uppercase() && !NEVER.contains(&l);
    FIRST.contains(&l1) && later(l2) && later(l3) && [d1, d2, d3].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_all(kind: Option<PiiKind>, values: &[&str]) {
        for v in values {
            assert_eq!(classify(v), kind, "{v:?}");
        }
    }

    #[test]
    fn codes_are_stable() {
        let all = [
            (PiiKind::Email, "email"),
            (PiiKind::Phone, "phone"),
            (PiiKind::Sin, "sin"),
            (PiiKind::Card, "card"),
            (PiiKind::PostalCode, "postal_code"),
        ];
        for (kind, code) in all {
            assert_eq!(kind.code(), code);
        }
    }

    #[test]
    fn emails() {
        assert_all(
            Some(PiiKind::Email),
            &[
                "bob@example.com",
                "bob%40example.com",
                "  bob@example.com\t",
                "BOB@EXAMPLE.COM",
                "Bob.Smith+flinks@mail.example.co.uk",
                "o'reilly@example.ca",
                "x_y-z@sub-domain.example.org",
                "bob%2Btag%40example.com",
                "1234@example.com",
            ],
        );
    }

    #[test]
    fn not_emails() {
        assert_all(
            None,
            &[
                "user@localhost",
                "a@b.c",
                "@example.com",
                "bob@",
                "bob@example",
                "bob@.example.com",
                "bob@example..com",
                "bob@example.com.",
                "bob@-example.com",
                "bob@example-.com",
                "bob@example.c0m",
                "bob@@example.com",
                "a@b@example.com",
                "bob smith@example.com",
                "bob%40localhost",
                "bob%40example%2Ecom",
                "%40example.com",
                "é@ü.ça",
                "bob@exämple.com",
            ],
        );
        // The local part's 64-byte limit.
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(classify(&long_local), None);
        let max_local = format!("{}@example.com", "a".repeat(64));
        assert_eq!(classify(&max_local), Some(PiiKind::Email));
    }

    #[test]
    fn cards() {
        assert_all(
            Some(PiiKind::Card),
            &[
                "4111 1111 1111 1111",
                "4111-1111-1111-1111",
                "4111111111111111",
                "4222222222222",       // Visa, 13 digits
                "4917610000000000003", // Visa, 19 digits
                "5555555555554444",
                "5555 5555 5555 4444",
                "2223003122003222", // Mastercard 2-series
                "378282246310005",
                "3782 822463 10005", // Amex as printed, 4-6-5
                "6011111111111117",  // Discover
                "3530111333300000",  // JCB
                "30569309025904",    // Diners, 14 digits
                "6200000000000005",  // UnionPay
            ],
        );
    }

    #[test]
    fn not_cards() {
        assert_all(
            None,
            &[
                "4111 1111 1111 1112", // Luhn fails
                "4111111111111112",
                "4111  1111 1111 1111", // double separator
                "4111-1111 1111-1111",  // mixed separators
                "4111-1111-1111-1111-",
                "41 11 11 11 11 11 11 11", // two-digit groups
                "1111111111111117",        // Luhn-valid, no issuer starts with 1
                "111111111111119",
                "3782822463100003", // Luhn-valid 37…, but Amex is 15 digits
                "0000000000000000",
                "4111 1111 1111 1111 1111", // 20 digits
            ],
        );
    }

    #[test]
    fn sins() {
        assert_all(
            Some(PiiKind::Sin),
            &[
                "130 692 544",
                "130-692-544",
                "130692544",
                "193 456 787",
                "726400005",
                "987-654-324", // 9: temporary residents
            ],
        );
    }

    #[test]
    fn not_sins() {
        assert_all(
            None,
            &[
                "123456789",   // Luhn fails
                "130 692 545", // Luhn fails
                // Luhn-valid, but no SIN starts with 0 (this is the government's fictitious
                // example) or 8.
                "046 454 286",
                "046454286",
                "000000000",
                "846 454 288",
                "130 692-544",  // mixed separators
                "1306 92 544",  // not 3-3-3
                "130  692 544", // double separator
                "130.692.544",  // dots are not a SIN's separator
            ],
        );
    }

    #[test]
    fn phones() {
        assert_all(
            Some(PiiKind::Phone),
            &[
                "+1 514 555 0199",
                "+15145550199",
                "+1 (514) 555-0199",
                "+1-514-555-0199",
                "+44 20 7946 0958",
                "+44 (0) 20 7946 0958",
                "+33 1 23 45 67 89",
                "+33.1.23.45.67.89",
                "(514) 555-0199",
                "(514)555-0199",
                "514-555-0199",
                "514.555.0199",
                "514 555 0199",
                "514 555-0199",
                "1-514-555-0199",
                "1 514 555 0199",
                "1 (514) 555-0199",
                "1(514) 555-0199",
            ],
        );
    }

    #[test]
    fn not_phones() {
        assert_all(
            None,
            &[
                // Bare digit runs: indistinguishable from ids.
                "5145550199",
                "15145550199",
                // NANP: area code and exchange start with 2–9.
                "(114) 555-0199",
                "014-555-0199",
                "514-155-0199",
                "+1 114 555 0199",
                "+1 514 055 0199",
                "+1 514 555 01990", // NANP is 11 digits
                // Shape.
                "514--555-0199",
                "514-555-0199-",
                "514-5550199",
                "(514 555-0199",
                "514) 555-0199",
                "(514)  555-0199",
                "1514-555-0199",
                "2-514-555-0199",
                "+44 20",                // too few digits
                "+44 20 7946 0958 1234", // 16 digits, E.164 allows 15
                "+0 20 7946 0958",       // no country code starts with 0
                "+(44) 20 7946 0958",
                "+44 () 20 7946 0958",
                "+44 ((20)) 7946 0958",
                "+44 20 7946 0958-",
                "++44 20 7946 0958",
                "+",
                "+44 20 7946 0958)",
            ],
        );
    }

    #[test]
    fn postal_codes() {
        assert_all(Some(PiiKind::PostalCode), &["H2X 1Y4", "h2x1y4", "H2X-1Y4", "K1A 0B1", "m5v 3l9", "T2P 2W2"]);
    }

    #[test]
    fn not_postal_codes() {
        assert_all(
            None,
            &[
                "D2X 1Y4", // D never starts one
                "W2X 1Y4", // nor W
                "Z2X 1Y4", // nor Z
                "H2D 1Y4", // D never appears
                "H2X 1O4", // nor O
                "H2X  1Y4",
                "H2X_1Y4",
                "H2X 1Y",
                "H2X 1Y45",
                "22X 1Y4",
                "HHX 1Y4",
                "90210",      // a US ZIP: an ordinary id
                "12345-6789", // ZIP+4
            ],
        );
    }

    #[test]
    fn id_look_alikes_are_none() {
        assert_all(
            None,
            &[
                "",
                "   ",
                "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                "00000000-0000-0000-0000-000000000000",
                "ORD-2026-000123",
                "12345",
                "1234567890",
                "2026-12-02",
                "2026-12-02T10:30:00Z",
                "192.168.1.10",
                "10.0.0.1",
                "1.2.3",
                "v1.2.3",
                "true",
                "loginId-7b1e",
                "1700000000000", // a Unix timestamp in milliseconds
            ],
        );
    }

    #[test]
    fn check_order() {
        // A Luhn-valid 3-3-3 is a SIN (checked before phone).
        assert_eq!(classify("130 692 544"), Some(PiiKind::Sin));
        // An address made of digits is still an email first.
        assert_eq!(classify("4111111111111111@example.com"), Some(PiiKind::Email));
    }

    #[test]
    fn long_and_strange_input_does_not_panic() {
        let digits = "4".repeat(10 * 1024);
        assert_eq!(classify(&digits), None);
        let email = format!("{}@example.com", "a".repeat(10 * 1024));
        assert_eq!(classify(&email), None);
        assert_eq!(classify(&format!("{}%40", "%40".repeat(4000))), None);
        assert_all(
            None,
            &[
                "é@ü.ça",
                "🎉",
                "📞 514-555-0199",
                "+١٥١٤٥٥٥٠١٩٩",  // Arabic-Indic digits are not ASCII digits
                "Ｈ２Ｘ １Ｙ４", // full-width
                "é2é1é4",
                "\u{0}",
                "%",
                "%4",
                "@",
                "(",
                ")",
                "-",
            ],
        );
        // Non-ASCII whitespace around a value is trimmed like any other.
        assert_eq!(classify("\u{a0}H2X 1Y4\u{3000}"), Some(PiiKind::PostalCode));
    }

    #[test]
    fn every_prefix_and_suffix_is_safe() {
        let samples = [
            "bob%40example.com",
            "é@ü.ça",
            "+44 (0) 20 7946 0958",
            "1 (514) 555-0199",
            "3782 822463 10005",
            "h2x-1y4",
            "🎉4111 1111🎉",
        ];
        for s in samples {
            for (i, _) in s.char_indices() {
                let _ = classify(&s[..i]);
                let _ = classify(&s[i..]);
            }
        }
    }

    #[test]
    fn random_strings_do_not_panic() {
        // Pieces that steer the checks down their deeper paths, glued at random.
        const PIECES: &[&str] = &[
            "0", "1", "4", "5", "9", "a", "Z", "@", "%40", "%", ".", " ", "-", "(", ")", "+", "é", "🎉", "\u{a0}",
            "com", "H2X", "1Y4", "555", "0199",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            // xorshift64: deterministic, no dependency.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut s = String::new();
        for _ in 0..20_000 {
            s.clear();
            let len = next() % 24;
            for _ in 0..len {
                let i = usize::try_from(next() % PIECES.len() as u64).unwrap_or(0);
                s.push_str(PIECES[i]);
            }
            let _ = classify(&s);
        }
    }
}

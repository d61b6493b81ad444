//! TOML errors told without quoting a value: a secret pasted into the file by mistake must not
//! reach a terminal, a log or a ticket through the error that refuses it.

/// A TOML error as a message that names where and what, and never quotes a value: not
/// `e.to_string()`, which prints the offending line, nor serde's message as is, which quotes the
/// value it did not expect (`invalid type: string "…"`). Either could be a secret someone pasted
/// into the file by mistake; the line, the key and the expected shape are enough to find it.
pub fn parse_error(text: &str, e: &toml::de::Error) -> String {
    // A table read in two steps (a target: its `type`, then its kind's keys) reports the whole
    // table's span and names the key at fault as `(at `key`)`: find that key's value in the table.
    let (message, at_key) = match e.message().strip_suffix("`)").and_then(|m| m.rsplit_once(" (at `")) {
        Some((message, key)) => (message, Some(key)),
        None => (e.message(), None),
    };
    let mut message = redact_values(message);
    if let Some(hint) = did_you_mean(&message) {
        message.push_str(&hint);
    }
    let Some(span) = e.span() else { return message };
    let start = at_key.and_then(|k| value_of_key(text, span.start, k)).unwrap_or(span.start);
    let before = &text[..start.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before.len() - line_start + 1;
    // The key whose value is at fault: the start of its line, up to `=`, when the error is in the value.
    let key = before[line_start..].split_once('=').map(|(k, _)| k.trim()).filter(|k| !k.is_empty() && !k.contains('"'));
    // The table it is in: the last header line above it.
    let table = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']') && !l.contains(['"', '\'']));
    let at = match (key, table) {
        (Some(k), Some(t)) => format!(" (`{k}` in {t})"),
        (Some(k), None) => format!(" (`{k}`)"),
        (None, Some(t)) => format!(" (in {t})"),
        (None, None) => String::new(),
    };
    format!("line {line}, column {column}{at}: {message}")
}

/// Where the value of `key` (a dotted path: its last part) starts, in the table that starts at
/// `table_start`: the first line there that assigns it, before the next table's header.
fn value_of_key(text: &str, table_start: usize, key: &str) -> Option<usize> {
    let name = key.rsplit('.').next().filter(|n| !n.is_empty())?;
    let line_start = text[..table_start.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let mut offset = line_start;
    for (i, line) in text[line_start..].split_inclusive('\n').enumerate() {
        if i > 0 && line.trim_start().starts_with('[') {
            return None;
        }
        let mut from = 0;
        while let Some(found) = line[from..].find(name) {
            let at = from + found;
            let preceded = line[..at].trim_end().chars().last().is_none_or(|c| c == '{' || c == ',');
            let rest = line[at + name.len()..].trim_start();
            if preceded && rest.starts_with('=') {
                let value = at + name.len() + line[at + name.len()..].find('=')? + 1;
                let spaces = line[value..].len() - line[value..].trim_start().len();
                return Some(offset + value + spaces);
            }
            from = at + name.len();
        }
        offset += line.len();
    }
    None
}

/// For `unknown field `timeout_sec`, expected one of …`: the key it most likely meant, among every
/// key the message names (a target's kind keys and the common ones), when one is a near miss: at
/// most two edits away, or the same but for case, `-`/`_` or a trailing `s`.
fn did_you_mean(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, rest) = rest.split_once('`')?;
    let candidates = rest.split('`').skip(1).step_by(2).filter(|c| !c.is_empty() && !c.contains(' '));
    let norm = |k: &str| k.to_ascii_lowercase().replace('-', "_");
    let best = candidates
        .map(|c| {
            let same = norm(c) == norm(unknown) || norm(c).trim_end_matches('s') == norm(unknown).trim_end_matches('s');
            (if same { 0 } else { edits(&norm(unknown), &norm(c)) }, c)
        })
        .filter(|(d, c)| *d <= 2 && *d < c.len().max(1))
        .min_by_key(|(d, _)| *d)?;
    Some(format!("; did you mean `{}`?", best.1))
}

/// Levenshtein distance, for short keys.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// serde's messages with the value they quote taken out: `invalid type: string "x", expected u64`
/// becomes `invalid type: string, expected u64`; `unknown variant `x`, expected …` keeps only what
/// was expected. Unknown *fields* keep their name: that is a key, and naming it is the point.
fn redact_values(message: &str) -> String {
    if message.starts_with("unknown field")
        || message.starts_with("unknown type")
        || message.starts_with("missing field")
        || message.starts_with("duplicate field")
    {
        return message.to_owned();
    }
    let (found, expected) = match message.split_once(", expected ") {
        Some((found, expected)) => (found, Some(expected)),
        None => (message, None),
    };
    // Cut the found part at its first quote or backtick: what follows is the value.
    let kept = found.find(['"', '`', '\'']).map_or(found, |i| &found[..i]).trim_end();
    match expected {
        Some(expected) => format!("{kept}, expected {expected}"),
        None => kept.to_owned(),
    }
}

#[cfg(test)]
mod did_you_mean_tests {
    use super::did_you_mean;

    #[test]
    fn a_near_miss_is_named_and_a_far_one_is_not() {
        let m = "unknown field `timeout_sec`, expected one of `url`, `secret` (for a `http` target; common keys: `name`, `type`, `timeout_secs`)";
        assert_eq!(did_you_mean(m).as_deref(), Some("; did you mean `timeout_secs`?"));
        let m = "unknown field `lisen`, expected one of `listen`, `store`";
        assert_eq!(did_you_mean(m).as_deref(), Some("; did you mean `listen`?"));
        let m = "unknown field `Body-Limit`, expected one of `name`, `body_limit`";
        assert_eq!(did_you_mean(m).as_deref(), Some("; did you mean `body_limit`?"));
        assert_eq!(did_you_mean("unknown field `colour`, expected one of `listen`, `store`"), None);
        assert_eq!(did_you_mean("missing field `name`"), None);
    }
}

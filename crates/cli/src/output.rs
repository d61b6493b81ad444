//! Standard output for commands. A reader that stops early (`hookgate schemes | head -2`) closes
//! the pipe: the next write fails with `BrokenPipe`, and the command ends quietly, as other Unix
//! tools do, instead of panicking in `println!` or reporting "Broken pipe" as an error.

use std::io::{self, Write};

/// The marker inside the `io::Error` of a write to a closed stdout, so that `main` can tell it
/// apart from a broken pipe elsewhere (a socket, a child's stdin), which is a real error.
#[derive(Debug, thiserror::Error)]
#[error("standard output is closed")]
pub(crate) struct StdoutClosed;

/// Locked stdout whose closed-pipe errors carry [`StdoutClosed`].
pub(crate) struct Stdout(io::StdoutLock<'static>);

impl Stdout {
    pub(crate) fn lock() -> Self {
        Self(io::stdout().lock())
    }
}

fn mark(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::BrokenPipe { io::Error::new(io::ErrorKind::BrokenPipe, StdoutClosed) } else { e }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(mark)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(mark)
    }
}

/// Whether a command failed only because its reader went away.
pub(crate) fn stdout_closed(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.is::<StdoutClosed>()
            || cause
                .downcast_ref::<io::Error>()
                .and_then(io::Error::get_ref)
                .is_some_and(|inner| inner.is::<StdoutClosed>())
    })
}

/// An error and its causes, each message once: many errors repeat their source's text in their
/// own (`cannot read F: No such file (os error 2)` caused by `No such file (os error 2)`). The
/// gateway's own rule for delivery errors, so the CLI and the delivery log read alike.
pub(crate) fn error_chain(e: &anyhow::Error) -> String {
    hookgate_deliver::error_chain(e.as_ref())
}

/// `n` and the noun in the number it needs (`1 event`, `2 events`).
pub(crate) fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `println!` to [`Stdout`], returning the write's result for `?`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!($crate::output::Stdout::lock(), $($arg)*)
    }};
}

/// `print!` to [`Stdout`], returning the write's result for `?`.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!($crate::output::Stdout::lock(), $($arg)*)
    }};
}

pub(crate) use {out, outln};

/// A column's alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// A table printed with each column as wide as its widest cell, whatever the data (a long target
/// name or source must not shift the columns after it). Cells are sender-controlled text, so each
/// is escaped for the terminal (`hookgate_server::printable::line`). The last column is never
/// padded.
#[derive(Debug)]
pub(crate) struct Table {
    columns: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(columns: &[(&'static str, Align)]) -> Self {
        Self { columns: columns.to_vec(), rows: Vec::new() }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.rows.push(cells.iter().map(|c| hookgate_server::printable::line(c).into_owned()).collect());
    }

    pub(crate) fn print(&self, out: &mut impl Write) -> io::Result<()> {
        let width = |i: usize| {
            self.rows.iter().map(|r| r[i].chars().count()).chain([self.columns[i].0.len()]).max().unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.columns.len()).map(width).collect();
        let header: Vec<String> = self.columns.iter().map(|(h, _)| (*h).to_owned()).collect();
        for cells in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in cells.iter().enumerate() {
                let last = i + 1 == cells.len();
                let pad = widths[i].saturating_sub(cell.chars().count());
                if i > 0 {
                    line.push_str("  ");
                }
                match self.columns[i].1 {
                    Align::Right => {
                        line.extend(std::iter::repeat_n(' ', pad));
                        line.push_str(cell);
                    }
                    Align::Left => {
                        line.push_str(cell);
                        if !last {
                            line.extend(std::iter::repeat_n(' ', pad));
                        }
                    }
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_named_once() {
        let root = io::Error::new(io::ErrorKind::NotFound, "No such file (os error 2)");
        let e = anyhow::Error::new(root)
            .context("cannot read x.toml: No such file (os error 2)")
            .context("invalid configuration");
        assert_eq!(error_chain(&e), "invalid configuration: cannot read x.toml: No such file (os error 2)");
    }

    #[test]
    fn tables_fit_their_widest_cell_and_escape_controls() {
        let mut t = Table::new(&[("ID", Align::Right), ("TARGET", Align::Left), ("ERROR", Align::Left)]);
        t.row(vec!["7".into(), "a-very-long-target-name".into(), "boom".into()]);
        t.row(vec!["12345".into(), "t\u{1b}[2J".into(), String::new()]);
        let mut out = Vec::new();
        t.print(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "   ID  TARGET                   ERROR");
        assert_eq!(lines[1], "    7  a-very-long-target-name  boom");
        assert_eq!(lines[2], "12345  t\\u{1b}[2J");
    }

    #[test]
    fn only_a_closed_stdout_is_quiet() {
        let closed = anyhow::Error::new(mark(io::Error::from(io::ErrorKind::BrokenPipe))).context("listing");
        assert!(stdout_closed(&closed));
        let socket = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(!stdout_closed(&socket));
    }
}

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
    fn only_a_closed_stdout_is_quiet() {
        let closed = anyhow::Error::new(mark(io::Error::from(io::ErrorKind::BrokenPipe))).context("listing");
        assert!(stdout_closed(&closed));
        let socket = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(!stdout_closed(&socket));
    }
}

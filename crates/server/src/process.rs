//! Process-group signalling for command targets.

/// Sends SIGKILL to every process in the group `pgid` (a command target started with
/// `process_group(0)`, so its pid is the group id). A group that is already gone is fine.
pub(crate) fn kill_group(pgid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else { return };
    if pgid <= 1 {
        // 0 is our own group and 1 is init: never.
        return;
    }
    // SAFETY: `killpg` only sends a signal; `pgid` is the group our own child leads (created
    // with `process_group(0)`), checked above to be neither our group (0) nor init's (1).
    #[allow(unsafe_code)]
    let rc = unsafe { libc::killpg(pgid, libc::SIGKILL) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ESRCH) {
            tracing::warn!(pgid, error = %e, "Cannot kill a timed-out command's process group.");
        }
    }
}

//! Process hardening done first thing in `main`.
//!
//! The gateway's environment holds every source's and target's secret, and its memory holds the
//! keys. A command target runs as the gateway's own user, and a process of the same user may read
//! another's `/proc/PID/environ` and `/proc/PID/mem` (and attach a debugger) unless that process
//! is marked non-dumpable. Unsetting a variable would not help: `/proc/PID/environ` shows the block
//! the process started with. `PR_SET_DUMPABLE = 0` makes those files owned by root, so children
//! (and anything else running as the same user) can no longer read them. It does not protect from
//! root: a gateway run as root, or a command target run as root, can read everything anyway.
//! A child gets its own dumpable flag back when it `exec`s, so targets keep working normally.

/// Marks the process non-dumpable (Linux): its environment, memory and core dumps are closed to
/// other processes of its user. Returns the OS error when the kernel refuses.
pub(crate) fn deny_same_user_inspection() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `prctl(PR_SET_DUMPABLE, 0)` changes only this process's dumpable flag; it reads
        // no memory of ours and the extra arguments are ignored for this option.
        #[allow(unsafe_code)]
        let rc = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong, 0, 0, 0) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

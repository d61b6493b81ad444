//! Makes SQLite commits durable off the writer's path, so the next batch is written while the
//! previous one is being synced (pipelined group commit).
//!
//! With `synchronous=FULL` every commit waits for an `fdatasync` of the log inside SQLite, and the
//! single writer can do nothing else meanwhile: under load it spent about a third of its time
//! waiting for the disk. Instead the writer commits with `synchronous=NORMAL` (SQLite still syncs
//! around checkpoints and when the log is reused, so the database stays consistent), hands the
//! batch's replies here, and goes on. This thread syncs the log once for every batch queued by
//! then and only then answers them: no caller is told "stored" before its commit is on disk,
//! exactly as with FULL.
//!
//! Why syncing our own descriptor is enough: on Linux `fdatasync` writes back every dirty page of
//! the file (the inode), whichever descriptor wrote it, and the writer's connection keeps the log
//! file in place for as long as the store is open (SQLite removes it only when the last connection
//! closes). A failed sync leaves it unknown what reached the disk (the kernel may drop the dirty
//! pages), so it fails every waiting caller and the store for good: writes and readiness fail
//! until the gateway is restarted and SQLite recovers from what is on disk (fail closed).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Instant;

/// The error every caller waiting on a failed (or later) sync gets.
pub(crate) const SYNC_FAILED: &str = "the store's log could not be synced to disk; restart the gateway";

/// Batches of commits that wait for the log to reach the disk.
pub(crate) struct WalSync<T> {
    /// Each item with the time it was submitted.
    queue: Option<SyncSender<(Instant, T)>>,
    thread: Option<JoinHandle<()>>,
}

impl<T: Send + 'static> WalSync<T> {
    /// Starts the syncing thread for the log at `wal`. `answer` is called once per submitted item,
    /// after the sync that covers it, with its outcome.
    pub(crate) fn start(
        wal: &Path,
        failed: Arc<AtomicBool>,
        answer: impl Fn(T, Result<(), &str>) + Send + 'static,
    ) -> std::io::Result<Self> {
        let file = File::options().write(true).open(wal)?;
        // Enough for every batch the writer can commit during one slow sync; when it is full the
        // writer waits (back-pressure reaches the request queue and then the callers as 503).
        let (queue, rx) = sync_channel(1024);
        let thread = std::thread::Builder::new()
            .name("hookgate-store-sync".into())
            .spawn(move || sync_loop(&file, &rx, &failed, &answer))?;
        Ok(Self { queue: Some(queue), thread: Some(thread) })
    }

    /// Queues a committed batch; it is answered after the next sync.
    pub(crate) fn submit(&self, item: T) {
        if let Some(queue) = &self.queue {
            // The thread only ends once the queue is dropped (below), so this cannot be refused.
            let _ = queue.send((Instant::now(), item));
        }
    }

    /// Syncs and answers everything submitted, then stops the thread.
    pub(crate) fn finish(mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn sync_loop<T>(file: &File, rx: &Receiver<(Instant, T)>, failed: &AtomicBool, answer: &dyn Fn(T, Result<(), &str>)) {
    while let Ok(first) = rx.recv() {
        let mut waiting = vec![first];
        waiting.extend(rx.try_iter());
        let started = Instant::now();
        let synced = if failed.load(Ordering::Acquire) {
            false
        } else {
            match file.sync_data() {
                Ok(()) => true,
                Err(e) => {
                    failed.store(true, Ordering::Release);
                    tracing::error!(error = %e, "Syncing the store's log failed; refusing writes until restarted.");
                    false
                }
            }
        };
        metrics::histogram!("hookgate_store_sync_duration_seconds").record(started.elapsed().as_secs_f64());
        // From commit to answer: the sync in progress when the batch came, then its own (the disk's
        // share of a request's latency).
        let wait = metrics::histogram!("hookgate_store_sync_wait_seconds");
        for (submitted, item) in waiting {
            wait.record(submitted.elapsed().as_secs_f64());
            answer(item, if synced { Ok(()) } else { Err(SYNC_FAILED) });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn answers_after_syncing_and_fails_closed_once_a_sync_failed() {
        let dir = std::env::temp_dir().join(format!("hookgate-walsync-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let wal = dir.join("db-wal");
        std::fs::write(&wal, b"log").unwrap();
        let failed = Arc::new(AtomicBool::new(false));
        let answers = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&answers);
        let sync = WalSync::start(&wal, Arc::clone(&failed), move |item: u32, r: Result<(), &str>| {
            seen.lock().unwrap().push((item, r.map_err(str::to_owned)));
        })
        .unwrap();
        for i in 0..100 {
            sync.submit(i);
        }
        // A failed sync (as the kernel reports EIO) poisons every later answer.
        failed.store(true, Ordering::Release);
        sync.submit(100);
        sync.finish();
        let answers = answers.lock().unwrap();
        assert_eq!(answers.len(), 101, "every submitted item is answered exactly once");
        assert!(answers.iter().map(|(i, _)| *i).eq(0..101), "in order");
        assert_eq!(answers[100].1, Err(SYNC_FAILED.to_owned()));
        // The first ones were synced, unless they were still waiting when the failure was seen.
        let failed_answer = Err(SYNC_FAILED.to_owned());
        assert!(answers[..100].iter().all(|(_, r)| r.is_ok() || *r == failed_answer));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_log_is_an_error_not_a_silent_no_op() {
        let missing = std::env::temp_dir().join("hookgate-walsync-missing/db-wal");
        assert!(WalSync::start(&missing, Arc::new(AtomicBool::new(false)), |_: u32, _| {}).is_err());
    }
}

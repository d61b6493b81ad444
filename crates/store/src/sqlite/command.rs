//! The writer's protocol: the commands it takes, what each produced, and who waits for it.

use std::time::Instant;

use tokio::sync::oneshot;

use super::dedup::key_hash;
use crate::admin::AdminOp;
use crate::body;
use crate::error::StoreError;
use crate::model::{Finished, Inserted, NewEvent, NewRejection};

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// `(delivery id, event id, attempts so far)` of a leased delivery.
pub(super) type Leased = (i64, i64, i64);

pub(super) enum Cmd {
    Insert(Box<EncodedEvent>, Reply<Inserted>),
    Reject(Box<NewRejection>),
    /// Completes once every write queued before it is committed (tests, shutdown).
    Barrier(Reply<()>),
    /// Readiness: a committed write the size of a typical event (see [`SqliteStore::probe`]).
    Probe(Reply<()>),
    /// Lease up to `limit` due deliveries of a target.
    Claim {
        target: String,
        limit: u32,
        ordered: bool,
        now_ms: i64,
        lease_ms: i64,
        reply: Reply<Vec<Leased>>,
    },
    /// Record an attempt and what comes next.
    Finish(Box<Finished>, Reply<()>),
    /// Operator actions (replay, retry): the number of deliveries created or revived.
    Admin(AdminOp, Reply<u64>),
}

/// What one command produced.
pub(super) enum Done {
    Inserted(Result<Inserted, StoreError>),
    Claimed(Result<Vec<Leased>, StoreError>),
    Unit(Result<(), StoreError>),
    Count(Result<u64, StoreError>),
    Nothing,
}

impl Done {
    pub(super) fn is_err(&self) -> bool {
        match self {
            Done::Inserted(r) => r.is_err(),
            Done::Claimed(r) => r.is_err(),
            Done::Unit(r) => r.is_err(),
            Done::Count(r) => r.is_err(),
            Done::Nothing => false,
        }
    }
}

/// Who waits for a command's outcome, without the command's data: an event's body is freed once
/// it is written, not held while the log is synced.
pub(super) enum Waiter {
    Inserted(Reply<Inserted>),
    Claimed(Reply<Vec<Leased>>),
    Unit(Reply<()>),
    Count(Reply<u64>),
    Nobody,
}

impl Waiter {
    pub(super) fn answer(self, done: Done) {
        match (self, done) {
            (Waiter::Inserted(r), Done::Inserted(v)) => drop(r.send(v)),
            (Waiter::Claimed(r), Done::Claimed(v)) => drop(r.send(v)),
            (Waiter::Unit(r), Done::Unit(v)) => drop(r.send(v)),
            (Waiter::Count(r), Done::Count(v)) => drop(r.send(v)),
            (waiter, _) => waiter.fail("no result"),
        }
    }

    pub(super) fn fail(self, msg: &str) {
        let e = || StoreError::Write(msg.to_owned());
        match self {
            Waiter::Inserted(r) => drop(r.send(Err(e()))),
            Waiter::Claimed(r) => drop(r.send(Err(e()))),
            Waiter::Unit(r) => drop(r.send(Err(e()))),
            Waiter::Count(r) => drop(r.send(Err(e()))),
            Waiter::Nobody => {}
        }
    }
}

impl Cmd {
    pub(super) fn into_waiter(self) -> Waiter {
        match self {
            Cmd::Insert(_, r) => Waiter::Inserted(r),
            Cmd::Claim { reply, .. } => Waiter::Claimed(reply),
            Cmd::Finish(_, r) | Cmd::Barrier(r) | Cmd::Probe(r) => Waiter::Unit(r),
            Cmd::Admin(_, r) => Waiter::Count(r),
            Cmd::Reject(_) => Waiter::Nobody,
        }
    }

    pub(super) fn reply(self, done: Done) {
        self.into_waiter().answer(done);
    }

    pub(super) fn fail(self, msg: &str) {
        self.into_waiter().fail(msg);
    }
}

/// An event with the work that does not need the database already done (JSON text, dedup hash),
/// on the caller's thread: the single writer is the store's bottleneck under load, so it only
/// binds and writes.
pub(super) struct EncodedEvent {
    pub(super) event: NewEvent,
    pub(super) key_hash: i64,
    pub(super) headers: String,
    pub(super) metadata: String,
    /// Its metadata index row (see `terms.rs`): tokens, space-separated; empty for none.
    pub(super) terms: String,
    /// The body as it is stored (`event.body` is moved here, and dropped once compressed, so a
    /// queued event holds one copy), in the form `body_encoding` names.
    pub(super) body: Vec<u8>,
    pub(super) body_encoding: &'static str,
    /// The received body's length.
    pub(super) size: i64,
    /// When it was queued for the writer (`hookgate_store_queue_wait_seconds`).
    pub(super) queued_at: Instant,
}

impl EncodedEvent {
    /// Runs in the caller's task, not on the writer: the writer is the one thread every event
    /// goes through, so encoding (and compressing) happens before the event is queued.
    pub(super) fn new(mut event: NewEvent, compress: bool) -> Self {
        let headers = serde_json::to_string(&event.headers).unwrap_or_else(|_| "[]".into());
        // `to_string` (Display) goes through the formatter; this writes the bytes directly.
        let metadata = serde_json::to_string(&event.metadata).unwrap_or_else(|_| "{}".into());
        let size = i64::try_from(event.body.len()).unwrap_or(i64::MAX);
        let received = std::mem::take(&mut event.body);
        let (body, body_encoding) = match compress.then(|| body::compress(&received)).flatten() {
            Some(packed) => (packed, body::LZ4),
            None => (received, body::IDENTITY),
        };
        Self {
            key_hash: key_hash(&event.source, &event.dedup_key),
            headers,
            metadata,
            terms: crate::terms::tokens(&event.metadata),
            body,
            body_encoding,
            size,
            event,
            queued_at: Instant::now(),
        }
    }
}

//! Operator jobs — a bulk replay or retry run in batches that survive a restart — and the audit
//! log of operator actions. Backend-neutral types; each backend's SQL is in its own `jobs.rs`.
//!
//! A job works through a fixed set of events: those matching its filter with an id up to `upto`
//! (the newest when it was created), newest first. Each batch's deliveries and the job's new
//! cursor commit in one transaction, so a batch counts exactly once whatever happens: a crash
//! before the commit leaves the cursor where it was, and the batch is done again, once.

use crate::ids::{AuditId, EventId, JobId};

/// What a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// New deliveries for the matching events (to the job's targets, or to every target each
    /// event was routed to).
    Replay,
    /// The matching events' dead deliveries (to the job's targets, or all) become pending again.
    Retry,
}

/// Where a job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for a runner.
    Queued,
    /// A runner is working through it.
    Running,
    /// Every batch is done.
    Done,
    /// Cancelled by an operator; no batch runs after that.
    Cancelled,
    /// Stopped by an error (see `error`).
    Failed,
}

macro_rules! names {
    ($t:ty, $($v:ident => $s:literal),*) => {
        impl $t {
            /// Its name, as the store and the API write it.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }

            /// From its name.
            pub fn from_name(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$v),)* _ => None }
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
names!(JobKind, Replay => "replay", Retry => "retry");
names!(JobState, Queued => "queued", Running => "running", Done => "done", Cancelled => "cancelled", Failed => "failed");

/// A job to create.
#[derive(Clone, Debug)]
pub struct NewJob {
    /// What it does.
    pub kind: JobKind,
    /// The filter it was given, as JSON (the API's event filters).
    pub filter: String,
    /// Only to these targets (`None`: the targets each event was routed to).
    pub targets: Option<Vec<String>>,
    /// Who asked (a token's name, or `cli`).
    pub actor: String,
    /// How many events match (counted when it was created).
    pub total: i64,
    /// The newest event in its set.
    pub upto: EventId,
}

/// A job as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// What it does.
    pub kind: JobKind,
    /// Where it stands.
    pub state: JobState,
    /// Its filter (JSON).
    pub filter: String,
    /// Its targets.
    pub targets: Option<Vec<String>>,
    /// Who asked.
    pub actor: String,
    /// Events in its set.
    pub total: i64,
    /// Events done.
    pub done: i64,
    /// Events that could not be done.
    pub failed: i64,
    /// Deliveries it created (replay) or revived (retry).
    pub made: i64,
    /// Events with an id up to this one remain (newest first).
    pub cursor: EventId,
    /// When it was created (Unix ms).
    pub created_at_ms: i64,
    /// When it last changed (Unix ms).
    pub updated_at_ms: i64,
    /// Why it failed.
    pub error: Option<String>,
}

/// One batch of a running job, written in one transaction with its deliveries.
#[derive(Clone, Debug)]
pub struct JobBatch {
    /// The job.
    pub job_id: JobId,
    /// The matching events of this batch.
    pub event_ids: Vec<EventId>,
    /// The job's cursor this batch starts from: the fencing token. A runner that stalled past
    /// its lease while another took the job over finds the cursor moved, and writes nothing.
    pub from_cursor: EventId,
    /// Events up to this id remain after the batch.
    pub cursor: EventId,
    /// Whether this was the last batch.
    pub last: bool,
    /// How long the runner keeps the job from here on (ms): another node takes it over after.
    pub lease_ms: i64,
}

/// An operator action to record.
#[derive(Clone, Debug)]
pub struct NewAudit {
    /// Who (a token's name, or `cli`).
    pub actor: String,
    /// What (`replay.create`, `retry.create`, `job.cancel`, `delivery.cancel`).
    pub action: String,
    /// The filter, targets, counts and ids involved (JSON).
    pub detail: String,
}

/// An audit log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its id.
    pub id: AuditId,
    /// When (Unix ms).
    pub at_ms: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// The details (JSON).
    pub detail: String,
}

//! Operator actions on the store, the same on both backends.

/// Operator writes.
#[derive(Debug, Clone)]
pub enum AdminOp {
    /// New deliveries for these events: to `target`, or to every target the event was routed to.
    Replay {
        /// Event ids.
        event_ids: Vec<crate::EventId>,
        /// Only this target.
        target: Option<String>,
    },
    /// Dead deliveries become pending again, due now, with their attempt count reset.
    RetryDead {
        /// Only this target.
        target: Option<String>,
    },
    /// A pending delivery is cancelled: never attempted again (1 when it was pending, else 0).
    Cancel {
        /// Delivery id.
        delivery_id: crate::DeliveryId,
    },
    /// A pending delivery becomes due now, or a dead one pending again with its attempts reset
    /// (1), unless it is being attempted or has ended otherwise (0).
    RetryNow {
        /// Delivery id.
        delivery_id: crate::DeliveryId,
    },
    /// Creates a job and its audit entry; answers the job's id.
    CreateJob(crate::jobs::NewJob),
    /// Takes the oldest job that is queued, or running under an expired lease (its runner died),
    /// for `lease_ms` — or that one job, with `job_id`; answers its id, or 0 when there is none.
    ClaimJob {
        /// How long the claim holds without a batch.
        lease_ms: i64,
        /// Only this job (the CLI runs the one it created).
        job_id: Option<crate::JobId>,
    },
    /// One batch of a running job (1), or nothing when the job is no longer running (0: it was
    /// cancelled meanwhile, and no delivery of the batch is made).
    JobBatch(crate::jobs::JobBatch),
    /// Stops a job for good with `error` (1), unless it had ended already (0).
    FailJob {
        /// The job.
        job_id: crate::JobId,
        /// Why.
        error: String,
    },
    /// Cancels a queued or running job, with its audit entry (1), or nothing if it had ended (0).
    CancelJob {
        /// The job.
        job_id: crate::JobId,
        /// Who.
        actor: String,
    },
    /// Records an operator action; answers the entry's id.
    Audit(crate::jobs::NewAudit),
    /// Adds to the configured secrets' match counts (a row per secret is made on first report).
    SecretMatches(Vec<crate::SecretMatches>),
    /// Delete up to `limit` events received before `before_ms` whose deliveries all succeeded
    /// (or that had none), with their deliveries and attempts. Events with a pending or dead
    /// delivery are kept.
    Prune {
        /// Unix ms.
        before_ms: i64,
        /// Most events in one transaction, so pruning never holds the writer for long.
        limit: u32,
    },
}

//! Hookgate's durable store: verified events (raw bytes, deduplicated per source) and the log of
//! rejected attempts.
//!
//! The contract the gateway relies on: [`SqliteStore::insert_event`] returns only after the
//! event is committed durably (WAL, `synchronous=FULL` by default), so a 2xx is never sent for an
//! event that could be lost; concurrent inserts share one commit (group commit).

#![deny(missing_docs)]

mod error;
pub mod migrate;
mod model;
mod sqlite;
mod url;

pub use error::StoreError;
pub use model::{
    Attempt, Claimed, DeliveryRecord, DeliverySummary, EventRecord, EventSummary, Finished, Inserted, ListFilter,
    NewEvent, NewRejection, Next, QueueDepth, RejectionRecord, RejectionRetention,
};
pub use sqlite::{AdminOp, Reader, SqliteOptions, SqliteStore};
pub use url::{Durability, StoreUrl};

//! `[diagnosis]`: how the gateway works out why rejected requests failed (off the request path,
//! rate-limited and bounded; see `ingest/diagnosis.rs`).

use hookgate_verify::Budget;
use serde::Deserialize;

use super::{ConfigError, invalid};
use crate::ingest::DiagnosisPlan;

/// `[diagnosis]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosisConfig {
    /// Diagnose rejections (on by default).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Diagnoses started per second, at most; past it rejections are recorded undiagnosed.
    #[serde(default = "per_second")]
    pub per_second: f64,
    /// Diagnoses that may start at once after a quiet spell.
    #[serde(default = "burst")]
    pub burst: u32,
    /// Rejections waiting to be diagnosed, at most.
    #[serde(default = "queue")]
    pub queue: usize,
    /// MACs one diagnosis may compute.
    #[serde(default = "max_macs")]
    pub max_macs: usize,
    /// Bytes one diagnosis may hash.
    #[serde(default = "max_bytes")]
    pub max_bytes: usize,
}

fn yes() -> bool {
    true
}
fn per_second() -> f64 {
    DiagnosisPlan::default().per_second
}
fn burst() -> u32 {
    20
}
fn queue() -> usize {
    DiagnosisPlan::default().queue
}
fn max_macs() -> usize {
    Budget::default().max_macs
}
fn max_bytes() -> usize {
    Budget::default().max_bytes
}

impl Default for DiagnosisConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            per_second: per_second(),
            burst: burst(),
            queue: queue(),
            max_macs: max_macs(),
            max_bytes: max_bytes(),
        }
    }
}

impl DiagnosisConfig {
    pub(crate) fn build(&self) -> Result<DiagnosisPlan, ConfigError> {
        if !(self.per_second.is_finite() && self.per_second > 0.0) {
            return Err(invalid("diagnosis.per_second must be a positive number"));
        }
        if self.burst == 0 || self.queue == 0 || self.max_macs == 0 || self.max_bytes == 0 {
            return Err(invalid("diagnosis.burst, queue, max_macs and max_bytes must be positive"));
        }
        Ok(DiagnosisPlan {
            enabled: self.enabled,
            per_second: self.per_second,
            burst: f64::from(self.burst),
            queue: self.queue,
            budget: Budget { max_macs: self.max_macs, max_bytes: self.max_bytes },
        })
    }
}

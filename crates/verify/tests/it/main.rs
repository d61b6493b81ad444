//! Integration tests of hookgate-verify: published vectors, the per-preset conformance harness,
//! and property tests. One binary, so the crate is linked once.

mod conformance;
mod credentials;
mod jwt;
mod properties;
mod support;
mod vectors;

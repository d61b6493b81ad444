//! The operator API over raw HTTP/1.1: the shared client (`hookgate-test-support`).
// Each test binary uses a different subset.
#![allow(unused_imports)]

pub(crate) use hookgate_test_support::http::{Reply, enc, get, raw, request};

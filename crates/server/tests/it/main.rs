//! The gateway over real HTTP: a server on 127.0.0.1:0 with a real SQLite file per test.

mod admin_api;
mod app;
mod config;
mod deliver;
mod ingest;
mod kinds;
mod limits;
mod openapi;
mod support;
mod tls;

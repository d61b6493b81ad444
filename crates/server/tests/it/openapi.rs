//! The OpenAPI document is committed (`crates/server/openapi.json`): a change to the operator
//! API's contract shows in review as a diff of that file, and this test fails until it is
//! regenerated (`HOOKGATE_UPDATE_OPENAPI=1 cargo test -p hookgate-server openapi`).

#[test]
fn the_committed_openapi_document_is_the_served_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let served = hookgate_server::admin::openapi::pretty();
    if std::env::var_os("HOOKGATE_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &served).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == served,
        "crates/server/openapi.json differs from the document the API serves: review the change, then run \
         HOOKGATE_UPDATE_OPENAPI=1 cargo test -p hookgate-server openapi"
    );
}

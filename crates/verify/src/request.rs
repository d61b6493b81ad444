//! The request as the verifier sees it: exact raw body bytes plus what some schemes also sign.

use http::HeaderMap;

/// A received webhook request, borrowed.
///
/// `body` must be the bytes exactly as they arrived. Re-serialised JSON (a parsed and re-printed
/// body) changes whitespace and key order and is the commonest cause of failing signatures.
#[derive(Clone, Copy, Debug)]
pub struct WebhookRequest<'a> {
    /// The HTTP method (`POST`), signed by HubSpot v3.
    pub method: &'a str,
    /// The full URL the provider posted to, as the provider knows it (scheme, host, path and query),
    /// signed by Square, Twilio and HubSpot. Behind a proxy this is the public URL, not the local one.
    pub url: Option<&'a str>,
    /// Request headers (names are case-insensitive; repeated values are kept).
    pub headers: &'a HeaderMap,
    /// The raw body bytes (any bytes: JSON, form-encoded, binary).
    pub body: &'a [u8],
}

impl<'a> WebhookRequest<'a> {
    /// A `POST` with no URL.
    pub fn new(headers: &'a HeaderMap, body: &'a [u8]) -> Self {
        Self { method: "POST", url: None, headers, body }
    }

    /// Sets the URL.
    #[must_use]
    pub fn with_url(mut self, url: &'a str) -> Self {
        self.url = Some(url);
        self
    }

    /// Sets the method.
    #[must_use]
    pub fn with_method(mut self, method: &'a str) -> Self {
        self.method = method;
        self
    }
}

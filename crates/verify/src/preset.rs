//! Provider presets: each one is a TOML file in `crates/verify/presets/`, in the same flat form
//! as a custom scheme file (`hookgate schemes --show NAME` prints it back), with the provider's
//! documentation cited at its top and in `docs`.
//!
//! Adding a provider is adding a file and its line below, plus a vector in
//! `tests/vectors.toml`: data over the engines, no code. Rejection statuses follow each
//! provider's guide where it names one; where it does not, 401 is used (the request failed
//! authentication). Tolerances follow the provider's official SDK.

use std::sync::LazyLock;

use crate::scheme::Scheme;

macro_rules! presets {
    ($($name:literal),* $(,)?) => {
        /// Names of every preset, in the order `hookgate schemes` lists them.
        pub const PRESETS: &[&str] = &[$($name),*];
        const FILES: &[&str] = &[$(include_str!(concat!("../presets/", $name, ".toml"))),*];
    };
}

presets!(
    "flinks",
    "flinks-pay",
    "fin",
    "standard-webhooks",
    "svix",
    "stripe",
    "github",
    "shopify",
    "slack",
    "paddle",
    "square",
    "twilio",
    "zoom",
    "twitch",
    "hubspot-v3",
    "discord",
    "telnyx",
    "sendgrid",
    "plaid",
    "mailgun",
    "twitter",
    "gitlab",
    "airtable",
    "attio",
    "bitbucket",
    "cal-com",
    "calendly",
    "checkout",
    "circleci",
    "clerk",
    "coinbase-commerce",
    "customer-io",
    "docusign",
    "elevenlabs",
    "expo",
    "fastspring",
    "forgejo",
    "frameio",
    "gitea",
    "gocardless",
    "intercom",
    "launchdarkly",
    "lemon-squeezy",
    "line",
    "linear",
    "mandrill",
    "microsoft-teams",
    "mollie",
    "mux",
    "notion",
    "openai",
    "pagerduty",
    "paystack",
    "persona",
    "polar",
    "razorpay",
    "replicate",
    "resend",
    "sanity",
    "segment",
    "sentry",
    "tailscale",
    "tally",
    "trello",
    "typeform",
    "vercel",
    "webflow",
    "woocommerce",
    "workos",
    "xero",
    "zendesk",
    "generic-hmac-sha256",
    "basic-auth",
    "bearer-token",
    "api-key-header",
);

/// Every preset, parsed once. The files are part of the build and a test parses and validates
/// each one, so a broken file fails the test suite, not a user.
static PARSED: LazyLock<Vec<Scheme>> = LazyLock::new(|| {
    FILES
        .iter()
        .zip(PRESETS)
        .map(|(text, name)| toml::from_str(text).unwrap_or_else(|e| panic!("preset {name}: {e}")))
        .collect()
});

/// The preset with this name, or `None`.
///
/// # Examples
/// ```
/// let scheme = hookgate_verify::preset("flinks").unwrap();
/// assert_eq!(scheme.rejection.status, 403);
/// ```
pub fn preset(name: &str) -> Option<Scheme> {
    PARSED.iter().find(|s| s.name == name).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid_and_named_as_listed() {
        for (name, text) in PRESETS.iter().zip(FILES) {
            let s: Scheme = toml::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s.name, *name);
            s.validate().unwrap();
            let docs = s.docs.as_deref().unwrap_or_else(|| panic!("{name} cites its documentation"));
            assert!(text.starts_with("# "), "{name}: the file starts with what the provider does and where it says so");
            assert!(docs.starts_with("https://"), "{name}: {docs}");
        }
        assert!(preset("nope").is_none());
        let mut names: Vec<&str> = PRESETS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PRESETS.len(), "a preset is listed twice");
    }

    #[test]
    fn every_file_in_the_folder_is_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("presets");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
            assert!(PRESETS.contains(&stem.as_str()), "{} is not in presets!()", path.display());
        }
    }
}

//! Provider presets: each one is a [`Scheme`] value, with the provider's documentation cited.
//!
//! Rejection statuses follow each provider's guide where it names one; where it does not, 401 is
//! used (the request failed authentication). Tolerances follow the provider's official SDK.

use crate::algorithm::Algorithm;
use crate::encoding::Encoding;
use crate::scheme::{
    AlgorithmSpec, BodyDigestParam, Challenge, ChallengeMatch, ChallengeReply, MetadataParse, MetadataSpec, Part,
    Reply, Scheme, SignatureHeader, TimestampSpec,
};
use crate::secret::SecretEncoding;
use crate::timestamp::{TimestampFormat, Window};

/// Names of every preset, in the order `hookgate schemes` lists them.
pub const PRESETS: [&str; 16] = [
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
    "generic-hmac-sha256",
];

/// The preset with this name, or `None`.
///
/// # Examples
/// ```
/// let scheme = hookgate_verify::preset("flinks").unwrap();
/// assert_eq!(scheme.rejection.status, 403);
/// ```
pub fn preset(name: &str) -> Option<Scheme> {
    Some(match name {
        "flinks" => flinks(),
        "flinks-pay" => flinks_pay(),
        "fin" => fin(),
        "standard-webhooks" => standard_webhooks("webhook"),
        "svix" => Scheme {
            name: "svix".into(),
            docs: Some("https://docs.svix.com/receiving/verifying-payloads/how-manual".into()),
            ..standard_webhooks("svix")
        },
        "stripe" => stripe(),
        "github" => github(),
        "shopify" => shopify(),
        "slack" => slack(),
        "paddle" => paddle(),
        "square" => square(),
        "twilio" => twilio(),
        "zoom" => zoom(),
        "twitch" => twitch(),
        "hubspot-v3" => hubspot_v3(),
        "generic-hmac-sha256" => generic(),
        _ => return None,
    })
}

/// Fields every preset starts from; each preset overrides what differs.
fn base(name: &str, docs: &str, signature: Vec<SignatureHeader>, content: Vec<Part>) -> Scheme {
    Scheme {
        name: name.into(),
        docs: Some(docs.into()),
        signature,
        content,
        algorithm: AlgorithmSpec::Fixed(Algorithm::Sha256),
        timestamp: None,
        secret_encoding: SecretEncoding::Utf8,
        allow_sha1: false,
        id_header: None,
        event_type_header: None,
        id_pointer: None,
        event_type_pointer: None,
        body_digest_param: None,
        rejection: Reply::text(401, "Invalid signature"),
        success: Reply::text(200, "OK"),
        challenge: None,
        url_port_variant: false,
        metadata: Vec::new(),
    }
}

fn challenge_json(pointer: &str, value: &str, reply: ChallengeReply) -> Option<Challenge> {
    Some(Challenge { when: ChallengeMatch::Json { pointer: pointer.into(), value: value.into() }, reply })
}

fn lit(s: &str) -> Part {
    Part::Literal(s.into())
}

fn header(s: &str) -> Part {
    Part::Header(s.into())
}

fn ts_header(header: &str, format: TimestampFormat, tolerance_secs: u64, window: Window) -> Option<TimestampSpec> {
    Some(TimestampSpec { header: Some(header.into()), format, tolerance_secs, window })
}

/// Flinks: `X-Flinks-Signature: base64(HMAC-SHA256(secret, raw body))`; 403 on mismatch; retries up
/// to 10 times at 30-minute intervals. Source: Flinks "Webhook HMAC signature verification" guide
/// (shared/seeds/000). Older integrations send the same value as `flinks-authenticity-key`.
fn flinks() -> Scheme {
    let field = |name: &str, pointer: &str, parse| MetadataSpec { name: name.into(), pointer: pointer.into(), parse };
    Scheme {
        event_type_pointer: Some("/ResponseType".into()),
        // The routing fields the Flinks guide names. `Tag` is the integrator's own `k=v,k=v` string.
        metadata: vec![
            field("response_type", "/ResponseType", MetadataParse::Raw),
            field("http_status_code", "/HttpStatusCode", MetadataParse::Raw),
            field("login_id", "/Login/Id", MetadataParse::Raw),
            field("tag", "/Tag", MetadataParse::Pairs),
        ],
        rejection: Reply::json(403, r#"{"error":"Invalid signature"}"#),
        success: Reply::json(200, r#"{"status":"ok"}"#),
        ..base(
            "flinks",
            "https://docs.flinks.com/docs/webhook-hmac-signature",
            vec![
                SignatureHeader::single("X-Flinks-Signature", Encoding::Base64, ""),
                SignatureHeader::single("flinks-authenticity-key", Encoding::Base64, ""),
            ],
            vec![Part::Body],
        )
    }
}

/// Flinks Pay: `X-Webhook-Signature: sha256=<hex>` (often upper-case hex) over the raw body; 401.
fn flinks_pay() -> Scheme {
    base(
        "flinks-pay",
        "https://docs.flinks.com/docs/flinks-pay-webhooks",
        vec![SignatureHeader::single("X-Webhook-Signature", Encoding::Hex, "sha256=")],
        vec![Part::Body],
    )
}

/// Fin: `x-fin-signature = hex(HMAC(alg, secret, raw body))`, `alg` from `x-fin-signature-algorithm`
/// (absent → sha256); 401 `Invalid signature` with no details. Source: Fin "Webhook signature
/// verification" guide (shared/seeds/003). The sender names the algorithm, so it is pinned to an
/// allow-list (sha256, sha384, sha512 by default).
fn fin() -> Scheme {
    Scheme {
        algorithm: AlgorithmSpec::FromHeader {
            header: "x-fin-signature-algorithm".into(),
            default: Some(Algorithm::Sha256),
            allowed: vec![Algorithm::Sha256, Algorithm::Sha384, Algorithm::Sha512],
        },
        ..base(
            "fin",
            "https://docs.fin.ai/webhooks/signature-verification",
            vec![SignatureHeader::single("x-fin-signature", Encoding::Hex, "")],
            vec![Part::Body],
        )
    }
}

/// Standard Webhooks (and Svix, with `svix-` headers): content `id.timestamp.body`, secret
/// `whsec_<base64>`, `webhook-signature: v1,<base64> [v1,<base64> …]`, ±5 minutes.
/// Source: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
fn standard_webhooks(prefix: &str) -> Scheme {
    let id = format!("{prefix}-id");
    let ts = format!("{prefix}-timestamp");
    Scheme {
        timestamp: ts_header(&ts, TimestampFormat::Seconds, 300, Window::Symmetric),
        secret_encoding: SecretEncoding::Whsec,
        id_header: Some(id.clone()),
        event_type_pointer: Some("/type".into()),
        rejection: Reply::text(400, "Invalid signature"),
        success: Reply::text(204, ""),
        ..base(
            "standard-webhooks",
            "https://www.standardwebhooks.com/",
            vec![SignatureHeader {
                separator: Some(' '),
                ..SignatureHeader::single(&format!("{prefix}-signature"), Encoding::Base64, "v1,")
            }],
            vec![header(&id), lit("."), Part::Timestamp, lit("."), Part::Body],
        )
    }
}

/// Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]` over `t.body`; the `whsec_…` secret is used
/// as raw UTF-8; 5-minute tolerance on old events only (stripe-node `DEFAULT_TOLERANCE`); answer 400.
/// Source: https://docs.stripe.com/webhooks#verify-manually
fn stripe() -> Scheme {
    Scheme {
        timestamp: Some(TimestampSpec {
            header: None,
            format: TimestampFormat::Seconds,
            tolerance_secs: 300,
            window: Window::PastOnly,
        }),
        id_pointer: Some("/id".into()),
        event_type_pointer: Some("/type".into()),
        rejection: Reply::text(400, "Invalid signature"),
        ..base(
            "stripe",
            "https://docs.stripe.com/webhooks#verify-manually",
            vec![SignatureHeader {
                separator: Some(','),
                key: Some("v1".into()),
                timestamp_key: Some("t".into()),
                ..SignatureHeader::single("Stripe-Signature", Encoding::Hex, "")
            }],
            vec![Part::Timestamp, lit("."), Part::Body],
        )
    }
}

/// GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body; the legacy `X-Hub-Signature:
/// sha1=<hex>` is read only with `allow_sha1`. Delivery id `X-GitHub-Delivery`, event `X-GitHub-Event`.
/// Source: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
fn github() -> Scheme {
    Scheme {
        id_header: Some("X-GitHub-Delivery".into()),
        event_type_header: Some("X-GitHub-Event".into()),
        ..base(
            "github",
            "https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries",
            vec![
                SignatureHeader::single("X-Hub-Signature-256", Encoding::Hex, "sha256="),
                SignatureHeader {
                    algorithm: Some(Algorithm::Sha1),
                    ..SignatureHeader::single("X-Hub-Signature", Encoding::Hex, "sha1=")
                },
            ],
            vec![Part::Body],
        )
    }
}

/// Shopify: `X-Shopify-Hmac-Sha256: base64(HMAC-SHA256(secret, body))`; answer 401 when invalid.
/// Source: https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-2-validate-the-origin-of-your-webhook-to-ensure-its-coming-from-shopify
fn shopify() -> Scheme {
    Scheme {
        id_header: Some("X-Shopify-Webhook-Id".into()),
        event_type_header: Some("X-Shopify-Topic".into()),
        ..base(
            "shopify",
            "https://shopify.dev/docs/apps/build/webhooks/subscribe/https",
            vec![SignatureHeader::single("X-Shopify-Hmac-Sha256", Encoding::Base64, "")],
            vec![Part::Body],
        )
    }
}

/// Slack: `X-Slack-Signature: v0=<hex>` over `v0:<timestamp>:<body>`, `X-Slack-Request-Timestamp`
/// within 5 minutes either way. Source: https://api.slack.com/authentication/verifying-requests-from-slack
fn slack() -> Scheme {
    Scheme {
        timestamp: ts_header("X-Slack-Request-Timestamp", TimestampFormat::Seconds, 300, Window::Symmetric),
        event_type_pointer: Some("/type".into()),
        // Events API: "respond with the challenge value" (https://api.slack.com/events/url_verification).
        challenge: challenge_json("/type", "url_verification", ChallengeReply::Echo { pointer: "/challenge".into() }),
        ..base(
            "slack",
            "https://api.slack.com/authentication/verifying-requests-from-slack",
            vec![SignatureHeader::single("X-Slack-Signature", Encoding::Hex, "v0=")],
            vec![lit("v0:"), Part::Timestamp, lit(":"), Part::Body],
        )
    }
}

/// Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex>` over `ts:body`; the secret key is used
/// as raw text; Paddle's SDKs allow 5 seconds of age.
/// Source: https://developer.paddle.com/webhooks/signature-verification
fn paddle() -> Scheme {
    Scheme {
        timestamp: Some(TimestampSpec {
            header: None,
            format: TimestampFormat::Seconds,
            tolerance_secs: 5,
            window: Window::PastOnly,
        }),
        id_pointer: Some("/event_id".into()),
        event_type_pointer: Some("/event_type".into()),
        ..base(
            "paddle",
            "https://developer.paddle.com/webhooks/signature-verification",
            vec![SignatureHeader {
                separator: Some(';'),
                key: Some("h1".into()),
                timestamp_key: Some("ts".into()),
                ..SignatureHeader::single("Paddle-Signature", Encoding::Hex, "")
            }],
            vec![Part::Timestamp, lit(":"), Part::Body],
        )
    }
}

/// Square: `x-square-hmacsha256-signature: base64(HMAC-SHA256(key, notification URL + body))`.
/// The URL must be exactly the subscription's notification URL.
/// Source: https://developer.squareup.com/docs/webhooks/step3validate
fn square() -> Scheme {
    Scheme {
        id_pointer: Some("/event_id".into()),
        event_type_pointer: Some("/type".into()),
        rejection: Reply::text(403, "Invalid signature"),
        ..base(
            "square",
            "https://developer.squareup.com/docs/webhooks/step3validate",
            vec![SignatureHeader::single("x-square-hmacsha256-signature", Encoding::Base64, "")],
            vec![Part::Url, Part::Body],
        )
    }
}

/// Twilio: `X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL + sorted form params))`. For JSON
/// bodies the URL carries `bodySHA256=<hex sha256(body)>` and only the URL is signed. Twilio offers
/// no other algorithm, so SHA-1 is allowed here. Source: https://www.twilio.com/docs/usage/webhooks/webhooks-security
fn twilio() -> Scheme {
    Scheme {
        algorithm: AlgorithmSpec::Fixed(Algorithm::Sha1),
        allow_sha1: true,
        body_digest_param: Some(BodyDigestParam {
            param: "bodySHA256".into(),
            algorithm: Algorithm::Sha256,
            encoding: Encoding::Hex,
        }),
        url_port_variant: true,
        rejection: Reply::text(403, "Invalid signature"),
        ..base(
            "twilio",
            "https://www.twilio.com/docs/usage/webhooks/webhooks-security",
            vec![SignatureHeader::single("X-Twilio-Signature", Encoding::Base64, "")],
            vec![Part::Url, Part::SortedFormParams],
        )
    }
}

/// Zoom: `x-zm-signature: v0=<hex>` over `v0:<x-zm-request-timestamp>:<body>`.
/// Source: https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events
fn zoom() -> Scheme {
    Scheme {
        timestamp: ts_header("x-zm-request-timestamp", TimestampFormat::Seconds, 300, Window::Symmetric),
        event_type_pointer: Some("/event".into()),
        // URL validation: answer plainToken and hex(HMAC-SHA256(secret token, plainToken)).
        challenge: challenge_json(
            "/event",
            "endpoint.url_validation",
            ChallengeReply::HmacToken { pointer: "/payload/plainToken".into() },
        ),
        ..base(
            "zoom",
            "https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events",
            vec![SignatureHeader::single("x-zm-signature", Encoding::Hex, "v0=")],
            vec![lit("v0:"), Part::Timestamp, lit(":"), Part::Body],
        )
    }
}

/// Twitch EventSub: `Twitch-Eventsub-Message-Signature: sha256=<hex>` over message id + timestamp +
/// body; the RFC 3339 timestamp may be at most 10 minutes old; answer a 4xx (403 here).
/// Source: https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#verifying-the-event-message
fn twitch() -> Scheme {
    Scheme {
        timestamp: ts_header("Twitch-Eventsub-Message-Timestamp", TimestampFormat::Rfc3339, 600, Window::PastOnly),
        id_header: Some("Twitch-Eventsub-Message-Id".into()),
        event_type_header: Some("Twitch-Eventsub-Subscription-Type".into()),
        // Subscription verification: 200 with the raw `challenge` as text/plain.
        challenge: Some(Challenge {
            when: ChallengeMatch::Header {
                name: "Twitch-Eventsub-Message-Type".into(),
                value: "webhook_callback_verification".into(),
            },
            reply: ChallengeReply::Echo { pointer: "/challenge".into() },
        }),
        rejection: Reply::text(403, "Invalid signature"),
        success: Reply::text(204, ""),
        ..base(
            "twitch",
            "https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#verifying-the-event-message",
            vec![SignatureHeader::single("Twitch-Eventsub-Message-Signature", Encoding::Hex, "sha256=")],
            vec![header("Twitch-Eventsub-Message-Id"), Part::Timestamp, Part::Body],
        )
    }
}

/// HubSpot v3: `X-HubSpot-Signature-v3: base64(HMAC-SHA256(client secret, method + URI + body +
/// timestamp))`, `X-HubSpot-Request-Timestamp` in milliseconds, rejected when older than 5 minutes.
/// Source: https://developers.hubspot.com/docs/api/webhooks/validating-requests
fn hubspot_v3() -> Scheme {
    Scheme {
        timestamp: ts_header("X-HubSpot-Request-Timestamp", TimestampFormat::Milliseconds, 300, Window::PastOnly),
        ..base(
            "hubspot-v3",
            "https://developers.hubspot.com/docs/api/webhooks/validating-requests",
            vec![SignatureHeader::single("X-HubSpot-Signature-v3", Encoding::Base64, "")],
            vec![Part::Method, Part::UrlUnescaped, Part::Body, Part::Timestamp],
        )
    }
}

/// A plain `X-Signature: sha256=<hex>` over the body, for in-house senders.
fn generic() -> Scheme {
    base(
        "generic-hmac-sha256",
        "https://github.com/hookgate/hookgate#schemes",
        vec![SignatureHeader::single("X-Signature", Encoding::Hex, "sha256=")],
        vec![Part::Body],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid_and_named_as_listed() {
        for name in PRESETS {
            let s = preset(name).unwrap();
            assert_eq!(s.name, name);
            s.validate().unwrap();
            assert!(s.docs.is_some(), "{name} cites its documentation");
        }
        assert!(preset("nope").is_none());
    }
}

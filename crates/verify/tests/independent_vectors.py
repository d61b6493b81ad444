#!/usr/bin/env python3
"""Known-answer vectors computed by an independent implementation (Python's hmac/hashlib),
following each provider's documented algorithm, for presets whose providers publish no vector
of their own. Prints TOML [[vector]] entries; its output is pasted into vectors.toml.

    python3 crates/verify/tests/independent_vectors.py
"""
import base64
import hashlib
import hmac
import json


def h(alg, key, msg):
    return hmac.new(key.encode(), msg, alg).digest()


def toml_str(s):
    return json.dumps(s)  # a TOML basic string is JSON-compatible for these inputs


def vector(scheme, source, secret, body, now, headers, url=None, method=None, resign=True):
    print("[[vector]]")
    print(f"scheme = {toml_str(scheme)}")
    print(f"source = {toml_str('independent: ' + source)}")
    print(f"secret = {toml_str(secret)}")
    print(f"body = {toml_str(body.decode())}")
    if url:
        print(f"url = {toml_str(url)}")
    if method:
        print(f"method = {toml_str(method)}")
    print(f"now = {now}")
    print("headers = [")
    for k, v in headers:
        print(f"  [{toml_str(k)}, {toml_str(v)}],")
    print("]")
    print('expect = "valid"')
    if not resign:
        print("resign = false")
    print()


body = b'{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","type":"payment_intent.succeeded","data":{"object":{"amount":2000}}}'
ts = 1700000000

# Flinks Pay: X-Webhook-Signature: sha256=<HEX> (upper case, as Flinks Pay sends it).
sig = h(hashlib.sha256, "flinks-pay-secret", body).hex().upper()
vector("flinks-pay", "hmac-sha256 over the body, upper-case hex", "flinks-pay-secret", body, ts,
       [("X-Webhook-Signature", "sha256=" + sig)])

# Stripe: t=<ts>,v1=hex(hmac(secret, "<ts>." + body)); the whsec_ secret is used as raw text.
secret = "whsec_test_secret_for_hookgate"
sig = h(hashlib.sha256, secret, f"{ts}.".encode() + body).hex()
vector("stripe", "Stripe docs 'verify manually': t.body, hex, raw whsec_ text as key", secret, body, ts + 10,
       [("Stripe-Signature", f"t={ts},v1={sig}")])

# Shopify: base64(hmac(secret, body)).
sig = base64.b64encode(h(hashlib.sha256, "shpss_test", body)).decode()
vector("shopify", "Shopify docs: base64 hmac-sha256 of the body", "shpss_test", body, ts,
       [("X-Shopify-Hmac-Sha256", sig), ("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"),
        ("X-Shopify-Topic", "orders/create")])

# Paddle: ts=<ts>;h1=hex(hmac(secret, "<ts>:" + body)).
secret = "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI"
sig = h(hashlib.sha256, secret, f"{ts}:".encode() + body).hex()
vector("paddle", "Paddle docs: ts:body, hex in ts=..;h1=..", secret, body, ts + 1,
       [("Paddle-Signature", f"ts={ts};h1={sig}")])

# Square: base64(hmac(key, notification_url + body)).
url = "https://example.com/webhooks/square"
sig = base64.b64encode(h(hashlib.sha256, "square-signature-key", url.encode() + body)).decode()
vector("square", "Square docs: notification URL + body, base64", "square-signature-key", body, ts,
       [("x-square-hmacsha256-signature", sig)], url=url)

# Zoom: v0=hex(hmac(secret, "v0:<ts>:" + body)).
sig = h(hashlib.sha256, "zoom-secret-token", f"v0:{ts}:".encode() + body).hex()
vector("zoom", "Zoom docs: v0:timestamp:body, hex", "zoom-secret-token", body, ts,
       [("x-zm-request-timestamp", str(ts)), ("x-zm-signature", "v0=" + sig)])

# Twitch: sha256=hex(hmac(secret, id + timestamp + body)), RFC 3339 timestamp.
mid, mts = "e76c6bd4-55c9-4987-8304-da1588d8988b", "2023-11-14T22:13:20.123456789Z"
sig = h(hashlib.sha256, "twitch-eventsub-secret", (mid + mts).encode() + body).hex()
vector("twitch", "Twitch docs: message id + timestamp + body", "twitch-eventsub-secret", body, ts + 60,
       [("Twitch-Eventsub-Message-Id", mid), ("Twitch-Eventsub-Message-Timestamp", mts),
        ("Twitch-Eventsub-Message-Signature", "sha256=" + sig),
        ("Twitch-Eventsub-Subscription-Type", "channel.follow")],
       # Timestamps keep milliseconds, so re-signing cannot reproduce a nanosecond timestamp text;
       # verification signs the header text exactly as received.
       resign=False)

# HubSpot v3: base64(hmac(secret, method + uri + body + timestamp_ms)); %3A etc. decoded in the URI.
# HubSpot decodes only %3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B (so %3D stays).
url_sent = "https://example.com/webhooks/hubspot%3Fportal%3D1%2Cx%3Ay"
url_signed = "https://example.com/webhooks/hubspot?portal%3D1,x:y"
tms = str(ts * 1000)
sig = base64.b64encode(h(hashlib.sha256, "hubspot-client-secret", b"POST" + url_signed.encode() + body + tms.encode())).decode()
vector("hubspot-v3", "HubSpot docs: method + decoded URI + body + timestamp (ms)", "hubspot-client-secret", body, ts + 30,
       [("X-HubSpot-Request-Timestamp", tms), ("X-HubSpot-Signature-v3", sig)], url=url_sent, method="POST")

# generic-hmac-sha256: X-Signature: sha256=<hex>.
sig = h(hashlib.sha256, "generic-secret", body).hex()
vector("generic-hmac-sha256", "hmac-sha256 over the body", "generic-secret", body, ts,
       [("X-Signature", "sha256=" + sig)])

# Ed25519 presets: the Python `cryptography` package's Ed25519 (OpenSSL underneath), keyed with
# RFC 8032 §7.1 TEST 1's secret key. Ed25519 is deterministic, so the private-key vector must be
# reproduced byte for byte by `sign`; the public-key vector is what a receiver configures.
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
sk = Ed25519PrivateKey.from_private_bytes(seed)
pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
assert pk.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"

# Discord: X-Signature-Ed25519 = hex(Ed25519(timestamp + body)); the key in hex.
dbody = b'{"type":2,"id":"1180000000000000000","data":{"name":"ping"}}'
dsig = sk.sign(str(ts).encode() + dbody).hex()
for key, note, resign in [(pk.hex(), "public key (hex)", False), ((seed + pk).hex(), "seed and public key (hex)", True)]:
    vector("discord", f"Ed25519(timestamp + body), RFC 8032 TEST 1 key, {note}", key, dbody, ts + 3,
           [("X-Signature-Ed25519", dsig), ("X-Signature-Timestamp", str(ts))], resign=resign)

# Telnyx: telnyx-signature-ed25519 = base64(Ed25519(timestamp + "|" + body)); the key in base64.
tbody = b'{"data":{"event_type":"message.received","id":"b301ed3f-1490-491f-995f-6e64e69674d4","payload":{"text":"Hi"}}}'
tsig = base64.b64encode(sk.sign(str(ts).encode() + b"|" + tbody)).decode()
for key, note, resign in [(base64.b64encode(pk).decode(), "public key (base64)", False),
                          (base64.b64encode(seed + pk).decode(), "seed and public key (base64)", True)]:
    vector("telnyx", f"Ed25519(timestamp | body), RFC 8032 TEST 1 key, {note}", key, tbody, ts + 10,
           [("telnyx-signature-ed25519", tsig), ("telnyx-timestamp", str(ts))], resign=resign)

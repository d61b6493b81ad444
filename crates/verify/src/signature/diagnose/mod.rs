//! Why a request did not verify: the vendor guides' troubleshooting list, run by the engine.
//!
//! A rejection says *what* failed (`signature_mismatch`); diagnosis says *why*, by trying the
//! known mistakes one at a time and reporting those under which the signature is valid: the
//! body re-serialized, a retired or mis-decoded secret, whitespace around the secret, the MAC
//! written in another encoding, another algorithm, the URL as a proxy changed it, the request
//! meant for another source. Clock skew and missing headers are read from the request itself.
//!
//! Each variant changes one thing, so a finding is proof, not a guess: the signature *is* the
//! MAC of that variant. The work is bounded by a [`Budget`] (MACs computed and bytes hashed), and
//! the findings are for operators only; the sender's reply never changes.

pub(crate) mod body;
mod json;
mod reading;
mod url;

use std::borrow::Cow;

use base64::Engine as _;
use http::HeaderValue;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use self::reading::{Candidate, candidates, look_alikes, loose_timestamp, similar};
use super::content::{assemble, check_body_digest, single_text};
use super::header::{MAX_HEADER_VALUES, parse};
use super::primitive::{self, Primitive};
use super::{SigHeader, Verifier};
use crate::algorithm::Algorithm;
use crate::auth::Auth;
use crate::encoding::{BASE64_ANY_PAD, BASE64URL_ANY_PAD, MacBytes};
use crate::error::Rejection;
use crate::request::WebhookRequest;
use crate::scheme::{AlgorithmSpec, Part};
use crate::secret::{Secret, SecretEncoding, SecretText};
use crate::timestamp::{Age, Timestamp, TimestampFormat, check_window};

/// A reason a request failed, as diagnosis found it (the codes are part of the CLI's and the
/// API's contract).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Cause {
    /// The signature header (or another required header) is absent, empty or repeated.
    HeaderMissing,
    /// The signed timestamp is outside the window.
    ClockSkew,
    /// The request verifies for another configured source.
    WrongSource,
    /// It matches a secret listed as retired.
    SecretRetired,
    /// It matches the secret decoded another way.
    SecretEncoding,
    /// It matches the secret with whitespace added or removed.
    SecretWhitespace,
    /// The MAC is right but written in another encoding or with another prefix.
    SignatureEncoding,
    /// It matches under another hash.
    AlgorithmMismatch,
    /// It matches another form of the URL (a proxy in front).
    UrlMismatch,
    /// It matches a re-serialized form of the body.
    BodyReserialized,
}

impl Cause {
    /// Every cause.
    pub const ALL: [Cause; 10] = [
        Cause::HeaderMissing,
        Cause::ClockSkew,
        Cause::WrongSource,
        Cause::SecretRetired,
        Cause::SecretEncoding,
        Cause::SecretWhitespace,
        Cause::SignatureEncoding,
        Cause::AlgorithmMismatch,
        Cause::UrlMismatch,
        Cause::BodyReserialized,
    ];

    /// The stable code (`body-reserialized`, …), for JSON, logs and metric labels.
    pub fn code(self) -> &'static str {
        match self {
            Cause::HeaderMissing => "header-missing",
            Cause::ClockSkew => "clock-skew",
            Cause::WrongSource => "wrong-source",
            Cause::SecretRetired => "secret-retired",
            Cause::SecretEncoding => "secret-encoding",
            Cause::SecretWhitespace => "secret-whitespace",
            Cause::SignatureEncoding => "signature-encoding",
            Cause::AlgorithmMismatch => "algorithm-mismatch",
            Cause::UrlMismatch => "url-mismatch",
            Cause::BodyReserialized => "body-reserialized",
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// One explanation with its evidence. The detail names headers, encodings, algorithms, labels
/// and fingerprints, never a secret, a MAC or the body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What it was.
    pub cause: Cause,
    /// The evidence, for an operator.
    pub detail: String,
}

/// How much work one diagnosis may do. Each variant costs one MAC over its content; a large body
/// makes each MAC dearer, so bytes hashed are bounded too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// MACs computed, at most.
    pub max_macs: usize,
    /// Bytes hashed, at most.
    pub max_bytes: usize,
}

impl Default for Budget {
    /// About 130 variants for two secrets and a JSON body: everything, with room to spare; 4 MiB
    /// keeps a diagnosis of a large body to a few milliseconds.
    fn default() -> Self {
        Self { max_macs: 256, max_bytes: 4 * 1024 * 1024 }
    }
}

/// What diagnosis may use besides the verifier itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct Clues<'a> {
    /// The configured secrets' text, in the verifier's order (to try other decodings and
    /// whitespace). Without them only the decoded keys are tried.
    pub secrets: &'a [SecretText],
    /// Secrets retired from this source, tried only here: a match tells the sender still uses one.
    pub retired: &'a [SecretText],
    /// The other configured sources, by name: a request that verifies there was sent to the wrong
    /// endpoint.
    pub others: &'a [(&'a str, &'a Auth)],
    /// The work allowed.
    pub budget: Budget,
}

/// The findings, most likely first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnosis {
    /// Explanations found; empty when none of the known causes explains the failure (or the
    /// request verifies).
    pub findings: Vec<Finding>,
    /// Whether the budget ran out before every variant was tried.
    pub exhausted: bool,
}

impl Verifier {
    /// Explains why `req` does not verify at `now` (empty when it does).
    ///
    /// Pure and bounded: it computes at most `clues.budget` MACs, reads no clock and does no I/O.
    pub fn diagnose(&self, req: &WebhookRequest<'_>, now: Timestamp, clues: &Clues<'_>) -> Diagnosis {
        let Err(rejection) = self.verify(req, now) else { return Diagnosis::default() };
        let primitive = self.sig_headers.first().map_or(Primitive::Hmac, |h| h.spec.primitive);
        let mut run =
            Run { v: self, primitive, req, clues, now, macs: 0, bytes: 0, exhausted: false, findings: Vec::new() };
        run.diagnose(&rejection, now);
        run.findings.sort_by_key(|f| rank(f.cause));
        Diagnosis { findings: run.findings, exhausted: run.exhausted }
    }
}

/// Observations read from the request come first (they are the rejection itself), then matches in
/// the order of how often each mistake is made in practice.
fn rank(c: Cause) -> usize {
    Cause::ALL.iter().position(|x| *x == c).unwrap_or(usize::MAX)
}

struct Run<'a, 'r> {
    v: &'a Verifier,
    /// The primitive of the signature header being explained.
    primitive: Primitive,
    req: &'a WebhookRequest<'r>,
    clues: &'a Clues<'a>,
    now: Timestamp,
    macs: usize,
    bytes: usize,
    exhausted: bool,
    findings: Vec<Finding>,
}

impl Run<'_, '_> {
    fn found(&mut self, cause: Cause, detail: String) {
        self.findings.push(Finding { cause, detail });
    }

    /// Whether a match (not an observation) was found: once the signature is explained, the
    /// dearer variants are not tried.
    fn explained(&self) -> bool {
        self.findings.iter().any(|f| !matches!(f.cause, Cause::HeaderMissing | Cause::ClockSkew))
    }

    /// Takes `macs` MACs over `bytes` bytes from the budget, or marks it exhausted.
    fn charge(&mut self, macs: usize, bytes: usize) -> bool {
        if self.macs.saturating_add(macs) > self.clues.budget.max_macs
            || self.bytes.saturating_add(bytes) > self.clues.budget.max_bytes
        {
            self.exhausted = true;
            return false;
        }
        self.macs += macs;
        self.bytes += bytes;
        true
    }

    /// The candidate that is `key`'s signature of `content`, asked of the primitive the
    /// signature header names; `Err(())` when the budget ran out. One check costs one unit of
    /// the budget whatever the primitive (an HMAC compares one MAC with every candidate).
    fn check<'c>(
        &mut self,
        key: Key<'_>,
        algorithm: Algorithm,
        content: &[Cow<'_, [u8]>],
        candidates: &'c [Candidate],
    ) -> Result<Option<&'c Candidate>, ()> {
        let len: usize = content.iter().map(|p| p.len()).sum();
        if !self.charge(1, len) {
            return Err(());
        }
        let macs: Vec<MacBytes> = candidates.iter().map(|c| c.mac).collect();
        let found = match key {
            Key::Configured(i) => match self.v.keys.get(i) {
                Some(k) if k.primitive() == self.primitive => k.first_match(algorithm, content, &macs),
                _ => None,
            },
            // Key text that does not make a key of this primitive (a wrong length) matches nothing.
            Key::Bytes(k) => primitive::Key::new(self.primitive, k, &[algorithm])
                .ok()
                .and_then(|k| k.first_match(algorithm, content, &macs)),
        };
        Ok(found.map(|i| &candidates[i]))
    }

    /// Whether any configured key signs `content` under `algorithm`, and through which
    /// candidate.
    fn configured_match<'c>(
        &mut self,
        algorithm: Algorithm,
        content: &[Cow<'_, [u8]>],
        candidates: &'c [Candidate],
    ) -> Option<(usize, &'c Candidate)> {
        for i in 0..self.v.secrets.len() {
            if self.v.keys.get(i).is_some_and(|k| k.primitive() != self.primitive) {
                continue;
            }
            if let Some(c) = self.check(Key::Configured(i), algorithm, content, candidates).ok()? {
                return Some((i, c));
            }
        }
        None
    }

    fn secret_name(&self, i: usize) -> String {
        match self.clues.secrets.get(i) {
            Some(t) => format!("secret `{}`", t.label()),
            None => format!("secret {}", i + 1),
        }
    }

    fn diagnose(&mut self, rejection: &Rejection, now: Timestamp) {
        let v = self.v;
        let req = self.req;
        let Some((sig, values)) = v.sig_headers.iter().find_map(|h| {
            let values: Vec<&[u8]> =
                req.headers.get_all(&h.name).iter().take(MAX_HEADER_VALUES + 1).map(HeaderValue::as_bytes).collect();
            (!values.is_empty()).then_some((h, values))
        }) else {
            self.missing_signature();
            return;
        };
        if let Rejection::MissingHeader(name) | Rejection::EmptyHeader(name) | Rejection::DuplicateHeader(name) =
            rejection
        {
            self.header_problem(name, rejection);
            if rejection == &Rejection::EmptyHeader(sig.spec.name.clone()) || !sig_is(sig, name) {
                // The signed content needs that header, or there is no signature to read.
                return;
            }
        }

        self.primitive = sig.spec.primitive;
        let strict = parse(&sig.spec, &values).ok();
        let candidates = candidates(&sig.spec, &values, strict.as_ref().map_or(&[][..], |p| &p.macs[..]));
        if candidates.is_empty() {
            return;
        }

        // The algorithm the request is checked with: the header's, the one it announces even when
        // it is not allowed (so the check below can say so), or the scheme's default.
        let (algorithm, announced) = match sig.spec.algorithm {
            Some(a) => (a, None),
            None => match &v.signing.algorithm {
                AlgorithmSpec::Fixed(a) => (*a, None),
                AlgorithmSpec::FromHeader { header, default, allowed } => {
                    let named = single_text(req.headers, header).ok().map(str::to_owned);
                    let parsed = named.as_deref().and_then(|n| n.parse::<Algorithm>().ok());
                    let fallback = default.unwrap_or(allowed[0]);
                    (parsed.unwrap_or(fallback), named)
                }
            },
        };

        let timestamp: Option<&str> = match &v.signing.timestamp {
            None => None,
            Some(spec) => {
                let raw = match &spec.header {
                    Some(h) => single_text(req.headers, h).ok(),
                    // Read loosely when the strict reader refused the header (a MAC it cannot
                    // decode), so the signature can still be checked the other ways.
                    None => strict.as_ref().and_then(|p| p.timestamp).or_else(|| loose_timestamp(&sig.spec, &values)),
                };
                let Some(raw) = raw else { return };
                let Some(ts) = Timestamp::parse(raw, spec.format) else { return };
                let age = check_window(ts, now, spec.tolerance_secs, spec.window);
                if age != Age::Fresh {
                    let skew = now.unix_millis().saturating_sub(ts.unix_millis()) / 1000;
                    let mut detail = if skew >= 0 {
                        format!(
                            "the signed timestamp ({}) is {skew} s behind Hookgate's clock; the tolerance is {} s",
                            ts, spec.tolerance_secs
                        )
                    } else {
                        format!(
                            "the signed timestamp ({}) is {} s ahead of Hookgate's clock; the tolerance is {} s",
                            ts, -skew, spec.tolerance_secs
                        )
                    };
                    let digits = raw.bytes().filter(u8::is_ascii_digit).count();
                    if spec.format == TimestampFormat::Seconds && digits >= 13 {
                        detail.push_str("; it looks like milliseconds, and the scheme reads seconds");
                    } else if spec.format == TimestampFormat::Milliseconds && digits <= 10 {
                        detail.push_str("; it looks like seconds, and the scheme reads milliseconds");
                    }
                    self.found(Cause::ClockSkew, detail);
                }
                Some(raw)
            }
        };
        let Ok(digest_in_url) = check_body_digest(&v.signing, req) else { return };
        let Ok(content) = assemble(&v.signing, req, req.headers, timestamp, digest_in_url) else { return };

        // The MAC as the scheme computes it: if it is among the signatures as the scheme reads
        // them, the signature itself is fine and the rejection was about something else.
        if let Some((i, c)) = self.configured_match(algorithm, &content, &candidates) {
            let how = c.read.clone();
            if let Some(f) = self.findings.iter_mut().find(|f| f.cause == Cause::ClockSkew) {
                f.detail.push_str(
                    "; the signature over it is valid, so this is a delayed delivery, a replay, or a clock that is off",
                );
            }
            match (how, &announced) {
                (Some(how), _) => self.found(
                    Cause::SignatureEncoding,
                    format!("the MAC is right ({}) but written {how}", self.secret_name(i)),
                ),
                (None, Some(name)) if !v.signing.algorithm.allows(algorithm) || name.parse::<Algorithm>().is_err() => self.found(
                    Cause::AlgorithmMismatch,
                    format!(
                        "the request announces `{name}`, which this source does not accept (the MAC itself is right)"
                    ),
                ),
                _ => {}
            }
            return;
        }
        self.retired(algorithm, &content, &candidates);
        self.wrong_source(now);
        if !self.explained() {
            self.secret_variants(algorithm, &content, &candidates);
        }
        if !self.explained() {
            self.algorithms(algorithm, &announced, &content, &candidates);
        }
        if !self.explained() && v.signing.content.iter().any(|p| matches!(p, Part::Url | Part::UrlUnescaped)) {
            self.urls(algorithm, timestamp, &candidates);
        }
        if !self.explained() {
            self.bodies(algorithm, timestamp, &candidates);
        }
        let (explained, exhausted) = (self.explained(), self.exhausted);
        if let Some(f) = self.findings.iter_mut().find(|f| f.cause == Cause::ClockSkew)
            && !explained
            && !exhausted
        {
            f.detail.push_str("; the signature does not match either");
        }
    }

    fn retired(&mut self, algorithm: Algorithm, content: &[Cow<'_, [u8]>], candidates: &[Candidate]) {
        let encoding = self.v.signing.secret_encoding;
        let clues = self.clues;
        for t in clues.retired {
            let Ok(key) = Secret::decode(t.text(), encoding) else { continue };
            let Ok(found) = self.check(Key::Bytes(key.expose()), algorithm, content, candidates) else { return };
            if found.is_some() {
                self.found(
                    Cause::SecretRetired,
                    // The label, not the fingerprint: every role reads rejections, and a
                    // fingerprint lets a reader test a dictionary of weak secrets offline.
                    format!("it is signed with the retired secret `{}`: the sender still uses it", t.label()),
                );
                return;
            }
        }
    }

    fn wrong_source(&mut self, now: Timestamp) {
        let clues = self.clues;
        for (name, auth) in clues.others {
            if !self.charge(1, self.req.body.len()) {
                return;
            }
            if auth.verify(self.req, now).is_ok() {
                self.found(
                    Cause::WrongSource,
                    format!("it verifies for source `{name}`: it was sent to this source's endpoint by mistake"),
                );
            }
        }
    }

    fn secret_variants(&mut self, algorithm: Algorithm, content: &[Cow<'_, [u8]>], candidates: &[Candidate]) {
        let (v, clues) = (self.v, self.clues);
        let encoding = v.signing.secret_encoding;
        for (i, t) in clues.secrets.iter().enumerate() {
            let Some(configured) = v.secrets.get(i) else { break };
            // Copies of key material: wiped when dropped, like the secrets they come from.
            let mut tried: Vec<Zeroizing<Vec<u8>>> = vec![Zeroizing::new(configured.expose().to_vec())];
            let raw = t.text();
            let text = raw.trim();
            let mut try_key = |run: &mut Self, key: Zeroizing<Vec<u8>>, cause: Cause, how: &str| -> bool {
                if key.is_empty() || tried.contains(&key) {
                    return false;
                }
                let Ok(found) = run.check(Key::Bytes(&key), algorithm, content, candidates) else { return false };
                tried.push(key);
                if found.is_some() {
                    let name = run.secret_name(i);
                    run.found(cause, format!("it matches {name} {how}"));
                    return true;
                }
                false
            };
            let name = encoding_name(encoding);
            let stripped = text.strip_prefix("whsec_");
            let z = Zeroizing::new;
            let mut encodings: Vec<(Zeroizing<Vec<u8>>, String)> = Vec::new();
            if encoding != SecretEncoding::Utf8 {
                encodings.push((z(text.as_bytes().to_vec()), format!("used as UTF-8 text, not {name}-decoded")));
            }
            if let Some(rest) = stripped {
                if encoding != SecretEncoding::Whsec
                    && let Ok(k) = BASE64_ANY_PAD.decode(rest)
                {
                    encodings
                        .push((z(k), "with `whsec_` stripped and the rest base64-decoded (Standard Webhooks)".into()));
                }
                encodings.push((z(rest.as_bytes().to_vec()), "with `whsec_` stripped, as UTF-8 text".into()));
            }
            if encoding != SecretEncoding::Base64
                && let Ok(k) = BASE64_ANY_PAD.decode(text)
            {
                encodings.push((z(k), format!("base64-decoded, not {name}")));
            }
            if let Ok(k) = BASE64URL_ANY_PAD.decode(text) {
                encodings.push((z(k), format!("base64url-decoded, not {name}")));
            }
            if encoding != SecretEncoding::Hex
                && let Some(k) = crate::secret::decode_hex_vec(text).filter(|k| !k.is_empty())
            {
                encodings.push((z(k), format!("hex-decoded, not {name}")));
            }
            for (key, how) in encodings {
                if try_key(self, key, Cause::SecretEncoding, &how) {
                    return;
                }
            }
            // Whitespace matters only where the text is the key.
            if encoding == SecretEncoding::Utf8 {
                let mut spaced: Vec<(Zeroizing<Vec<u8>>, &str)> = vec![
                    (z(format!("{text}\n").into_bytes()), "with a trailing newline (a secret file or `echo` adds one)"),
                    (z(format!("{text}\r\n").into_bytes()), "with a trailing CRLF"),
                    (z(format!("{text} ").into_bytes()), "with a trailing space"),
                    (z(format!(" {text}").into_bytes()), "with a leading space"),
                ];
                if raw != text {
                    spaced.insert(0, (z(raw.as_bytes().to_vec()), "with the whitespace around it that Hookgate trims"));
                }
                for (key, how) in spaced {
                    if try_key(self, key, Cause::SecretWhitespace, how) {
                        return;
                    }
                }
            }
        }
    }

    fn algorithms(
        &mut self,
        expected: Algorithm,
        announced: &Option<String>,
        content: &[Cow<'_, [u8]>],
        candidates: &[Candidate],
    ) {
        // Only an HMAC is keyed with a hash the sender may have picked differently.
        if self.primitive != Primitive::Hmac {
            return;
        }
        for a in Algorithm::ALL.into_iter().rev().filter(|a| *a != expected) {
            let same_length = candidates.iter().any(|c| c.mac.as_slice().len() == a.output_len());
            if !same_length {
                continue;
            }
            if let Some((i, _)) = self.configured_match(a, content, candidates) {
                let said = announced.as_ref().map(|n| format!(" (the request announces `{n}`)")).unwrap_or_default();
                let name = self.secret_name(i);
                self.found(
                    Cause::AlgorithmMismatch,
                    format!(
                        "it matches HMAC-{} with {name}; this source checks {}{said}",
                        a.name().to_uppercase(),
                        expected
                    ),
                );
                return;
            }
        }
    }

    fn urls(&mut self, algorithm: Algorithm, timestamp: Option<&str>, candidates: &[Candidate]) {
        let Some(signed) = self.req.url else { return };
        for variant in url::variants(signed, self.req.headers) {
            let req = self.req.with_url(&variant.url);
            let Ok(digest_in_url) = check_body_digest(&self.v.signing, &req) else { continue };
            let Ok(content) = assemble(&self.v.signing, &req, req.headers, timestamp, digest_in_url) else { continue };
            match self.configured_match(algorithm, &content, candidates) {
                Some(_) => {
                    self.found(
                        Cause::UrlMismatch,
                        format!("it matches the URL {}: check public_url and the proxy in front", variant.how),
                    );
                    return;
                }
                None if self.exhausted => return,
                None => {}
            }
        }
    }

    fn bodies(&mut self, algorithm: Algorithm, timestamp: Option<&str>, candidates: &[Candidate]) {
        // A body the budget cannot hash once per secret is not worth re-serializing.
        if self.req.body.len().saturating_mul(self.v.secrets.len()) > self.clues.budget.max_bytes {
            self.exhausted = true;
            return;
        }
        // No variant larger than what the budget can still hash once per secret.
        let cap = self.clues.budget.max_bytes.saturating_sub(self.bytes) / self.v.secrets.len().max(1);
        for variant in body::variants(self.req.body, cap) {
            let req = WebhookRequest { body: &variant.bytes, ..*self.req };
            let Ok(digest_in_url) = check_body_digest(&self.v.signing, &req) else { continue };
            let Ok(content) = assemble(&self.v.signing, &req, req.headers, timestamp, digest_in_url) else { continue };
            match self.configured_match(algorithm, &content, candidates) {
                Some(_) => {
                    self.found(
                        Cause::BodyReserialized,
                        format!(
                            "it matches the body {}: the bytes changed after signing (verify the raw body, never a parsed and re-printed one)",
                            variant.how
                        ),
                    );
                    return;
                }
                None if self.exhausted => return,
                None => {}
            }
        }
    }

    /// No signature header at all: what was expected, and what is there instead.
    fn missing_signature(&mut self) {
        let expected: Vec<String> =
            self.v.sig_headers.iter().map(|h| format!("`{}`", h.spec.name.to_lowercase())).collect();
        let mut detail = format!("no signature header: expected {}", expected.join(" or "));
        let alikes = look_alikes(self.req.headers, &self.v.sig_headers);
        if alikes.is_empty() {
            detail.push_str("; nothing like one is present (a proxy may strip it: nginx drops names with underscores)");
        } else {
            let shown: Vec<String> = alikes.iter().map(|(n, why)| format!("`{n}` ({why})")).collect();
            detail.push_str(&format!("; present instead: {}", shown.join(", ")));
            // The signature may be right under the wrong name.
            for (name, _) in &alikes {
                if let Some(valid) = self.valid_under(name) {
                    detail.push_str(&format!("; the signature in `{name}` is valid for this source ({valid})"));
                    break;
                }
            }
        }
        self.found(Cause::HeaderMissing, detail);
    }

    /// Re-checks the request with the look-alike header `name` read as the signature header.
    fn valid_under(&mut self, name: &str) -> Option<&'static str> {
        let value = self.req.headers.get(name)?.clone();
        let mut headers = self.req.headers.clone();
        headers.insert(self.v.sig_headers[0].name.clone(), value);
        let req = WebhookRequest { headers: &headers, ..*self.req };
        let n = self.v.secrets.len();
        if !self.charge(n, self.req.body.len().saturating_mul(n)) {
            return None;
        }
        self.v.verify(&req, self.now).is_ok().then_some("the sender names the header differently")
    }

    fn header_problem(&mut self, name: &str, rejection: &Rejection) {
        let name = name.to_lowercase();
        let detail = match rejection {
            Rejection::EmptyHeader(_) => format!("`{name}` is present but empty"),
            Rejection::DuplicateHeader(_) => {
                let n = self.req.headers.get_all(name.as_str()).iter().count();
                format!("`{name}` appears {n} times; one is required (a proxy or client library added a copy?)")
            }
            _ => {
                let mut d = format!("the scheme needs the `{name}` header, which is absent");
                let alikes: Vec<String> = self
                    .req
                    .headers
                    .keys()
                    .filter(|k| similar(k.as_str(), &name))
                    .take(4)
                    .map(|k| format!("`{}`", k.as_str()))
                    .collect();
                if !alikes.is_empty() {
                    d.push_str(&format!("; present instead: {}", alikes.join(", ")));
                }
                d
            }
        };
        self.found(Cause::HeaderMissing, detail);
    }
}

fn sig_is(sig: &SigHeader, name: &str) -> bool {
    sig.spec.name.eq_ignore_ascii_case(name)
}

fn encoding_name(e: SecretEncoding) -> &'static str {
    match e {
        SecretEncoding::Utf8 => "UTF-8",
        SecretEncoding::Whsec => "whsec (base64)",
        SecretEncoding::Hex => "hex",
        SecretEncoding::Base64 => "base64",
    }
}

/// Which key a probe uses.
#[derive(Clone, Copy)]
enum Key<'k> {
    /// The verifier's secret at this position.
    Configured(usize),
    /// Other key bytes (a variant, a retired secret).
    Bytes(&'k [u8]),
}

#[cfg(test)]
mod tests;

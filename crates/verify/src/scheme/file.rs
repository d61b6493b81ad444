//! A scheme as it is written in TOML: one flat table, as custom scheme files have always been.
//!
//! The typed [`Scheme`] nests how the provider signs ([`Proof`]) apart from its facts; users'
//! files and `hookgate schemes --show` keep the flat form, with unknown keys refused. A kind of
//! proof that is not a signature brings its own table (`[token]`), so its keys never mix with the
//! signing ones.

use serde::{Deserialize, Serialize};

use super::{
    AlgorithmSpec, BasicSpec, BodyDigestParam, BodyHmacSpec, Challenge, JwtSpec, MetadataSpec, Part, Probe, Proof,
    Reply, Scheme, SignatureHeader, Signing, TimestampSpec, TokenSpec,
};
use crate::secret::SecretEncoding;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SchemeFile {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    docs: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    signature: Vec<SignatureHeader>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    content: Vec<Part>,
    // Optional so a scheme that is not a signature prints none of the signing keys; a signature
    // scheme prints them all, as `hookgate schemes --show` always has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    algorithm: Option<AlgorithmSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timestamp: Option<TimestampSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret_encoding: Option<SecretEncoding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    allow_sha1: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event_type_header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_pointer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event_type_pointer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body_digest_param: Option<BodyDigestParam>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    url_port_variant: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    json_object_body: bool,
    #[serde(default = "Reply::default_rejection")]
    rejection: Reply,
    #[serde(default = "Reply::default_success")]
    success: Reply,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    challenge: Option<Challenge>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    metadata: Vec<MetadataSpec>,
    #[serde(default, rename = "probe", skip_serializing_if = "Vec::is_empty")]
    probes: Vec<Probe>,
    /// `[token]`: the proof is a token in a header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<TokenSpec>,
    /// `[basic]`: the proof is HTTP basic authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    basic: Option<BasicSpec>,
    /// `[jwt]`: the proof is a JWT in a header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jwt: Option<JwtSpec>,
    /// `[body_hmac]`: the proof is an HMAC inside the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body_hmac: Option<BodyHmacSpec>,
}

impl TryFrom<SchemeFile> for Scheme {
    type Error = String;

    fn try_from(f: SchemeFile) -> Result<Self, String> {
        let signs = !f.signature.is_empty()
            || !f.content.is_empty()
            || f.timestamp.is_some()
            || f.body_digest_param.is_some()
            || f.url_port_variant
            || f.json_object_body
            || f.allow_sha1.is_some()
            || f.algorithm.is_some()
            || f.secret_encoding.is_some();
        let mut others = [
            f.token.map(Proof::Token),
            f.basic.map(Proof::Basic),
            f.jwt.map(Proof::Jwt),
            f.body_hmac.map(Proof::BodyHmac),
        ]
        .into_iter()
        .flatten();
        let other = others.next();
        if others.next().is_some() {
            return Err("a scheme has one proof: one of [token], [basic], [jwt], [body_hmac]".into());
        }
        if other.is_some() && signs {
            return Err("a [token], [basic], [jwt] or [body_hmac] scheme has no signature keys (signature, content, algorithm, timestamp, secret_encoding, …)".into());
        }
        let signing = Signing {
            signature: f.signature,
            content: f.content,
            algorithm: f.algorithm.unwrap_or_default(),
            timestamp: f.timestamp,
            secret_encoding: f.secret_encoding.unwrap_or_default(),
            allow_sha1: f.allow_sha1.unwrap_or_default(),
            body_digest_param: f.body_digest_param,
            url_port_variant: f.url_port_variant,
            json_object_body: f.json_object_body,
        };
        Ok(Scheme {
            name: f.name,
            docs: f.docs,
            proof: other.unwrap_or(Proof::Signature(signing)),
            id_header: f.id_header,
            event_type_header: f.event_type_header,
            id_pointer: f.id_pointer,
            event_type_pointer: f.event_type_pointer,
            rejection: f.rejection,
            success: f.success,
            challenge: f.challenge,
            metadata: f.metadata,
            probes: f.probes,
        })
    }
}

impl From<Scheme> for SchemeFile {
    fn from(s: Scheme) -> Self {
        let (mut signing, mut token, mut basic, mut jwt, mut body_hmac) = (None, None, None, None, None);
        match s.proof {
            Proof::Signature(g) => signing = Some(g),
            Proof::Token(t) => token = Some(t),
            Proof::Basic(b) => basic = Some(b),
            Proof::Jwt(j) => jwt = Some(j),
            Proof::BodyHmac(b) => body_hmac = Some(b),
        }
        let printed = signing.is_some();
        let signing = signing.unwrap_or_else(|| Signing::new(Vec::new(), Vec::new()));
        SchemeFile {
            name: s.name,
            docs: s.docs,
            signature: signing.signature,
            content: signing.content,
            algorithm: printed.then_some(signing.algorithm),
            timestamp: signing.timestamp,
            secret_encoding: printed.then_some(signing.secret_encoding),
            allow_sha1: printed.then_some(signing.allow_sha1),
            id_header: s.id_header,
            event_type_header: s.event_type_header,
            id_pointer: s.id_pointer,
            event_type_pointer: s.event_type_pointer,
            body_digest_param: signing.body_digest_param,
            url_port_variant: signing.url_port_variant,
            json_object_body: signing.json_object_body,
            rejection: s.rejection,
            success: s.success,
            challenge: s.challenge,
            metadata: s.metadata,
            probes: s.probes,
            token,
            basic,
            jwt,
            body_hmac,
        }
    }
}

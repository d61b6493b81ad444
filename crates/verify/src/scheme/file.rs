//! A scheme as it is written in TOML: one flat table, as custom scheme files have always been.
//!
//! The typed [`Scheme`] nests how the provider signs ([`Proof`]) apart from its facts; users'
//! files and `hookgate schemes --show` keep the flat form, with unknown keys refused. A kind of
//! proof that is not a signature brings its own table (`[token]`), so its keys never mix with the
//! signing ones.

use serde::{Deserialize, Serialize};

use super::{
    AlgorithmSpec, BodyDigestParam, Challenge, MetadataSpec, Part, Proof, Reply, Scheme, SignatureHeader, Signing,
    TimestampSpec,
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
    #[serde(default)]
    algorithm: AlgorithmSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timestamp: Option<TimestampSpec>,
    #[serde(default)]
    secret_encoding: SecretEncoding,
    #[serde(default)]
    allow_sha1: bool,
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
    #[serde(default = "Reply::default_rejection")]
    rejection: Reply,
    #[serde(default = "Reply::default_success")]
    success: Reply,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    challenge: Option<Challenge>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    metadata: Vec<MetadataSpec>,
}

impl TryFrom<SchemeFile> for Scheme {
    type Error = String;

    fn try_from(f: SchemeFile) -> Result<Self, String> {
        let signing = Signing {
            signature: f.signature,
            content: f.content,
            algorithm: f.algorithm,
            timestamp: f.timestamp,
            secret_encoding: f.secret_encoding,
            allow_sha1: f.allow_sha1,
            body_digest_param: f.body_digest_param,
            url_port_variant: f.url_port_variant,
        };
        Ok(Scheme {
            name: f.name,
            docs: f.docs,
            proof: Proof::Signature(signing),
            id_header: f.id_header,
            event_type_header: f.event_type_header,
            id_pointer: f.id_pointer,
            event_type_pointer: f.event_type_pointer,
            rejection: f.rejection,
            success: f.success,
            challenge: f.challenge,
            metadata: f.metadata,
        })
    }
}

impl From<Scheme> for SchemeFile {
    fn from(s: Scheme) -> Self {
        let Proof::Signature(signing) = s.proof;
        SchemeFile {
            name: s.name,
            docs: s.docs,
            signature: signing.signature,
            content: signing.content,
            algorithm: signing.algorithm,
            timestamp: signing.timestamp,
            secret_encoding: signing.secret_encoding,
            allow_sha1: signing.allow_sha1,
            id_header: s.id_header,
            event_type_header: s.event_type_header,
            id_pointer: s.id_pointer,
            event_type_pointer: s.event_type_pointer,
            body_digest_param: signing.body_digest_param,
            url_port_variant: signing.url_port_variant,
            rejection: s.rejection,
            success: s.success,
            challenge: s.challenge,
            metadata: s.metadata,
        }
    }
}

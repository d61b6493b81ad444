//! Ed25519 (RFC 8032): Standard Webhooks `v1a`, Discord, Telnyx.
//!
//! ring verifies (it is already in the build through rustls, and it refuses a non-canonical `S`,
//! so a signature cannot be altered into another valid one). Keys arrive as the provider shows
//! them, decoded by the scheme's key encoding into one of:
//! - 32 bytes: the public key (Discord's hex, Telnyx's base64, `whpk_`);
//! - 64 bytes: seed ‖ public key, the libsodium/tweetnacl secret key and `whsk_` (signs too);
//! - DER: a SubjectPublicKeyInfo (44 bytes) or a PKCS#8 v1 private key (48 bytes), what
//!   `openssl genpkey -algorithm ed25519` writes.

use std::borrow::Cow;

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use zeroize::Zeroizing;

use super::{Check, joined};
use crate::algorithm::Algorithm;
use crate::error::BuildError;

/// An Ed25519 signature's length.
pub(crate) const SIGNATURE_LEN: usize = 64;

/// The DER before the 32 key bytes of an Ed25519 SubjectPublicKeyInfo (RFC 8410).
const SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
/// The DER before the 32 seed bytes of an Ed25519 PKCS#8 v1 private key (RFC 8410).
const PKCS8_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

pub(crate) struct Ed25519Key {
    public: [u8; 32],
    /// Only when the private key was configured (to play the provider).
    pair: Option<Ed25519KeyPair>,
}

impl Ed25519Key {
    pub(crate) fn new(bytes: &[u8]) -> Result<Self, BuildError> {
        let from_seed = |seed: &[u8], public: Option<&[u8]>| -> Result<Self, BuildError> {
            let pair = match public {
                Some(p) => Ed25519KeyPair::from_seed_and_public_key(seed, p)
                    .map_err(|_| BuildError::Secret("the Ed25519 key's public half does not match its seed"))?,
                None => Ed25519KeyPair::from_seed_unchecked(seed)
                    .map_err(|_| BuildError::Secret("not an Ed25519 private key"))?,
            };
            let mut public = [0; 32];
            public.copy_from_slice(pair.public_key().as_ref());
            Ok(Self { public, pair: Some(pair) })
        };
        match bytes.len() {
            32 => {
                let mut public = [0; 32];
                public.copy_from_slice(bytes);
                Ok(Self { public, pair: None })
            }
            64 => from_seed(&bytes[..32], Some(&bytes[32..])),
            44 if bytes.starts_with(&SPKI_PREFIX) => Self::new(&bytes[12..]),
            48 if bytes.starts_with(&PKCS8_PREFIX) => from_seed(&bytes[16..], None),
            _ => Err(BuildError::Secret(
                "an Ed25519 key is 32 bytes (public), 64 bytes (seed and public key) or DER (SubjectPublicKeyInfo, PKCS#8)",
            )),
        }
    }
}

impl Check for Ed25519Key {
    fn verify(&self, _: Algorithm, content: &[Cow<'_, [u8]>], signature: &[u8]) -> bool {
        signature.len() == SIGNATURE_LEN
            && UnparsedPublicKey::new(&ED25519, &self.public).verify(&joined(content), signature).is_ok()
    }

    fn can_sign(&self) -> bool {
        self.pair.is_some()
    }

    fn sign(&self, _: Algorithm, content: &[Cow<'_, [u8]>]) -> Option<Zeroizing<Vec<u8>>> {
        let pair = self.pair.as_ref()?;
        Some(Zeroizing::new(pair.sign(&joined(content)).as_ref().to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Encoding;

    fn hex(s: &str) -> Vec<u8> {
        crate::secret::decode_hex_vec(s).unwrap()
    }

    /// RFC 8032 §7.1, TEST 1, 2 and 3: the secret key (seed), public key, message and signature.
    const RFC8032: [(&str, &str, &str, &str); 3] = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
    ];

    #[test]
    fn rfc8032_section_7_1() {
        for (seed, public, msg, sig) in RFC8032 {
            let verifier = Ed25519Key::new(&hex(public)).unwrap();
            let msg = hex(msg);
            let content = [Cow::Borrowed(&msg[..])];
            assert!(verifier.verify(Algorithm::Sha512, &content, &hex(sig)), "TEST with key {public}");
            let mut tampered = hex(sig);
            tampered[63] ^= 0x01;
            assert!(!verifier.verify(Algorithm::Sha512, &content, &tampered));
            // Signing is deterministic: the seed reproduces the published signature.
            let signer = Ed25519Key::new(&[hex(seed), hex(public)].concat()).unwrap();
            let made = signer.sign(Algorithm::Sha512, &content).unwrap();
            assert_eq!(Encoding::Hex.encode(&made), sig);
            let der = Ed25519Key::new(&[&PKCS8_PREFIX[..], &hex(seed)].concat()).unwrap();
            assert_eq!(der.public.to_vec(), hex(public));
            assert!(Ed25519Key::new(&[&SPKI_PREFIX[..], &hex(public)].concat()).is_ok());
        }
    }

    #[test]
    fn a_keypair_whose_halves_disagree_is_refused() {
        let (seed, _, _, _) = RFC8032[0];
        let (_, other_public, _, _) = RFC8032[1];
        assert!(Ed25519Key::new(&[hex(seed), hex(other_public)].concat()).is_err());
        assert!(Ed25519Key::new(&[0u8; 31]).is_err());
        assert!(!Ed25519Key::new(&hex(RFC8032[0].1)).unwrap().can_sign());
    }

    #[test]
    fn split_content_is_the_concatenation() {
        let (seed, public, _, _) = RFC8032[0];
        let key = Ed25519Key::new(&[hex(seed), hex(public)].concat()).unwrap();
        let parts = [Cow::Borrowed(&b"1614265330"[..]), Cow::Borrowed(&b"{\"a\":1}"[..])];
        let sig = key.sign(Algorithm::Sha512, &parts).unwrap();
        assert!(key.verify(Algorithm::Sha512, &[Cow::Borrowed(&b"1614265330{\"a\":1}"[..])], &sig));
    }
}

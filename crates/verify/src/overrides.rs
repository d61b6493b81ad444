//! What a source changes in its scheme (secret encoding, SHA-1, the algorithm allow-list, the
//! replay window, the replies), applied in one place for the gateway's configuration and the
//! CLI's flags, so both follow the same rules.

use crate::algorithm::Algorithm;
use crate::error::BuildError;
use crate::scheme::{AlgorithmSpec, Reply, Scheme, Signing};
use crate::secret::SecretEncoding;

/// A source's changes to its scheme. Empty (the default) changes nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// How secret text becomes key bytes, instead of the scheme's.
    pub secret_encoding: Option<SecretEncoding>,
    /// Read legacy SHA-1 signatures where the scheme has them. Required, too, before `sha1` may
    /// be listed in `algorithms`: SHA-1 is only ever an explicit opt-in.
    pub allow_sha1: bool,
    /// The allow-list, for schemes whose request names the algorithm (Fin).
    pub algorithms: Option<Vec<Algorithm>>,
    /// The replay window, seconds, for schemes with a timestamp.
    pub tolerance_secs: Option<u64>,
    /// The reply to a rejected request.
    pub rejection: Option<Reply>,
    /// The reply to an accepted one.
    pub success: Option<Reply>,
}

impl Scheme {
    /// The scheme with a source's changes, validated.
    ///
    /// # Errors
    /// [`BuildError::Override`] when a change does not apply to this scheme (an allow-list on a
    /// fixed algorithm, a window without a timestamp, `sha1` without `allow_sha1`), or
    /// [`BuildError::InvalidScheme`] when the result is inconsistent.
    pub fn with_overrides(mut self, o: &Overrides) -> Result<Scheme, BuildError> {
        let name = self.name.clone();
        let fail = |reason: &str| BuildError::Override { scheme: name.clone(), reason: reason.into() };
        let signing_knobs =
            o.secret_encoding.is_some() || o.allow_sha1 || o.algorithms.is_some() || o.tolerance_secs.is_some();
        match self.signing_mut() {
            Some(signing) => apply(signing, o).map_err(fail)?,
            None if signing_knobs => {
                return Err(fail(
                    "its proof is not a signature; secret_encoding, allow_sha1, algorithms and tolerance_secs do not apply",
                ));
            }
            None => {}
        }
        if let Some(r) = &o.rejection {
            self.rejection = r.clone();
        }
        if let Some(r) = &o.success {
            self.success = r.clone();
        }
        self.validate()?;
        Ok(self)
    }
}

/// The signing knobs; `Err` is why one does not apply.
fn apply(signing: &mut Signing, o: &Overrides) -> Result<(), &'static str> {
    if let Some(enc) = o.secret_encoding {
        signing.secret_encoding = enc;
    }
    if o.allow_sha1 {
        signing.allow_sha1 = true;
    }
    if let Some(algs) = &o.algorithms {
        if algs.is_empty() {
            return Err("algorithms is empty");
        }
        if algs.contains(&Algorithm::Sha1) && !o.allow_sha1 {
            return Err("sha1 in algorithms needs allow_sha1");
        }
        match &mut signing.algorithm {
            AlgorithmSpec::FromHeader { allowed, default, .. } => {
                allowed.clone_from(algs);
                if default.is_some_and(|d| !allowed.contains(&d)) {
                    *default = None;
                }
            }
            AlgorithmSpec::Fixed(_) => return Err("it has a fixed algorithm; algorithms do not apply"),
        }
    }
    if let Some(t) = o.tolerance_secs {
        match &mut signing.timestamp {
            Some(spec) => spec.tolerance_secs = t,
            None => return Err("it has no timestamp; tolerance_secs does not apply"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset;

    #[test]
    fn overrides_apply_where_the_scheme_has_the_knob() {
        let fin = preset("fin").unwrap();
        let o = Overrides { algorithms: Some(vec![Algorithm::Sha512]), ..Overrides::default() };
        let AlgorithmSpec::FromHeader { allowed, .. } =
            fin.clone().with_overrides(&o).unwrap().signing().unwrap().algorithm.clone()
        else {
            panic!("fin names its algorithm")
        };
        assert_eq!(allowed, [Algorithm::Sha512]);
        let sha1 = Overrides { algorithms: Some(vec![Algorithm::Sha1]), ..Overrides::default() };
        let err = fin.clone().with_overrides(&sha1).unwrap_err().to_string();
        assert!(err.contains("needs allow_sha1"), "{err}");
        let opted_in = Overrides { allow_sha1: true, ..sha1 };
        assert!(fin.clone().with_overrides(&opted_in).unwrap().signing().unwrap().allow_sha1);
        let empty = Overrides { algorithms: Some(vec![]), ..Overrides::default() };
        assert!(fin.with_overrides(&empty).unwrap_err().to_string().contains("empty"));

        let flinks = preset("flinks").unwrap();
        assert!(flinks.clone().with_overrides(&o).unwrap_err().to_string().contains("fixed algorithm"));
        let window = Overrides { tolerance_secs: Some(60), ..Overrides::default() };
        assert!(flinks.with_overrides(&window).unwrap_err().to_string().contains("no timestamp"));
        let stripe = preset("stripe").unwrap().with_overrides(&window).unwrap();
        assert_eq!(stripe.signing().unwrap().timestamp.as_ref().unwrap().tolerance_secs, 60);
        let bad = Overrides { success: Some(Reply::text(404, "no")), ..Overrides::default() };
        assert!(preset("stripe").unwrap().with_overrides(&bad).is_err(), "the result is validated");
    }
}

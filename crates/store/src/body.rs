//! How the SQLite store keeps an event's body: as received, or LZ4-compressed.
//!
//! Why compress: a body is written twice by SQLite (to the log, then into the database by a
//! checkpoint) and every byte of the log is in the `fdatasync` a request waits for. Webhook bodies
//! are JSON, which LZ4 shrinks about 2× (Flinks-style 16 KiB bodies: 16,384 → ~7,500 bytes), so the
//! writer, the checkpoints and the syncs move half the bytes. Measured side by side with 16 KiB
//! bodies: +8–24 % requests/s at 32 connections and +15–23 % at 128, the same CPU per request, and
//! half the disk (bench/results/2026-11-30-latency.md). LZ4 rather than zstd: about twice as fast
//! for a smaller gain, and pure Rust (no C build).
//!
//! The body that is read back is always the exact bytes received: the stored form is named by the
//! event's `body_encoding` column, and a decoded body must have the event's `size` and hash to its
//! `body_sha256` (LZ4 has no checksum of its own: a damaged block can decode to the right length);
//! anything else is an error, never a different body.

/// Bodies shorter than this are stored as received: they fit in the page they share with their
/// event's other columns, so compressing them saves no page write.
pub(crate) const COMPRESS_MIN: usize = 2048;

/// `body_encoding` of a body stored as received.
pub(crate) const IDENTITY: &str = "identity";
/// `body_encoding` of an LZ4 block (lz4_flex's block format, no length prefix; the event's `size`
/// is the decoded length).
pub(crate) const LZ4: &str = "lz4";

/// The stored form of `body` when compressing it is worth it (at least an eighth smaller), else
/// `None` (store the body as received).
pub(crate) fn compress(body: &[u8]) -> Option<Vec<u8>> {
    if body.len() < COMPRESS_MIN {
        return None;
    }
    let packed = lz4_flex::block::compress(body);
    (packed.len() <= body.len() - body.len() / 8).then_some(packed)
}

/// Why a stored body could not be read back.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    #[error("unknown body encoding {0:?}")]
    Encoding(String),
    #[error("stored body is corrupt: {0}")]
    Corrupt(String),
    #[error("stored body decodes to {got} bytes, the event records {want}")]
    Length { got: usize, want: usize },
    #[error("stored body decodes to bytes whose SHA-256 is not the event's")]
    Digest,
}

/// An LZ4 block expands at most ~255× (a match of 255+ bytes costs at least one byte); a recorded
/// size past that is damage, and is refused before anything is allocated for it.
const LZ4_MAX_RATIO: usize = 255;

/// A body as read from the events table.
pub(crate) struct Stored {
    pub(crate) encoding: String,
    pub(crate) bytes: Vec<u8>,
    /// The received length (`events.size`).
    pub(crate) size: i64,
    /// The received body's SHA-256, hex (`events.body_sha256`).
    pub(crate) sha256: String,
}

/// The body as received, from its stored form.
pub(crate) fn decode(stored: Stored) -> Result<Vec<u8>, BodyError> {
    let Stored { encoding, bytes, size, sha256 } = stored;
    let want = usize::try_from(size).map_err(|_| BodyError::Corrupt(format!("recorded size {size}")))?;
    let packed = match encoding.as_str() {
        IDENTITY => false,
        LZ4 => true,
        other => return Err(BodyError::Encoding(other.to_owned())),
    };
    let body = if packed {
        if want > bytes.len().saturating_mul(LZ4_MAX_RATIO) {
            return Err(BodyError::Corrupt(format!("{} bytes cannot decode to {want}", bytes.len())));
        }
        lz4_flex::block::decompress(&bytes, want).map_err(|e| BodyError::Corrupt(e.to_string()))?
    } else {
        bytes
    };
    if body.len() != want {
        return Err(BodyError::Length { got: body.len(), want });
    }
    if packed && !sha256_hex(&body).eq_ignore_ascii_case(&sha256) {
        return Err(BodyError::Digest);
    }
    Ok(body)
}

/// Lowercase hex SHA-256: how an event records its body's digest (`body_sha256`).
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    // A table lookup, not `write!("{:02x}")`: this runs for every request and the formatter
    // machinery showed up in the request path's profile.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = sha2::Sha256::digest(data);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(len: usize) -> Vec<u8> {
        let mut s = String::from("{\"Accounts\":[");
        let mut i = 0u64;
        while s.len() < len - 2 {
            s.push_str(&format!("{{\"Description\":\"COSTCO WHOLESALE #{i}\",\"Debit\":{}.25}},", i * 7 % 1000));
            i += 1;
        }
        s.truncate(len - 2);
        s.push_str("]}");
        s.into_bytes()
    }

    /// Bytes that LZ4 cannot shrink (a xorshift stream).
    fn noise(len: usize) -> Vec<u8> {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[0]
            })
            .collect()
    }

    /// `body`'s stored form as `encoding` says, with the row's size and digest.
    fn row(encoding: &str, bytes: Vec<u8>, body: &[u8]) -> Stored {
        Stored { encoding: encoding.into(), bytes, size: i64::try_from(body.len()).unwrap(), sha256: sha256_hex(body) }
    }

    #[test]
    fn the_digest_is_lowercase_hex_sha256() {
        // Known answer (FIPS 180-2 "abc").
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn a_json_body_is_compressed_and_reads_back_exactly() {
        let body = json(16 * 1024);
        let packed = compress(&body).expect("JSON compresses");
        assert!(packed.len() < body.len() / 2, "{} of {}", packed.len(), body.len());
        assert_eq!(decode(row(LZ4, packed, &body)).unwrap(), body);
    }

    #[test]
    fn small_or_incompressible_bodies_are_stored_as_received() {
        assert!(compress(&json(COMPRESS_MIN - 1)).is_none());
        assert!(compress(&json(COMPRESS_MIN)).is_some());
        assert!(compress(&noise(64 * 1024)).is_none());
        let raw = noise(100);
        assert_eq!(decode(row(IDENTITY, raw.clone(), &raw)).unwrap(), raw);
    }

    #[test]
    fn a_damaged_body_is_an_error_never_other_bytes() {
        let body = json(8192);
        let packed = compress(&body).unwrap();
        let with = |bytes: Vec<u8>, size: i64| Stored { size, ..row(LZ4, bytes, &body) };
        let size = i64::try_from(body.len()).unwrap();
        assert!(decode(with(packed[..packed.len() / 2].to_vec(), size)).is_err(), "truncated");
        assert!(matches!(decode(with(packed.clone(), size - 1)), Err(BodyError::Corrupt(_))));
        assert!(matches!(decode(with(packed.clone(), size + 1)), Err(BodyError::Length { .. })));
        assert!(matches!(decode(with(packed.clone(), -1)), Err(BodyError::Corrupt(_))));
        // A size no block of this length can reach is refused before anything is allocated.
        assert!(matches!(decode(with(packed.clone(), 1 << 50)), Err(BodyError::Corrupt(_))));
        // One literal byte changed: the length is still right, the bytes are not.
        let mut flipped = packed.clone();
        let at = flipped.iter().position(|&b| b == b'C').unwrap();
        flipped[at] = b'D';
        assert!(matches!(decode(with(flipped, size)), Err(BodyError::Digest)));
        assert!(matches!(
            decode(Stored { encoding: "zstd".into(), ..with(packed, size) }),
            Err(BodyError::Encoding(_))
        ));
        let short = Stored { size: 4, ..row(IDENTITY, vec![1, 2, 3], &[1, 2, 3]) };
        assert!(matches!(decode(short), Err(BodyError::Length { got: 3, want: 4 })));
    }
}

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
//! event's `body_encoding` column, the decoded length must equal the event's `size`, and anything
//! else is an error, never a different body.

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
}

/// The body as received, from its stored form.
pub(crate) fn decode(encoding: &str, stored: Vec<u8>, size: i64) -> Result<Vec<u8>, BodyError> {
    let want = usize::try_from(size).map_err(|_| BodyError::Corrupt(format!("negative size {size}")))?;
    let body = match encoding {
        IDENTITY => stored,
        LZ4 => lz4_flex::block::decompress(&stored, want).map_err(|e| BodyError::Corrupt(e.to_string()))?,
        other => return Err(BodyError::Encoding(other.to_owned())),
    };
    if body.len() != want {
        return Err(BodyError::Length { got: body.len(), want });
    }
    Ok(body)
}

/// [`decode`] inside a rusqlite row mapping (column `idx` holds the body).
pub(crate) fn decode_column(encoding: &str, stored: Vec<u8>, size: i64, idx: usize) -> rusqlite::Result<Vec<u8>> {
    decode(encoding, stored, size)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Blob, Box::new(e)))
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

    #[test]
    fn a_json_body_is_compressed_and_reads_back_exactly() {
        let body = json(16 * 1024);
        let packed = compress(&body).expect("JSON compresses");
        assert!(packed.len() < body.len() / 2, "{} of {}", packed.len(), body.len());
        let size = i64::try_from(body.len()).unwrap();
        assert_eq!(decode(LZ4, packed, size).unwrap(), body);
    }

    #[test]
    fn small_or_incompressible_bodies_are_stored_as_received() {
        assert!(compress(&json(COMPRESS_MIN - 1)).is_none());
        assert!(compress(&json(COMPRESS_MIN)).is_some());
        assert!(compress(&noise(64 * 1024)).is_none());
        let raw = noise(100);
        assert_eq!(decode(IDENTITY, raw.clone(), 100).unwrap(), raw);
    }

    #[test]
    fn a_damaged_body_is_an_error_never_other_bytes() {
        let body = json(8192);
        let packed = compress(&body).unwrap();
        let size = i64::try_from(body.len()).unwrap();
        // Truncated, wrong length recorded, unknown encoding, identity with the wrong length.
        assert!(decode(LZ4, packed[..packed.len() / 2].to_vec(), size).is_err());
        assert!(matches!(decode(LZ4, packed.clone(), size - 1), Err(BodyError::Corrupt(_))));
        assert!(matches!(decode(LZ4, packed.clone(), size + 1), Err(BodyError::Length { .. })));
        assert!(matches!(decode("zstd", packed, size), Err(BodyError::Encoding(_))));
        assert!(matches!(decode(IDENTITY, vec![1, 2, 3], 4), Err(BodyError::Length { got: 3, want: 4 })));
        assert!(decode(IDENTITY, vec![], -1).is_err());
    }
}

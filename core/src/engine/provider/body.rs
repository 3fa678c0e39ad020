//! Reading a provider's answer without trusting its size: the body is read chunk by chunk and
//! the read stops as soon as it passes a cap, so a huge (or endless) answer costs the broker at
//! most the cap, never the whole body.

/// Largest answer of a provider's API passed back to an agent (tool runs, proxied requests,
/// connect-form checks).
pub(crate) const MAX_API_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// Largest answer of a token, revocation or other OAuth endpoint. A token response is a few
/// hundred bytes (a JWT access token a few KB); 64 KiB leaves room for any real one.
pub(crate) const MAX_OAUTH_ANSWER_BYTES: usize = 64 * 1024;

/// Why a body could not be read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// The answer is larger than the cap (by its `Content-Length`, or once read that far).
    TooLarge,
    /// The connection broke or timed out before the end of the answer.
    CutOff,
}

/// The cap in words for error messages: `4 MiB`, `64 KiB`.
pub(crate) fn describe_cap(cap: usize) -> String {
    if cap >= 1 << 20 && cap % (1 << 20) == 0 {
        format!("{} MiB", cap >> 20)
    } else if cap >= 1 << 10 && cap % (1 << 10) == 0 {
        format!("{} KiB", cap >> 10)
    } else {
        format!("{cap} bytes")
    }
}

/// Reads `resp`'s body, refusing one larger than `cap` bytes without reading past the cap.
pub(crate) async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|_| BodyError::CutOff)? {
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_are_named_in_their_unit() {
        assert_eq!(describe_cap(MAX_API_ANSWER_BYTES), "4 MiB");
        assert_eq!(describe_cap(MAX_OAUTH_ANSWER_BYTES), "64 KiB");
        assert_eq!(describe_cap(1000), "1000 bytes");
    }
}

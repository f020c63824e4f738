//! JOSE segments (RFC 7515 §2, §7.1): base64url without padding, then JSON objects with unique
//! member names (see `crate::strict_json` for why duplicates are refused).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// Why a segment is not a clean JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotAnObject;

/// Decodes a base64url segment into a JSON object with unique member names, at every depth.
///
/// # Errors
/// [`NotAnObject`] when the segment is not base64url, not JSON, not an object, or repeats a name.
pub(crate) fn decode_object(segment: &str) -> Result<Map<String, Value>, NotAnObject> {
    let bytes = decode_segment(segment).ok_or(NotAnObject)?;
    match crate::strict_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(NotAnObject),
    }
}

/// Decodes a base64url segment without padding (RFC 7515 §2); `None` when it is not one.
pub(crate) fn decode_segment(segment: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(segment).ok()
}

/// The segments of a compact JWS (RFC 7515 §7.1), still base64url-encoded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CompactJws<'a> {
    /// The JOSE header segment.
    pub header: &'a str,
    /// The payload segment: the claims of a JWT.
    pub payload: &'a str,
    /// The signature segment.
    pub signature: &'a str,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a str,
}

impl<'a> CompactJws<'a> {
    /// The segments of `token`; `None` unless it has exactly three, with a header and a
    /// signature. An empty payload is a valid JWS (RFC 7515 §7.1) but never valid claims: the
    /// claims check refuses it. An empty signature is `alg: none`, refused here.
    pub(crate) fn split(token: &'a str) -> Option<Self> {
        let (signing_input, signature) = token.rsplit_once('.')?;
        let (header, payload) = signing_input.split_once('.')?;
        if header.is_empty() || signature.is_empty() || payload.contains('.') {
            return None;
        }
        Some(Self {
            header,
            payload,
            signature,
            signing_input,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn accepts_objects_and_refuses_the_rest() {
        assert!(decode_object(&segment(r#"{"a":1,"b":{"c":[1,2]}}"#)).is_ok());
        for bad in [
            r#"[1]"#,
            r#""x""#,
            r#"{"a":1"#,
            r#"{"a":1} x"#,
            r#"{"a":1,"a":2}"#,
            r#"{"b":{"c":1,"c":1}}"#,
        ] {
            assert_eq!(decode_object(&segment(bad)), Err(NotAnObject), "{bad}");
        }
        assert_eq!(decode_object("!!!"), Err(NotAnObject));
    }

    #[test]
    fn compact_means_three_segments_with_header_and_signature() {
        let jws = CompactJws::split("h.p.s").unwrap();
        assert_eq!(
            (jws.header, jws.payload, jws.signature, jws.signing_input),
            ("h", "p", "s", "h.p")
        );
        assert!(CompactJws::split("h..s").is_some());
        for bad in ["", "h.p", "h.p.", ".p.s", "h.p.s.x", "a.b.c.d.e"] {
            assert!(CompactJws::split(bad).is_none(), "{bad}");
        }
    }
}

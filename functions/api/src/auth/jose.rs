//! JOSE segments (RFC 7515 §2, §7.1): base64url without padding, then JSON objects with unique
//! member names (see `timesheets::strict_json` for why duplicates are refused).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// Why a segment is not a clean JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAnObject;

/// Decodes a base64url segment into a JSON object with unique member names, at every depth.
///
/// # Errors
/// [`NotAnObject`] when the segment is not base64url, not JSON, not an object, or repeats a name.
pub fn decode_object(segment: &str) -> Result<Map<String, Value>, NotAnObject> {
    let bytes = decode_segment(segment).ok_or(NotAnObject)?;
    match timesheets::strict_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(NotAnObject),
    }
}

/// Decodes a base64url segment without padding (RFC 7515 §2); `None` when it is not one.
fn decode_segment(segment: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(segment).ok()
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
}

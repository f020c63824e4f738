//! JOSE header and claims parsing that refuses duplicate member names.
//!
//! RFC 7515 §4 and RFC 7519 §4 let a parser either reject duplicates or take the last one;
//! two parsers taking different ones is a known confusion attack, so this one rejects.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::verifier::decode_segment;

/// Why a segment is not a clean JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAnObject;

/// Decodes a base64url segment into a JSON object with unique member names, at every depth.
///
/// # Errors
/// [`NotAnObject`] when the segment is not base64url, not JSON, not an object, or repeats a name.
pub fn decode_object(segment: &str) -> Result<Map<String, Value>, NotAnObject> {
    let bytes = decode_segment(segment).ok_or(NotAnObject)?;
    let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
    let UniqueValue(value) =
        serde::Deserialize::deserialize(&mut deserializer).map_err(|_| NotAnObject)?;
    deserializer.end().map_err(|_| NotAnObject)?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(NotAnObject),
    }
}

struct UniqueValue(Value);

impl<'de> serde::Deserialize<'de> for UniqueValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueVisitor).map(UniqueValue)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value without duplicate member names")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let UniqueValue(value) = access.next_value()?;
            if map.insert(key.clone(), value).is_some() {
                return Err(de::Error::custom(format_args!("duplicate member `{key}`")));
            }
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

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

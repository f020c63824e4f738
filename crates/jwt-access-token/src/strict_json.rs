//! JSON parsing that refuses duplicate member names, at every depth.
//!
//! RFC 8259 §4 leaves duplicates' meaning to the parser, and RFC 7515 §4 / RFC 7519 §4 let a
//! JOSE parser reject them; two parsers picking different duplicates is a known confusion
//! attack (and `{"user_id": "007", "user_id": "008"}` has no meaning), so this one rejects.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Parses `bytes` as one JSON value whose objects never repeat a member name.
///
/// # Errors
/// The `serde_json` error: syntax (with line and column), trailing data, or
/// ``duplicate member `name` `` for a repeated member.
pub fn from_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let UniqueValue(value) = serde::Deserialize::deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// The members of an object that [`object_members`] kept, and how many it dropped.
#[derive(Debug)]
pub struct ObjectMembers<const N: usize> {
    /// The value of `names[i]` at index `i`, `None` where absent.
    pub named: [Option<Value>; N],
    /// How many other members the object has.
    pub others: usize,
}

/// Parses `bytes` as one JSON object whose objects never repeat a member name, like
/// [`from_slice`], but keeps only the members named in `names`. The other members are
/// checked the same way and dropped without being built, so a reader of a few known members
/// pays for those alone.
///
/// # Errors
/// As [`from_slice`], and an `invalid type` error when the value is not an object.
pub fn object_members<const N: usize>(
    bytes: &[u8],
    names: &[&str; N],
) -> Result<ObjectMembers<N>, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let members = Members(names).deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(members)
}

struct Members<'n, const N: usize>(&'n [&'n str; N]);

impl<'de, const N: usize> DeserializeSeed<'de> for Members<'_, N> {
    type Value = ObjectMembers<N>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for Members<'_, N> {
    type Value = ObjectMembers<N>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object without duplicate member names")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut kept: [Option<Value>; N] = std::array::from_fn(|_| None);
        let mut others = Names::default();
        let mut other_count = 0;
        while let Some(Name(name)) = access.next_key()? {
            match self.0.iter().position(|wanted| *wanted == name) {
                Some(at) if kept[at].is_some() => return Err(duplicate(&name)),
                Some(at) => {
                    let UniqueValue(value) = access.next_value()?;
                    kept[at] = Some(value);
                }
                None => {
                    others.insert(name)?;
                    other_count += 1;
                    access.next_value::<Unique>()?;
                }
            }
        }
        Ok(ObjectMembers {
            named: kept,
            others: other_count,
        })
    }
}

fn duplicate<E: de::Error>(name: &str) -> E {
    E::custom(format_args!("duplicate member `{name}`"))
}

/// A member name, borrowed from the input unless it has escapes.
struct Name<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// The names seen in one object: a short list searched in order (tokens have a handful of
/// members), then a set, so a crafted object of thousands of names stays `O(n log n)`.
#[derive(Default)]
struct Names<'de> {
    few: Vec<Cow<'de, str>>,
    many: BTreeSet<Cow<'de, str>>,
}

impl<'de> Names<'de> {
    const FEW: usize = 16;

    fn insert<E: de::Error>(&mut self, name: Cow<'de, str>) -> Result<(), E> {
        if self.few.contains(&name) || self.many.contains(&name) {
            return Err(duplicate(&name));
        }
        if self.few.len() < Self::FEW {
            self.few.push(name);
        } else {
            self.many.insert(name);
        }
        Ok(())
    }
}

/// Any JSON value whose objects never repeat a member name, checked and not kept.
struct Unique;

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueChecker)
    }
}

struct UniqueChecker;

impl<'de> Visitor<'de> for UniqueChecker {
    type Value = Unique;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value without duplicate member names")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_str<E>(self, _: &str) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_unit<E>(self) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
        while seq.next_element::<Unique>()?.is_some() {}
        Ok(Unique)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Unique, A::Error> {
        let mut names = Names::default();
        while let Some(Name(name)) = access.next_key()? {
            names.insert(name)?;
            access.next_value::<Unique>()?;
        }
        Ok(Unique)
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
            // Looked up before inserting, so the name is not copied for every member.
            if map.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate member `{key}`")));
            }
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn duplicates_are_refused_at_every_depth() {
        assert!(from_slice(br#"{"a":1,"b":{"c":[1,{"d":2}]}}"#).is_ok());
        for bad in [
            &br#"{"a":1,"a":2}"#[..],
            br#"{"b":{"c":1,"c":1}}"#,
            br#"[{"x":1,"x":1}]"#,
        ] {
            let error = from_slice(bad).unwrap_err();
            assert!(
                error.to_string().starts_with("duplicate member `"),
                "{error}"
            );
        }
        assert!(from_slice(br#"{"a":1} x"#).is_err());
    }

    #[test]
    fn object_members_keeps_the_named_and_checks_the_rest() {
        let members = object_members(
            br#"{"a":1,"b":{"x":[1,{"y":2}]},"c":"\u0063","d":null}"#,
            &["a", "c", "z"],
        )
        .unwrap();
        let [a, c, z] = members.named;
        assert_eq!((a, c, z), (Some(json!(1)), Some(json!("c")), None));
        assert_eq!(members.others, 2);
        let many: String = (0..40).map(|i| format!(r#""k{i}":{i},"#)).collect();
        for bad in [
            r#"{"a":1,"a":2}"#.to_owned(),
            r#"{"b":1,"b":2}"#.to_owned(),
            r#"{"a\u0031":1,"a1":2}"#.to_owned(),
            r#"{"b":{"c":1,"c":1}}"#.to_owned(),
            r#"{"b":[{"x":1,"x":1}]}"#.to_owned(),
            format!(r#"{{{many}"k7":0}}"#),
        ] {
            let error = object_members(bad.as_bytes(), &["a"]).unwrap_err();
            assert!(
                error.to_string().starts_with("duplicate member `"),
                "{bad}: {error}"
            );
        }
        for bad in [&br#"[1]"#[..], br#""x""#, br#"{"a":1} x"#, br#"{"a":1"#] {
            assert!(object_members(bad, &["a"]).is_err());
        }
    }
}

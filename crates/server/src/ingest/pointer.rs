//! The JSON pointers a source reads from every body (metadata, provider id, event type, dedup
//! field, route conditions), found in one pass over the body.
//!
//! Why not index the body and look each pointer up: that built a map of every top-level member
//! (a hashed, allocated key each) and parsed each nested object again per pointer, which made this
//! the largest part of the request path after hashing (callgrind, 1 KiB Flinks bodies). Here the
//! pointers are compiled once per source into a tree of tokens; the walk keeps only the members
//! a pointer passes through and skips the rest without building anything.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize as _;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

/// A set of RFC 6901 pointers (`/Login/Id`), compiled.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pointers {
    /// The pointers as given; a pointer's index is its slot in [`Found`].
    list: Vec<String>,
    root: Node,
}

#[derive(Debug, Clone, Default)]
struct Node {
    /// The pointer that ends here, if any.
    ends: Option<usize>,
    /// Every pointer that ends here or below: cleared when a member is seen again (the last
    /// occurrence of a duplicate key wins, wholly).
    below: Vec<usize>,
    children: Vec<Child>,
}

#[derive(Debug, Clone)]
struct Child {
    /// The member name, unescaped (`~1` → `/`, `~0` → `~`).
    token: String,
    /// The token as an array index, when it reads as one.
    index: Option<usize>,
    node: Node,
}

impl Pointers {
    /// Compiles the pointers that start with `/`; others (never valid in a config, which checks)
    /// match nothing. Repeated pointers share a slot.
    pub(crate) fn new<'a>(pointers: impl IntoIterator<Item = &'a str>) -> Self {
        let mut set = Pointers::default();
        for p in pointers {
            if set.list.iter().any(|q| q == p) {
                continue;
            }
            let Some(rest) = p.strip_prefix('/') else { continue };
            let slot = set.list.len();
            set.list.push(p.to_owned());
            let mut node = &mut set.root;
            node.below.push(slot);
            for token in rest.split('/') {
                let token = token.replace("~1", "/").replace("~0", "~");
                let at = match node.children.iter().position(|c| c.token == token) {
                    Some(at) => at,
                    None => {
                        let index = token.parse::<usize>().ok();
                        node.children.push(Child { token, index, node: Node::default() });
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[at].node;
                node.below.push(slot);
            }
            node.ends = Some(slot);
        }
        set
    }

    /// Finds every pointer in `body`. A body that is not valid JSON has none.
    pub(crate) fn find<'a>(&'a self, body: &'a [u8]) -> Found<'a> {
        let mut slots = vec![None; self.list.len()];
        let mut de = serde_json::Deserializer::from_slice(body);
        let walked = Walk { node: &self.root, slots: &mut slots }.deserialize(&mut de).and_then(|()| de.end());
        if walked.is_err() {
            slots.iter_mut().for_each(|s| *s = None);
        }
        Found { pointers: self, body, slots }
    }
}

/// The values of a body at a source's pointers.
pub(crate) struct Found<'a> {
    pointers: &'a Pointers,
    body: &'a [u8],
    slots: Vec<Option<&'a RawValue>>,
}

impl Found<'_> {
    /// The value at `pointer`, parsed. A pointer the set was not compiled with is looked up on its
    /// own (a second pass), so an answer never depends on what was compiled.
    pub(crate) fn get(&self, pointer: &str) -> Option<Value> {
        let raw = match self.pointers.list.iter().position(|p| p == pointer) {
            Some(slot) => self.slots[slot]?,
            None if pointer.starts_with('/') => return Pointers::new([pointer]).find(self.body).get(pointer),
            None => return None,
        };
        serde_json::from_str(raw.get()).ok()
    }
}

/// Visits one value at `node` of the tree.
struct Walk<'n, 's, 'de> {
    node: &'n Node,
    slots: &'s mut [Option<&'de RawValue>],
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        match (self.node.ends, self.node.children.is_empty()) {
            (None, _) => deserializer.deserialize_any(self),
            (Some(slot), true) => {
                self.slots[slot] = Some(<&RawValue>::deserialize(deserializer)?);
                Ok(())
            }
            // Both a pointer's end and on the way to longer ones (`/Login` and `/Login/Id`): keep
            // the value, then walk it again for what lies below (rare: a config names both).
            (Some(slot), false) => {
                let raw = <&RawValue>::deserialize(deserializer)?;
                self.slots[slot] = Some(raw);
                // As a visitor the walk only looks below the node, so this does not capture again.
                let mut inner = serde_json::Deserializer::from_str(raw.get());
                (&mut inner).deserialize_any(Walk { node: self.node, slots: self.slots }).map_err(de::Error::custom)
            }
        }
    }
}

impl<'de> Walk<'_, '_, 'de> {
    /// Walks a member's value down `child`, after forgetting what an earlier member of the same
    /// name left there.
    fn enter<A: MapAccess<'de>>(&mut self, map: &mut A, child: &Node) -> Result<(), A::Error> {
        for &slot in &child.below {
            self.slots[slot] = None;
        }
        map.next_value_seed(Walk { node: child, slots: self.slots })
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let node = self.node;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match node.children.iter().find(|c| c.token == *key) {
                Some(child) => self.enter(&mut map, &child.node)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        loop {
            let more = match self.node.children.iter().find(|c| c.index == Some(i)) {
                Some(child) => seq.next_element_seed(Walk { node: &child.node, slots: self.slots })?.is_some(),
                None => seq.next_element::<IgnoredAny>()?.is_some(),
            };
            if !more {
                return Ok(());
            }
            i += 1;
        }
    }

    // Scalars have no members: nothing below them matches.
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A member name, borrowed from the body unless it had escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(pointers: &[&str], body: &[u8]) -> Vec<Option<Value>> {
        let set = Pointers::new(pointers.iter().copied());
        let f = set.find(body);
        pointers.iter().map(|p| f.get(p)).collect()
    }

    #[test]
    fn pointers_reach_nested_values_in_one_pass() {
        let body = br#"{"Login":{"Id":"abc","a/b":1,"t~":2},"Accounts":[{"Id":7},{"Id":8}],"n":null,"esc\u0041pe":2}"#;
        let ps = [
            "/Login/Id",
            "/Login/a~1b",
            "/Login/t~0",
            "/Accounts/1/Id",
            "/n",
            "/escApe",
            "/Accounts/2",
            "/Login/Id/x",
            "/Missing",
        ];
        assert_eq!(
            found(&ps, body),
            [
                Some(Value::String("abc".into())),
                Some(serde_json::json!(1)),
                Some(serde_json::json!(2)),
                Some(serde_json::json!(8)),
                Some(Value::Null),
                Some(serde_json::json!(2)),
                None,
                None,
                None,
            ]
        );
    }

    #[test]
    fn a_pointer_and_one_below_it_both_resolve() {
        let body = br#"{"Login":{"Id":"abc"}}"#;
        assert_eq!(
            found(&["/Login", "/Login/Id"], body),
            [Some(serde_json::json!({"Id": "abc"})), Some(Value::String("abc".into()))]
        );
    }

    #[test]
    fn the_last_of_duplicate_members_wins_wholly() {
        // As a parser that keeps the last duplicate would read it: the second `Login` has no `Id`.
        let body = br#"{"Login":{"Id":1},"Login":{"Other":2},"T":"a","T":"b"}"#;
        assert_eq!(found(&["/Login/Id", "/T"], body), [None, Some(Value::String("b".into()))]);
    }

    #[test]
    fn invalid_json_or_scalars_have_no_members() {
        for body in [&b"{not json"[..], b"plain", b"{\"a\":1} trailing", b"\"str\"", b"42", b""] {
            assert_eq!(found(&["/a"], body), [None], "{}", String::from_utf8_lossy(body));
        }
        // A valid root array: indices.
        assert_eq!(found(&["/0/a"], br#"[{"a":true}]"#), [Some(Value::Bool(true))]);
    }

    #[test]
    fn a_pointer_not_compiled_in_is_still_answered() {
        let set = Pointers::new(["/a"]);
        let body = br#"{"a":1,"b":{"c":2}}"#;
        assert_eq!(set.find(body).get("/b/c"), Some(serde_json::json!(2)));
        assert_eq!(set.find(body).get("b"), None, "not a pointer");
    }
}

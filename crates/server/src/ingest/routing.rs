//! Routing: which targets a verified event goes to, decided from its metadata and JSON body when
//! it is stored (the deliveries are written in the same transaction as the event).

use serde::Deserialize;
use serde_json::Value;

use crate::filter::Filter;

/// One condition of a route.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// A metadata field, dots for nesting (`response_type`, `tag.userId`).
    pub field: Option<String>,
    /// Or a JSON pointer into the body (`/ResponseType`).
    pub pointer: Option<String>,
    /// The value equals this (strings, numbers and booleans compare by their text).
    pub equals: Option<String>,
    /// The value is one of these.
    pub one_of: Option<Vec<String>>,
    /// The value is present (true) or absent (false).
    pub exists: Option<bool>,
    /// Negate the condition.
    #[serde(default)]
    pub not: bool,
}

/// `[[source.route]]`: when every condition holds (and the `match` filter matches), the event
/// goes to `targets`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Conditions, all of which must hold (none: always).
    #[serde(default)]
    pub when: Vec<Condition>,
    /// A filter in the operator API's `match` language, over the body with its metadata fields
    /// (`crate::filter`): `match = { ResponseType = "KYC", Tag = { userId = "12345" } }`.
    #[serde(default, rename = "match")]
    pub match_: Option<Value>,
    /// Target names.
    pub targets: Vec<String>,
}

/// A source's routes, validated.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    rules: Vec<RouteConfig>,
    /// Each rule's `match`, parsed.
    filters: Vec<Option<Filter>>,
    fanout: bool,
    default: Vec<String>,
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Condition {
    fn check(&self) -> Result<(), String> {
        match (&self.field, &self.pointer) {
            (Some(_), None) => {}
            (None, Some(p)) if p.starts_with('/') => {}
            (None, Some(p)) => return Err(format!("pointer `{p}` must start with `/`")),
            _ => return Err("a condition needs exactly one of `field` or `pointer`".into()),
        }
        let ops = usize::from(self.equals.is_some())
            + usize::from(self.one_of.is_some())
            + usize::from(self.exists.is_some());
        if ops != 1 {
            return Err("a condition needs exactly one of `equals`, `one_of` or `exists`".into());
        }
        Ok(())
    }

    fn holds(&self, metadata: &Value, body: &dyn Fn(&str) -> Option<Value>) -> bool {
        let value = match (&self.field, &self.pointer) {
            (Some(f), _) => f.split('.').try_fold(metadata, |v, key| v.get(key)).cloned(),
            (None, Some(p)) => body(p),
            (None, None) => None,
        };
        let result = if let Some(expected) = &self.equals {
            value.as_ref().and_then(text).is_some_and(|v| v == *expected)
        } else if let Some(set) = &self.one_of {
            value.as_ref().and_then(text).is_some_and(|v| set.contains(&v))
        } else {
            self.exists == Some(value.is_some_and(|v| !v.is_null()))
        };
        result != self.not
    }
}

impl Routes {
    /// Validates the routes against the known target names.
    pub(crate) fn new(
        rules: Vec<RouteConfig>,
        fanout: bool,
        default: Vec<String>,
        known: &dyn Fn(&str) -> bool,
    ) -> Result<Self, String> {
        for (i, r) in rules.iter().enumerate() {
            for c in &r.when {
                c.check().map_err(|e| format!("route {}: {e}", i + 1))?;
            }
            if r.targets.is_empty() {
                return Err(format!("route {} has no targets", i + 1));
            }
        }
        if let Some(t) = rules.iter().flat_map(|r| &r.targets).chain(&default).find(|t| !known(t)) {
            return Err(format!("route to unknown target `{t}` (define it in a [[target]])"));
        }
        let filters = rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.match_.clone().map(Filter::parse).transpose().map_err(|e| format!("route {}: match: {e}", i + 1))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { rules, filters, fanout, default })
    }

    /// Every target a route or the default may send to, once each, in the file's order.
    pub fn targets(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in self.rules.iter().flat_map(|r| &r.targets).chain(&self.default) {
            if !out.contains(t) {
                out.push(t.clone());
            }
        }
        out
    }

    /// The body pointers the conditions read.
    pub(crate) fn pointers(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().flat_map(|r| &r.when).filter_map(|c| c.pointer.as_deref())
    }

    /// Whether rule `i` holds: its conditions, and its `match` over `doc` (built once, when a
    /// rule first needs it).
    fn holds(
        &self,
        i: usize,
        metadata: &Value,
        body: &dyn Fn(&str) -> Option<Value>,
        doc: &dyn Fn() -> Value,
        cached: &mut Option<Value>,
    ) -> bool {
        self.rules[i].when.iter().all(|c| c.holds(metadata, body))
            && self.filters[i].as_ref().is_none_or(|f| f.matches(cached.get_or_insert_with(doc)))
    }

    /// The routes (1 = the first in the file) that hold for an event, as `select` tries them: up
    /// to the first match, or all with `fanout`. For `hookgate route test`.
    pub fn matching(
        &self,
        metadata: &Value,
        body: &dyn Fn(&str) -> Option<Value>,
        doc: &dyn Fn() -> Value,
    ) -> Vec<usize> {
        let mut out = Vec::new();
        let mut cached = None;
        for i in 0..self.rules.len() {
            if self.holds(i, metadata, body, doc, &mut cached) {
                out.push(i + 1);
                if !self.fanout {
                    break;
                }
            }
        }
        out
    }

    /// The targets for an event: the first matching route's (or every matching route's, with
    /// `fanout`), else the default. Duplicates are removed, order kept. `doc` is what a route's
    /// `match` reads (the body with its metadata fields), built only if one needs it.
    pub fn select(
        &self,
        metadata: &Value,
        body: &dyn Fn(&str) -> Option<Value>,
        doc: &dyn Fn() -> Value,
    ) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut cached = None;
        for (i, r) in self.rules.iter().enumerate() {
            if self.holds(i, metadata, body, doc, &mut cached) {
                for t in &r.targets {
                    if !out.contains(t) {
                        out.push(t.clone());
                    }
                }
                if !self.fanout {
                    break;
                }
            }
        }
        if out.is_empty() { self.default.clone() } else { out }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(field: &str, equals: Option<&str>, exists: Option<bool>) -> Condition {
        Condition {
            field: Some(field.into()),
            pointer: None,
            equals: equals.map(Into::into),
            one_of: None,
            exists,
            not: false,
        }
    }

    #[test]
    fn flinks_example_routes() {
        let rules = vec![
            RouteConfig { match_: None, when: vec![cond("tag.userId", Some("42"), None)], targets: vec!["vip".into()] },
            RouteConfig {
                match_: None,
                when: vec![cond("response_type", Some("KYC"), None)],
                targets: vec!["kyc".into()],
            },
            RouteConfig {
                match_: None,
                when: vec![Condition {
                    field: None,
                    pointer: Some("/ResponseType".into()),
                    equals: Some("GetAccountsDetail".into()),
                    one_of: None,
                    exists: None,
                    not: false,
                }],
                targets: vec!["accounts".into()],
            },
        ];
        let routes = Routes::new(rules, false, vec!["catch-all".into()], &|_| true).unwrap();
        let none = |_: &str| None;
        let kyc = serde_json::json!({"response_type": "KYC", "tag": {"userId": "7"}});
        assert_eq!(routes.select(&kyc, &none, &|| Value::Null), ["kyc"]);
        let vip = serde_json::json!({"response_type": "KYC", "tag": {"userId": "42"}});
        assert_eq!(routes.select(&vip, &none, &|| Value::Null), ["vip"]);
        let body = |p: &str| (p == "/ResponseType").then(|| Value::String("GetAccountsDetail".into()));
        assert_eq!(routes.select(&serde_json::json!({}), &body, &|| Value::Null), ["accounts"]);
        assert_eq!(
            routes.select(&serde_json::json!({"response_type": "Other"}), &none, &|| Value::Null),
            ["catch-all"]
        );
    }

    #[test]
    fn fanout_not_and_exists() {
        let mut absent = cond("tag.session", None, Some(true));
        absent.not = true;
        let rules = vec![
            RouteConfig {
                match_: None,
                when: vec![cond("tag.userId", None, Some(true))],
                targets: vec!["a".into(), "b".into()],
            },
            RouteConfig { match_: None, when: vec![absent], targets: vec!["b".into(), "c".into()] },
        ];
        let routes = Routes::new(rules, true, vec![], &|_| true).unwrap();
        let none = |_: &str| None;
        assert_eq!(
            routes.select(&serde_json::json!({"tag": {"userId": "1"}}), &none, &|| Value::Null),
            ["a", "b", "c"]
        );
        assert_eq!(
            routes.select(&serde_json::json!({"tag": {"session": "s"}}), &none, &|| Value::Null),
            Vec::<String>::new()
        );
    }

    #[test]
    fn validation() {
        let bad = vec![RouteConfig { match_: None, when: vec![], targets: vec!["nope".into()] }];
        assert!(Routes::new(bad, false, vec![], &|t| t == "known").unwrap_err().contains("unknown target `nope`"));
        let two_ops = Condition { exists: Some(true), ..cond("x", Some("1"), None) };
        let r = vec![RouteConfig { match_: None, when: vec![two_ops], targets: vec!["known".into()] }];
        assert!(Routes::new(r, false, vec![], &|_| true).is_err());
    }

    #[test]
    fn a_route_can_match_in_the_filter_language() {
        let rules = vec![RouteConfig {
            match_: Some(serde_json::json!({"ResponseType": "KYC", "Tag": {"userId": {"$in": ["1", "2"]}}})),
            when: vec![],
            targets: vec!["vip".into()],
        }];
        let routes = Routes::new(rules, false, vec!["rest".into()], &|_| true).unwrap();
        let none = |_: &str| None;
        let doc = |v: serde_json::Value| move || v.clone();
        let meta = serde_json::json!({});
        assert_eq!(
            routes.select(&meta, &none, &doc(serde_json::json!({"ResponseType": "KYC", "Tag": {"userId": "2"}}))),
            ["vip"]
        );
        assert_eq!(
            routes.select(&meta, &none, &doc(serde_json::json!({"ResponseType": "KYC", "Tag": {"userId": "3"}}))),
            ["rest"]
        );
        let bad = vec![RouteConfig {
            match_: Some(serde_json::json!({"a": {"$nope": 1}})),
            when: vec![],
            targets: vec!["x".into()],
        }];
        let err = Routes::new(bad, false, vec![], &|_| true).unwrap_err();
        assert!(err.starts_with("route 1: match: a.$nope"), "{err}");
    }
}

//! The one filter language, for routes and for the operator API's `match`: a JSON document
//! matched against an event, in the style of hookdeck/simple-json-match.
//!
//! - `{"ResponseType": "KYC", "Tag": {"userId": "12345"}}`: every key must match, nested objects
//!   match nested objects; a scalar equals (numbers by value, so `1` equals `1.0`); against an
//!   array, a scalar must be one of its elements and an array's elements must all be in it.
//! - Operators, as an object's keys: `$eq $neq $gt $gte $lt $lte` (numbers with numbers, strings
//!   with strings), `$in $nin` (one of a list, or for a string operand: contained in it),
//!   `$startsWith $endsWith`, `$exist` (true: present, false: absent), and `$and $or` (lists of
//!   filters) and `$not` (a filter), at any level.
//!
//! A filter is checked when it is parsed: an unknown operator or an operand of the wrong shape is
//! an error naming it, so a typo never silently matches everything or nothing. A filter is an
//! object (`1` or `[]` is refused, not read as "match nothing") of at most [`MAX_NODES`] values:
//! an operator's query runs the filter on every event it scans, and a 1,000-clause filter once
//! cost seconds of CPU per request.

use serde_json::Value;

/// A parsed, validated filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter(Value);

const OPERATORS: &[&str] = &[
    "$eq",
    "$neq",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$startsWith",
    "$endsWith",
    "$exist",
    "$and",
    "$or",
    "$not",
];

/// Most values (objects, arrays and scalars, at any depth) a filter may hold.
pub const MAX_NODES: usize = 256;

impl Filter {
    /// Checks a filter document.
    ///
    /// # Errors
    /// What is wrong and where (`Tag.$gte: needs a number or a string`).
    pub fn parse(doc: Value) -> Result<Self, String> {
        if !doc.is_object() {
            return Err("a filter is a JSON object, like {\"type\": \"invoice.paid\"}".into());
        }
        if nodes(&doc) > MAX_NODES {
            return Err(format!("more than {MAX_NODES} values; narrow it with the source, type or time filters"));
        }
        check(&doc, "")?;
        Ok(Self(doc))
    }

    /// Parses filter text (JSON).
    ///
    /// # Errors
    /// Invalid JSON, or what [`Filter::parse`] refuses.
    pub fn parse_str(text: &str) -> Result<Self, String> {
        let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        Self::parse(doc)
    }

    /// Whether `input` matches.
    pub fn matches(&self, input: &Value) -> bool {
        matches(&self.0, Some(input))
    }

    /// The top-level field names the filter reads without operators around them (`$and` and
    /// nested objects included), so a caller can tell whether a cheaper document covers them.
    pub fn top_level_fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        collect_fields(&self.0, &mut out);
        out
    }

    /// The document.
    pub fn document(&self) -> &Value {
        &self.0
    }

    /// Plain equalities every match needs, as (keys, scalar): a field whose value is a scalar
    /// or `$eq` one, inside nested objects, `$and` and a filter's arrays (each of whose scalars
    /// must be present), but nothing under `$or`, `$not` or another operator. A store index
    /// narrows a search with them; the filter still decides.
    pub fn required_equalities(&self) -> Vec<(Vec<&str>, &Value)> {
        let mut out = Vec::new();
        required(&self.0, &mut Vec::new(), &mut out);
        out
    }
}

fn required<'a>(doc: &'a Value, path: &mut Vec<&'a str>, out: &mut Vec<(Vec<&'a str>, &'a Value)>) {
    match doc {
        Value::Object(map) => {
            for (k, v) in map {
                match k.as_str() {
                    "$and" => {
                        for item in v.as_array().into_iter().flatten() {
                            required(item, path, out);
                        }
                    }
                    "$eq" if !path.is_empty() && !v.is_object() && !v.is_array() => out.push((path.clone(), v)),
                    k if k.starts_with('$') => {}
                    k => {
                        path.push(k);
                        required(v, path, out);
                        path.pop();
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                required(item, path, out);
            }
        }
        scalar if !path.is_empty() => out.push((path.clone(), scalar)),
        _ => {}
    }
}

fn collect_fields<'a>(doc: &'a Value, out: &mut Vec<&'a str>) {
    let Value::Object(map) = doc else { return };
    for (k, v) in map {
        match k.as_str() {
            "$and" | "$or" => {
                if let Value::Array(items) = v {
                    for item in items {
                        collect_fields(item, out);
                    }
                }
            }
            "$not" => collect_fields(v, out),
            k if k.starts_with('$') => {}
            k => out.push(k),
        }
    }
}

fn nodes(doc: &Value) -> usize {
    1 + match doc {
        Value::Object(map) => map.values().map(nodes).sum(),
        Value::Array(items) => items.iter().map(nodes).sum(),
        _ => 0,
    }
}

fn at(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn check(doc: &Value, path: &str) -> Result<(), String> {
    match doc {
        Value::Object(map) => {
            for (k, v) in map {
                let here = at(path, k);
                if !k.starts_with('$') {
                    check(v, &here)?;
                    continue;
                }
                if !OPERATORS.contains(&k.as_str()) {
                    return Err(format!("{here}: unknown operator (one of {})", OPERATORS.join(" ")));
                }
                match k.as_str() {
                    "$and" | "$or" => match v {
                        Value::Array(items) if !items.is_empty() => {
                            for (i, item) in items.iter().enumerate() {
                                check(item, &format!("{here}[{i}]"))?;
                            }
                        }
                        _ => return Err(format!("{here}: needs a non-empty list of filters")),
                    },
                    "$not" => check(v, &here)?,
                    "$gt" | "$gte" | "$lt" | "$lte" if !(v.is_number() || v.is_string()) => {
                        return Err(format!("{here}: needs a number or a string"));
                    }
                    "$in" | "$nin" if !(v.is_array() || v.is_string()) => {
                        return Err(format!("{here}: needs a list or a string"));
                    }
                    "$startsWith" | "$endsWith" if !v.is_string() => return Err(format!("{here}: needs a string")),
                    "$exist" if !v.is_boolean() => return Err(format!("{here}: needs true or false")),
                    _ => {}
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check(item, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Whether `input` (`None`: the field is absent) matches `schema`.
fn matches(schema: &Value, input: Option<&Value>) -> bool {
    match schema {
        Value::Object(map) => map.iter().all(|(k, v)| {
            if let Some(op) = k.strip_prefix('$') {
                operator(op, v, input)
            } else {
                match input {
                    Some(Value::Object(fields)) => matches(v, fields.get(k)),
                    // A key of an array's objects: any element may have it.
                    Some(Value::Array(items)) => items.iter().any(|item| match item {
                        Value::Object(fields) => matches(v, fields.get(k)),
                        _ => false,
                    }),
                    _ => matches(v, None),
                }
            }
        }),
        Value::Array(wanted) => match input {
            Some(Value::Array(items)) => wanted.iter().all(|w| items.iter().any(|i| matches(w, Some(i)))),
            _ => false,
        },
        scalar => match input {
            Some(Value::Array(items)) => items.iter().any(|i| equal(scalar, i)),
            Some(v) => equal(scalar, v),
            None => false,
        },
    }
}

fn operator(op: &str, operand: &Value, input: Option<&Value>) -> bool {
    match op {
        "eq" => input.is_some_and(|v| equal(operand, v)),
        "neq" => !input.is_some_and(|v| equal(operand, v)),
        "gt" => compare(input, operand).is_some_and(std::cmp::Ordering::is_gt),
        "gte" => compare(input, operand).is_some_and(std::cmp::Ordering::is_ge),
        "lt" => compare(input, operand).is_some_and(std::cmp::Ordering::is_lt),
        "lte" => compare(input, operand).is_some_and(std::cmp::Ordering::is_le),
        "in" => contained(input, operand),
        "nin" => input.is_some() && !contained(input, operand),
        "startsWith" => text(input).zip(operand.as_str()).is_some_and(|(v, p)| v.starts_with(p)),
        "endsWith" => text(input).zip(operand.as_str()).is_some_and(|(v, p)| v.ends_with(p)),
        "exist" => operand.as_bool() == Some(input.is_some_and(|v| !v.is_null())),
        "and" => operand.as_array().is_some_and(|items| items.iter().all(|f| matches(f, input))),
        "or" => operand.as_array().is_some_and(|items| items.iter().any(|f| matches(f, input))),
        "not" => !matches(operand, input),
        _ => false,
    }
}

fn text(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn compare(input: Option<&Value>, operand: &Value) -> Option<std::cmp::Ordering> {
    match (input?, operand) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.as_str().cmp(y.as_str())),
        _ => None,
    }
}

fn contained(input: Option<&Value>, operand: &Value) -> bool {
    let Some(v) = input else { return false };
    match operand {
        Value::Array(list) => match v {
            Value::Array(items) => items.iter().any(|i| list.iter().any(|l| equal(l, i))),
            v => list.iter().any(|l| equal(l, v)),
        },
        Value::String(haystack) => v.as_str().is_some_and(|needle| haystack.contains(needle)),
        _ => false,
    }
}

/// The keys of a JSON pointer (`/Login/Id` → `Login`, `Id`), unescaped.
pub fn pointer_keys(pointer: &str) -> impl Iterator<Item = String> + '_ {
    pointer.split('/').skip(1).map(|p| p.replace("~1", "/").replace("~0", "~"))
}

/// Removes the value at JSON pointer `pointer` from `doc`, if there is one.
pub fn remove(doc: &mut Value, pointer: &str) {
    let keys: Vec<String> = pointer_keys(pointer).collect();
    let Some((last, parents)) = keys.split_last() else { return };
    let mut at = doc;
    for key in parents {
        match at.get_mut(key.as_str()) {
            Some(next) => at = next,
            None => return,
        }
    }
    if let Value::Object(map) = at {
        map.remove(last.as_str());
    }
}

/// Puts `value` at JSON pointer `pointer` in `doc`, making objects along the way.
pub fn overlay(doc: &mut Value, pointer: &str, value: Value) {
    let mut at = doc;
    let mut parts = pointer_keys(pointer).peekable();
    while let Some(part) = parts.next() {
        if !at.is_object() {
            *at = Value::Object(Default::default());
        }
        let Value::Object(map) = at else { return };
        if parts.peek().is_none() {
            map.insert(part, value);
            return;
        }
        at = map.entry(part).or_insert_with(|| Value::Object(Default::default()));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::Filter;

    fn m(filter: serde_json::Value, input: serde_json::Value) -> bool {
        Filter::parse(filter).unwrap().matches(&input)
    }

    #[test]
    fn a_filter_is_a_bounded_object() {
        for not_object in [json!(1), json!([]), json!("x"), json!(null), json!([{"a": 1}])] {
            let e = Filter::parse(not_object.clone()).unwrap_err();
            assert!(e.contains("JSON object"), "{not_object}: {e}");
        }
        let wide: serde_json::Map<String, serde_json::Value> =
            (0..super::MAX_NODES).map(|i| (format!("k{i}"), json!(i))).collect();
        let e = Filter::parse(serde_json::Value::Object(wide)).unwrap_err();
        assert!(e.contains("more than 256"), "{e}");
        let ors: Vec<_> = (0..100).map(|i| json!({"n": i})).collect();
        assert!(Filter::parse(json!({"$or": ors})).is_ok(), "100 clauses of 2 values each fit");
    }

    #[test]
    fn fields_nested_objects_and_arrays() {
        let event = json!({"ResponseType": "KYC", "Tag": {"userId": "12345"}, "n": 3, "list": ["a", "b"],
                           "accounts": [{"id": 1}, {"id": 2}]});
        assert!(m(json!({"ResponseType": "KYC", "Tag": {"userId": "12345"}}), event.clone()));
        assert!(!m(json!({"ResponseType": "KYC", "Tag": {"userId": "1"}}), event.clone()));
        assert!(m(json!({"n": 3.0}), event.clone()), "numbers by value");
        assert!(m(json!({"list": "a"}), event.clone()), "a scalar against an array: contains");
        assert!(m(json!({"list": ["b", "a"]}), event.clone()), "an array: all of them, any order");
        assert!(!m(json!({"list": ["a", "c"]}), event.clone()));
        assert!(m(json!({"accounts": {"id": 2}}), event.clone()), "a key of an array's objects");
        assert!(!m(json!({"missing": "x"}), event.clone()));
        assert!(m(json!({}), event), "the empty filter matches everything");
    }

    #[test]
    fn operators() {
        let e = json!({"status": 503, "type": "account.updated", "id": "evt_9", "none": null});
        for (filter, want) in [
            (json!({"status": {"$gte": 500, "$lt": 600}}), true),
            (json!({"status": {"$gt": 503}}), false),
            (json!({"status": {"$eq": 503}}), true),
            (json!({"status": {"$neq": 503}}), false),
            (json!({"missing": {"$neq": 1}}), true),
            (json!({"type": {"$startsWith": "account."}}), true),
            (json!({"type": {"$endsWith": ".created"}}), false),
            (json!({"type": {"$in": ["account.updated", "x"]}}), true),
            (json!({"type": {"$nin": ["account.updated"]}}), false),
            (json!({"id": {"$in": "evt_9,evt_10"}}), true),
            (json!({"id": {"$exist": true}}), true),
            (json!({"none": {"$exist": true}}), false),
            (json!({"missing": {"$exist": false}}), true),
            (json!({"$or": [{"status": 200}, {"status": 503}]}), true),
            (json!({"$and": [{"status": 503}, {"type": {"$startsWith": "x"}}]}), false),
            (json!({"$not": {"status": 503}}), false),
            (json!({"type": {"$not": {"$startsWith": "user."}}}), true),
            (json!({"type": {"$gt": "a"}}), true),
            (json!({"status": {"$gt": "a"}}), false),
        ] {
            assert_eq!(m(filter.clone(), e.clone()), want, "{filter}");
        }
    }

    #[test]
    fn required_equalities_are_what_every_match_needs() {
        let f = Filter::parse(json!({"ResponseType": "KYC", "Tag": {"userId": "12345"}, "n": {"$eq": 3, "$lt": 9},
            "list": ["a", {"id": 1}], "$and": [{"x": true}], "$or": [{"y": 1}, {"y": 2}], "$not": {"z": 1},
            "w": {"$in": ["p"]}}))
        .unwrap();
        let mut got: Vec<String> =
            f.required_equalities().iter().map(|(p, v)| format!("{}={v}", p.join("."))).collect();
        got.sort();
        assert_eq!(got, ["ResponseType=\"KYC\"", "Tag.userId=\"12345\"", "list.id=1", "list=\"a\"", "n=3", "x=true"]);
        assert!(Filter::parse(json!({"$or": [{"a": 1}]})).unwrap().required_equalities().is_empty());
    }

    #[test]
    fn remove_at_pointer() {
        let mut doc = json!({"Login": {"Id": "x", "k": 1}, "Tag": "a"});
        super::remove(&mut doc, "/Login/Id");
        super::remove(&mut doc, "/Missing/Id");
        super::remove(&mut doc, "/Tag");
        assert_eq!(doc, json!({"Login": {"k": 1}}));
    }

    #[test]
    fn mistakes_are_refused_naming_where() {
        for (filter, want) in [
            (json!({"a": {"$regex": "x"}}), "a.$regex: unknown operator"),
            (json!({"a": {"$gt": true}}), "a.$gt: needs a number or a string"),
            (json!({"$or": []}), "$or: needs a non-empty list"),
            (json!({"$and": [{"b": {"$exist": "yes"}}]}), "$and[0].b.$exist: needs true or false"),
            (json!({"a": {"$in": 3}}), "a.$in: needs a list or a string"),
            (json!({"a": {"$startsWith": 1}}), "a.$startsWith: needs a string"),
        ] {
            let err = Filter::parse(filter.clone()).unwrap_err();
            assert!(err.starts_with(want), "{filter}: {err}");
        }
        assert!(Filter::parse_str("{not json").unwrap_err().starts_with("not JSON"));
    }
}

//! The one place where records meet Automerge. Records are plain serde types;
//! they cross into a document as JSON-shaped values:
//!
//! - JSON objects become Automerge maps, so concurrent edits of different
//!   fields (or different entries) merge field by field;
//! - arrays become lists; an array that only grew (a history, a list of
//!   follow-up updates) is appended to, so concurrent appends both survive;
//! - strings are scalar strings, not collaborative text: a field is one
//!   value, last writer wins, and the history keeps what it replaced.
//!
//! Numbers that a JavaScript automerge-repo client wrote as floats are read
//! back as integers when they are whole, so both sides share one format.

use automerge::transaction::Transactable;
use automerge::{AutomergeError, ObjId, ObjType, Prop, ReadDoc, ScalarValue, hydrate};
use serde_json::{Map, Number, Value};

pub fn read_json<R: ReadDoc>(doc: &R, obj: &ObjId) -> Result<Value, AutomergeError> {
    Ok(from_hydrated(&doc.hydrate(obj, None)?))
}

fn from_hydrated(v: &hydrate::Value) -> Value {
    match v {
        hydrate::Value::Scalar(s) => from_scalar(s),
        hydrate::Value::Text(t) => Value::String(t.to_string()),
        hydrate::Value::Map(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), from_hydrated(&v.value)))
                .collect(),
        ),
        hydrate::Value::List(l) => {
            Value::Array(l.iter().map(|v| from_hydrated(&v.value)).collect())
        }
    }
}

/// A scalar as JSON.
pub fn read_json_scalar(s: &ScalarValue) -> Value {
    from_scalar(s)
}

fn from_scalar(s: &ScalarValue) -> Value {
    match s {
        ScalarValue::Str(s) => Value::String(s.to_string()),
        ScalarValue::Int(i) => Value::Number((*i).into()),
        ScalarValue::Uint(u) => Value::Number((*u).into()),
        ScalarValue::Counter(c) => Value::Number(i64::from(c).into()),
        ScalarValue::Timestamp(t) => Value::Number((*t).into()),
        ScalarValue::F64(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
            Value::Number((*f as i64).into())
        }
        ScalarValue::F64(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        ScalarValue::Boolean(b) => Value::Bool(*b),
        ScalarValue::Null | ScalarValue::Bytes(_) | ScalarValue::Unknown { .. } => Value::Null,
    }
}

fn to_scalar(v: &Value) -> Option<ScalarValue> {
    Some(match v {
        Value::Null => ScalarValue::Null,
        Value::Bool(b) => ScalarValue::Boolean(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => ScalarValue::Int(i),
            (None, Some(f)) => ScalarValue::F64(f),
            (None, None) => return None,
        },
        Value::String(s) => ScalarValue::Str(s.as_str().into()),
        Value::Array(_) | Value::Object(_) => return None,
    })
}

/// Write `value` at `prop` of `obj`, creating nested objects.
pub fn put_json<T: Transactable, P: Into<Prop>>(
    tx: &mut T,
    obj: &ObjId,
    prop: P,
    value: &Value,
) -> Result<(), AutomergeError> {
    let prop = prop.into();
    match value {
        Value::Object(fields) => {
            let child = put_object(tx, obj, prop, ObjType::Map)?;
            for (k, v) in fields {
                put_json(tx, &child, k.as_str(), v)?;
            }
        }
        Value::Array(items) => {
            let child = put_object(tx, obj, prop, ObjType::List)?;
            for (i, v) in items.iter().enumerate() {
                insert_json(tx, &child, i, v)?;
            }
        }
        scalar => {
            let s = to_scalar(scalar).unwrap_or(ScalarValue::Null);
            match prop {
                Prop::Map(k) => tx.put(obj, k, s)?,
                Prop::Seq(i) => tx.put(obj, i, s)?,
            }
        }
    }
    Ok(())
}

fn put_object<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    prop: Prop,
    kind: ObjType,
) -> Result<ObjId, AutomergeError> {
    match prop {
        Prop::Map(k) => tx.put_object(obj, k, kind),
        Prop::Seq(i) => tx.put_object(obj, i, kind),
    }
}

fn insert_json<T: Transactable>(
    tx: &mut T,
    list: &ObjId,
    index: usize,
    value: &Value,
) -> Result<(), AutomergeError> {
    match value {
        Value::Object(_) | Value::Array(_) => {
            let kind = if value.is_object() {
                ObjType::Map
            } else {
                ObjType::List
            };
            let child = tx.insert_object(list, index, kind)?;
            match value {
                Value::Object(fields) => {
                    for (k, v) in fields {
                        put_json(tx, &child, k.as_str(), v)?;
                    }
                }
                Value::Array(items) => {
                    for (i, v) in items.iter().enumerate() {
                        insert_json(tx, &child, i, v)?;
                    }
                }
                _ => {}
            }
        }
        scalar => tx.insert(list, index, to_scalar(scalar).unwrap_or(ScalarValue::Null))?,
    }
    Ok(())
}

/// Bring the map `obj`, which holds `old`, to `new`, writing only what
/// changed: this is what keeps concurrent corrections mergeable.
pub fn reconcile_map<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<(), AutomergeError> {
    for key in old.keys() {
        if !new.contains_key(key) {
            tx.delete(obj, key.as_str())?;
        }
    }
    for (key, new_value) in new {
        let old_value = old.get(key);
        if old_value == Some(new_value) {
            continue;
        }
        match (old_value, new_value) {
            (Some(Value::Object(o)), Value::Object(n)) => {
                let child = child_id(tx, obj, key)?;
                reconcile_map(tx, &child, o, n)?;
            }
            (Some(Value::Array(o)), Value::Array(n))
                if n.len() >= o.len() && n[..o.len()] == o[..] =>
            {
                let child = child_id(tx, obj, key)?;
                for (i, v) in n.iter().enumerate().skip(o.len()) {
                    insert_json(tx, &child, i, v)?;
                }
            }
            _ => put_json(tx, obj, key.as_str(), new_value)?,
        }
    }
    Ok(())
}

/// The id of the object at `key`; a missing or scalar value is a bug in the
/// caller, which read `old` from this very object.
pub fn child_id<R: ReadDoc>(doc: &R, obj: &ObjId, key: &str) -> Result<ObjId, AutomergeError> {
    match doc.get(obj, key)? {
        Some((automerge::Value::Object(_), id)) => Ok(id),
        _ => Err(AutomergeError::InvalidObjId(format!(
            "{key} is not an object"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{AutoCommit, ROOT};
    use serde_json::json;

    #[test]
    fn a_record_written_and_read_back_is_the_same() {
        let mut doc = AutoCommit::new();
        let v = json!({"kind": "distribution", "quantity": 3, "tags": ["a", "b"], "nested": {"x": true}});
        put_json(&mut doc, &ROOT, "entry", &v).unwrap();
        let back = read_json(&doc, &ROOT).unwrap();
        assert_eq!(back["entry"], v);
    }

    #[test]
    fn concurrent_appends_to_a_history_both_survive() {
        let mut a = AutoCommit::new();
        let base = json!({"history": [1]});
        put_json(&mut a, &ROOT, "e", &base).unwrap();
        let mut b = a.fork();
        let e = child_id(&a, &ROOT, "e").unwrap();
        let old = base.as_object().unwrap().clone();
        reconcile_map(
            &mut a,
            &e,
            &old,
            json!({"history": [1, 2]}).as_object().unwrap(),
        )
        .unwrap();
        reconcile_map(
            &mut b,
            &e,
            &old,
            json!({"history": [1, 3]}).as_object().unwrap(),
        )
        .unwrap();
        a.merge(&mut b).unwrap();
        let merged = read_json(&a, &ROOT).unwrap();
        let mut h: Vec<i64> = merged["e"]["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        h.sort();
        assert_eq!(h, vec![1, 2, 3]);
    }

    #[test]
    fn whole_floats_written_by_javascript_read_as_integers() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "quantity", 2.0_f64).unwrap();
        assert_eq!(read_json(&doc, &ROOT).unwrap()["quantity"], json!(2));
    }
}

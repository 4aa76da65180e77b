//! Conversions into and out of [`Value`], the one type that carries
//! observations, actions, infos, options and state.
//!
//! `7i64.into()` is an `int_value`, `0.5f64.into()` a `double_value`, a
//! [`Tensor`] a `tensor`, and so on, so an action is written as it is meant:
//! `session.step(1i64)`, `session.step(Tensor::vector(&[0.1f32, -0.2]))`.
//! [`MapValue`] keeps its entries in order (it is a list on the wire).

use crate::v1::{ListValue, MapEntry, MapValue, Tensor, Value, value::Kind};

impl From<Kind> for Value {
    fn from(kind: Kind) -> Self {
        Self { kind: Some(kind) }
    }
}

macro_rules! value_from {
    ($($ty:ty => |$v:ident| $kind:expr),* $(,)?) => {$(
        impl From<$ty> for Value {
            fn from($v: $ty) -> Self {
                Self::from($kind)
            }
        }
    )*};
}

value_from!(
    Tensor => |v| Kind::Tensor(v),
    i64 => |v| Kind::IntValue(v),
    f64 => |v| Kind::DoubleValue(v),
    bool => |v| Kind::BoolValue(v),
    String => |v| Kind::StringValue(v),
    &str => |v| Kind::StringValue(v.to_owned()),
    ListValue => |v| Kind::ListValue(v),
    MapValue => |v| Kind::MapValue(v),
);

impl Value {
    /// An explicit null (Python `None`).
    pub fn null() -> Self {
        Self::from(Kind::NullValue(prost_types::NullValue::NullValue as i32))
    }

    /// Opaque bytes (a `bytes_value`).
    pub fn bytes(data: impl Into<Vec<u8>>) -> Self {
        Self::from(Kind::BytesValue(data.into()))
    }

    /// The tensor this value holds, if it holds one.
    pub fn as_tensor(&self) -> Option<&Tensor> {
        match &self.kind {
            Some(Kind::Tensor(t)) => Some(t),
            _ => None,
        }
    }

    /// The plain integer this value holds, if it holds one.
    pub fn as_i64(&self) -> Option<i64> {
        match self.kind {
            Some(Kind::IntValue(v)) => Some(v),
            _ => None,
        }
    }

    /// The plain float this value holds, if it holds one.
    pub fn as_f64(&self) -> Option<f64> {
        match self.kind {
            Some(Kind::DoubleValue(v)) => Some(v),
            _ => None,
        }
    }

    /// The text this value holds, if it holds text.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Some(Kind::StringValue(v)) => Some(v),
            _ => None,
        }
    }

    /// The map this value holds, if it holds one.
    pub fn as_map(&self) -> Option<&MapValue> {
        match &self.kind {
            Some(Kind::MapValue(v)) => Some(v),
            _ => None,
        }
    }

    /// The list this value holds, if it holds one.
    pub fn as_list(&self) -> Option<&[Value]> {
        match &self.kind {
            Some(Kind::ListValue(v)) => Some(&v.values),
            _ => None,
        }
    }
}

impl MapValue {
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|e| e.key == key)
            .and_then(|e| e.value.as_ref())
    }

    /// Sets `key` to `value`: in place when the key exists, else appended.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        let (key, value) = (key.into(), Some(value.into()));
        match self.entries.iter_mut().find(|e| e.key == key) {
            Some(entry) => entry.value = value,
            None => self.entries.push(MapEntry { key, value }),
        }
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.key.as_str())
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for MapValue {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        let mut map = MapValue::default();
        entries.into_iter().for_each(|(k, v)| map.insert(k, v));
        map
    }
}

impl<V: Into<Value>> FromIterator<V> for ListValue {
    fn from_iter<I: IntoIterator<Item = V>>(values: I) -> Self {
        Self {
            values: values.into_iter().map(Into::into).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_order_and_replaces_in_place() {
        let mut map: MapValue = [("b", 1i64), ("a", 2)].into_iter().collect();
        map.insert("b", 3i64);
        map.insert("c", "text");
        assert_eq!(map.keys().collect::<Vec<_>>(), ["b", "a", "c"]);
        assert_eq!(map.get("b").and_then(Value::as_i64), Some(3));
        assert_eq!(map.get("c").and_then(Value::as_str), Some("text"));
        assert!(map.get("missing").is_none());
    }

    #[test]
    fn scalars_and_containers_convert() {
        assert_eq!(Value::from(0.5).as_f64(), Some(0.5));
        assert_eq!(
            Value::from(Tensor::scalar(1u8))
                .as_tensor()
                .map(|t| t.shape.len()),
            Some(0)
        );
        let list: ListValue = [Value::null(), Value::bytes(b"x".to_vec()), true.into()]
            .into_iter()
            .collect();
        assert_eq!(Value::from(list).as_list().map(<[Value]>::len), Some(3));
    }
}

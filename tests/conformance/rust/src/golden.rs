//! Check 13, `golden`: every golden file decodes as its type and encodes
//! back to the same bytes, and every tensor in it reads, through the
//! crate's tensor helper, as the values golden.json lists.

use std::path::Path;

use openenv_grpc::TensorData;
use openenv_grpc::v1::{
    DescribeResponse, ResetBatchResponse, ResetResponse, Space, StateResponse, StepBatchResponse,
    StepResponse, StepStreamRequest, StepStreamResponse, Tensor, Value,
};
use prost::Message;
use serde_json::Value as Json;

use crate::expect::{Outcome, equal, float, list, text};

pub fn check(dir: &Path) -> Outcome {
    let index = std::fs::read_to_string(dir.join("golden.json"))
        .map_err(|e| format!("golden.json: {e}"))?;
    let index: Json = serde_json::from_str(&index).map_err(|e| format!("golden.json: {e}"))?;
    let entries = index.as_array().ok_or("golden.json is not a list")?;
    if entries.is_empty() {
        return Err("golden.json lists no files".into());
    }
    let problems: Vec<String> = entries
        .iter()
        .filter_map(|entry| file(dir, entry).err())
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn file(dir: &Path, entry: &Json) -> Outcome {
    let name = text(entry, "file")?;
    let bytes = std::fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
    let (again, tensor) =
        round_trip(text(entry, "type")?, &bytes).map_err(|e| format!("{name}: {e}"))?;
    if again != bytes {
        return Err(format!(
            "{name}: re-encoded to other bytes ({} instead of {})",
            again.len(),
            bytes.len()
        ));
    }
    match (entry.get("tensor"), tensor) {
        (Some(want), Some(got)) => tensor_equal(&got, want).map_err(|e| format!("{name}: {e}")),
        (Some(_), None) => Err(format!("{name}: holds no tensor")),
        (None, _) => Ok(()),
    }
}

/// Decodes `bytes` as the message `type_name`, and returns it encoded again
/// with the tensor it is or holds directly, if any.
fn round_trip(type_name: &str, bytes: &[u8]) -> Outcome<(Vec<u8>, Option<Tensor>)> {
    fn again<M: Message + Default>(bytes: &[u8]) -> Outcome<Vec<u8>> {
        Ok(M::decode(bytes).map_err(|e| e.to_string())?.encode_to_vec())
    }
    Ok(match type_name {
        "openenv.v1.Tensor" => {
            let tensor = Tensor::decode(bytes).map_err(|e| e.to_string())?;
            (tensor.encode_to_vec(), Some(tensor))
        }
        "openenv.v1.Value" => {
            let value = Value::decode(bytes).map_err(|e| e.to_string())?;
            (value.encode_to_vec(), value.as_tensor().cloned())
        }
        "openenv.v1.Space" => (again::<Space>(bytes)?, None),
        "openenv.v1.StepBatchResponse" => (again::<StepBatchResponse>(bytes)?, None),
        "openenv.v1.StepResponse" => (again::<StepResponse>(bytes)?, None),
        "openenv.v1.ResetResponse" => (again::<ResetResponse>(bytes)?, None),
        "openenv.v1.ResetBatchResponse" => (again::<ResetBatchResponse>(bytes)?, None),
        "openenv.v1.StateResponse" => (again::<StateResponse>(bytes)?, None),
        "openenv.v1.DescribeResponse" => (again::<DescribeResponse>(bytes)?, None),
        "openenv.v1.StepStreamRequest" => (again::<StepStreamRequest>(bytes)?, None),
        "openenv.v1.StepStreamResponse" => (again::<StepStreamResponse>(bytes)?, None),
        other => return Err(format!("unknown message type {other}")),
    })
}

/// A tensor equal to golden.json's `{"dtype", "shape", "values"}`, element by
/// element and exactly (64-bit integers beyond 2^53 come as strings).
fn tensor_equal(got: &Tensor, want: &Json) -> Outcome {
    let dtype = got
        .dtype()
        .as_str_name()
        .trim_start_matches("DTYPE_")
        .to_lowercase();
    equal("dtype", dtype.as_str(), text(want, "dtype")?)?;
    let shape = list(want, "shape")?
        .iter()
        .map(|d| d.as_i64().map(|d| d as i32))
        .collect::<Option<Vec<_>>>();
    equal("shape", Some(got.shape.clone()), shape)?;
    let values = list(want, "values")?;
    let data = got.to_data().map_err(|e| e.to_string())?;
    match &data {
        TensorData::Bool(v) => equal(
            "values",
            v.iter().map(|&b| Some(b)).collect(),
            values.iter().map(Json::as_bool).collect::<Vec<_>>(),
        ),
        TensorData::Int8(v) => ints(v, values),
        TensorData::Int16(v) => ints(v, values),
        TensorData::Int32(v) => ints(v, values),
        TensorData::Int64(v) => ints(v, values),
        TensorData::Uint8(v) => ints(v, values),
        TensorData::Uint16(v) => ints(v, values),
        TensorData::Uint32(v) => ints(v, values),
        TensorData::Uint64(v) => ints(v, values),
        TensorData::Float16(_) | TensorData::Float32(_) | TensorData::Float64(_) => {
            let want = values.iter().map(float).collect::<Outcome<Vec<f64>>>()?;
            let got = data.to_f64();
            let same = got.len() == want.len()
                && got
                    .iter()
                    .zip(&want)
                    .all(|(g, w)| g == w || (g.is_nan() && w.is_nan()));
            if same {
                Ok(())
            } else {
                Err(format!("values: got {got:?}, want {want:?}"))
            }
        }
    }
}

fn ints<T: Copy + Into<i128>>(got: &[T], want: &[Json]) -> Outcome {
    let want = want
        .iter()
        .map(|v| match v {
            Json::Number(n) => n.as_i64().map(i128::from).or(n.as_u64().map(i128::from)),
            Json::String(s) => s.parse().ok(),
            _ => None,
        })
        .collect::<Vec<Option<i128>>>();
    equal(
        "values",
        got.iter().map(|&v| Some(v.into())).collect(),
        want,
    )
}

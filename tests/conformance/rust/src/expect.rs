//! Reading expectations out of the scenario's JSON and comparing what the
//! server answered with them. Every failure is a sentence saying what
//! differed, which becomes the check's `FAIL name: why` line.

use std::collections::BTreeMap;
use std::fmt::Debug;

use openenv_grpc::Error;
use openenv_grpc::v1::{StepResponse, Tensor, Value};
use serde_json::Value as Json;

/// A check's verdict: `Err` holds why it failed.
pub type Outcome<T = ()> = Result<T, String>;

/// The member at a dotted `path` ("episode.steps").
pub fn at<'a>(json: &'a Json, path: &str) -> Outcome<&'a Json> {
    path.split('.')
        .try_fold(json, |node, key| node.get(key))
        .ok_or_else(|| format!("the scenario has no {path}"))
}

pub fn int(json: &Json, path: &str) -> Outcome<i64> {
    at(json, path)?
        .as_i64()
        .ok_or_else(|| format!("the scenario's {path} is not an integer"))
}

pub fn text<'a>(json: &'a Json, path: &str) -> Outcome<&'a str> {
    at(json, path)?
        .as_str()
        .ok_or_else(|| format!("the scenario's {path} is not a string"))
}

pub fn list<'a>(json: &'a Json, path: &str) -> Outcome<&'a [Json]> {
    at(json, path)?
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("the scenario's {path} is not a list"))
}

/// A float: a JSON number, or "Infinity", "-Infinity", "NaN".
pub fn float(json: &Json) -> Outcome<f64> {
    match json {
        Json::Number(n) => n.as_f64().ok_or_else(|| format!("{n} is not a float")),
        Json::String(s) => match s.as_str() {
            "Infinity" | "inf" => Ok(f64::INFINITY),
            "-Infinity" | "-inf" => Ok(f64::NEG_INFINITY),
            "NaN" | "nan" => Ok(f64::NAN),
            _ => Err(format!("{s:?} is not a float")),
        },
        other => Err(format!("{other} is not a float")),
    }
}

/// Nested JSON lists of numbers as a shape and the elements in C order.
pub fn nested(json: &Json) -> Outcome<(Vec<i32>, Vec<f64>)> {
    match json {
        Json::Array(items) => {
            let mut shape = None;
            let mut values = Vec::new();
            for item in items {
                let (inner, mut flat) = nested(item)?;
                if shape.get_or_insert_with(|| inner.clone()) != &inner {
                    return Err(format!("ragged list in the scenario: {json}"));
                }
                values.append(&mut flat);
            }
            let mut dims = vec![items.len() as i32];
            dims.extend(shape.unwrap_or_default());
            Ok((dims, values))
        }
        Json::Bool(b) => Ok((Vec::new(), vec![f64::from(u8::from(*b))])),
        other => Ok((Vec::new(), vec![float(other)?])),
    }
}

pub fn equal<T: PartialEq + Debug>(what: &str, got: T, want: T) -> Outcome {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

/// A tensor equal, in shape and elements, to nested JSON lists.
pub fn tensor(what: &str, got: Option<&Tensor>, want: &Json) -> Outcome {
    let tensor = got.ok_or_else(|| format!("{what}: no tensor"))?;
    let (shape, values) = nested(want)?;
    equal(&format!("{what} shape"), &tensor.shape, &shape)?;
    let got = tensor
        .to_data()
        .map_err(|e| format!("{what}: {e}"))?
        .to_f64();
    equal(what, got, values)
}

/// A Value holding a tensor equal to nested JSON lists.
pub fn value_tensor(what: &str, got: Option<&Value>, want: &Json) -> Outcome {
    tensor(what, got.and_then(Value::as_tensor), want)
}

/// A step's answer equal to the scenario's step `want`, as step `index`.
pub fn step(what: &str, got: &StepResponse, want: &Json, index: i64) -> Outcome {
    value_tensor(
        &format!("{what} observation"),
        got.observation.as_ref(),
        at(want, "observation")?,
    )?;
    equal(
        &format!("{what} reward"),
        got.reward,
        float(at(want, "reward")?)?,
    )?;
    equal(
        &format!("{what} terminated"),
        Some(got.terminated),
        at(want, "terminated")?.as_bool(),
    )?;
    equal(
        &format!("{what} truncated"),
        Some(got.truncated),
        at(want, "truncated")?.as_bool(),
    )?;
    let components = at(want, "reward_components")?
        .as_object()
        .ok_or("the scenario's reward_components is not an object")?
        .iter()
        .map(|(k, v)| Ok((k.clone(), float(v)?)))
        .collect::<Outcome<BTreeMap<_, _>>>()?;
    equal(
        &format!("{what} reward_components"),
        &got.reward_components,
        &components,
    )?;
    equal(&format!("{what} step_index"), got.step_index, index)
}

/// The error the scenario's `want` describes (its `code`, and `reason` when
/// given), returned for further checks.
pub fn error<T>(what: &str, got: Result<T, Error>, want: &Json) -> Outcome<Error> {
    let code = int(want, "code")?;
    let err = got
        .err()
        .ok_or_else(|| format!("{what}: succeeded where code {code} was due"))?;
    equal(
        &format!("{what} code ({err})"),
        i64::from(err.code() as i32),
        code,
    )?;
    if let Some(reason) = want.get("reason").and_then(Json::as_str) {
        equal(&format!("{what} reason ({err})"), err.reason(), reason)?;
    }
    Ok(err)
}

/// A failed call as a check's failure.
pub fn call<T>(what: &str, result: Result<T, Error>) -> Outcome<T> {
    result.map_err(|e| format!("{what}: {e}"))
}

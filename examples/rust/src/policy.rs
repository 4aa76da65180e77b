//! A random policy: uniform samples of the action space Describe announced.
//!
//! Handles Discrete (an `int_value`), MultiDiscrete, MultiBinary and Box of
//! any shape and dtype (a tensor). Box elements with both bounds finite are
//! uniform between them; unbounded ones are drawn as Gymnasium does (normal
//! when unbounded on both sides, exponential from the finite bound).

use openenv_grpc::v1::{BoxSpace, Dtype, Space, Tensor, Value, space::Kind};
use openenv_grpc::{Element, TensorData, TensorError};

/// Samples actions of one action space.
pub struct RandomPolicy {
    space: Kind,
    rng: SplitMix64,
}

impl RandomPolicy {
    /// A policy over `space`, or why this example cannot sample it.
    pub fn new(space: &Space, seed: u64) -> Result<Self, String> {
        let space = space.kind.clone().ok_or("the action space has no kind")?;
        match &space {
            Kind::Discrete(_) | Kind::MultiDiscrete(_) | Kind::MultiBinary(_) | Kind::Box(_) => {}
            other => {
                return Err(format!(
                    "a random policy here handles Discrete, MultiDiscrete, MultiBinary and Box, not {other:?}"
                ));
            }
        }
        Ok(Self {
            space,
            rng: SplitMix64(seed),
        })
    }

    /// One action.
    pub fn sample(&mut self) -> Result<Value, TensorError> {
        let rng = &mut self.rng;
        Ok(match &self.space {
            Kind::Discrete(d) => Value::from(d.start + rng.below(d.n.max(1) as u64) as i64),
            Kind::MultiBinary(m) => {
                let count = m.shape.iter().map(|&d| d.max(0) as usize).product();
                let bits: Vec<i8> = (0..count).map(|_| rng.below(2) as i8).collect();
                Value::from(Tensor::new(&bits, m.shape.clone())?)
            }
            Kind::MultiDiscrete(m) => {
                let nvec = integers(&m.nvec.clone().unwrap_or_default().to_data()?);
                let start = m
                    .start
                    .as_ref()
                    .map(|s| s.to_data().map(|d| integers(&d)))
                    .transpose()?;
                let values: Vec<i128> = nvec
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| {
                        start.as_ref().map_or(0, |s| s[i]) + i128::from(rng.below(n.max(1) as u64))
                    })
                    .collect();
                let dtype = Dtype::try_from(m.dtype)
                    .ok()
                    .filter(|&d| d != Dtype::Unspecified)
                    .unwrap_or(Dtype::Int64);
                let shape = m.nvec.as_ref().map(|t| t.shape.clone()).unwrap_or_default();
                Value::from(integer_tensor(dtype, &values, shape)?)
            }
            Kind::Box(b) => Value::from(sample_box(b, rng)?),
            _ => unreachable!("checked in new"),
        })
    }
}

fn sample_box(space: &BoxSpace, rng: &mut SplitMix64) -> Result<Tensor, TensorError> {
    let count = space
        .shape
        .iter()
        .map(|&d| d.max(0) as usize)
        .product::<usize>();
    let bound = |t: &Option<Tensor>| -> Result<Option<TensorData>, TensorError> {
        t.as_ref().map(Tensor::to_data).transpose()
    };
    // Bounds come per element or as one scalar for every element.
    let at = |values: &[f64], i: usize| values.get(i).or(values.first()).copied();
    let dtype = space.dtype();
    match dtype {
        Dtype::Float16 | Dtype::Float32 | Dtype::Float64 => {
            let low = bound(&space.low)?.map(|d| d.to_f64()).unwrap_or_default();
            let high = bound(&space.high)?.map(|d| d.to_f64()).unwrap_or_default();
            let values: Vec<f64> = (0..count)
                .map(|i| {
                    let (lo, hi) = (
                        at(&low, i).unwrap_or(f64::NEG_INFINITY),
                        at(&high, i).unwrap_or(f64::INFINITY),
                    );
                    match (lo.is_finite(), hi.is_finite()) {
                        (true, true) => lo + (hi - lo) * rng.unit(),
                        (true, false) => lo + rng.exponential(),
                        (false, true) => hi - rng.exponential(),
                        (false, false) => rng.normal(),
                    }
                })
                .collect();
            match dtype {
                Dtype::Float16 => Tensor::from_f16(
                    &values.iter().map(|&v| v as f32).collect::<Vec<_>>(),
                    space.shape.clone(),
                ),
                Dtype::Float32 => Tensor::new(
                    &values.iter().map(|&v| v as f32).collect::<Vec<_>>(),
                    space.shape.clone(),
                ),
                _ => Tensor::new(&values, space.shape.clone()),
            }
        }
        _ => {
            // Integer and bool boxes: bounds in the dtype, exact as i128.
            let low = bound(&space.low)?.map(|d| integers(&d)).unwrap_or_default();
            let high = bound(&space.high)?
                .map(|d| integers(&d))
                .unwrap_or_default();
            let values: Vec<i128> = (0..count)
                .map(|i| {
                    let lo = low.get(i).or(low.first()).copied().unwrap_or(0);
                    let hi = high.get(i).or(high.first()).copied().unwrap_or(lo).max(lo);
                    let span = (hi - lo + 1).min(i128::from(u64::MAX)) as u64;
                    lo + i128::from(if span == 0 {
                        rng.next()
                    } else {
                        rng.below(span)
                    })
                })
                .collect();
            integer_tensor(dtype, &values, space.shape.clone())
        }
    }
}

/// Integer (or bool) elements, exactly.
fn integers(data: &TensorData) -> Vec<i128> {
    fn all<T: Copy + Into<i128>>(values: &[T]) -> Vec<i128> {
        values.iter().map(|&v| v.into()).collect()
    }
    match data {
        TensorData::Bool(v) => v.iter().map(|&b| i128::from(b)).collect(),
        TensorData::Int8(v) => all(v),
        TensorData::Int16(v) => all(v),
        TensorData::Int32(v) => all(v),
        TensorData::Int64(v) => all(v),
        TensorData::Uint8(v) => all(v),
        TensorData::Uint16(v) => all(v),
        TensorData::Uint32(v) => all(v),
        TensorData::Uint64(v) => all(v),
        other => other.to_f64().iter().map(|&v| v as i128).collect(),
    }
}

/// A tensor of `dtype` from integers already inside its range.
fn integer_tensor(dtype: Dtype, values: &[i128], shape: Vec<i32>) -> Result<Tensor, TensorError> {
    fn cast<T: Element + TryFrom<i128>>(
        values: &[i128],
        shape: Vec<i32>,
    ) -> Result<Tensor, TensorError> {
        let cast: Vec<T> = values
            .iter()
            .map(|&v| T::try_from(v).ok().expect("inside the dtype's range"))
            .collect();
        Tensor::new(&cast, shape)
    }
    match dtype {
        Dtype::Bool => Tensor::new(&values.iter().map(|&v| v != 0).collect::<Vec<_>>(), shape),
        Dtype::Int8 => cast::<i8>(values, shape),
        Dtype::Int16 => cast::<i16>(values, shape),
        Dtype::Int32 => cast::<i32>(values, shape),
        Dtype::Uint8 => cast::<u8>(values, shape),
        Dtype::Uint16 => cast::<u16>(values, shape),
        Dtype::Uint32 => cast::<u32>(values, shape),
        Dtype::Uint64 => cast::<u64>(values, shape),
        _ => cast::<i64>(values, shape),
    }
}

/// SplitMix64: a small, fast, seedable generator, plenty for a random policy.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, n) (n > 0), without modulo bias worth mentioning here.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn exponential(&mut self) -> f64 {
        -(1.0 - self.unit()).ln()
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (1.0 - self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

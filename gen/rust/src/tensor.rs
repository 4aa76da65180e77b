//! Tensors to and from native vectors.
//!
//! A [`Tensor`] is a dtype, a shape (`Vec<i32>`, outermost first, empty for a
//! scalar) and the elements as little-endian bytes in C order. The contract
//! promises no alignment, so reading never reinterprets the bytes in place:
//! each element is copied out with `from_le_bytes`, which is correct at any
//! address and on any host byte order.
//!
//! Float16 has no stable Rust type: a float16 tensor reads as `Vec<f32>`
//! (exactly) and is written from `f32` with [`Tensor::from_f16`] (see
//! [`crate::f32_to_f16_bits`] for the rounding).

use std::fmt;

use prost::bytes::Bytes;

use crate::f16::{f16_bits_to_f32, f32_to_f16_bits};
use crate::v1::{Dtype, Tensor};

/// A Rust type that is the element type of one [`Dtype`].
///
/// Implemented for `bool`, `i8` to `i64`, `u8` to `u64`, `f32` and `f64`.
/// `f32` also reads float16 tensors.
pub trait Element: Copy + sealed::Sealed {
    /// The dtype whose elements this type holds.
    const DTYPE: Dtype;
    /// Bytes per element on the wire.
    const SIZE: usize;
    /// Reads one element from exactly `SIZE` little-endian bytes.
    fn read_le(bytes: &[u8]) -> Self;
    /// Appends this element's little-endian bytes.
    fn write_le(self, out: &mut Vec<u8>);

    /// Decodes `data` of a tensor of `dtype`, or `None` when this type does
    /// not hold that dtype's elements.
    fn decode(dtype: Dtype, data: &[u8]) -> Option<Vec<Self>> {
        (dtype == Self::DTYPE).then(|| data.chunks_exact(Self::SIZE).map(Self::read_le).collect())
    }
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! numeric_element {
    ($($ty:ty => $dtype:ident),* $(,)?) => {$(
        impl sealed::Sealed for $ty {}
        impl Element for $ty {
            const DTYPE: Dtype = Dtype::$dtype;
            const SIZE: usize = size_of::<$ty>();
            fn read_le(bytes: &[u8]) -> Self {
                <$ty>::from_le_bytes(bytes.try_into().expect("element size"))
            }
            fn write_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}

numeric_element!(
    i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64,
    u8 => Uint8, u16 => Uint16, u32 => Uint32, u64 => Uint64,
    f64 => Float64,
);

impl sealed::Sealed for bool {}
impl Element for bool {
    const DTYPE: Dtype = Dtype::Bool;
    const SIZE: usize = 1;
    fn read_le(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
    fn write_le(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
}

impl sealed::Sealed for f32 {}
impl Element for f32 {
    const DTYPE: Dtype = Dtype::Float32;
    const SIZE: usize = 4;
    fn read_le(bytes: &[u8]) -> Self {
        f32::from_le_bytes(bytes.try_into().expect("element size"))
    }
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn decode(dtype: Dtype, data: &[u8]) -> Option<Vec<Self>> {
        match dtype {
            Dtype::Float32 => Some(data.chunks_exact(4).map(Self::read_le).collect()),
            Dtype::Float16 => Some(
                data.chunks_exact(2)
                    .map(|b| f16_bits_to_f32(u16::from_le_bytes([b[0], b[1]])))
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// Why a tensor could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TensorError {
    /// The tensor's dtype is not one the requested element type holds.
    WrongDtype {
        /// The dtype asked for.
        wanted: Dtype,
        /// The tensor's dtype, as its wire number.
        found: i32,
    },
    /// The dtype is unset or unknown to this client.
    UnknownDtype(i32),
    /// A dimension is negative, or the element count overflows.
    BadShape(Vec<i32>),
    /// `data` (or the values given) does not hold product(shape) elements.
    WrongSize {
        /// Bytes (or values) that shape and dtype call for.
        expected: usize,
        /// Bytes (or values) present.
        found: usize,
    },
}

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongDtype { wanted, found } => {
                let found = Dtype::try_from(*found).map_or("an unknown dtype", |d| d.as_str_name());
                write!(f, "tensor holds {found}, not {}", wanted.as_str_name())
            }
            Self::UnknownDtype(d) => write!(f, "tensor dtype {d} is unset or unknown"),
            Self::BadShape(shape) => write!(f, "tensor shape {shape:?} is not a valid shape"),
            Self::WrongSize { expected, found } => {
                write!(
                    f,
                    "tensor needs {expected} bytes (or values) for its shape but has {found}"
                )
            }
        }
    }
}

impl std::error::Error for TensorError {}

/// The bytes per element of a dtype (`None` for unset or unknown ones).
pub(crate) fn item_size(dtype: Dtype) -> Option<usize> {
    Some(match dtype {
        Dtype::Unspecified => return None,
        Dtype::Bool | Dtype::Int8 | Dtype::Uint8 => 1,
        Dtype::Int16 | Dtype::Uint16 | Dtype::Float16 => 2,
        Dtype::Int32 | Dtype::Uint32 | Dtype::Float32 => 4,
        Dtype::Int64 | Dtype::Uint64 | Dtype::Float64 => 8,
    })
}

/// The number of elements of a shape (1 for a scalar).
pub(crate) fn element_count(shape: &[i32]) -> Result<usize, TensorError> {
    shape
        .iter()
        .try_fold(1usize, |count, &dim| {
            usize::try_from(dim)
                .ok()
                .and_then(|dim| count.checked_mul(dim))
        })
        .ok_or_else(|| TensorError::BadShape(shape.to_vec()))
}

impl Tensor {
    /// A tensor of `values` with `shape` (C order); the count must match.
    pub fn new<T: Element>(values: &[T], shape: Vec<i32>) -> Result<Self, TensorError> {
        let expected = element_count(&shape)?;
        if values.len() != expected {
            return Err(TensorError::WrongSize {
                expected,
                found: values.len(),
            });
        }
        let mut data = Vec::with_capacity(values.len() * T::SIZE);
        values.iter().for_each(|v| v.write_le(&mut data));
        Ok(Self {
            dtype: T::DTYPE as i32,
            shape,
            data: Bytes::from(data),
        })
    }

    /// A one-dimensional tensor of `values` (shape `[len]`).
    ///
    /// # Panics
    /// When `values` has more than `i32::MAX` elements, which no message carries.
    pub fn vector<T: Element>(values: &[T]) -> Self {
        let len = i32::try_from(values.len()).expect("more elements than a tensor can carry");
        Self::new(values, vec![len]).expect("a vector's shape matches its length")
    }

    /// A zero-dimensional tensor (shape `[]`): a scalar that keeps its dtype.
    pub fn scalar<T: Element>(value: T) -> Self {
        Self::new(&[value], Vec::new()).expect("a scalar has one element")
    }

    /// A float16 tensor of `values`, each rounded to the nearest half.
    pub fn from_f16(values: &[f32], shape: Vec<i32>) -> Result<Self, TensorError> {
        let bits: Vec<u16> = values.iter().map(|&v| f32_to_f16_bits(v)).collect();
        let mut tensor = Self::new(&bits, shape)?;
        tensor.set_dtype(Dtype::Float16);
        Ok(tensor)
    }

    /// The number of elements (1 for a scalar).
    pub fn len(&self) -> Result<usize, TensorError> {
        element_count(&self.shape)
    }

    /// Whether the tensor has no elements (a dimension is 0).
    pub fn is_empty(&self) -> bool {
        self.shape.contains(&0)
    }

    /// The known dtype, checking that `data` holds exactly product(shape) of it.
    pub fn checked_dtype(&self) -> Result<Dtype, TensorError> {
        let dtype = Dtype::try_from(self.dtype)
            .ok()
            .filter(|&d| d != Dtype::Unspecified)
            .ok_or(TensorError::UnknownDtype(self.dtype))?;
        let size = item_size(dtype).expect("known dtype");
        let expected = self
            .len()?
            .checked_mul(size)
            .ok_or_else(|| TensorError::BadShape(self.shape.clone()))?;
        if self.data.len() != expected {
            return Err(TensorError::WrongSize {
                expected,
                found: self.data.len(),
            });
        }
        Ok(dtype)
    }

    /// The elements as a `Vec<T>` in C order; the dtype must be `T`'s (or
    /// float16 for `f32`). Copies, so any alignment of `data` is fine.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>, TensorError> {
        let dtype = self.checked_dtype()?;
        T::decode(dtype, &self.data).ok_or(TensorError::WrongDtype {
            wanted: T::DTYPE,
            found: self.dtype,
        })
    }

    /// The elements in a vector of the tensor's own element type, whatever
    /// its dtype: for code that learns the dtype at run time.
    pub fn to_data(&self) -> Result<TensorData, TensorError> {
        Ok(match self.checked_dtype()? {
            Dtype::Bool => TensorData::Bool(self.to_vec()?),
            Dtype::Int8 => TensorData::Int8(self.to_vec()?),
            Dtype::Int16 => TensorData::Int16(self.to_vec()?),
            Dtype::Int32 => TensorData::Int32(self.to_vec()?),
            Dtype::Int64 => TensorData::Int64(self.to_vec()?),
            Dtype::Uint8 => TensorData::Uint8(self.to_vec()?),
            Dtype::Uint16 => TensorData::Uint16(self.to_vec()?),
            Dtype::Uint32 => TensorData::Uint32(self.to_vec()?),
            Dtype::Uint64 => TensorData::Uint64(self.to_vec()?),
            Dtype::Float16 => TensorData::Float16(self.to_vec()?),
            Dtype::Float32 => TensorData::Float32(self.to_vec()?),
            Dtype::Float64 => TensorData::Float64(self.to_vec()?),
            Dtype::Unspecified => unreachable!("checked_dtype refuses it"),
        })
    }
}

/// A tensor's elements, typed by its dtype (float16 held as `f32`).
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    /// `DTYPE_BOOL`.
    Bool(Vec<bool>),
    /// `DTYPE_INT8`.
    Int8(Vec<i8>),
    /// `DTYPE_INT16`.
    Int16(Vec<i16>),
    /// `DTYPE_INT32`.
    Int32(Vec<i32>),
    /// `DTYPE_INT64`.
    Int64(Vec<i64>),
    /// `DTYPE_UINT8`.
    Uint8(Vec<u8>),
    /// `DTYPE_UINT16`.
    Uint16(Vec<u16>),
    /// `DTYPE_UINT32`.
    Uint32(Vec<u32>),
    /// `DTYPE_UINT64`.
    Uint64(Vec<u64>),
    /// `DTYPE_FLOAT16`, widened exactly to `f32`.
    Float16(Vec<f32>),
    /// `DTYPE_FLOAT32`.
    Float32(Vec<f32>),
    /// `DTYPE_FLOAT64`.
    Float64(Vec<f64>),
}

impl TensorData {
    /// Every element as `f64` (bool as 0 or 1): exact except for 64-bit
    /// integers beyond 2^53. Handy for bounds and statistics.
    pub fn to_f64(&self) -> Vec<f64> {
        fn all<T: Copy>(values: &[T], f: impl Fn(T) -> f64) -> Vec<f64> {
            values.iter().map(|&v| f(v)).collect()
        }
        match self {
            Self::Bool(v) => all(v, |x| f64::from(u8::from(x))),
            Self::Int8(v) => all(v, f64::from),
            Self::Int16(v) => all(v, f64::from),
            Self::Int32(v) => all(v, f64::from),
            Self::Int64(v) => all(v, |x| x as f64),
            Self::Uint8(v) => all(v, f64::from),
            Self::Uint16(v) => all(v, f64::from),
            Self::Uint32(v) => all(v, f64::from),
            Self::Uint64(v) => all(v, |x| x as f64),
            Self::Float16(v) | Self::Float32(v) => all(v, f64::from),
            Self::Float64(v) => v.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Element + PartialEq + fmt::Debug>(
        values: &[T],
        shape: Vec<i32>,
        itemsize: usize,
    ) {
        let tensor = Tensor::new(values, shape.clone()).unwrap();
        assert_eq!(tensor.dtype(), T::DTYPE);
        assert_eq!(tensor.shape, shape);
        assert_eq!(tensor.data.len(), values.len() * itemsize);
        assert_eq!(tensor.to_vec::<T>().unwrap(), values);
    }

    #[test]
    fn every_dtype_round_trips() {
        round_trip(&[true, false, true, true, false, false], vec![2, 3], 1);
        round_trip(&[i8::MIN, -1, 0, i8::MAX], vec![4], 1);
        round_trip(&[i16::MIN, -1, 0, i16::MAX], vec![2, 2], 2);
        round_trip(&[i32::MIN, -1, 0, i32::MAX], vec![4, 1], 4);
        round_trip(&[i64::MIN, -1, 0, i64::MAX], vec![1, 4], 8);
        round_trip(&[0u8, 1, 127, 255], vec![4], 1);
        round_trip(&[0u16, 1, u16::MAX], vec![3], 2);
        round_trip(&[0u32, 1, u32::MAX], vec![3], 4);
        round_trip(&[0u64, 1, u64::MAX], vec![3], 8);
        round_trip(&[0.5f32, -1.25, f32::MAX, f32::INFINITY], vec![2, 2], 4);
        round_trip(
            &[0.1f64, -1e300, f64::MIN_POSITIVE, f64::NEG_INFINITY],
            vec![4],
            8,
        );
        round_trip(&[7i64], vec![], 8);
        round_trip::<f32>(&[], vec![0, 3], 4);
    }

    #[test]
    fn float16_reads_as_f32() {
        let values = [1.0f32, -2.5, 65504.0, 0.000_061_035_156, f32::INFINITY];
        let tensor = Tensor::from_f16(&values, vec![5]).unwrap();
        assert_eq!(tensor.dtype(), Dtype::Float16);
        assert_eq!(&tensor.data[..4], &[0x00, 0x3c, 0x00, 0xc1]); // little-endian halves
        assert_eq!(tensor.to_vec::<f32>().unwrap(), values);
        assert_eq!(
            tensor.to_data().unwrap(),
            TensorData::Float16(values.to_vec())
        );
        assert!(matches!(
            tensor.to_vec::<u16>(),
            Err(TensorError::WrongDtype { .. })
        ));
    }

    #[test]
    fn bytes_are_little_endian() {
        let tensor = Tensor::vector(&[0x0102_0304i32]);
        assert_eq!(&tensor.data[..], &[4, 3, 2, 1]);
        assert_eq!(&Tensor::scalar(1.0f64).data[..], &1.0f64.to_le_bytes());
    }

    #[test]
    fn reads_unaligned_data() {
        // The elements start one byte into the buffer, as they may inside a message.
        let mut buffer = vec![0xffu8];
        [1.5f64, -3.0]
            .iter()
            .for_each(|v| buffer.extend_from_slice(&v.to_le_bytes()));
        let data = Bytes::from(buffer).slice(1..);
        let tensor = Tensor {
            dtype: Dtype::Float64 as i32,
            shape: vec![2],
            data,
        };
        assert_eq!(tensor.to_vec::<f64>().unwrap(), [1.5, -3.0]);
    }

    #[test]
    fn decode_follows_the_dtype() {
        assert_eq!(
            Tensor::vector(&[1u16, 2]).to_data().unwrap(),
            TensorData::Uint16(vec![1, 2])
        );
        assert_eq!(
            Tensor::vector(&[true, false]).to_data().unwrap().to_f64(),
            [1.0, 0.0]
        );
        assert_eq!(Tensor::scalar(-3i8).to_data().unwrap().to_f64(), [-3.0]);
    }

    #[test]
    fn refuses_malformed_tensors() {
        assert_eq!(
            Tensor::new(&[1i32, 2, 3], vec![2, 2]),
            Err(TensorError::WrongSize {
                expected: 4,
                found: 3
            })
        );
        assert_eq!(
            Tensor::new(&[1i32], vec![-1]),
            Err(TensorError::BadShape(vec![-1]))
        );
        let short = Tensor {
            dtype: Dtype::Int32 as i32,
            shape: vec![2],
            data: Bytes::from_static(&[0; 7]),
        };
        assert_eq!(
            short.to_vec::<i32>(),
            Err(TensorError::WrongSize {
                expected: 8,
                found: 7
            })
        );
        let unset = Tensor {
            dtype: 0,
            shape: vec![],
            data: Bytes::new(),
        };
        assert_eq!(unset.to_data(), Err(TensorError::UnknownDtype(0)));
        let unknown = Tensor {
            dtype: 99,
            shape: vec![],
            data: Bytes::new(),
        };
        assert_eq!(unknown.to_data(), Err(TensorError::UnknownDtype(99)));
        assert!(matches!(
            Tensor::vector(&[1i64]).to_vec::<i32>(),
            Err(TensorError::WrongDtype { .. })
        ));
    }
}

// Tensors to and from native arrays.
//
// A Tensor is raw little-endian bytes in C order plus a dtype and a shape.
// The contract promises no alignment of those bytes inside a received
// message, so every decoder here copies them into a std::vector (one
// memcpy on a little-endian host, a byte swap per element on a big-endian
// one) instead of casting the pointer.
//
// C++17 has no half-precision type, so float16 tensors decode to float,
// which holds every half value exactly, and encode from float with IEEE
// round-to-nearest-even (values beyond the half range become infinities).
//
// Malformed tensors (data size not dtype x shape, a dtype other than the
// one asked for, a negative dimension) throw std::invalid_argument: they
// are bugs of an encoder, not conditions to handle.
#ifndef OPENENV_GRPC_TENSOR_H_
#define OPENENV_GRPC_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "openenv/v1/values.pb.h"

namespace openenv_grpc {

using Shape = std::vector<int32_t>;

// The dtype of each native element type a Tensor can hold, at compile
// time. float16 has no native type: see MakeFloat16Tensor.
// clang-format off
template <typename T>
constexpr openenv::v1::Dtype DtypeOf() {
  using openenv::v1::Dtype;
  if constexpr (std::is_same_v<T, bool>) return Dtype::DTYPE_BOOL;
  else if constexpr (std::is_same_v<T, int8_t>) return Dtype::DTYPE_INT8;
  else if constexpr (std::is_same_v<T, int16_t>) return Dtype::DTYPE_INT16;
  else if constexpr (std::is_same_v<T, int32_t>) return Dtype::DTYPE_INT32;
  else if constexpr (std::is_same_v<T, int64_t>) return Dtype::DTYPE_INT64;
  else if constexpr (std::is_same_v<T, uint8_t>) return Dtype::DTYPE_UINT8;
  else if constexpr (std::is_same_v<T, uint16_t>) return Dtype::DTYPE_UINT16;
  else if constexpr (std::is_same_v<T, uint32_t>) return Dtype::DTYPE_UINT32;
  else if constexpr (std::is_same_v<T, uint64_t>) return Dtype::DTYPE_UINT64;
  else if constexpr (std::is_same_v<T, float>) return Dtype::DTYPE_FLOAT32;
  else if constexpr (std::is_same_v<T, double>) return Dtype::DTYPE_FLOAT64;
  else static_assert(sizeof(T) == 0, "no dtype of the contract holds this type");
}
// clang-format on

// Bytes per element of a dtype; 0 for DTYPE_UNSPECIFIED and unknown values.
std::size_t ItemSize(openenv::v1::Dtype dtype);
// numpy's name of a dtype ("float32", "bool", ...); "" when unknown.
std::string_view DtypeName(openenv::v1::Dtype dtype);
// The dtype of a numpy name, if it is one of the contract's.
std::optional<openenv::v1::Dtype> DtypeFromName(std::string_view name);

// The number of elements of a shape (1 for the scalar shape []).
int64_t ElementCount(const Shape& shape);
// A tensor's shape as a vector.
Shape TensorShape(const openenv::v1::Tensor& tensor);
// Throws std::invalid_argument unless the dtype is known, no dimension is
// negative and data holds exactly ElementCount(shape) * ItemSize(dtype) bytes.
void CheckTensor(const openenv::v1::Tensor& tensor);

// IEEE 754 half precision, as the 16 bits of the wire format.
float HalfToFloat(uint16_t bits);
uint16_t FloatToHalf(float value);

namespace internal {
void Encode(const void* values, std::size_t count, std::size_t item_size, std::string* out);
void Decode(const std::string& data, std::size_t item_size, void* values);
void CheckShape(std::size_t count, const Shape& shape);
void CheckDtype(const openenv::v1::Tensor& tensor, openenv::v1::Dtype want);
}  // namespace internal

// A tensor of `shape` holding `values` (C order) with the dtype of T.
template <typename T>
openenv::v1::Tensor MakeTensor(const std::vector<T>& values, const Shape& shape) {
  internal::CheckShape(values.size(), shape);
  openenv::v1::Tensor tensor;
  tensor.set_dtype(DtypeOf<T>());
  tensor.mutable_shape()->Add(shape.begin(), shape.end());
  if constexpr (std::is_same_v<T, bool>) {  // std::vector<bool> is packed bits
    std::string* data = tensor.mutable_data();
    data->reserve(values.size());
    for (bool v : values) data->push_back(v ? '\1' : '\0');
  } else {
    internal::Encode(values.data(), values.size(), sizeof(T), tensor.mutable_data());
  }
  return tensor;
}

// A float16 tensor of `shape`, each value rounded to the nearest half.
openenv::v1::Tensor MakeFloat16Tensor(const std::vector<float>& values, const Shape& shape);

// A tensor of any dtype chosen at run time (the dtype of a space, say) from
// doubles, each converted as static_cast to the element type would (float16
// rounds to nearest); every value must lie in the dtype's range. Exact for
// every integer up to 2^53.
openenv::v1::Tensor MakeTensorOf(openenv::v1::Dtype dtype, const std::vector<double>& values,
                                 const Shape& shape);

// The elements of a tensor whose dtype is exactly T's (float also reads
// float16), in C order.
template <typename T>
std::vector<T> TensorValues(const openenv::v1::Tensor& tensor) {
  CheckTensor(tensor);
  if constexpr (std::is_same_v<T, float>) {
    if (tensor.dtype() == openenv::v1::DTYPE_FLOAT16) {
      std::vector<uint16_t> bits(tensor.data().size() / 2);
      internal::Decode(tensor.data(), 2, bits.data());
      std::vector<float> values;
      values.reserve(bits.size());
      for (uint16_t b : bits) values.push_back(HalfToFloat(b));
      return values;
    }
  }
  internal::CheckDtype(tensor, DtypeOf<T>());
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<bool> values;
    values.reserve(tensor.data().size());
    for (char c : tensor.data()) values.push_back(c != 0);
    return values;
  } else {
    std::vector<T> values(tensor.data().size() / sizeof(T));
    internal::Decode(tensor.data(), sizeof(T), values.data());
    return values;
  }
}

// The elements of a tensor of any dtype, as doubles (exact except for
// 64-bit integers beyond 2^53): for code that handles every dtype alike.
std::vector<double> TensorAsDoubles(const openenv::v1::Tensor& tensor);

}  // namespace openenv_grpc

#endif  // OPENENV_GRPC_TENSOR_H_

#include "openenv_grpc/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace openenv_grpc {
namespace {

using openenv::v1::Dtype;
using openenv::v1::Tensor;

constexpr bool kLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

struct DtypeInfo {
  Dtype dtype;
  std::string_view name;
  std::size_t size;
};

constexpr DtypeInfo kDtypes[] = {
    {openenv::v1::DTYPE_BOOL, "bool", 1},       {openenv::v1::DTYPE_INT8, "int8", 1},
    {openenv::v1::DTYPE_INT16, "int16", 2},     {openenv::v1::DTYPE_INT32, "int32", 4},
    {openenv::v1::DTYPE_INT64, "int64", 8},     {openenv::v1::DTYPE_UINT8, "uint8", 1},
    {openenv::v1::DTYPE_UINT16, "uint16", 2},   {openenv::v1::DTYPE_UINT32, "uint32", 4},
    {openenv::v1::DTYPE_UINT64, "uint64", 8},   {openenv::v1::DTYPE_FLOAT16, "float16", 2},
    {openenv::v1::DTYPE_FLOAT32, "float32", 4}, {openenv::v1::DTYPE_FLOAT64, "float64", 8},
};

const DtypeInfo* Find(Dtype dtype) {
  for (const DtypeInfo& info : kDtypes) {
    if (info.dtype == dtype) return &info;
  }
  return nullptr;
}

std::string Describe(const Tensor& tensor) {
  std::string name(DtypeName(tensor.dtype()));
  if (name.empty()) name = "dtype " + std::to_string(tensor.dtype());
  std::string shape = "[";
  for (int i = 0; i < tensor.shape_size(); ++i) {
    shape += (i ? ", " : "") + std::to_string(tensor.shape(i));
  }
  return name + " tensor of shape " + shape + "]";
}

template <typename T>
void AppendAs(const std::vector<double>& values, std::string* out) {
  std::vector<T> native;
  native.reserve(values.size());
  for (double v : values) native.push_back(static_cast<T>(v));
  internal::Encode(native.data(), native.size(), sizeof(T), out);
}

template <typename T>
void ExtendDoubles(const Tensor& tensor, std::vector<double>* out) {
  for (T v : TensorValues<T>(tensor)) out->push_back(static_cast<double>(v));
}

}  // namespace

std::size_t ItemSize(Dtype dtype) {
  const DtypeInfo* info = Find(dtype);
  return info ? info->size : 0;
}

std::string_view DtypeName(Dtype dtype) {
  const DtypeInfo* info = Find(dtype);
  return info ? info->name : std::string_view();
}

std::optional<Dtype> DtypeFromName(std::string_view name) {
  for (const DtypeInfo& info : kDtypes) {
    if (info.name == name) return info.dtype;
  }
  return std::nullopt;
}

int64_t ElementCount(const Shape& shape) {
  int64_t count = 1;
  for (int32_t dim : shape) count *= dim;
  return count;
}

Shape TensorShape(const Tensor& tensor) {
  return Shape(tensor.shape().begin(), tensor.shape().end());
}

void CheckTensor(const Tensor& tensor) {
  std::size_t size = ItemSize(tensor.dtype());
  if (size == 0) throw std::invalid_argument("unknown dtype in " + Describe(tensor));
  Shape shape = TensorShape(tensor);
  if (std::any_of(shape.begin(), shape.end(), [](int32_t d) { return d < 0; })) {
    throw std::invalid_argument("negative dimension in " + Describe(tensor));
  }
  // Stop multiplying once past the data size: a hostile shape cannot overflow.
  uint64_t want = size;
  for (int32_t dim : shape) {
    want *= static_cast<uint64_t>(dim);
    if (want > tensor.data().size()) break;
  }
  if (want != tensor.data().size()) {
    throw std::invalid_argument(Describe(tensor) + " holds " +
                                std::to_string(tensor.data().size()) + " bytes, not " +
                                std::to_string(ElementCount(shape)) + " x " + std::to_string(size));
  }
}

float HalfToFloat(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  uint32_t out;
  if (exponent == 0x1f) {  // infinity or NaN (payload kept)
    out = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {  // normal: rebias 15 -> 127
    out = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {  // signed zero
    out = sign;
  } else {  // subnormal: mantissa * 2^-24, exact in float
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  float value;
  std::memcpy(&value, &out, sizeof value);
  return value;
}

uint16_t FloatToHalf(float value) {
  uint32_t f;
  std::memcpy(&f, &value, sizeof f);
  auto sign = static_cast<uint16_t>((f >> 16) & 0x8000u);
  uint32_t exponent = (f >> 23) & 0xffu;
  uint32_t mantissa = f & 0x7fffffu;
  if (exponent == 0xff) {  // infinity, or NaN kept quiet with its top payload bits
    return sign | 0x7c00u | (mantissa ? 0x200u | (mantissa >> 13) : 0u);
  }
  int32_t e = static_cast<int32_t>(exponent) - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00u;  // beyond the half range: infinity
  if (e <= 0) {                          // subnormal half, or zero
    if (e < -10) return sign;            // below half the smallest subnormal
    mantissa |= 0x800000u;               // the implicit leading one
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = mantissa >> shift;
    uint32_t rest = mantissa & ((1u << shift) - 1);
    uint32_t midpoint = 1u << (shift - 1);
    if (rest > midpoint || (rest == midpoint && (half & 1u))) ++half;
    return sign | static_cast<uint16_t>(half);
  }
  uint32_t half = (static_cast<uint32_t>(e) << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fffu;
  // Round to nearest, ties to even; a carry into the exponent is right,
  // up to infinity.
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;
  return sign | static_cast<uint16_t>(half);
}

namespace internal {

void Encode(const void* values, std::size_t count, std::size_t item_size, std::string* out) {
  const char* bytes = static_cast<const char*>(values);
  std::size_t start = out->size();
  out->append(bytes, count * item_size);
  if (!kLittleEndian) {
    for (std::size_t i = 0; i < count; ++i) {
      char* item = out->data() + start + i * item_size;
      std::reverse(item, item + item_size);
    }
  }
}

void Decode(const std::string& data, std::size_t item_size, void* values) {
  // memcpy, never a cast: the bytes may sit at any address of the message.
  std::memcpy(values, data.data(), data.size());
  if (!kLittleEndian) {
    char* bytes = static_cast<char*>(values);
    for (std::size_t i = 0; i < data.size(); i += item_size) {
      std::reverse(bytes + i, bytes + i + item_size);
    }
  }
}

void CheckShape(std::size_t count, const Shape& shape) {
  if (std::any_of(shape.begin(), shape.end(), [](int32_t d) { return d < 0; }) ||
      static_cast<uint64_t>(ElementCount(shape)) != count) {
    throw std::invalid_argument(std::to_string(count) + " values do not fill the shape given");
  }
}

void CheckDtype(const Tensor& tensor, Dtype want) {
  if (tensor.dtype() != want) {
    throw std::invalid_argument("expected a " + std::string(DtypeName(want)) + " tensor, got a " +
                                Describe(tensor));
  }
}

}  // namespace internal

Tensor MakeFloat16Tensor(const std::vector<float>& values, const Shape& shape) {
  internal::CheckShape(values.size(), shape);
  std::vector<uint16_t> bits;
  bits.reserve(values.size());
  for (float v : values) bits.push_back(FloatToHalf(v));
  Tensor tensor;
  tensor.set_dtype(openenv::v1::DTYPE_FLOAT16);
  tensor.mutable_shape()->Add(shape.begin(), shape.end());
  internal::Encode(bits.data(), bits.size(), 2, tensor.mutable_data());
  return tensor;
}

Tensor MakeTensorOf(Dtype dtype, const std::vector<double>& values, const Shape& shape) {
  internal::CheckShape(values.size(), shape);
  Tensor tensor;
  tensor.set_dtype(dtype);
  tensor.mutable_shape()->Add(shape.begin(), shape.end());
  std::string* data = tensor.mutable_data();
  switch (dtype) {
    case openenv::v1::DTYPE_BOOL:
      for (double v : values) data->push_back(v != 0 ? '\1' : '\0');
      break;
    case openenv::v1::DTYPE_INT8:
      AppendAs<int8_t>(values, data);
      break;
    case openenv::v1::DTYPE_INT16:
      AppendAs<int16_t>(values, data);
      break;
    case openenv::v1::DTYPE_INT32:
      AppendAs<int32_t>(values, data);
      break;
    case openenv::v1::DTYPE_INT64:
      AppendAs<int64_t>(values, data);
      break;
    case openenv::v1::DTYPE_UINT8:
      AppendAs<uint8_t>(values, data);
      break;
    case openenv::v1::DTYPE_UINT16:
      AppendAs<uint16_t>(values, data);
      break;
    case openenv::v1::DTYPE_UINT32:
      AppendAs<uint32_t>(values, data);
      break;
    case openenv::v1::DTYPE_UINT64:
      AppendAs<uint64_t>(values, data);
      break;
    case openenv::v1::DTYPE_FLOAT16:
      return MakeFloat16Tensor(std::vector<float>(values.begin(), values.end()), shape);
    case openenv::v1::DTYPE_FLOAT32:
      AppendAs<float>(values, data);
      break;
    case openenv::v1::DTYPE_FLOAT64:
      AppendAs<double>(values, data);
      break;
    default:
      throw std::invalid_argument("cannot make a tensor of dtype " + std::to_string(dtype));
  }
  return tensor;
}

std::vector<double> TensorAsDoubles(const Tensor& tensor) {
  std::vector<double> out;
  switch (tensor.dtype()) {
    case openenv::v1::DTYPE_BOOL:
      ExtendDoubles<bool>(tensor, &out);
      break;
    case openenv::v1::DTYPE_INT8:
      ExtendDoubles<int8_t>(tensor, &out);
      break;
    case openenv::v1::DTYPE_INT16:
      ExtendDoubles<int16_t>(tensor, &out);
      break;
    case openenv::v1::DTYPE_INT32:
      ExtendDoubles<int32_t>(tensor, &out);
      break;
    case openenv::v1::DTYPE_INT64:
      ExtendDoubles<int64_t>(tensor, &out);
      break;
    case openenv::v1::DTYPE_UINT8:
      ExtendDoubles<uint8_t>(tensor, &out);
      break;
    case openenv::v1::DTYPE_UINT16:
      ExtendDoubles<uint16_t>(tensor, &out);
      break;
    case openenv::v1::DTYPE_UINT32:
      ExtendDoubles<uint32_t>(tensor, &out);
      break;
    case openenv::v1::DTYPE_UINT64:
      ExtendDoubles<uint64_t>(tensor, &out);
      break;
    case openenv::v1::DTYPE_FLOAT16:
    case openenv::v1::DTYPE_FLOAT32:
      ExtendDoubles<float>(tensor, &out);
      break;
    case openenv::v1::DTYPE_FLOAT64:
      ExtendDoubles<double>(tensor, &out);
      break;
    default:
      CheckTensor(tensor);  // throws: unknown dtype
  }
  return out;
}

}  // namespace openenv_grpc

// Tensors round-trip every dtype through the wire format, little-endian,
// including values at the edges of each type and float16's rounding.
#include "openenv_grpc/tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

using openenv::v1::Tensor;
using openenv_grpc::MakeTensor;
using openenv_grpc::TensorValues;

namespace {

// Through serialized bytes and back, as a tensor arrives from the network.
Tensor OverTheWire(const Tensor& tensor) {
  Tensor received;
  EXPECT_TRUE(received.ParseFromString(tensor.SerializeAsString()));
  return received;
}

template <typename T>
void RoundTrip() {
  using limits = std::numeric_limits<T>;
  std::vector<T> values = {limits::lowest(), limits::max(), T(0), T(1), T(7), limits::min()};
  Tensor tensor = OverTheWire(MakeTensor(values, {2, 3}));
  EXPECT_EQ(tensor.dtype(), openenv_grpc::DtypeOf<T>());
  EXPECT_EQ(openenv_grpc::TensorShape(tensor), (openenv_grpc::Shape{2, 3}));
  EXPECT_EQ(tensor.data().size(), values.size() * sizeof(T));
  EXPECT_EQ(TensorValues<T>(tensor), values);
  std::vector<double> doubles = openenv_grpc::TensorAsDoubles(tensor);
  for (std::size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(doubles[i], static_cast<double>(values[i]));
  // Made from doubles at run time, the same bytes (exact below 2^53).
  std::vector<double> small = {0, 1, 7, 100};
  std::vector<T> native(small.begin(), small.end());
  EXPECT_EQ(openenv_grpc::MakeTensorOf(tensor.dtype(), small, {4}).SerializeAsString(),
            MakeTensor(native, {4}).SerializeAsString());
}

}  // namespace

TEST(Tensors, EveryIntegerAndFloatDtype) {
  RoundTrip<int8_t>();
  RoundTrip<int16_t>();
  RoundTrip<int32_t>();
  RoundTrip<int64_t>();
  RoundTrip<uint8_t>();
  RoundTrip<uint16_t>();
  RoundTrip<uint32_t>();
  RoundTrip<uint64_t>();
  RoundTrip<float>();
  RoundTrip<double>();
}

TEST(Tensors, Bool) {
  std::vector<bool> values = {true, false, true, true};
  Tensor tensor = OverTheWire(MakeTensor(values, {2, 2}));
  EXPECT_EQ(tensor.dtype(), openenv::v1::DTYPE_BOOL);
  EXPECT_EQ(tensor.data(), std::string("\1\0\1\1", 4));
  EXPECT_EQ(TensorValues<bool>(tensor), values);
  EXPECT_EQ(openenv_grpc::TensorAsDoubles(tensor), (std::vector<double>{1, 0, 1, 1}));
}

TEST(Tensors, LittleEndianBytes) {
  EXPECT_EQ(MakeTensor(std::vector<int32_t>{1}, {}).data(), std::string("\1\0\0\0", 4));
  EXPECT_EQ(MakeTensor(std::vector<uint16_t>{0x0102}, {1}).data(), std::string("\2\1", 2));
  EXPECT_EQ(MakeTensor(std::vector<float>{1.0f}, {1}).data(), std::string("\0\0\x80\x3f", 4));
  EXPECT_EQ(MakeTensor(std::vector<int64_t>{-2}, {1}).data(),
            std::string(8, '\xff').replace(0, 1, "\xfe"));
}

TEST(Tensors, SpecialFloats) {
  std::vector<double> values = {
      std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(), -0.0,
      std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::denorm_min()};
  std::vector<double> back = TensorValues<double>(OverTheWire(MakeTensor(values, {5})));
  EXPECT_TRUE(std::isinf(back[0]) && back[0] > 0);
  EXPECT_TRUE(std::isinf(back[1]) && back[1] < 0);
  EXPECT_TRUE(back[2] == 0.0 && std::signbit(back[2]));
  EXPECT_TRUE(std::isnan(back[3]));
  EXPECT_EQ(back[4], values[4]);
}

TEST(Tensors, ScalarAndEmpty) {
  Tensor scalar = MakeTensor(std::vector<float>{2.5f}, {});
  EXPECT_EQ(scalar.shape_size(), 0);
  EXPECT_EQ(TensorValues<float>(scalar), std::vector<float>{2.5f});
  Tensor empty = MakeTensor(std::vector<int64_t>{}, {0, 3});
  EXPECT_TRUE(TensorValues<int64_t>(empty).empty());
}

TEST(Tensors, Float16) {
  // Every half but NaN survives half -> float -> half exactly; NaN stays NaN.
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    float f = openenv_grpc::HalfToFloat(static_cast<uint16_t>(bits));
    uint16_t back = openenv_grpc::FloatToHalf(f);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(openenv_grpc::HalfToFloat(back)));
    } else if (back != bits) {
      EXPECT_EQ(back, bits);
      break;
    }
  }
  using openenv_grpc::FloatToHalf;
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);         // the largest half
  EXPECT_EQ(FloatToHalf(65519.0f), 0x7bff);         // below the midpoint to infinity
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7c00);         // the midpoint rounds to even: infinity
  EXPECT_EQ(FloatToHalf(1.0f + 0x1p-11f), 0x3c00);  // halfway between 1 and its successor: even
  EXPECT_EQ(FloatToHalf(1.0f + 0x1p-10f + 0x1p-11f), 0x3c02);  // halfway again: even is up
  EXPECT_EQ(FloatToHalf(0x1p-24f), 0x0001);                    // the smallest subnormal
  EXPECT_EQ(FloatToHalf(0x1p-25f), 0x0000);                    // half of it: ties to even, zero
  EXPECT_EQ(FloatToHalf(0x1.8p-25f), 0x0001);                  // above half of it
  EXPECT_EQ(FloatToHalf(1e-10f), 0x0000);
  EXPECT_EQ(FloatToHalf(std::numeric_limits<float>::infinity()), 0x7c00);

  std::vector<float> values = {0.5f, -1.5f, 65504.0f, 0x1p-24f, 0.1f};
  Tensor tensor = OverTheWire(openenv_grpc::MakeFloat16Tensor(values, {5}));
  EXPECT_EQ(tensor.dtype(), openenv::v1::DTYPE_FLOAT16);
  EXPECT_EQ(tensor.data().size(), 10u);
  EXPECT_EQ(tensor.data().substr(0, 2), std::string("\0\x38", 2));  // 0.5 = 0x3800, little-endian
  std::vector<float> back = TensorValues<float>(tensor);
  EXPECT_EQ(back[0], 0.5f);
  EXPECT_EQ(back[2], 65504.0f);
  EXPECT_EQ(back[3], 0x1p-24f);
  EXPECT_EQ(back[4], 0.0999755859375f);  // 0.1 to the nearest half
  EXPECT_EQ(openenv_grpc::TensorAsDoubles(tensor)[1], -1.5);
  EXPECT_EQ(openenv_grpc::MakeTensorOf(openenv::v1::DTYPE_FLOAT16, {0.5, -1.5}, {2}).data(),
            openenv_grpc::MakeFloat16Tensor({0.5f, -1.5f}, {2}).data());
}

TEST(Tensors, Malformed) {
  Tensor short_data = MakeTensor(std::vector<int32_t>{1, 2}, {2});
  short_data.mutable_data()->pop_back();
  EXPECT_THROW(TensorValues<int32_t>(short_data), std::invalid_argument);
  Tensor wrong_shape = MakeTensor(std::vector<int32_t>{1, 2}, {2});
  wrong_shape.set_shape(0, 3);
  EXPECT_THROW(TensorValues<int32_t>(wrong_shape), std::invalid_argument);
  wrong_shape.set_shape(0, -2);
  EXPECT_THROW(openenv_grpc::CheckTensor(wrong_shape), std::invalid_argument);
  EXPECT_THROW(TensorValues<int64_t>(MakeTensor(std::vector<int32_t>{1}, {1})),
               std::invalid_argument);
  Tensor unspecified;
  EXPECT_THROW(openenv_grpc::TensorAsDoubles(unspecified), std::invalid_argument);
  EXPECT_THROW(MakeTensor(std::vector<float>{1, 2, 3}, {2, 2}), std::invalid_argument);
}

TEST(Tensors, Names) {
  for (int d = openenv::v1::DTYPE_BOOL; d <= openenv::v1::DTYPE_FLOAT64; ++d) {
    auto dtype = static_cast<openenv::v1::Dtype>(d);
    EXPECT_EQ(openenv_grpc::DtypeFromName(openenv_grpc::DtypeName(dtype)), dtype);
    EXPECT_TRUE(openenv_grpc::ItemSize(dtype) > 0);
  }
  EXPECT_EQ(openenv_grpc::DtypeName(openenv::v1::DTYPE_FLOAT16), "float16");
  EXPECT_EQ(openenv_grpc::ItemSize(openenv::v1::DTYPE_UNSPECIFIED), 0u);
  EXPECT_FALSE(openenv_grpc::DtypeFromName("complex64"));
}

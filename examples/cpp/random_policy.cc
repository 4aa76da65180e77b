#include "random_policy.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "openenv_grpc/tensor.h"

namespace {

using openenv::v1::Tensor;

bool IsFloat(openenv::v1::Dtype dtype) {
  return dtype == openenv::v1::DTYPE_FLOAT16 || dtype == openenv::v1::DTYPE_FLOAT32 ||
         dtype == openenv::v1::DTYPE_FLOAT64;
}

// A bound tensor, one value per element of `count`: bounds travel either per
// element or as one scalar for all. Unset (an optional flag tensor) reads
// as `fallback` everywhere.
std::vector<double> PerElement(const Tensor& tensor, std::size_t count, double fallback) {
  if (tensor.dtype() == openenv::v1::DTYPE_UNSPECIFIED) return std::vector<double>(count, fallback);
  std::vector<double> values = openenv_grpc::TensorAsDoubles(tensor);
  if (values.size() == 1) return std::vector<double>(count, values[0]);
  if (values.size() != count) throw std::invalid_argument("space bounds do not match its shape");
  return values;
}

}  // namespace

RandomPolicy::RandomPolicy(openenv::v1::Space space, uint64_t seed)
    : space_(std::move(space)), random_(seed) {
  switch (space_.kind_case()) {
    case openenv::v1::Space::kDiscrete:
    case openenv::v1::Space::kBox:
    case openenv::v1::Space::kMultiBinary:
    case openenv::v1::Space::kMultiDiscrete:
      return;
    default:
      throw std::invalid_argument(
          "this example samples Discrete, Box, MultiBinary and "
          "MultiDiscrete action spaces only");
  }
}

openenv::v1::Value RandomPolicy::Sample() {
  openenv::v1::Value action;
  switch (space_.kind_case()) {
    case openenv::v1::Space::kDiscrete: {
      const auto& discrete = space_.discrete();
      std::uniform_int_distribution<int64_t> pick(discrete.start(),
                                                  discrete.start() + discrete.n() - 1);
      action.set_int_value(pick(random_));
      return action;
    }
    case openenv::v1::Space::kMultiBinary: {
      openenv_grpc::Shape shape(space_.multi_binary().shape().begin(),
                                space_.multi_binary().shape().end());
      std::vector<int8_t> bits(openenv_grpc::ElementCount(shape));
      std::bernoulli_distribution coin;
      for (int8_t& bit : bits) bit = coin(random_) ? 1 : 0;
      *action.mutable_tensor() = openenv_grpc::MakeTensor(bits, shape);
      return action;
    }
    case openenv::v1::Space::kMultiDiscrete:
      return SampleMultiDiscrete(space_.multi_discrete());
    default:
      return SampleBox(space_.box());
  }
}

openenv::v1::Value RandomPolicy::SampleBox(const openenv::v1::BoxSpace& box) {
  openenv_grpc::Shape shape(box.shape().begin(), box.shape().end());
  auto count = static_cast<std::size_t>(openenv_grpc::ElementCount(shape));
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> low = PerElement(box.low(), count, -kInf);
  std::vector<double> high = PerElement(box.high(), count, kInf);
  // Integer boxes mark unbounded sides with flags instead of infinities.
  std::vector<double> below = PerElement(box.unbounded_below(), count, 0);
  std::vector<double> above = PerElement(box.unbounded_above(), count, 0);
  bool is_float = IsFloat(box.dtype());
  std::normal_distribution<double> normal;
  std::exponential_distribution<double> exponential;
  std::vector<double> values(count);
  for (std::size_t i = 0; i < count; ++i) {
    bool bounded_below = std::isfinite(low[i]) && below[i] == 0;
    bool bounded_above = std::isfinite(high[i]) && above[i] == 0;
    double v;
    if (bounded_below && bounded_above) {
      // Integers: floor of a uniform draw in [low, high + 1), as Gymnasium.
      double top = is_float ? high[i] : high[i] + 1;
      v = std::uniform_real_distribution<double>(low[i], top)(random_);
      if (!is_float) v = std::min(std::floor(v), high[i]);
    } else if (bounded_below) {
      v = low[i] + exponential(random_);
    } else if (bounded_above) {
      v = high[i] - exponential(random_);
    } else {
      v = normal(random_);
    }
    values[i] = is_float ? v : std::round(v);
  }
  openenv::v1::Value action;
  *action.mutable_tensor() = openenv_grpc::MakeTensorOf(box.dtype(), values, shape);
  return action;
}

openenv::v1::Value RandomPolicy::SampleMultiDiscrete(const openenv::v1::MultiDiscreteSpace& space) {
  std::vector<double> nvec = openenv_grpc::TensorAsDoubles(space.nvec());
  std::vector<double> start = PerElement(space.start(), nvec.size(), 0);
  std::vector<double> values(nvec.size());
  for (std::size_t i = 0; i < nvec.size(); ++i) {
    auto n = static_cast<int64_t>(nvec[i]);
    values[i] =
        start[i] + static_cast<double>(std::uniform_int_distribution<int64_t>(0, n - 1)(random_));
  }
  openenv::v1::Dtype dtype = space.dtype() ? space.dtype() : openenv::v1::DTYPE_INT64;
  openenv::v1::Value action;
  *action.mutable_tensor() =
      openenv_grpc::MakeTensorOf(dtype, values, openenv_grpc::TensorShape(space.nvec()));
  return action;
}

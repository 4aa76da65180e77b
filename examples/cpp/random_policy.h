// A random policy: uniform samples of an action space, as Gymnasium's
// Space.sample() draws them, encoded as the Value the server expects.
#ifndef OPENENV_EXAMPLE_RANDOM_POLICY_H_
#define OPENENV_EXAMPLE_RANDOM_POLICY_H_

#include <cstdint>
#include <random>

#include "openenv/v1/spaces.pb.h"
#include "openenv/v1/values.pb.h"

class RandomPolicy {
 public:
  // Throws std::invalid_argument for a space it cannot sample (Text, Dict,
  // Tuple): this example handles the numeric spaces.
  RandomPolicy(openenv::v1::Space space, uint64_t seed);

  // Discrete: an int_value in [start, start + n). Box: a tensor of the
  // space's dtype and shape within its bounds (normal or exponential where
  // a side is unbounded). MultiBinary and MultiDiscrete: their tensors.
  openenv::v1::Value Sample();

 private:
  openenv::v1::Value SampleBox(const openenv::v1::BoxSpace& box);
  openenv::v1::Value SampleMultiDiscrete(const openenv::v1::MultiDiscreteSpace& space);

  openenv::v1::Space space_;
  std::mt19937_64 random_;
};

#endif  // OPENENV_EXAMPLE_RANDOM_POLICY_H_

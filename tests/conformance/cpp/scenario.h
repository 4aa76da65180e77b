// The scenario (scenario.json) and what the checks share: the client, the
// expectations, and the sessions one check leaves to the next.
#ifndef OPENENV_CONFORMANCE_SCENARIO_H_
#define OPENENV_CONFORMANCE_SCENARIO_H_

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "openenv/v1/env_service.pb.h"
#include "openenv_grpc/client.h"

using nlohmann::json;

struct Context {
  openenv_grpc::Client& client;
  const json& scenario;
  std::filesystem::path golden;
  std::string episode_session;  // unary_episode's, ended by step_after_end
  std::string errors_session;   // action_out_of_space's, used up to retried_step
};

// A JSON number, or a non-finite float written as "Infinity", "-Infinity"
// or "NaN" (JSON has no literal for them).
double JsonDouble(const json& value);
// JSON (options of a reset) as a Value: numbers with a fraction become
// double_value, integers int_value, objects map_value.
openenv::v1::Value JsonToValue(const json& value);
openenv::v1::MapValue JsonToMap(const json& object);

// A single Discrete action; a batch of them as an int64 tensor of shape [N].
openenv::v1::Value IntAction(int64_t action);
openenv::v1::Value IntActions(const json& actions);

// A float32 tensor (in a Value) equal to a JSON list, nested lists for
// more dimensions: same shape, every element ==.
void ExpectFloat32(const openenv::v1::Value& value, const json& expected, const std::string& what);
// A StepResponse equal to one of the scenario's steps, with this step_index.
void ExpectStep(const openenv::v1::StepResponse& step, const json& expected, int64_t index,
                const std::string& what);
// A space equal to the scenario's {"box": {...}} or {"discrete": {...}}.
void ExpectSpace(const openenv::v1::Space& space, const json& expected, const std::string& what);

// A new single-env session's reset: new_session with a fresh request_id.
openenv::v1::ResetRequest NewSessionReset(uint64_t seed);

#endif  // OPENENV_CONFORMANCE_SCENARIO_H_

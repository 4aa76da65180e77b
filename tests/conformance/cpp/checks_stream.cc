// Checks 11 and 12: the StepStream session helper, errors in-band, and a
// batched session.
#include <string>
#include <vector>

#include "checks.h"
#include "expect.h"
#include "openenv_grpc/session.h"
#include "openenv_grpc/tensor.h"

namespace {

template <typename T>
std::vector<T> Column(const openenv::v1::Tensor& tensor, const std::string& what) {
  try {
    return openenv_grpc::TensorValues<T>(tensor);
  } catch (const std::invalid_argument& e) {
    Fail(what + ": " + e.what());
  }
}

}  // namespace

void CheckStreamEpisode(Context& ctx) {
  const json& episode = ctx.scenario.at("episode");
  const json& errors = ctx.scenario.at("errors");
  openenv_grpc::Session session = ctx.client.OpenSession();
  openenv_grpc::ResetOptions start;
  start.seed = episode.at("seed").get<uint64_t>();
  auto reset = Must(session.Create(start), "reset with new_session");
  ExpectFloat32(reset.observation(), episode.at("reset_observation"), "reset observation");
  int64_t index = 0;
  for (const json& step : episode.at("steps")) {
    ++index;
    std::string what = "step " + std::to_string(index);
    auto answer = Must(session.Step(IntAction(step.at("action").get<int64_t>())), what);
    ExpectStep(answer, step, index, what);
  }
  const json& ended = errors.at("step_after_end");
  MustFail(session.Step(IntAction(0)), ended.at("code").get<int>(),
           ended.at("reason").get<std::string>(), "step after the episode ended");
  Must(session.Reset(), "reset of the stream's session");
  const json& outside = errors.at("action_out_of_space");
  MustFail(session.Step(IntAction(outside.at("action").get<int64_t>())),
           outside.at("code").get<int>(), outside.at("reason").get<std::string>(),
           "step with an action outside the space");
  auto state = Must(session.State(), "state after the errors");
  Expect(state.session_id() == session.id(), "state names session " + state.session_id());
  if (auto error = session.Close()) Fail("closing the stream: " + error->ToString());
}

void CheckBatched(Context& ctx) {
  const json& batched = ctx.scenario.at("batched");
  openenv::v1::ResetBatchRequest reset;
  reset.mutable_new_session()->set_request_id(openenv_grpc::NewRequestId());
  reset.mutable_new_session()->set_num_envs(batched.at("num_envs").get<int32_t>());
  reset.mutable_all()->set_seed(batched.at("seed").get<uint64_t>());
  auto first = Must(ctx.client.ResetBatch(reset), "ResetBatch");
  ExpectFloat32(first.observations(), batched.at("reset_observations"), "reset observations");
  int64_t index = 0;
  for (const json& step : batched.at("steps")) {
    std::string what = "batched step " + std::to_string(++index);
    openenv::v1::StepBatchRequest request;
    request.set_session_id(first.session_id());
    *request.mutable_actions() = IntActions(step.at("actions"));
    request.set_step_index(index);
    auto answer = Must(ctx.client.StepBatch(request), what);
    ExpectFloat32(answer.observations(), step.at("observations"), what + " observations");
    Expect(Column<double>(answer.rewards(), what + " rewards") ==
               step.at("rewards").get<std::vector<double>>(),
           what + " rewards differ");
    Expect(Column<bool>(answer.terminations(), what + " terminations") ==
               step.at("terminations").get<std::vector<bool>>(),
           what + " terminations differ");
    Expect(Column<bool>(answer.truncations(), what + " truncations") ==
               step.at("truncations").get<std::vector<bool>>(),
           what + " truncations differ");
    Expect(answer.step_index() == index,
           what + " step_index is " + std::to_string(answer.step_index()));
  }
  openenv::v1::CloseSessionRequest close;
  close.set_session_id(first.session_id());
  Must(ctx.client.CloseSession(close), "CloseSession");
}

// Checks 1-10: Describe and the unary calls, errors read from the
// grpc-status-details-bin trailer.
#include <chrono>
#include <string>

#include "checks.h"
#include "expect.h"

namespace {

using openenv_grpc::CallOptions;

openenv::v1::StepRequest StepOf(const std::string& session, const openenv::v1::Value& action,
                                int64_t index) {
  openenv::v1::StepRequest request;
  request.set_session_id(session);
  *request.mutable_action() = action;
  request.set_step_index(index);
  return request;
}

openenv::v1::StateResponse StateOf(Context& ctx, const std::string& session) {
  openenv::v1::StateRequest request;
  request.set_session_id(session);
  return Must(ctx.client.State(request), "State");
}

void Close(Context& ctx, const std::string& session) {
  openenv::v1::CloseSessionRequest request;
  request.set_session_id(session);
  Must(ctx.client.CloseSession(request), "CloseSession");
}

const json& Errors(Context& ctx, const char* name) { return ctx.scenario.at("errors").at(name); }

uint64_t Seed(Context& ctx) { return ctx.scenario.at("episode").at("seed").get<uint64_t>(); }

}  // namespace

void CheckDescribe(Context& ctx) {
  openenv::v1::DescribeResponse spec = Must(ctx.client.Describe(), "Describe");
  const json& want = ctx.scenario;
  Expect(spec.env_name() == want.at("env_name").get<std::string>(),
         "env_name is " + spec.env_name());
  std::string major = spec.protocol_version().substr(0, spec.protocol_version().find('.'));
  Expect(major == want.at("protocol_major").get<std::string>(),
         "protocol_version is " + spec.protocol_version());
  ExpectSpace(spec.observation_space(), want.at("observation_space"), "observation_space");
  ExpectSpace(spec.action_space(), want.at("action_space"), "action_space");
}

void CheckTrace(Context& ctx) {
  CallOptions options;
  options.headers = {{"traceparent", ctx.scenario.at("traceparent").get<std::string>()}};
  Must(ctx.client.Describe(options), "Describe with traceparent");
}

void CheckUnaryEpisode(Context& ctx) {
  const json& episode = ctx.scenario.at("episode");
  auto reset = Must(ctx.client.Reset(NewSessionReset(Seed(ctx))), "Reset");
  ctx.episode_session = reset.session_id();
  ExpectFloat32(reset.observation(), episode.at("reset_observation"), "reset observation");
  int64_t index = 0;
  for (const json& step : episode.at("steps")) {
    ++index;
    std::string what = "step " + std::to_string(index);
    auto answer = Must(ctx.client.Step(StepOf(reset.session_id(),
                                              IntAction(step.at("action").get<int64_t>()), index)),
                       what);
    ExpectStep(answer, step, index, what);
  }
}

void CheckStepAfterEnd(Context& ctx) {
  Expect(!ctx.episode_session.empty(), "no session: unary_episode did not reset one");
  const json& want = Errors(ctx, "step_after_end");
  const json& steps = ctx.scenario.at("episode").at("steps");
  auto index = static_cast<int64_t>(steps.size()) + 1;
  MustFail(ctx.client.Step(StepOf(ctx.episode_session,
                                  IntAction(steps.at(0).at("action").get<int64_t>()), index)),
           want.at("code").get<int>(), want.at("reason").get<std::string>(),
           "Step after the episode ended");
  Close(ctx, ctx.episode_session);
}

void CheckUnknownSession(Context& ctx) {
  const json& want = Errors(ctx, "unknown_session");
  MustFail(ctx.client.Step(StepOf(want.at("session_id").get<std::string>(), IntAction(0), 1)),
           want.at("code").get<int>(), want.at("reason").get<std::string>(),
           "Step on an unknown session");
}

void CheckActionOutOfSpace(Context& ctx) {
  const json& want = Errors(ctx, "action_out_of_space");
  auto reset = Must(ctx.client.Reset(NewSessionReset(Seed(ctx))), "Reset");
  ctx.errors_session = reset.session_id();
  MustFail(
      ctx.client.Step(StepOf(ctx.errors_session, IntAction(want.at("action").get<int64_t>()), 1)),
      want.at("code").get<int>(), want.at("reason").get<std::string>(),
      "Step with an action outside the space");
}

void CheckOutOfOrder(Context& ctx) {
  Expect(!ctx.errors_session.empty(), "no session: action_out_of_space did not reset one");
  const json& want = Errors(ctx, "out_of_order");
  auto error = MustFail(ctx.client.Step(StepOf(ctx.errors_session, IntAction(0),
                                               want.at("step_index").get<int64_t>())),
                        want.at("code").get<int>(), want.at("reason").get<std::string>(),
                        "Step with step_index 5");
  auto count = error.metadata.find("step_count");
  Expect(count != error.metadata.end() && count->second == want.at("step_count").get<std::string>(),
         "ErrorInfo metadata step_count is '" +
             (count == error.metadata.end() ? "(none)" : count->second) + "', expected " +
             want.at("step_count").dump());
}

void CheckRetriedStep(Context& ctx) {
  Expect(!ctx.errors_session.empty(), "no session: action_out_of_space did not reset one");
  const json& first = ctx.scenario.at("episode").at("steps").at(0);
  auto request = StepOf(ctx.errors_session, IntAction(first.at("action").get<int64_t>()), 1);
  auto once = Must(ctx.client.Step(request), "Step 1");
  auto again = Must(ctx.client.Step(request), "Step 1 again");
  Expect(Deterministic(once) == Deterministic(again), "the repeated step answered differently");
  ExpectStep(once, first, 1, "step 1");
  auto state = StateOf(ctx, ctx.errors_session);
  Expect(state.step_count() == 1,
         "State step_count is " + std::to_string(state.step_count()) + ", expected 1");
  Close(ctx, ctx.errors_session);
}

void CheckRequestIdTwice(Context& ctx) {
  openenv::v1::ResetRequest request = NewSessionReset(Seed(ctx));
  auto first = Must(ctx.client.Reset(request), "Reset");
  auto second = Must(ctx.client.Reset(request), "Reset with the same request_id");
  Expect(first.session_id() == second.session_id(),
         "two sessions for one request_id: " + first.session_id() + " and " + second.session_id());
  Close(ctx, first.session_id());
}

void CheckDeadlineRetry(Context& ctx) {
  const json& want = Errors(ctx, "deadline_retry");
  openenv::v1::ResetRequest reset = NewSessionReset(Seed(ctx));
  *reset.mutable_options() = JsonToMap(want.at("options"));
  auto session = Must(ctx.client.Reset(reset), "Reset with step_seconds").session_id();
  const json& first = ctx.scenario.at("episode").at("steps").at(0);
  auto request = StepOf(session, IntAction(first.at("action").get<int64_t>()), 1);
  CallOptions hurried, patient;
  hurried.timeout = std::chrono::milliseconds(want.at("first_deadline_ms").get<int64_t>());
  patient.timeout = std::chrono::milliseconds(want.at("retry_deadline_ms").get<int64_t>());
  MustFail(ctx.client.Step(request, hurried), want.at("code").get<int>(), "",
           "Step with a short deadline");
  auto retried = Must(ctx.client.Step(request, patient), "the retried Step");
  ExpectStep(retried, first, 1, "retried step");
  auto state = StateOf(ctx, session);
  Expect(state.step_count() == 1, "State step_count is " + std::to_string(state.step_count()) +
                                      ": the step was applied twice");
  Close(ctx, session);
}

#include "openenv_grpc/session.h"

#include <utility>

namespace openenv_grpc {
namespace {

using openenv::v1::StepStreamRequest;
using openenv::v1::StepStreamResponse;

void FillReset(const ResetOptions& options, openenv::v1::ResetRequest* request) {
  if (options.seed) request->set_seed(*options.seed);
  if (options.options.entries_size()) *request->mutable_options() = options.options;
  request->set_task_id(options.task_id);
}

void FillSubEnv(const ResetOptions& options, openenv::v1::SubEnvReset* sub_env) {
  if (options.seed) sub_env->set_seed(*options.seed);
  if (options.options.entries_size()) *sub_env->mutable_options() = options.options;
  sub_env->set_task_id(options.task_id);
}

Error Broken(std::string message) {
  Error error;
  error.code = grpc::StatusCode::INTERNAL;
  error.message = std::move(message);
  return error;
}

}  // namespace

Session::Session(openenv::v1::EnvService::StubInterface& stub, const CallOptions& options)
    : context_(std::make_unique<grpc::ClientContext>()) {
  PrepareContext(*context_, options);
  stream_ = stub.StepStream(context_.get());
}

Session::Session(Session&& other) noexcept
    : context_(std::move(other.context_)),
      stream_(std::move(other.stream_)),
      failure_(std::move(other.failure_)),
      closed_(std::exchange(other.closed_, true)),
      seq_(other.seq_),
      id_(std::move(other.id_)),
      step_count_(other.step_count_) {}

Session::~Session() {
  if (stream_ && !closed_) (void)Close();
}

Result<openenv::v1::ResetResponse> Session::Create(const ResetOptions& options) {
  StepStreamRequest request;
  openenv::v1::ResetRequest* reset = request.mutable_reset_request();
  reset->mutable_new_session()->set_request_id(NewRequestId());
  FillReset(options, reset);
  auto answer = Call(std::move(request), StepStreamResponse::kResetResponse);
  if (!answer) return answer.error();
  id_ = answer->reset_response().session_id();
  step_count_ = 0;
  return std::move(*answer->mutable_reset_response());
}

Result<openenv::v1::ResetBatchResponse> Session::CreateBatch(const BatchOptions& options) {
  StepStreamRequest request;
  openenv::v1::ResetBatchRequest* reset = request.mutable_reset_batch_request();
  openenv::v1::NewBatchSession* session = reset->mutable_new_session();
  session->set_request_id(NewRequestId());
  session->set_num_envs(options.num_envs);
  session->set_autoreset_mode(options.autoreset_mode);
  FillSubEnv(options.all, reset->mutable_all());
  auto answer = Call(std::move(request), StepStreamResponse::kResetBatchResponse);
  if (!answer) return answer.error();
  id_ = answer->reset_batch_response().session_id();
  step_count_ = 0;
  return std::move(*answer->mutable_reset_batch_response());
}

Result<openenv::v1::ResetResponse> Session::Reset(const ResetOptions& options) {
  StepStreamRequest request;
  FillReset(options, request.mutable_reset_request());  // no session oneof: the stream's own
  auto answer = Call(std::move(request), StepStreamResponse::kResetResponse);
  if (!answer) return answer.error();
  step_count_ = 0;
  return std::move(*answer->mutable_reset_response());
}

Result<openenv::v1::StepResponse> Session::Step(const openenv::v1::Value& action) {
  StepStreamRequest request;
  openenv::v1::StepRequest* step = request.mutable_step_request();
  *step->mutable_action() = action;
  step->set_step_index(step_count_ + 1);
  auto answer = Call(std::move(request), StepStreamResponse::kStepResponse);
  if (!answer) return answer.error();
  step_count_ = answer->step_response().step_index();
  return std::move(*answer->mutable_step_response());
}

Result<openenv::v1::ResetBatchResponse> Session::ResetBatch(const ResetOptions& all,
                                                            const std::vector<int32_t>& env_ids) {
  StepStreamRequest request;
  openenv::v1::ResetBatchRequest* reset = request.mutable_reset_batch_request();
  reset->mutable_env_ids()->Add(env_ids.begin(), env_ids.end());
  FillSubEnv(all, reset->mutable_all());
  auto answer = Call(std::move(request), StepStreamResponse::kResetBatchResponse);
  if (!answer) return answer.error();
  if (env_ids.empty()) step_count_ = 0;  // only a full reset restarts the count
  return std::move(*answer->mutable_reset_batch_response());
}

Result<openenv::v1::StepBatchResponse> Session::StepBatch(const openenv::v1::Value& actions,
                                                          const std::vector<int32_t>& env_ids) {
  StepStreamRequest request;
  openenv::v1::StepBatchRequest* step = request.mutable_step_batch_request();
  step->mutable_env_ids()->Add(env_ids.begin(), env_ids.end());
  *step->mutable_actions() = actions;
  step->set_step_index(step_count_ + 1);
  auto answer = Call(std::move(request), StepStreamResponse::kStepBatchResponse);
  if (!answer) return answer.error();
  step_count_ = answer->step_batch_response().step_index();
  return std::move(*answer->mutable_step_batch_response());
}

Result<openenv::v1::StateResponse> Session::State() {
  StepStreamRequest request;
  request.mutable_state_request();
  auto answer = Call(std::move(request), StepStreamResponse::kStateResponse);
  if (!answer) return answer.error();
  return std::move(*answer->mutable_state_response());
}

std::optional<Error> Session::Close() {
  if (closed_) return failure_;
  closed_ = true;
  stream_->WritesDone();
  StepStreamResponse ignored;
  while (stream_->Read(&ignored)) {
  }
  grpc::Status status = stream_->Finish();
  if (!status.ok()) failure_ = Error::FromStatus(status);
  return failure_;
}

Result<StepStreamResponse> Session::Call(StepStreamRequest request,
                                         StepStreamResponse::ResponseCase expected) {
  if (closed_) return failure_ ? *failure_ : Broken("the session's stream is closed");
  request.set_seq(++seq_);
  StepStreamResponse response;
  if (!stream_->Write(request) || !stream_->Read(&response)) return Fail();
  if (response.seq() != request.seq()) {
    return Fail(Broken("answer to request " + std::to_string(response.seq()) +
                       " while waiting for " + std::to_string(request.seq())));
  }
  if (response.has_error()) return Error::FromRpcStatus(response.error());
  if (response.response_case() != expected) {
    return Fail(Broken("the server answered with response kind " +
                       std::to_string(response.response_case()) + ", not " +
                       std::to_string(expected)));
  }
  return response;
}

Error Session::Fail(std::optional<Error> why) {
  closed_ = true;
  if (why) context_->TryCancel();  // the stream is out of step: stop it
  StepStreamResponse ignored;
  while (stream_->Read(&ignored)) {
  }
  grpc::Status status = stream_->Finish();
  if (!why) {
    why = status.ok() ? Broken("the server ended the stream") : Error::FromStatus(status);
  }
  failure_ = *why;
  return *why;
}

}  // namespace openenv_grpc

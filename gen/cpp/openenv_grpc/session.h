// Session: one environment session driven over one StepStream, the fast
// path (one message each way per step, and no routing help needed behind a
// load balancer, since a stream stays on one server).
//
//   openenv_grpc::Session session(client.stub());
//   auto first = session.Create({/*seed=*/42});     // new_session, fresh request_id
//   auto step = session.Step(action);               // sends step_index = count + 1
//   if (!step && step.error().Is(openenv::v1::ERROR_REASON_EPISODE_ENDED)) ...
//   session.Close();                                // half-close, drain, status
//
// A failed request returns its Error (read from the in-band
// google.rpc.Status) and the session goes on. Only when the stream itself
// ends (its session closed or reaped elsewhere, the server stopping) does
// every later call return the stream's final status. The session created
// by the stream is closed by the server when the stream ends.
//
// Calls block until answered; a Session is used by one thread at a time.
#ifndef OPENENV_GRPC_SESSION_H_
#define OPENENV_GRPC_SESSION_H_

#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "openenv/v1/env_service.grpc.pb.h"
#include "openenv_grpc/call.h"
#include "openenv_grpc/result.h"

namespace openenv_grpc {

// How an episode starts (Gymnasium's reset arguments): `{}` for the
// defaults, `{42}` for seed 42. (The `{}` initializers keep -Wextra quiet
// about the members `{42}` leaves out.)
struct ResetOptions {
  // Seed of the env's random number generator; unset leaves it unseeded.
  std::optional<uint64_t> seed{};
  // Env-specific options.
  openenv::v1::MapValue options{};
  // Which task of a multi-task env ("" for its default).
  std::string task_id{};
};

// A batched session: N sub-environments stepped together.
struct BatchOptions {
  int32_t num_envs = 1;
  openenv::v1::AutoresetMode autoreset_mode = openenv::v1::AUTORESET_MODE_UNSPECIFIED;
  // The start of every sub-env; sub-env i gets seed + i when a seed is set.
  ResetOptions all{};
};

class Session {
 public:
  // Opens the stream; it is bound to a session by Create or CreateBatch.
  explicit Session(openenv::v1::EnvService::StubInterface& stub, const CallOptions& options = {});
  Session(Session&&) noexcept;
  Session& operator=(Session&&) = delete;
  ~Session();  // Close()s, ignoring its error

  // Creates the stream's single-env session and starts its first episode
  // (a reset with new_session and a fresh request_id).
  Result<openenv::v1::ResetResponse> Create(const ResetOptions& options = {});
  // Creates the stream's batched session and resets every sub-env.
  Result<openenv::v1::ResetBatchResponse> CreateBatch(const BatchOptions& options);

  // Starts a new episode of the stream's session.
  Result<openenv::v1::ResetResponse> Reset(const ResetOptions& options = {});
  // Applies one action, with step_index = step_count() + 1, so that a
  // step the server already applied is never applied twice.
  Result<openenv::v1::StepResponse> Step(const openenv::v1::Value& action);
  // Resets sub-envs of a batched session (all of them when env_ids is empty).
  Result<openenv::v1::ResetBatchResponse> ResetBatch(const ResetOptions& all = {},
                                                     const std::vector<int32_t>& env_ids = {});
  // Steps sub-envs of a batched session (all when env_ids is empty) with one
  // batched action value, e.g. an int64 tensor of shape [N] for Discrete.
  Result<openenv::v1::StepBatchResponse> StepBatch(const openenv::v1::Value& actions,
                                                   const std::vector<int32_t>& env_ids = {});
  // Where the session stands, and the env's own state.
  Result<openenv::v1::StateResponse> State();

  // Half-closes the stream, reads what is left and returns the stream's
  // final status as an error, if it was not OK. Later calls fail.
  std::optional<Error> Close();

  // The session id ("" until created).
  const std::string& id() const { return id_; }
  // Steps applied in the current episode (batched: batched steps since the
  // last full reset), as the server counted them.
  int64_t step_count() const { return step_count_; }

 private:
  using Stream = grpc::ClientReaderWriterInterface<openenv::v1::StepStreamRequest,
                                                   openenv::v1::StepStreamResponse>;

  // Sends one request, reads its answer: an error in-band or of the stream.
  Result<openenv::v1::StepStreamResponse> Call(
      openenv::v1::StepStreamRequest request,
      openenv::v1::StepStreamResponse::ResponseCase expected);
  // Ends a stream that cannot go on and remembers why.
  Error Fail(std::optional<Error> why = std::nullopt);

  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<Stream> stream_;
  std::optional<Error> failure_;
  bool closed_ = false;
  uint64_t seq_ = 0;
  std::string id_;
  int64_t step_count_ = 0;
};

}  // namespace openenv_grpc

#endif  // OPENENV_GRPC_SESSION_H_

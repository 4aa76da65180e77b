// Client: the unary calls of EnvService, each with the contract's headers
// and the caller's deadline, each returning its response or an Error read
// from the `grpc-status-details-bin` trailer. Sessions over a StepStream
// come from OpenSession.
//
//   openenv_grpc::Client client(openenv_grpc::Connect("localhost:50051"));
//   auto spec = client.Describe();
//   if (!spec) std::cerr << spec.error().ToString() << "\n";
//
// Requests are the generated messages, so every field of the contract is
// there; a creation's request_id comes from NewRequestId(). Nothing is
// retried behind the caller's back: a Reset or Step retried with the same
// request_id or step_index is safe, and the caller decides when.
#ifndef OPENENV_GRPC_CLIENT_H_
#define OPENENV_GRPC_CLIENT_H_

#include <grpcpp/channel.h>

#include <memory>

#include "openenv/v1/env_service.grpc.pb.h"
#include "openenv_grpc/call.h"
#include "openenv_grpc/result.h"
#include "openenv_grpc/session.h"

namespace openenv_grpc {

class Client {
 public:
  explicit Client(std::shared_ptr<grpc::ChannelInterface> channel);

  // The env's spec. Fails with PROTOCOL_MISMATCH (FAILED_PRECONDITION) when
  // the server speaks another MAJOR version of the protocol.
  Result<openenv::v1::DescribeResponse> Describe(const CallOptions& options = {});
  Result<openenv::v1::ResetResponse> Reset(const openenv::v1::ResetRequest& request,
                                           const CallOptions& options = {});
  Result<openenv::v1::StepResponse> Step(const openenv::v1::StepRequest& request,
                                         const CallOptions& options = {});
  Result<openenv::v1::ResetBatchResponse> ResetBatch(const openenv::v1::ResetBatchRequest& request,
                                                     const CallOptions& options = {});
  Result<openenv::v1::StepBatchResponse> StepBatch(const openenv::v1::StepBatchRequest& request,
                                                   const CallOptions& options = {});
  Result<openenv::v1::StateResponse> State(const openenv::v1::StateRequest& request,
                                           const CallOptions& options = {});
  Result<openenv::v1::CloseSessionResponse> CloseSession(
      const openenv::v1::CloseSessionRequest& request, const CallOptions& options = {});

  // A new StepStream; `options.timeout` bounds the whole stream.
  Session OpenSession(const CallOptions& options = {});

  // The generated stub, for what this class does not wrap.
  openenv::v1::EnvService::Stub& stub() { return *stub_; }

 private:
  std::unique_ptr<openenv::v1::EnvService::Stub> stub_;
};

// The Error a client raises for a server of another protocol MAJOR, or
// nothing when `server_version` ("MAJOR.MINOR") matches kProtocolVersion's.
std::optional<Error> CheckProtocol(const std::string& server_version);

}  // namespace openenv_grpc

#endif  // OPENENV_GRPC_CLIENT_H_

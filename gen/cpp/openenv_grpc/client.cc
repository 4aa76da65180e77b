#include "openenv_grpc/client.h"

#include <string_view>

namespace openenv_grpc {
namespace {

using openenv::v1::EnvService;

std::string_view Major(std::string_view version) { return version.substr(0, version.find('.')); }

// One unary call: a fresh context with headers and deadline, the status
// turned into an Error. Method is a pointer to the generated stub method.
template <typename Request, typename Response, typename Method>
Result<Response> Invoke(EnvService::Stub& stub, Method method, const Request& request,
                        const CallOptions& options, const std::string& session_id = "") {
  grpc::ClientContext context;
  PrepareContext(context, options, session_id);
  Response response;
  grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) return Error::FromStatus(status);
  return response;
}

std::string SessionOf(const openenv::v1::ResetRequest& r) { return r.session_id(); }
std::string SessionOf(const openenv::v1::ResetBatchRequest& r) { return r.session_id(); }

}  // namespace

Client::Client(std::shared_ptr<grpc::ChannelInterface> channel)
    : stub_(EnvService::NewStub(std::move(channel))) {}

Result<openenv::v1::DescribeResponse> Client::Describe(const CallOptions& options) {
  auto spec = Invoke<openenv::v1::DescribeRequest, openenv::v1::DescribeResponse>(
      *stub_, &EnvService::Stub::Describe, {}, options);
  if (spec) {
    if (auto mismatch = CheckProtocol(spec->protocol_version())) return *mismatch;
  }
  return spec;
}

Result<openenv::v1::ResetResponse> Client::Reset(const openenv::v1::ResetRequest& request,
                                                 const CallOptions& options) {
  return Invoke<openenv::v1::ResetRequest, openenv::v1::ResetResponse>(
      *stub_, &EnvService::Stub::Reset, request, options, SessionOf(request));
}

Result<openenv::v1::StepResponse> Client::Step(const openenv::v1::StepRequest& request,
                                               const CallOptions& options) {
  return Invoke<openenv::v1::StepRequest, openenv::v1::StepResponse>(
      *stub_, &EnvService::Stub::Step, request, options, request.session_id());
}

Result<openenv::v1::ResetBatchResponse> Client::ResetBatch(
    const openenv::v1::ResetBatchRequest& request, const CallOptions& options) {
  return Invoke<openenv::v1::ResetBatchRequest, openenv::v1::ResetBatchResponse>(
      *stub_, &EnvService::Stub::ResetBatch, request, options, SessionOf(request));
}

Result<openenv::v1::StepBatchResponse> Client::StepBatch(
    const openenv::v1::StepBatchRequest& request, const CallOptions& options) {
  return Invoke<openenv::v1::StepBatchRequest, openenv::v1::StepBatchResponse>(
      *stub_, &EnvService::Stub::StepBatch, request, options, request.session_id());
}

Result<openenv::v1::StateResponse> Client::State(const openenv::v1::StateRequest& request,
                                                 const CallOptions& options) {
  return Invoke<openenv::v1::StateRequest, openenv::v1::StateResponse>(
      *stub_, &EnvService::Stub::State, request, options, request.session_id());
}

Result<openenv::v1::CloseSessionResponse> Client::CloseSession(
    const openenv::v1::CloseSessionRequest& request, const CallOptions& options) {
  return Invoke<openenv::v1::CloseSessionRequest, openenv::v1::CloseSessionResponse>(
      *stub_, &EnvService::Stub::CloseSession, request, options, request.session_id());
}

Session Client::OpenSession(const CallOptions& options) { return Session(*stub_, options); }

std::optional<Error> CheckProtocol(const std::string& server_version) {
  if (Major(server_version) == Major(kProtocolVersion)) return std::nullopt;
  Error error;
  error.code = grpc::StatusCode::FAILED_PRECONDITION;
  error.message = "the server speaks openenv protocol " +
                  (server_version.empty() ? std::string("(unknown)") : server_version) +
                  " but this client speaks " + std::string(kProtocolVersion) +
                  "; upgrade the older side to the same major version";
  error.reason = ReasonName(openenv::v1::ERROR_REASON_PROTOCOL_MISMATCH);
  error.domain = std::string(kErrorDomain);
  error.metadata = {{"server_version", server_version.substr(0, 32)},
                    {"client_version", std::string(kProtocolVersion)}};
  return error;
}

}  // namespace openenv_grpc

// The contract's rich errors (errors.proto) as one C++ value type.
//
// A failure reaches a client two ways: a failed unary call ends with a
// grpc::Status whose error_details() is a serialized google.rpc.Status (the
// `grpc-status-details-bin` trailer), and a failed StepStream request is
// answered in-band by a google.rpc.Status. Both become the same Error, so
// callers match `reason` (an ErrorReason name without its ERROR_REASON_
// prefix) the same way on both paths, and never parse `message`.
#ifndef OPENENV_GRPC_ERROR_H_
#define OPENENV_GRPC_ERROR_H_

#include <grpcpp/support/status.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "google/rpc/status.pb.h"
#include "openenv/v1/errors.pb.h"

namespace openenv_grpc {

// ErrorInfo.domain of every error this contract defines.
inline constexpr std::string_view kErrorDomain = "openenv.v1";

struct Error {
  // The gRPC code (the numbers of google.rpc.Code).
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  // For people: English, and free to change. Match `reason` instead.
  std::string message;
  // ErrorInfo.reason, e.g. "SESSION_NOT_FOUND"; "" when the status carried
  // no ErrorInfo (errors raised by the client side of gRPC, such as an
  // expired deadline or an unreachable server). A reason this client does
  // not know is kept as sent: treat it by `code`.
  std::string reason;
  // ErrorInfo.domain: "openenv.v1" for the contract's own errors.
  std::string domain;
  // ErrorInfo.metadata: the keys each reason documents in errors.proto.
  std::map<std::string, std::string> metadata;
  // RetryInfo.retry_delay, when the server says when a retry makes sense.
  std::optional<std::chrono::milliseconds> retry_delay;

  // From a failed unary call, reading the details trailer when there is one.
  static Error FromStatus(const grpc::Status& status);
  // From an in-band StepStreamResponse.error.
  static Error FromRpcStatus(const google::rpc::Status& status);

  // Whether this error has the given reason.
  bool Is(openenv::v1::ErrorReason reason) const;
  // "NOT_FOUND SESSION_NOT_FOUND: no session ..." for logs.
  std::string ToString() const;
};

// The wire name of a reason: its enum name without ERROR_REASON_.
std::string ReasonName(openenv::v1::ErrorReason reason);
// The name of a gRPC code ("NOT_FOUND").
std::string CodeName(grpc::StatusCode code);

}  // namespace openenv_grpc

#endif  // OPENENV_GRPC_ERROR_H_

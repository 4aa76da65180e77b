// What every call to an openenv server carries: the protocol version
// header, the session id header for L7 routing, the caller's deadline and
// headers. (The channel those calls go over comes from Connect, in
// connect.h, which this header includes for the code that found it here.)
#ifndef OPENENV_GRPC_CALL_H_
#define OPENENV_GRPC_CALL_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "openenv_grpc/connect.h"

namespace openenv_grpc {

// The protocol version this client speaks, "MAJOR.MINOR". Servers refuse a
// client of another MAJOR, and the client refuses such a server.
inline constexpr std::string_view kProtocolVersion = "1.1";
// Request header with kProtocolVersion, sent on every call.
inline constexpr char kProtocolHeader[] = "openenv-protocol-version";
// Request header naming the session of a unary call, so a proxy can route
// every call of a session to the server that holds it.
inline constexpr char kSessionHeader[] = "openenv-session-id";
// The largest message the channel sends or accepts: the server's default
// (`--max-message-mb 64`); gRPC's own 4 MiB default is too small for images.
inline constexpr int kMaxMessageBytes = 64 * 1024 * 1024;

struct CallOptions {
  // The call's deadline, from when it starts; for a Session, the deadline
  // of the whole stream. Unset: none.
  std::optional<std::chrono::milliseconds> timeout;
  // Further request headers, e.g. {"traceparent", "00-...-01"}.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Sets the deadline and every header of a call on a fresh context.
void PrepareContext(grpc::ClientContext& context, const CallOptions& options,
                    const std::string& session_id = "");

// A fresh random UUID (version 4): the request_id of a creation, so that a
// retried creation returns the same session instead of making another.
std::string NewRequestId();

}  // namespace openenv_grpc

#endif  // OPENENV_GRPC_CALL_H_

// Connect: the channel to an openenv server. Plaintext by default (a
// server on loopback, or inside a mesh that terminates TLS); TLS when given
// a CA file, mutual TLS with a client certificate and key; and a token sent
// as `authorization: Bearer TOKEN` on every call, unary and streams alike.
//
//   openenv_grpc::ConnectOptions options;
//   options.ca_file = "ca.crt";
//   options.token = std::getenv("OPENENV_GRPC_TOKEN");
//   openenv_grpc::Client client(openenv_grpc::Connect("localhost:50051", options));
#ifndef OPENENV_GRPC_CONNECT_H_
#define OPENENV_GRPC_CONNECT_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

namespace openenv_grpc {

// The request header a token travels in, as "Bearer TOKEN".
inline constexpr char kAuthorizationHeader[] = "authorization";

struct ConnectOptions {
  // PEM file of the CA that signed the server's certificate: connect with
  // TLS. Empty, with no client certificate either: plaintext.
  std::string ca_file{};
  // PEM files of a client certificate chain and its key, for a server that
  // asks for mutual TLS; they go together and imply TLS (with gRPC's
  // default roots when ca_file is empty).
  std::string cert_file{};
  std::string key_file{};
  // Sent as `authorization: Bearer TOKEN` on every call of the channel.
  // Empty: none. Over plaintext anyone on the path can read it.
  std::string token{};
};

// A channel to `address` ("host:port") with kMaxMessageBytes messages and
// keepalive pings. Throws std::invalid_argument when the options are
// inconsistent (a certificate without its key) or a file cannot be read:
// a configuration error, not a state to handle. A bad CA or a server whose
// certificate does not match shows on the first call, as UNAVAILABLE.
std::shared_ptr<grpc::Channel> Connect(const std::string& address,
                                       const ConnectOptions& options = {});

}  // namespace openenv_grpc

#endif  // OPENENV_GRPC_CONNECT_H_

// Connect's token reaches a real (in-process, loopback) server on unary
// calls and on StepStream; bad options fail before any call.
#include "openenv_grpc/connect.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/server_context.h>
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "openenv/v1/env_service.grpc.pb.h"
#include "openenv_grpc/client.h"

namespace {

using openenv_grpc::ConnectOptions;

// The authorization header a call arrived with ("none" without one).
std::string Authorization(const grpc::ServerContext& context) {
  auto [first, last] = context.client_metadata().equal_range("authorization");
  return first == last ? "none" : std::string(first->second.data(), first->second.size());
}

// Answers Describe with the header as env_name, and ends every StepStream
// at once with the header as the status message.
class EchoAuthorization final : public openenv::v1::EnvService::Service {
  grpc::Status Describe(grpc::ServerContext* context, const openenv::v1::DescribeRequest*,
                        openenv::v1::DescribeResponse* response) override {
    response->set_env_name(Authorization(*context));
    response->set_protocol_version(std::string(openenv_grpc::kProtocolVersion));
    return grpc::Status::OK;
  }
  grpc::Status StepStream(grpc::ServerContext* context,
                          grpc::ServerReaderWriter<openenv::v1::StepStreamResponse,
                                                   openenv::v1::StepStreamRequest>*) override {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, Authorization(*context));
  }
};

class ConnectTest : public testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_GT(port_, 0);
  }
  void TearDown() override { server_->Shutdown(); }

  openenv_grpc::Client ClientWith(const ConnectOptions& options) {
    return openenv_grpc::Client(
        openenv_grpc::Connect("127.0.0.1:" + std::to_string(port_), options));
  }

  EchoAuthorization service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(ConnectTest, TokenGoesOnUnaryCallsAndStreams) {
  ConnectOptions options;
  options.token = "s3cret";
  auto client = ClientWith(options);
  auto spec = client.Describe();
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_EQ(spec->env_name(), "Bearer s3cret");
  auto session = client.OpenSession();
  auto created = session.Create();
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().message, "Bearer s3cret");
}

TEST_F(ConnectTest, NoTokenNoHeader) {
  auto client = ClientWith({});
  auto spec = client.Describe();
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_EQ(spec->env_name(), "none");
}

TEST(ConnectOptionsTest, CertificateWithoutKeyThrows) {
  ConnectOptions options;
  options.cert_file = "client.crt";
  EXPECT_THROW(openenv_grpc::Connect("127.0.0.1:1", options), std::invalid_argument);
}

TEST(ConnectOptionsTest, UnreadableCaThrows) {
  ConnectOptions options;
  options.ca_file = "/nonexistent/ca.crt";
  EXPECT_THROW(openenv_grpc::Connect("127.0.0.1:1", options), std::invalid_argument);
}

}  // namespace

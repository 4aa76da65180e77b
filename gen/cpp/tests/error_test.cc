// Errors read the same from a unary call's details trailer and from an
// in-band google.rpc.Status, from statuses crafted as a server sends them.
#include "openenv_grpc/error.h"

#include <grpcpp/support/status.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "openenv_grpc/client.h"
#include "openenv_grpc/result.h"

using openenv_grpc::Error;

namespace {

google::rpc::Status OutOfOrder() {
  google::rpc::Status status;
  status.set_code(10);  // ABORTED
  status.set_message("step_index 5 is not the next step (step count 0)");
  google::rpc::ErrorInfo info;
  info.set_domain("openenv.v1");
  info.set_reason("STEP_OUT_OF_ORDER");
  (*info.mutable_metadata())["step_index"] = "5";
  (*info.mutable_metadata())["step_count"] = "0";
  status.add_details()->PackFrom(info);
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(1);
  retry.mutable_retry_delay()->set_nanos(500000000);
  status.add_details()->PackFrom(retry);
  return status;
}

// As gRPC hands a failed unary call to the client: code, message and the
// serialized google.rpc.Status of the grpc-status-details-bin trailer.
grpc::Status Trailer(const google::rpc::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), status.message(),
                      status.SerializeAsString());
}

void CheckOutOfOrder(const Error& error) {
  EXPECT_EQ(error.code, grpc::StatusCode::ABORTED);
  EXPECT_EQ(error.message, "step_index 5 is not the next step (step count 0)");
  EXPECT_EQ(error.reason, "STEP_OUT_OF_ORDER");
  EXPECT_EQ(error.domain, "openenv.v1");
  EXPECT_TRUE(error.Is(openenv::v1::ERROR_REASON_STEP_OUT_OF_ORDER));
  EXPECT_FALSE(error.Is(openenv::v1::ERROR_REASON_EPISODE_ENDED));
  EXPECT_EQ(error.metadata.size(), 2u);
  EXPECT_EQ(error.metadata.at("step_count"), "0");
  EXPECT_EQ(error.metadata.at("step_index"), "5");
  ASSERT_TRUE(error.retry_delay);
  EXPECT_EQ(error.retry_delay->count(), 1500);
  EXPECT_EQ(error.ToString(), "ABORTED STEP_OUT_OF_ORDER: " + error.message);
}

}  // namespace

TEST(Errors, BothPathsAgree) {
  CheckOutOfOrder(Error::FromStatus(Trailer(OutOfOrder())));
  CheckOutOfOrder(Error::FromRpcStatus(OutOfOrder()));
}

TEST(Errors, WithoutDetails) {
  Error deadline =
      Error::FromStatus(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"));
  EXPECT_EQ(deadline.code, grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(deadline.reason.empty());
  EXPECT_TRUE(deadline.metadata.empty());
  EXPECT_FALSE(deadline.retry_delay);
  EXPECT_EQ(deadline.ToString(), "DEADLINE_EXCEEDED: Deadline Exceeded");
  // A trailer that does not parse keeps the code and message.
  Error garbled =
      Error::FromStatus(grpc::Status(grpc::StatusCode::INTERNAL, "boom", "\xff\xff\xff"));
  EXPECT_EQ(garbled.code, grpc::StatusCode::INTERNAL);
  EXPECT_EQ(garbled.message, "boom");
  EXPECT_TRUE(garbled.reason.empty());
}

TEST(Errors, OurDomainWins) {
  google::rpc::Status status;
  status.set_code(5);
  google::rpc::ErrorInfo proxy;
  proxy.set_domain("proxy.example.com");
  proxy.set_reason("UPSTREAM_RESET");
  status.add_details()->PackFrom(proxy);
  google::rpc::ErrorInfo ours;
  ours.set_domain("openenv.v1");
  ours.set_reason("SESSION_NOT_FOUND");
  (*ours.mutable_metadata())["session_id"] = "abc";
  status.add_details()->PackFrom(ours);
  Error error = Error::FromRpcStatus(status);
  EXPECT_TRUE(error.Is(openenv::v1::ERROR_REASON_SESSION_NOT_FOUND));
  EXPECT_EQ(error.metadata.at("session_id"), "abc");
  EXPECT_EQ(error.code, grpc::StatusCode::NOT_FOUND);
  // Alone, another domain's reason is still reported, with its domain.
  status.mutable_details()->RemoveLast();
  Error foreign = Error::FromRpcStatus(status);
  EXPECT_EQ(foreign.reason, "UPSTREAM_RESET");
  EXPECT_EQ(foreign.domain, "proxy.example.com");
}

TEST(Errors, Names) {
  EXPECT_EQ(openenv_grpc::ReasonName(openenv::v1::ERROR_REASON_SESSION_NOT_FOUND),
            "SESSION_NOT_FOUND");
  EXPECT_EQ(openenv_grpc::ReasonName(openenv::v1::ERROR_REASON_PROTOCOL_MISMATCH),
            "PROTOCOL_MISMATCH");
  EXPECT_EQ(openenv_grpc::CodeName(grpc::StatusCode::FAILED_PRECONDITION), "FAILED_PRECONDITION");
  EXPECT_EQ(openenv_grpc::CodeName(static_cast<grpc::StatusCode>(99)), "CODE_99");
}

TEST(Errors, ProtocolCheck) {
  EXPECT_FALSE(openenv_grpc::CheckProtocol("1.0"));
  EXPECT_FALSE(openenv_grpc::CheckProtocol("1.7"));
  auto mismatch = openenv_grpc::CheckProtocol("2.0");
  ASSERT_TRUE(mismatch);
  EXPECT_TRUE(mismatch->Is(openenv::v1::ERROR_REASON_PROTOCOL_MISMATCH));
  EXPECT_EQ(mismatch->code, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(mismatch->metadata.at("server_version"), "2.0");
}

TEST(Errors, Result) {
  openenv_grpc::Result<int> good = 3;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  openenv_grpc::Result<int> bad = Error::FromRpcStatus(OutOfOrder());
  EXPECT_FALSE(bad);
  EXPECT_TRUE(bad.error().Is(openenv::v1::ERROR_REASON_STEP_OUT_OF_ORDER));
  EXPECT_THROW(bad.value(), std::logic_error);
}

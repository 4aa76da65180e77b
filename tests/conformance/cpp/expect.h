// How a check fails: Expect* throw CheckFailed with the reason, which the
// runner prints as "FAIL name: why". Checks then read as straight-line code.
#ifndef OPENENV_CONFORMANCE_EXPECT_H_
#define OPENENV_CONFORMANCE_EXPECT_H_

#include <google/protobuf/message.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "openenv_grpc/error.h"
#include "openenv_grpc/result.h"

struct CheckFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void Fail(const std::string& why) { throw CheckFailed(why); }

inline void Expect(bool condition, const std::string& why) {
  if (!condition) Fail(why);
}

// The value of a call that must succeed.
template <typename T>
T Must(openenv_grpc::Result<T> result, const std::string& what) {
  if (!result) Fail(what + " failed: " + result.error().ToString());
  return std::move(result).value();
}

// A call that must fail with this code and, unless `reason` is empty, this
// reason in an ErrorInfo of the openenv.v1 domain.
template <typename T>
openenv_grpc::Error MustFail(openenv_grpc::Result<T> result, int code, const std::string& reason,
                             const std::string& what) {
  if (result) Fail(what + " succeeded, expected code " + std::to_string(code) + " " + reason);
  const openenv_grpc::Error& error = result.error();
  if (static_cast<int>(error.code) != code || (!reason.empty() && error.reason != reason)) {
    Fail(what + ": expected code " + std::to_string(code) + " reason '" + reason + "', got " +
         error.ToString() + " (reason '" + error.reason + "')");
  }
  if (!reason.empty() && error.domain != openenv_grpc::kErrorDomain) {
    Fail(what + ": ErrorInfo domain '" + error.domain + "', expected openenv.v1");
  }
  return error;
}

// The bytes of a message with map entries in a fixed order, for equality.
std::string Deterministic(const google::protobuf::Message& message);

#endif  // OPENENV_CONFORMANCE_EXPECT_H_

#include "openenv_grpc/error.h"

#include "google/rpc/code.pb.h"
#include "google/rpc/error_details.pb.h"

namespace openenv_grpc {
namespace {

constexpr std::string_view kReasonPrefix = "ERROR_REASON_";

// Reads ErrorInfo and RetryInfo out of the details. ErrorInfo of the
// contract's domain wins over another domain's (a proxy's, say).
void ReadDetails(const google::rpc::Status& status, Error* error) {
  bool ours = false;
  for (const google::protobuf::Any& detail : status.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::RetryInfo retry;
    if (detail.Is<google::rpc::ErrorInfo>()) {
      if (ours || !detail.UnpackTo(&info)) continue;
      ours = info.domain() == kErrorDomain;
      if (ours || error->reason.empty()) {
        error->reason = info.reason();
        error->domain = info.domain();
        error->metadata = {info.metadata().begin(), info.metadata().end()};
      }
    } else if (detail.Is<google::rpc::RetryInfo>() && detail.UnpackTo(&retry)) {
      const google::protobuf::Duration& delay = retry.retry_delay();
      error->retry_delay =
          std::chrono::milliseconds(delay.seconds() * 1000 + delay.nanos() / 1000000);
    }
  }
}

}  // namespace

Error Error::FromStatus(const grpc::Status& status) {
  Error error;
  error.code = status.error_code();
  error.message = status.error_message();
  google::rpc::Status details;
  // A trailer that does not parse is ignored: code and message still hold.
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    ReadDetails(details, &error);
  }
  return error;
}

Error Error::FromRpcStatus(const google::rpc::Status& status) {
  Error error;
  error.code = static_cast<grpc::StatusCode>(status.code());
  error.message = status.message();
  ReadDetails(status, &error);
  return error;
}

bool Error::Is(openenv::v1::ErrorReason reason) const { return this->reason == ReasonName(reason); }

std::string Error::ToString() const {
  std::string text = CodeName(code);
  if (!reason.empty()) text += " " + reason;
  return text + ": " + message;
}

std::string ReasonName(openenv::v1::ErrorReason reason) {
  const std::string& name = openenv::v1::ErrorReason_Name(reason);
  return name.rfind(kReasonPrefix, 0) == 0 ? name.substr(kReasonPrefix.size()) : name;
}

std::string CodeName(grpc::StatusCode code) {
  const std::string& name = google::rpc::Code_Name(static_cast<google::rpc::Code>(code));
  return name.empty() ? "CODE_" + std::to_string(static_cast<int>(code)) : name;
}

}  // namespace openenv_grpc

#include "openenv_grpc/call.h"

#include <cstdio>
#include <random>

namespace openenv_grpc {

void PrepareContext(grpc::ClientContext& context, const CallOptions& options,
                    const std::string& session_id) {
  context.AddMetadata(kProtocolHeader, std::string(kProtocolVersion));
  if (!session_id.empty()) context.AddMetadata(kSessionHeader, session_id);
  for (const auto& [key, value] : options.headers) context.AddMetadata(key, value);
  if (options.timeout) context.set_deadline(std::chrono::system_clock::now() + *options.timeout);
}

std::string NewRequestId() {
  // Straight from the OS's entropy: a creation is rare, and a seeded PRNG
  // shared by many processes would make ids collide far sooner.
  std::random_device random;
  auto draw64 = [&random] { return (uint64_t{random()} << 32) | random(); };
  uint64_t high = draw64(), low = draw64();
  high = (high & ~0xf000ull) | 0x4000ull;                // version 4
  low = (low & ~(0xc000ull << 48)) | (0x8000ull << 48);  // variant 10
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(high >> 32),
                static_cast<unsigned>((high >> 16) & 0xffff), static_cast<unsigned>(high & 0xffff),
                static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xffffffffffffull));
  return text;
}

}  // namespace openenv_grpc

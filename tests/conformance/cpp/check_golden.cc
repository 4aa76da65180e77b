// Check 13: golden messages written by the Python side decode as their
// type and re-encode to the same bytes, and golden tensors decode through
// the tensor helper to the values golden.json lists.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "checks.h"
#include "expect.h"
#include "openenv/v1/values.pb.h"
#include "openenv_grpc/tensor.h"

namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  Expect(in.good(), "cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A JSON element as T: 64-bit integers beyond 2^53 come as strings.
template <typename T>
T JsonAs(const json& value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value.get<bool>();
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(JsonDouble(value));
  } else if constexpr (std::is_signed_v<T>) {
    return static_cast<T>(value.is_string() ? std::stoll(value.get<std::string>())
                                            : value.get<int64_t>());
  } else {
    return static_cast<T>(value.is_string() ? std::stoull(value.get<std::string>())
                                            : value.get<uint64_t>());
  }
}

// Whether any message in the tree kept fields its type does not declare:
// re-encoding keeps those too, so equal bytes alone would not show that
// every field was understood.
bool HasUnknownFields(const google::protobuf::Message& message) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  if (!reflection->GetUnknownFields(message).empty()) return true;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (!field->is_repeated()) {
      if (HasUnknownFields(reflection->GetMessage(message, field))) return true;
      continue;
    }
    for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
      if (HasUnknownFields(reflection->GetRepeatedMessage(message, field, i))) return true;
    }
  }
  return false;
}

template <typename T>
bool Same(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) && std::isnan(b)) return true;
  }
  return a == b;
}

template <typename T>
void ExpectValues(const openenv::v1::Tensor& tensor, const json& values, const std::string& what) {
  std::vector<T> have = openenv_grpc::TensorValues<T>(tensor);
  Expect(have.size() == values.size(), what + ": " + std::to_string(have.size()) +
                                           " values, expected " + std::to_string(values.size()));
  for (std::size_t i = 0; i < have.size(); ++i) {
    Expect(Same<T>(have[i], JsonAs<T>(values[i])),
           what + ": element " + std::to_string(i) + " differs from " + values[i].dump());
  }
}

void ExpectTensor(const openenv::v1::Tensor& tensor, const json& want, const std::string& what) {
  std::string dtype = want.at("dtype").get<std::string>();
  Expect(openenv_grpc::DtypeName(tensor.dtype()) == dtype,
         what + ": dtype " + std::string(openenv_grpc::DtypeName(tensor.dtype())) + ", expected " +
             dtype);
  Expect(openenv_grpc::TensorShape(tensor) == want.at("shape").get<openenv_grpc::Shape>(),
         what + ": shape differs");
  const json& values = want.at("values");
  switch (tensor.dtype()) {
    case openenv::v1::DTYPE_BOOL:
      return ExpectValues<bool>(tensor, values, what);
    case openenv::v1::DTYPE_INT8:
      return ExpectValues<int8_t>(tensor, values, what);
    case openenv::v1::DTYPE_INT16:
      return ExpectValues<int16_t>(tensor, values, what);
    case openenv::v1::DTYPE_INT32:
      return ExpectValues<int32_t>(tensor, values, what);
    case openenv::v1::DTYPE_INT64:
      return ExpectValues<int64_t>(tensor, values, what);
    case openenv::v1::DTYPE_UINT8:
      return ExpectValues<uint8_t>(tensor, values, what);
    case openenv::v1::DTYPE_UINT16:
      return ExpectValues<uint16_t>(tensor, values, what);
    case openenv::v1::DTYPE_UINT32:
      return ExpectValues<uint32_t>(tensor, values, what);
    case openenv::v1::DTYPE_UINT64:
      return ExpectValues<uint64_t>(tensor, values, what);
    case openenv::v1::DTYPE_FLOAT16:  // decoded to float, the nearest native type
    case openenv::v1::DTYPE_FLOAT32:
      return ExpectValues<float>(tensor, values, what);
    case openenv::v1::DTYPE_FLOAT64:
      return ExpectValues<double>(tensor, values, what);
    default:
      Fail(what + ": unknown dtype");
  }
}

}  // namespace

void CheckGolden(Context& ctx) {
  std::ifstream index(ctx.golden / "golden.json");
  Expect(index.good(), "cannot read " + (ctx.golden / "golden.json").string());
  json entries = json::parse(index);
  Expect(!entries.empty(), "golden.json lists no files");
  for (const json& entry : entries) {
    std::string file = entry.at("file").get<std::string>();
    std::string type = entry.at("type").get<std::string>();
    const google::protobuf::Descriptor* descriptor =
        google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type);
    Expect(descriptor != nullptr, file + ": no generated message type " + type);
    std::unique_ptr<google::protobuf::Message> message(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor)->New());
    std::string bytes = ReadFile(ctx.golden / file);
    Expect(message->ParseFromString(bytes), file + ": does not decode as " + type);
    Expect(!HasUnknownFields(*message), file + ": holds fields " + type + " does not declare");
    Expect(Deterministic(*message) == bytes, file + ": re-encodes to different bytes");
    if (!entry.contains("tensor")) continue;
    try {
      if (auto* tensor = dynamic_cast<openenv::v1::Tensor*>(message.get())) {
        ExpectTensor(*tensor, entry.at("tensor"), file);
      } else if (auto* value = dynamic_cast<openenv::v1::Value*>(message.get())) {
        Expect(value->has_tensor(), file + ": the Value holds no tensor");
        ExpectTensor(value->tensor(), entry.at("tensor"), file);
      } else {
        Fail(file + ": a tensor entry of type " + type);
      }
    } catch (const std::invalid_argument& e) {
      Fail(file + ": " + e.what());
    }
  }
}

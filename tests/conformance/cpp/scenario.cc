#include "scenario.h"

#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <vector>

#include "expect.h"
#include "openenv_grpc/call.h"
#include "openenv_grpc/tensor.h"

namespace {

// The shape of a nested JSON list and its elements in C order.
void Flatten(const json& value, openenv_grpc::Shape* shape, std::vector<double>* out,
             std::size_t depth = 0) {
  if (!value.is_array()) {
    out->push_back(JsonDouble(value));
    return;
  }
  if (shape->size() == depth) shape->push_back(static_cast<int32_t>(value.size()));
  for (const json& item : value) Flatten(item, shape, out, depth + 1);
}

std::string ShapeText(const openenv_grpc::Shape& shape) {
  std::ostringstream text;
  text << "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text << (i ? ", " : "") << shape[i];
  text << "]";
  return text.str();
}

template <typename T>
std::string ListText(const std::vector<T>& values) {
  std::ostringstream text;
  text << "[";
  for (std::size_t i = 0; i < values.size(); ++i) text << (i ? ", " : "") << values[i];
  text << "]";
  return text.str();
}

// Box bounds: a JSON scalar bounds every element, a list each one.
void ExpectBound(const openenv::v1::Tensor& tensor, const json& expected, std::size_t count,
                 const std::string& what) {
  std::vector<double> have = openenv_grpc::TensorAsDoubles(tensor);
  if (have.size() == 1) have.assign(count, have[0]);
  std::vector<double> want;
  if (expected.is_array()) {
    openenv_grpc::Shape ignored;
    Flatten(expected, &ignored, &want);
  } else {
    want.assign(count, JsonDouble(expected));
  }
  Expect(have == want, what + " is " + ListText(have) + ", expected " + ListText(want));
}

}  // namespace

double JsonDouble(const json& value) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (text == "Infinity") return std::numeric_limits<double>::infinity();
    if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
    if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
    return std::stod(text);
  }
  if (value.is_boolean()) return value.get<bool>() ? 1 : 0;
  return value.get<double>();
}

openenv::v1::Value JsonToValue(const json& value) {
  openenv::v1::Value out;
  if (value.is_null()) {
    out.set_null_value(google::protobuf::NULL_VALUE);
  } else if (value.is_boolean()) {
    out.set_bool_value(value.get<bool>());
  } else if (value.is_number_integer()) {
    out.set_int_value(value.get<int64_t>());
  } else if (value.is_number()) {
    out.set_double_value(value.get<double>());
  } else if (value.is_string()) {
    out.set_string_value(value.get<std::string>());
  } else if (value.is_array()) {
    for (const json& item : value) *out.mutable_list_value()->add_values() = JsonToValue(item);
  } else {
    *out.mutable_map_value() = JsonToMap(value);
  }
  return out;
}

openenv::v1::MapValue JsonToMap(const json& object) {
  openenv::v1::MapValue map;
  for (const auto& [key, item] : object.items()) {
    openenv::v1::MapEntry* entry = map.add_entries();
    entry->set_key(key);
    *entry->mutable_value() = JsonToValue(item);
  }
  return map;
}

openenv::v1::Value IntAction(int64_t action) {
  openenv::v1::Value value;
  value.set_int_value(action);
  return value;
}

openenv::v1::Value IntActions(const json& actions) {
  std::vector<int64_t> values = actions.get<std::vector<int64_t>>();
  openenv::v1::Value value;
  *value.mutable_tensor() = openenv_grpc::MakeTensor(values, {static_cast<int32_t>(values.size())});
  return value;
}

void ExpectFloat32(const openenv::v1::Value& value, const json& expected, const std::string& what) {
  Expect(value.has_tensor(), what + " is not a tensor");
  const openenv::v1::Tensor& tensor = value.tensor();
  Expect(tensor.dtype() == openenv::v1::DTYPE_FLOAT32,
         what + " has dtype " + std::string(openenv_grpc::DtypeName(tensor.dtype())) +
             ", expected float32");
  openenv_grpc::Shape want_shape;
  std::vector<double> want;
  Flatten(expected, &want_shape, &want);
  openenv_grpc::Shape shape = openenv_grpc::TensorShape(tensor);
  Expect(shape == want_shape,
         what + " has shape " + ShapeText(shape) + ", expected " + ShapeText(want_shape));
  std::vector<float> have = openenv_grpc::TensorValues<float>(tensor);
  std::vector<float> want_floats(want.begin(), want.end());
  Expect(have == want_floats,
         what + " is " + ListText(have) + ", expected " + ListText(want_floats));
}

void ExpectStep(const openenv::v1::StepResponse& step, const json& expected, int64_t index,
                const std::string& what) {
  ExpectFloat32(step.observation(), expected.at("observation"), what + " observation");
  Expect(step.reward() == expected.at("reward").get<double>(),
         what + " reward " + std::to_string(step.reward()) + ", expected " +
             expected.at("reward").dump());
  Expect(step.terminated() == expected.at("terminated").get<bool>(), what + " terminated differs");
  Expect(step.truncated() == expected.at("truncated").get<bool>(), what + " truncated differs");
  std::map<std::string, double> have(step.reward_components().begin(),
                                     step.reward_components().end());
  auto want = expected.at("reward_components").get<std::map<std::string, double>>();
  Expect(have == want, what + " reward_components differ: " + json(have).dump() + ", expected " +
                           json(want).dump());
  Expect(step.step_index() == index, what + " step_index " + std::to_string(step.step_index()) +
                                         ", expected " + std::to_string(index));
}

void ExpectSpace(const openenv::v1::Space& space, const json& expected, const std::string& what) {
  if (expected.contains("box")) {
    const json& box = expected.at("box");
    Expect(space.has_box(), what + " is not a Box");
    Expect(openenv_grpc::DtypeName(space.box().dtype()) == box.at("dtype").get<std::string>(),
           what + " dtype is " + std::string(openenv_grpc::DtypeName(space.box().dtype())));
    openenv_grpc::Shape shape(space.box().shape().begin(), space.box().shape().end());
    auto want_shape = box.at("shape").get<openenv_grpc::Shape>();
    Expect(shape == want_shape,
           what + " shape is " + ShapeText(shape) + ", expected " + ShapeText(want_shape));
    auto count = static_cast<std::size_t>(openenv_grpc::ElementCount(shape));
    ExpectBound(space.box().low(), box.at("low"), count, what + " low");
    ExpectBound(space.box().high(), box.at("high"), count, what + " high");
  } else if (expected.contains("discrete")) {
    const json& discrete = expected.at("discrete");
    Expect(space.has_discrete(), what + " is not Discrete");
    Expect(space.discrete().n() == discrete.at("n").get<int64_t>(),
           what + " n is " + std::to_string(space.discrete().n()));
    Expect(space.discrete().start() == discrete.at("start").get<int64_t>(),
           what + " start is " + std::to_string(space.discrete().start()));
  } else {
    Fail(what +
         ": the scenario names a space kind this client does not compare: " + expected.dump());
  }
}

openenv::v1::ResetRequest NewSessionReset(uint64_t seed) {
  openenv::v1::ResetRequest request;
  request.mutable_new_session()->set_request_id(openenv_grpc::NewRequestId());
  request.set_seed(seed);
  return request;
}

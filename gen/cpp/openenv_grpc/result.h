// Result<T>: a T, or the Error that prevented it.
//
// Every call of the client and the session returns one, so a failed
// request is a value to inspect (`if (!r) ... r.error().reason`) rather
// than an exception, and the session goes on. (absl::StatusOr would carry
// absl::Status, which has no place for a reason; std::expected is C++23.)
#ifndef OPENENV_GRPC_RESULT_H_
#define OPENENV_GRPC_RESULT_H_

#include <stdexcept>
#include <utility>
#include <variant>

#include "openenv_grpc/error.h"

namespace openenv_grpc {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // The value; throws std::logic_error naming the error when there is none.
  T& value() & {
    Check();
    return std::get<0>(state_);
  }
  const T& value() const& {
    Check();
    return std::get<0>(state_);
  }
  T&& value() && {
    Check();
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; only valid when !ok().
  const Error& error() const { return std::get<1>(state_); }

 private:
  void Check() const {
    if (!ok()) throw std::logic_error("no value: " + error().ToString());
  }

  std::variant<T, Error> state_;
};

}  // namespace openenv_grpc

#endif  // OPENENV_GRPC_RESULT_H_

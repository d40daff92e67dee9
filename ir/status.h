// Status and Result<T>: the error model of every qrt boundary that can fail.
//
// qrt never throws across its API and never aborts on bad input: a function that can fail returns a
// Status (or a Result<T> holding either a value or a Status) whose message names the problem, e.g.
// "node 'fc1' (Linear): weight has 3 dims, expected 2". The types live in ir/ (the lowest layer) so
// that the IR, the loader and the runtime share one error model.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace qrt {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller passed something unusable (bad option, wrong input name/shape)
  kInvalidModel,     // a model file or graph is malformed
  kUnsupported,      // well-formed, but this build/backend cannot do it
  kIoError,          // file system errors
  kOutOfMemory,      // host or device allocation failed
  kDeviceError,      // CUDA runtime errors, missing GPU
  kInternal,         // a bug in qrt
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid model: node 'fc1' ..." — what a CLI prints.
  std::string to_string() const;

  // Returns a copy whose message is prefixed with context ("loading 'm.qrt': ...").
  Status with_context(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status invalid_model(std::string m) {
  return {StatusCode::kInvalidModel, std::move(m)};
}
inline Status unsupported(std::string m) {
  return {StatusCode::kUnsupported, std::move(m)};
}
inline Status io_error(std::string m) {
  return {StatusCode::kIoError, std::move(m)};
}
inline Status out_of_memory(std::string m) {
  return {StatusCode::kOutOfMemory, std::move(m)};
}
inline Status device_error(std::string m) {
  return {StatusCode::kDeviceError, std::move(m)};
}
inline Status internal_error(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}

// Either a T or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).is_ok() && "Result constructed from an ok Status");
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }

  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace qrt

#define QRT_CONCAT_INNER(a, b) a##b
#define QRT_CONCAT(a, b) QRT_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` (a Status) is not ok.
#define QRT_RETURN_IF_ERROR(expr)                 \
  do {                                            \
    ::qrt::Status qrt_status_ = (expr);           \
    if (!qrt_status_.is_ok()) return qrt_status_; \
  } while (0)

// `QRT_ASSIGN_OR_RETURN(auto x, f());` assigns the value of a Result or returns its Status.
#define QRT_ASSIGN_OR_RETURN(lhs, expr) \
  QRT_ASSIGN_OR_RETURN_IMPL(QRT_CONCAT(qrt_result_, __LINE__), lhs, expr)
#define QRT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.is_ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

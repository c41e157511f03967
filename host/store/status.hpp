// Status and Result<T>: how the metadata store reports failure.
//
// The store never throws for run-time conditions (missing keys, full maps, damaged records, I/O
// errors); every fallible call returns a [[nodiscard]] Status or Result<T>. Exceptions are kept for
// programmer bugs only (reading the value of a failed Result throws std::logic_error).
//
// Codes map to policy once (see STYLE.md "Errors"):
//   kResourceExhausted, kUnavailable -> retry with back-off (or fix the named limit);
//   kCorruption                      -> data loss: quarantine, never retry blindly;
//   kVersionTooNew                   -> the operator must upgrade sealhost;
//   kNotFound, kAlreadyExists, kInvalidArgument, kAborted, kIoError, kInternal -> as named.
// Messages start lower-case, name the object ("sectors/42") and say what to do.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sealhost::store {

enum class Code {
  kOk = 0,
  kNotFound,
  kAlreadyExists,
  kInvalidArgument,
  kVersionTooNew,
  kCorruption,
  kResourceExhausted,
  kUnavailable,
  kAborted,
  kIoError,
  kInternal,
};

// Lower-case name of a code, e.g. "not found".
std::string_view code_name(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(Code code, std::string message);

  static Status ok() { return {}; }
  static Status not_found(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status already_exists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status invalid_argument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status version_too_new(std::string m) { return {Code::kVersionTooNew, std::move(m)}; }
  static Status corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status resource_exhausted(std::string m) {
    return {Code::kResourceExhausted, std::move(m)};
  }
  static Status unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status aborted(std::string m) { return {Code::kAborted, std::move(m)}; }
  static Status io_error(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  bool is(Code c) const { return code_ == c; }
  bool is_not_found() const { return code_ == Code::kNotFound; }
  Code code() const { return code_; }
  // Empty for ok.
  const std::string& message() const;
  // "ok" or "<code name>: <message>".
  std::string to_string() const;

  // Explicitly drops a status whose failure the caller has decided not to care about.
  void ignore() const {}

 private:
  Code code_ = Code::kOk;
  // Shared so copying a failed status is cheap and an ok status allocates nothing.
  std::shared_ptr<const std::string> message_;
};

// Either a T or a failed Status. Constructing from an ok Status is a programmer bug and turns into
// an internal error so it cannot masquerade as success.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}              // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(fix(std::move(status))) {}  // NOLINT(google-explicit-constructor)

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }

  // Ok status when a value is held.
  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(v_); }

  T& value() & { return checked(); }
  const T& value() const& { return const_cast<Result*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &value(); }

 private:
  static Status fix(Status s) {
    if (s.is_ok()) return Status::internal("result built from an ok status without a value");
    return s;
  }
  T& checked() {
    if (!is_ok()) throw std::logic_error("value() of a failed result: " + status().to_string());
    return std::get<T>(v_);
  }
  std::variant<T, Status> v_;
};

}  // namespace sealhost::store

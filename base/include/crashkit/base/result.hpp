#pragma once
/// Error values and Result<T>: the std::expected-shaped type every crashkit library returns.
/// Libraries never throw and never log the errors they return; main() maps the category to an
/// exit code and prints Error::message() as one line.
///
/// The three ways to deal with a Result:
///
///   // 1. Propagate: CK_TRY yields the value (nothing for Result<void>) or returns the error.
///   std::string text = CK_TRY(read_file(path));
///   CK_TRY(write_file_atomic(path, text));
///
///   // 2. Propagate with context: CK_TRY_CONTEXT prepends "outer: " to the error's text.
///   auto note = CK_TRY_CONTEXT(read_note(fd, off), "PT_NOTE #2");
///
///   // 3. Handle: test the Result and decide; the error is a value to inspect or drop.
///   auto r = read_file(path);
///   if (!r) {
///     if (r.error().sys_errno() != ENOENT)
///       return std::move(r).error();
///     r = std::string{}; // a missing file reads as empty
///   }
///
/// Errors are built by value: `return Error(ErrorCategory::data, "bad magic").with_path(p);`
/// The path and offset go in with_path / with_offset, never in the text, so message() places
/// them the same way everywhere.

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace crashkit {

/// What went wrong, coarse enough to choose an exit code (sysexits style).
enum class ErrorCategory {
  usage,       ///< bad command line (EX_USAGE 64)
  data,        ///< malformed input file: vmcore, stream, config (EX_DATAERR 65)
  no_input,    ///< input missing or unreadable (EX_NOINPUT 66)
  unsupported, ///< valid input we cannot handle (EX_SOFTWARE 70)
  io,          ///< read/write failed (EX_IOERR 74)
  no_space,    ///< ENOSPC / EDQUOT while writing (EX_CANTCREAT 73)
  exists,      ///< output exists and -f not given (EX_CANTCREAT 73)
  internal,    ///< a bug (EX_SOFTWARE 70)
};

/// One error: category, errno (0 if none), the file it concerns, an offset when known, and a
/// chain of context strings from outer to inner.
class Error {
public:
  Error(ErrorCategory category, std::string what, int err = 0)
      : category_(category), what_(std::move(what)), errno_(err) {}

  static Error from_errno(int err, std::string what) {
    ErrorCategory c = ErrorCategory::io;
    if (err == ENOSPC || err == EDQUOT)
      c = ErrorCategory::no_space;
    else if (err == ENOENT || err == EACCES || err == EPERM)
      c = ErrorCategory::no_input;
    else if (err == EEXIST)
      c = ErrorCategory::exists;
    return Error(c, std::move(what), err);
  }

  Error with_path(std::string path) && {
    path_ = std::move(path);
    return std::move(*this);
  }
  Error with_offset(std::uint64_t off) && {
    offset_ = off;
    return std::move(*this);
  }
  /// Prepends an outer context ("read page 0x1234: " + inner).
  Error context(const std::string& outer) && {
    what_ = outer + ": " + what_;
    return std::move(*this);
  }
  Error& context_inplace(const std::string& outer) {
    what_ = outer + ": " + what_;
    return *this;
  }

  ErrorCategory category() const { return category_; }
  int sys_errno() const { return errno_; }
  const std::string& path() const { return path_; }
  std::optional<std::uint64_t> offset() const { return offset_; }
  const std::string& what() const { return what_; }

  /// "PATH: WHAT at offset 0x..: strerror" — the one line main() prints.
  std::string message() const;

private:
  ErrorCategory category_;
  std::string what_;
  int errno_ = 0;
  std::string path_;
  std::optional<std::uint64_t> offset_;
};

/// sysexits-style exit code for a category.
int exit_code_for(ErrorCategory c);

/// Minimal std::expected<T, Error>: holds a value or an Error.
template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {} // NOLINT: implicit
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}     // NOLINT: implicit

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  Error& error() & { return std::get<1>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

private:
  std::variant<T, Error> v_;
};

template <> class [[nodiscard]] Result<void> {
public:
  Result() = default;
  Result(Error e) : e_(std::move(e)) {} // NOLINT: implicit
  bool has_value() const { return !e_.has_value(); }
  explicit operator bool() const { return has_value(); }
  Error& error() & { return *e_; }
  const Error& error() const& { return *e_; }
  Error&& error() && { return std::move(*e_); }

private:
  std::optional<Error> e_;
};

using Status = Result<void>;

} // namespace crashkit

namespace crashkit::detail {
/// The value CK_TRY yields: T from a Result<T>, nothing from a Result<void>.
template <typename T> T take_value(Result<T>&& r) {
  return std::move(r).value();
}
inline void take_value(Result<void>&&) {}
} // namespace crashkit::detail

/// Evaluates EXPR (a Result<T>): on error returns the error from the enclosing function, else
/// yields the value (T, or nothing for Result<void>). A GNU statement expression (gcc and clang;
/// __extension__ keeps -Wpedantic quiet), as bpftrace's TRY.
#define CK_TRY(expr)                                                                               \
  __extension__({                                                                                  \
    auto ck_try_r_ = (expr);                                                                       \
    if (!ck_try_r_)                                                                                \
      return std::move(ck_try_r_).error();                                                         \
    ::crashkit::detail::take_value(std::move(ck_try_r_));                                          \
  })

/// CK_TRY that prepends "OUTER: " to the error's text before returning it.
#define CK_TRY_CONTEXT(expr, outer)                                                                \
  __extension__({                                                                                  \
    auto ck_try_r_ = (expr);                                                                       \
    if (!ck_try_r_)                                                                                \
      return std::move(ck_try_r_).error().context(outer);                                          \
    ::crashkit::detail::take_value(std::move(ck_try_r_));                                          \
  })

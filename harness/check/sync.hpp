// SPDX-License-Identifier: Apache-2.0
/// @file
/// `cpb::check::Sync`: the Checked twin of `cpb::sync::Real`. Same surface; every operation is
/// a scheduling point of the model checker, and `cell` accesses are race-checked.
///
/// Outside an execution of `explore` (no checker on this OS thread) the types behave as plain
/// sequential versions of themselves, so objects may be built and inspected in test set-up.
#pragma once

#include "harness/check/engine.hpp"
#include "harness/check/model.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <new>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace cpb::check {

namespace detail {

template <class T>
constexpr ValueKind value_kind() {
  if constexpr (std::is_same_v<T, bool>) {
    return ValueKind::kBool;
  } else if constexpr (std::is_pointer_v<T>) {
    return ValueKind::kPointer;
  } else if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
    if constexpr (std::is_signed_v<T>) return ValueKind::kSigned;
    return ValueKind::kUnsigned;
  } else {
    return ValueKind::kOther;
  }
}

template <class T>
std::uint64_t to_bits(const T& v) {
  std::uint64_t b = 0;
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    b = static_cast<std::uint64_t>(static_cast<std::int64_t>(v));  // sign-extended for printing
  } else {
    std::memcpy(&b, &v, sizeof(T));
  }
  return b;
}

template <class T>
T from_bits(std::uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}

constexpr std::memory_order failure_order(std::memory_order mo) {
  if (mo == std::memory_order_acq_rel) return std::memory_order_acquire;
  if (mo == std::memory_order_release) return std::memory_order_relaxed;
  return mo;
}

}  // namespace detail

/// Checked `std::atomic<T>` for trivially copyable T of at most 8 bytes.
template <class T>
class Atomic : private detail::AtomicState {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8,
                "cpb::check::Atomic<T> needs a trivially copyable T of at most 8 bytes");
  using Loc = std::source_location;
  using Engine = detail::Engine;

 public:
  using value_type = T;
  static constexpr bool is_always_lock_free = true;

  Atomic() noexcept : Atomic(T{}) {}
  Atomic(T v) noexcept {  // NOLINT(google-explicit-constructor): as std::atomic
    bits_ = detail::to_bits(v);
    vkind_ = detail::value_kind<T>();
  }
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  [[nodiscard]] bool is_lock_free() const noexcept { return true; }

  T load(std::memory_order mo = std::memory_order_seq_cst, Loc loc = Loc::current()) const {
    if (Engine* e = Engine::current()) return val(e->load(*this, mo, loc));
    Engine::outside("an atomic load", loc);
    return val(bits_);
  }
  void store(T v, std::memory_order mo = std::memory_order_seq_cst, Loc loc = Loc::current()) {
    if (Engine* e = Engine::current()) {
      e->store(*this, detail::to_bits(v), mo, loc);
    } else {
      Engine::outside("an atomic store", loc);
      bits_ = detail::to_bits(v);
    }
  }
  operator T() const { return load(); }  // NOLINT(google-explicit-constructor)
  T operator=(T v) {
    store(v);
    return v;
  }

  T exchange(T v, std::memory_order mo = std::memory_order_seq_cst, Loc loc = Loc::current()) {
    const std::uint64_t nb = detail::to_bits(v);
    return apply(detail::OpKind::kExchange, mo, loc, [nb](std::uint64_t) { return nb; });
  }

  bool compare_exchange_strong(T& expected, T desired, std::memory_order success,
                               std::memory_order failure, Loc loc = Loc::current()) {
    return cas(expected, desired, false, success, failure, loc);
  }
  bool compare_exchange_strong(T& expected, T desired,
                               std::memory_order mo = std::memory_order_seq_cst,
                               Loc loc = Loc::current()) {
    return cas(expected, desired, false, mo, detail::failure_order(mo), loc);
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success,
                             std::memory_order failure, Loc loc = Loc::current()) {
    return cas(expected, desired, true, success, failure, loc);
  }
  bool compare_exchange_weak(T& expected, T desired,
                             std::memory_order mo = std::memory_order_seq_cst,
                             Loc loc = Loc::current()) {
    return cas(expected, desired, true, mo, detail::failure_order(mo), loc);
  }

  template <class D = T>
  requires(std::is_integral_v<D> && !std::is_same_v<D, bool>) || std::is_pointer_v<D> T
      fetch_add(std::conditional_t<std::is_pointer_v<D>, std::ptrdiff_t, D> d,
                std::memory_order mo = std::memory_order_seq_cst, Loc loc = Loc::current()) {
    return apply(detail::OpKind::kRmw, mo, loc,
                 [d](std::uint64_t b) { return detail::to_bits<T>(val(b) + d); });
  }
  template <class D = T>
  requires(std::is_integral_v<D> && !std::is_same_v<D, bool>) || std::is_pointer_v<D> T
      fetch_sub(std::conditional_t<std::is_pointer_v<D>, std::ptrdiff_t, D> d,
                std::memory_order mo = std::memory_order_seq_cst, Loc loc = Loc::current()) {
    return apply(detail::OpKind::kRmw, mo, loc,
                 [d](std::uint64_t b) { return detail::to_bits<T>(val(b) - d); });
  }
  template <class D = T>
  requires std::is_integral_v<D> T fetch_and(T d, std::memory_order mo = std::memory_order_seq_cst,
                                             Loc loc = Loc::current()) {
    return apply(detail::OpKind::kRmw, mo, loc,
                 [d](std::uint64_t b) { return detail::to_bits<T>(static_cast<T>(val(b) & d)); });
  }
  template <class D = T>
  requires std::is_integral_v<D> T fetch_or(T d, std::memory_order mo = std::memory_order_seq_cst,
                                            Loc loc = Loc::current()) {
    return apply(detail::OpKind::kRmw, mo, loc,
                 [d](std::uint64_t b) { return detail::to_bits<T>(static_cast<T>(val(b) | d)); });
  }
  template <class D = T>
  requires std::is_integral_v<D> T fetch_xor(T d, std::memory_order mo = std::memory_order_seq_cst,
                                             Loc loc = Loc::current()) {
    return apply(detail::OpKind::kRmw, mo, loc,
                 [d](std::uint64_t b) { return detail::to_bits<T>(static_cast<T>(val(b) ^ d)); });
  }
  template <class D = T>
  requires(std::is_integral_v<D> && !std::is_same_v<D, bool>) T operator++() {
    return fetch_add(1) + 1;
  }
  template <class D = T>
  requires(std::is_integral_v<D> && !std::is_same_v<D, bool>) T operator++(int) {
    return fetch_add(1);
  }
  template <class D = T>
  requires(std::is_integral_v<D> && !std::is_same_v<D, bool>) T operator--() {
    return fetch_sub(1) - 1;
  }
  template <class D = T>
  requires(std::is_integral_v<D> && !std::is_same_v<D, bool>) T operator--(int) {
    return fetch_sub(1);
  }

  /// C++20 atomic wait: blocks until notified while the value equals `old`.
  void wait(T old, std::memory_order mo = std::memory_order_seq_cst,
            Loc loc = Loc::current()) const {
    if (Engine* e = Engine::current()) {
      e->wait(*this, detail::to_bits(old), mo, loc);
    } else if (bits_ == detail::to_bits(old)) {
      throw std::logic_error("cpb::check::Atomic::wait would block outside a checked execution");
    }
  }
  void notify_one(Loc loc = Loc::current()) {
    if (Engine* e = Engine::current()) e->notify(*this, false, loc);
  }
  void notify_all(Loc loc = Loc::current()) {
    if (Engine* e = Engine::current()) e->notify(*this, true, loc);
  }

 private:
  static T val(std::uint64_t b) { return detail::from_bits<T>(b); }

  template <class F>
  T apply(detail::OpKind kind, std::memory_order mo, const Loc& loc, F f) {
    if (Engine* e = Engine::current()) return val(e->rmw(*this, kind, mo, f, loc));
    Engine::outside("an atomic read-modify-write", loc);
    const std::uint64_t old = bits_;
    bits_ = f(old);
    return val(old);
  }

  bool cas(T& expected, T desired, bool weak, std::memory_order success, std::memory_order failure,
           const Loc& loc) {
    std::uint64_t exp = detail::to_bits(expected);
    bool ok = false;
    if (Engine* e = Engine::current()) {
      ok = e->cas(*this, exp, detail::to_bits(desired), weak, success, failure, loc);
    } else {
      Engine::outside("a compare-exchange", loc);
      ok = bits_ == exp;
      if (ok) {
        bits_ = detail::to_bits(desired);
      } else {
        exp = bits_;
      }
    }
    if (!ok) expected = val(exp);
    return ok;
  }
};

/// Checked shared plain data: every access is race-checked against happens-before.
template <class T>
class Cell : private detail::CellState {
  using Loc = std::source_location;
  using Engine = detail::Engine;

 public:
  Cell() : Cell(T{}) {}
  explicit Cell(T v) : v_(std::move(v)) {
    if (Engine* e = Engine::current()) e->cell_init(*this);
  }
  Cell(const Cell&) = delete;
  Cell& operator=(const Cell&) = delete;

  [[nodiscard]] T load(Loc loc = Loc::current()) const {
    if (Engine* e = Engine::current()) {
      e->cell_read(*this, loc);
    } else {
      Engine::outside("a cell read", loc);
    }
    return v_;
  }
  void store(T v, Loc loc = Loc::current()) {
    if (Engine* e = Engine::current()) {
      e->cell_write(*this, loc);
    } else {
      Engine::outside("a cell write", loc);
    }
    v_ = std::move(v);
  }
  /// In-place access; counts as a write.
  T& get(Loc loc = Loc::current()) {
    if (Engine* e = Engine::current()) e->cell_write(*this, loc);
    return v_;
  }
  /// In-place read-only access; counts as a read.
  const T& get(Loc loc = Loc::current()) const {
    if (Engine* e = Engine::current()) e->cell_read(*this, loc);
    return v_;
  }

 private:
  T v_;
};

/// Checked std::mutex.
class Mutex : private detail::MutexState {
  using Loc = std::source_location;
  using Engine = detail::Engine;
  friend class CondVar;

 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock(Loc loc = Loc::current()) {
    if (Engine* e = Engine::current()) return e->lock(*this, detail::ObjKind::kMutex, loc);
    if (owner_ >= 0)
      throw std::logic_error("cpb::check::Mutex::lock would block outside a checked execution");
    owner_ = 0;
  }
  bool try_lock(Loc loc = Loc::current()) {
    if (Engine* e = Engine::current()) return e->try_lock(*this, detail::ObjKind::kMutex, loc);
    if (owner_ >= 0) return false;
    owner_ = 0;
    return true;
  }
  void unlock(Loc loc = Loc::current()) {
    if (Engine* e = Engine::current()) return e->unlock(*this, detail::ObjKind::kMutex, loc);
    owner_ = -1;
  }

 private:
  [[nodiscard]] const detail::MutexState& state() const { return *this; }
};

/// Checked std::shared_mutex.
class SharedMutex : private detail::MutexState {
  using Loc = std::source_location;
  using Engine = detail::Engine;

 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void lock(Loc loc = Loc::current()) {
    if (Engine* e = Engine::current()) return e->lock(*this, detail::ObjKind::kSharedMutex, loc);
    if (owner_ >= 0 || outside_readers_ != 0)
      throw std::logic_error(
          "cpb::check::SharedMutex::lock would block outside a checked execution");
    owner_ = 0;
  }
  bool try_lock(Loc loc = Loc::current()) {
    if (Engine* e = Engine::current())
      return e->try_lock(*this, detail::ObjKind::kSharedMutex, loc);
    if (owner_ >= 0 || outside_readers_ != 0) return false;
    owner_ = 0;
    return true;
  }
  void unlock(Loc loc = Loc::current()) {
    if (Engine* e = Engine::current()) return e->unlock(*this, detail::ObjKind::kSharedMutex, loc);
    owner_ = -1;
  }
  void lock_shared(Loc loc = Loc::current()) {
    if (Engine* e = Engine::current()) return e->lock_shared(*this, loc);
    if (owner_ >= 0)
      throw std::logic_error(
          "cpb::check::SharedMutex::lock_shared would block outside a checked execution");
    ++outside_readers_;
  }
  bool try_lock_shared(Loc loc = Loc::current()) {
    if (Engine* e = Engine::current()) return e->try_lock_shared(*this, loc);
    if (owner_ >= 0) return false;
    ++outside_readers_;
    return true;
  }
  void unlock_shared(Loc loc = Loc::current()) {
    if (Engine* e = Engine::current()) return e->unlock_shared(*this, loc);
    --outside_readers_;
  }

 private:
  unsigned outside_readers_ = 0;  ///< shared owners outside an execution
};

/// Checked std::condition_variable: works with `std::unique_lock<Mutex>`. Spurious wake-ups
/// are a scheduling choice (Config::max_spurious per execution).
class CondVar : private detail::CondVarState {
  using Loc = std::source_location;
  using Engine = detail::Engine;

 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void wait(std::unique_lock<Mutex>& lk, Loc loc = Loc::current()) {
    Engine* e = Engine::current();
    if (e == nullptr)
      throw std::logic_error("cpb::check::CondVar::wait outside a checked execution");
    e->cv_wait(*this, lk.mutex()->state(), false, loc);
  }
  template <class Pred>
  void wait(std::unique_lock<Mutex>& lk, Pred pred, Loc loc = Loc::current()) {
    while (!pred()) wait(lk, loc);
  }
  /// Timed waits: the timeout is a scheduling choice, like a spurious wake-up.
  template <class Rep, class Period>
  std::cv_status wait_for(std::unique_lock<Mutex>& lk, const std::chrono::duration<Rep, Period>&,
                          Loc loc = Loc::current()) {
    Engine* e = Engine::current();
    if (e == nullptr)
      throw std::logic_error("cpb::check::CondVar::wait_for outside a checked execution");
    return e->cv_wait(*this, lk.mutex()->state(), true, loc) ? std::cv_status::no_timeout
                                                             : std::cv_status::timeout;
  }
  template <class Rep, class Period, class Pred>
  bool wait_for(std::unique_lock<Mutex>& lk, const std::chrono::duration<Rep, Period>& d, Pred pred,
                Loc loc = Loc::current()) {
    while (!pred()) {
      if (wait_for(lk, d, loc) == std::cv_status::timeout) return pred();
    }
    return true;
  }
  void notify_one(Loc loc = Loc::current()) {
    if (Engine* e = Engine::current()) e->cv_notify(*this, false, loc);
  }
  void notify_all(Loc loc = Loc::current()) {
    if (Engine* e = Engine::current()) e->cv_notify(*this, true, loc);
  }
};

/// Checked std::thread: a logical thread of the current execution.
class Thread {
  using Engine = detail::Engine;

 public:
  Thread() noexcept = default;
  template <class F, class... Args>
  requires(!std::is_same_v<std::remove_cvref_t<F>, Thread>) explicit Thread(F&& f, Args&&... args) {
    Engine* e = Engine::current();
    if (e == nullptr) {
      throw std::logic_error("cpb::check::Thread can only be created inside a checked execution");
    }
    tid_ = e->spawn(
        [fn = std::forward<F>(f), ... a = std::forward<Args>(args)]() mutable {
          std::invoke(std::move(fn), std::move(a)...);
        },
        std::source_location::current());
  }
  Thread(Thread&& o) noexcept : tid_(std::exchange(o.tid_, -1)) {}
  Thread& operator=(Thread&& o) noexcept {
    if (joinable()) misuse("a joinable cpb::check::Thread was assigned to");
    tid_ = std::exchange(o.tid_, -1);
    return *this;
  }
  ~Thread() {
    if (joinable())
      misuse("a joinable cpb::check::Thread was destroyed (std::terminate in real code)");
  }

  [[nodiscard]] bool joinable() const noexcept { return tid_ >= 0; }
  void join(std::source_location loc = std::source_location::current()) {
    if (Engine* e = Engine::current()) e->join(tid_, loc);
    tid_ = -1;
  }
  void detach() noexcept { tid_ = -1; }
  /// The logical thread id (0 is the test's main thread).
  [[nodiscard]] int id() const noexcept { return tid_; }

 private:
  static void misuse(const char* msg) noexcept {
    if (Engine* e = Engine::current(); e != nullptr && !e->aborting()) {
      try {
        e->misuse(msg);
      } catch (...) {
      }
    }
  }
  int tid_ = -1;
};

namespace detail {

/// The name of `T`, for heap reports.
template <class T>
const char* type_name() {
  static const std::string name = [](std::string_view f) {
    // f: "... type_name() [with T = X]" (GCC) or "... type_name() [T = X]" (Clang).
    const auto b = f.find("T = ");
    if (b == std::string_view::npos) return std::string("object");
    f.remove_prefix(b + 4);
    return std::string(f.substr(0, f.find_first_of(";]")));
  }(__PRETTY_FUNCTION__);
  return name.c_str();
}

}  // namespace detail

/// The Checked sync policy: plug into any `template <class S> class Impl`.
struct Sync {
  template <class T>
  using atomic = Atomic<T>;
  template <class T>
  using cell = Cell<T>;
  using mutex = Mutex;
  using shared_mutex = SharedMutex;
  using condition_variable = CondVar;
  using thread = Thread;

  static void fence(std::memory_order mo,
                    std::source_location loc = std::source_location::current()) {
    if (detail::Engine* e = detail::Engine::current()) e->fence(mo, loc);
  }
  static void yield(std::source_location loc = std::source_location::current()) {
    if (detail::Engine* e = detail::Engine::current()) e->yield(detail::OpKind::kYield, loc);
  }
  static void pause(std::source_location loc = std::source_location::current()) {
    if (detail::Engine* e = detail::Engine::current()) e->yield(detail::OpKind::kPause, loc);
  }

  /// Per logical thread, fresh in every execution (a `thread_local` would be shared by all
  /// the fibers on the OS thread and kept between executions).
  template <class T>
  static T& thread_local_value() {
    static const char key = 0;
    if (detail::Engine* e = detail::Engine::current()) return e->thread_local_value<T>(&key);
    static thread_local T v{};
    return v;
  }

  /// The checker heap: blocks live until the execution ends, so a use after free, a double
  /// free and a leak are reported, not undefined (Config::reuse_freed provokes ABA).
  template <class T, class... A>
  static T* create(A&&... a) {
    detail::Engine* e = detail::Engine::current();
    if (e == nullptr) return new T(std::forward<A>(a)...);
    return ::new (e->allocate(sizeof(T), alignof(T), detail::type_name<T>()))
        T(std::forward<A>(a)...);
  }
  /// The trace shows where a block was freed; `create` is variadic, so its allocation event
  /// cannot default a source location and shows none.
  template <class T>
  static void destroy(T* p, std::source_location loc = std::source_location::current()) {
    if (p == nullptr) return;
    detail::Engine* e = detail::Engine::current();
    if (e == nullptr) {
      delete p;
      return;
    }
    if (!e->begin_free(p, detail::type_name<T>())) return;
    p->~T();
    e->end_free(p, loc);
  }
};

/// Reports a failed check as an assertion failure of the execution (outside one: throws
/// std::logic_error).
inline void require(bool cond, std::string_view msg = "requirement",
                    std::source_location loc = std::source_location::current()) {
  if (cond) return;
  if (detail::Engine* e = detail::Engine::current()) {
    e->assertion_failed(msg, loc);
    return;
  }
  throw std::logic_error(std::string(msg));
}

}  // namespace cpb::check

/// Assertion inside a checked execution: a failure is reported with its schedule, not aborted.
#define CPB_CHECK_ASSERT(cond) ::cpb::check::require(static_cast<bool>(cond), #cond)

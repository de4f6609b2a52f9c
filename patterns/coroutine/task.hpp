// SPDX-License-Identifier: Apache-2.0
/// @file
/// `Task<T>`: a lazy C++20 coroutine that produces a `T` (or `void`) or an exception, started
/// when awaited, with symmetric transfer both ways: `co_await task` suspends the awaiter and
/// returns the task's handle from `await_suspend` (the compiler resumes it as a tail call), and
/// the task's final suspend returns its awaiter's handle. So a chain of awaits that complete
/// synchronously runs in constant stack: no `resume()` nests inside another. That constant stack
/// rests on the compiler emitting the transfer as a tail call, which GCC 12 does only when it
/// optimises and no sanitizer instruments the frame: at -O0, and at -O2 under ASan or TSan,
/// 1,000,000 synchronous awaits overflow the stack (measured; see README). Those builds
/// (`CPB_CORO_TAIL_CALLS` 0) do the tail call by hand: `transfer(h)` parks `h` in a per-thread
/// trampoline and returns `noop_coroutine()`, and `detail::resume`, which every resumption in
/// this runtime goes through (sync_wait, the scheduler, the async semaphore), resumes parked
/// handles in a loop. Same order of execution, same flat stack, a little slower. `sync_wait(task)`
/// runs a task from ordinary code and blocks the calling thread until it finishes (it sleeps in
/// `atomic::wait` while the task is suspended elsewhere). `Detached` is the fire-and-forget
/// coroutine the scheduler's `spawn` wraps a `Task<void>` in; it destroys itself at the end.
///
/// Progress: a task itself has no concurrency; `sync_wait` blocks.
/// Memory ordering: `sync_wait`'s done flag: the finishing thread's release store pairs with
/// the waiter's acquire load, so the result written before is visible after.
/// When to use: composing asynchronous steps in straight-line code, on any executor. When not to
/// use: where a stackful coroutine (Boost.Fiber) must call through code that cannot be made a
/// coroutine (a callback library that blocks).
/// Reference: Lewis Baker, cppcoro `task<T>` and "C++ Coroutines: Understanding Symmetric
/// Transfer" (2020); P0913R1 (symmetric transfer); ISO C++20 [dcl.fct.def.coroutine].
#pragma once

#include <atomic>
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#if !defined(CPB_CORO_TAIL_CALLS)
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define CPB_CORO_TAIL_CALLS 1
#else
#define CPB_CORO_TAIL_CALLS 0
#endif
#endif

namespace cpb::patterns::coroutine {

template <class T = void>
class Task;

namespace detail {

/// The hand-made tail call of builds without compiler tail calls (see the file comment).
struct Trampoline {
  std::coroutine_handle<> next;
  bool active = false;
};
inline Trampoline& trampoline() {
  static thread_local Trampoline t;
  return t;
}

/// What an `await_suspend` returns to pass control to `h` (symmetric transfer).
inline std::coroutine_handle<> transfer(std::coroutine_handle<> h) noexcept {
#if CPB_CORO_TAIL_CALLS
  return h;
#else
  Trampoline& t = trampoline();
  if (!t.active) return h;
  t.next = h;
  return std::noop_coroutine();
#endif
}

/// Resumes `h` from ordinary code (a worker, sync_wait, a release that wakes a waiter), and,
/// without compiler tail calls, every handle transferred to on this thread until none is left.
inline void resume(std::coroutine_handle<> h) {
#if CPB_CORO_TAIL_CALLS
  h.resume();
#else
  Trampoline& t = trampoline();
  const bool outer = std::exchange(t.active, true);
  std::coroutine_handle<> saved = std::exchange(t.next, nullptr);
  while (h) {
    h.resume();
    h = std::exchange(t.next, nullptr);
  }
  t.next = saved;
  t.active = outer;
#endif
}

struct PromiseBase {
  std::coroutine_handle<> continuation = std::noop_coroutine();

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      return transfer(h.promise().continuation);  // symmetric transfer back to the awaiter
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
};

template <class T>
struct TaskPromise : PromiseBase {
  std::variant<std::monostate, T, std::exception_ptr> result;

  Task<T> get_return_object() noexcept;
  template <class U>
  requires std::convertible_to<U&&, T>
  void return_value(U&& v) { result.template emplace<1>(std::forward<U>(v)); }
  void unhandled_exception() noexcept { result.template emplace<2>(std::current_exception()); }
  T take() {
    if (result.index() == 2) std::rethrow_exception(std::get<2>(result));
    return std::move(std::get<1>(result));
  }
};

template <>
struct TaskPromise<void> : PromiseBase {
  std::exception_ptr error;

  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void unhandled_exception() noexcept { error = std::current_exception(); }
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle h) : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  [[nodiscard]] bool valid() const { return static_cast<bool>(h_); }

  struct Awaiter {
    Handle h;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      h.promise().continuation = awaiting;
      return detail::transfer(h);  // symmetric transfer into the task
    }
    T await_resume() { return h.promise().take(); }
  };
  /// Starts the task; the awaiter resumes when it finishes, with its value or exception.
  Awaiter operator co_await() && noexcept { return Awaiter{h_}; }

  /// The handle, released (for wrappers that take over the frame).
  Handle release() { return std::exchange(h_, {}); }

 private:
  Handle h_;
};

namespace detail {
template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}

/// A coroutine that starts at once and frees itself at its end: the body of `sync_wait` and of
/// the scheduler's `spawn`. Exceptions must be handled inside (they terminate).
struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

/// A lazily started Detached: the scheduler posts its first resume.
struct LazyDetached {
  struct promise_type {
    LazyDetached get_return_object() noexcept {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> h;
};

/// What sync_wait shares with its runner: owned by both, so the runner's notify never touches
/// a waiter's dead stack frame.
template <class T>
struct SyncWaitState {
  std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> out;
  std::exception_ptr error;
  std::atomic<bool> done{false};
};

template <class T>
LazyDetached run_and_signal(Task<T> t, std::shared_ptr<SyncWaitState<T>> st) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(t);
      st->out.emplace(true);
    } else {
      st->out.emplace(co_await std::move(t));
    }
  } catch (...) {
    st->error = std::current_exception();
  }
  // Release: pairs with sync_wait's acquire: out/error are visible to the waiter.
  st->done.store(true, std::memory_order_release);
  st->done.notify_one();
}

}  // namespace detail

/// Runs `t` to its end from ordinary code: the calling thread starts it, and sleeps while it is
/// suspended elsewhere (on a scheduler, a timer). Returns its value or rethrows its exception.
template <class T>
T sync_wait(Task<T> t) {
  auto st = std::make_shared<detail::SyncWaitState<T>>();
  detail::resume(detail::run_and_signal(std::move(t), st).h);
  // Acquire: pairs with run_and_signal's release store.
  while (!st->done.load(std::memory_order_acquire)) {
    st->done.wait(false, std::memory_order_acquire);  // acquire: as above
  }
  if (st->error) std::rethrow_exception(st->error);
  if constexpr (!std::is_void_v<T>) return std::move(*st->out);
}

}  // namespace cpb::patterns::coroutine

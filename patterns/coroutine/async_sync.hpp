// SPDX-License-Identifier: Apache-2.0
/// @file
/// `AsyncSemaphore` and `AsyncMutex`: a counting semaphore and a mutex whose waiters are
/// suspended coroutines, not blocked threads, on the sync policy `S` so the model checker runs
/// the same code. A waiter is an intrusive node (`Waiter`) with a `wake` function; the awaiters
/// below make it resume a coroutine, either through an executor (`post(handle)`, e.g. the
/// `Scheduler`) or inline when given none; the model checks use a flag instead.
///
/// A short internal mutex guards the count and a FIFO queue of waiters. `release` hands a unit
/// straight to the oldest waiter (the count is not raised, so a newcomer cannot barge in ahead of
/// a woken waiter), and wakes it after dropping the internal lock. So waiters acquire in the
/// order they queued (FIFO), and a release never resumes a coroutine while holding the lock.
/// `AsyncMutex` is the semaphore with one unit, and the same hand-off.
///
/// Progress: blocking (the internal mutex, held for a few instructions; a waiting coroutine
/// holds no thread).
/// Memory ordering: everything shared is guarded by the internal mutex; a unit handed to a
/// waiter is ordered before its wake by that mutex's unlock, and the executor's hand-over (or
/// the flag's release/acquire in the model checks) orders the wake before the waiter resumes.
/// When to use: limiting concurrency of, or serialising, coroutines that must not block their
/// thread (a connection pool, a shared resource touched across awaits). When not to use: a
/// critical section with no await inside (a plain mutex is cheaper); a lock held across awaits
/// on one strand (no lock needed).
/// Reference: cppcoro `async_mutex` (Lewis Baker; lock-free there, a locked FIFO here); Dijkstra's
/// P/V; Java's `Semaphore(fair = true)` hand-off.
#pragma once

#include "harness/core/sync.hpp"
#include "patterns/coroutine/task.hpp"

#include <coroutine>
#include <cstddef>
#include <mutex>
#include <stdexcept>

namespace cpb::patterns::coroutine {

/// An intrusive wait-queue node: `wake(self)` is called exactly once, after the unit is the
/// waiter's, outside the semaphore's lock.
struct Waiter {
  Waiter* next = nullptr;
  void (*wake)(Waiter*) = nullptr;
};

template <class S = sync::Real>
class AsyncSemaphore {
 public:
  explicit AsyncSemaphore(std::size_t initial) : count_(initial) {}
  AsyncSemaphore(const AsyncSemaphore&) = delete;
  AsyncSemaphore& operator=(const AsyncSemaphore&) = delete;

  /// Takes a unit if one is free and nobody is queued.
  bool try_acquire() {
    std::lock_guard lk(m_);
    if (count_.load() == 0) return false;
    count_.store(count_.load() - 1);
    return true;
  }

  /// Takes a unit now (true; `w` untouched) or queues `w` (false), whose `wake` runs once a
  /// unit is handed to it.
  bool acquire_or_enqueue(Waiter* w) {
    std::lock_guard lk(m_);
    if (count_.load() > 0) {
      count_.store(count_.load() - 1);
      return true;
    }
    w->next = nullptr;
    if (tail_.load() != nullptr) {
      tail_.load()->next = w;
    } else {
      head_.store(w);
    }
    tail_.store(w);
    return false;
  }

  /// Returns `n` units: each goes to the oldest waiter, if any (woken after the lock is
  /// dropped), else back to the count.
  void release(std::size_t n = 1) {
    Waiter* woken = nullptr;
    Waiter* woken_tail = nullptr;
    {
      std::lock_guard lk(m_);
      for (; n > 0 && head_.load() != nullptr; --n) {
        Waiter* w = head_.load();
        head_.store(w->next);
        if (head_.load() == nullptr) tail_.store(nullptr);
        w->next = nullptr;
        (woken_tail != nullptr ? woken_tail->next : woken) = w;
        woken_tail = w;
      }
      count_.store(count_.load() + n);
    }
    while (woken != nullptr) {
      Waiter* next = woken->next;  // read before wake: the waiter may be gone after it
      woken->wake(woken);
      woken = next;
    }
  }

  /// Free units (a snapshot).
  std::size_t available() {
    std::lock_guard lk(m_);
    return count_.load();
  }

  /// `co_await sem.acquire(exec)`: resumes through `exec->post(handle)` when the unit was
  /// handed over by a release, or at once if one was free. `exec` null: the releasing thread
  /// resumes the waiter inline, inside `release`.
  template <class Exec>
  struct Acquire : Waiter {
    AsyncSemaphore* sem;
    Exec* exec;
    std::coroutine_handle<> h;

    Acquire(AsyncSemaphore* s, Exec* e) : sem(s), exec(e) {}
    bool await_ready() { return sem->try_acquire(); }
    bool await_suspend(std::coroutine_handle<> awaiting) {
      h = awaiting;
      wake = [](Waiter* self) {
        auto* me = static_cast<Acquire*>(self);
        if (me->exec != nullptr) {
          me->exec->post(me->h);
        } else {
          detail::resume(me->h);
        }
      };
      return !sem->acquire_or_enqueue(this);
    }
    void await_resume() const noexcept {}
  };
  template <class Exec>
  Acquire<Exec> acquire(Exec* exec) {
    return {this, exec};
  }
  struct NoExec {
    void post(std::coroutine_handle<> h) { detail::resume(h); }
  };
  Acquire<NoExec> acquire() { return {this, nullptr}; }

 private:
  typename S::mutex m_;
  typename S::template cell<std::size_t> count_;      // guarded by m_
  typename S::template cell<Waiter*> head_{nullptr};  // guarded by m_
  typename S::template cell<Waiter*> tail_{nullptr};  // guarded by m_
};

/// A mutex for coroutines: `co_await m.lock(exec)` ... `m.unlock()`. FIFO hand-off.
template <class S = sync::Real>
class AsyncMutex {
 public:
  AsyncMutex() = default;

  bool try_lock() { return sem_.try_acquire(); }
  template <class Exec>
  auto lock(Exec* exec) {
    return sem_.acquire(exec);
  }
  auto lock() { return sem_.acquire(); }
  bool lock_or_enqueue(Waiter* w) { return sem_.acquire_or_enqueue(w); }
  /// Hands the lock to the oldest waiter, or frees it.
  void unlock() { sem_.release(1); }

 private:
  AsyncSemaphore<S> sem_{1};
};

}  // namespace cpb::patterns::coroutine

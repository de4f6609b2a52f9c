// SPDX-License-Identifier: Apache-2.0
/// @file
/// A three-state once flag in one atomic word (uninitialized, running, done) with C++20
/// atomic wait/notify: the thread that moves it from uninitialized to running constructs the
/// object, stores done and wakes the waiters; the others sleep on the word until it reads
/// done. This is what `std::call_once` and the compiler's static-local guard do inside
/// (libstdc++'s `__cxa_guard_acquire` uses a futex on the guard word the same way), written
/// against the sync policy so the model checker can check it.
///
/// Progress: blocking on first access (waiters sleep on the word), wait-free afterwards.
/// Memory ordering: the release store of `done` pairs with the acquire load of the fast path
/// and with the acquire of the waiters' `wait`/reload: the construction happens before any
/// use. The winning CAS is acquire (pairs with the release reset of a constructor that threw,
/// so a retry sees its cleanup); the losing CAS reads `running` or `done` with acquire.
/// When to use: as DCLP, without a mutex: one word of state, and waiters sleep in the kernel
/// instead of contending on a lock. When not to use: when a function-local static works.
/// Reference: Drepper, "Futexes are tricky", 2011; libstdc++ `guard.cc`.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>

namespace cpb::patterns::singleton {

template <class T, class S = sync::Real>
class AtomicOnce {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "atomic_once";
  static constexpr Progress kProgress = Progress::kBlocking;

  AtomicOnce() = default;
  AtomicOnce(const AtomicOnce&) = delete;
  AtomicOnce& operator=(const AtomicOnce&) = delete;
  ~AtomicOnce() {
    // Relaxed: destruction happens after every user is done (the owner's responsibility).
    if (state_.load(std::memory_order_relaxed) == kDone) object().~T();
  }

  T& get() {
    // Acquire pairs with the release store of kDone: the construction is visible.
    if (state_.load(std::memory_order_acquire) != kDone) [[unlikely]] {
      initialize();
    }
    return object();
  }

 private:
  static constexpr std::uint32_t kUninit = 0;
  static constexpr std::uint32_t kRunning = 1;
  static constexpr std::uint32_t kDone = 2;

  T& object() { return *std::launder(reinterpret_cast<T*>(storage_)); }

  void initialize() {
    std::uint32_t s = kUninit;
    // Acquire on both outcomes: success pairs with the release reset after a throwing
    // constructor; failure may read kDone (pairs with its release store).
    if (state_.compare_exchange_strong(s, kRunning, std::memory_order_acquire,
                                       std::memory_order_acquire)) {
      try {
        ::new (static_cast<void*>(storage_)) T();
      } catch (...) {
        // Release pairs with the next winner's acquire CAS.
        state_.store(kUninit, std::memory_order_release);
        state_.notify_all();
        throw;
      }
      // Release pairs with the fast path's and the waiters' acquire loads.
      state_.store(kDone, std::memory_order_release);
      state_.notify_all();
      return;
    }
    while (s != kDone) {
      if (s == kUninit) {  // the constructor threw: try to take over
        initialize();
        return;
      }
      // Sleeps while the word reads kRunning. Acquire: see the loop's reload.
      state_.wait(kRunning, std::memory_order_acquire);
      // Acquire pairs with the release store of kDone (or of kUninit after a throw).
      s = state_.load(std::memory_order_acquire);
    }
  }

  typename S::template atomic<std::uint32_t> state_{kUninit};
  alignas(T) std::byte storage_[sizeof(T)];
};

}  // namespace cpb::patterns::singleton

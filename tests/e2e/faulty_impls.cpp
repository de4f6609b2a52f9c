// SPDX-License-Identifier: Apache-2.0
// Deliberately broken locks, linked into a cpbench of their own (cpb_add_plugin). In `run`, one
// crashes the process and one never returns: the run must record both failures, keep what the
// healthy implementations measured, and exit 1. In `check`, the racy one lets two threads in at
// once: the check must fail with exit 1 and print the seed that replays it. Under the model
// checker, the relaxed-unlock lock (corpus entry 22) must fail with exit 1 and a replay string
// that reproduces the same trace.
#include "harness/core/registry.hpp"
#include "patterns/mutex/mutex.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string_view>
#include <thread>

namespace cpb::testing {

struct CrashingLock {
  static constexpr std::string_view kName = "crashing_lock";
  static constexpr Progress kProgress = Progress::kBlocking;
  void lock() { std::abort(); }
  bool try_lock() { return false; }
  void unlock() {}
};

struct HangingLock {
  static constexpr std::string_view kName = "hanging_lock";
  static constexpr Progress kProgress = Progress::kBlocking;
  void lock() {
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  bool try_lock() { return false; }
  void unlock() {}
};

/// Test, then set, in two steps: two threads can both see the lock free.
struct RacyLock {
  static constexpr std::string_view kName = "racy_lock";
  static constexpr Progress kProgress = Progress::kBlocking;
  void lock() {
    // Relaxed everywhere: this lock is wrong on purpose; the orders do not matter.
    while (locked_.load(std::memory_order_relaxed)) std::this_thread::yield();
    std::this_thread::yield();  // widen the window between the test and the set
    locked_.store(true, std::memory_order_relaxed);
  }
  bool try_lock() {
    if (locked_.load(std::memory_order_relaxed)) return false;
    locked_.store(true, std::memory_order_relaxed);
    return true;
  }
  void unlock() { locked_.store(false, std::memory_order_relaxed); }

 private:
  std::atomic<bool> locked_{false};
};

/// Corpus entry 22, as a plug-in: a test-and-set lock whose unlock stores with relaxed order, so
/// the next holder's critical section is not ordered after this one's. Right on x86 hardware
/// (the stress check passes), caught by the model checker as a data race on the guarded data.
template <class S = sync::Real>
struct RelaxedUnlockLock {
  static constexpr std::string_view kName = "relaxed_unlock_lock";
  static constexpr Progress kProgress = Progress::kBlocking;
  void lock() {
    sync::Backoff<S> backoff;
    // Acquire: pairs with nothing, which is the bug (unlock() should release).
    while (locked_.exchange(true, std::memory_order_acquire)) backoff();
  }
  bool try_lock() { return !locked_.exchange(true, std::memory_order_acquire); }  // as lock()
  void unlock() { locked_.store(false, std::memory_order_relaxed); }  // the bug: not release

 private:
  typename S::template atomic<bool> locked_{false};
};

}  // namespace cpb::testing

CPB_REGISTER_IMPL(mutex, cpb::testing::RelaxedUnlockLock<>);
CPB_REGISTER_IMPL(mutex, cpb::testing::CrashingLock);
CPB_REGISTER_IMPL(mutex, cpb::testing::HangingLock);
CPB_REGISTER_IMPL(mutex, cpb::testing::RacyLock);

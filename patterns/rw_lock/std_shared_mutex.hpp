// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `std::shared_mutex` (glibc's `pthread_rwlock_t` on Linux): one reader count in
/// one word that every reader increments and decrements, and futex sleeping for waiters.
///
/// Progress: blocking; waiters sleep in the kernel.
/// When to use: the default reader-writer lock; long or unpredictable sections and
/// oversubscription, where sleeping waiters cost nothing. When not to use: short read
/// sections on many cores: the shared reader count bounces between them (performance-anchors
/// §4.3: pthread_rwlock reads-only costs 38 ns at 1 thread and 249 ns at 4).
#pragma once

#include "harness/core/progress.hpp"

#include <shared_mutex>
#include <string_view>

namespace cpb::patterns::rw_lock {

class StdSharedMutex {
 public:
  static constexpr std::string_view kName = "std_shared_mutex";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  void lock() { m_.lock(); }
  bool try_lock() { return m_.try_lock(); }
  void unlock() { m_.unlock(); }
  void lock_shared() { m_.lock_shared(); }
  bool try_lock_shared() { return m_.try_lock_shared(); }
  void unlock_shared() { m_.unlock_shared(); }

 private:
  std::shared_mutex m_;
};

}  // namespace cpb::patterns::rw_lock

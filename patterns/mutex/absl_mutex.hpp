// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `absl::Mutex` (Abseil 20220623, Debian's libabsl_synchronization). A reader-writer
/// capable mutex that spins briefly, then queues waiters and parks them on a per-thread
/// semaphore (futex).
///
/// Progress: blocking. Left out of the `tsan` build: Debian's shared library is not built with
/// ThreadSanitizer, so TSan cannot see its synchronization and would report false races.
#pragma once

#include "harness/core/progress.hpp"

#include <absl/synchronization/mutex.h>

#include <string_view>

namespace cpb::patterns::mutex {

class AbslMutex {
 public:
  static constexpr std::string_view kName = "absl_mutex";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  void lock() { m_.Lock(); }
  bool try_lock() { return m_.TryLock(); }
  void unlock() { m_.Unlock(); }

 private:
  absl::Mutex m_;
};

}  // namespace cpb::patterns::mutex

// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `std::mutex` (glibc's futex-based pthread mutex on Linux).
///
/// Progress: blocking. Waiters sleep in the kernel after a short spin.
/// When to use: the default. Sleeping waiters cost nothing while they wait.
#pragma once

#include "harness/core/progress.hpp"

#include <mutex>
#include <string_view>

namespace cpb::patterns::mutex {

class StdMutex {
 public:
  static constexpr std::string_view kName = "std_mutex";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  void lock() { m_.lock(); }
  bool try_lock() { return m_.try_lock(); }
  void unlock() { m_.unlock(); }

 private:
  std::mutex m_;
};

}  // namespace cpb::patterns::mutex

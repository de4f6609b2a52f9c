// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: oneTBB's `tbb::spin_mutex`, a test-and-set lock with exponential back-off that
/// yields the CPU after a bounded spin.
///
/// Progress: blocking (spins; no kernel sleep).
#pragma once

#include "harness/core/progress.hpp"

#include <oneapi/tbb/spin_mutex.h>

#include <string_view>

namespace cpb::patterns::mutex {

class TbbSpinMutex {
 public:
  static constexpr std::string_view kName = "tbb_spin_mutex";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  void lock() { m_.lock(); }
  bool try_lock() { return m_.try_lock(); }
  void unlock() { m_.unlock(); }

 private:
  tbb::spin_mutex m_;
};

}  // namespace cpb::patterns::mutex

// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: oneTBB's `tbb::spin_rw_mutex`: one word (writer bit, writer-pending bit, reader
/// count), writer-preferring, spinning with oneTBB's exponential back-off that yields after a
/// bounded spin. Its lock and unlock are header-only in oneTBB 2021.8 (seq_cst atomics on the
/// word; only the ITT profiling hooks of debug builds call into libtbb), so ThreadSanitizer
/// sees its synchronization and it runs under the `tsan` preset too.
///
/// Progress: blocking (spins; no kernel sleep).
/// When to use: short sections, threads ≤ cores.
#pragma once

#include "harness/core/progress.hpp"

#include <oneapi/tbb/spin_rw_mutex.h>

#include <string_view>

namespace cpb::patterns::rw_lock {

class TbbSpinRwMutex {
 public:
  static constexpr std::string_view kName = "tbb_spin_rw_mutex";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  void lock() { m_.lock(); }
  bool try_lock() { return m_.try_lock(); }
  void unlock() { m_.unlock(); }
  void lock_shared() { m_.lock_shared(); }
  bool try_lock_shared() { return m_.try_lock_shared(); }
  void unlock_shared() { m_.unlock_shared(); }

 private:
  tbb::spin_rw_mutex m_;
};

}  // namespace cpb::patterns::rw_lock

// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `std::counting_semaphore<>` (libstdc++ 12: an atomic count, a CAS to take a
/// permit, spinning then `atomic::wait` on the count, which sleeps on a futex).
///
/// Progress: blocking.
///
/// Known bug (found by this family's `mutual_exclusion` stress check, about one run in three
/// with a 2 s budget): libstdc++ 12's `__atomic_semaphore` loads the count, spins on
/// try-acquire, then sleeps on the futex with the value it loaded *before* spinning. If the
/// count went 1 → 0 → 1 meanwhile (another thread took a permit and gave it back; that release
/// saw a count of 0 and notified while nobody slept yet), the waiter sleeps with a permit free,
/// and `release` notifies only on a 0 → positive transition, so it is woken only if the count
/// drops to 0 again. When the other threads stop, it sleeps for good. PyTorch stopped using
/// `std::counting_semaphore` on libstdc++ for the same lost wake-up (pytorch/pytorch#177884,
/// which cites GCC bugzilla 98033).
#pragma once

#include "harness/core/progress.hpp"

#include <cstddef>
#include <semaphore>
#include <string_view>

namespace cpb::patterns::semaphore {

class StdCountingSemaphore {
 public:
  static constexpr std::string_view kName = "std_counting_semaphore";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  /// Tests that would hang on the lost wake-up above skip this implementation with this reason.
  static constexpr std::string_view kKnownBug =
      "libstdc++ 12 std::counting_semaphore can sleep with a permit free (a lost wake-up); the "
      "registered check finds it, see std_counting_semaphore.hpp";

  explicit StdCountingSemaphore(std::ptrdiff_t initial) : s_(initial) {}

  void acquire() { s_.acquire(); }
  bool try_acquire() { return s_.try_acquire(); }
  void release(std::ptrdiff_t n = 1) { s_.release(n); }

 private:
  std::counting_semaphore<> s_;
};

}  // namespace cpb::patterns::semaphore

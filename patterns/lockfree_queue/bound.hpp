// SPDX-License-Identifier: Apache-2.0
/// @file
/// What a queue's `try_push` promises about refusing: the `kBound` trait of every queue.
/// `capacity()` reports the exact capacity of a `kExact` queue, the guaranteed one of a
/// `kAtLeast` queue, the most a `kAtMost` queue holds, and 0 for an unbounded one.
#pragma once

#include <string_view>

namespace cpb::patterns::lockfree_queue {

enum class Bound {
  kExact,    ///< refuses exactly when `capacity()` elements are queued
  kAtLeast,  ///< refuses only when at least `capacity()` elements are queued
  /// Never holds more than `capacity()` elements; with no pop in flight it refuses exactly when
  /// that many are queued, but an element whose pop is under way may still count (a node pool
  /// that gets the node back only when the pop ends), so it may refuse with fewer.
  kAtMost,
  kUnbounded,  ///< never refuses (short of memory); `capacity()` is 0
};

constexpr std::string_view to_string(Bound b) {
  switch (b) {
    case Bound::kExact:
      return "exact";
    case Bound::kAtLeast:
      return "at least";
    case Bound::kAtMost:
      return "at most";
    case Bound::kUnbounded:
      return "unbounded";
  }
  return "unknown";
}

}  // namespace cpb::patterns::lockfree_queue

// SPDX-License-Identifier: Apache-2.0
/// @file
/// What a queue's `try_push` promises about refusing: the `kBound` trait of every queue.
/// `capacity()` reports the exact capacity of a `kExact` queue, the guaranteed one of a
/// `kAtLeast` queue, and 0 for an unbounded one.
#pragma once

#include <string_view>

namespace cpb::patterns::lockfree_queue {

enum class Bound {
  kExact,      ///< refuses exactly when `capacity()` elements are queued
  kAtLeast,    ///< refuses only when at least `capacity()` elements are queued
  kUnbounded,  ///< never refuses (short of memory); `capacity()` is 0
};

constexpr std::string_view to_string(Bound b) {
  switch (b) {
    case Bound::kExact:
      return "exact";
    case Bound::kAtLeast:
      return "at least";
    case Bound::kUnbounded:
      return "unbounded";
  }
  return "unknown";
}

}  // namespace cpb::patterns::lockfree_queue

// SPDX-License-Identifier: Apache-2.0
/// @file
/// What a queue's `try_push` promises about refusing: the `kBound` trait of every queue.
/// `capacity()` reports the exact capacity of a `kExact` queue, and 0 for the others.
#pragma once

#include <string_view>

namespace cpb::patterns::lockfree_queue {

enum class Bound {
  kExact,      ///< refuses exactly when `capacity()` elements are queued
  kAtLeast,    ///< refuses only when full, and holds at least the capacity asked for
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

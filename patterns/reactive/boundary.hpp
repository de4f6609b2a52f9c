// SPDX-License-Identifier: Apache-2.0
/// @file
/// What an asynchronous boundary reports after a stream: offered, delivered, dropped, and the
/// peak it held.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace cpb::patterns::reactive {

struct BoundaryStats {
  std::uint64_t offered = 0;    ///< offers the producer made
  std::uint64_t delivered = 0;  ///< onNext signals
  std::uint64_t dropped = 0;    ///< items dropped or evicted by the policy, or discarded at failure
  std::uint64_t refused = 0;    ///< offers refused (kFailed, kTerminated)
  std::uint64_t peak_items = 0;  ///< most items queued at once
  std::uint64_t peak_bytes = 0;  ///< peak_items x the item's size (the payload held)
};

inline std::size_t checked_capacity(std::size_t capacity) {
  if (capacity == 0) throw std::invalid_argument("a boundary of capacity 0");
  return capacity;
}

}  // namespace cpb::patterns::reactive

// SPDX-License-Identifier: Apache-2.0
/// @file
/// The channel family's shared vocabulary: the try-receive status, the select result, the
/// capacity of an unbounded channel, and the polling `select` that the implementations without a
/// native select (the Boost channels, the mutex+deque floor) use.
#pragma once

#include "harness/core/sync.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace cpb::patterns::channel {

/// `C c(kUnbounded)` builds an unbounded channel (where the implementation has one).
inline constexpr std::size_t kUnbounded = std::numeric_limits<std::size_t>::max();

/// What a non-blocking receive found.
enum class Recv {
  kOk,      ///< an item was taken
  kEmpty,   ///< nothing there now; the channel is open
  kClosed,  ///< closed and drained: nothing will ever come
};

/// What `select` received: the index of the channel, and `ok` false when that channel is closed
/// and drained (the receive of a closed channel is ready at once, as in Go).
struct Selected {
  std::size_t index = 0;
  bool ok = false;
};

/// True for an implementation whose receive after close() with a parked sender is unsafe
/// (boost_unbuffered: see there).
template <class C>
constexpr bool stale_slot_after_close() {
  if constexpr (requires { C::kStaleSlotAfterClose; }) {
    return C::kStaleSlotAfterClose;
  } else {
    return false;
  }
}

/// Throws std::invalid_argument when an implementation is asked for a kind it does not have.
inline void unsupported_capacity(std::string_view impl, std::size_t capacity) {
  throw std::invalid_argument(
      std::string(impl) + ": no channel of capacity " +
      (capacity == kUnbounded ? std::string("unbounded") : std::to_string(capacity)));
}

/// `select` by polling: try_recv on each channel from `start` round the list; when none is
/// ready, back off (pause, then yield, then sleep 20 µs) and poll again. For channels with no
/// wait queue a select can join. Fair by the caller's rotating `start`.
template <class C>
Selected poll_select(std::span<C* const> chans, std::uint64_t& out, std::size_t start) {
  const std::size_t n = chans.size();
  if (n == 0) throw std::invalid_argument("select over no channels");
  for (unsigned round = 0;; ++round) {
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = (start + k) % n;
      switch (chans[i]->try_recv(out)) {
        case Recv::kOk:
          return {i, true};
        case Recv::kClosed:
          return {i, false};
        case Recv::kEmpty:
          break;
      }
    }
    if (round < 16) {
      sync::Real::pause();
    } else if (round < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }
}

}  // namespace cpb::patterns::channel

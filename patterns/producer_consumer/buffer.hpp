// SPDX-License-Identifier: Apache-2.0
/// @file
/// The vocabulary every bounded buffer of the `producer_consumer` family shares: the
/// backpressure `Policy` chosen at construction, the `Pushed` outcome of a push, the timeout
/// type of `consume_batch`, and the capacity check of every constructor.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cpb::patterns::producer_consumer {

/// What `push` does when the buffer is full.
enum class Policy {
  kBlock,       ///< wait until there is room (or the buffer is closed)
  kReject,      ///< refuse the item with an error (`Pushed::kRejected`); the caller keeps it
  kDropOldest,  ///< evict the oldest buffered item, hand it to the caller's sink, take the new
  kDropNewest,  ///< discard the incoming item (`Pushed::kDropped`); nothing buffered is lost
};

constexpr std::string_view to_string(Policy p) {
  switch (p) {
    case Policy::kBlock:
      return "block";
    case Policy::kReject:
      return "reject";
    case Policy::kDropOldest:
      return "drop_oldest";
    case Policy::kDropNewest:
      return "drop_newest";
  }
  return "unknown";
}

/// The outcome of one `push`.
enum class Pushed : std::uint8_t {
  kAccepted,  ///< buffered (under kDropOldest it may have evicted older items into the sink)
  kRejected,  ///< kReject, full: not buffered; an error the caller must handle
  kDropped,   ///< kDropNewest, full: discarded
  kClosed,    ///< the buffer was closed: not buffered
};

using Clock = std::chrono::steady_clock;
using Timeout = std::chrono::nanoseconds;
/// `consume_batch` waits without a deadline.
inline constexpr Timeout kForever = Timeout::max();

/// The deadline `timeout` from now; `time_point::max()` for kForever (no overflow).
inline Clock::time_point deadline_after(Timeout timeout) {
  const Clock::time_point now = Clock::now();
  if (timeout >= Clock::time_point::max() - now) return Clock::time_point::max();
  return now + std::chrono::duration_cast<Clock::duration>(timeout);
}

/// Every constructor's check: a buffer must hold at least one item.
inline std::size_t checked_capacity(std::size_t capacity, std::string_view who) {
  if (capacity == 0) {
    throw std::invalid_argument(std::string(who) + ": a buffer's capacity must be at least 1");
  }
  return capacity;
}

/// A sink for evicted items that keeps nothing.
struct DiscardEvicted {
  void operator()(std::uint64_t /*evicted*/) const {}
};

}  // namespace cpb::patterns::producer_consumer

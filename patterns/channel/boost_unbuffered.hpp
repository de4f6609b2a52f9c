// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `boost::fibers::unbuffered_channel<std::uint64_t>` (a rendezvous channel), used from
/// plain threads as boost_buffered is. Capacity 0 only. It has no try_pop: the polling `select`
/// tries `pop_wait_until(now)`, which returns at once with `timeout` when no sender waits.
///
/// Progress: blocking.
/// Memory ordering: Boost's own (spinlocks, acq_rel CAS on the waiter's status).
/// When to use: rendezvous between fibers. When not to use: buffered or unbounded channels.
/// Reference: Boost.Fiber documentation, "Channels"
/// (https://www.boost.org/doc/libs/release/libs/fiber/doc/html/fiber/synchronization/channels.html).
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/channel/status.hpp"

#include <boost/fiber/channel_op_status.hpp>
#include <boost/fiber/unbuffered_channel.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace cpb::patterns::channel {

class BoostUnbuffered {
 public:
  static constexpr std::string_view kName = "boost_unbuffered";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  static constexpr bool kRendezvous = true;
  static constexpr bool kBounded = false;
  static constexpr bool kUnbounded = false;
  static constexpr bool kNativeSelect = false;
  /// Boost 1.74: close() leaves a parked sender's slot in the channel; the sender returns
  /// `closed`, and a later pop dereferences the slot on that sender's (gone) stack: a segfault
  /// here. The tests skip receiving after such a close (README, "Known problems").
  static constexpr bool kStaleSlotAfterClose = true;

  explicit BoostUnbuffered(std::size_t capacity) {
    if (capacity != 0) unsupported_capacity(kName, capacity);
  }

  bool send(std::uint64_t v) { return c_.push(v) == boost::fibers::channel_op_status::success; }
  bool recv(std::uint64_t& out) { return c_.pop(out) == boost::fibers::channel_op_status::success; }
  Recv try_recv(std::uint64_t& out) {
    switch (c_.pop_wait_until(out, std::chrono::steady_clock::now())) {
      case boost::fibers::channel_op_status::success:
        return Recv::kOk;
      case boost::fibers::channel_op_status::closed:
        return Recv::kClosed;
      default:
        return Recv::kEmpty;
    }
  }
  void close() { c_.close(); }

  static Selected select(std::span<BoostUnbuffered* const> chans, std::uint64_t& out,
                         std::size_t start) {
    return poll_select(chans, out, start);
  }

 private:
  boost::fibers::unbuffered_channel<std::uint64_t> c_;
};

}  // namespace cpb::patterns::channel

// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `boost::fibers::buffered_channel<std::uint64_t>`, used from plain threads (each
/// thread's main fiber; a blocked thread suspends into Boost.Fiber's per-thread scheduler,
/// which sleeps on a condition variable). Bounded only: the ring keeps one slot free and wants a
/// power-of-two size, so a channel of capacity c gets the smallest power of two above c (it
/// holds that minus one: at least c). `select` polls `try_pop` (`poll_select`).
///
/// Progress: blocking (spinlocks, then the fiber scheduler's suspend).
/// Memory ordering: Boost's own (spinlocks, acq_rel CAS on the waiter's status).
/// When to use: channels between fibers, where a block is a fiber switch; from threads it pays
/// for the scheduler. When not to use: rendezvous (see boost_unbuffered), unbounded channels.
/// Reference: Boost.Fiber documentation, "Channels"
/// (https://www.boost.org/doc/libs/release/libs/fiber/doc/html/fiber/synchronization/channels.html).
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/channel/status.hpp"

#include <boost/fiber/buffered_channel.hpp>
#include <boost/fiber/channel_op_status.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace cpb::patterns::channel {

class BoostBuffered {
 public:
  static constexpr std::string_view kName = "boost_buffered";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  static constexpr bool kRendezvous = false;
  static constexpr bool kBounded = true;
  static constexpr bool kUnbounded = false;
  static constexpr bool kNativeSelect = false;

  explicit BoostBuffered(std::size_t capacity) : c_(slots(capacity)) {}

  bool send(std::uint64_t v) { return c_.push(v) == boost::fibers::channel_op_status::success; }
  bool recv(std::uint64_t& out) { return c_.pop(out) == boost::fibers::channel_op_status::success; }
  Recv try_recv(std::uint64_t& out) {
    switch (c_.try_pop(out)) {
      case boost::fibers::channel_op_status::success:
        return Recv::kOk;
      case boost::fibers::channel_op_status::closed:
        return Recv::kClosed;
      default:
        return Recv::kEmpty;
    }
  }
  void close() { c_.close(); }

  static Selected select(std::span<BoostBuffered* const> chans, std::uint64_t& out,
                         std::size_t start) {
    return poll_select(chans, out, start);
  }

 private:
  static std::size_t slots(std::size_t capacity) {
    if (capacity == 0 || capacity == kUnbounded || capacity > (std::size_t{1} << 40)) {
      unsupported_capacity(kName, capacity);
    }
    return std::bit_ceil(capacity + 1);
  }

  boost::fibers::buffered_channel<std::uint64_t> c_;
};

}  // namespace cpb::patterns::channel

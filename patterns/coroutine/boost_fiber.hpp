// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline, the stackful alternative: Boost.Fiber (user-mode threads with their own stacks on
/// Boost.Context, the default round-robin scheduler of the calling thread). There is nothing to
/// await: a fiber calls and blocks like a thread, and blocking switches to another fiber. So:
/// - await_chain: a fiber makes a chain of `depth` nested calls (what an await chain is to a
///   stackful coroutine: plain calls, no frame allocation, no switch);
/// - timers: `n` fibers, each `this_fiber::sleep_for(delay)`, joined; each fiber gets a
///   32 KiB `fixedsize_stack` (the default, 64 KiB... per fiber, is 6.4 GB of stacks for 100,000
///   fibers; the size is the one setting this adapter makes);
/// - ping_pong: two fibers exchange a value through two `buffered_channel`s.
/// Fibers run on the driver thread (one scheduler per thread; the multi-thread work-stealing
/// algorithm is not used), so this adapter has one worker whatever the thread axis says.
///
/// Progress: blocking (fiber-blocking: a waiting fiber holds no thread).
/// Memory ordering: Boost.Fiber's; all fibers here share one thread.
/// When to use: blocking-style code (including calls into libraries that were not written as
/// coroutines) with many cheap concurrent activities. When not to use: hundreds of thousands
/// of mostly idle tasks where stack memory matters.
/// Reference: Boost.Fiber 1.74 documentation (Oliver Kowalke); N4024, "Distinguishing
/// coroutines and fibers" (Kowalke, Goodspeed).
#pragma once

#include "harness/core/progress.hpp"

#include <boost/fiber/buffered_channel.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/fixedsize_stack.hpp>
#include <boost/fiber/operations.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace cpb::patterns::coroutine {

class BoostFiber {
 public:
  static constexpr std::string_view kName = "boost_fiber";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  static constexpr bool kMultiWorker = false;
  static constexpr std::size_t kStackBytes = 32 * 1024;

  explicit BoostFiber(std::size_t /*workers*/) {}

  std::uint64_t await_chain(std::uint64_t depth, std::uint64_t v) {
    std::uint64_t out = 0;
    boost::fibers::fiber f([&] { out = chain(depth, v); });
    f.join();
    return out;
  }

  std::uint64_t timers(std::uint64_t n, std::int64_t delay_us) {
    std::uint64_t done = 0;  // all fibers run on this thread
    std::vector<boost::fibers::fiber> fibers;
    fibers.reserve(n);
    const auto d = std::chrono::microseconds(delay_us);
    for (std::uint64_t i = 0; i < n; ++i) {
      fibers.emplace_back(std::allocator_arg, boost::fibers::fixedsize_stack(kStackBytes),
                          [&done, d] {
                            boost::this_fiber::sleep_for(d);
                            ++done;
                          });
    }
    for (auto& f : fibers) f.join();
    return done;
  }

  std::uint64_t ping_pong(std::uint64_t rounds) {
    boost::fibers::buffered_channel<std::uint64_t> ab(2);
    boost::fibers::buffered_channel<std::uint64_t> ba(2);
    std::uint64_t count = 0;
    boost::fibers::fiber ponger([&] {
      std::uint64_t v = 0;
      for (std::uint64_t r = 0; r < rounds; ++r) {
        ab.pop(v);
        ++count;
        ba.push(v);
      }
    });
    boost::fibers::fiber pinger([&] {
      std::uint64_t v = 0;
      for (std::uint64_t r = 0; r < rounds; ++r) {
        ab.push(r);
        ba.pop(v);
        ++count;
      }
    });
    pinger.join();
    ponger.join();
    return count;
  }

 private:
  // noinline: a real call per level, as an await chain has a frame per level.
  [[gnu::noinline]] static std::uint64_t chain(std::uint64_t depth, std::uint64_t v) {
    if (depth == 0) return v;
    const std::uint64_t r = chain(depth - 1, v) + 1;
    asm volatile("" ::: "memory");  // keeps the call from becoming a loop
    return r;
  }
};

}  // namespace cpb::patterns::coroutine

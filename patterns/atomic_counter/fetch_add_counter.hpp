// SPDX-License-Identifier: Apache-2.0
/// @file
/// One shared atomic word incremented with `fetch_add` (`lock xadd` on x86): the plain
/// answer. Every increment takes the word's cache line exclusive, so under contention the
/// line moves between cores on every operation and throughput stays at about one increment
/// per line transfer whatever the thread count.
///
/// Progress: wait-free (one hardware RMW per operation).
/// Memory ordering: relaxed everywhere. The counter publishes no other data, and RMWs on one
/// location are totally ordered (its modification order) and each reads the latest value, so
/// the counter is linearizable without any fence; a caller that uses the count to publish data
/// must add its own release/acquire.
/// When to use: counts read often, or fetch_add's return value needed (tickets, indices).
/// When not to use: hot counters bumped by many cores and read rarely: shard them.
/// Reference: Herlihy & Shavit, The Art of Multiprocessor Programming, ch. 5 (consensus
/// number of fetch-and-add).
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"

#include <atomic>
#include <cstdint>
#include <string_view>

namespace cpb::patterns::atomic_counter {

template <class S = sync::Real>
class FetchAddCounter {
 public:
  static constexpr std::string_view kName = "fetch_add_counter";
  static constexpr Progress kProgress = Progress::kWaitFree;

  FetchAddCounter() = default;
  FetchAddCounter(const FetchAddCounter&) = delete;
  FetchAddCounter& operator=(const FetchAddCounter&) = delete;

  /// Adds `d`; returns the value before.
  std::int64_t fetch_add(std::int64_t d) {
    // Relaxed: see the file comment (the counter orders nothing but itself).
    return v_.fetch_add(d, std::memory_order_relaxed);
  }
  void add(std::int64_t d) { (void)fetch_add(d); }
  std::int64_t load() {
    // Relaxed: see the file comment.
    return v_.load(std::memory_order_relaxed);
  }

 private:
  alignas(64) typename S::template atomic<std::int64_t> v_{0};
};

}  // namespace cpb::patterns::atomic_counter

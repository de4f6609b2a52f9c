// SPDX-License-Identifier: Apache-2.0
/// @file
/// The CAS pattern on a counter: read the word, compute the new value, `compare_exchange`
/// it in, retry with the value the failed CAS returned; back off after a failure so that
/// contending threads stop invalidating each other's line. It is what every read-modify-write
/// that the hardware lacks (max, saturating add, multiply) must do, shown on the one that
/// the hardware has, so its cost is comparable with `fetch_add`.
///
/// Progress: lock-free (a CAS fails only because another succeeded).
/// Memory ordering: relaxed everywhere, as fetch_add_counter.hpp: the counter publishes
/// nothing, and a successful CAS is an RMW in the word's modification order, so the counter
/// is linearizable.
/// When to use: a read-modify-write with no single instruction. When not to use: plain
/// increments, where `fetch_add` never retries.
/// Reference: Herlihy & Shavit, The Art of Multiprocessor Programming, §7.4 (back-off).
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"

#include <atomic>
#include <cstdint>
#include <string_view>

namespace cpb::patterns::atomic_counter {

template <class S = sync::Real>
class CasLoopCounter {
 public:
  static constexpr std::string_view kName = "cas_loop_counter";
  static constexpr Progress kProgress = Progress::kLockFree;

  CasLoopCounter() = default;
  CasLoopCounter(const CasLoopCounter&) = delete;
  CasLoopCounter& operator=(const CasLoopCounter&) = delete;

  /// Adds `d`; returns the value before.
  std::int64_t fetch_add(std::int64_t d) {
    sync::Backoff<S> backoff;
    // Relaxed: a first guess; the CAS checks it.
    std::int64_t v = v_.load(std::memory_order_relaxed);
    // Relaxed on success and failure: see the file comment. A failure reloads v.
    while (
        !v_.compare_exchange_weak(v, v + d, std::memory_order_relaxed, std::memory_order_relaxed)) {
      backoff();
    }
    return v;
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

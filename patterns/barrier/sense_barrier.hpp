// SPDX-License-Identifier: Apache-2.0
/// @file
/// Centralized sense-reversing barrier: arrivals increment one counter; the last to arrive
/// resets it and reverses the sense, which releases the waiters spinning (then sleeping) on it.
///
/// The sense is a 32-bit episode word whose "reversal" is an increment: a waiter reads it when
/// it arrives and waits until it differs. That is the classic local-sense scheme without the
/// thread-local flag (a thread reads its sense from the word, which cannot change between the
/// read and its arrival, since the episode cannot end without it), and a 32-bit word lets
/// waiters sleep on it with a futex: a waiter spins briefly, then polls between yields, then
/// parks, and the last arriver makes the wake-up syscall only when someone sleeps. (The yield
/// phase is what keeps hand-offs fast on a loaded machine, where a futex wake-up took 90-250 µs
/// in the calibration probe: `barrier/*/episodes` at 2 threads, no skew, went from 0.3×
/// `std_barrier` to 18×, see README.)
///
/// Progress: blocking.
/// Memory ordering: each arrival's acq_rel fetch_add releases its writes into the counter's
/// release sequence; the last arriver's fetch_add acquires them all, and its release (seq_cst)
/// store of the sense publishes them, with its own, to every waiter's acquire load. The counter
/// reset is relaxed: it is published by that same store. Parking is a Dekker pair, seq_cst on
/// both sides: a sleeper increments `sleepers_` and re-reads the sense; the last arriver stores
/// the sense and then reads `sleepers_`.
/// When to use: few threads (all arrivals serialize on one cache line, and one store releases
/// everyone). When not to use: many cores, where the counter line and the wake-up broadcast
/// become the bottleneck (use a tree or dissemination barrier).
/// Reference: Mellor-Crummey & Scott, ACM TOCS 1991, §3.1 (sense-reversing centralized
/// barrier); Herlihy & Shavit, "The Art of Multiprocessor Programming", §17.3.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/mutex/futex.hpp"

#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cpb::patterns::barrier {

template <class S = sync::Real>
class SenseBarrier {
 public:
  static constexpr std::string_view kName = "sense_barrier";
  static constexpr Progress kProgress = Progress::kBlocking;

  explicit SenseBarrier(std::ptrdiff_t parties) : parties_(static_cast<std::uint32_t>(parties)) {}
  SenseBarrier(const SenseBarrier&) = delete;
  SenseBarrier& operator=(const SenseBarrier&) = delete;

  void arrive_and_wait() {
    // Relaxed: the sense cannot change before we arrive (the episode needs us); the acquire
    // loads below are what synchronize.
    const std::uint32_t sense = sense_.load(std::memory_order_relaxed);
    // acq_rel: releases our writes into the counter's release sequence; the last arriver's
    // acquire half collects every arrival's writes.
    if (count_.fetch_add(1, std::memory_order_acq_rel) + 1 == parties_) {
      // Relaxed: published by the sense store below; no one arrives at the next episode before
      // seeing that store.
      count_.store(0, std::memory_order_relaxed);
      // seq_cst: the release edge to every waiter's acquire load, and the first half of the
      // Dekker pair with wait_for().
      sense_.store(sense + 1, std::memory_order_seq_cst);
      // seq_cst: the second half of the Dekker pair.
      if (sleepers_.load(std::memory_order_seq_cst) != 0) mutex::futex_wake<S>(sense_, INT_MAX);
      return;
    }
    wait_for(sense);
  }

 private:
  void wait_for(std::uint32_t sense) {
    for (int i = 0; i < mutex::spin_bound<S>(kSpins); ++i) {
      // Acquire pairs with the last arriver's store of the sense.
      if (sense_.load(std::memory_order_acquire) != sense) return;
      S::pause();
    }
    // Then poll between yields: on a loaded machine the last arriver may not be running yet,
    // and a runnable waiter gets the CPU back sooner than a sleeping one is woken.
    for (int i = 0; i < mutex::spin_bound<S>(kYields); ++i) {
      S::yield();
      // Acquire pairs with the last arriver's store of the sense.
      if (sense_.load(std::memory_order_acquire) != sense) return;
    }
    for (;;) {
      // seq_cst: the Dekker pair with the last arriver (see the file comment).
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      if (sense_.load(std::memory_order_seq_cst) == sense) mutex::futex_wait<S>(sense_, sense);
      // Relaxed: a count only; a stale non-zero costs one needless wake-up.
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
      // Acquire pairs with the last arriver's store of the sense.
      if (sense_.load(std::memory_order_acquire) != sense) return;
    }
  }

  static constexpr int kSpins = 32;   ///< pause polls before yielding (about 1 µs)
  static constexpr int kYields = 32;  ///< yield polls before sleeping
  const std::uint32_t parties_;
  alignas(64) typename S::template atomic<std::uint32_t> count_{0};
  alignas(64) typename S::template atomic<std::uint32_t> sense_{0};
  typename S::template atomic<std::uint32_t> sleepers_{0};
};

}  // namespace cpb::patterns::barrier

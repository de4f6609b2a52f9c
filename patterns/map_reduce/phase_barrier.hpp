// SPDX-License-Identifier: Apache-2.0
/// @file
/// `PhaseBarrier<S>`: the reusable barrier between the phases of `ShuffleEngine` (start, map →
/// reduce, end). Arrivals count down one atomic; the last to arrive resets the count and bumps
/// the phase number, which releases the others. A waiter spins briefly on the phase number
/// (`sync::Backoff`: pause, then yield), then parks on a condition variable, so workers idle
/// between runs sleep instead of spinning on an oversubscribed machine.
///
/// Progress: blocking.
/// Memory ordering: every arrival's acq_rel `fetch_sub` continues the release sequence of the
/// count, so the last arriver's `fetch_sub` acquires every earlier arrival's writes; its release
/// store of the phase (seq_cst here) publishes them, with its own, to the waiters' acquire loads
/// of the phase. That is the shuffle hand-off: a worker's partition buffers, written before its
/// arrival, are visible to every reducer after the barrier. The count reset is relaxed: the
/// phase store publishes it. Parking cannot miss the release: a waiter re-reads the phase under
/// the mutex before it sleeps, and the last arriver takes the same mutex after its phase store
/// and before it notifies.
/// When to use: a few coarse phases (milliseconds each) over a handful of threads. When not to
/// use: fine-grained phases on many cores (a tree or dissemination barrier; see the `barrier`
/// family).
/// Reference: Mellor-Crummey & Scott, ACM TOCS 1991, §3.1 (centralized barrier); Herlihy &
/// Shavit, "The Art of Multiprocessor Programming", §17.3.
#pragma once

#include "harness/core/sync.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>

namespace cpb::patterns::map_reduce {

template <class S = sync::Real>
class PhaseBarrier {
 public:
  static constexpr int kDefaultSpins = 12;  // Backoff steps: ~64 pauses, then 6 yields

  /// A barrier for `parties` threads (at least 1) that spin `spins` Backoff steps before parking.
  explicit PhaseBarrier(std::size_t parties, int spins = kDefaultSpins)
      : parties_(static_cast<std::uint32_t>(parties)), spins_(spins), left_(parties_) {
    if (parties == 0) throw std::invalid_argument("a barrier needs at least 1 party");
  }

  /// Waits until all `parties` threads have arrived in this phase; everything each of them did
  /// before arriving is visible to each of them afterwards.
  void arrive_and_wait() {
    // Relaxed: the phase cannot advance before this thread arrives; the acquire below (or the
    // mutex) orders what the other arrivals did.
    const std::uint32_t phase = phase_.load(std::memory_order_relaxed);
    // acq_rel: releases this thread's writes into the count's release sequence, and (for the
    // last arriver) acquires all the earlier arrivals' writes.
    if (broken_.load()) return;
    if (left_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      // Relaxed: published by the phase store below, which the next phase's arrivals acquire.
      left_.store(parties_, std::memory_order_relaxed);
      phase_.store(phase + 1);           // seq_cst (release): pairs with the waiters' acquire loads
      { const std::lock_guard lk(m_); }  // a waiter between its check and its wait holds m_
      cv_.notify_all();
      return;
    }
    sync::Backoff<S> backoff;
    for (int i = 0; i < spins_; ++i) {
      // Acquire: pairs with the last arriver's phase store.
      if (phase_.load(std::memory_order_acquire) != phase || broken_.load()) return;
      backoff();
    }
    std::unique_lock lk(m_);
    // Acquire: pairs with the last arriver's phase store (the mutex alone orders it too).
    while (phase_.load(std::memory_order_acquire) == phase && !broken_.load()) cv_.wait(lk);
  }

  /// Breaks the barrier: releases every waiter now, and every later `arrive_and_wait` returns
  /// at once. Everything the caller did before is visible to a thread that sees `broken()`.
  /// For shutting down threads that wait for a phase that will not come.
  void break_barrier() {
    broken_.store(true);               // seq_cst: pairs with the waiters' loads
    { const std::lock_guard lk(m_); }  // a waiter between its check and its wait holds m_
    cv_.notify_all();
  }

  [[nodiscard]] bool broken() const { return broken_.load(); }

 private:
  const std::uint32_t parties_;
  const int spins_;
  typename S::template atomic<std::uint32_t> left_;
  typename S::template atomic<std::uint32_t> phase_{0};
  typename S::template atomic<bool> broken_{false};
  typename S::mutex m_;
  typename S::condition_variable cv_;
};

}  // namespace cpb::patterns::map_reduce

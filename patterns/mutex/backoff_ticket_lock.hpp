// SPDX-License-Identifier: Apache-2.0
/// @file
/// Ticket lock with proportional back-off, whose distant waiters sleep.
///
/// As in `ticket_lock`, a thread takes a ticket with fetch_add and the lock is granted in ticket
/// order. A waiter `k` places from the front backs off in proportion to `k` between polls of
/// `serving_` (Mellor-Crummey & Scott's proportional back-off), and a waiter two or more places
/// back that has polled a few times sleeps on `serving_` (futex) instead of spinning or
/// yielding. The next in line spins, then yields. So with more threads than CPUs the CPUs go to
/// the holder and the next in line, not to waiters that cannot get the lock yet, which is what
/// makes the plain ticket lock collapse there. `unlock` wakes the sleepers when there are any
/// (one syscall per release while someone sleeps; none otherwise).
///
/// Progress: blocking; FIFO (starvation-free).
/// Memory ordering: the acquire load of `serving_` that sees our ticket pairs with the release
/// store in `unlock`; the ticket fetch_add is relaxed (it orders nothing by itself). Sleeping
/// uses a Dekker pair that must be seq_cst on both sides: the sleeper increments `sleepers_`
/// and then re-reads `serving_`; `unlock` stores `serving_` and then reads `sleepers_`. One of
/// the two sees the other, so a sleeper is never left asleep behind an advanced `serving_`.
/// When to use: fairness (bounded waiting) with threads that may outnumber cores.
/// When not to use: short sections under heavy contention on few cores, where an unfair lock
/// lets the releasing thread take the lock again while its cache line is hot.
/// Reference: Mellor-Crummey & Scott, ACM TOCS 1991, §2.2 (ticket lock with proportional
/// back-off); the sleeping waiters follow the futex pattern of Drepper, "Futexes Are Tricky".
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/mutex/futex.hpp"

#include <atomic>
#include <climits>
#include <cstdint>
#include <string_view>

namespace cpb::patterns::mutex {

template <class S = sync::Real>
class BackoffTicketLock {
 public:
  static constexpr std::string_view kName = "backoff_ticket_lock";
  static constexpr Progress kProgress = Progress::kBlocking;

  void lock() {
    // Relaxed: the ticket only fixes our place in line; the acquire below synchronizes.
    const std::uint32_t ticket = next_.fetch_add(1, std::memory_order_relaxed);
    int far_polls = 0;
    int next_polls = 0;
    for (;;) {
      // Acquire pairs with the release store in unlock() by the previous holder.
      const std::uint32_t serving = serving_.load(std::memory_order_acquire);
      if (serving == ticket) return;
      const std::uint32_t ahead = ticket - serving;
      if (ahead == 1) {
        // Next in line: spin, then yield so that a descheduled holder gets a CPU.
        if (++next_polls <= spin_bound<S>(kNextSpins)) {
          S::pause();
        } else {
          S::yield();
        }
      } else if (++far_polls <= spin_bound<S>(kFarPolls)) {
        // Proportional back-off: the holder and each waiter ahead need about one section.
        const std::uint32_t pauses =
            ahead * static_cast<std::uint32_t>(spin_bound<S>(kPausePerPlace));
        for (std::uint32_t i = 0; i < pauses; ++i) S::pause();
      } else {
        sleep_while(serving);
      }
    }
  }

  bool try_lock() {
    // Acquire pairs with the release store in unlock(): if the lock is free, the last holder's
    // writes are visible once we own it.
    const std::uint32_t serving = serving_.load(std::memory_order_acquire);
    std::uint32_t expected = serving;
    // Free when no ticket beyond `serving` was taken; a successful CAS takes ticket `serving`,
    // which is being served. Relaxed: the acquire above already synchronized.
    return next_.compare_exchange_strong(expected, serving + 1, std::memory_order_relaxed);
  }

  void unlock() {
    // Relaxed read: only the holder writes serving_. The seq_cst store is the release edge to
    // the next holder's acquire load, and the first half of the Dekker pair with sleep_while().
    serving_.store(serving_.load(std::memory_order_relaxed) + 1, std::memory_order_seq_cst);
    // seq_cst: the second half of the Dekker pair (see the file comment).
    if (sleepers_.load(std::memory_order_seq_cst) != 0) futex_wake<S>(serving_, INT_MAX);
  }

 private:
  /// Sleeps until serving_ moves past `serving` (or spuriously).
  void sleep_while(std::uint32_t serving) {
    // seq_cst: the Dekker pair with unlock(): either it sees us here, or we see its store.
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    if (serving_.load(std::memory_order_seq_cst) == serving) futex_wait<S>(serving_, serving);
    // Relaxed: only a count; a stale non-zero costs unlock() one needless wake-up.
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
  }

  static constexpr int kNextSpins = 2048;    ///< pause polls of the next in line before yielding
  static constexpr int kFarPolls = 4;        ///< back-off polls of a distant waiter before sleeping
  static constexpr int kPausePerPlace = 32;  ///< pauses per place ahead in one back-off
  alignas(64) typename S::template atomic<std::uint32_t> next_{0};
  alignas(64) typename S::template atomic<std::uint32_t> serving_{0};
  typename S::template atomic<std::uint32_t> sleepers_{0};
};

}  // namespace cpb::patterns::mutex

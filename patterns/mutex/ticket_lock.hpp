// SPDX-License-Identifier: Apache-2.0
/// @file
/// Ticket lock: a thread takes a ticket with fetch_add and waits until `serving` reaches it, so
/// the lock is granted in FIFO order.
///
/// Progress: blocking (the next in line spins, then yields; the rest yield).
/// Memory ordering: the acquire load of `serving_` that sees our ticket pairs with the release
/// store in `unlock`; taking a ticket is relaxed because it orders nothing by itself.
/// When to use: fairness matters and threads ≤ cores. When not to use: oversubscription, where
/// the next thread in line may be descheduled and everyone waits for it (convoying).
/// Reference: Mellor-Crummey & Scott, ACM TOCS 1991.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"

#include <atomic>
#include <cstdint>
#include <string_view>

namespace cpb::patterns::mutex {

template <class S = sync::Real>
class TicketLock {
 public:
  static constexpr std::string_view kName = "ticket_lock";
  static constexpr Progress kProgress = Progress::kBlocking;

  void lock() {
    // Relaxed: the ticket only fixes our place in line; the acquire below synchronizes.
    const std::uint32_t ticket = next_.fetch_add(1, std::memory_order_relaxed);
    unsigned rounds = 0;
    for (;;) {
      // Acquire pairs with the release store in unlock() by the previous holder.
      const std::uint32_t serving = serving_.load(std::memory_order_acquire);
      if (serving == ticket) return;
      // Only the next in line spins (briefly); the others yield at once, so that when threads
      // outnumber cores the CPU goes to the holder or the next in line, not to a waiter that
      // cannot get the lock anyway (a FIFO lock otherwise convoys behind a preempted waiter).
      const std::uint32_t ahead = ticket - serving;
      if (ahead == 1 && ++rounds <= kSpinRounds) {
        S::pause();
      } else {
        S::yield();
      }
    }
  }

  bool try_lock() {
    // Acquire pairs with the release store in unlock(): if the lock is free, the last holder's
    // writes are visible once we own it.
    const std::uint32_t serving = serving_.load(std::memory_order_acquire);
    std::uint32_t expected = serving;
    // The lock is free when no ticket beyond `serving` was taken. serving_ cannot move past
    // next_, so a successful CAS means we hold ticket `serving`, which is being served. Relaxed:
    // the acquire above already synchronized.
    return next_.compare_exchange_strong(expected, serving + 1, std::memory_order_relaxed);
  }

  void unlock() {
    // Only the holder writes serving_, so a relaxed read of our own last value is enough; the
    // release store pairs with the acquire load of the next ticket holder.
    serving_.store(serving_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

 private:
  static constexpr unsigned kSpinRounds = 1024;
  alignas(64) typename S::template atomic<std::uint32_t> next_{0};
  alignas(64) typename S::template atomic<std::uint32_t> serving_{0};
};

}  // namespace cpb::patterns::mutex

// SPDX-License-Identifier: Apache-2.0
/// @file
/// An eventcount: lets a thread sleep until a condition on other shared data becomes true,
/// without a lock around that data. A waiter announces itself and takes a key
/// (`prepare_wait`), re-checks its condition, and then either leaves (`cancel_wait`, the
/// condition holds) or sleeps until the key is stale (`commit_wait`). A signaller changes the
/// data first and then calls `notify_all`, which costs one atomic read-modify-write when nobody
/// waits and a futex wake-up when somebody does. A notify that lands between a waiter's check
/// and its sleep is not lost: it bumps the epoch, and the sleep compares the word with the key
/// atomically (the futex, or `atomic::wait`).
///
/// One 32-bit word holds the epoch and a "waiters" bit (not a count): a notify that finds the
/// bit set clears it while it bumps the epoch, and wakes every sleeper; further notifies find
/// it clear and make no system call until a waiter announces itself again. A waiter count
/// would stay non-zero until each woken thread ran again, and every signal in between (one per
/// item: a futex wake-up took 90-250 µs on the loaded CI VM, semaphore/README) would make a
/// needless wake-up call.
///
/// Progress: blocking (waiting is the point); `prepare_wait` and `cancel_wait` are wait-free,
/// `notify_all` lock-free (a CAS loop only while waiters announce themselves).
/// Memory ordering: the lost-wake-up window is closed by a Dekker pair over the word, made of
/// two seq_cst read-modify-writes: the waiter's `fetch_or` of the bit in `prepare_wait`
/// (before it re-checks the condition) and the signaller's `fetch_add(0)` in `notify_all`
/// (after it changed the data). Both are RMWs of one word, so one reads the other: either the
/// signaller sees the bit (and bumps the epoch, which the waiter's sleep then sees), or the
/// waiter's RMW reads from the signaller's and so synchronizes with it, and the waiter's
/// re-check sees the changed data. A plain load in `notify_all` would let the signaller miss
/// the waiter under TSO (corpus entry 18 of the model checker's test corpus is that bug; the
/// family's model tests seed it). The epoch is bumped by a seq_cst CAS before the wake-up; the
/// waiter re-reads the word with acquire after waking.
/// Sleeping: with `sync::Real` the raw Linux futex (patterns/mutex/futex.hpp; timed waits use
/// FUTEX_WAIT_BITSET with an absolute CLOCK_MONOTONIC deadline, which C++20 `atomic::wait`
/// lacks); under the model checker's `check::Sync`, C++20 `atomic::wait` / `notify_*`, which
/// the checker schedules. The checker has no clock: there a timed wait whose deadline has not
/// passed is an untimed wait, so model tests use either no timeout or an expired one.
/// When to use: to add blocking to a non-blocking structure (a lock-free ring) with no cost
/// on the fast path beyond one RMW per signal. When not to use: when the waiters' condition
/// is protected by a mutex anyway; a condition variable is simpler there.
/// Reference: D. Vyukov, "eventcount" (1024cores.net, 2008); folly's `EventCount`
/// (folly/experimental/EventCount.h); Eigen's `EventCount` (prepare/cancel/commit).
#pragma once

#include "harness/core/sync.hpp"
#include "patterns/mutex/futex.hpp"
#include "patterns/producer_consumer/buffer.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <ctime>

namespace cpb::patterns::producer_consumer {

namespace detail {

/// Blocks while `word` holds `expected`, until `deadline`. Returns false once the deadline has
/// passed; true when woken, when the word differed, or spuriously (callers re-check).
template <class S>
bool futex_wait_until(typename S::template atomic<std::uint32_t>& word, std::uint32_t expected,
                      Clock::time_point deadline) {
  if (deadline == Clock::time_point::max()) {
    mutex::futex_wait<S>(word, expected);
    return true;
  }
  if (Clock::now() >= deadline) return false;
  if constexpr (mutex::kRawFutex<S>) {
    // steady_clock is CLOCK_MONOTONIC on Linux, the clock FUTEX_WAIT_BITSET measures in.
    const auto since_epoch = deadline.time_since_epoch();
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    timespec abs{};
    abs.tv_sec = static_cast<time_t>(secs.count());
    abs.tv_nsec = static_cast<long>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs).count());
    const long rc = syscall(SYS_futex, static_cast<void*>(&word), FUTEX_WAIT_BITSET_PRIVATE,
                            expected, &abs, nullptr, FUTEX_BITSET_MATCH_ANY);
    return !(rc == -1 && errno == ETIMEDOUT);
  } else {
    // The model checker has no clock (see the file comment).
    mutex::futex_wait<S>(word, expected);
    return true;
  }
}

}  // namespace detail

template <class S = sync::Real>
class EventCount {
 public:
  using Key = std::uint32_t;

  EventCount() = default;
  EventCount(const EventCount&) = delete;
  EventCount& operator=(const EventCount&) = delete;

  /// Announces a waiter and returns its key. Re-check the condition after this, then call
  /// exactly one of cancel_wait or commit_wait*.
  Key prepare_wait() {
    // seq_cst RMW: the waiter's half of the Dekker pair (see the file comment).
    return word_.fetch_or(kWaiters, std::memory_order_seq_cst) | kWaiters;
  }

  /// The condition held after prepare_wait: no sleep. The waiters bit stays set (other
  /// threads may wait); at worst the next notify makes one needless wake-up call.
  void cancel_wait() {}

  /// Sleeps until a notify after prepare_wait (returns at once if one came already).
  void commit_wait(Key key) { (void)commit_wait_until(key, Clock::time_point::max()); }

  /// As commit_wait, but gives up at `deadline`. Returns false when it gave up with no
  /// notify seen.
  bool commit_wait_until(Key key, Clock::time_point deadline) {
    // Acquire pairs with the seq_cst CAS in notify_all: what the signaller wrote before it is
    // visible when the word is seen to have moved.
    while (word_.load(std::memory_order_acquire) == key) {
      if (!detail::futex_wait_until<S>(word_, key, deadline)) {
        // Acquire: as above.
        return word_.load(std::memory_order_acquire) != key;
      }
    }
    return true;
  }

  /// Wakes every waiter that prepared before this call (a sleeper wakes; a waiter still
  /// between prepare_wait and commit_wait does not sleep). One RMW when nobody waits.
  void notify_all() {
    // seq_cst RMW: the signaller's half of the Dekker pair; a plain load here loses wake-ups.
    std::uint32_t w = word_.fetch_add(0, std::memory_order_seq_cst);
    while ((w & kWaiters) != 0) {
      // seq_cst: a new epoch with the waiters bit cleared; later notifies skip the wake-up
      // call until a waiter announces itself again.
      if (word_.compare_exchange_weak(w, (w + 2) & ~kWaiters, std::memory_order_seq_cst)) {
        mutex::futex_wake<S>(word_, INT_MAX);
        return;
      }
    }
  }

 private:
  /// Bit 0: a waiter has announced itself since the last wake-up; bits 1-31: the epoch.
  static constexpr std::uint32_t kWaiters = 1;
  typename S::template atomic<std::uint32_t> word_{0};
};

}  // namespace cpb::patterns::producer_consumer

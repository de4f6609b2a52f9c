// SPDX-License-Identifier: Apache-2.0
/// @file
/// A lock-free bounded buffer with blocking sides: Vyukov's bounded MPMC ring
/// (patterns/lockfree_queue/vyukov_mpmc.hpp, reused as is) holds the items, and two eventcounts
/// (eventcount.hpp) put a thread to sleep only when it must wait: consumers on `not_empty_`
/// when the ring is empty, blocked producers on `not_full_` when it is full. Before sleeping a
/// thread polls the ring a while (pause, then yield): a hand-off between running threads then
/// never enters the kernel. A push signals `not_empty_` and a batch that took items signals
/// `not_full_`; each signal is one RMW when nobody sleeps.
///
/// Capacity: the ring's, a power of two (at least 2): `capacity()` reports it; the scenarios use
/// powers of two so every implementation holds the same number. Policies: kBlock waits on
/// `not_full_`; kReject / kDropNewest refuse at once; kDropOldest pops the head of the ring
/// (the oldest item, the ring is FIFO) into the sink and retries; with several producers one
/// push may evict more than one item, each handed to the sink.
///
/// Progress: lock-free for kReject, kDropNewest and kDropOldest pushes and for a
/// `consume_batch` that finds items (blocking only in the ring's strict sense: a thread
/// preempted between claiming a cell and publishing it holds up the next one); blocking where
/// the policy or the timeout asks it to wait.
/// Memory ordering: the ring's cell sequences order the items (release on publish, acquire on
/// claim). Sleeping and waking go through the eventcounts, whose Dekker pair is seq_cst
/// (eventcount.hpp); `closed_` is written seq_cst and read seq_cst after a prepare_wait, so a
/// close() between a waiter's check and its sleep is seen or wakes it.
/// Close: pushes after close() return kClosed; blocked producers and consumers wake; a consumer
/// returns what it has once the buffer is closed and empty. Close after the producers finished:
/// a push that overlaps close() may still be accepted after a consumer saw "closed and empty".
/// When to use: high-rate hand-off with rare waiting; the fastest blocking buffer here.
/// When not to use: when a capacity that is not a power of two matters.
/// Reference: D. Vyukov, "Bounded MPMC queue" and "eventcount" (1024cores.net); folly's
/// `MPMCQueue` blocking mode follows the same plan (turn sequencers with futexes).
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/lockfree_queue/vyukov_mpmc.hpp"
#include "patterns/mutex/futex.hpp"
#include "patterns/producer_consumer/buffer.hpp"
#include "patterns/producer_consumer/eventcount.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cpb::patterns::producer_consumer {

template <class S = sync::Real>
class EventcountRing {
 public:
  static constexpr std::string_view kName = "eventcount_ring";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kGlobalFifo = true;

  EventcountRing(std::size_t capacity, Policy policy)
      : ring_(checked_capacity(capacity, kName)), policy_(policy) {}
  EventcountRing(const EventcountRing&) = delete;
  EventcountRing& operator=(const EventcountRing&) = delete;

  [[nodiscard]] std::size_t capacity() const { return ring_.capacity(); }
  [[nodiscard]] Policy policy() const { return policy_; }

  template <class Sink>
  Pushed push(std::uint64_t v, Sink&& evicted) {
    if (closed_.load(std::memory_order_seq_cst)) return Pushed::kClosed;
    if (ring_.try_push(v)) return pushed();
    switch (policy_) {
      case Policy::kReject:
        return Pushed::kRejected;
      case Policy::kDropNewest:
        return Pushed::kDropped;
      case Policy::kDropOldest:
        return push_evicting(v, evicted);
      case Policy::kBlock:
        break;
    }
    return push_blocking(v);
  }

  /// Takes up to `max` items into `out`: returns when it has `max`, when `timeout` has passed
  /// (a partial batch, maybe empty), or when the buffer is closed and empty.
  std::size_t consume_batch(std::uint64_t* out, std::size_t max, Timeout timeout) {
    std::size_t got = take(out, 0, max);
    if (got == max || timeout <= Timeout::zero()) return got;
    const Clock::time_point deadline = deadline_after(timeout);
    for (;;) {
      // Poll a while before sleeping: items from a running producer arrive sooner than a
      // futex wake-up.
      for (int i = 0; i < mutex::spin_bound<S>(kSpins) && got < max; ++i) {
        S::pause();
        got = take(out, got, max);
      }
      for (int i = 0; i < mutex::spin_bound<S>(kYields) && got < max; ++i) {
        S::yield();
        got = take(out, got, max);
        // A yield can cost a whole time slice on a busy machine: never poll past the deadline.
        if (got < max && Clock::now() >= deadline) return got;
      }
      if (got == max) return got;
      const auto key = not_empty_.prepare_wait();
      got = take(out, got, max);
      // seq_cst: read after prepare_wait, so a close() that did not see this waiter is seen.
      if (got == max || closed_.load(std::memory_order_seq_cst)) {
        not_empty_.cancel_wait();
        // Closed: what a finished producer left is in the ring already; take it.
        return take(out, got, max);
      }
      // Timed out: take what arrived meanwhile, and return a partial batch.
      if (!not_empty_.commit_wait_until(key, deadline)) return take(out, got, max);
      got = take(out, got, max);
      if (got == max) return got;
    }
  }

  /// Refuses later pushes and wakes every blocked producer and consumer.
  void close() {
    closed_.store(true, std::memory_order_seq_cst);
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  // A futex wake-up took 90-250 µs on the loaded 2-CPU VM (semaphore/README): polling first,
  // and yielding to the other side, keeps hand-offs between running threads out of the kernel.
  static constexpr int kSpins = 128;  ///< pause polls before yielding (about 9 µs on the VM)
  static constexpr int kYields = 16;  ///< yield polls before sleeping

  Pushed pushed() {
    not_empty_.notify_all();
    return Pushed::kAccepted;
  }

  template <class Sink>
  Pushed push_evicting(std::uint64_t v, Sink& evicted) {
    sync::Backoff<S> backoff;
    for (;;) {
      std::uint64_t old = 0;
      if (ring_.try_pop(old)) {
        evicted(old);
        // The freed cell is normally ours; another producer may take it first (retry).
        if (ring_.try_push(v)) return pushed();
      } else if (ring_.try_push(v)) {
        // Consumers emptied it meanwhile.
        return pushed();
      } else {
        backoff();
      }
    }
  }

  Pushed push_blocking(std::uint64_t v) {
    for (int i = 0; i < mutex::spin_bound<S>(kSpins); ++i) {
      S::pause();
      if (ring_.try_push(v)) return pushed();
    }
    for (int i = 0; i < mutex::spin_bound<S>(kYields); ++i) {
      S::yield();
      if (ring_.try_push(v)) return pushed();
    }
    for (;;) {
      const auto key = not_full_.prepare_wait();
      // seq_cst: read after prepare_wait (see consume_batch).
      if (closed_.load(std::memory_order_seq_cst)) {
        not_full_.cancel_wait();
        return Pushed::kClosed;
      }
      if (ring_.try_push(v)) {
        not_full_.cancel_wait();
        return pushed();
      }
      not_full_.commit_wait(key);
      if (ring_.try_push(v)) return pushed();
    }
  }

  /// Pops into out[got..max) until the ring is empty or the batch full; signals producers.
  std::size_t take(std::uint64_t* out, std::size_t got, std::size_t max) {
    const std::size_t before = got;
    while (got < max && ring_.try_pop(out[got])) ++got;
    if (got != before && policy_ == Policy::kBlock) not_full_.notify_all();
    return got;
  }

  lockfree_queue::VyukovMpmc<std::uint64_t, S> ring_;
  const Policy policy_;
  alignas(64) typename S::template atomic<bool> closed_{false};
  EventCount<S> not_empty_;
  EventCount<S> not_full_;
};

}  // namespace cpb::patterns::producer_consumer

// SPDX-License-Identifier: Apache-2.0
/// @file
/// The two-semaphore bounded buffer (Dijkstra's): `slots_` counts free places and `items_`
/// counts buffered items; a producer takes a slot permit, puts the item into the ring under a
/// short mutex and releases an item permit; a consumer does the reverse. The permits, not the
/// mutex, decide who waits. A batch takes as many item permits as are there with one CAS and
/// the mutex once. kDropOldest: when no slot permit is left, the producer takes an item permit
/// (so an item is there that no consumer will pop), and swaps the head item for the new one
/// under the mutex; when neither permit is there it backs off and retries.
///
/// The semaphores are counting semaphores on one atomic count each, as the semaphore family's
/// `atomic_semaphore` (a CAS takes a permit, a fetch_add returns them), with a timed acquire and
/// a "closed" exit that `std::counting_semaphore` and the semaphore family's own semaphores do
/// not have: they sleep on an eventcount (eventcount.hpp) instead of a futex on the count.
///
/// Progress: blocking (the ring is under a mutex; waiting as the policy says).
/// Memory ordering: the mutex orders the ring's contents; a permit's release (fetch_add,
/// release) pairs with the CAS that takes it (acquire), so a consumer that got an item permit
/// finds the item in the ring. Sleeping goes through the eventcounts (seq_cst Dekker pair).
/// When to use: when producers and consumers should be gated by counts that other code can
/// also use (admission control); it separates waiting from the data structure.
/// When not to use: the fastest hand-off (eventcount_ring): every item costs two semaphore
/// RMWs and a mutex.
/// Reference: E. W. Dijkstra, "Cooperating sequential processes", 1965 (the bounded buffer
/// with semaphores); Downey, "The Little Book of Semaphores", §4.1.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/mutex/futex.hpp"
#include "patterns/producer_consumer/buffer.hpp"
#include "patterns/producer_consumer/eventcount.hpp"
#include "patterns/producer_consumer/plain_ring.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>

namespace cpb::patterns::producer_consumer {

namespace detail {

/// A counting semaphore with `try_acquire_up_to(n)`, a timed acquire that also returns when a
/// flag closes, and `wake_all` for that flag.
template <class S>
class TimedSemaphore {
 public:
  enum class Got { kPermit, kTimedOut, kClosed };

  explicit TimedSemaphore(std::int64_t initial) : count_(initial) {}

  /// Takes up to `n` permits at once; returns how many.
  std::int64_t try_acquire_up_to(std::int64_t n) {
    // Relaxed: the CAS below acquires.
    std::int64_t c = count_.load(std::memory_order_relaxed);
    while (c > 0) {
      const std::int64_t take = std::min(c, n);
      // Acquire pairs with the release fetch_add in release(): the releaser's writes (the
      // item it put into the ring, the slot it emptied) are seen.
      if (count_.compare_exchange_weak(c, c - take, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return take;
      }
    }
    return 0;
  }
  bool try_acquire() { return try_acquire_up_to(1) == 1; }

  /// Takes one permit, waiting until `deadline` or until `closed` is set.
  template <class Closed>
  Got acquire_until(Clock::time_point deadline, const Closed& closed) {
    if (try_acquire()) return Got::kPermit;
    for (int i = 0; i < mutex::spin_bound<S>(kSpins); ++i) {
      S::pause();
      if (try_acquire()) return Got::kPermit;
    }
    for (int i = 0; i < mutex::spin_bound<S>(kYields); ++i) {
      S::yield();
      if (try_acquire()) return Got::kPermit;
    }
    for (;;) {
      const auto key = ec_.prepare_wait();
      if (try_acquire()) {
        ec_.cancel_wait();
        return Got::kPermit;
      }
      // seq_cst: read after prepare_wait, so a close() that did not see this waiter is seen.
      if (closed.load(std::memory_order_seq_cst)) {
        ec_.cancel_wait();
        return Got::kClosed;
      }
      if (!ec_.commit_wait_until(key, deadline)) {
        return try_acquire() ? Got::kPermit : Got::kTimedOut;
      }
      if (try_acquire()) return Got::kPermit;
    }
  }

  void release(std::int64_t n) {
    // Release pairs with the acquire CAS in try_acquire_up_to.
    count_.fetch_add(n, std::memory_order_release);
    ec_.notify_all();
  }

  /// Wakes every waiter (to see a flag change).
  void wake_all() { ec_.notify_all(); }

 private:
  static constexpr int kSpins = 128;  ///< pause polls before yielding (about 9 µs on the VM)
  static constexpr int kYields = 16;  ///< yield polls before sleeping
  alignas(64) typename S::template atomic<std::int64_t> count_;
  EventCount<S> ec_;
};

}  // namespace detail

template <class S = sync::Real>
class SemaphoreBuffer {
 public:
  static constexpr std::string_view kName = "semaphore_buffer";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kGlobalFifo = true;

  SemaphoreBuffer(std::size_t capacity, Policy policy)
      : ring_(checked_capacity(capacity, kName)),
        policy_(policy),
        slots_(static_cast<std::int64_t>(capacity)),
        items_(0) {}
  SemaphoreBuffer(const SemaphoreBuffer&) = delete;
  SemaphoreBuffer& operator=(const SemaphoreBuffer&) = delete;

  [[nodiscard]] std::size_t capacity() const { return ring_.capacity(); }
  [[nodiscard]] Policy policy() const { return policy_; }

  template <class Sink>
  Pushed push(std::uint64_t v, Sink&& evicted) {
    // seq_cst: as the waits' reads of the flag.
    if (closed_.load(std::memory_order_seq_cst)) return Pushed::kClosed;
    if (!slots_.try_acquire()) {
      switch (policy_) {
        case Policy::kReject:
          return Pushed::kRejected;
        case Policy::kDropNewest:
          return Pushed::kDropped;
        case Policy::kDropOldest:
          return push_evicting(v, evicted);
        case Policy::kBlock:
          if (slots_.acquire_until(Clock::time_point::max(), closed_) != Got::kPermit) {
            return Pushed::kClosed;
          }
          break;
      }
    }
    {
      std::lock_guard<typename S::mutex> lk(m_);
      ring_.push(v);
    }
    items_.release(1);
    return Pushed::kAccepted;
  }

  /// Takes up to `max` items into `out`: returns when it has `max`, when `timeout` has passed
  /// (a partial batch, maybe empty), or when the buffer is closed and empty.
  std::size_t consume_batch(std::uint64_t* out, std::size_t max, Timeout timeout) {
    std::size_t got = take(out, 0, max, 0);
    if (got == max || timeout <= Timeout::zero()) return got;
    const Clock::time_point deadline = deadline_after(timeout);
    while (got < max) {
      switch (items_.acquire_until(deadline, closed_)) {
        case Got::kPermit:
          got = take(out, got, max, 1);
          break;
        case Got::kTimedOut:
          return got;
        case Got::kClosed:
          // Closed: the permits still count what is buffered; take it.
          return take(out, got, max, 0);
      }
    }
    return got;
  }

  /// Refuses later pushes and wakes every blocked producer and consumer.
  void close() {
    closed_.store(true, std::memory_order_seq_cst);
    items_.wake_all();
    slots_.wake_all();
  }

 private:
  using Got = typename detail::TimedSemaphore<S>::Got;

  /// Pops `held` items (permits already taken) plus as many more as there are permits for,
  /// into out[got..max); gives their slots back.
  std::size_t take(std::uint64_t* out, std::size_t got, std::size_t max, std::int64_t held) {
    const auto room = static_cast<std::int64_t>(max - got) - held;
    const std::int64_t n = held + (room > 0 ? items_.try_acquire_up_to(room) : 0);
    if (n == 0) return got;
    {
      std::lock_guard<typename S::mutex> lk(m_);
      for (std::int64_t i = 0; i < n; ++i) out[got++] = ring_.pop();
    }
    slots_.release(n);
    return got;
  }

  template <class Sink>
  Pushed push_evicting(std::uint64_t v, Sink& evicted) {
    sync::Backoff<S> backoff;
    for (;;) {
      if (slots_.try_acquire()) {
        {
          std::lock_guard<typename S::mutex> lk(m_);
          ring_.push(v);
        }
        items_.release(1);
        return Pushed::kAccepted;
      }
      if (items_.try_acquire()) {
        // The item permit guarantees a buffered item no consumer will pop: swap the head
        // (the oldest) for the new item; the count of items is unchanged.
        std::uint64_t old = 0;
        {
          std::lock_guard<typename S::mutex> lk(m_);
          old = ring_.pop();
          ring_.push(v);
        }
        items_.release(1);
        evicted(old);
        return Pushed::kAccepted;
      }
      // Consumers hold every item permit and have not yet given the slots back.
      backoff();
    }
  }

  typename S::mutex m_;
  detail::PlainRing<S> ring_;
  const Policy policy_;
  detail::TimedSemaphore<S> slots_;
  detail::TimedSemaphore<S> items_;
  alignas(64) typename S::template atomic<bool> closed_{false};
};

}  // namespace cpb::patterns::producer_consumer

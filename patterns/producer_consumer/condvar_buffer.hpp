// SPDX-License-Identifier: Apache-2.0
/// @file
/// The textbook bounded buffer: a ring under one mutex and two condition variables, `not_full_`
/// for producers that must wait for room (kBlock) and `not_empty_` for consumers that wait for
/// items. Waiters are counted, so a push or a batch signals only when somebody waits.
/// kDropOldest evicts exactly one item (the head) per push, under the mutex.
///
/// Progress: blocking (every operation takes the mutex).
/// Memory ordering: the mutex orders everything (unlock → lock is the release → acquire edge);
/// the condition variables are always waited on and signalled under it.
/// When to use: the portable reference; easy to extend (priorities, predicates, exact
/// capacity). When not to use: high-rate hand-offs: every item takes the mutex twice, and a
/// waiter always sleeps in the kernel.
/// Reference: Hoare, "Monitors: an operating system structuring concept", CACM 1974 (the
/// bounded buffer monitor); Butenhof, "Programming with POSIX Threads", 1997, §3.3.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/producer_consumer/buffer.hpp"
#include "patterns/producer_consumer/plain_ring.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

namespace cpb::patterns::producer_consumer {

template <class S = sync::Real>
class CondvarBuffer {
 public:
  static constexpr std::string_view kName = "condvar_buffer";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kGlobalFifo = true;

  CondvarBuffer(std::size_t capacity, Policy policy)
      : ring_(checked_capacity(capacity, kName)), policy_(policy) {}
  CondvarBuffer(const CondvarBuffer&) = delete;
  CondvarBuffer& operator=(const CondvarBuffer&) = delete;

  [[nodiscard]] std::size_t capacity() const { return ring_.capacity(); }
  [[nodiscard]] Policy policy() const { return policy_; }

  template <class Sink>
  Pushed push(std::uint64_t v, Sink&& evicted) {
    std::optional<std::uint64_t> old;
    {
      std::unique_lock<typename S::mutex> lk(m_);
      for (;;) {
        if (closed_.load()) return Pushed::kClosed;
        if (!ring_.full()) break;
        switch (policy_) {
          case Policy::kReject:
            return Pushed::kRejected;
          case Policy::kDropNewest:
            return Pushed::kDropped;
          case Policy::kDropOldest:
            old = ring_.pop();
            break;
          case Policy::kBlock:
            producers_waiting_.store(producers_waiting_.load() + 1);
            not_full_.wait(lk);
            producers_waiting_.store(producers_waiting_.load() - 1);
            break;
        }
      }
      ring_.push(v);
      if (consumers_waiting_.load() > 0) not_empty_.notify_one();
    }
    if (old) evicted(*old);
    return Pushed::kAccepted;
  }

  /// Takes up to `max` items into `out`: returns when it has `max`, when `timeout` has passed
  /// (a partial batch, maybe empty), or when the buffer is closed and empty.
  std::size_t consume_batch(std::uint64_t* out, std::size_t max, Timeout timeout) {
    std::unique_lock<typename S::mutex> lk(m_);
    std::size_t got = take(out, 0, max);
    if (got == max || timeout <= Timeout::zero()) return got;
    const Clock::time_point deadline = deadline_after(timeout);
    while (got < max && !closed_.load()) {
      bool timed_out = false;
      consumers_waiting_.store(consumers_waiting_.load() + 1);
      if (deadline == Clock::time_point::max()) {
        not_empty_.wait(lk);
      } else {
        const auto left = deadline - Clock::now();
        timed_out = left <= Clock::duration::zero() ||
                    not_empty_.wait_for(lk, left) == std::cv_status::timeout;
      }
      consumers_waiting_.store(consumers_waiting_.load() - 1);
      got = take(out, got, max);
      if (timed_out) break;
    }
    return got;
  }

  /// Refuses later pushes and wakes every blocked producer and consumer.
  void close() {
    std::lock_guard<typename S::mutex> lk(m_);
    closed_.store(true);
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  /// Under the mutex: pops into out[got..max) while there are items; signals producers.
  std::size_t take(std::uint64_t* out, std::size_t got, std::size_t max) {
    const std::size_t before = got;
    while (got < max && !ring_.empty()) out[got++] = ring_.pop();
    if (got != before && producers_waiting_.load() > 0) not_full_.notify_all();
    return got;
  }

  typename S::mutex m_;
  typename S::condition_variable not_full_;
  typename S::condition_variable not_empty_;
  detail::PlainRing<S> ring_;
  const Policy policy_;
  typename S::template cell<bool> closed_{false};
  typename S::template cell<std::size_t> producers_waiting_{0};
  typename S::template cell<std::size_t> consumers_waiting_{0};
};

}  // namespace cpb::patterns::producer_consumer

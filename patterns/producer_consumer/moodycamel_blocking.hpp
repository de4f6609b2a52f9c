// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `moodycamel::BlockingConcurrentQueue` (Debian `libconcurrentqueue-dev` 1.0.3,
/// header `concurrentqueue/blockingconcurrentqueue.h`): moodycamel's lock-free MPMC queue
/// (one sub-queue per producer) plus a `LightweightSemaphore` counting the items, which spins
/// (up to 10,000 times) before it sleeps.
///
/// How the adapter bounds it: the queue is unbounded, so a second `moodycamel::
/// LightweightSemaphore` (the library's own type, default spin count) holds `capacity` free
/// slots in front of it: a push takes a slot (kBlock waits for one; kReject and kDropNewest
/// refuse at once; kDropOldest takes the item at the head instead, `try_dequeue`, and reuses its
/// slot), a consume gives the slots of what it took back. The queue is pre-sized to
/// `capacity` (its constructor pre-allocates blocks for that many items) and every other
/// setting is the library default: nothing is tuned down. The bound is exact.
/// `consume_batch` is `wait_dequeue_bulk_timed` in a loop until the batch is full or the
/// deadline passes. Neither the queue nor the semaphore can be woken by a close, so waits
/// without a deadline wait in 10 ms slices and re-read the closed flag between slices.
///
/// Progress: lock-free queue operations; blocking where the policy or the timeout says.
/// Ordering: FIFO per producer only: items of different producers come out in no global order
/// (kGlobalFifo false), and "the oldest" that kDropOldest evicts is the head of one producer's
/// sub-queue. Left out of the TSan build: moodycamel synchronises through standalone fences,
/// which TSan does not model.
/// When to use: many producers and consumers, throughput over global order.
/// Reference: C. Desrochers, github.com/cameron314/concurrentqueue.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/producer_consumer/buffer.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concurrentqueue/blockingconcurrentqueue.h>
#include <concurrentqueue/lightweightsemaphore.h>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cpb::patterns::producer_consumer {

class MoodycamelBlocking {
 public:
  static constexpr std::string_view kName = "moodycamel_blocking";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  static constexpr bool kGlobalFifo = false;

  MoodycamelBlocking(std::size_t capacity, Policy policy)
      : capacity_(checked_capacity(capacity, kName)),
        policy_(policy),
        q_(capacity_),
        slots_(static_cast<moodycamel::LightweightSemaphore::ssize_t>(capacity_)) {}
  MoodycamelBlocking(const MoodycamelBlocking&) = delete;
  MoodycamelBlocking& operator=(const MoodycamelBlocking&) = delete;

  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  [[nodiscard]] Policy policy() const { return policy_; }

  template <class Sink>
  Pushed push(std::uint64_t v, Sink&& evicted) {
    if (closed_.load()) return Pushed::kClosed;
    if (!slots_.tryWait()) {
      switch (policy_) {
        case Policy::kReject:
          return Pushed::kRejected;
        case Policy::kDropNewest:
          return Pushed::kDropped;
        case Policy::kDropOldest: {
          sync::Backoff<> backoff;
          for (;;) {
            if (slots_.tryWait()) break;
            std::uint64_t old = 0;
            if (q_.try_dequeue(old)) {  // its slot becomes ours
              evicted(old);
              break;
            }
            backoff();
          }
          break;
        }
        case Policy::kBlock:
          while (!slots_.wait(kSliceUs)) {
            if (closed_.load()) return Pushed::kClosed;
          }
          break;
      }
    }
    q_.enqueue(v);
    return Pushed::kAccepted;
  }

  std::size_t consume_batch(std::uint64_t* out, std::size_t max, Timeout timeout) {
    // Each piece gives its slots back at once: a consumer waiting for the rest of its batch
    // must not hold slots the producers need to send it.
    std::size_t got = release(q_.try_dequeue_bulk(out, max));
    if (got == max || timeout <= Timeout::zero()) return got;
    const Clock::time_point deadline = deadline_after(timeout);
    while (got < max) {
      std::int64_t slice_us = kSliceUs;
      if (deadline != Clock::time_point::max()) {
        const auto left = deadline - Clock::now();
        if (left <= Clock::duration::zero()) break;
        slice_us = std::min<std::int64_t>(
            kSliceUs, std::chrono::ceil<std::chrono::microseconds>(left).count());
      }
      got += release(q_.wait_dequeue_bulk_timed(out + got, max - got, slice_us));
      if (got < max && closed_.load()) {
        got += release(q_.try_dequeue_bulk(out + got, max - got));
        break;
      }
    }
    return got;
  }

  void close() { closed_.store(true); }

 private:
  static constexpr std::int64_t kSliceUs = 10'000;

  std::size_t release(std::size_t n) {
    if (n > 0) slots_.signal(static_cast<moodycamel::LightweightSemaphore::ssize_t>(n));
    return n;
  }

  const std::size_t capacity_;
  const Policy policy_;
  moodycamel::BlockingConcurrentQueue<std::uint64_t> q_;
  moodycamel::LightweightSemaphore slots_;
  std::atomic<bool> closed_{false};
};

}  // namespace cpb::patterns::producer_consumer

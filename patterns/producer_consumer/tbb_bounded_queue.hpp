// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: oneTBB's `tbb::concurrent_bounded_queue` (oneTBB 2021.8) with
/// `set_capacity(capacity)`: an exact bound, blocking `push` / `pop` that sleep on TBB's
/// concurrent monitors, `try_push` / `try_pop`, and `abort()`.
///
/// The adapter maps the family's operations onto it, thinly: kBlock is `push`; kReject and
/// kDropNewest are `try_push`; kDropOldest is `try_push`, else `try_pop` of the head into the
/// sink and retry. `consume_batch` takes what `try_pop` finds, and waits in a blocking `pop`
/// for the next item when it may wait forever. TBB has no timed pop, so with a finite timeout
/// it polls `try_pop` with back-off (pause, then yield) until the deadline. Close: `abort()`
/// wakes only the operations already blocked, so `close()` sets a flag and calls `abort()`
/// until no adapter call is inside a blocking `push` / `pop` (each such call announces itself
/// before it re-reads the flag: a seq_cst Dekker pair).
///
/// Progress: blocking. Ordering: FIFO by ticket (global).
/// When to use: code already built on oneTBB. Left out of the TSan build: libtbb.so is not
/// instrumented, so TSan cannot see its synchronization.
/// Reference: oneTBB, `oneapi/tbb/concurrent_queue.h`.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/producer_consumer/buffer.hpp"

#include <oneapi/tbb/concurrent_queue.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cpb::patterns::producer_consumer {

class TbbBoundedQueue {
 public:
  static constexpr std::string_view kName = "tbb_bounded_queue";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  static constexpr bool kGlobalFifo = true;

  TbbBoundedQueue(std::size_t capacity, Policy policy)
      : capacity_(checked_capacity(capacity, kName)), policy_(policy) {
    q_.set_capacity(static_cast<std::ptrdiff_t>(capacity_));
  }
  TbbBoundedQueue(const TbbBoundedQueue&) = delete;
  TbbBoundedQueue& operator=(const TbbBoundedQueue&) = delete;

  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  [[nodiscard]] Policy policy() const { return policy_; }

  template <class Sink>
  Pushed push(std::uint64_t v, Sink&& evicted) {
    if (closed_.load()) return Pushed::kClosed;
    if (q_.try_push(v)) return Pushed::kAccepted;
    switch (policy_) {
      case Policy::kReject:
        return Pushed::kRejected;
      case Policy::kDropNewest:
        return Pushed::kDropped;
      case Policy::kDropOldest: {
        sync::Backoff<> backoff;
        for (;;) {
          std::uint64_t old = 0;
          if (q_.try_pop(old)) evicted(old);
          if (q_.try_push(v)) return Pushed::kAccepted;
          backoff();
        }
      }
      case Policy::kBlock:
        break;
    }
    return blocking([&] { q_.push(v); }) ? Pushed::kAccepted : Pushed::kClosed;
  }

  std::size_t consume_batch(std::uint64_t* out, std::size_t max, Timeout timeout) {
    std::size_t got = 0;
    while (got < max && q_.try_pop(out[got])) ++got;
    if (got == max || timeout <= Timeout::zero()) return got;
    if (timeout == kForever) {
      while (got < max) {
        if (!blocking([&] { q_.pop(out[got]); })) {
          while (got < max && q_.try_pop(out[got])) ++got;  // closed: take what is left
          return got;
        }
        ++got;
        while (got < max && q_.try_pop(out[got])) ++got;
      }
      return got;
    }
    const Clock::time_point deadline = deadline_after(timeout);
    sync::Backoff<> backoff;
    while (got < max && !closed_.load() && Clock::now() < deadline) {
      if (q_.try_pop(out[got])) {
        ++got;
        backoff.reset();
      } else {
        backoff();
      }
    }
    while (got < max && q_.try_pop(out[got])) ++got;
    return got;
  }

  void close() {
    closed_.store(true);
    while (blocked_.load() != 0) {
      q_.abort();
      sync::Real::yield();
    }
  }

 private:
  /// Runs a blocking TBB call unless closed; false if closed (before or during it).
  template <class F>
  bool blocking(F&& f) {
    // seq_cst: announce, then re-read the flag; close() writes the flag, then reads blocked_.
    blocked_.fetch_add(1);
    bool ok = false;
    if (!closed_.load()) {
      try {
        f();
        ok = true;
      } catch (const tbb::user_abort&) {
        ok = false;
      }
    }
    blocked_.fetch_sub(1);
    return ok;
  }

  const std::size_t capacity_;
  const Policy policy_;
  tbb::concurrent_bounded_queue<std::uint64_t> q_;
  std::atomic<bool> closed_{false};
  std::atomic<int> blocked_{0};
};

}  // namespace cpb::patterns::producer_consumer

// SPDX-License-Identifier: Apache-2.0
/// @file
/// The floor: the classic observer across threads with no backpressure. The producer's offers
/// go into an unbounded std::deque under a mutex; the subscriber thread takes every item and
/// signals onNext whatever it requested (request(n) and the overflow policy are ignored), then
/// onComplete. Nothing is lost, and the queue holds whatever the subscriber has not caught up
/// with: the memory a fast producer costs without backpressure.
///
/// Progress: blocking (mutex + condition variable).
/// Memory ordering: the mutex orders everything; `cancelled_` is an atomic flag read under it.
/// When to use: producers known to be slower than the consumer, or bursts that fit in memory.
/// When not to use: a producer that can outrun the consumer for long: the queue grows without
/// bound (see peak_items in the fast_slow scenarios).
/// Reference: Gamma et al., "Design Patterns", 1994, Observer; ReactiveX, "Backpressure"
/// (https://reactivex.io/documentation/operators/backpressure.html).
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/reactive/boundary.hpp"
#include "patterns/reactive/overflow.hpp"
#include "patterns/reactive/streams.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>

namespace cpb::patterns::reactive {

class UnboundedObserver {
 public:
  static constexpr std::string_view kName = "unbounded_observer";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  static constexpr bool kBackpressure = false;

  /// Both arguments are ignored: there is no bound and no policy.
  UnboundedObserver(std::size_t capacity, Overflow /*policy*/) : sub_(*this) {
    checked_capacity(capacity);
  }
  UnboundedObserver(const UnboundedObserver&) = delete;
  UnboundedObserver& operator=(const UnboundedObserver&) = delete;

  Offered offer(std::uint64_t v) {
    std::lock_guard<std::mutex> lk(m_);
    ++stats_.offered;
    // Relaxed: a stop hint; the mutex orders the rest.
    if (done_ || cancelled_.load(std::memory_order_relaxed)) {
      ++stats_.refused;
      return Offered::kTerminated;
    }
    q_.push_back(v);
    stats_.peak_items = std::max<std::uint64_t>(stats_.peak_items, q_.size());
    cv_.notify_one();
    return Offered::kAccepted;
  }

  void complete() {
    std::lock_guard<std::mutex> lk(m_);
    done_ = true;
    cv_.notify_one();
  }

  void drain(Subscriber<std::uint64_t>& s) {
    s.on_subscribe(sub_);
    std::unique_lock<std::mutex> lk(m_);
    for (;;) {
      // Relaxed: as above.
      while (q_.empty() && !done_ && !cancelled_.load(std::memory_order_relaxed)) cv_.wait(lk);
      if (cancelled_.load(std::memory_order_relaxed)) return;
      if (q_.empty()) {
        lk.unlock();
        s.on_complete();
        return;
      }
      const std::uint64_t v = q_.front();
      q_.pop_front();
      lk.unlock();
      ++delivered_;
      s.on_next(v);
      lk.lock();
    }
  }

  [[nodiscard]] BoundaryStats stats() const {
    BoundaryStats s = stats_;
    s.delivered = delivered_;
    s.peak_bytes = s.peak_items * sizeof(std::uint64_t);
    return s;
  }

 private:
  class Sub final : public Subscription {
   public:
    explicit Sub(UnboundedObserver& o) : o_(o) {}
    void request(std::uint64_t /*n*/) override {}  // no backpressure: demand is ignored
    void cancel() override {
      // Relaxed: the mutex taken below orders it for the drainer.
      o_.cancelled_.store(true, std::memory_order_relaxed);
      std::lock_guard<std::mutex> lk(o_.m_);
      o_.cv_.notify_one();
    }

   private:
    UnboundedObserver& o_;
  };

  std::mutex m_;
  std::condition_variable cv_;
  Sub sub_;
  std::deque<std::uint64_t> q_;  // under m_
  bool done_ = false;            // under m_
  BoundaryStats stats_;          // under m_
  std::atomic<bool> cancelled_{false};
  std::uint64_t delivered_ = 0;  // the drainer's
};

}  // namespace cpb::patterns::reactive

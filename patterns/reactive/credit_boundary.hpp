// SPDX-License-Identifier: Apache-2.0
/// @file
/// An asynchronous boundary with Reactive Streams backpressure (RxJava's
/// `onBackpressureXxx` + `observeOn`): a producer thread offers items that it cannot hold back
/// (a hot source); a subscriber thread runs `drain`, which signals onSubscribe, then onNext for
/// each queued item while the subscriber has credits, then onComplete or onError, once. The
/// subscriber grants credits with request(n), from onNext or from any other thread. When the
/// queue is full (or, under kError, holds as many items as there are credits) the overflow
/// policy decides: fail the stream, drop the newest, evict the oldest, keep the latest.
///
/// The credits are an atomic counter, so request(n) takes no lock unless the drainer sleeps:
/// request adds with a CAS (saturating at 2^63 - 1) then reads `waiting_`; the drainer, under
/// the mutex, sets `waiting_` then re-reads the credits before it sleeps (a Dekker pair, both
/// seq_cst: one of them sees the other's write, so a grant cannot slip past a sleeping drainer).
/// The drainer takes one credit per onNext with fetch_sub; only it takes credits, so the count
/// never goes below zero.
///
/// Progress: blocking (the queue is under a mutex; the drainer sleeps on a condition variable).
/// Memory ordering: the mutex orders the queue and the stream's state; the credit counter and
/// `waiting_` are seq_cst (the Dekker pair above).
/// When to use: a fast producer that cannot be slowed down and a consumer that must not be
/// flooded: the memory held is bounded by the capacity, and the policy says what is lost. When
/// not to use: a producer that can simply wait (a bounded blocking channel is simpler).
/// Reference: Reactive Streams 1.0.4 §1.1, §2.7, §3.9, §3.17; RxJava 3 `FlowableObserveOn`,
/// `FlowableOnBackpressureBuffer`, `...Drop`, `...Latest`, `...Error`.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/reactive/boundary.hpp"
#include "patterns/reactive/overflow.hpp"
#include "patterns/reactive/streams.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>

namespace cpb::patterns::reactive {

template <class S = sync::Real>
class CreditBoundary {
 public:
  static constexpr std::string_view kName = "credit_boundary";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBackpressure = true;

  CreditBoundary(std::size_t capacity, Overflow policy)
      : cap_(checked_capacity(capacity)), policy_(policy), subscription_(*this) {}
  CreditBoundary(const CreditBoundary&) = delete;
  CreditBoundary& operator=(const CreditBoundary&) = delete;
  virtual ~CreditBoundary() = default;

  /// Producer side: offers `v`; what happened to it.
  Offered offer(std::uint64_t v) {
    std::lock_guard<typename S::mutex> lk(m_);
    offered_.store(offered_.load() + 1);
    if (state_.load() != kOpen || cancelled_.load()) return refuse();
    Offered r = Offered::kAccepted;
    const std::size_t n = q_.size();
    const bool full = policy_ == Overflow::kLatest  ? n >= 1
                      : policy_ == Overflow::kError ? n >= credits_.load()
                                                    : n >= cap_;
    if (full) {
      switch (policy_) {
        case Overflow::kBuffer:
          fail_locked("overflow: the buffer of " + std::to_string(cap_) + " items is full");
          refused_.store(refused_.load() + 1);
          return Offered::kFailed;
        case Overflow::kError:
          fail_locked("overflow: an item beyond the subscriber's credits");
          refused_.store(refused_.load() + 1);
          return Offered::kFailed;
        case Overflow::kDropNewest:
          dropped_.store(dropped_.load() + 1);
          return Offered::kDropped;
        case Overflow::kDropOldest:
          q_.pop_front();
          dropped_.store(dropped_.load() + 1);
          r = Offered::kEvicted;
          break;
        case Overflow::kLatest:
          q_.pop_back();
          dropped_.store(dropped_.load() + 1);
          r = Offered::kEvicted;
          break;
      }
    }
    q_.push_back(v);
    peak_.store(std::max<std::uint64_t>(peak_.load(), q_.size()));
    if (waiting_.load()) cv_.notify_one();
    return r;
  }

  /// Producer side: no more items; onComplete follows the queued ones.
  void complete() {
    std::lock_guard<typename S::mutex> lk(m_);
    if (state_.load() == kOpen) state_.store(kCompleted);
    cv_.notify_one();
  }

  /// Subscriber thread: signals onSubscribe, then the items and the terminal signal; returns
  /// after onComplete or onError, or once the subscriber cancelled.
  void drain(Subscriber<std::uint64_t>& s) {
    s.on_subscribe(subscription_);
    std::unique_lock<typename S::mutex> lk(m_);
    for (;;) {
      if (cancelled_.load()) return;
      if (state_.load() == kFailed) {
        dropped_.store(dropped_.load() + q_.size());
        q_.clear();
        const std::string what = error_.load();
        lk.unlock();
        s.on_error(what);
        return;
      }
      if (!q_.empty() && credits_.load() > 0) {
        const std::uint64_t v = q_.front();
        q_.pop_front();
        if (credits_.load() != kUnboundedDemand) credits_.fetch_sub(1);
        lk.unlock();
        ++delivered_;
        s.on_next(v);
        lk.lock();
        continue;
      }
      if (q_.empty() && state_.load() == kCompleted) {
        lk.unlock();
        s.on_complete();
        return;
      }
      waiting_.store(true);
      // Re-read after announcing the wait (the Dekker pair with request()).
      if (q_.empty() || credits_.load() == 0) cv_.wait(lk);
      waiting_.store(false);
    }
  }

  /// After drain returned and the producer is done.
  [[nodiscard]] BoundaryStats stats() const {
    return {offered_.load(), delivered_,   dropped_.load(),
            refused_.load(), peak_.load(), peak_.load() * sizeof(std::uint64_t)};
  }

 protected:
  /// request(n) for n > 0: adds the credits, then wakes a sleeping drainer.
  virtual void add_credits(std::uint64_t n) {
    std::uint64_t c = credits_.load();
    while (!credits_.compare_exchange_weak(c, add_demand(c, n))) {
    }
  }
  typename S::template atomic<std::uint64_t> credits_{0};

 private:
  enum : int { kOpen, kCompleted, kFailed };

  class Sub final : public Subscription {
   public:
    explicit Sub(CreditBoundary& b) : b_(b) {}
    void request(std::uint64_t n) override { b_.request(n); }
    void cancel() override { b_.cancel(); }

   private:
    CreditBoundary& b_;
  };

  void request(std::uint64_t n) {
    if (n == 0) {
      std::lock_guard<typename S::mutex> lk(m_);
      if (state_.load() == kOpen) fail_locked("request(0) (Reactive Streams §3.9)");
      cv_.notify_one();
      return;
    }
    add_credits(n);
    if (waiting_.load()) {
      std::lock_guard<typename S::mutex> lk(m_);
      cv_.notify_one();
    }
  }

  void cancel() {
    cancelled_.store(true);
    std::lock_guard<typename S::mutex> lk(m_);
    cv_.notify_one();
  }

  Offered refuse() {
    refused_.store(refused_.load() + 1);
    return Offered::kTerminated;
  }

  void fail_locked(std::string what) {
    error_.store(std::move(what));
    state_.store(kFailed);
    cv_.notify_one();
  }

  typename S::mutex m_;
  typename S::condition_variable cv_;
  const std::size_t cap_;
  const Overflow policy_;
  Sub subscription_;
  std::deque<std::uint64_t> q_;                          // under m_
  typename S::template cell<int> state_{kOpen};          // under m_
  typename S::template cell<std::string> error_;         // under m_
  typename S::template cell<std::uint64_t> offered_{0};  // under m_
  typename S::template cell<std::uint64_t> dropped_{0};  // under m_
  typename S::template cell<std::uint64_t> refused_{0};  // under m_
  typename S::template cell<std::uint64_t> peak_{0};     // under m_
  typename S::template atomic<bool> waiting_{false};     // written under m_
  typename S::template atomic<bool> cancelled_{false};
  std::uint64_t delivered_ = 0;  // the drainer's
};

}  // namespace cpb::patterns::reactive

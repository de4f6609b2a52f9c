// SPDX-License-Identifier: Apache-2.0
/// @file
/// The queue in front of each stage of `QueuePipeline`: a bounded FIFO ring behind one mutex,
/// with a condition variable for "not empty" and one for "not full", and the end-of-stream
/// protocol of a stream-by-stream pipeline built in.
///
/// A stream is a *round*. The producer side `close()`s the queue when its round is over; each of
/// the queue's `consumers` threads then gets `Pop::kDrained` once the queue is empty, the last of
/// them `Pop::kLast` (so the last one knows that every consumer has finished its items of the
/// round, and can pass the end of stream on). `reopen()` starts the next round. `stop()` ends
/// the queue for good: every consumer gets `Pop::kStop`.
///
/// A consumer first polls for a short while (`sync::Backoff`: pause, then yield) before it sleeps
/// on the condition variable: a futex wake-up costs about 10 µs on the CI VM
/// (performance-anchors §2.1), longer than the stages' work, so a consumer that would be woken
/// a moment later does better to stay awake. Producers notify only when a consumer sleeps.
///
/// Progress: blocking.
/// Memory ordering: everything shared is guarded by the mutex; `size_hint_` is a relaxed copy of
/// the size that pollers read before they take the lock (a hint only: the lock decides).
/// Reference: Herlihy & Shavit, "The Art of Multiprocessor Programming" (2nd ed., 2020), ch. 10
/// (a bounded partial queue with two conditions).
#pragma once

#include "harness/core/sync.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

namespace cpb::patterns::pipeline::detail {

/// What `BoundedQueue::pop` found.
enum class Pop {
  kItem,     ///< an item, moved into the out-parameter
  kDrained,  ///< the round is closed and empty; other consumers have not all seen it yet
  kLast,     ///< the round is closed and empty, and every other consumer has seen it already
  kStop,     ///< the queue was stopped: the consumer should exit
};

template <class T, class S = sync::Real>
class BoundedQueue {
 public:
  /// A queue of `capacity` items (at least 1) read by `consumers` threads (at least 1).
  BoundedQueue(std::size_t capacity, std::size_t consumers, unsigned spins = kDefaultSpins)
      : capacity_(capacity), consumers_(consumers), spins_(spins) {
    if (capacity == 0 || consumers == 0) {
      throw std::invalid_argument("a bounded queue needs a capacity and a consumer");
    }
    state_.get().ring.resize(capacity);
  }

  /// Appends `v`, waiting while the queue is full. @pre the round is open.
  void push(T v) {
    std::unique_lock lk(m_);
    State& st = state_.get();
    while (st.size == capacity_) {
      ++st.push_waiters;
      not_full_.wait(lk);
      --st.push_waiters;
    }
    st.ring[(st.head + st.size) % capacity_] = std::move(v);
    ++st.size;
    // Relaxed: a hint for pollers, who then take the lock that orders the item itself.
    size_hint_.store(st.size, std::memory_order_relaxed);
    const bool wake = st.pop_waiters > 0;
    lk.unlock();
    if (wake) not_empty_.notify_one();
  }

  /// Takes the oldest item into `out`, or says that the round `round` is over (then `round`
  /// moves on to the next one) or that the queue stopped. Waits while the queue is empty and
  /// open. `round` is the consumer's own count of rounds, 0 at first.
  Pop pop(T& out, std::uint64_t& round) {
    sync::Backoff<S> backoff;
    for (unsigned i = 0; i < spins_; ++i) {
      // Relaxed: a hint only; the lock below orders the item.
      if (size_hint_.load(std::memory_order_relaxed) > 0) break;
      backoff();
    }
    std::unique_lock lk(m_);
    State& st = state_.get();
    for (;;) {
      if (st.size > 0) {
        out = std::move(st.ring[st.head]);
        st.head = (st.head + 1) % capacity_;
        --st.size;
        // Relaxed: a hint for pollers, as in push.
        size_hint_.store(st.size, std::memory_order_relaxed);
        const bool wake = st.push_waiters > 0;
        lk.unlock();
        if (wake) not_full_.notify_one();
        return Pop::kItem;
      }
      if (st.stopped) return Pop::kStop;
      if (st.closed && st.round == round) {
        ++round;
        return ++st.drained == consumers_ ? Pop::kLast : Pop::kDrained;
      }
      ++st.pop_waiters;
      not_empty_.wait(lk);
      --st.pop_waiters;
    }
  }

  /// Ends the current round: consumers drain what is queued, then each gets kDrained / kLast.
  void close() {
    {
      std::lock_guard lk(m_);
      state_.get().closed = true;
    }
    not_empty_.notify_all();
  }

  /// Starts the next round. @pre every consumer has seen the end of the current one (kLast
  /// was returned), and the queue is empty.
  void reopen() {
    std::lock_guard lk(m_);
    State& st = state_.get();
    st.closed = false;
    st.drained = 0;
    ++st.round;
  }

  /// Ends the queue for good: every consumer gets kStop once the queue is empty.
  void stop() {
    {
      std::lock_guard lk(m_);
      state_.get().stopped = true;
    }
    not_empty_.notify_all();
  }

  [[nodiscard]] std::size_t capacity() const { return capacity_; }

 private:
  static constexpr unsigned kDefaultSpins = 10;

  struct State {
    std::vector<T> ring;
    std::size_t head = 0;
    std::size_t size = 0;
    std::size_t pop_waiters = 0;   // consumers waiting on not_empty_
    std::size_t push_waiters = 0;  // producers waiting on not_full_
    std::uint64_t round = 0;       // rounds reopened so far
    std::size_t drained = 0;       // consumers that saw this round's end
    bool closed = false;
    bool stopped = false;
  };

  const std::size_t capacity_;
  const std::size_t consumers_;
  const unsigned spins_;
  typename S::mutex m_;
  typename S::condition_variable not_empty_;  // consumers: an item, the round's end, or stop
  typename S::condition_variable not_full_;   // producers: a slot was freed
  typename S::template cell<State> state_;    // guarded by m_
  alignas(64) typename S::template atomic<std::size_t> size_hint_{0};
};

}  // namespace cpb::patterns::pipeline::detail

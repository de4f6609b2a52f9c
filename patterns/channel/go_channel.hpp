// SPDX-License-Identifier: Apache-2.0
/// @file
/// A CSP channel after Go's `hchan`: one mutex per channel, a buffer (a deque holding up to
/// the capacity: none for a rendezvous channel, any number for an unbounded one), and two
/// FIFO wait queues of parked senders and receivers. A send to a waiting receiver hands the item
/// over directly (no trip through the buffer); a receive from a full buffer refills it from the
/// first parked sender. `select` parks one waiter on every channel's receive queue; the first
/// channel that claims the waiter delivers, the others find it claimed and skip it.
///
/// Waiters live on the parked thread's stack. Each has its own mutex, condition variable and
/// state; a claimer takes the channel's mutex, then the waiter's (the only lock order), sets the
/// result and notifies under the waiter's mutex, so the parked thread cannot return (and destroy
/// the waiter) before the claimer is done with it. A select waiter, once woken, removes itself
/// from the other channels' queues under their mutexes before it returns.
///
/// Close: later sends return false; receivers drain the buffer, then get false; close wakes
/// every parked receiver (false) and every parked sender (false: its item was not delivered).
///
/// Progress: blocking (every operation takes the channel's mutex; parked threads sleep on a
/// condition variable).
/// Memory ordering: the mutexes order everything: the channel's mutex orders the buffer and the
/// queues, a waiter's mutex orders its result (unlock → lock is the release → acquire edge).
/// When to use: message passing between threads with blocking, close and select, when each
/// message is worth a lock (microseconds of work). When not to use: tiny messages at high rates
/// between one producer and one consumer (a lock-free SPSC ring is several times faster).
/// Reference: Hoare, "Communicating Sequential Processes", CACM 1978; the Go runtime,
/// `src/runtime/chan.go` and `select.go` (hchan, sudog, selectgo); Cox, "Bell Labs and CSP
/// threads", 2005.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/channel/status.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <string_view>

namespace cpb::patterns::channel {

namespace detail {

/// A parked sender, receiver or select. Claimed at most once.
template <class S>
struct Waiter {
  typename S::mutex m;
  typename S::condition_variable cv;
  typename S::template cell<bool> done{false};
  typename S::template cell<bool> closed{false};
  typename S::template cell<std::uint64_t> value{0};  // a sender's item, or what a receiver got
  typename S::template cell<std::size_t> index{0};    // which channel of a select delivered

  /// Called by a claimer holding the channel's mutex: completes the waiter unless another
  /// channel already did. Returns whether this call completed it.
  bool complete(std::uint64_t v, bool is_closed, std::size_t i) {
    std::lock_guard<typename S::mutex> lk(m);
    if (done.load()) return false;
    value.store(v);
    closed.store(is_closed);
    index.store(i);
    done.store(true);
    cv.notify_one();
    return true;
  }

  void wait() {
    std::unique_lock<typename S::mutex> lk(m);
    while (!done.load()) cv.wait(lk);
  }
};

}  // namespace detail

template <class S = sync::Real>
class GoChannel {
 public:
  static constexpr std::string_view kName = "go_channel";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kRendezvous = true;
  static constexpr bool kBounded = true;
  static constexpr bool kUnbounded = true;
  static constexpr bool kNativeSelect = true;

  /// 0: rendezvous; kUnbounded: unbounded; else bounded to `capacity` items.
  explicit GoChannel(std::size_t capacity) : cap_(capacity) {}
  GoChannel(const GoChannel&) = delete;
  GoChannel& operator=(const GoChannel&) = delete;

  [[nodiscard]] std::size_t capacity() const { return cap_; }

  /// Delivers `v` (to a parked receiver, into the buffer, or by parking until a receiver takes
  /// it). False when the channel is or becomes closed before `v` was taken.
  bool send(std::uint64_t v) {
    std::unique_lock<typename S::mutex> lk(m_);
    if (closed_.load()) return false;
    while (!recvq_.empty()) {
      const Entry e = recvq_.front();
      recvq_.pop_front();
      if (e.w->complete(v, false, e.index)) return true;
    }
    if (cap_ != 0 && buf_.size() < cap_) {
      buf_.push_back(v);
      return true;
    }
    detail::Waiter<S> w;
    w.value.store(v);
    sendq_.push_back({&w, 0});
    lk.unlock();
    w.wait();
    return !w.closed.load();
  }

  /// Takes the next item into `out`; false when the channel is closed and drained.
  bool recv(std::uint64_t& out) {
    std::unique_lock<typename S::mutex> lk(m_);
    switch (take_locked(out)) {
      case Recv::kOk:
        return true;
      case Recv::kClosed:
        return false;
      case Recv::kEmpty:
        break;
    }
    detail::Waiter<S> w;
    recvq_.push_back({&w, 0});
    lk.unlock();
    w.wait();
    if (w.closed.load()) return false;
    out = w.value.load();
    return true;
  }

  Recv try_recv(std::uint64_t& out) {
    std::lock_guard<typename S::mutex> lk(m_);
    return take_locked(out);
  }

  /// Later sends return false; wakes every parked sender and receiver. Idempotent.
  void close() { close_waking(true); }

  /// Receives from whichever channel is ready, trying them from `start` round the list (the
  /// caller rotates `start`: no channel starves); parks on all of them when none is.
  static Selected select(std::span<GoChannel* const> chans, std::uint64_t& out, std::size_t start) {
    const std::size_t n = chans.size();
    if (n == 0) throw std::invalid_argument("select over no channels");
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = (start + k) % n;
      std::lock_guard<typename S::mutex> lk(chans[i]->m_);
      const Recv r = chans[i]->take_locked(out);
      if (r != Recv::kEmpty) return {i, r == Recv::kOk};
    }
    detail::Waiter<S> w;
    std::size_t parked = 0;  // chans[(start + k) % n] for k < parked hold w
    for (; parked < n; ++parked) {
      const std::size_t i = (start + parked) % n;
      GoChannel& c = *chans[i];
      std::lock_guard<typename S::mutex> lk(c.m_);
      if (c.buf_.empty() && c.sendq_.empty() && !c.closed_.load()) {
        c.recvq_.push_back({&w, i});
        continue;
      }
      // Ready since the poll: complete ourselves, unless a channel we parked on already did.
      std::lock_guard<typename S::mutex> wl(w.m);
      if (!w.done.load()) {
        std::uint64_t v = 0;
        const bool ok = c.take_locked(v) == Recv::kOk;
        w.value.store(v);
        w.closed.store(!ok);
        w.index.store(i);
        w.done.store(true);
      }
      break;
    }
    w.wait();
    for (std::size_t k = 0; k < parked; ++k) {
      GoChannel& c = *chans[(start + k) % n];
      std::lock_guard<typename S::mutex> lk(c.m_);
      std::erase_if(c.recvq_, [&w](const Entry& e) { return e.w == &w; });
    }
    out = w.value.load();
    return {w.index.load(), !w.closed.load()};
  }

 protected:
  /// close(); `wake_receivers` false is the seeded bug of the model check's twin.
  void close_waking(bool wake_receivers) {
    std::lock_guard<typename S::mutex> lk(m_);
    if (closed_.load()) return;
    closed_.store(true);
    if (wake_receivers) {
      for (const Entry& e : recvq_) e.w->complete(0, true, e.index);
      recvq_.clear();
    }
    for (const Entry& e : sendq_) e.w->complete(0, true, 0);
    sendq_.clear();
  }

 private:
  struct Entry {
    detail::Waiter<S>* w;
    std::size_t index;  // the channel's place in the select that parked w
  };

  /// Under m_: the buffer's head (refilled from the first parked sender), else a parked
  /// sender's item, else kClosed or kEmpty.
  Recv take_locked(std::uint64_t& out) {
    if (!buf_.empty()) {
      out = buf_.front();
      buf_.pop_front();
      if (!sendq_.empty()) {
        const Entry e = sendq_.front();
        sendq_.pop_front();
        buf_.push_back(e.w->value.load());
        e.w->complete(0, false, 0);  // parked senders are never claimed elsewhere
      }
      return Recv::kOk;
    }
    if (!sendq_.empty()) {
      const Entry e = sendq_.front();
      sendq_.pop_front();
      out = e.w->value.load();
      e.w->complete(0, false, 0);
      return Recv::kOk;
    }
    return closed_.load() ? Recv::kClosed : Recv::kEmpty;
  }

  typename S::mutex m_;
  const std::size_t cap_;
  std::deque<std::uint64_t> buf_;  // under m_
  std::deque<Entry> recvq_;        // under m_
  std::deque<Entry> sendq_;        // under m_
  typename S::template cell<bool> closed_{false};
};

}  // namespace cpb::patterns::channel

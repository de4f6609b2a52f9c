// SPDX-License-Identifier: Apache-2.0
/// @file
/// The floor: a std::deque under one mutex with two condition variables, `not_empty_` for
/// receivers and `not_full_` for senders (also "my item was taken" for rendezvous senders).
/// A rendezvous channel (capacity 0) queues the item with a ticket and waits until a receiver
/// has taken that ticket; close removes the items not taken, and their senders return false.
/// `select` polls (`poll_select`): there is no wait queue to park one waiter on several
/// channels.
///
/// Progress: blocking.
/// Memory ordering: the mutex orders everything; the condition variables are waited on and
/// notified under it.
/// When to use: the textbook reference; simplest to get right. When not to use: many
/// senders and receivers (notify_all on every hand-off wakes them all), or select (it polls).
/// Reference: Butenhof, "Programming with POSIX Threads", 1997, §3.3 (condition variables);
/// Hoare, "Monitors", CACM 1974.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/channel/status.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <string_view>

namespace cpb::patterns::channel {

template <class S = sync::Real>
class DequeChannel {
 public:
  static constexpr std::string_view kName = "deque_channel";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  static constexpr bool kRendezvous = true;
  static constexpr bool kBounded = true;
  static constexpr bool kUnbounded = true;
  static constexpr bool kNativeSelect = false;

  explicit DequeChannel(std::size_t capacity) : cap_(capacity) {}
  DequeChannel(const DequeChannel&) = delete;
  DequeChannel& operator=(const DequeChannel&) = delete;

  bool send(std::uint64_t v) {
    std::unique_lock<typename S::mutex> lk(m_);
    if (cap_ == 0) {
      if (closed_.load()) return false;
      const std::uint64_t ticket = sent_.load() + 1;
      sent_.store(ticket);
      q_.push_back(v);
      not_empty_.notify_one();
      while (taken_.load() < ticket && !closed_.load()) not_full_.wait(lk);
      return taken_.load() >= ticket;
    }
    while (!closed_.load() && q_.size() >= cap_) not_full_.wait(lk);
    if (closed_.load()) return false;
    q_.push_back(v);
    not_empty_.notify_one();
    return true;
  }

  bool recv(std::uint64_t& out) {
    std::unique_lock<typename S::mutex> lk(m_);
    while (q_.empty() && !closed_.load()) not_empty_.wait(lk);
    return take_locked(out) == Recv::kOk;
  }

  Recv try_recv(std::uint64_t& out) {
    std::lock_guard<typename S::mutex> lk(m_);
    return take_locked(out);
  }

  void close() {
    std::lock_guard<typename S::mutex> lk(m_);
    closed_.store(true);
    if (cap_ == 0) q_.clear();  // the items of parked rendezvous senders: not delivered
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  static Selected select(std::span<DequeChannel* const> chans, std::uint64_t& out,
                         std::size_t start) {
    return poll_select(chans, out, start);
  }

 private:
  Recv take_locked(std::uint64_t& out) {
    if (q_.empty()) return closed_.load() ? Recv::kClosed : Recv::kEmpty;
    out = q_.front();
    q_.pop_front();
    if (cap_ == 0) {
      taken_.store(taken_.load() + 1);
      not_full_.notify_all();  // the rendezvous senders wait for their own ticket
    } else {
      not_full_.notify_one();
    }
    return Recv::kOk;
  }

  typename S::mutex m_;
  typename S::condition_variable not_empty_;
  typename S::condition_variable not_full_;
  const std::size_t cap_;
  std::deque<std::uint64_t> q_;  // under m_
  typename S::template cell<bool> closed_{false};
  typename S::template cell<std::uint64_t> sent_{0};   // rendezvous tickets handed out
  typename S::template cell<std::uint64_t> taken_{0};  // rendezvous items received
};

}  // namespace cpb::patterns::channel

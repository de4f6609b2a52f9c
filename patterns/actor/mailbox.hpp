// SPDX-License-Identifier: Apache-2.0
/// @file
/// An actor's mailbox: a multi-producer single-consumer queue (Vyukov's intrusive MPSC list with
/// a stub node) joined to the actor's `scheduled` flag, so that an actor is scheduled at most
/// once at a time and no message is left behind with nobody scheduled to take it.
///
/// The hand-off: a sender pushes, then claims the flag (`push` returns true when it won it: the
/// caller must schedule the actor). Only the holder of the flag pops. A holder that finishes a
/// batch calls `release`: it clears the flag, then looks at the queue again; a message that
/// arrived meanwhile makes it try to claim the flag back (`release` returns true: schedule the
/// actor again). Clearing before looking is what makes it correct: the other order (look, find
/// nothing, then clear) loses the wake-up of a message pushed between the two steps, which is
/// the seeded twin `kLoseWakeup` that the model check must catch (actor.model.cpp).
///
/// Progress: `push` is wait-free (one exchange, one store, a load, at most one exchange). `pop`
/// is lock-free for the consumer, except that a push caught between its exchange and its link
/// hides the messages behind it until it links (Vyukov's queue is not linearizable there);
/// `release` then reports the queue non-empty and the actor is scheduled again, so the consumer
/// never spins.
/// Memory ordering: the node link is a release store paired with the consumer's acquire load
/// (the message's construction happens-before its handling). The flag protocol is the store-load
/// (Dekker) pattern, all seq_cst: a sender exchanges `tail_` then reads `scheduled_`; a holder
/// stores `scheduled_ = false` then reads `tail_`; one of them sees the other.
/// Reference: D. Vyukov, "Intrusive MPSC node-based queue" (1024cores.net, 2010); Akka's
/// `Mailbox` status word (akka/akka, `dispatch/Mailbox.scala`).
#pragma once

#include "harness/core/sync.hpp"

#include <atomic>
#include <optional>
#include <utility>

namespace cpb::patterns::actor {

template <class T, class S = sync::Real, bool kLoseWakeup = false>
class Mailbox {
 public:
  Mailbox() : head_(S::template create<Node>()) { tail_.store(head_); }

  ~Mailbox() {
    while (pop()) {
    }
    S::template destroy<Node>(head_);
  }

  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  /// Enqueues `v` (any thread). Returns true when the caller claimed the schedule and must
  /// schedule the actor.
  bool push(T v) {
    Node* n = S::template create<Node>(std::move(v));
    Node* prev = tail_.exchange(n);  // seq_cst: the store side of the Dekker pair with release()
    // Release: publishes n (and its message) to the consumer's acquire load in pop().
    prev->next.store(n, std::memory_order_release);
    // Already scheduled: the holder's release() will see n (Dekker: its store of false comes
    // after this load in the total order only if its read of tail_ sees our exchange).
    if (scheduled_.load()) return false;
    return !scheduled_.exchange(true);
  }

  /// Claims the schedule without a message (a restart or stop request); true: schedule it.
  bool wake() {
    if (scheduled_.load()) return false;
    return !scheduled_.exchange(true);
  }

  /// The oldest message, or nothing. Only the holder of the schedule.
  std::optional<T> pop() {
    // Acquire: pairs with the release store of the link in push().
    Node* next = head_->next.load(std::memory_order_acquire);
    if (next == nullptr) return std::nullopt;
    std::optional<T> v(std::move(next->value));
    next->value.reset();
    S::template destroy<Node>(head_);
    head_ = next;  // next becomes the stub
    return v;
  }

  /// True when no message is queued or being pushed. Only the holder of the schedule.
  [[nodiscard]] bool empty() const { return tail_.load() == head_; }

  /// The holder finished a batch. Returns true when it holds the schedule again (a message came
  /// in): the caller must schedule the actor again.
  bool release() {
    if constexpr (kLoseWakeup) {
      // The seeded bug: look, then clear. A push between the two finds the flag set and does
      // not schedule; the flag is then cleared with the message left in the queue.
      if (!empty()) return true;
      scheduled_.store(false);
      return false;
    } else {
      // head_ is read while we still hold the schedule: once the flag is clear a sender may
      // schedule the actor and its new holder moves head_.
      const Node* const head = head_;
      scheduled_.store(false);  // seq_cst: the store side of the Dekker pair with push()
      if (tail_.load() == head) return false;
      return !scheduled_.exchange(true);
    }
  }

 private:
  struct Node {
    Node() = default;
    explicit Node(T v) : value(std::move(v)) {}
    typename S::template atomic<Node*> next{nullptr};
    std::optional<T> value;
  };

  Node* head_;  // the consumer's stub; the holder of the schedule only
  alignas(64) typename S::template atomic<Node*> tail_{nullptr};
  alignas(64) typename S::template atomic<bool> scheduled_{false};
};

}  // namespace cpb::patterns::actor

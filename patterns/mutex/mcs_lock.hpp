// SPDX-License-Identifier: Apache-2.0
/// @file
/// MCS queue lock, in the K42 form that keeps the standard `lock()` / `unlock()` interface.
///
/// Waiters form a linked queue through `tail_` and each spins on a flag in its own node, so a
/// hand-off touches one waiter's cache line instead of every waiter's. Classic MCS passes the
/// node to `unlock`; here a waiter's node lives on its stack only while it waits. Once it holds
/// the lock it moves its place in the queue into the lock's own node (`head_`: "held, and this
/// is my successor"), so `unlock` needs no argument and a thread may hold any number of MCS
/// locks at once (no thread_local node, which would also break under the model checker's
/// fibers). An uncontended lock is one CAS of `tail_` from null to `&head_`.
///
/// Progress: blocking; FIFO among queued waiters (a newcomer can still take a free lock first).
/// Waiters spin with exponential back-off, then yield.
/// Memory ordering: the hand-off is the release store of the successor's `waiting` flag, paired
/// with its acquire load; the uncontended path pairs the acquire CAS of `tail_` (null → head)
/// with the release CAS (head → null) in `unlock`. Queue links (`next`) are published with
/// release stores and read with acquire loads, so a node's initialisation is seen before it is
/// written by its predecessor.
/// When to use: many cores contending for one lock (each waiter spins locally), threads ≤ cores.
/// When not to use: oversubscription: as with every FIFO spinlock, the lock is handed to the
/// next waiter even when it is not running, and everyone behind it waits.
/// Reference: Mellor-Crummey & Scott, ACM TOCS 1991; the K42 variant (Auslander et al., US
/// patent 6,691,194) as given in Scott, "Shared-Memory Synchronization", 2013, §4.3.2.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"

#include <atomic>
#include <string_view>

namespace cpb::patterns::mutex {

template <class S = sync::Real>
class McsLock {
 public:
  static constexpr std::string_view kName = "mcs_lock";
  static constexpr Progress kProgress = Progress::kBlocking;

  void lock() {
    for (;;) {
      // Relaxed: only chooses the path; the CASes below order.
      Node* prev = tail_.load(std::memory_order_relaxed);
      if (prev == nullptr) {
        // Free: take it without a queue node. Acquire pairs with the release CAS in unlock()
        // that emptied the queue.
        if (tail_.compare_exchange_weak(prev, &head_, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
          return;
        }
        continue;
      }
      Node me;  // waiting = true, next = null
      // acq_rel: release publishes `me`'s initialisation to the thread that reads it as its
      // predecessor; acquire pairs with the CAS that installed `prev`, so `prev` is initialised.
      if (!tail_.compare_exchange_weak(prev, &me, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
        continue;
      }
      // Release pairs with the acquire load of `next` by prev's owner (in unlock or handover).
      prev->next.store(&me, std::memory_order_release);
      sync::Backoff<S> backoff;
      // Acquire pairs with the release store in unlock(): the previous holder's writes are seen.
      while (me.waiting.load(std::memory_order_acquire)) backoff();
      handover(me);
      return;
    }
  }

  bool try_lock() {
    Node* expected = nullptr;
    // Acquire pairs with the release CAS in unlock() that emptied the queue.
    return tail_.compare_exchange_strong(expected, &head_, std::memory_order_acquire,
                                         std::memory_order_relaxed);
  }

  void unlock() {
    // Acquire pairs with the release store of a waiter linking itself behind head_.
    Node* succ = head_.next.load(std::memory_order_acquire);
    if (succ == nullptr) {
      Node* expected = &head_;
      // Release pairs with the acquire CAS of the next uncontended lock().
      if (tail_.compare_exchange_strong(expected, nullptr, std::memory_order_release,
                                        std::memory_order_relaxed)) {
        return;
      }
      // A waiter swung tail_ away from head_ and is about to link itself into head_.next.
      sync::Backoff<S> backoff;
      // Acquire pairs with the waiter's release store of the link.
      while ((succ = head_.next.load(std::memory_order_acquire)) == nullptr) backoff();
    }
    // Release pairs with the successor's acquire load of its flag: the hand-off. This is the
    // last access to the successor's node, which may leave its stack right after.
    succ->waiting.store(false, std::memory_order_release);
  }

 private:
  struct Node {
    typename S::template atomic<Node*> next{nullptr};
    typename S::template atomic<bool> waiting{true};
  };

  /// We hold the lock through our stack node `me`: move our successor (if any) into head_, so
  /// that unlock() finds it, and make the queue end at head_ instead of `me` if we are last.
  void handover(Node& me) {
    // Acquire pairs with the successor's release store of the link.
    Node* succ = me.next.load(std::memory_order_acquire);
    if (succ == nullptr) {
      // head_.next may still name us (the previous holder found us there): clear it before the
      // queue can end at head_ again. Relaxed: published by the release CAS just below.
      head_.next.store(nullptr, std::memory_order_relaxed);
      Node* expected = &me;
      // acq_rel: release publishes the cleared head_.next to the next waiter that swings tail_
      // away from head_ (its acquire CAS); acquire is not needed but keeps the CAS symmetric.
      if (tail_.compare_exchange_strong(expected, &head_, std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
        return;
      }
      // A successor swung tail_ past `me`; wait until it has linked itself.
      sync::Backoff<S> backoff;
      // Acquire pairs with the successor's release store of the link.
      while ((succ = me.next.load(std::memory_order_acquire)) == nullptr) backoff();
    }
    // Relaxed: only the holder reads head_.next while succ waits in the queue, and we hold it.
    head_.next.store(succ, std::memory_order_relaxed);
  }

  alignas(64) typename S::template atomic<Node*> tail_{nullptr};
  alignas(64) Node head_;  ///< the lock's own node: `next` = the holder's successor
};

}  // namespace cpb::patterns::mutex

// SPDX-License-Identifier: Apache-2.0
/// @file
/// Michael-Scott queue: an unbounded linked list with a dummy head node; producers link a node
/// after the last one with a CAS and swing `tail`, consumers advance `head` with a CAS. Nodes
/// are reclaimed with hazard pointers (harness/core/hazard_pointers.hpp), so no node is freed while
/// another thread may still read it, and no ABA can occur on `head` or `tail`.
///
/// Progress: lock-free (a failed CAS means another operation succeeded; a lagging tail is
/// helped forward by whoever sees it). Every push allocates a node (the global allocator is the
/// only blocking part).
/// Memory ordering: linking a node is a release CAS on `last->next`, paired with the acquire
/// (seq_cst) re-read of `head->next` in `protect`: the node's value is visible to the consumer
/// that takes it. The CASes on `head` and `tail` are seq_cst: the unlink of a node must be in
/// the total order with the hazard-pointer handshake (hazard_pointers.hpp).
/// Linearizable: push at the successful link CAS; pop at the head CAS, or, when empty, at the
/// re-read that finds `head->next` null while `head` is unchanged.
/// When to use: unbounded MPMC queue of moderate throughput, when a bound is not acceptable.
/// A bounded array queue (vyukov_mpmc) is several times faster: no allocation, no reclamation.
/// Reference: M. M. Michael and M. L. Scott, "Simple, fast, and practical non-blocking and
/// blocking concurrent queue algorithms", PODC 1996; hazard pointers: Michael, IEEE TPDS 2004.
#pragma once

#include "harness/core/hazard_pointers.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/lockfree_queue/bound.hpp"

#include <atomic>
#include <cstddef>
#include <memory>
#include <string_view>

namespace cpb::patterns::lockfree_queue {

template <class T, class S = sync::Real>
class MsQueue {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "ms_queue";
  static constexpr Progress kProgress = Progress::kLockFree;
  static constexpr bool kMultiProducer = true;
  static constexpr bool kMultiConsumer = true;
  static constexpr Bound kBound = Bound::kUnbounded;
  static constexpr bool kLinearizable = true;

  /// Unbounded: the capacity argument of the family's constructor is ignored.
  explicit MsQueue(std::size_t /*capacity*/ = 0) {
    auto* dummy = S::template create<Node>(T{});
    // Relaxed: the queue is not shared yet.
    head_.store(dummy, std::memory_order_relaxed);
    tail_.store(dummy, std::memory_order_relaxed);
  }

  ~MsQueue() {
    // Relaxed: no other thread may use the queue any more.
    Node* n = head_.load(std::memory_order_relaxed);
    while (n != nullptr) {
      Node* next = n->next.load(std::memory_order_relaxed);
      S::destroy(n);
      n = next;
    }
  }
  MsQueue(const MsQueue&) = delete;
  MsQueue& operator=(const MsQueue&) = delete;

  [[nodiscard]] std::size_t capacity() const { return 0; }

  bool try_push(const T& v) {
    // Owned until linked: an exception (the model checker abandoning an execution) frees it.
    auto owned = sync::make_owned<Node, S>(v);
    Node* const node = owned.get();
    typename sync::HazardDomain<S>::Guard g(domain_);
    for (;;) {
      Node* t = g.protect(0, tail_);
      // Acquire pairs with the release link CAS: `next` is a complete node.
      Node* next = t->next.load(std::memory_order_acquire);
      if (next != nullptr) {
        // The tail lags behind the last node: help swing it, then retry. seq_cst: see the file
        // comment.
        tail_.compare_exchange_strong(t, next);
        continue;
      }
      Node* expected = nullptr;
      // Release publishes the node's value to the consumer's acquire of `head->next`. A node's
      // `next` is set once, so success means `t` was the last node (and, protected, not freed).
      if (t->next.compare_exchange_strong(expected, node, std::memory_order_release,
                                          std::memory_order_relaxed)) {
        static_cast<void>(owned.release());      // the queue owns it now
        tail_.compare_exchange_strong(t, node);  // seq_cst; failure: someone helped already
        return true;
      }
    }
  }

  bool try_pop(T& out) {
    typename sync::HazardDomain<S>::Guard g(domain_);
    for (;;) {
      Node* h = g.protect(0, head_);
      // Relaxed: compared with `h` only, never dereferenced.
      Node* t = tail_.load(std::memory_order_relaxed);
      Node* next = g.protect(1, h->next);
      // seq_cst, after the slot store in protect(): `h` is still the head, so `next` has not
      // become a head yet and cannot have been retired before our slot named it.
      if (head_.load() != h) continue;
      if (next == nullptr) return false;  // empty: h is the head and has no successor
      if (h == t) {
        // The tail lags on the dummy: swing it before the head passes it.
        tail_.compare_exchange_strong(t, next);
        continue;
      }
      // seq_cst: the unlink, ordered with the scans of the hazard-pointer handshake.
      if (head_.compare_exchange_strong(h, next)) {
        out = next->value.load();  // `next` is protected by slot 1; its value was acquired
        g.retire(h);
        return true;
      }
    }
  }

 private:
  struct Node {
    explicit Node(const T& v) : value(v) {}
    typename S::template cell<T> value;
    typename S::template atomic<Node*> next{nullptr};
  };

  // 128 bytes apart: x86 prefetches cache lines in 128-byte pairs.
  static constexpr std::size_t kSeparation = 128;
  alignas(kSeparation) typename S::template atomic<Node*> head_{nullptr};
  alignas(kSeparation) typename S::template atomic<Node*> tail_{nullptr};
  alignas(kSeparation) sync::HazardDomain<S> domain_;
};

}  // namespace cpb::patterns::lockfree_queue

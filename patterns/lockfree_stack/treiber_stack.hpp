// SPDX-License-Identifier: Apache-2.0
/// @file
/// Treiber stack with hazard-pointer reclamation: a singly linked list whose head is swung by
/// compare-and-swap. A pop protects the head with a hazard pointer before it reads `next`, so a
/// node is never freed (and its address never reused) while a pop may still read it: this is
/// also what rules out ABA on the head.
///
/// Progress: lock-free (a CAS fails only because another operation succeeded).
/// Memory ordering: a push publishes its node with a release CAS on `top_`; a pop reads `top_`
/// through the hazard pointer's seq_cst re-read (an acquire), which pairs with it, so the node's
/// value and `next` are visible. The pop's unlinking CAS is seq_cst (hazard-pointer protocol,
/// see harness/core/hazard_pointers.hpp). CAS failures are relaxed: they only retry.
/// When to use: an unbounded LIFO shared by a few threads, where a lock-free guarantee matters
/// (no thread can block the others by being descheduled while holding a lock). When not to use:
/// heavy contention on many cores, where the single head serialises everything (see
/// elimination_stack.hpp), or when a mutex-guarded vector is fast enough (it often is).
/// Reference: R. K. Treiber, "Systems programming: coping with parallelism", IBM RJ 5118, 1986.
#pragma once

#include "harness/core/hazard_pointers.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace cpb::patterns::lockfree_stack {

namespace detail {

/// A stack node. `value` and `next` are written before the node is published and only read
/// after; both are `cell`s so the model checker flags a read that is not ordered after the
/// write.
template <class S>
struct Node {
  explicit Node(std::uint64_t v) : value(v) {}
  typename S::template cell<std::uint64_t> value;
  typename S::template cell<Node*> next{nullptr};
};

/// The Treiber stack's head and single-attempt operations, shared by TreiberStack (which backs
/// off and retries) and EliminationStack (which tries the elimination array in between).
template <class S>
class TreiberCore {
 public:
  using NodeT = Node<S>;
  using Hazards = sync::HazardDomain<S>;
  using Guard = typename Hazards::Guard;

  /// The outcome of one pop attempt.
  enum class Pop { kGot, kEmpty, kContended };

  explicit TreiberCore(std::size_t scan_threshold) : hazards_(scan_threshold) {}
  TreiberCore(const TreiberCore&) = delete;
  TreiberCore& operator=(const TreiberCore&) = delete;
  ~TreiberCore() noexcept(sync::kNothrowSync<S>) {
    // Relaxed: no operation runs concurrently with the destructor.
    for (NodeT* n = top_.load(std::memory_order_relaxed); n != nullptr;) {
      NodeT* next = n->next.load();
      S::destroy(n);
      n = next;
    }
  }

  /// One attempt to link `n` on top; false when another operation moved the head first.
  /// Callers own `n` (a `sync::owned`) until this returns true: under the model checker an
  /// abandoned execution unwinds from the CAS before it happens, and must not leak the node.
  bool try_push(NodeT* n) {
    // Relaxed: the head is not dereferenced, only linked below and compared by the CAS.
    NodeT* t = top_.load(std::memory_order_relaxed);
    n->next.store(t);
    // Release pairs with the pop's acquiring re-read of top_ (Guard::protect): n's value and
    // next are visible to whoever finds n on top. Failure relaxed: we only retry.
    return top_.compare_exchange_strong(t, n, std::memory_order_release, std::memory_order_relaxed);
  }

  /// One attempt to pop, under `g` (whose hazard slot it uses). On kGot, `out` holds the value.
  Pop try_pop(Guard& g, std::uint64_t& out) {
    NodeT* t = g.protect(0, top_);
    if (t == nullptr) return Pop::kEmpty;
    NodeT* next = t->next.load();  // safe: t is protected, and next never changes once pushed
    // seq_cst: the unlink precedes any later scan in the total order
    // (harness/core/hazard_pointers.hpp). Failure relaxed: we only retry, re-protecting the new
    // head.
    if (!top_.compare_exchange_strong(t, next, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
      return Pop::kContended;
    }
    out = t->value.load();
    g.clear(0);
    g.retire(t);
    return Pop::kGot;
  }

  Hazards& hazards() { return hazards_; }

 private:
  alignas(64) typename S::template atomic<NodeT*> top_{nullptr};
  alignas(64) Hazards hazards_;
};

}  // namespace detail

template <class S = sync::Real>
class TreiberStack {
 public:
  static constexpr std::string_view kName = "treiber_stack";
  static constexpr Progress kProgress = Progress::kLockFree;

  TreiberStack() : TreiberStack(sync::kDefaultScanThreshold<S>) {}
  /// `scan_threshold`: retired nodes per hazard record before a scan (1: free eagerly).
  explicit TreiberStack(std::size_t scan_threshold) : core_(scan_threshold) {}

  void push(std::uint64_t v) {
    auto n = sync::make_owned<detail::Node<S>, S>(v);
    sync::Backoff<S> backoff;
    while (!core_.try_push(n.get())) backoff();
    n.release();  // linked: the stack owns it now
  }

  std::optional<std::uint64_t> try_pop() {
    typename Core::Guard g(core_.hazards());
    sync::Backoff<S> backoff;
    std::uint64_t v = 0;
    for (;;) {
      switch (core_.try_pop(g, v)) {
        case Core::Pop::kGot:
          return v;
        case Core::Pop::kEmpty:
          return std::nullopt;
        case Core::Pop::kContended:
          backoff();
          break;
      }
    }
  }

 private:
  using Core = detail::TreiberCore<S>;
  Core core_;
};

}  // namespace cpb::patterns::lockfree_stack

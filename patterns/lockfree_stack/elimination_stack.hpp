// SPDX-License-Identifier: Apache-2.0
/// @file
/// Elimination-backoff stack (Hendler, Shavit, Yerushalmi 2004): a Treiber stack (with the
/// hazard-pointer reclamation of treiber_stack.hpp) whose back-off is an elimination array. An
/// operation first tries the central stack once; if its CAS loses to another operation, it
/// goes to a random slot of the array and waits there briefly for a partner of the opposite
/// kind. A push and a pop that meet exchange the value directly and both finish without
/// touching the head: they linearize together (the push, then at once the pop) at the moment
/// they meet, while both are in progress. Under contention the array absorbs pairs of
/// operations that would otherwise queue on the head.
///
/// A slot is one word:
///
/// | word        | meaning                                                   | who resets it |
/// |-------------|-----------------------------------------------------------|---------------|
/// | 0           | empty                                                     |               |
/// | node        | a push offers `node` and waits                            | that push     |
/// | 1           | the offered node was taken by a pop (which now owns it)   | that push     |
/// | 2           | a pop waits for a value                                   | that pop      |
/// | node \| 1   | a push handed `node` to the waiting pop (which owns it)   | that pop      |
///
/// Only the operation that put its own mark in an empty slot returns it to empty, so a slot has
/// one owner from mark to reset and the partner only ever changes the mark once. An exchanged
/// node was never on the central stack (a push offers only after its CAS failed), so no hazard
/// pointer can name it and the pop deletes it at once.
///
/// Progress: lock-free (every wait in the array is bounded by `kWaitRounds`).
/// Memory ordering: as treiber_stack.hpp for the central stack. In the array, a push publishes
/// its node with a release CAS (offer, or hand-over to a waiting pop) and the pop that takes it
/// acquires (its taking CAS, or the failing withdrawal CAS that finds the hand-over), so the
/// node's value is visible. Marks that publish nothing (a pop's wait mark, resets to empty,
/// "taken") are relaxed.
/// When to use: many threads pushing and popping at once on many cores, where pairs cancel out
/// in the array instead of serialising on the head. When not to use: few cores (the array
/// rarely finds a partner and the wait is lost time; see the README's numbers), or one-sided
/// workloads (only pushes, or only pops), which cannot eliminate.
/// Reference: D. Hendler, N. Shavit, L. Yerushalmi, "A scalable lock-free stack algorithm",
/// SPAA 2004.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/lockfree_stack/hazard_pointers.hpp"
#include "patterns/lockfree_stack/treiber_stack.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace cpb::patterns::lockfree_stack {

template <class S = sync::Real>
class EliminationStack {
  using Core = detail::TreiberCore<S>;
  using NodeT = typename Core::NodeT;

 public:
  static constexpr std::string_view kName = "elimination_stack";
  static constexpr Progress kProgress = Progress::kLockFree;
  /// Slots in the elimination array (a small machine: a wide array makes meetings rare).
  static constexpr std::size_t kSlots = 2;
  /// How many times a waiting operation looks at its slot (with a pause between) before it
  /// withdraws and goes back to the central stack.
  static constexpr unsigned kWaitRounds = 32;

  EliminationStack() : EliminationStack(kDefaultScanThreshold) {}
  /// `scan_threshold`: retired nodes per hazard record before a scan (1: free eagerly).
  explicit EliminationStack(std::size_t scan_threshold) : core_(scan_threshold) {}

  void push(std::uint64_t v) {
    auto* n = new NodeT(v);
    sync::Backoff<S> backoff;  // after a failed meeting: escalates to yield when oversubscribed
    while (!core_.try_push(n) && !eliminate_push(n)) backoff();
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
          if (eliminate_pop(v)) return v;
          backoff();
          break;
      }
    }
  }

 private:
  static constexpr std::uintptr_t kEmpty = 0;
  static constexpr std::uintptr_t kTaken = 1;
  static constexpr std::uintptr_t kWaiting = 2;
  static_assert(alignof(NodeT) >= 4, "slot marks live in a node pointer's two low bits");

  static std::uintptr_t word(NodeT* n) { return reinterpret_cast<std::uintptr_t>(n); }
  static NodeT* node(std::uintptr_t w) { return reinterpret_cast<NodeT*>(w & ~std::uintptr_t{3}); }
  static bool is_offer(std::uintptr_t w) { return w != kEmpty && (w & 3) == 0; }

  struct alignas(64) Slot {
    typename S::template atomic<std::uintptr_t> word{kEmpty};
  };

  /// A random slot: a per-OS-thread xorshift, a hint only (any slot is correct).
  Slot& pick() {
    thread_local std::uint32_t x =
        static_cast<std::uint32_t>(detail::thread_hint()) * 2654435761U + 1;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return slots_[x % kSlots];
  }

  /// Tries to give `n` to a pop through the array; false when no pop came (n is still ours).
  bool eliminate_push(NodeT* n) {
    Slot& s = pick();
    // Relaxed: we read nothing through a waiting pop's mark.
    std::uintptr_t cur = s.word.load(std::memory_order_relaxed);
    if (cur == kWaiting) {
      // Release pairs with the waiting pop's acquire (its failing withdrawal): n's value is
      // visible to it. Failure relaxed: the pop left or someone else served it.
      return s.word.compare_exchange_strong(cur, word(n) | 1, std::memory_order_release,
                                            std::memory_order_relaxed);
    }
    if (cur != kEmpty) return false;
    // Release pairs with the acquire CAS of the pop that takes the offer. Failure relaxed.
    if (!s.word.compare_exchange_strong(cur, word(n), std::memory_order_release,
                                        std::memory_order_relaxed)) {
      return false;
    }
    for (unsigned i = 0; i < kWaitRounds; ++i) {
      // Relaxed: "taken" publishes nothing to us; the node now belongs to the pop.
      if (s.word.load(std::memory_order_relaxed) != word(n)) break;
      S::pause();
    }
    std::uintptr_t mine = word(n);
    // Relaxed both ways: withdrawing keeps n (nothing to read); failing means "taken".
    if (s.word.compare_exchange_strong(mine, kEmpty, std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
      return false;
    }
    // A pop took n and owns it. The slot is still ours to reset; relaxed: publishes nothing.
    s.word.store(kEmpty, std::memory_order_relaxed);
    return true;
  }

  /// Tries to get a value from a push through the array; false when none came.
  bool eliminate_pop(std::uint64_t& out) {
    Slot& s = pick();
    // Relaxed: a first look; the CAS below acquires what it takes.
    std::uintptr_t cur = s.word.load(std::memory_order_relaxed);
    if (is_offer(cur)) {
      // Acquire pairs with the push's release CAS that offered the node. Failure relaxed: the
      // push withdrew or another pop took it.
      if (!s.word.compare_exchange_strong(cur, kTaken, std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
        return false;
      }
      NodeT* n = node(cur);
      out = n->value.load();
      delete n;
      return true;
    }
    if (cur != kEmpty) return false;
    // Relaxed: a waiting mark publishes nothing. Failure relaxed: someone else got the slot.
    if (!s.word.compare_exchange_strong(cur, kWaiting, std::memory_order_relaxed,
                                        std::memory_order_relaxed)) {
      return false;
    }
    for (unsigned i = 0; i < kWaitRounds; ++i) {
      // Relaxed: only a hint to stop waiting; the CAS below acquires.
      if (s.word.load(std::memory_order_relaxed) != kWaiting) break;
      S::pause();
    }
    std::uintptr_t mine = kWaiting;
    // Acquire (both outcomes): on failure the word is a push's hand-over, released by its CAS,
    // and we read the node's value. Success means we withdrew.
    if (s.word.compare_exchange_strong(mine, kEmpty, std::memory_order_acquire,
                                       std::memory_order_acquire)) {
      return false;
    }
    NodeT* n = node(mine);
    out = n->value.load();
    delete n;
    // The slot is ours to reset; relaxed: publishes nothing.
    s.word.store(kEmpty, std::memory_order_relaxed);
    return true;
  }

  Core core_;
  std::array<Slot, kSlots> slots_{};
};

}  // namespace cpb::patterns::lockfree_stack

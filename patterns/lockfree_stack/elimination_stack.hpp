// SPDX-License-Identifier: Apache-2.0
/// @file
/// Elimination-backoff stack (after Hendler, Shavit, Yerushalmi 2004): a Treiber stack (with the
/// hazard-pointer reclamation of treiber_stack.hpp) whose back-off is an elimination array. An
/// operation first tries the central stack once; if its CAS loses to another operation it turns
/// to the array, where a push and a pop that collide exchange the value directly and both
/// finish without touching the head. They linearize together (the push, then at once the pop)
/// at the moment the pop takes the value, while both are in progress. Under contention the
/// array absorbs pairs of operations that would otherwise queue on the head.
///
/// A simplification of HSY's collision layer: only a push waits in the array. A push that lost
/// its CAS claims an empty slot, writes its value there, marks it offered and waits up to
/// `kWaitRounds` pause rounds; a pop that lost its CAS looks at the slots and takes an offer if
/// it finds one. (In HSY either side may wait. A waiting pop would need the push to hand over
/// its node, whose ownership cannot be settled by one CAS if an execution is abandoned midway,
/// which the model checker does; values copied through the slot never change owner.)
///
/// A slot is a state word `seq << 2 | kind` and a value word:
///
/// | kind      | meaning                                              | next |
/// |-----------|------------------------------------------------------|-------------------------------|
/// | empty     | free                                                 | a push claims it | |
/// claimed   | a push is writing its value                          | that push offers it | |
/// offered   | a push waits with its value                          | a pop takes it, or the push
/// withdraws | | taken     | a pop took the value                                 | that push
/// empties it          |
///
/// Only the push that claimed a slot returns it to empty, with the next sequence number: a pop
/// whose CAS expects `offered` with an old number (the value it read belongs to an earlier
/// offer) fails, so a value is taken at most once and always with the offer it belongs to.
///
/// Progress: lock-free (every wait in the array is bounded; a push preempted while it holds a
/// slot only takes that slot out of use, blocking nobody).
/// Memory ordering: as treiber_stack.hpp for the central stack. In the array, the push's value
/// store and its store of `offered` are release; the pop's load of the state and of the value
/// are acquire: the first makes the offer's value visible, the second keeps the pop's taking
/// CAS after its value load and, if that load saw a later push's value, makes that push's claim
/// visible to the CAS, which then fails. Claiming, taking, withdrawing and resetting publish
/// nothing: relaxed.
/// When to use: many threads pushing and popping at once on many cores, where pairs cancel out
/// in the array instead of serialising on the head. When not to use: few cores (the array
/// rarely finds a partner and the wait is lost time; see the README's numbers), or one-sided
/// workloads (only pushes, or only pops), which cannot eliminate.
/// Reference: D. Hendler, N. Shavit, L. Yerushalmi, "A scalable lock-free stack algorithm",
/// SPAA 2004.
#pragma once

#include "harness/core/hazard_pointers.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/lockfree_stack/treiber_stack.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>

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
  /// How many times a waiting push looks at its slot (with a pause between) before it
  /// withdraws and goes back to the central stack.
  static constexpr unsigned kWaitRounds = 32;

  EliminationStack() : EliminationStack(sync::kDefaultScanThreshold<S>) {}
  /// `scan_threshold`: retired nodes per hazard record before a scan (1: free eagerly).
  explicit EliminationStack(std::size_t scan_threshold) : core_(scan_threshold) {}

  void push(std::uint64_t v) {
    // Ours until the head links it (see TreiberCore::try_push); deleted if a pop takes the
    // value through the array instead.
    auto n = sync::make_owned<NodeT, S>(v);
    sync::Backoff<S> backoff;  // after a failed meeting: escalates to yield when oversubscribed
    for (;;) {
      if (core_.try_push(n.get())) {
        n.release();
        return;
      }
      if (eliminate_push(v)) return;
      backoff();
    }
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
  enum Kind : std::uint64_t { kEmpty = 0, kClaimed = 1, kOffered = 2, kTaken = 3 };
  static constexpr std::uint64_t state(std::uint64_t seq, Kind k) { return seq << 2U | k; }
  static constexpr std::uint64_t seq_of(std::uint64_t st) { return st >> 2U; }
  static constexpr Kind kind_of(std::uint64_t st) { return static_cast<Kind>(st & 3U); }

  struct alignas(64) Slot {
    typename S::template atomic<std::uint64_t> state{0};
    typename S::template atomic<std::uint64_t> value{0};
  };

  /// A random slot index: a per-thread xorshift, a hint only (any slot is correct). Its state
  /// lives through the policy: under the model checker it is per logical thread and fresh in
  /// every execution, with one seed for all, so a replay makes the same picks.
  struct PickState {
    std::uint32_t x = 0;  ///< 0: not seeded yet (xorshift never reaches 0 from another state)
  };
  static std::size_t pick() {
    std::uint32_t& x = S::template thread_local_value<PickState>().x;
    if (x == 0) {
      const std::size_t hint = std::is_same_v<S, sync::Real> ? sync::thread_hint() : 0;
      x = static_cast<std::uint32_t>(hint) * 2654435761U + 1;
    }
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x % kSlots;
  }

  /// Offers `v` in a slot and waits for a pop; true when a pop took it.
  bool eliminate_push(std::uint64_t v) {
    Slot& s = slots_[pick()];
    // Relaxed: a first look; the claiming CAS decides.
    std::uint64_t st = s.state.load(std::memory_order_relaxed);
    if (kind_of(st) != kEmpty) return false;
    const std::uint64_t seq = seq_of(st);
    // Relaxed both ways: claiming publishes nothing (the value and the offer are released
    // below); failure means another push got the slot.
    if (!s.state.compare_exchange_strong(st, state(seq, kClaimed), std::memory_order_relaxed,
                                         std::memory_order_relaxed)) {
      return false;
    }
    // Release pairs with a pop's acquire load of the value (see the file comment).
    s.value.store(v, std::memory_order_release);
    const std::uint64_t offered = state(seq, kOffered);
    // Release pairs with the pop's acquire load of the state: the value above is visible.
    s.state.store(offered, std::memory_order_release);
    for (unsigned i = 0; i < kWaitRounds; ++i) {
      // Relaxed: "taken" publishes nothing to us.
      if (s.state.load(std::memory_order_relaxed) != offered) break;
      S::pause();
    }
    std::uint64_t mine = offered;
    // Relaxed both ways: withdrawing or finding "taken" reads nothing through the slot.
    const bool withdrawn = s.state.compare_exchange_strong(
        mine, state(seq + 1, kEmpty), std::memory_order_relaxed, std::memory_order_relaxed);
    if (withdrawn) return false;
    // A pop took the value (the slot says taken, with our number). The slot is ours to empty.
    s.state.store(state(seq + 1, kEmpty), std::memory_order_relaxed);
    return true;
  }

  /// Takes a value a push offers in the array, if any slot holds one.
  bool eliminate_pop(std::uint64_t& out) {
    const std::size_t first = pick();
    for (std::size_t i = 0; i < kSlots; ++i) {
      Slot& s = slots_[(first + i) % kSlots];
      // Acquire pairs with the push's release store of "offered": its value is visible.
      std::uint64_t st = s.state.load(std::memory_order_acquire);
      if (kind_of(st) != kOffered) continue;
      // Acquire: keeps the CAS below after this load, and pairs with the release store of a
      // later push's value (whose claim then makes the CAS fail).
      const std::uint64_t v = s.value.load(std::memory_order_acquire);
      // Relaxed: taking publishes nothing; failure means the push withdrew or another pop
      // took it.
      if (s.state.compare_exchange_strong(st, state(seq_of(st), kTaken), std::memory_order_relaxed,
                                          std::memory_order_relaxed)) {
        out = v;
        return true;
      }
    }
    return false;
  }

  Core core_;
  std::array<Slot, kSlots> slots_{};
};

}  // namespace cpb::patterns::lockfree_stack

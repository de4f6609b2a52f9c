// SPDX-License-Identifier: Apache-2.0
/// @file
/// `ChaseLevDeque`: the work-stealing deque of Chase and Lev, with the C11 memory orders that
/// Lê, Pop, Cohen and Zappa Nardelli proved correct. One owner thread pushes and takes at the
/// bottom (newest first, LIFO); any thread steals from the top (oldest first, FIFO).
///
/// Progress: lock-free. `push` and `take` are wait-free except when `push` grows the array
/// (one allocation and a copy); `steal` fails (returns nothing) when it loses a race for the
/// last item or with another thief, and the caller decides whether to retry.
/// Memory ordering (each edge is named again at its operation):
/// - `take` stores the decremented `bottom`, then a seq_cst fence, then loads `top`; `steal`
///   loads `top`, a seq_cst fence, then loads `bottom`. Without the two fences an owner and a
///   thief can both see the last item as theirs (the store-load reordering that TSO allows):
///   `ChaseLevDeque<T, S, /*kTakeFence=*/false>` is that bug, kept as the checked twin.
/// - `push` writes the slot, then stores `bottom`; every store of `bottom` is a release store and
///   `steal` loads it with acquire, so a thief that sees a bottom past an item sees the item (and
///   what it points to). Lê et al. use a release fence and relaxed stores instead, which
///   ThreadSanitizer cannot see; `kPublish` says why the two give the same edge.
/// - `push` loads `top` with acquire, pairing with the thief's successful CAS of `top`: the
///   thief's read of a slot happens before the owner overwrites it after wrapping around.
/// - a grown array is published with a release store of `array_` that pairs with the acquire
///   load in `steal` (the relaxed store is corpus bug 14). Old arrays stay allocated until the
///   destructor, since a slow thief may still read one (as in Chase and Lev's paper).
///
/// When to use: a scheduler's per-worker queue, where the owner works LIFO on its own tasks and
/// idle workers take the oldest (largest) ones. Not a general MPMC queue: one owner only.
/// References: Chase & Lev, "Dynamic circular work-stealing deque", SPAA 2005; Lê, Pop, Cohen &
/// Zappa Nardelli, "Correct and efficient work-stealing for weak memory models", PPoPP 2013.
#pragma once

#include "harness/core/sync.hpp"

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

namespace cpb::patterns::thread_pool {

template <class T, class S = sync::Real, bool kTakeFence = true>
class ChaseLevDeque {
  static_assert(std::is_trivially_copyable_v<T>, "the slots are atomics: store pointers or ids");

 public:
  /// An empty deque with room for `capacity` items (rounded up to a power of two); it grows.
  explicit ChaseLevDeque(std::size_t capacity = 256) {
    arrays_.push_back(S::template create<Array>(std::bit_ceil(capacity < 2 ? 2 : capacity)));
    array_.store(arrays_.back());
  }

  ~ChaseLevDeque() {
    for (Array* a : arrays_) S::template destroy<Array>(a);
  }

  ChaseLevDeque(const ChaseLevDeque&) = delete;
  ChaseLevDeque& operator=(const ChaseLevDeque&) = delete;

  /// Owner only: adds `x` at the bottom.
  void push(T x) {
    // Relaxed: only the owner writes bottom_.
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    // Acquire: pairs with a thief's successful CAS of top_, so its read of the slot we may
    // overwrite below happened before.
    const std::int64_t t = top_.load(std::memory_order_acquire);
    // Relaxed: only the owner writes array_.
    Array* a = array_.load(std::memory_order_relaxed);
    if (b - t >= static_cast<std::int64_t>(a->size)) a = grow(a, t, b);
    // Relaxed: published by the release store of bottom_ below.
    a->slot(b).store(x, std::memory_order_relaxed);
    // Release: pairs with the acquire load of bottom_ in steal() (see kPublish).
    bottom_.store(b + 1, kPublish);
  }

  /// Owner only: removes the newest item, or returns nothing when the deque is empty.
  std::optional<T> take() {
    // Relaxed (both): only the owner writes bottom_ and array_.
    const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    Array* a = array_.load(std::memory_order_relaxed);
    // Release (kPublish); the seq_cst fence below orders it before the load of top_.
    bottom_.store(b, kPublish);
    if constexpr (kTakeFence) S::fence(std::memory_order_seq_cst);  // pairs with steal()'s fence
    // Relaxed: ordered by the fence above; a racing thief's CAS is settled by ours below.
    std::int64_t t = top_.load(std::memory_order_relaxed);
    std::optional<T> x;
    if (t <= b) {
      // Relaxed: the owner wrote this slot itself.
      x = a->slot(b).load(std::memory_order_relaxed);
      if (t == b) {  // the last item: race the thieves for it through top_
        // Relaxed on failure: a thief took it, nothing read afterwards depends on top_.
        if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                          std::memory_order_relaxed)) {
          x.reset();
        }
        // Release: see kPublish.
        bottom_.store(b + 1, kPublish);
      }
    } else {
      // Release: see kPublish. The deque was empty: restore bottom_.
      bottom_.store(b + 1, kPublish);
    }
    return x;
  }

  /// Any thread: removes the oldest item, or returns nothing when the deque is empty or this
  /// thief lost the race for the item to the owner or another thief.
  std::optional<T> steal() {
    // Acquire: pairs with the owner's CAS of top_ and other thieves', so a top_ we read comes
    // with the slot reads that preceded it.
    std::int64_t t = top_.load(std::memory_order_acquire);
    S::fence(std::memory_order_seq_cst);  // pairs with take()'s fence
    // Acquire: pairs with the release store of bottom_ in push(), so the slot below holds the
    // item.
    const std::int64_t b = bottom_.load(std::memory_order_acquire);
    if (t >= b) return std::nullopt;
    // Acquire: pairs with the release store of a grown array in grow().
    Array* a = array_.load(std::memory_order_acquire);
    // Relaxed: ordered by the acquire of bottom_ (or of array_) above.
    const T x = a->slot(t).load(std::memory_order_relaxed);
    // Relaxed on failure: we lost; nothing read afterwards depends on top_.
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
      return std::nullopt;
    }
    return x;
  }

  /// A hint: true when the deque looked empty (another thread may change it at once).
  [[nodiscard]] bool empty() const {
    // Relaxed (both): a hint only; steal() and take() decide.
    return bottom_.load(std::memory_order_relaxed) <= top_.load(std::memory_order_relaxed);
  }

 private:
  /// The order of every store of bottom_. Lê et al. publish an item with a release fence and
  /// relaxed stores; a fence synchronizes with a thief that reads *any* later store of bottom_,
  /// take()'s included. Making every store of bottom_ a release store keeps that edge (each
  /// one is ordered after every push before it) without a fence, and ThreadSanitizer, which
  /// ignores fences, sees it. On x86 a release store is a plain store, as a relaxed one is.
  static constexpr std::memory_order kPublish = std::memory_order_release;

  struct Array {
    explicit Array(std::size_t n) : size(n), slots(std::make_unique<Slot[]>(n)) {}
    using Slot = typename S::template atomic<T>;
    Slot& slot(std::int64_t i) { return slots[static_cast<std::size_t>(i) & (size - 1)]; }
    const std::size_t size;
    std::unique_ptr<Slot[]> slots;
  };

  /// Owner only: copies items [t, b) into an array twice as big and publishes it.
  Array* grow(Array* old, std::int64_t t, std::int64_t b) {
    arrays_.push_back(S::template create<Array>(old->size * 2));
    Array* a = arrays_.back();
    // Relaxed (both): the owner reads its own slots; the release store below publishes them.
    for (std::int64_t i = t; i < b; ++i)
      a->slot(i).store(old->slot(i).load(std::memory_order_relaxed), std::memory_order_relaxed);
    // Release: pairs with the acquire load of array_ in steal().
    array_.store(a, std::memory_order_release);
    return a;
  }

  alignas(64) typename S::template atomic<std::int64_t> top_{0};
  alignas(64) typename S::template atomic<std::int64_t> bottom_{0};
  typename S::template atomic<Array*> array_{nullptr};
  std::vector<Array*> arrays_;  // owner only: every array ever used, freed by the destructor
};

}  // namespace cpb::patterns::thread_pool

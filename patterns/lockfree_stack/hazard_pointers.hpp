// SPDX-License-Identifier: Apache-2.0
/// @file
/// Hazard pointers (Michael 2004): safe memory reclamation for the lock-free stacks of this
/// family. A reader publishes the pointer it is about to dereference in a hazard slot and checks
/// that the pointer is still reachable; a thread that unlinked an object retires it, and retired
/// objects are freed only once no hazard slot holds them.
///
/// Records are claimed per operation (`Guard`), not per thread: an operation takes a free record
/// with one `exchange`, starting at a per-thread hint so that threads rarely meet on a record,
/// and gives it back when it ends. This keeps the code free of thread registration (the model
/// checker runs logical threads as fibers on one OS thread, where `thread_local` does not tell
/// them apart) at the price of one uncontended atomic RMW per operation. Records live in
/// segments of `kSegment`; when all are busy a new segment is appended (never freed before the
/// domain), so claiming never blocks.
///
/// Each record carries the list of objects retired by the operations that held it (a `cell`,
/// handed from holder to holder by the acquire claim / release give-back). When a list reaches
/// `scan_threshold` objects it is scanned: every object no hazard slot names is deleted.
///
/// Progress: lock-free (claim, protect, retire and scan are bounded or lock-free loops).
/// Memory ordering: publishing a hazard, re-reading the source, the unlinking CAS (in the
/// stack) and the scan's reads of hazard slots are seq_cst: if the scan misses a hazard, the
/// hazard was published after the unlink, so the reader's re-read sees the object gone and
/// never dereferences it (the store-load order that Michael's proof needs). Clearing a hazard is
/// a release store that the scan's seq_cst load acquires: the reader's last accesses to the
/// object happen before its deletion.
/// Reference: M. M. Michael, "Hazard pointers: safe memory reclamation for lock-free objects",
/// IEEE TPDS 15(6), 2004.
#pragma once

#include "harness/core/sync.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <type_traits>
#include <vector>

namespace cpb::patterns::lockfree_stack {

namespace detail {

/// A per-OS-thread starting point for the record search: a hint only (correctness comes from
/// the claim's exchange), so a plain std::atomic outside the sync policy is enough.
inline std::size_t thread_hint() {
  static std::atomic<std::size_t> next{0};
  // Relaxed: a distinct number per thread is all that is wanted; nothing is published.
  thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed);
  return mine;
}

}  // namespace detail

/// Whether destructors that touch atomics may be noexcept. Under the model checker
/// (`check::Sync`) an abandoned execution unwinds by throwing from the next atomic operation, which
/// may be one in a destructor; with the real policy nothing throws.
template <class S>
inline constexpr bool kNothrowSync = std::is_same_v<S, sync::Real>;

/// Retired objects a hazard record collects before it scans the hazard slots.
inline constexpr std::size_t kDefaultScanThreshold = 64;

/// A hazard-pointer domain for objects of type `T` (made by `S::create`, freed by `S::destroy`).
/// One hazard pointer per operation, which is what a Treiber pop needs.
template <class T, class S = sync::Real>
class HazardPointers {
 public:
  static constexpr std::size_t kSegment = 8;

 private:
  struct alignas(64) Record {
    typename S::template atomic<bool> active{false};
    typename S::template atomic<T*> hazard{nullptr};
    typename S::template cell<std::vector<T*>> retired;
  };
  struct Segment {
    std::array<Record, kSegment> records;
    typename S::template atomic<Segment*> next{nullptr};
  };

 public:
  /// `scan_threshold`: retired objects a record collects before it scans; 1 scans at every
  /// retire (tests use it to free as early as possible, so a reclamation bug shows under ASan).
  explicit HazardPointers(std::size_t scan_threshold = kDefaultScanThreshold)
      : threshold_(std::max<std::size_t>(1, scan_threshold)) {}
  HazardPointers(const HazardPointers&) = delete;
  HazardPointers& operator=(const HazardPointers&) = delete;

  /// Frees every retired object. No operation may be in flight.
  ~HazardPointers() noexcept(kNothrowSync<S>) {
    for (Segment* s = &first_; s != nullptr;) {
      for (Record& r : s->records) {
        for (T* p : r.retired.get()) S::destroy(p);
      }
      // Relaxed: no operation runs concurrently with the destructor.
      Segment* next = s->next.load(std::memory_order_relaxed);
      if (s != &first_) delete s;
      s = next;
    }
  }

  /// One operation's hold on a hazard record.
  class Guard {
   public:
    explicit Guard(HazardPointers& domain)
        : domain_(domain), record_(domain.claim()), unwinding_(std::uncaught_exceptions()) {}
    ~Guard() noexcept(kNothrowSync<S>) {
      // Leaving by an exception (only the model checker abandoning an execution throws here):
      // the record stays claimed and the domain goes away with the execution. The checker may
      // already have destroyed the objects of an older thread, so touch nothing shared.
      if (std::uncaught_exceptions() > unwinding_) return;
      clear();
      // Release pairs with the acquire exchange of the next claimer: our writes to the retired
      // list happen before its reads.
      record_->active.store(false, std::memory_order_release);
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

    /// Returns the value of `src` once it is published in this guard's hazard slot and `src`
    /// still holds it: from then on it is not freed until `clear()` or the guard's end.
    T* protect(const typename S::template atomic<T*>& src) {
      // Relaxed: only a first guess; the seq_cst re-read below is what is trusted.
      T* p = src.load(std::memory_order_relaxed);
      for (;;) {
        record_->hazard.store(p, std::memory_order_seq_cst);
        // seq_cst: ordered after the hazard store (store-load), see the file comment. Also an
        // acquire of whoever published the object in `src`.
        T* q = src.load(std::memory_order_seq_cst);
        if (q == p) return p;
        p = q;
      }
    }

    /// Drops the protection. Release pairs with the scan's seq_cst load of the slot: our reads
    /// of the object happen before a scan that sees the slot clear deletes it.
    void clear() { record_->hazard.store(nullptr, std::memory_order_release); }

    /// Hands over `p`, already unlinked (unreachable for new readers), and drops this guard's
    /// protection: `p` is deleted once no hazard slot names it. `p` is on the retired list before
    /// anything that can be interrupted runs, so an execution the model checker abandons here
    /// leaks nothing.
    void retire(T* p) {
      auto& list = record_->retired.get();
      list.push_back(p);
      clear();
      if (list.size() >= domain_.threshold_) domain_.scan(list);
    }

   private:
    HazardPointers& domain_;
    Record* record_;
    int unwinding_;  ///< uncaught exceptions when the guard was made
  };

 private:
  static bool try_claim(Record& r) {
    // Relaxed peek: skip busy records without writing their line. Acquire on the exchange
    // pairs with the release give-back of the previous holder (its retired-list writes).
    return !r.active.load(std::memory_order_relaxed) &&
           !r.active.exchange(true, std::memory_order_acquire);
  }

  Record* claim() {
    const std::size_t start = detail::thread_hint() % kSegment;
    Segment* last = &first_;
    // Acquire pairs with the release CAS that appended each segment (its records' init).
    for (Segment* s = &first_; s != nullptr; s = s->next.load(std::memory_order_acquire)) {
      for (std::size_t i = 0; i < kSegment; ++i) {
        Record& r = s->records[(start + i) % kSegment];
        if (try_claim(r)) return &r;
      }
      last = s;
    }
    // Every record is busy: append a segment whose first record is already ours. Owned by the
    // unique_ptr until the CAS publishes it.
    auto fresh = std::make_unique<Segment>();
    // Relaxed: the segment is not yet published; the release CAS below publishes it.
    fresh->records[0].active.store(true, std::memory_order_relaxed);
    Segment* expected = nullptr;
    // Release pairs with the acquire loads of `next` in claim() and scan(). Failure acquires
    // the segment someone else appended, which we walk to next.
    while (!last->next.compare_exchange_weak(expected, fresh.get(), std::memory_order_release,
                                             std::memory_order_acquire)) {
      if (expected != nullptr) {
        last = expected;
        expected = nullptr;
      }
    }
    return &fresh.release()->records[0];
  }

  /// Deletes the objects of `list` that no hazard slot names; keeps the others.
  void scan(std::vector<T*>& list) {
    std::vector<T*> hazards;
    // Acquire pairs with the release CAS that appended each segment.
    for (Segment* s = &first_; s != nullptr; s = s->next.load(std::memory_order_acquire)) {
      for (Record& r : s->records) {
        // seq_cst: see the file comment (the unlink precedes this read in the total order).
        if (T* h = r.hazard.load(std::memory_order_seq_cst)) hazards.push_back(h);
      }
    }
    std::sort(hazards.begin(), hazards.end());
    const auto kept = std::partition(list.begin(), list.end(), [&](T* p) {
      return std::binary_search(hazards.begin(), hazards.end(), p);
    });
    for (auto it = kept; it != list.end(); ++it) S::destroy(*it);
    list.erase(kept, list.end());
  }

  std::size_t threshold_;
  Segment first_;
};

}  // namespace cpb::patterns::lockfree_stack

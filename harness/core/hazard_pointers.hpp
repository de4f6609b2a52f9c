// SPDX-License-Identifier: Apache-2.0
/// @file
/// Hazard pointers: safe memory reclamation for lock-free linked structures (the Michael-Scott
/// queue of lockfree_queue, the Treiber and elimination stacks of lockfree_stack), templated on
/// the sync policy so that the model checker runs it with the structures that use it.
///
/// A reader publishes the pointer it is about to dereference in a hazard slot, then re-reads the
/// source to confirm the object is still reachable (`Guard::protect`). A thread that unlinks an
/// object retires it (`Guard::retire`); once its record holds `scan_threshold` retired objects,
/// it reads every hazard slot of every record and deletes the retired objects no slot names.
///
/// Records: a `Guard` claims a free record for the duration of one operation (a CAS on the
/// record's `active` flag) and releases it at the end. The domain has 8 records built in (1
/// under the model checker); when all are taken, a list of further records grows, and records
/// live until the domain dies. Claiming per operation, rather than caching one record per
/// thread, keeps the domain correct for threads that come and go (Google Benchmark starts new
/// threads for every trial) and for the model checker, whose logical threads are fibers on one
/// OS thread (a thread_local would be shared between them). Each thread starts its search at a
/// record picked by `thread_hint()`, so threads mostly reuse "their" record and its cache line.
/// The retired list travels with the record: whoever holds the record owns the list.
///
/// Progress: lock-free. Claiming never waits (a taken record is skipped; when all are taken a
/// new one is pushed); a scan is bounded by the number of records. At most
/// `records x (threshold + slots)` retired objects are pending at any time.
///
/// Memory ordering: the hazard-slot store and the validating re-read in `protect`, the caller's
/// unlinking store (it must be seq_cst, e.g. the head CAS of a queue), and the scan's slot loads
/// are seq_cst: it is a store→load (Dekker) handshake, which needs the single total order.
/// Either the reader's re-read sees the unlink (and it retries), or the scan sees the hazard.
/// The record list joins the same handshake: a record pushed onto it (a seq_cst CAS) before its
/// first hazard store is seen by every scan whose list read (seq_cst) comes after that store
/// in the total order. With release/acquire instead, which x86 cannot tell apart, a C11 scan
/// may read an older head and miss the new record and its hazard, and free a protected node:
/// the model checker's c11 tier caught exactly that (the memory-order audit keeps it caught:
/// `StackModelAudit` in lockfree_stack.model.cpp).
/// Clearing a slot is a release store, paired with the scan's load: the reader's accesses to the
/// object happen before its deletion. The record's `active` flag is claimed with an acquire CAS
/// and released with a release store, which hands the retired list from one holder to the next.
///
/// Under the model checker (`S` other than `Real`) every retire scans (threshold 1), so the
/// few operations of a model test exercise reclamation. Retired objects come from `S::create`
/// and go back through `S::destroy`, so under the checker a node freed while a reader can still
/// reach it is reported as a use after free in the exploration, not only by AddressSanitizer.
///
/// Reference: M. M. Michael, "Hazard pointers: safe memory reclamation for lock-free objects",
/// IEEE TPDS 15(6), 2004.
#pragma once

#include "harness/core/sync.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

namespace cpb::sync {

/// Retired objects a record collects before it scans: 64 on real threads (amortises the scan
/// over many retires), 1 under the model checker (every retire scans).
template <class S>
inline constexpr std::size_t kDefaultScanThreshold = std::is_same_v<S, Real> ? 64 : 1;

/// Whether a destructor that touches atomics may be noexcept: always with the real policy; not
/// under the model checker, which abandons an execution by throwing from the scheduling point
/// where each thread is suspended, which may be a store in a destructor.
template <class S>
inline constexpr bool kNothrowSync = std::is_same_v<S, Real>;

/// A small number, distinct per OS thread (0, 1, 2 ... in the order threads first ask): a hint
/// for spreading threads over records or slots, never needed for correctness.
inline std::size_t thread_hint() {
  static std::atomic<std::size_t> next{0};
  // Relaxed: a distinct number is all that is wanted; nothing is published.
  thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed);
  return mine;
}

template <class S = Real>
class HazardDomain {
  struct Record;

 public:
  /// Hazard slots per guard: enough for a queue's pop (head and its successor).
  static constexpr std::size_t kSlots = 2;

  explicit HazardDomain(std::size_t scan_threshold = kDefaultScanThreshold<S>)
      : threshold_(std::max<std::size_t>(scan_threshold, 1)) {}

  /// Deletes every object still retired, and the records. No guard may be alive.
  ~HazardDomain() {
    for_each_record(*this, [](Record& r) {
      for (const Retired& x : r.retired.get()) x.del(x.p);
    });
    // Relaxed: the domain is being destroyed; no other thread may use it any more.
    for (Record* r = records_.load(std::memory_order_relaxed); r != nullptr;) {
      Record* next = r->next;
      delete r;
      r = next;
    }
  }
  HazardDomain(const HazardDomain&) = delete;
  HazardDomain& operator=(const HazardDomain&) = delete;

  /// Holds a record for one operation: its hazard slots and its retired list.
  class Guard {
   public:
    explicit Guard(HazardDomain& d) : d_(&d), rec_(d.claim()) {}
    /// Under the model checker (and only when no other exception is in flight) this may throw:
    /// see kNothrowSync.
    ~Guard() noexcept(kNothrowSync<S>) { d_->release(*rec_); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

    /// Loads `src`, protects the value in `slot`, and returns it once a re-read of `src`
    /// confirms it: the object cannot be deleted while the slot names it.
    template <class T>
    T* protect(std::size_t slot, const typename S::template atomic<T*>& src) {
      // Relaxed: only a first guess; the seq_cst re-read below validates it and acquires.
      T* p = src.load(std::memory_order_relaxed);
      for (;;) {
        // seq_cst: the Dekker handshake with the scan's slot loads (see the file comment).
        rec_->hazard[slot].store(p);
        // seq_cst: ordered after the slot store; also acquires the object's fields from the
        // store that published `q`.
        T* q = src.load();
        if (q == p) return p;
        p = q;
      }
    }

    /// Stops protecting the object in `slot`.
    void clear(std::size_t slot) {
      // Release pairs with the scan's load: our accesses to the object happen before its
      // deletion.
      rec_->hazard[slot].store(nullptr, std::memory_order_release);
    }

    /// Hands `p` (unlinked by a seq_cst store, unreachable for new readers) to the domain,
    /// which destroys it (`S::destroy`) once no hazard slot names it.
    template <class T>
    void retire(T* p) {
      d_->retire(*rec_, p, [](void* x) { S::destroy(static_cast<T*>(x)); });
    }

   private:
    HazardDomain* d_;
    Record* rec_;
  };

  /// Objects retired and not yet deleted, over all records. Only while no guard is alive.
  [[nodiscard]] std::size_t pending() const {
    std::size_t n = 0;
    for_each_record(*this, [&](const Record& r) { n += r.retired.get().size(); });
    return n;
  }

 private:
  struct Retired {
    void* p;
    void (*del)(void*);
  };

  struct alignas(128) Record {  // 128: x86 prefetches cache lines in pairs
    typename S::template atomic<bool> active{false};
    std::array<typename S::template atomic<void*>, kSlots> hazard{};
    Record* next = nullptr;  // written before the record is published, read-only afterwards
    typename S::template cell<std::vector<Retired>> retired;
  };

  /// Records built into the domain: enough for the threads of one machine to each have their
  /// own, found without a list walk. One under the model checker, where every record's slots
  /// are scheduling points of every scan.
  static constexpr std::size_t kFixed = std::is_same_v<S, Real> ? 8 : 1;

  /// Where the search for a free record starts: a record of its own for each of the first
  /// threads, so that they rarely meet on one (a thread that finds its record taken reads the
  /// line that another thread writes on every operation). Under the model checker always the
  /// first, so the choice does not depend on which OS threads ran before, as replay requires.
  static std::size_t start_index() { return std::is_same_v<S, Real> ? thread_hint() % kFixed : 0; }

  static bool try_claim(Record& r) {
    // Relaxed: a hint that the record is taken; the CAS below decides.
    if (r.active.load(std::memory_order_relaxed)) return false;
    bool expected = false;
    // Acquire pairs with the release store in release(): the previous holder's retired list
    // and slot stores are visible to us.
    return r.active.compare_exchange_strong(expected, true, std::memory_order_acquire,
                                            std::memory_order_relaxed);
  }

  Record* claim() {
    const std::size_t start = start_index();
    for (std::size_t i = 0; i < kFixed; ++i) {
      Record& r = fixed_[(start + i) % kFixed];
      if (try_claim(r)) return &r;
    }
    // More operations at once than built-in records: the list, which only grows.
    // Acquire pairs with the release CAS that published each record: its fields are set.
    Record* head = records_.load(std::memory_order_acquire);
    for (Record* r = head; r != nullptr; r = r->next) {
      if (try_claim(*r)) return r;
    }
    // Owned until published: an exception (the model checker abandoning an execution) frees it.
    auto r = std::make_unique<Record>();
    // Relaxed: the record is not published yet; the release CAS below publishes it.
    r->active.store(true, std::memory_order_relaxed);
    r->next = head;
    // seq_cst: publishes the record's fields to the loads of the list, and puts it
    // in the total order before this record's first hazard store (see the file comment);
    // relaxed on failure: we only retry with the new head.
    while (!records_.compare_exchange_weak(r->next, r.get(), std::memory_order_seq_cst,
                                           std::memory_order_relaxed)) {
    }
    return r.release();
  }

  /// Calls `f` on every record of `d`: the built-in ones, then the list.
  template <class Domain, class F>
  static void for_each_record(Domain& d, F&& f) {
    for (auto& r : d.fixed_) f(r);
    // seq_cst: the scan's side of the handshake with the CAS in claim().
    for (Record* r = d.records_.load(std::memory_order_seq_cst); r != nullptr; r = r->next) f(*r);
  }

  void release(Record& r) {
    for (auto& h : r.hazard) {
      // Release pairs with the scan's load (as Guard::clear).
      h.store(nullptr, std::memory_order_release);
    }
    // Release pairs with the acquire CAS of the next holder in claim().
    r.active.store(false, std::memory_order_release);
  }

  void retire(Record& mine, void* p, void (*del)(void*)) {
    auto& list = mine.retired.get();
    list.push_back({p, del});
    if (list.size() >= threshold_) scan(mine);
  }

  void scan(Record& mine) {
    std::vector<void*> hazards;
    for_each_record(*this, [&](Record& r) {
      for (auto& h : r.hazard) {
        // seq_cst: the other side of protect()'s handshake (see the file comment).
        if (void* p = h.load(); p != nullptr) hazards.push_back(p);
      }
    });
    std::sort(hazards.begin(), hazards.end());
    auto& list = mine.retired.get();
    std::vector<Retired> keep;
    for (const Retired& x : list) {
      if (std::binary_search(hazards.begin(), hazards.end(), x.p)) {
        keep.push_back(x);
      } else {
        x.del(x.p);
      }
    }
    list.swap(keep);
  }

  std::array<Record, kFixed> fixed_;
  alignas(128) typename S::template atomic<Record*> records_{nullptr};
  const std::size_t threshold_;
};

}  // namespace cpb::sync
